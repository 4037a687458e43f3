//! Browser sessions: a random token in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure`
//! over https), stored only as its SHA-256 in `web_sessions` (migration 0007) with the CSRF
//! token every form of the session must carry. A session is checked at every request: a
//! disabled user, an expired session or a kader is turned away.

use super::store;
use crate::auth;
use crate::http::AppState;
use crate::model::{User, now_ms};
use axum::http::{HeaderMap, header};
use sync_protocol::Role;

/// The session cookie's name.
pub const COOKIE: &str = "jangkau_dasbor";
/// How long a browser session lasts without logging in again.
pub const SESSION_HOURS: u64 = 12;

/// A logged-in dashboard user.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub user: User,
    /// The CSRF token the session's forms carry.
    pub csrf: String,
    pub token_hash: String,
}

/// The roles that may log in to the dashboard (as the read routes: everyone but a kader).
pub fn may_use_dashboard(role: Role) -> bool {
    matches!(
        role,
        Role::Bidan | Role::Perawat | Role::PuskesmasAdmin | Role::DinasAdmin
    )
}

/// The roles that see the Administrasi page.
pub fn is_admin(role: Role) -> bool {
    matches!(role, Role::PuskesmasAdmin | Role::DinasAdmin)
}

/// A cookie value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether cookies must be `Secure`: the server speaks TLS itself, a proxy says the browser
/// came over https, or `JANGKAU_COOKIE_SECURE=1` says so.
pub fn secure(st: &AppState, headers: &HeaderMap) -> bool {
    st.cfg.tls.is_some()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
        || std::env::var("JANGKAU_COOKIE_SECURE").is_ok_and(|v| v == "1")
}

/// The `Set-Cookie` value of a session token (`None`: clears it).
pub fn set_cookie(token: Option<&str>, secure: bool) -> String {
    let s = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{s}",
            SESSION_HOURS * 3600
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{s}"),
    }
}

/// Starts a session for `user`; returns the cookie's token.
pub async fn start(st: &AppState, user: &User) -> Result<String, super::WebError> {
    let token = auth::new_token()?;
    let csrf = auth::new_token()?;
    let now = now_ms();
    store::create_session(
        st.store.as_ref(),
        &auth::hash_secret(&token),
        user.id,
        &csrf,
        now,
        now + SESSION_HOURS * 3_600_000,
    )
    .await?;
    Ok(token)
}

/// The session the request's cookie names, if it is live and its user may use the
/// dashboard.
pub async fn current(
    st: &AppState,
    headers: &HeaderMap,
) -> Result<Option<WebUser>, super::WebError> {
    let Some(token) = cookie(headers, COOKIE).filter(|t| !t.is_empty() && t.len() <= 128) else {
        return Ok(None);
    };
    let hash = auth::hash_secret(token);
    let Some((user_id, csrf, expires_at)) = store::session(st.store.as_ref(), &hash).await? else {
        return Ok(None);
    };
    if expires_at <= now_ms() {
        store::end_session(st.store.as_ref(), &hash).await?;
        return Ok(None);
    }
    let Some(user) = st.store.user_by_id(user_id).await? else {
        return Ok(None);
    };
    if user.disabled || !may_use_dashboard(user.role) {
        return Ok(None);
    }
    Ok(Some(WebUser {
        user,
        csrf,
        token_hash: hash,
    }))
}

/// Compares the form's CSRF token with the session's in constant time.
pub fn csrf_ok(session: &WebUser, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    let (a, b) = (session.csrf.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_http_only_and_strict() {
        let c = set_cookie(Some("abc"), false);
        assert!(c.starts_with("jangkau_dasbor=abc; Path=/; HttpOnly; SameSite=Strict"));
        assert!(!c.contains("Secure"));
        assert!(set_cookie(Some("abc"), true).ends_with("; Secure"));
        assert!(set_cookie(None, false).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("lang=en; jangkau_dasbor=tok123"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("tok123"));
        assert_eq!(cookie(&h, "lang"), Some("en"));
        assert_eq!(cookie(&h, "x"), None);
    }

    #[test]
    fn kader_may_not_use_the_dashboard() {
        assert!(!may_use_dashboard(Role::Kader));
        assert!(may_use_dashboard(Role::Bidan));
        assert!(is_admin(Role::PuskesmasAdmin));
        assert!(!is_admin(Role::Perawat));
    }
}

//! The login page at `/`, logging in and out. Only server accounts of the dashboard's roles
//! log in (a kader is told to use her tablet); failures are limited by the same
//! [`crate::auth::LoginGuard`] as the tablets' logins (as device `web`); the login form
//! carries its own CSRF token (a cookie and a field that must match).

use super::html::esc;
use super::i18n::{Lang, lang};
use super::session::{self, may_use_dashboard};
use super::{WebError, html_response, store};
use crate::auth;
use crate::http::{AppState, ClientAddr};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;

/// The login form's CSRF cookie.
const LOGIN_COOKIE: &str = "jangkau_login";
/// The "device" web logins are counted under in the login guard.
const WEB_DEVICE: &str = "web";

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
}

pub async fn show(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    if session::current(&st, &headers).await?.is_some() {
        return Ok(redirect("/dasbor", None));
    }
    let l = lang(&headers, &q);
    form(&st, &headers, l, "", None, StatusCode::OK)
}

/// The login page, with `message` (already in the user's language) and the typed username.
fn form(
    st: &AppState,
    headers: &HeaderMap,
    l: Lang,
    username: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let token = auth::new_token()?;
    let other = match l {
        Lang::Id => ("en", "English"),
        Lang::En => ("id", "Bahasa Indonesia"),
    };
    let msg = message.map_or_else(String::new, |m| {
        format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"login-error\">{}</p>",
            esc(m)
        )
    });
    let body = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Dasbor Jangkau</title><link rel=\"stylesheet\" href=\"/dasbor/aset/dasbor.css\"></head>\
         <body><main class=\"login\"><h1>Dasbor Jangkau</h1><p>{sub}</p>{msg}\
         <form method=\"post\" action=\"/masuk\" data-testid=\"login-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label>{user_l}<input name=\"username\" autocomplete=\"username\" required maxlength=\"64\" value=\"{user}\" data-testid=\"login-username\"></label>\
         <label>{pass_l}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required data-testid=\"login-password\"></label>\
         <button data-testid=\"login-submit\">{submit}</button></form>\
         <p><a href=\"/?lang={oc}\" data-testid=\"lang-switch\">{on}</a></p></main></body></html>",
        code = l.code(),
        sub = l.t(
            "Untuk puskesmas dan dinas kesehatan: masuk dengan akun server Anda.",
            "For the puskesmas and the district health office: log in with your server account."
        ),
        user_l = l.t("Nama pengguna", "Username"),
        pass_l = l.t("Kata sandi", "Password"),
        submit = l.t("Masuk", "Log in"),
        user = esc(username),
        oc = other.0,
        on = other.1,
    );
    let mut r = html_response(body);
    *r.status_mut() = status;
    let secure = if session::secure(st, headers) {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/masuk; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
        l.code()
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

pub fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

pub async fn submit(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let l = if f.lang == "en" { Lang::En } else { Lang::Id };
    let username = f.username.trim().to_lowercase();
    let typed: String = f.username.chars().take(64).collect();
    let expected = session::cookie(&headers, LOGIN_COOKIE);
    if expected.is_none_or(|c| c.is_empty() || c != f.csrf) {
        return form(
            &st,
            &headers,
            l,
            &typed,
            Some(l.t(
                "Formulir kedaluwarsa; silakan masuk lagi.",
                "The form expired; please log in again.",
            )),
            StatusCode::FORBIDDEN,
        );
    }
    if let Err(wait) = st.login_guard.check(WEB_DEVICE, &username, &addr, false) {
        let msg = match l {
            Lang::Id => format!("Terlalu banyak percobaan gagal. Coba lagi dalam {wait} detik."),
            Lang::En => format!("Too many failed attempts. Try again in {wait} seconds."),
        };
        return form(
            &st,
            &headers,
            l,
            &typed,
            Some(&msg),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let user = if username.is_empty() || username.len() > 64 {
        None
    } else {
        st.store.user_by_username(username.clone()).await?
    };
    let hash = user.as_ref().map_or_else(
        || st.dummy_hash.as_str().to_string(),
        |u| u.secret_hash.clone(),
    );
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        st.login_guard.failed(WEB_DEVICE, &username, &addr);
        return form(
            &st,
            &headers,
            l,
            &typed,
            Some(l.t(
                "Nama pengguna atau kata sandi salah.",
                "Wrong username or password.",
            )),
            StatusCode::UNAUTHORIZED,
        );
    };
    if !may_use_dashboard(user.role) {
        return form(
            &st,
            &headers,
            l,
            &typed,
            Some(l.t(
                "Akun kader tidak dapat masuk ke dasbor. Gunakan aplikasi Jangkau di tablet posyandu.",
                "Kader accounts cannot log in to the dashboard. Use the Jangkau app on the posyandu tablet.",
            )),
            StatusCode::FORBIDDEN,
        );
    }
    st.login_guard.succeeded(WEB_DEVICE, &username);
    let token = session::start(&st, &user).await?;
    Ok(redirect(
        "/dasbor",
        Some(session::set_cookie(
            Some(&token),
            session::secure(&st, &headers),
        )),
    ))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Result<Response, WebError> {
    let Some(me) = session::current(&st, &headers).await? else {
        return Ok(redirect(
            "/",
            Some(session::set_cookie(None, session::secure(&st, &headers))),
        ));
    };
    if !session::csrf_ok(&me, Some(&f.csrf)) {
        return Err(WebError::Forbidden);
    }
    store::end_session(st.store.as_ref(), &me.token_hash).await?;
    Ok(redirect(
        "/",
        Some(session::set_cookie(None, session::secure(&st, &headers))),
    ))
}

//! The OAuth2 access token (client credentials): asked at
//! `<auth_url>/accesstoken?grant_type=client_credentials` with `client_id` and
//! `client_secret` form-encoded, kept until shortly before `expires_in` runs out, and asked
//! again after a 401. The secret goes only into that request's body: never logged, never in
//! an error.

use super::SatusehatError;
use super::config::SatusehatConfig;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// When to ask for a new one (before the platform's expiry).
    renew_at: Instant,
}

/// The worker's token, shared by its requests.
#[derive(Debug, Default)]
pub struct TokenSource {
    current: Mutex<Option<Token>>,
    /// Tokens obtained since the start (for logs and tests).
    obtained: std::sync::atomic::AtomicU64,
}

impl TokenSource {
    /// A valid token: the kept one, else a new one.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        cfg: &SatusehatConfig,
    ) -> Result<String, SatusehatError> {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur.as_ref()
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let t = fetch(http, cfg).await?;
        self.obtained
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = t.value.clone();
        *cur = Some(t);
        Ok(v)
    }

    /// Forgets the kept token (the platform answered 401 with it).
    pub async fn invalidate(&self) {
        *self.current.lock().await = None;
    }

    pub fn obtained(&self) -> u64 {
        self.obtained.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `expires_in` as a number of seconds (the platform writes it as a string).
fn seconds(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

async fn fetch(http: &reqwest::Client, cfg: &SatusehatConfig) -> Result<Token, SatusehatError> {
    let url = format!(
        "{}/accesstoken?grant_type=client_credentials",
        cfg.auth_url.trim_end_matches('/')
    );
    let resp = http
        .post(&url)
        .form(&[
            ("client_id", cfg.client_id.as_str()),
            ("client_secret", cfg.client_secret.expose()),
        ])
        .send()
        .await
        .map_err(|e| {
            SatusehatError::transient(None, format!("token request: {}", e.without_url()))
        })?;
    let status = resp.status().as_u16();
    let retry_after = super::client::retry_after(resp.headers());
    let body = resp.bytes().await.unwrap_or_default();
    if status >= 500 || status == 429 {
        return Err(SatusehatError::transient(
            retry_after,
            format!("token request answered {status}"),
        ));
    }
    if !(200..300).contains(&status) {
        // The body may echo what was sent: only a short, known field is kept.
        let why = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("error_description")
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(|s| s.chars().take(200).collect::<String>())
            })
            .unwrap_or_default();
        return Err(SatusehatError::Auth(format!(
            "the token endpoint refused the client credentials ({status}) {why}"
        )));
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| SatusehatError::Protocol("the token answer is not JSON".into()))?;
    let value = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SatusehatError::Protocol("the token answer has no access_token".into()))?
        .to_string();
    let life = v.get("expires_in").and_then(seconds).unwrap_or(3600);
    // Renewed a minute early (half the life for a short one).
    let margin = (life / 2).min(60);
    Ok(Token {
        value,
        renew_at: Instant::now() + Duration::from_secs(life.saturating_sub(margin)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expires_in_as_string_or_number() {
        assert_eq!(seconds(&json!("14399")), Some(14399));
        assert_eq!(seconds(&json!(60)), Some(60));
        assert_eq!(seconds(&json!("x")), None);
    }
}

//! The worker's settings: the `[satusehat]` table of the server's TOML file, then the
//! environment (`JANGKAU_SATUSEHAT_*`), which wins. Off unless the table (or
//! `JANGKAU_SATUSEHAT_BASE_URL`) is there and `enabled` is true.

use serde::Deserialize;

/// The OAuth2 client secret: never shown by `Debug` or `Display` (logs, errors).
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself: only for the token request's body.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `[satusehat]` in the server's configuration file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SatusehatConfig {
    /// Run the worker in `serve` (every `interval_s`). `satusehat send --once` runs anyway.
    pub enabled: bool,
    /// The FHIR base, e.g. `https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1`.
    pub base_url: String,
    /// The OAuth2 base, e.g. `https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1`: the
    /// token is asked at `<auth_url>/accesstoken?grant_type=client_credentials`.
    pub auth_url: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// The organisation's id on the platform (the puskesmas or dinas the credentials belong
    /// to): every Encounter's `serviceProvider`.
    pub organization_id: String,
    /// The place whose records are sent (at or below it): the organisation's area.
    pub place: String,
    /// Only facts dated on or after this day (`YYYY-MM-DD`); all when empty.
    pub since: String,
    /// Seconds between two rounds of the background worker.
    pub interval_s: u64,
    /// The timeout of one request to the platform, in milliseconds.
    pub timeout_ms: u64,
    /// The first retry's delay after a 5xx or a timeout, in milliseconds; doubled at each
    /// further attempt up to `retry_max_ms` (a `Retry-After` longer than that wins).
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Entries per transaction Bundle at most (whole encounters: an encounter with its
    /// observations and immunisations is never split).
    pub bundle_entries: usize,
}

impl Default for SatusehatConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: String::new(),
            auth_url: String::new(),
            client_id: String::new(),
            client_secret: ClientSecret::default(),
            organization_id: String::new(),
            place: String::new(),
            since: String::new(),
            interval_s: 300,
            timeout_ms: 30_000,
            retry_base_ms: 60_000,
            retry_max_ms: 6 * 3_600_000,
            bundle_entries: 100,
        }
    }
}

impl SatusehatConfig {
    /// Applies `JANGKAU_SATUSEHAT_{ENABLED,BASE_URL,AUTH_URL,CLIENT_ID,CLIENT_SECRET,
    /// ORGANIZATION_ID,PLACE}` over `current` (a table is made when the base URL is given).
    pub fn from_env(
        current: Option<SatusehatConfig>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Option<SatusehatConfig> {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        let mut cfg = match (current, get("JANGKAU_SATUSEHAT_BASE_URL")) {
            (Some(c), _) => c,
            (None, Some(_)) => SatusehatConfig {
                enabled: true,
                ..SatusehatConfig::default()
            },
            (None, None) => return None,
        };
        if let Some(v) = get("JANGKAU_SATUSEHAT_ENABLED") {
            cfg.enabled = matches!(v.as_str(), "1" | "true" | "yes");
        }
        let fields: [(&str, &mut String); 5] = [
            ("JANGKAU_SATUSEHAT_BASE_URL", &mut cfg.base_url),
            ("JANGKAU_SATUSEHAT_AUTH_URL", &mut cfg.auth_url),
            ("JANGKAU_SATUSEHAT_CLIENT_ID", &mut cfg.client_id),
            (
                "JANGKAU_SATUSEHAT_ORGANIZATION_ID",
                &mut cfg.organization_id,
            ),
            ("JANGKAU_SATUSEHAT_PLACE", &mut cfg.place),
        ];
        for (k, field) in fields {
            if let Some(v) = get(k) {
                *field = v;
            }
        }
        if let Some(v) = get("JANGKAU_SATUSEHAT_CLIENT_SECRET") {
            cfg.client_secret = ClientSecret(v);
        }
        Some(cfg)
    }

    /// What is missing or wrong, in one message (the secret never in it).
    pub fn check(&self) -> Result<(), String> {
        let mut missing = Vec::new();
        for (name, v) in [
            ("base_url", &self.base_url),
            ("auth_url", &self.auth_url),
            ("client_id", &self.client_id),
            ("organization_id", &self.organization_id),
            ("place", &self.place),
        ] {
            if v.trim().is_empty() {
                missing.push(name);
            }
        }
        if self.client_secret.0.is_empty() {
            missing.push("client_secret");
        }
        if !missing.is_empty() {
            return Err(format!("[satusehat] needs {}", missing.join(", ")));
        }
        for (name, url) in [("base_url", &self.base_url), ("auth_url", &self.auth_url)] {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| url.starts_with(p));
            if !url.starts_with("https://") && !loopback {
                return Err(format!(
                    "[satusehat] {name} must be https:// (http:// only to this machine)"
                ));
            }
        }
        if !self.since.is_empty()
            && chrono::NaiveDate::parse_from_str(&self.since, "%Y-%m-%d").is_err()
        {
            return Err("[satusehat] since must be YYYY-MM-DD".into());
        }
        if self.timeout_ms == 0 || self.bundle_entries == 0 || self.interval_s == 0 {
            return Err(
                "[satusehat] timeout_ms, bundle_entries and interval_s must be above zero".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_never_shown() {
        let c = SatusehatConfig {
            client_secret: ClientSecret::new("s3cret-value"),
            ..SatusehatConfig::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{}", c.client_secret).contains("s3cret"));
        let e = c.check().unwrap_err();
        assert!(!e.contains("s3cret") && e.contains("base_url"), "{e}");
    }

    #[test]
    fn env_wins_and_can_turn_it_on() {
        assert_eq!(SatusehatConfig::from_env(None, |_| None), None);
        let c = SatusehatConfig::from_env(None, |k| match k {
            "JANGKAU_SATUSEHAT_BASE_URL" => Some("https://fhir.example/v1".into()),
            "JANGKAU_SATUSEHAT_CLIENT_SECRET" => Some("x".into()),
            _ => None,
        })
        .unwrap();
        assert!(c.enabled);
        assert_eq!(c.base_url, "https://fhir.example/v1");
        assert_eq!(c.client_secret.expose(), "x");
        let http = SatusehatConfig {
            base_url: "http://fhir.example".into(),
            auth_url: "https://a".into(),
            client_id: "i".into(),
            client_secret: ClientSecret::new("s"),
            organization_id: "o".into(),
            place: "53.04".into(),
            ..SatusehatConfig::default()
        };
        assert!(http.check().unwrap_err().contains("https"));
    }
}

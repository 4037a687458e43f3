//! Configuration: a TOML file (optional), then the environment (`JANGKAU_DATABASE_URL`,
//! `JANGKAU_LISTEN`), which wins.

use crate::auth::PasswordCost;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A database URL whose `Debug` and `Display` hide any password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        let s = &self.0;
        let Some(scheme_end) = s.find("://") else {
            return s.clone();
        };
        let rest = &s[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let mut out = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let user = userinfo.split(':').next().unwrap_or_default();
                let hidden = if userinfo.contains(':') {
                    format!("{user}:***")
                } else {
                    user.to_string()
                };
                format!(
                    "{}{hidden}{}{}",
                    &s[..scheme_end + 3],
                    &authority[at..],
                    &rest[authority_end..]
                )
            }
            None => s.clone(),
        };
        // A password may also come as a query parameter.
        if let Some(q) = out.find("password=") {
            let end = out[q..].find('&').map_or(out.len(), |e| q + e);
            out.replace_range(q + 9..end, "***");
        }
        out
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Enrolment attempts per client address per minute.
    pub enrol_per_minute: u32,
    /// Login attempts per device, and per username, per minute.
    pub login_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enrol_per_minute: 10,
            login_per_minute: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// A SQLite file path or a `postgres://` URL.
    pub database_url: DatabaseUrl,
    /// Address to listen on, e.g. `0.0.0.0:8443`.
    pub listen: String,
    /// Serve HTTPS with these PEM files (rustls); plain HTTP when absent.
    pub tls: Option<TlsConfig>,
    /// How long a login session lasts: 30 days by default, so a tablet that syncs every few
    /// days needs no new login (revoking the device or disabling the user ends it at once).
    pub session_ttl_hours: u64,
    pub enrol_code_ttl_hours: u64,
    /// A request taking longer is answered `unavailable` (503).
    pub request_timeout_s: u64,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace_s: u64,
    pub limits: sync_protocol::Limits,
    /// A pull page is cut before its JSON passes this many bytes (and holds at most
    /// `limits.max_batch` changes). Keep it at or below `limits.max_compressed`, which is what
    /// a client accepts, so that even an incompressible page fits; a stored change larger than
    /// this alone is skipped (never served). 1 MiB by default.
    pub pull_page_bytes: usize,
    /// The largest body of the small requests (enrol, login, status, pull), on the wire and
    /// once decompressed, checked before anything is decoded. 8 KiB by default.
    pub small_body_bytes: usize,
    pub rate_limits: RateLimits,
    pub password_cost: PasswordCost,
    /// `text` or `json`.
    pub log_format: String,
    /// The SATUSEHAT submission worker (`[satusehat]`; off when absent): see
    /// `crate::satusehat::config` and `docs/fhir.md`.
    pub satusehat: Option<crate::satusehat::config::SatusehatConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DatabaseUrl("jangkau-server.db".into()),
            listen: "127.0.0.1:8080".into(),
            tls: None,
            session_ttl_hours: 720,
            enrol_code_ttl_hours: 24,
            request_timeout_s: 60,
            shutdown_grace_s: 30,
            limits: sync_protocol::Limits::default(),
            pull_page_bytes: sync_protocol::codec::PULL_PAGE_BYTES,
            small_body_bytes: sync_protocol::codec::SMALL_BODY_BYTES,
            rate_limits: RateLimits::default(),
            password_cost: PasswordCost::default(),
            log_format: "text".into(),
            satusehat: None,
        }
    }
}

impl Config {
    /// Reads the file (when given), then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::from_toml(&text).map_err(|message| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message,
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok());
        cfg.check()?;
        Ok(cfg)
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("JANGKAU_DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database_url = DatabaseUrl(v);
        }
        if let Some(v) = get("JANGKAU_LISTEN").filter(|v| !v.is_empty()) {
            self.listen = v;
        }
        self.satusehat =
            crate::satusehat::config::SatusehatConfig::from_env(self.satusehat.take(), &get);
    }

    pub fn check(&self) -> Result<(), ConfigError> {
        if self.limits.max_batch == 0
            || self.limits.max_compressed == 0
            || self.pull_page_bytes == 0
            || self.small_body_bytes < 512
        {
            return Err(ConfigError::Invalid(
                "limits must be above zero (small_body_bytes at least 512)".to_string(),
            ));
        }
        if let Some(s) = self.satusehat.as_ref().filter(|s| s.enabled) {
            s.check().map_err(ConfigError::Invalid)?;
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(
                "log_format must be \"text\" or \"json\"".to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let u = DatabaseUrl("postgres://jangkau:s3cret@db.example:5432/belu".into());
        let shown = format!("{u:?} {u}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("jangkau:***@db.example:5432/belu"),
            "{shown}"
        );
        let q = DatabaseUrl("postgres://db/belu?user=x&password=s3cret&sslmode=require".into());
        assert!(!q.redacted().contains("s3cret"));
        assert_eq!(
            DatabaseUrl("/var/lib/jangkau.db".into()).redacted(),
            "/var/lib/jangkau.db"
        );
        let cfg = Config {
            database_url: u,
            ..Config::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }

    #[test]
    fn toml_then_env() {
        let mut cfg = Config::from_toml(
            "database_url = \"a.db\"\nlisten = \"0.0.0.0:1\"\n[limits]\nmax_compressed = 10\nmax_decompressed = 20\nmax_batch = 3\n",
        )
        .expect("parses");
        assert_eq!(cfg.limits.max_batch, 3);
        cfg.apply_env(|k| (k == "JANGKAU_LISTEN").then(|| "127.0.0.1:9".to_string()));
        assert_eq!(cfg.listen, "127.0.0.1:9");
        assert_eq!(cfg.database_url.expose(), "a.db");
        assert!(Config::from_toml("nonsense = 1").is_err());
    }

    #[test]
    fn sessions_last_30_days_by_default() {
        assert_eq!(Config::default().session_ttl_hours, 30 * 24);
        let cfg = Config::from_toml("listen = \"0.0.0.0:1\"\n").expect("parses");
        assert_eq!(cfg.session_ttl_hours, 720);
        let cfg = Config::from_toml("session_ttl_hours = 12\n").expect("parses");
        assert_eq!(cfg.session_ttl_hours, 12);
    }
}

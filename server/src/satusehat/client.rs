//! The platform's FHIR API over HTTP: a bearer token on every request (asked again once
//! after a 401), answers sorted into success, refusal (4xx, with the `OperationOutcome`
//! kept), and transient failure (429, 5xx, timeout, no connection; `Retry-After` read).

use super::SatusehatError;
use super::config::SatusehatConfig;
use super::oauth::TokenSource;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// `Retry-After` in seconds (an HTTP date is not used by FHIR servers; ignored).
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// An `OperationOutcome` made here when the platform's answer carries none.
pub fn outcome(code: &str, text: &str) -> Value {
    json!({"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": code, "diagnostics": text}]})
}

/// The platform's answer to one request that succeeded (2xx).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Location` header, when any.
    pub location: Option<String>,
}

/// The FHIR client of the worker.
#[derive(Debug, Clone)]
pub struct FhirClient {
    http: reqwest::Client,
    cfg: Arc<SatusehatConfig>,
    tokens: Arc<TokenSource>,
}

impl FhirClient {
    pub fn new(cfg: Arc<SatusehatConfig>) -> Result<Self, SatusehatError> {
        crate::http::install_crypto_provider();
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SatusehatError::Config(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let timeout = Duration::from_millis(cfg.timeout_ms);
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("jangkau-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SatusehatError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            cfg,
            tokens: Arc::new(TokenSource::default()),
        })
    }

    pub fn config(&self) -> &SatusehatConfig {
        &self.cfg
    }

    /// Tokens obtained so far.
    pub fn tokens_obtained(&self) -> u64 {
        self.tokens.obtained()
    }

    fn url(&self, path: &str) -> String {
        let base = self.cfg.base_url.trim_end_matches('/');
        if path.is_empty() {
            base.to_string()
        } else {
            format!("{base}/{path}")
        }
    }

    /// One request; `path` is relative to the FHIR base.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Answer, SatusehatError> {
        let url = self.url(path);
        let mut renewed = false;
        loop {
            let token = self.tokens.token(&self.http, &self.cfg).await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .header("Accept", "application/fhir+json, application/json");
            for (k, v) in headers {
                req = req.header(*k, v.as_str());
            }
            if let Some(b) = body {
                let bytes = serde_json::to_vec(b)
                    .map_err(|e| SatusehatError::Protocol(format!("encoding a request: {e}")))?;
                req = req.header("Content-Type", "application/json").body(bytes);
            }
            let resp = req.send().await.map_err(|e| {
                let what = if e.is_timeout() {
                    "no answer in time"
                } else {
                    "cannot reach the platform"
                };
                SatusehatError::transient(None, format!("{method} {path}: {what}"))
            })?;
            let status = resp.status().as_u16();
            let after = retry_after(resp.headers());
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    let what = if e.is_timeout() {
                        "no answer in time"
                    } else {
                        "the answer was cut"
                    };
                    return Err(SatusehatError::transient(
                        None,
                        format!("{method} {path}: {what}"),
                    ));
                }
            };
            let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
            match status {
                200..=299 => {
                    return Ok(Answer {
                        status,
                        body: parsed.unwrap_or(Value::Null),
                        location,
                    });
                }
                401 if !renewed => {
                    renewed = true;
                    self.tokens.invalidate().await;
                }
                401 | 403 => {
                    return Err(SatusehatError::Auth(format!(
                        "{method} {path}: the platform answered {status}"
                    )));
                }
                429 | 500..=599 => {
                    return Err(SatusehatError::transient(
                        after,
                        format!("{method} {path}: the platform answered {status}"),
                    ));
                }
                _ => {
                    let oo = parsed
                        .filter(|v| v["resourceType"] == "OperationOutcome")
                        .unwrap_or_else(|| {
                            outcome(
                                "processing",
                                &format!(
                                    "the platform answered {status} without an OperationOutcome"
                                ),
                            )
                        });
                    return Err(SatusehatError::Refused {
                        status,
                        outcome: oo,
                    });
                }
            }
        }
    }

    /// The resources of a search `<type>?identifier=<system>|<value>`.
    pub async fn search(
        &self,
        resource: &str,
        system: &str,
        value: &str,
    ) -> Result<Vec<Value>, SatusehatError> {
        let q = format!("{system}|{value}");
        let path = format!("{resource}?identifier={}", encode(&q));
        let a = self.request(reqwest::Method::GET, &path, None, &[]).await?;
        Ok(a.body["entry"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| e["resource"].clone())
                    .filter(|r| r["resourceType"] == resource)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// POSTs (creates) a resource, `If-None-Exist` on `condition` when given; its id and
    /// version.
    pub async fn create(
        &self,
        resource: &Value,
        condition: Option<String>,
    ) -> Result<(String, Option<String>), SatusehatError> {
        let ty = resource["resourceType"].as_str().unwrap_or_default();
        let headers: Vec<(&str, String)> = condition
            .map(|c| ("If-None-Exist", c))
            .into_iter()
            .collect();
        let a = self
            .request(reqwest::Method::POST, ty, Some(resource), &headers)
            .await?;
        if let Some(id) = a.body["id"].as_str() {
            let v = a.body["meta"]["versionId"].as_str().map(str::to_string);
            return Ok((id.to_string(), v));
        }
        a.location
            .as_deref()
            .and_then(parse_location)
            .map(|(_, id, v)| (id, v))
            .ok_or_else(|| SatusehatError::Protocol(format!("created {ty} without an id")))
    }

    /// PUTs (updates) `Type/id`.
    pub async fn update(
        &self,
        resource: &Value,
        id: &str,
    ) -> Result<Option<String>, SatusehatError> {
        let ty = resource["resourceType"].as_str().unwrap_or_default();
        let a = self
            .request(
                reqwest::Method::PUT,
                &format!("{ty}/{id}"),
                Some(resource),
                &[],
            )
            .await?;
        Ok(a.body["meta"]["versionId"].as_str().map(str::to_string))
    }

    /// POSTs a transaction Bundle; its `transaction-response`.
    pub async fn transaction(&self, bundle: &Value) -> Result<Value, SatusehatError> {
        let a = self
            .request(reqwest::Method::POST, "", Some(bundle), &[])
            .await?;
        if a.body["resourceType"] != "Bundle" {
            return Err(SatusehatError::Protocol(
                "the answer to a transaction is not a Bundle".into(),
            ));
        }
        Ok(a.body)
    }
}

/// `Type/id[/_history/version]` (absolute or relative) → (type, id, version).
pub fn parse_location(loc: &str) -> Option<(String, String, Option<String>)> {
    let parts: Vec<&str> = loc.trim_end_matches('/').split('/').collect();
    let h = parts.iter().position(|p| *p == "_history");
    let (ty, id, v) = match h {
        Some(i) if i >= 2 => (parts[i - 2], parts[i - 1], parts.get(i + 1).copied()),
        _ if parts.len() >= 2 => (parts[parts.len() - 2], parts[parts.len() - 1], None),
        _ => return None,
    };
    (!id.is_empty()).then(|| (ty.to_string(), id.to_string(), v.map(str::to_string)))
}

/// Percent-encoding of a query value (RFC 3986 unreserved kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("Observation/abc/_history/2"),
            Some(("Observation".into(), "abc".into(), Some("2".into())))
        );
        assert_eq!(
            parse_location("https://x/fhir/Patient/P1"),
            Some(("Patient".into(), "P1".into(), None))
        );
        assert_eq!(parse_location("x"), None);
        assert_eq!(
            encode("https://fhir.kemkes.go.id/id/nik|53"),
            "https%3A%2F%2Ffhir.kemkes.go.id%2Fid%2Fnik%7C53"
        );
    }
}

//! The SATUSEHAT submission worker (issue 15 §2; `docs/fhir.md`, "Submission worker"):
//! sends what the read model holds to the national FHIR R4 platform, once.
//!
//! - [`config`]: the `[satusehat]` settings (off by default; the secret never shown).
//! - [`oauth`]: the OAuth2 client-credentials token, renewed before expiry and after a 401.
//! - [`client`]: HTTP to the FHIR API; answers sorted into sent, refused, transient.
//! - [`identity`]: practitioners and patients looked up (by NIK) or, a newborn, created.
//! - [`queue`]: the export's mapping (`crate::export::fhir`) turned into work: which
//!   resource is new, changed, waiting or refused, grouped per encounter into transaction
//!   Bundles.
//! - [`store`]: the per-record table (migration 0008, `satusehat_resources`): remote id,
//!   content hash, status, attempts, next attempt, the last `OperationOutcome`.
//! - [`worker`]: one round ([`worker::send_once`]) and the background loop of `serve`.

pub mod client;
pub mod config;
pub mod identity;
pub mod oauth;
pub mod queue;
pub mod store;
pub mod worker;

use crate::storage::StorageError;
use serde_json::Value;
use std::time::Duration;

/// Why a round (or one request) of the worker did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SatusehatError {
    #[error("SATUSEHAT configuration: {0}")]
    Config(String),
    /// The client credentials (or the token) were refused: nothing is sent until fixed.
    #[error("SATUSEHAT authorisation: {0}")]
    Auth(String),
    /// 429, 5xx, a timeout or no connection: tried again later.
    #[error("SATUSEHAT unavailable: {message}")]
    Transient {
        retry_after: Option<Duration>,
        message: String,
    },
    /// A 4xx answer with its `OperationOutcome`.
    #[error("SATUSEHAT refused ({status}): {}", outcome_text(outcome))]
    Refused { status: u16, outcome: Value },
    /// An answer the worker cannot read.
    #[error("SATUSEHAT answer: {0}")]
    Protocol(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("reading the records: {0}")]
    Export(#[from] crate::export::ExportError),
}

impl SatusehatError {
    pub fn transient(retry_after: Option<Duration>, message: String) -> Self {
        SatusehatError::Transient {
            retry_after,
            message,
        }
    }
}

/// The text of an `OperationOutcome`'s issues (diagnostics, else details), for people.
pub fn outcome_text(oo: &Value) -> String {
    let issues = oo["issue"].as_array().cloned().unwrap_or_default();
    let parts: Vec<String> = issues
        .iter()
        .map(|i| {
            let text = i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["text"].as_str())
                .unwrap_or_else(|| i["code"].as_str().unwrap_or("?"));
            let at = i["expression"][0].as_str().unwrap_or_default();
            if at.is_empty() {
                text.to_string()
            } else {
                format!("{text} ({at})")
            }
        })
        .collect();
    if parts.is_empty() {
        "no reason given".into()
    } else {
        parts.join("; ")
    }
}

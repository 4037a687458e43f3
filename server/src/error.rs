//! The one place that turns errors into HTTP answers: every error is an [`ErrorBody`] with
//! the status of its [`ErrorCode`].

use crate::storage::StorageError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sync_protocol::{CodecError, ErrorBody, ErrorCode, VersionError, VersionRange};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A refusal the client can act on.
    #[error("{code:?}: {message}")]
    Refused {
        code: ErrorCode,
        message: String,
        retry_after_s: Option<u32>,
    },
    #[error("protocol: {0}")]
    Version(#[from] VersionError),
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("auth: {0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Refused {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn rate_limited(retry_after_s: u32) -> Self {
        AppError::Refused {
            code: ErrorCode::RateLimited,
            message: format!("too many attempts; try again in {retry_after_s} s"),
            retry_after_s: Some(retry_after_s),
        }
    }

    pub fn unauthorized() -> Self {
        Self::refused(
            ErrorCode::Unauthorized,
            "missing or unknown credentials: enrol the device or log in again",
        )
    }

    /// The body (and status) this error answers with.
    pub fn body(&self) -> ErrorBody {
        match self {
            AppError::Refused {
                code,
                message,
                retry_after_s,
            } => {
                let mut b = ErrorBody::new(*code, message.clone());
                b.retry_after_s = *retry_after_s;
                if *code == ErrorCode::Unavailable && b.retry_after_s.is_none() {
                    b.retry_after_s = Some(5);
                }
                b
            }
            AppError::Version(e) => {
                let mut b = ErrorBody::new(ErrorCode::ProtocolUnsupported, e.to_string());
                b.key = e.message_key().to_string();
                b.supported = Some(VersionRange::CURRENT);
                b
            }
            AppError::Codec(e) => {
                let code = e.error_code();
                let mut b = ErrorBody::new(code, e.to_string());
                if code == ErrorCode::ProtocolUnsupported {
                    b.supported = Some(VersionRange::CURRENT);
                    if let CodecError::VersionMismatch { found, expected } = e {
                        b.key = if i128::from(*found) > i128::from(*expected) {
                            "sync.update_server"
                        } else {
                            "sync.update_app"
                        }
                        .to_string();
                    }
                }
                b
            }
            AppError::Storage(e) if e.is_transient() => {
                let mut b = ErrorBody::new(
                    ErrorCode::Unavailable,
                    "the server is busy; nothing was lost, try again shortly",
                );
                b.retry_after_s = Some(5);
                b
            }
            AppError::Storage(_) | AppError::Auth(_) | AppError::Internal(_) => ErrorBody::new(
                ErrorCode::Internal,
                "the server failed; the request changed nothing",
            ),
        }
    }
}

/// Builds the response for an error body.
pub fn error_response(body: &ErrorBody) -> Response {
    let status =
        StatusCode::from_u16(body.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let json = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, json).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(s) = body.retry_after_s
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        h.insert(header::RETRY_AFTER, v);
    }
    resp
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = self.body();
        if body.code == ErrorCode::Internal || body.code == ErrorCode::Unavailable {
            // Storage and auth errors carry no personal data: SQL errors name tables and
            // constraints, never values.
            tracing::error!(error = %self, code = ?body.code, "request failed");
        } else {
            tracing::debug!(code = ?body.code, "request refused");
        }
        error_response(&body)
    }
}

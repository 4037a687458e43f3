//! Errors of the sync client. Every error has a message key for the app's translation files
//! and an English sentence saying what to do.

use crate::error::StoreError;
use sync_protocol::{ErrorBody, ErrorCode};

/// Everything enrolment, login or a sync run can fail at. Nothing local is ever lost by one.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this tablet is not enrolled with a district server yet: enrol it first")]
    NotEnrolled,
    /// An admin revoked this device. Syncing stops; every record stays on the tablet.
    #[error("this tablet was revoked by an admin; its records are kept on it ({message})")]
    DeviceRevoked { message: String },
    /// The session expired or is unknown: the user must log in again (online) to sync.
    #[error("the session has ended: log in again to sync (nothing on the tablet is lost)")]
    LoginRequired,
    /// The server does not know this device's token (e.g. the district database was rebuilt).
    #[error("the server does not recognise this tablet: enrol it again")]
    DeviceUnknown,
    #[error("wrong username or password/PIN")]
    LoginFailed,
    #[error("this account is disabled; ask the puskesmas admin")]
    UserDisabled,
    #[error("this enrolment code is unknown or already used; ask the admin for a new one")]
    EnrolCodeInvalid,
    #[error("this enrolment code expired; ask the admin for a new one")]
    EnrolCodeExpired,
    /// The server logged in a user other than the one who unlocked this tablet.
    #[error("the server answered for user {got}, but {expected} unlocked this tablet")]
    WrongUser { expected: String, got: String },
    #[error("update the app: the server speaks a newer sync protocol ({0})")]
    UpdateApp(String),
    #[error("the district server must be updated: it speaks an older sync protocol ({0})")]
    UpdateServer(String),
    #[error("another sync is already running on this tablet")]
    AlreadyRunning,
    /// The server could not be reached, or the connection broke (retryable).
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// Any other refusal of the server, with its error body.
    #[error("the server refused the request ({status} {}): {}", body.key, body.message)]
    Server { status: u16, body: ErrorBody },
    #[error("the server's answer could not be read: {0}")]
    Protocol(String),
    /// The answer is over the limits this client accepts (the server's advertised limits):
    /// a pull asks again for fewer changes.
    #[error("the server's answer is too large: {0}")]
    AnswerTooLarge(String),
    /// Pushing made no progress (every change was answered "retry" even after re-stamping).
    #[error("the server keeps refusing the waiting changes as retryable: {0}")]
    Stuck(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("invalid server address {0:?}: use https://host[:port] (http:// only on loopback)")]
    BadUrl(String),
    #[error("the sync lock file could not be used: {0}")]
    Lock(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// The message key the app translates.
    pub fn message_key(&self) -> &str {
        match self {
            SyncError::NotEnrolled => "sync.error.not_enrolled",
            SyncError::DeviceRevoked { .. } => ErrorCode::DeviceRevoked.message_key(),
            SyncError::LoginRequired => "sync.error.login_required",
            SyncError::DeviceUnknown => "sync.error.device_unknown",
            SyncError::LoginFailed => ErrorCode::LoginFailed.message_key(),
            SyncError::UserDisabled => ErrorCode::UserDisabled.message_key(),
            SyncError::EnrolCodeInvalid => ErrorCode::EnrolCodeInvalid.message_key(),
            SyncError::EnrolCodeExpired => ErrorCode::EnrolCodeExpired.message_key(),
            SyncError::WrongUser { .. } => "sync.error.wrong_user",
            SyncError::UpdateApp(_) => "sync.update_app",
            SyncError::UpdateServer(_) => "sync.update_server",
            SyncError::AlreadyRunning => "sync.error.already_running",
            SyncError::Network(_) => "sync.error.network",
            SyncError::Server { body, .. } => &body.key,
            SyncError::Protocol(_) => "sync.error.protocol",
            SyncError::AnswerTooLarge(_) => "sync.error.answer_too_large",
            SyncError::Stuck(_) => "sync.error.stuck",
            SyncError::Tls(_) => "sync.error.tls",
            SyncError::BadUrl(_) => "sync.error.bad_url",
            SyncError::Lock(_) => "sync.error.lock",
            SyncError::Store(_) => "sync.error.store",
        }
    }

    /// Whether the same request may succeed later without anyone changing anything (a cut
    /// connection, a busy or failing server, a rate limit).
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Network(_) => true,
            SyncError::Server { status, body } => body.code.is_retryable() || *status >= 500,
            _ => false,
        }
    }

    /// The server's `retry_after_s`, when it gave one.
    pub fn retry_after_s(&self) -> Option<u32> {
        match self {
            SyncError::Server { body, .. } => body.retry_after_s,
            _ => None,
        }
    }

    /// Turns an error body into the typed error the client acts on. `bearer` says whether
    /// the request carried a session token (an unknown one means "log in again") or a device
    /// token (an unknown one means "enrol again").
    pub(crate) fn from_error_body(status: u16, body: ErrorBody, bearer: bool) -> Self {
        if status == 426 || body.code == ErrorCode::ProtocolUnsupported {
            return if body.key == "sync.update_server" {
                SyncError::UpdateServer(body.message)
            } else {
                SyncError::UpdateApp(body.message)
            };
        }
        match body.code {
            ErrorCode::SessionExpired => SyncError::LoginRequired,
            ErrorCode::Unauthorized if bearer => SyncError::LoginRequired,
            ErrorCode::Unauthorized => SyncError::DeviceUnknown,
            ErrorCode::DeviceRevoked => SyncError::DeviceRevoked {
                message: body.message,
            },
            ErrorCode::LoginFailed => SyncError::LoginFailed,
            ErrorCode::UserDisabled => SyncError::UserDisabled,
            ErrorCode::EnrolCodeInvalid => SyncError::EnrolCodeInvalid,
            ErrorCode::EnrolCodeExpired => SyncError::EnrolCodeExpired,
            _ => SyncError::Server { status, body },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: ErrorCode, key: &str) -> ErrorBody {
        let mut b = ErrorBody::new(code, "m");
        b.key = key.into();
        b
    }

    #[test]
    fn error_bodies_become_what_the_client_acts_on() {
        let e = |status, code, key: &str, bearer| {
            SyncError::from_error_body(status, body(code, key), bearer)
        };
        let k = |err: SyncError| err.message_key().to_string();
        assert_eq!(
            k(e(
                426,
                ErrorCode::ProtocolUnsupported,
                "sync.update_app",
                true
            )),
            "sync.update_app"
        );
        assert_eq!(
            k(e(
                426,
                ErrorCode::ProtocolUnsupported,
                "sync.update_server",
                true
            )),
            "sync.update_server"
        );
        // Any 426 means "update", whatever the body says.
        assert!(matches!(
            e(426, ErrorCode::Unknown, "x", true),
            SyncError::UpdateApp(_)
        ));
        assert!(matches!(
            e(401, ErrorCode::SessionExpired, "k", true),
            SyncError::LoginRequired
        ));
        assert!(matches!(
            e(401, ErrorCode::Unauthorized, "k", true),
            SyncError::LoginRequired
        ));
        assert!(matches!(
            e(401, ErrorCode::Unauthorized, "k", false),
            SyncError::DeviceUnknown
        ));
        let revoked = e(
            403,
            ErrorCode::DeviceRevoked,
            "sync.error.device_revoked",
            true,
        );
        assert_eq!(revoked.message_key(), "sync.error.device_revoked");
        assert!(!revoked.is_retryable());
        // Retryable: 429, 503, 500, and an unknown code with a 5xx status.
        for (status, code) in [
            (429, ErrorCode::RateLimited),
            (503, ErrorCode::Unavailable),
            (500, ErrorCode::Internal),
            (502, ErrorCode::Unknown),
        ] {
            assert!(e(status, code, "k", true).is_retryable(), "{status}");
        }
        assert!(!e(400, ErrorCode::MalformedBody, "k", true).is_retryable());
        assert!(SyncError::Network("reset".into()).is_retryable());
    }
}

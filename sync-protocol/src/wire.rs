//! Request and response bodies of the sync API (see `docs/sync-protocol.md`).
//!
//! Every body carries `v`, the protocol version, and refuses unknown fields, so a body of
//! another version is refused rather than misread.

use crate::change::Change;
use crate::ids::{DeviceId, UserId};
use crate::version::VersionRange;
use serde::{Deserialize, Serialize};

/// A message that travels as a request or response body.
pub trait WireMessage {
    /// The protocol version the body says it is.
    fn version(&self) -> u16;
    /// The number of changes it carries (checked against [`crate::Limits::max_batch`]).
    fn batch_len(&self) -> usize {
        0
    }
}

macro_rules! wire_message {
    ($t:ty) => {
        impl WireMessage for $t {
            fn version(&self) -> u16 {
                self.v
            }
        }
    };
    ($t:ty, batch) => {
        impl WireMessage for $t {
            fn version(&self) -> u16 {
                self.v
            }
            fn batch_len(&self) -> usize {
                self.changes.len()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Status: one round trip tells an up-to-date device so.

/// `POST /v1/sync/status`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub v: u16,
    /// The highest sequence number the device has written to its outbox.
    pub last_seq: u64,
    /// The device's pull cursor, or none before the first pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The app's version, shown to admins in `device list`.
    pub app_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusResponse {
    pub v: u16,
    /// The server's clock, milliseconds since the Unix epoch (for [`crate::HybridClock::calibrate`]).
    pub server_time: u64,
    /// Every change of this device with `seq <= acked_seq` is settled on the server
    /// (accepted, duplicate or finally rejected).
    pub acked_seq: u64,
    /// True when changes in the user's scope exist past `cursor`.
    pub pull_pending: bool,
    /// True when there is nothing to push and nothing to pull: the sync is done.
    pub up_to_date: bool,
    /// The limits the server enforces, so the client sizes its batches.
    pub limits: crate::codec::Limits,
}
wire_message!(StatusRequest);
wire_message!(StatusResponse);

// ---------------------------------------------------------------------------------------------
// Push.

/// `POST /v1/sync/push`: changes of the authenticated device, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub v: u16,
    pub changes: Vec<Change>,
}
wire_message!(PushRequest, batch);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    pub v: u16,
    /// One outcome per pushed change, in the order of the request.
    pub outcomes: Vec<Outcome>,
    /// As in [`StatusResponse::acked_seq`], after this push.
    pub acked_seq: u64,
    pub server_time: u64,
}
wire_message!(PushResponse);

/// What the server did with one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub seq: u64,
    pub status: OutcomeStatus,
    /// Present exactly when `status` is `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Stored now.
    Accepted,
    /// Stored before (the same device and sequence number with the same content).
    Duplicate,
    /// Not stored; `rejection` says why.
    Rejected,
}

impl Outcome {
    pub fn accepted(seq: u64) -> Self {
        Self {
            seq,
            status: OutcomeStatus::Accepted,
            rejection: None,
        }
    }

    pub fn duplicate(seq: u64) -> Self {
        Self {
            seq,
            status: OutcomeStatus::Duplicate,
            rejection: None,
        }
    }

    pub fn rejected(seq: u64, rejection: Rejection) -> Self {
        Self {
            seq,
            status: OutcomeStatus::Rejected,
            rejection: Some(rejection),
        }
    }
}

/// Why a change was refused. The device keeps the change and shows `key` translated, with
/// `field` highlighted, so a person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub code: RejectCode,
    /// Message key for the app's translation files, e.g. `sync.reject.out_of_scope`.
    pub key: String,
    /// An English sentence for logs and admins.
    pub message: String,
    /// The body or envelope field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Rejection {
    pub fn new(code: RejectCode, message: impl Into<String>, field: Option<&str>) -> Self {
        Self {
            code,
            key: code.message_key().to_string(),
            message: message.into(),
            field: field.map(str::to_string),
        }
    }
}

/// Machine-readable reasons for refusing one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The envelope contradicts itself (see [`crate::EnvelopeError`]).
    InvalidEnvelope,
    /// The body does not match the schema of its kind: a missing, unknown or badly typed field.
    InvalidBody,
    /// A value is out of its allowed range (e.g. a weight of 900 kg).
    InvalidValue,
    /// The body schema version is not one the server knows.
    UnsupportedSchema,
    /// The record belongs to a place outside the user's scope.
    OutOfScope,
    /// The user's role may not write this kind of record.
    ForbiddenRole,
    /// The change names a device or author other than the authenticated ones.
    IdentityMismatch,
    /// The record id exists with another kind.
    KindMismatch,
    /// The same device and sequence number arrived before with other content.
    SeqReused,
    /// A fact with this id exists with another body: facts are never edited.
    FactImmutable,
    /// The stamp is too far ahead of the server's clock: recalibrate, re-stamp, push again.
    ClockAhead,
    /// The change's author is another user of the tablet, and it was not stamped while that
    /// author was the one logged in on it: it waits (in the outbox, unsettled) for a sync by
    /// its author's own session.
    AwaitsAuthor,
    /// The change is over the size limit of one change ([`crate::schema::MAX_CHANGE_BYTES`]).
    TooLarge,
}

impl RejectCode {
    pub fn message_key(self) -> &'static str {
        match self {
            RejectCode::InvalidEnvelope => "sync.reject.invalid_envelope",
            RejectCode::InvalidBody => "sync.reject.invalid_body",
            RejectCode::InvalidValue => "sync.reject.invalid_value",
            RejectCode::UnsupportedSchema => "sync.reject.unsupported_schema",
            RejectCode::OutOfScope => "sync.reject.out_of_scope",
            RejectCode::ForbiddenRole => "sync.reject.forbidden_role",
            RejectCode::IdentityMismatch => "sync.reject.identity_mismatch",
            RejectCode::KindMismatch => "sync.reject.kind_mismatch",
            RejectCode::SeqReused => "sync.reject.seq_reused",
            RejectCode::FactImmutable => "sync.reject.fact_immutable",
            RejectCode::ClockAhead => "sync.reject.clock_ahead",
            RejectCode::AwaitsAuthor => "sync.reject.awaits_author",
            RejectCode::TooLarge => "sync.reject.too_large",
        }
    }

    /// A retryable rejection does not settle the sequence number: the device fixes the cause
    /// (here only its clock) and pushes the same sequence number again. Every other rejection
    /// is final for that sequence number; the fix is a new change.
    pub fn is_retryable(self) -> bool {
        matches!(self, RejectCode::ClockAhead)
    }

    /// Whether the rejection settles the sequence number for good. `clock_ahead` (fix the
    /// clock, re-stamp, push again) and `awaits_author` (push it unchanged in a session of
    /// its author) do not: the change stays in the device's outbox.
    pub fn is_final(self) -> bool {
        !matches!(self, RejectCode::ClockAhead | RejectCode::AwaitsAuthor)
    }
}

// ---------------------------------------------------------------------------------------------
// Pull.

/// `POST /v1/sync/pull`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub v: u16,
    /// Where the previous page ended; none for the first pull of a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The most changes the client wants in this page (the server may send fewer).
    pub limit: u32,
}
wire_message!(PullRequest);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub v: u16,
    /// Changes in the user's scope after the request's cursor, in server order. May include
    /// the device's own changes; it recognises them by `(device, seq)`.
    pub changes: Vec<Change>,
    /// Opaque: store it once this page is applied, send it with the next pull.
    pub cursor: String,
    pub has_more: bool,
    pub server_time: u64,
}
wire_message!(PullResponse, batch);

// ---------------------------------------------------------------------------------------------
// Enrolment and login.

/// `POST /v1/enrol`: exchange a one-time enrolment code for a device identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub v: u16,
    /// The short code an admin issued, as typed (case and dashes are ignored).
    pub code: String,
    /// A name for the tablet, shown to admins ("Tablet Posyandu Mawar").
    pub device_name: String,
    pub app_version: String,
    /// The tablet's titip public keys (section 10), registered with the device. Optional:
    /// an older app sends none and gets none back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titip: Option<crate::relay::PublicKeys>,
}
wire_message!(EnrolRequest);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    pub v: u16,
    pub device_id: DeviceId,
    /// Secret; sent as `Authorization: Device <token>` on login. The server keeps only its hash.
    pub device_token: String,
    pub server_time: u64,
    /// The district server's titip public keys (section 10): present exactly when the
    /// request carried the tablet's own, so an older app never sees a field it refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub titip: Option<crate::relay::PublicKeys>,
}
wire_message!(EnrolResponse);

/// `POST /v1/relay/keys` with `Authorization: Device <token>`: a tablet enrolled before
/// titip existed registers its titip public keys once (section 10). The answer is a
/// [`RelayKeysResponse`]. The same keys again are answered as the first time; other keys
/// for a device that already has some are refused (`titip_refused`): a device token alone
/// never replaces the keys bundles are checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayKeysRequest {
    pub v: u16,
    pub titip: crate::relay::PublicKeys,
}
wire_message!(RelayKeysRequest);

/// The district server's titip public keys, answering a [`RelayKeysRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayKeysResponse {
    pub v: u16,
    pub titip: crate::relay::PublicKeys,
}
wire_message!(RelayKeysResponse);

/// `POST /v1/login` with `Authorization: Device <token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub v: u16,
    pub username: String,
    /// Password or PIN; only ever sent over TLS.
    pub secret: String,
    /// The device's hybrid clock at the login (at least every stamp it has issued): on a
    /// shared tablet, the changes of the user logged in before were stamped up to here, and
    /// this user's start after it. Absent: the server's clock stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlc: Option<crate::Hlc>,
}
wire_message!(LoginRequest);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginResponse {
    pub v: u16,
    pub user_id: UserId,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// Sent as `Authorization: Bearer <token>`; bound to this device.
    pub session_token: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at: u64,
    pub server_time: u64,
}
wire_message!(LoginResponse);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kader,
    Bidan,
    Perawat,
    PuskesmasAdmin,
    DinasAdmin,
}

/// The area a user may see and write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub level: PlaceLevel,
    /// The place's code, e.g. `53.04` for Kabupaten Belu.
    pub place: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    Kabupaten,
    Kecamatan,
    Puskesmas,
    Desa,
    Dusun,
    Posyandu,
}

// ---------------------------------------------------------------------------------------------
// Places: the names and hierarchy of the user's area.

/// The answer to `GET /v1/places` (with a session): every place inside the user's scope
/// (the scope's place and everything under it in the district's hierarchy) and the scope's
/// ancestors up to the kabupaten, so the device can name the posyandu it works in and the
/// places around it. A device asks once per login; an older server answers 404.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacesResponse {
    pub v: u16,
    /// Ordered by level (kabupaten first), then by code: in a well-formed hierarchy a place's
    /// parent comes before it.
    pub places: Vec<PlaceInfo>,
}
wire_message!(PlacesResponse);

// ---------------------------------------------------------------------------------------------
// Likely duplicates the server found (issue #17).

/// The answer to `GET /v1/records/duplicates?place=CODE` (with a session of a bidan,
/// perawat or admin; scoped like pull): pairs of persons that may be one person registered
/// twice, found across the posyandu the server sees, `first` < `second`, without pairs that
/// have a live `duplicate_dismissal` or a merged person. A tablet asks after a sync and keeps
/// the last answer; an older server answers 404. Unknown fields are ignored (a newer server
/// may add some).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatesResponse {
    pub v: u16,
    pub pairs: Vec<DuplicatePairInfo>,
}
wire_message!(DuplicatesResponse);

/// One pair of [`DuplicatesResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatePairInfo {
    pub first: crate::RecordId,
    pub second: crate::RecordId,
    /// `nik` or `name_birth_mother`.
    pub reason: String,
    #[serde(default)]
    pub first_posyandu: Option<String>,
    #[serde(default)]
    pub second_posyandu: Option<String>,
    /// When the server found it (Unix seconds).
    pub found_at: i64,
}

/// One place of the district's hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceInfo {
    /// e.g. `53.04.05.2001.P01`.
    pub code: String,
    pub level: PlaceLevel,
    /// e.g. `Posyandu Mawar`.
    pub name: String,
    /// The enclosing place's code; absent for the kabupaten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Errors of a whole request.

/// The body of every 4xx and 5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub v: u16,
    pub code: ErrorCode,
    /// Message key for the app's translation files, e.g. `sync.error.device_revoked`.
    pub key: String,
    /// An English sentence saying what to do.
    pub message: String,
    /// For `rate_limited` and `unavailable`: when to try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
    /// For `protocol_unsupported`: the versions the server speaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<VersionRange>,
}
wire_message!(ErrorBody);

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            v: crate::PROTOCOL_VERSION,
            code,
            key: code.message_key().to_string(),
            message: message.into(),
            retry_after_s: None,
            supported: None,
        }
    }
}

/// Machine-readable reasons for refusing a whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 426: the versions do not overlap; `key` says whether the app or the server must be updated.
    ProtocolUnsupported,
    /// 400: the body is not valid JSON of the expected shape.
    MalformedBody,
    /// 413: the body is over a size limit, compressed or decompressed.
    BodyTooLarge,
    /// 413: more changes than `max_batch`.
    TooManyChanges,
    /// 415: a `Content-Encoding` other than zstd, gzip or identity.
    UnsupportedEncoding,
    /// 401: no or unknown credentials.
    Unauthorized,
    /// 401: the session expired; log in again (offline work is kept).
    SessionExpired,
    /// 403: the device was revoked by an admin; it keeps its data but may not sync.
    DeviceRevoked,
    /// 403: the user account was disabled.
    UserDisabled,
    /// 403: the user may not do this.
    Forbidden,
    /// 400: the enrolment code is unknown or used.
    EnrolCodeInvalid,
    /// 400: the enrolment code expired.
    EnrolCodeExpired,
    /// 401: wrong username or password/PIN.
    LoginFailed,
    /// 429: too many attempts; wait `retry_after_s`.
    RateLimited,
    /// 404
    NotFound,
    /// 503: the server is busy or shutting down; retry after `retry_after_s`.
    Unavailable,
    /// 500: a bug on the server; the request changed nothing.
    Internal,
    /// 422: a titip bundle was refused: altered, truncated, not signed by its enrolled
    /// device, or from a revoked device (section 10). The carrier drops it and reports it.
    TitipRefused,
    /// A code this version does not know (from a newer server); treat by HTTP status.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn message_key(self) -> &'static str {
        match self {
            ErrorCode::ProtocolUnsupported => "sync.update_app",
            ErrorCode::MalformedBody => "sync.error.malformed_body",
            ErrorCode::BodyTooLarge => "sync.error.body_too_large",
            ErrorCode::TooManyChanges => "sync.error.too_many_changes",
            ErrorCode::UnsupportedEncoding => "sync.error.unsupported_encoding",
            ErrorCode::Unauthorized => "sync.error.unauthorized",
            ErrorCode::SessionExpired => "sync.error.session_expired",
            ErrorCode::DeviceRevoked => "sync.error.device_revoked",
            ErrorCode::UserDisabled => "sync.error.user_disabled",
            ErrorCode::Forbidden => "sync.error.forbidden",
            ErrorCode::EnrolCodeInvalid => "sync.error.enrol_code_invalid",
            ErrorCode::EnrolCodeExpired => "sync.error.enrol_code_expired",
            ErrorCode::LoginFailed => "sync.error.login_failed",
            ErrorCode::RateLimited => "sync.error.rate_limited",
            ErrorCode::NotFound => "sync.error.not_found",
            ErrorCode::Unavailable => "sync.error.unavailable",
            ErrorCode::Internal => "sync.error.internal",
            ErrorCode::TitipRefused => "sync.error.titip_refused",
            ErrorCode::Unknown => "sync.error.unknown",
        }
    }

    /// The HTTP status that carries this error.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::ProtocolUnsupported => 426,
            ErrorCode::MalformedBody
            | ErrorCode::EnrolCodeInvalid
            | ErrorCode::EnrolCodeExpired => 400,
            ErrorCode::BodyTooLarge | ErrorCode::TooManyChanges => 413,
            ErrorCode::UnsupportedEncoding => 415,
            ErrorCode::Unauthorized | ErrorCode::SessionExpired | ErrorCode::LoginFailed => 401,
            ErrorCode::DeviceRevoked | ErrorCode::UserDisabled | ErrorCode::Forbidden => 403,
            ErrorCode::RateLimited => 429,
            ErrorCode::NotFound => 404,
            ErrorCode::TitipRefused => 422,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }

    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal
        )
    }
}

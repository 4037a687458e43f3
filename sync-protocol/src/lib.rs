//! # sync-protocol
//!
//! The contract between every Jangkau device and the district server: the versioned wire
//! types, the hybrid logical clock and its policy, the merge rules, and the codec.
//! The full specification, written for someone implementing a client in another language,
//! is `docs/sync-protocol.md`.
//!
//! This crate does no IO: no SQLite, no HTTP, no tokio, no reading of the system clock
//! (callers pass the time in). That keeps it deterministic and usable on both sides.
#![forbid(unsafe_code)]

pub mod change;
pub mod codec;
pub mod entity;
pub mod hlc;
pub mod ids;
pub mod merge;
pub mod relay;
#[doc(hidden)]
pub mod sample;
pub mod schema;
pub mod stamp;
pub mod version;
pub mod wire;

pub use change::{Body, Change, EnvelopeError};
pub use codec::{CodecError, Encoding, Limits, decode, encode};
pub use entity::{Class, EntityKind, REFERRAL_STATUSES};
pub use hlc::{ClockError, ClockPolicy, Hlc, HybridClock};
pub use ids::{DeviceId, RecordId, UserId};
pub use merge::{Applied, Conflict, ConflictKind, MergeError, Replica};
pub use stamp::Stamp;
pub use version::{PROTOCOL_HEADER, PROTOCOL_VERSION, VersionError, VersionRange};
pub use wire::{
    DuplicatePairInfo, DuplicatesResponse, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode,
    LoginRequest, LoginResponse, Outcome, OutcomeStatus, PlaceInfo, PlaceLevel, PlacesResponse,
    PullRequest, PullResponse, PushRequest, PushResponse, RejectCode, Rejection, RelayKeysRequest,
    RelayKeysResponse, Role, Scope, StatusRequest, StatusResponse, WireMessage,
};

//! The sync client: enrolment, login, and sync runs against the district server, as
//! `docs/sync-protocol.md` (sections 3, 5, 8 and 9) describes.
//!
//! - [`SyncClient::enrol`] exchanges a one-time code for a device identity, logs the user in
//!   and creates the encrypted store, with the device token and session kept inside it.
//! - [`SyncClient::sync`] runs one sync: `status` (an up-to-date tablet is done after this one
//!   round trip; the clock learns the server's time), `push` of the outbox in batches (at most
//!   1,000 changes and 48 KiB on the wire by default, about 6 s of 2G: a posyandu day goes
//!   in one push; outcomes recorded in one transaction per batch; `clock_ahead`
//!   repaired and re-stamped by field-core), then `pull` pages, each applied with its cursor in
//!   one transaction, so a cut connection resumes where it stopped.
//! - Failures that pass (network, 5xx, 429) are retried with exponential backoff and jitter
//!   (1 s doubling to a 5 min cap, ±50 %) through an injectable [`Sleeper`]. A session that
//!   ended is renewed once when the run was given the user's secret, else the run ends with
//!   [`SyncError::LoginRequired`]. A revoked device stops syncing and remembers why
//!   ([`Store::sync_state`]); the app then warns the user ([`Store::revocation_notice`]) and
//!   erases the tablet's key material ([`Store::erase_revoked`]).
//! - A run takes an exclusive lock on `<db>.sync.lock` (released by the OS if the process
//!   dies), so the app and a background worker never run two syncs at once.
//! - [`SyncClient::add_user`] lets a second user of a shared tablet in: their server login
//!   through the device token, then their own PIN in the keyring.
//! - After every successful login (enrolment, [`SyncClient::login`], a new login inside a
//!   run, [`SyncClient::add_user`]) the client asks once for the places of the user's area
//!   (`GET /v1/places`: names and hierarchy) and merges them into the store; a failure (an
//!   older server's 404 included) leaves the places as they were and does not fail the
//!   login. An ordinary run (status, push, pull) never asks.
//! - TLS: rustls with an explicit root store ([`TrustRoots`], [`tls_config`]): the bundled
//!   Mozilla roots and/or the district's own CA. Plain HTTP only to loopback.
//!
//! [`Store::sync_state`]: crate::Store::sync_state
//! [`Store::revocation_notice`]: crate::Store::revocation_notice
//! [`Store::erase_revoked`]: crate::Store::erase_revoked

mod account;
mod backoff;
mod engine;
mod error;
mod export;
pub mod lan;
pub mod pace;
mod relay;
mod transport;
mod users;

pub use account::{Erased, Revoked, SyncState};
pub use backoff::{Backoff, RecordingSleeper, SleepFuture, Sleeper, TokioSleeper};
pub use engine::{
    EnrolTimes, Enrolment, PageTimes, RunTimes, SyncClient, SyncConfig, SyncEvent, SyncPhase,
    SyncReport,
};
pub use error::SyncError;
pub use relay::{CarriedBundle, HandOver, OpenReport, SentBundle, TitipError, peek};
pub use transport::{TrustRoots, check_server_url, tls_config};

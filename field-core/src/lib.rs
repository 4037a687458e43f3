//! # field-core
//!
//! The Jangkau device without the window: the encrypted SQLite store (SQLCipher, WAL,
//! `synchronous=FULL`, foreign keys on except while pulled pages are applied), the keyring
//! that lets several users unlock it with their own PIN, numbered migrations, the domain API
//! a kader uses, change capture into the outbox, and the application of pulled changes with
//! the merge rules of `sync-protocol`.
//!
//! Used by the Tauri app, the `jangkau` CLI and the system tests.
//!
//! ## Building
//! rusqlite's `bundled-sqlcipher` feature compiles SQLCipher and links the system libcrypto
//! (Debian: `libssl-dev`). For Android, or any target without a libcrypto, turn on this
//! crate's `vendored-openssl` feature (`bundled-sqlcipher-vendored-openssl`), which builds
//! OpenSSL from source (needs perl and the NDK's `ar`/`ranlib`; not verified here).
#![forbid(unsafe_code)]

pub mod apply;
pub mod clock;
pub mod domain;
mod due_rows;
pub mod error;
pub mod health;
pub mod keyring;
pub mod messages;
pub mod migrations;
pub mod names;
pub mod outbox;
pub mod places;
pub mod reads;
pub mod review;
pub mod store;
pub mod sync;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod validate;
pub mod worklists;

pub use apply::PullReport;
pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::*;
pub use error::{Result, StoreError, ValidationError};
#[cfg(feature = "health")]
pub use health::{
    AttendanceCounts, CardDose, CardRecord, CardStatus, ChartPoint, DueEntry, DueFilter, DueForm,
    DueGroup, GrowthChart, HealthProblem, ImmunisationCard, IndicatorChart, LatestGrowth,
    MonthActivity, PosyanduReport, PregnancyView, ReportChildProblem, SessionSummary, Skdn,
};
pub use health::{DueTask, PersonTasks, RuleOptions};
#[cfg(feature = "health")]
pub use health::{TdFact, TdView};
pub use keyring::{KdfParams, LocalUser};
pub use outbox::PushReport;
pub use places::Place;
pub use reads::{
    ConflictKey, GrowthPoint, HouseholdHit, HouseholdView, LifeStage, PersonSummary, RosterEntry,
    SyncCounts, Timeline, TimelineEntry,
};
pub use review::{
    ConflictSide, DuplicatePair, PairComparison, PairField, PairHousehold, PairSide, PairSource,
    PersonBrief, Resolution, ReviewConflict, ReviewCounts, ServerPair,
};
pub use store::{OpenOptions, Store};
pub use worklists::{ReferralEventRow, ReferralRow, ReferralView, SessionRef};

#[cfg(test)]
mod tests {
    /// The Tauri app keeps the store in `tauri::State<Mutex<Store>>`: it must be `Send`.
    #[test]
    fn store_is_send() {
        fn send<T: Send>() {}
        send::<crate::Store>();
    }
}

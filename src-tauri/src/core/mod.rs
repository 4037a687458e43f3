//! The app without the window: the state the commands share and what each command does.
//! `commands.rs` only unpacks arguments and calls in here, so the whole behaviour is tested
//! without a webview (real store, real district server).
//!
//! State: the unlocked [`Store`] of the screens (`session`), behind a mutex held only for
//! one short read or write; the background sync task works on its own handle of the same
//! database ([`Store::reopen`]), so a sync run of minutes on 2G never blocks a screen.

mod care;
mod child_files;
pub mod due_pages;
mod pdf;
mod pdf_child;
mod records;
mod report_files;
mod reports;
mod review;
mod save_as;
mod session;
mod share;
mod sync;
mod titip;

pub use care::TdEarlierInput;
pub use records::MemberInput;
pub use review::ReviewQueue;
pub use session::EnrolInput;
pub use share::{ShareFile, mime_of, share_failed, share_unavailable};
pub use sync::SyncSchedule;
pub use titip::{CarriedFor, LanOffered, LanWhat, TitipImported, TitipOverview, TitipWritten};

use crate::error::{AppError, AppKey};
use crate::settings::{DataDir, Settings};
use field_core::sync::{SyncClient, SyncConfig};
use field_core::{OpenOptions, Store};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Events the shell sends to the webview.
pub mod events {
    /// Payload: field-core's `SyncEvent` (`SyncProgress` in api.ts).
    pub const SYNC_PROGRESS: &str = "sync://progress";
    /// Payload: `SyncStatus`, when a run ends (success or failure).
    pub const SYNC_FINISHED: &str = "sync://finished";
    /// Payload: `SyncStatus`, after a command wrote to the store (a save changes the count
    /// of changes waiting).
    pub const SYNC_STATUS: &str = "sync://status";
    /// No payload: the shell locked itself after the idle time.
    pub const LOCKED: &str = "app://locked";
}

/// Where events go: the Tauri app handle in the app, a recorder in tests.
pub type EventSink = Arc<dyn Fn(&str, serde_json::Value) + Send + Sync>;

/// How the core is set up.
#[derive(Clone)]
pub struct CoreConfig {
    pub data: DataDir,
    /// A server address given at start, to prefill first run.
    pub suggested_server: Option<String>,
    /// Clock and Argon2id cost for the store.
    pub open: OpenOptions,
    /// The sync client: TLS roots, batch sizes, retries of one request.
    pub sync: SyncConfig,
    pub schedule: SyncSchedule,
}

impl CoreConfig {
    /// The app's configuration for a data directory.
    pub fn new(data: DataDir, suggested_server: Option<String>) -> Self {
        let mut sync = SyncConfig::default();
        // A background run gives up sooner than the CLI (1 s, 2 s, 4 s, 8 s): the next run
        // comes on the timer with its own backoff, and the status shows the failure meanwhile.
        sync.backoff.max_retries = 4;
        sync.app_version = format!("jangkau-app/{}", env!("CARGO_PKG_VERSION"));
        Self {
            data,
            suggested_server,
            open: OpenOptions::default(),
            sync,
            schedule: SyncSchedule::default(),
        }
    }
}

/// The unlocked tablet.
struct Session {
    store: Store,
    /// Beranda's due list as last computed (its order and counts), for its later pages.
    home: Option<due_pages::DueIndex>,
}

pub struct AppCore {
    cfg: CoreConfig,
    events: EventSink,
    settings: Mutex<Settings>,
    session: Mutex<Option<Session>>,
    sync: sync::SyncControl,
    last_activity: Mutex<Instant>,
    /// The titip file this tablet offers on the local network, if any (`titip.rs`).
    lan_offer: Mutex<Option<field_core::sync::lan::LanOffer>>,
}

/// A mutex whose holder panicked still guards consistent data here (every store write is one
/// SQLite transaction): take the guard back rather than failing every later command.
/// A date as the UI and the store exchange it: `YYYY-MM-DD`.
fn iso_day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Refuses a posyandu outside the user's area (`posyandu` field), before anything reads or
/// writes in it: the server would refuse or never send it.
fn require_in_area(store: &Store, posyandu: &str) -> Result<(), AppError> {
    if store.posyandu_in_scope()?.iter().any(|p| p == posyandu) {
        Ok(())
    } else {
        Err(AppError::choice("posyandu"))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppCore {
    pub fn new(cfg: CoreConfig, events: EventSink) -> Self {
        let settings = cfg.data.settings();
        Self {
            cfg,
            events,
            settings: Mutex::new(settings),
            session: Mutex::new(None),
            sync: sync::SyncControl::default(),
            last_activity: Mutex::new(Instant::now()),
            lan_offer: Mutex::new(None),
        }
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.cfg.data
    }

    fn emit(&self, event: &str, payload: serde_json::Value) {
        (self.events)(event, payload);
    }

    fn client(&self) -> SyncClient {
        SyncClient::new(self.cfg.sync.clone())
    }

    /// Runs `f` on the unlocked store; `app.locked` when nobody is unlocked. When `f` wrote
    /// anything, the new sync status goes to the webview (`sync://status`), so the waiting
    /// count on every screen is current after any save.
    /// [`AppCore::with_store`] for Beranda's reads, with its list's order kept in the session
    /// (dropped at lock: the next user's list is their own).
    fn with_home<T>(
        &self,
        f: impl FnOnce(&mut Store, &mut Option<due_pages::DueIndex>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut guard = lock(&self.session);
        let Some(s) = guard.as_mut() else {
            return Err(AppError::app(AppKey::Locked));
        };
        f(&mut s.store, &mut s.home)
    }

    fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut guard = lock(&self.session);
        let Some(s) = guard.as_mut() else {
            return Err(AppError::app(AppKey::Locked));
        };
        let before = s.store.connection().total_changes();
        let out = f(&mut s.store);
        if s.store.connection().total_changes() != before {
            match sync::status_of(&s.store, &self.sync.flags) {
                Ok(st) => match serde_json::to_value(st) {
                    Ok(v) => self.emit(events::SYNC_STATUS, v),
                    Err(e) => eprintln!("jangkau-app: sync status: {e}"),
                },
                Err(e) => eprintln!("jangkau-app: sync status: {e}"),
            }
        }
        out
    }

    /// A touch on the screen: the idle lock counts from the last one.
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }
}

//! Storage: one trait, two backends (SQLite, the embedded default; PostgreSQL for
//! production). The HTTP layer only knows [`Storage`]. Both backends run the same push
//! algorithm ([`crate::sync::BatchPlanner`]) inside one transaction, so they answer alike.

pub mod postgres;
pub mod sqlite;
pub mod vaccine_kfa;
pub mod web;

#[cfg(test)]
mod migration_lists;

use crate::model::{Device, NewDevice, Place, SessionInfo, User};
use crate::readmodel::ReadModel;
use crate::sync::{PushContext, PushResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use sync_protocol::{Change, DeviceId, Hlc, UserId};

/// A boxed future, so that `Storage` can be used as `Arc<dyn Storage>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("the database worker stopped: {0}")]
    Worker(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The database file or its directory could not be created or restricted.
    #[error("{0}")]
    Io(String),
}

impl StorageError {
    /// Whether a retry may succeed (a busy pool, a lost connection).
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Pool(_))
    }
}

/// Why an enrolment code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolRefusal {
    /// Unknown or already used.
    Invalid,
    Expired,
}

/// Scopes with at most this many places are pulled through the `(posyandu, sseq)` index,
/// one posyandu at a time; larger ones (a puskesmas with many posyandu, the kabupaten) by
/// scanning the log in `sseq` order, where most rows are in scope anyway. Either plan alone
/// is slow for the other kind of scope on a log of millions of changes.
pub const SMALL_SCOPE_PLACES: i64 = 64;

/// Which scopes are small (see [`SMALL_SCOPE_PLACES`]), remembered until places change, so a
/// status call stays at two queries (session, status). Only the query plan depends on it,
/// never the answer, so a cache made stale by a CLI import in another process costs speed at
/// most.
#[derive(Debug, Default)]
pub struct ScopeSizes(std::sync::Mutex<std::collections::HashMap<String, bool>>);

impl ScopeSizes {
    pub fn get(&self, scope: &str) -> Option<bool> {
        self.0.lock().ok().and_then(|m| m.get(scope).copied())
    }

    pub fn set(&self, scope: &str, small: bool) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(scope.to_string(), small);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

/// A page of the change log.
#[derive(Debug, Clone, Default)]
pub struct PullPage {
    /// `(server sequence, change JSON)` in server order.
    pub changes: Vec<(i64, String)>,
    pub has_more: bool,
    /// The next cursor: the last change returned or skipped (or where the page started, when
    /// empty).
    pub scanned_to: i64,
    /// Server sequences passed over because the change alone is over the page's byte limit
    /// (stored before the limits of one change existed): never served, the cursor moves past
    /// them, so the sync of the area goes on; an admin sees them in `change list --over-limit`.
    pub skipped: Vec<i64>,
}

/// Cuts a page of the log by count and by bytes as rows are read in server order.
#[derive(Debug)]
pub(crate) struct PageCutter {
    after: i64,
    limit: usize,
    max_bytes: usize,
    bytes: usize,
    taken: usize,
    /// Rows read so far (taken or skipped).
    read: usize,
    /// The `LIMIT` of the query: rows it may return.
    fetch: usize,
    stopped: bool,
    scanned_to: i64,
    skipped: Vec<i64>,
}

/// What to do with the next row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    Take,
    Skip,
    Stop,
}

/// Over-size rows a page may pass over before it ends (each still read once).
const MAX_SKIPPED_PER_PAGE: usize = 64;

impl PageCutter {
    pub fn new(after: i64, limit: usize, max_bytes: usize) -> Self {
        let limit = limit.max(1);
        Self {
            after,
            limit,
            max_bytes: max_bytes.max(1),
            bytes: 0,
            taken: 0,
            read: 0,
            fetch: limit.saturating_add(1 + MAX_SKIPPED_PER_PAGE),
            stopped: false,
            scanned_to: after,
            skipped: Vec::new(),
        }
    }

    /// The `LIMIT` to query with.
    pub fn fetch(&self) -> usize {
        self.fetch
    }

    /// Judges the next row: `len` bytes of JSON at server sequence `sseq`.
    pub fn offer(&mut self, sseq: i64, len: usize) -> Cut {
        if self.stopped {
            return Cut::Stop;
        }
        self.read += 1;
        // The page's JSON: the changes and a comma between each.
        let cost = len.saturating_add(1);
        if len > self.max_bytes {
            if self.skipped.len() >= MAX_SKIPPED_PER_PAGE {
                self.stopped = true;
                return Cut::Stop;
            }
            self.skipped.push(sseq);
            self.scanned_to = sseq;
            return Cut::Skip;
        }
        if self.taken >= self.limit
            || (self.taken > 0 && self.bytes.saturating_add(cost) > self.max_bytes)
        {
            self.stopped = true;
            return Cut::Stop;
        }
        self.taken += 1;
        self.bytes = self.bytes.saturating_add(cost);
        self.scanned_to = sseq;
        Cut::Take
    }

    /// The page, from the rows taken (in order). `high_water`: the log's highest `sseq`, read **before**
    /// the page's query. A page that is not full has read every row of the scope up to the end
    /// of the log its query saw, which holds every change up to `high_water` (changes are
    /// numbered in commit order under the log lock), so its cursor may move to `high_water`:
    /// past the asking device's own changes and quarantined ones, which the query leaves out.
    /// Without it a tablet whose area nobody else writes keeps a cursor before all its own work
    /// since the last change it received, and every check-in (status and pull) reads that work
    /// again: a cost growing with the tablet's own data instead of with what is new.
    pub fn finish_at(self, changes: Vec<(i64, String)>, high_water: i64) -> PullPage {
        // More may follow when the page stopped early, or when the query returned all it
        // could (skipped rows count there).
        let has_more = self.stopped || self.read >= self.fetch;
        let scanned_to = if has_more {
            self.scanned_to
        } else {
            self.scanned_to.max(high_water).max(self.after)
        };
        PullPage {
            changes,
            has_more,
            scanned_to,
            skipped: self.skipped,
        }
    }
}

/// A change of the log, as `change list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub sseq: i64,
    /// The record id and kind, read from the start of the stored JSON.
    pub record: String,
    pub kind: String,
    pub posyandu: String,
    pub device: String,
    pub seq: i64,
    pub received_at: u64,
    /// Bytes of the stored JSON.
    pub bytes: u64,
    pub quarantined_at: Option<u64>,
    pub quarantine_reason: Option<String>,
}

impl LoggedChange {
    /// Reads `id` and `kind` from the first bytes of a stored change (`{"id":"…","kind":"…"`:
    /// the server writes the envelope's fields in this order).
    pub fn id_and_kind(head: &str) -> (String, String) {
        let field = |name: &str| {
            let key = format!("\"{name}\":\"");
            head.find(&key)
                .map(|at| &head[at + key.len()..])
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("?")
                .chars()
                .take(40)
                .collect::<String>()
        };
        (field("id"), field("kind"))
    }
}

/// Which changes an admin action or listing names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeTarget {
    /// One change, by server sequence number.
    Sseq(i64),
    /// Every change of one record.
    Record(sync_protocol::RecordId),
}

/// Which changes `change list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChangeFilter {
    pub quarantined_only: bool,
    /// Only changes of at least this many bytes.
    pub min_bytes: u64,
    pub limit: usize,
}

/// The page a check-in guesses it will be read ([`Storage::session_and_page`]): the
/// arguments of [`Storage::pull_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAsk {
    pub device: DeviceId,
    pub scope: String,
    pub after: i64,
    pub limit: usize,
    pub max_bytes: usize,
}

/// The status a check-in guesses it will be read ([`Storage::session_and_status`]): the
/// arguments of [`Storage::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusAsk {
    pub device: DeviceId,
    pub scope: String,
    pub after: i64,
}

/// What `status` needs from storage.
#[derive(Debug, Clone, Copy)]
pub struct StatusInfo {
    pub acked_seq: u64,
    pub pull_pending: bool,
}

/// Everything the server keeps. Implementations must make every method atomic.
///
/// The read model's methods come with [`ReadModel`] (`crate::readmodel`).
pub trait Storage: ReadModel + web::WebStore + Send + Sync + 'static {
    /// Short name of the backend (`sqlite`, `postgres`) for logs and metrics.
    fn backend(&self) -> &'static str;
    /// Applies the numbered migrations not yet applied; returns how many ran.
    fn migrate(&self) -> StoreFuture<'_, usize>;
    /// The highest migration applied.
    fn schema_version(&self) -> StoreFuture<'_, i64>;
    /// A cheap query proving the database answers.
    fn ping(&self) -> StoreFuture<'_, ()>;

    /// Inserts or updates places (by code) and rebuilds the hierarchy index.
    fn import_places(&self, places: Vec<Place>) -> StoreFuture<'_, usize>;
    fn place(&self, code: String) -> StoreFuture<'_, Option<Place>>;
    fn all_places(&self) -> StoreFuture<'_, Vec<Place>>;
    /// The codes of every posyandu at or below `place`.
    fn posyandu_under(&self, place: String) -> StoreFuture<'_, Vec<String>>;
    /// The places a user of scope `place` needs (`GET /v1/places`): `place` and every place
    /// under it (as [`Storage::posyandu_under`] defines "under"), and every place above it,
    /// by code. Empty when `place` is unknown.
    fn places_for_scope(&self, place: String) -> StoreFuture<'_, Vec<Place>>;

    fn create_user(&self, user: User) -> StoreFuture<'_, ()>;
    fn user_by_username(&self, username: String) -> StoreFuture<'_, Option<User>>;
    fn user_by_id(&self, id: UserId) -> StoreFuture<'_, Option<User>>;
    fn list_users(&self) -> StoreFuture<'_, Vec<User>>;
    /// Disables (or re-enables) a user; disabling ends the user's sessions (after enabling,
    /// they log in again). Returns false when there is no such user.
    fn set_user_disabled(
        &self,
        username: String,
        disabled: bool,
        now: u64,
    ) -> StoreFuture<'_, bool>;

    fn create_enrol_code(
        &self,
        code_hash: String,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, ()>;
    /// Consumes a code and creates the device, atomically.
    fn enrol(
        &self,
        code_hash: String,
        device: NewDevice,
    ) -> StoreFuture<'_, Result<Device, EnrolRefusal>>;
    fn device_by_token(&self, token_hash: String) -> StoreFuture<'_, Option<Device>>;
    fn device(&self, id: DeviceId) -> StoreFuture<'_, Option<Device>>;
    fn list_devices(&self) -> StoreFuture<'_, Vec<Device>>;
    /// Returns false when there is no such device.
    fn revoke_device(&self, id: DeviceId, now: u64) -> StoreFuture<'_, bool>;
    /// Records that a device was seen (and its app version, when given).
    fn touch_device(
        &self,
        id: DeviceId,
        now: u64,
        app_version: Option<String>,
    ) -> StoreFuture<'_, ()>;

    /// Creates a session and records the login on the device, with the device's HLC at the
    /// login (`hlc`, clamped by [`crate::sync::login_hlc`]): the windows of a shared tablet's
    /// authors.
    fn create_session(
        &self,
        token_hash: String,
        user: UserId,
        device: DeviceId,
        now: u64,
        expires_at: u64,
        hlc: Option<Hlc>,
    ) -> StoreFuture<'_, ()>;
    fn session(&self, token_hash: String) -> StoreFuture<'_, Option<SessionInfo>>;
    /// Whether [`Storage::session_and_page`] and [`Storage::session_and_status`] read what
    /// they are asked with the session (else the caller does not guess: [`crate::checkin`]).
    fn reads_check_ins_at_once(&self) -> bool {
        false
    }
    /// [`Storage::session`] and, when `ask` is given, the page [`Storage::pull_for`] would
    /// read for it (a check-in's guess: [`crate::checkin`]). A backend reads both in one
    /// round trip where it can, and answers the page only when the session row names
    /// `ask.device` and `ask.scope`; the caller still judges the row (expiry, user, device)
    /// and uses the page only when the row is admitted and matches the guess whole. The
    /// default reads the session alone (no page: the caller reads it with
    /// [`Storage::pull_for`]).
    fn session_and_page(
        &self,
        token_hash: String,
        ask: Option<PageAsk>,
    ) -> StoreFuture<'_, (Option<SessionInfo>, Option<PullPage>)> {
        let _ = ask;
        Box::pin(async move { Ok((self.session(token_hash).await?, None)) })
    }
    /// [`Storage::session`] and, when `ask` is given, what [`Storage::status`] would answer
    /// for it: as [`Storage::session_and_page`], for a status check-in.
    fn session_and_status(
        &self,
        token_hash: String,
        ask: Option<StatusAsk>,
    ) -> StoreFuture<'_, (Option<SessionInfo>, Option<StatusInfo>)> {
        let _ = ask;
        Box::pin(async move { Ok((self.session(token_hash).await?, None)) })
    }
    /// Whether `user` has logged in on `device` before (the login limits trust such a pair).
    fn device_user_known(&self, device: DeviceId, user: UserId) -> StoreFuture<'_, bool>;

    /// Settles a batch in one transaction, committed before it returns.
    fn push(&self, ctx: Arc<PushContext>, changes: Vec<Change>) -> StoreFuture<'_, PushResult>;
    /// Changes with server sequence above `after` whose posyandu is at or below `scope`,
    /// quarantined ones left out (no byte limit: for tools and tests).
    fn pull(&self, scope: String, after: i64, limit: usize) -> StoreFuture<'_, PullPage>;
    /// [`Storage::pull`] for one device: the device's own changes (which it already holds)
    /// are left out and do not count towards `limit`, so a tablet neither downloads again
    /// what it pushed nor pages through it (log order is commit order, so a cursor at the
    /// last change returned misses nothing).
    /// The page is cut before its JSON passes `max_bytes` (it always holds at least one change
    /// unless that one alone is over `max_bytes`: such a change is skipped, see
    /// [`PullPage::skipped`]); quarantined changes are never served.
    fn pull_for(
        &self,
        device: DeviceId,
        scope: String,
        after: i64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, PullPage>;

    /// Quarantines (`on`) or releases the changes `target` names, logging the action with
    /// `reason`; returns the server sequences whose state changed.
    fn set_quarantine(
        &self,
        target: ChangeTarget,
        on: bool,
        reason: String,
        now: u64,
    ) -> StoreFuture<'_, Vec<i64>>;
    /// Changes of the log, newest first, as `filter` asks.
    fn list_changes(&self, filter: ChangeFilter) -> StoreFuture<'_, Vec<LoggedChange>>;
    /// `pull_pending` counts only other devices' changes: a tablet whose only news is its own
    /// pushes is up to date.
    fn status(&self, device: DeviceId, scope: String, after: i64) -> StoreFuture<'_, StatusInfo>;

    // Titip (docs/sync-protocol.md section 10).

    /// The server's titip key pair secret (64 bytes): the stored one, or else `fresh`, stored
    /// now (the first start; concurrent starts agree on the one stored first).
    fn titip_server_key(&self, fresh: Vec<u8>, now: u64) -> StoreFuture<'_, Vec<u8>>;
    /// Registers a device's titip public keys (unpadded base64url: `box`, `sign`).
    fn set_device_titip(&self, id: DeviceId, keys: TitipKeys) -> StoreFuture<'_, ()>;
    /// A device's registered titip public keys, if any.
    fn device_titip(&self, id: DeviceId) -> StoreFuture<'_, Option<TitipKeys>>;
    /// Records that a bundle of the device reached the server through a carrier.
    fn touch_relay(&self, id: DeviceId, now: u64) -> StoreFuture<'_, ()>;
    /// Keeps a refused bundle's report: the device it named (if readable), its carrier, why.
    fn record_titip_refusal(&self, refusal: TitipRefusal) -> StoreFuture<'_, ()>;
    /// The latest refusals, newest first.
    fn titip_refusals(&self, limit: usize) -> StoreFuture<'_, Vec<TitipRefusal>>;
}

/// A device's titip public keys as stored (unpadded base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitipKeys {
    pub box_key: String,
    pub sign: String,
}

/// A refused titip bundle, as reported to admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitipRefusal {
    pub at: u64,
    /// The device the bundle's header named, when it could be read.
    pub device: Option<String>,
    pub carrier: String,
    pub reason: String,
}

/// Opens the backend a database URL names: `postgres://` or `postgresql://` for PostgreSQL,
/// anything else is a SQLite file path (`sqlite://` prefix optional).
pub async fn open(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url)
            .to_string();
        let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&path))
            .await
            .map_err(|e| StorageError::Worker(e.to_string()))??;
        Ok(Arc::new(store))
    }
}

/// Computes the hierarchy closure `(ancestor, descendant)` including `(p, p)`, from the
/// parent links. Cycles and dangling parents are cut, never looped on.
pub fn closure(places: &[Place]) -> Vec<(String, String)> {
    use std::collections::HashMap;
    let parent: HashMap<&str, &str> = places
        .iter()
        .filter_map(|p| p.parent.as_deref().map(|q| (p.code.as_str(), q)))
        .collect();
    let mut out = Vec::new();
    for p in places {
        let mut cur = p.code.as_str();
        out.push((cur.to_string(), p.code.clone()));
        let mut depth = 0;
        while let Some(&up) = parent.get(cur) {
            depth += 1;
            if depth > 16 || up == p.code {
                break;
            }
            out.push((up.to_string(), p.code.clone()));
            cur = up;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Changes logged since the read tables' planner statistics were last refreshed: after
/// [`ANALYZE_AFTER`] more, the store refreshes them (`ANALYZE` on PostgreSQL, SQLite's
/// `ANALYZE` with a sample limit), as after a rebuild, so a bulk ingest does not leave the
/// planner with the statistics of a small database (docs/read-model.md).
#[derive(Debug, Default)]
pub struct AnalyzeDue(std::sync::atomic::AtomicU64);

/// Changes logged between two refreshes of the planner statistics.
pub const ANALYZE_AFTER: u64 = 200_000;

impl AnalyzeDue {
    /// Counts `n` logged changes; true (once) when a refresh is due.
    pub fn logged(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering;
        let before = self.0.fetch_add(n as u64, Ordering::Relaxed);
        if before < ANALYZE_AFTER && before + n as u64 >= ANALYZE_AFTER {
            self.0.store(0, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// A refresh was made (a rebuild's end).
    pub fn reset(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `JANGKAU_BENCH_WITHOUT_READ_MODEL=1`: pushes do not write the read model. **Only for
/// measuring** what the read model costs a push (`server/benches/sync_load.rs`); a server
/// started so has a read model behind its log, which the next start without it rebuilds
/// (`readmodel::ensure_current`).
pub fn without_read_model() -> bool {
    let off = std::env::var("JANGKAU_BENCH_WITHOUT_READ_MODEL").is_ok_and(|v| v == "1");
    if off {
        tracing::warn!(
            "JANGKAU_BENCH_WITHOUT_READ_MODEL=1: pushes skip the read model (for benchmarks only)"
        );
    }
    off
}

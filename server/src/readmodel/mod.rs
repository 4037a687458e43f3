//! The server's read model (docs/read-model.md): every accepted change of the log merged,
//! with the tablets' own rules (`sync_protocol::merge`), into read tables that mirror the
//! device's: persons, households, pregnancies, referrals, facts (sessions among them) with
//! their supersession, conflicts, and each device's sync state.
//!
//! - **When**: by a follower after the push's commit (the push is answered at its commit).
//!   On PostgreSQL a task per server process ([`postgres::Follower`]) merges the log after
//!   the cursor in `sseq` order under an advisory lock (one writer across processes); on
//!   SQLite right after the push's commit, before the single writer takes any other write
//!   ([`sqlite::merge_pushed`]). On both, a read of the read model first waits until every
//!   push committed before it began is merged, so nobody reads it stale. A read never sees
//!   half a batch.
//! - **Rebuild**: [`catch_up`] merges the log after the stored cursor page by page, each page
//!   in one transaction with the cursor (`jangkau-server reindex`, and every `serve` start).
//! - **Quarantine**: a quarantined change is not merged; quarantining or releasing one
//!   re-merges its records from the log.
//!
//! Layout: [`merge`] (backend-neutral merge of a batch into rows), [`tables`] (the tables and
//! their SQL), [`sqlite`] and [`postgres`] (loading and writing), [`reports`] (the answers of
//! `/v1/records` and `/v1/reports`), [`cache`] (report answers kept until the data
//! changes), [`parts`] (their per-posyandu parts, recomputed only where a change touched),
//! [`monthly`] (SKDN and F1 by `records`), [`health`] (a person's growth and
//! pregnancy by `records`), [`nutrition`] (nutrition status and follow-up by `records`),
//! [`pregnancies`] (K1/K4/K6, KEK, anaemia, expected deliveries), [`immunisation`] (coverage
//! and IDL by the immunisation card), [`overdue`] (children with doses overdue, by the same card),
//! [`duplicates`] (likely duplicate persons by `records::duplicates`), [`review`] (conflicts
//! and duplicates waiting for review, per posyandu).

pub mod cache;
pub mod duplicates;
pub mod health;
pub mod immunisation;
pub mod merge;
pub mod monthly;
pub mod notes;
pub mod nutrition;
pub mod overdue;
pub mod parts;
pub mod postgres;
pub mod pregnancies;
pub mod reports;
pub mod review;
pub mod routes;
pub mod sqlite;
pub mod tables;
pub mod visits;
pub mod warm;

use crate::storage::{StorageError, StoreFuture};
use sync_protocol::DeviceId;

/// Where the read model stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadModelState {
    /// Every change of the log up to this server sequence (not quarantined) is merged.
    pub applied_through: i64,
    /// The last server sequence of the log.
    pub log_end: i64,
    /// A rebuild started and has not reached the end of the log.
    pub rebuilding: bool,
}

impl ReadModelState {
    /// Whether reads must wait for a [`catch_up`].
    pub fn behind(&self) -> bool {
        self.rebuilding || self.applied_through < self.log_end
    }
}

/// What one step of a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    /// Changes merged in this step.
    pub merged: usize,
    /// Changes skipped (unreadable, or of a record known with another kind).
    pub skipped: usize,
    /// The cursor after the step.
    pub cursor: i64,
    pub log_end: i64,
    /// The cursor reached the end of the log.
    pub done: bool,
}

/// A query parameter of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// A cell of a read's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            Cell::Text(s) => s.parse().ok(),
            Cell::Null => None,
        }
    }
}

/// Column `i` of a read row as owned text (`None`: absent or not text).
pub(crate) fn text(row: &[Cell], i: usize) -> Option<String> {
    row.get(i).and_then(Cell::text).map(str::to_string)
}

/// What a device said of itself, besides what `devices` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncNote {
    /// At `status`: the highest sequence number in its outbox.
    Status { last_seq: u64 },
    /// A pull page was served.
    Pull,
}

/// The read model's storage: implemented by both backends (a supertrait of
/// [`crate::Storage`]).
pub trait ReadModel {
    fn read_model_state(&self) -> StoreFuture<'_, ReadModelState>;
    /// Starts a rebuild from the first change: empties the read tables (not the device sync
    /// state, which is not in the log) and puts the cursor at 0.
    fn read_model_reset(&self) -> StoreFuture<'_, ()>;
    /// Merges up to `limit` changes after the cursor, and moves the cursor, in one
    /// transaction; a step that finds none ends the rebuild.
    fn read_model_step(&self, limit: usize) -> StoreFuture<'_, Step>;
    /// Runs a read of the read tables: `sql` in SQLite's dialect with `?N` parameters (the
    /// PostgreSQL backend rewrites them), every row as cells.
    fn read_rows(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, Vec<Vec<Cell>>>;
    /// Records a device's status report or pull (`now` in ms): kept in memory and written
    /// with the other devices' notes in one transaction at most [`notes::FLUSH_AFTER`] later
    /// (the future of the note that schedules the write resolves after it; see [`notes`]).
    fn note_device_sync(&self, device: DeviceId, note: SyncNote, now: u64) -> StoreFuture<'_, ()>;
    /// Keeps the health-report questions asked, `(question, asked_at ms)`, in
    /// `report_questions` (the later `asked_at` wins), and drops those asked before `before`
    /// (`warm.rs`).
    fn note_report_questions(
        &self,
        questions: Vec<(String, i64)>,
        before: i64,
    ) -> StoreFuture<'_, ()>;
    /// Writes every device sync note waiting in memory (before a read of the tablets'
    /// report, and at shutdown); returns how many devices' notes were written.
    fn flush_device_sync(&self) -> StoreFuture<'_, usize>;
}

/// Changes merged per rebuild transaction.
pub const STEP_CHANGES: usize = 10_000;

/// Merges the log after the cursor until the end (`fresh`: from the first change, after
/// emptying the read tables). `progress` is told after every step. Resumable: each step
/// commits its cursor, so an interrupted run goes on where it stopped.
pub async fn catch_up(
    store: &dyn crate::Storage,
    fresh: bool,
    limit: usize,
    mut progress: impl FnMut(&Step),
) -> Result<Step, StorageError> {
    if fresh {
        store.read_model_reset().await?;
    }
    let mut total = Step::default();
    loop {
        let step = store.read_model_step(limit.max(1)).await?;
        total.merged += step.merged;
        total.skipped += step.skipped;
        total.cursor = step.cursor;
        total.log_end = step.log_end;
        total.done = step.done;
        progress(&step);
        if step.done {
            return Ok(total);
        }
    }
}

/// `jangkau-server reindex`: rebuilds the read model from the log. A rebuild cut short (a
/// crash, ^C) is resumed from its stored cursor unless `fresh`; otherwise a new rebuild
/// starts from the first change. Returns whether it resumed, and the totals.
pub async fn reindex(
    store: &dyn crate::Storage,
    fresh: bool,
    limit: usize,
    progress: impl FnMut(&Step),
) -> Result<(bool, Step), StorageError> {
    let state = store.read_model_state().await?;
    let resume = state.rebuilding && !fresh;
    let done = catch_up(store, !resume, limit, progress).await?;
    Ok((resume, done))
}

/// Brings a behind read model up to the log before a server answers (a log without a read
/// model, or a rebuild cut short). Logs its progress.
pub async fn ensure_current(store: &dyn crate::Storage) -> Result<(), StorageError> {
    let state = store.read_model_state().await?;
    if !state.behind() {
        return Ok(());
    }
    tracing::warn!(
        applied_through = state.applied_through,
        log_end = state.log_end,
        "the read model is behind the log: building it before answering"
    );
    let started = std::time::Instant::now();
    let done = catch_up(store, false, STEP_CHANGES, |s| {
        tracing::info!(
            cursor = s.cursor,
            log_end = s.log_end,
            "read model: building"
        );
    })
    .await?;
    tracing::info!(
        merged = done.merged,
        skipped = done.skipped,
        secs = started.elapsed().as_secs_f64(),
        "read model built"
    );
    Ok(())
}

//! The read model on PostgreSQL: merged by a follower after the push's commit ([`Follower`],
//! docs/read-model.md); one query loads a batch's merge states, one statement per table
//! writes its rows (arrays through `UNNEST`; plain inserts for records with no stored state,
//! upserts for the others), so a step costs a few round trips, not a few per change.

use super::merge::{
    FactRow, Loaded, MERGE_ROWS, MergeRow, Merger, Writes, decode_state, fact_from_row,
    is_one_change, names_merge, settle_merges,
};
use super::tables::{Table, Val, pg_placeholders};
use super::{Cell, Param, ReadModel, ReadModelState, Step, SyncNote};
use crate::storage::postgres::PgStore;
use crate::storage::{StorageError, StoreFuture};
use deadpool_postgres::Transaction;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use sync_protocol::merge::Record;
use sync_protocol::{Change, DeviceId, RecordId};
use tokio::sync::Notify;
use tokio_postgres::types::{ToSql, Type};

fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("read model: {e}"))
}

/// The stored merge states of `ids` in one query: a `merged_records` row, else a fact's
/// `facts` row; and the states stored as a change's payload, with it
/// ([`Merger::stored_as_payload`]).
#[allow(clippy::type_complexity)]
async fn load_states(
    tx: &Transaction<'_>,
    ids: &BTreeSet<RecordId>,
) -> Result<(Vec<(RecordId, Record, Loaded)>, Vec<(RecordId, String)>), StorageError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
    let mut payloads = Vec::new();
    let load = tx
        .prepare_cached(
            // Two index lookups by `= ANY` (a join on `UNNEST` may be planned as a scan).
            "SELECT id, kind, state_json, NULL, NULL, NULL, NULL, NULL, NULL
             FROM merged_records WHERE id = ANY($1)
             UNION ALL
             SELECT f.id, NULL, NULL, f.kind, f.body_json, f.made_hlc, f.made_device, f.author,
                    f.supersedes
             FROM facts f WHERE f.id = ANY($1)
                 AND NOT EXISTS (SELECT 1 FROM merged_records m WHERE m.id = f.id)",
        )
        .await?;
    for r in tx.query(&load, &[&keys]).await? {
        let id: String = r.try_get(0)?;
        let id: RecordId = id.parse().map_err(corrupt)?;
        let merged: Option<String> = r.try_get(1)?;
        if let Some(kind) = merged {
            let json: String = r.try_get(2)?;
            out.push((
                id,
                decode_state(&kind, &json).map_err(corrupt)?,
                Loaded::Merged,
            ));
            if is_one_change(&json) {
                payloads.push((id, json));
            }
        } else {
            let row = FactRow {
                kind: r.try_get(3)?,
                body_json: r.try_get(4)?,
                made_hlc: r.try_get(5)?,
                made_device: r.try_get(6)?,
                author: r.try_get(7)?,
                supersedes: r.try_get(8)?,
            };
            out.push((id, fact_from_row(&row).map_err(corrupt)?, Loaded::FactsRow));
        }
    }
    Ok((out, payloads))
}

/// One array per column of `rows` (the text borrowed from them).
fn columns<'a>(table: Table, rows: &[&'a Vec<Val>]) -> Vec<Box<dyn ToSql + Sync + Send + 'a>> {
    table
        .columns()
        .iter()
        .enumerate()
        .map(|(i, (_, int))| -> Box<dyn ToSql + Sync + Send + 'a> {
            if *int {
                Box::new(
                    rows.iter()
                        .map(|r| match r.get(i) {
                            Some(Val::Int(n)) => *n,
                            _ => 0,
                        })
                        .collect::<Vec<i64>>(),
                )
            } else {
                Box::new(
                    rows.iter()
                        .map(|r| match r.get(i) {
                            Some(Val::Text(s)) => s.as_deref(),
                            _ => None,
                        })
                        .collect::<Vec<Option<&str>>>(),
                )
            }
        })
        .collect()
}

/// Merges logged `changes` (in order, each with its payload as the log holds it,
/// [`Merger::apply_logged`]) into the read tables. `fresh`: records whose first change in
/// the log is among `changes` (known from the push that logged it, [`Handed::first`]): they
/// have no merge state stored, so they are not looked up.
pub(crate) async fn merge_changes(
    tx: &Transaction<'_>,
    changes: &[(Change, String)],
    fresh: &HashSet<RecordId>,
) -> Result<usize, StorageError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let ids: BTreeSet<RecordId> = changes
        .iter()
        .map(|(c, _)| c.id)
        .filter(|id| !fresh.contains(id))
        .collect();
    let (loaded, payloads) = if ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        load_states(tx, &ids).await?
    };
    let mut merger = Merger::new(loaded);
    for (id, payload) in payloads {
        merger.stored_as_payload(id, payload);
    }
    for (c, payload) in changes {
        merger.apply_logged(c, payload);
    }
    let writes = merger
        .writes()
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    if !writes.cleared.is_empty() {
        tx.execute(
            "DELETE FROM conflicts WHERE record_id = ANY($1)",
            &[&writes.cleared],
        )
        .await?;
    }
    write_rows(tx, &writes).await?;
    if changes.iter().any(|(c, _)| names_merge(c)) {
        settle(tx).await?;
    }
    Ok(merger.skipped)
}

/// Writes the rows of every table, one `UNNEST` statement per table (two when it has rows of
/// records new to the read model, [`Writes::new`]: those are plain inserts, the others
/// replace the stored row), the statements sent together (one round trip; the read tables
/// do not refer to each other).
async fn write_rows(tx: &Transaction<'_>, writes: &Writes) -> Result<(), StorageError> {
    let write = |table: Table, new: bool| async move {
        let Some(rows) = writes.rows.get(&table) else {
            return Ok::<u64, StorageError>(0);
        };
        // Conflict rows are only ever added (`ON CONFLICT DO NOTHING`).
        let is_new = |r: &Vec<Val>| {
            table != Table::Conflicts
                && matches!(r.first(), Some(Val::Text(Some(id))) if writes.new.contains(id))
        };
        let rows: Vec<&Vec<Val>> = rows.iter().filter(|r| is_new(r) == new).collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let cols = columns(table, &rows);
        let refs: Vec<&(dyn ToSql + Sync)> = cols
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let sql = if new {
            table.insert_postgres()
        } else {
            table.upsert_postgres()
        };
        let statement = tx.prepare_cached(&sql).await?;
        Ok(tx.execute(&statement, &refs).await?)
    };
    // Every table (a table added to `Table::ALL` breaks this destructuring).
    let [a, b, c, d, e, f, g] = Table::ALL;
    tokio::try_join!(
        write(a, true),
        write(b, true),
        write(c, true),
        write(d, true),
        write(e, true),
        write(f, true),
        write(a, false),
        write(b, false),
        write(c, false),
        write(d, false),
        write(e, false),
        write(f, false),
        write(g, false),
    )?;
    Ok(())
}

/// Advisory lock (with key 0) held, until its transaction ends, by whoever writes the read
/// model: the follower's steps ([`follow_step`]), a rebuild's steps and its reset, and the
/// re-merge after a quarantine or release ([`remerge_sseqs`]). One writer at a time, across
/// server processes: a writer reads the cursor and the merge states under it, so no two
/// transactions ever write one record's state from stale copies, the cursor only moves
/// forward over what was merged, and the merges in effect are settled one batch after the
/// other. Pushes never take it (they do not touch the read model).
pub const LOCK_FOLLOW: i32 = 0x4a4b_0005;

/// Takes [`LOCK_FOLLOW`] (the transaction's first lock in every writer of the read model).
async fn lock_follow(tx: &Transaction<'_>) -> Result<(), StorageError> {
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1, 0)")
        .await?;
    tx.execute(&lock, &[&LOCK_FOLLOW]).await?;
    Ok(())
}

/// Sets `deleted` of the `person_merge` facts by the merges in effect
/// ([`super::merge::settle_merges`]); the caller holds [`LOCK_FOLLOW`].
async fn settle(tx: &Transaction<'_>) -> Result<(), StorageError> {
    let mut rows = Vec::new();
    for r in tx.query(MERGE_ROWS, &[]).await? {
        rows.push(MergeRow {
            id: r.try_get(0)?,
            kept: r.try_get(1)?,
            merged: r.try_get(2)?,
            made_hlc: r.try_get(3)?,
            made_device: r.try_get(4)?,
            deleted: r.try_get::<_, i64>(5)? != 0,
            state_json: r.try_get(6)?,
        });
    }
    let changed = settle_merges(&rows).map_err(corrupt)?;
    if changed.is_empty() {
        return Ok(());
    }
    let (ids, deleted): (Vec<String>, Vec<i64>) = changed
        .into_iter()
        .map(|(id, d)| (id, i64::from(d)))
        .unzip();
    tx.execute(
        "UPDATE facts SET deleted = t.d FROM UNNEST($1::text[], $2::int8[]) AS t(i, d)
         WHERE facts.id = t.i",
        &[&ids, &deleted],
    )
    .await?;
    Ok(())
}

/// Changes merged per follower transaction (a follower that fell behind catches up in
/// steps of this many).
const FOLLOW_CHANGES: usize = 10_000;
/// How long a read waits for the follower before it fails (the follower retries a failed
/// step meanwhile).
const READ_WAIT: Duration = Duration::from_secs(60);
/// A failed follower step is tried again this many times (waiting 100 ms, 200 ms, … up to
/// 1.6 s between tries) before the follower stops until the next push or read wakes it.
const FOLLOW_TRIES: u32 = 8;

/// The read model's follower of one server process (docs/read-model.md, "When it is
/// updated"): after a push commits (and is answered) the pushing process wakes its
/// follower ([`kick`]), a task that merges the log after the cursor
/// (`read_model_state.applied_through`) in `sseq` order, in steps ([`follow_step`]) under
/// [`LOCK_FOLLOW`], until the cursor reaches the end of the log. A read of the read model
/// first waits until the cursor has passed every change committed before the read began
/// ([`wait_merged`]).
#[derive(Debug, Default)]
pub struct Follower {
    /// A task is running (at most one per process).
    running: AtomicBool,
    /// A push or a read asked for a catch-up since the task last looked.
    pending: AtomicBool,
    /// Told after every step, merged or failed: waiting reads look at the cursor again.
    stepped: Notify,
    /// Steps that failed, since the store was made (logs and tests).
    failures: AtomicU64,
    /// The changes this process's pushes logged, by `sseq`, not yet merged ([`hand`]).
    handed: Mutex<BTreeMap<i64, Handed>>,
    /// Changes a step took from [`Follower::handed`] and read from the log, since the store
    /// was made (tests).
    from_memory: AtomicU64,
    from_log: AtomicU64,
}

impl Follower {
    /// Follower steps that failed since the store was made.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Changes the follower's steps merged as handed over by this process's pushes, and
    /// changes they read back from the log, since the store was made.
    pub fn sources(&self) -> (u64, u64) {
        (
            self.from_memory.load(Ordering::Relaxed),
            self.from_log.load(Ordering::Relaxed),
        )
    }

    fn handed(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, Handed>> {
        // A panic while the map was held leaves it whole (inserts and removals only).
        self.handed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops what the cursor has passed; takes the changes of `sseqs` that are held (`None`
    /// for the others).
    fn take(&self, cursor: i64, sseqs: &[i64]) -> Vec<Option<Handed>> {
        let mut held = self.handed();
        *held = held.split_off(&cursor.saturating_add(1));
        sseqs.iter().map(|s| held.remove(s)).collect()
    }
}

/// A change a push of this process logged, handed to its follower so the follower need not
/// read it back from the log and decode it again ([`hand`]).
#[derive(Debug)]
pub(crate) struct Handed {
    pub change: Change,
    /// Its payload as the push logged it ([`Merger::apply_logged`]).
    pub payload: String,
    /// The change's record was new to the server in its push (the push inserted its
    /// `records` row) and this is its first change there: no change of the record is before
    /// it in the log, so a step that merges it finds no merge state stored, does not look it
    /// up, and inserts its rows ([`Writes::new`]). A quarantine's re-merge may have stored
    /// one of this change and later ones meanwhile: the insert fails on the taken key, and
    /// the step is merged again from the log ([`follow_until_current`]).
    pub first: bool,
}

/// Changes a process holds for its follower at most; past it the oldest are dropped (the
/// follower reads them from the log).
const MAX_HANDED: usize = 2 * FOLLOW_CHANGES;

/// Hands the changes a push logged (`sseq` → change) to this process's follower, before the
/// push commits (so a step that sees the commit finds them). A step merges a handed change
/// only when the log holds it, not quarantined, after the cursor (the step lists those
/// `sseq`s under [`LOCK_FOLLOW`]), and reads every change it lacks from the log: a push that
/// rolled back, another process's push, a change dropped past [`MAX_HANDED`] or lost to a
/// failed step cost a read, never a wrong merge.
pub(crate) fn hand(store: &PgStore, changes: impl IntoIterator<Item = (i64, Handed)>) {
    let mut held = store.follower().handed();
    held.extend(changes);
    while held.len() > MAX_HANDED {
        held.pop_first();
    }
}

/// Wakes this process's follower (starts its task when none runs). Cheap: a push calls it
/// after every commit that logged changes.
pub(crate) fn kick(store: &PgStore) {
    let f = store.follower();
    f.pending.store(true, Ordering::SeqCst);
    if f.running
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        tokio::spawn(follow(store.clone()));
    }
}

/// The follower's task: catches up, tries a failed step again (nothing of a failed step was
/// written: its transaction holds the rows and the cursor together), and ends when nothing
/// more was asked for.
async fn follow(store: PgStore) {
    let f = store.follower().clone();
    let mut tries = 0u32;
    loop {
        f.pending.store(false, Ordering::SeqCst);
        match follow_until_current(&store).await {
            Ok(()) => tries = 0,
            Err(e) => {
                tries += 1;
                f.failures.fetch_add(1, Ordering::Relaxed);
                f.stepped.notify_waiters();
                if tries < FOLLOW_TRIES {
                    tracing::warn!(error = %e, tries, "read model: the follower's step failed; trying again");
                    tokio::time::sleep(Duration::from_millis(50 << tries.min(5))).await;
                    f.pending.store(true, Ordering::SeqCst);
                } else {
                    tracing::error!(error = %e, "read model: the follower's step failed again; the next push or read tries again");
                    tries = 0;
                }
            }
        }
        f.running.store(false, Ordering::SeqCst);
        if !f.pending.load(Ordering::SeqCst)
            || f.running
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            return;
        }
    }
}

/// Follower steps until the cursor is at the end of the log (or a rebuild is in progress:
/// that is `reindex`'s, or the next start's, to finish).
async fn follow_until_current(store: &PgStore) -> Result<(), StorageError> {
    loop {
        let step = match follow_step(store, FOLLOW_CHANGES, false).await {
            // A record handed over as new to the read model ([`Handed::first`]) has rows
            // already: a quarantine's re-merge wrote them between the push and this step.
            // Nothing of the step was written; merged again at once, the changes it took
            // from the hand-off are read from the log and every record is looked up.
            Err(e) if is_taken_key(&e) => {
                tracing::debug!(error = %e, "read model: a record handed over as new was merged meanwhile; the step is merged again from the log");
                follow_step(store, FOLLOW_CHANGES, false).await?
            }
            step => step?,
        };
        store.follower().stepped.notify_waiters();
        if step.done {
            return Ok(());
        }
    }
}

/// Whether `e` is PostgreSQL refusing a row whose key is taken, or refusing a statement sent
/// beside that one in the step's transaction because the transaction had already failed:
/// `write_rows` sends its statements together and `try_join!` answers with the first error
/// it polls, not necessarily the one the server raised first.
fn is_taken_key(e: &StorageError) -> bool {
    use tokio_postgres::error::SqlState;
    matches!(e, StorageError::Postgres(e)
        if matches!(e.code(), Some(c) if *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::IN_FAILED_SQL_TRANSACTION))
}

/// One step of a writer of the read model, in one transaction under [`LOCK_FOLLOW`]: reads
/// the cursor and the log's end, merges the non-quarantined changes after the cursor up to
/// that end (at most `limit`, in `sseq` order) and moves the cursor over them (over the
/// whole rest of the log when fewer than `limit` were left: quarantined changes are not
/// merged). The follower (`rebuild` false) leaves a rebuild in progress alone and is done
/// when the cursor is at the end; a rebuild step (`rebuild` true) ends the rebuild when it
/// finds nothing left. Its commit does not wait for the disk: a step lost to a crash is
/// merged again from the stored cursor (merging is idempotent).
async fn follow_step(store: &PgStore, limit: usize, rebuild: bool) -> Result<Step, StorageError> {
    let mut c = store.client().await?;
    let tx = c.transaction().await?;
    let lim = i64::try_from(limit).unwrap_or(i64::MAX);
    // The follower of a process whose pushes handed it changes lists the `sseq`s to merge
    // (no payloads) with the state, in one statement (one snapshot).
    let listing = !rebuild && !store.follower().handed().is_empty();
    let (lock, look) = tokio::try_join!(
        tx.prepare_cached("SELECT pg_advisory_xact_lock($1, 0)"),
        tx.prepare_cached(STEP_STATE),
    )?;
    let look_args: [&(dyn ToSql + Sync); 2] = [&listing, &lim];
    let (_, _, r) = tokio::try_join!(
        tx.batch_execute("SET LOCAL synchronous_commit = off"),
        tx.execute(&lock, &[&LOCK_FOLLOW]),
        tx.query_one(&look, &look_args),
    )?;
    let st = ReadModelState {
        applied_through: r.try_get(0)?,
        rebuilding: r.try_get::<_, i64>(1)? != 0,
        log_end: r.try_get(2)?,
    };
    let listed: Option<Vec<i64>> = r.try_get(3)?;
    let now = crate::model::now_ms() as i64;
    if !rebuild && (st.rebuilding || st.applied_through >= st.log_end) {
        tx.commit().await?;
        store.follower().take(st.applied_through, &[]);
        return Ok(Step {
            cursor: st.applied_through,
            log_end: st.log_end,
            done: true,
            ..Step::default()
        });
    }
    let batch = match listed {
        Some(sseqs) => from_hand_off(store, &tx, st.applied_through, sseqs).await?,
        None => {
            let batch = from_log(&tx, st.applied_through, st.log_end, lim).await?;
            store
                .follower()
                .from_log
                .fetch_add(batch.read as u64, Ordering::Relaxed);
            batch
        }
    };
    if batch.read == 0 && rebuild {
        // Nothing after the cursor: the rebuild (or catch-up) is done.
        let end = st.log_end.max(st.applied_through);
        tx.execute(
            "UPDATE read_model_state SET applied_through = $1, rebuilding = 0, updated_at = $2 WHERE id = 1",
            &[&end, &now],
        )
        .await?;
        tx.commit().await?;
        analyze(store).await?;
        return Ok(Step {
            cursor: end,
            log_end: st.log_end,
            done: true,
            ..Step::default()
        });
    }
    let full = batch.read >= limit;
    let cursor = if full {
        batch.last
    } else {
        st.log_end.max(st.applied_through)
    };
    // The cursor moves in the same transaction, sent with the merge's first statement.
    let advance = async {
        if rebuild {
            tx.execute(
                "UPDATE read_model_state SET applied_through = $1, updated_at = $2 WHERE id = 1",
                &[&cursor, &now],
            )
            .await?;
        } else {
            // Not `updated_at`: it marks a rebuild (the report parts are all dropped when it
            // moves, `cache::Generation::structure`); the follower only moves the cursor.
            let advance = tx
                .prepare_cached("UPDATE read_model_state SET applied_through = $1 WHERE id = 1")
                .await?;
            tx.execute(&advance, &[&cursor]).await?;
        }
        Ok::<(), StorageError>(())
    };
    let (not_merged, ()) =
        tokio::try_join!(merge_changes(&tx, &batch.changes, &batch.fresh), advance)?;
    tx.commit().await?;
    Ok(Step {
        merged: batch.changes.len().saturating_sub(not_merged),
        skipped: not_merged + batch.unreadable,
        cursor,
        log_end: st.log_end,
        done: !rebuild && !full,
    })
}

/// Under [`LOCK_FOLLOW`], in one snapshot: the cursor, the rebuild flag, the log's end and,
/// when `$1`, the `sseq`s after the cursor up to that end that are not quarantined (at most
/// `$2`, in order).
const STEP_STATE: &str = "WITH st AS (
         SELECT applied_through AS a, rebuilding AS r,
                (SELECT COALESCE(MAX(sseq), 0) FROM changes)::int8 AS e
         FROM read_model_state WHERE id = 1)
     SELECT a, r, e,
            CASE WHEN $1 AND r = 0 THEN ARRAY(SELECT sseq FROM changes
                 WHERE sseq > a AND sseq <= e AND quarantined_at IS NULL
                 ORDER BY sseq LIMIT $2) END
     FROM st";

/// The changes a step merges, in `sseq` order.
#[derive(Default)]
struct StepBatch {
    /// Each with its logged payload.
    changes: Vec<(Change, String)>,
    /// Records whose first change in the log is in `changes` ([`Handed::first`]).
    fresh: HashSet<RecordId>,
    /// Log rows read (merged or unreadable), and the last one's `sseq`.
    read: usize,
    last: i64,
    unreadable: usize,
}

impl StepBatch {
    fn decode(&mut self, sseq: i64, payload: &str) {
        match serde_json::from_str::<Change>(payload) {
            Ok(c) => self.changes.push((c, payload.to_string())),
            Err(e) => {
                tracing::warn!(sseq, error = %e, "read model: a logged change is unreadable");
                self.unreadable += 1;
            }
        }
    }
}

/// The non-quarantined changes after `cursor` up to `end`, at most `limit`, read from the log.
async fn from_log(
    tx: &Transaction<'_>,
    cursor: i64,
    end: i64,
    limit: i64,
) -> Result<StepBatch, StorageError> {
    let read = tx
        .prepare_cached(
            "SELECT sseq, payload FROM changes
             WHERE sseq > $1 AND sseq <= $2 AND quarantined_at IS NULL
             ORDER BY sseq LIMIT $3",
        )
        .await?;
    let rows = tx.query(&read, &[&cursor, &end, &limit]).await?;
    let mut batch = StepBatch {
        changes: Vec::with_capacity(rows.len()),
        read: rows.len(),
        last: cursor,
        ..StepBatch::default()
    };
    for r in &rows {
        let sseq: i64 = r.try_get(0)?;
        batch.last = sseq;
        batch.decode(sseq, r.try_get(1)?);
    }
    Ok(batch)
}

/// The changes of `sseqs` (listed under the lock: in the log, after `cursor`, not
/// quarantined), as this process's pushes handed them over ([`hand`]); the ones not handed
/// over are read from the log.
async fn from_hand_off(
    store: &PgStore,
    tx: &Transaction<'_>,
    cursor: i64,
    sseqs: Vec<i64>,
) -> Result<StepBatch, StorageError> {
    let f = store.follower();
    let held = f.take(cursor, &sseqs);
    let missing: Vec<i64> = sseqs
        .iter()
        .zip(&held)
        .filter(|(_, h)| h.is_none())
        .map(|(s, _)| *s)
        .collect();
    let mut read: HashMap<i64, String> = HashMap::with_capacity(missing.len());
    if !missing.is_empty() {
        let q = tx
            .prepare_cached("SELECT sseq, payload FROM changes WHERE sseq = ANY($1)")
            .await?;
        for r in tx.query(&q, &[&missing]).await? {
            read.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    f.from_memory
        .fetch_add((sseqs.len() - missing.len()) as u64, Ordering::Relaxed);
    f.from_log
        .fetch_add(missing.len() as u64, Ordering::Relaxed);
    let mut batch = StepBatch {
        changes: Vec::with_capacity(sseqs.len()),
        read: sseqs.len(),
        last: sseqs.last().copied().unwrap_or(cursor),
        ..StepBatch::default()
    };
    for (sseq, h) in sseqs.into_iter().zip(held) {
        match h {
            Some(h) => {
                if h.first {
                    batch.fresh.insert(h.change.id);
                }
                batch.changes.push((h.change, h.payload));
            }
            None => match read.get(&sseq) {
                Some(p) => batch.decode(sseq, p),
                // Listed under the lock in this transaction's step: only a change deleted
                // from the log since (never done) is missing.
                None => batch.unreadable += 1,
            },
        }
    }
    Ok(batch)
}

/// Before a read of the read model: waits until the follower has merged every change
/// committed before the read began (the cursor at or past the log's end read first), so
/// whoever was answered a push reads it. Nothing to wait for during a rebuild (the read
/// sees the rebuild so far, as before), nor when pushes skip the read model (benchmarks).
/// Costs one query when the read model is current; otherwise wakes this process's follower
/// (another process's may have stopped) and looks again after each of its steps.
/// A waiting read holds no connection of the pool (the follower needs one).
pub(crate) async fn wait_merged(store: &PgStore) -> Result<(), StorageError> {
    if store.skips_read_model() {
        return Ok(());
    }
    let f = store.follower().clone();
    let deadline = Instant::now() + READ_WAIT;
    let mut target = None;
    loop {
        let stepped = f.stepped.notified();
        tokio::pin!(stepped);
        stepped.as_mut().enable();
        let r = {
            let c = store.client().await?;
            let look = c
                .prepare_cached(
                    "SELECT (SELECT COALESCE(MAX(sseq), 0) FROM changes)::int8, applied_through,
                            rebuilding
                     FROM read_model_state WHERE id = 1",
                )
                .await?;
            c.query_one(&look, &[]).await?
        };
        let end: i64 = r.try_get(0)?;
        let applied: i64 = r.try_get(1)?;
        let rebuilding: i64 = r.try_get(2)?;
        let target = *target.get_or_insert(end);
        if rebuilding != 0 || applied >= target {
            return Ok(());
        }
        kick(store);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(StorageError::Worker(format!(
                "the read model is behind the log (merged through sseq {applied}, the read needs {target}); its follower is failing"
            )));
        }
        let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), stepped).await;
    }
}

/// After a quarantine or release of `sseqs` (in the same transaction): their records
/// merged again from the log's changes that are not quarantined, under [`LOCK_FOLLOW`]. A
/// change after the follower's cursor is merged here and again by the follower: merging is
/// idempotent.
pub(crate) async fn remerge_sseqs(tx: &Transaction<'_>, sseqs: &[i64]) -> Result<(), StorageError> {
    lock_follow(tx).await?;
    let mut ids = BTreeSet::new();
    let mut merges = false;
    for r in tx
        .query(
            "SELECT payload FROM changes WHERE sseq = ANY($1)",
            &[&sseqs.to_vec()],
        )
        .await?
    {
        let p: String = r.try_get(0)?;
        if let Ok(c) = serde_json::from_str::<Change>(&p) {
            merges |= names_merge(&c);
            ids.insert(c.id);
        }
    }
    for id in ids {
        let idt = id.to_string();
        for t in Table::ALL {
            let key = if t == Table::Conflicts {
                "record_id"
            } else {
                "id"
            };
            tx.execute(
                &format!("DELETE FROM {} WHERE {key} = $1", t.name()),
                &[&idt],
            )
            .await?;
        }
        let head = format!("{{\"id\":\"{id}\"");
        let mut changes = Vec::new();
        for r in tx
            .query(
                "SELECT payload FROM changes WHERE substr(payload, 1, 44) = $1
                 AND quarantined_at IS NULL ORDER BY sseq",
                &[&head],
            )
            .await?
        {
            let p: String = r.try_get(0)?;
            if let Ok(c) = serde_json::from_str::<Change>(&p) {
                changes.push((c, p));
            }
        }
        merge_changes(tx, &changes, &HashSet::new()).await?;
    }
    // A merge quarantined (no change of it left to merge) may let another take effect.
    if merges {
        settle(tx).await?;
    }
    Ok(())
}

/// Refreshes the planner statistics of the read tables and the log (after a rebuild, and
/// after every [`crate::storage::ANALYZE_AFTER`] changes pushed): stale statistics of a
/// small database made the kabupaten reports 60 times slower (docs/BENCHMARKS.md).
pub(crate) async fn analyze(store: &PgStore) -> Result<(), StorageError> {
    let c = store.client().await?;
    let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    c.batch_execute(&format!("ANALYZE changes, records, {}", tables.join(", ")))
        .await?;
    Ok(())
}

async fn state(c: &Transaction<'_>) -> Result<ReadModelState, StorageError> {
    let r = c
        .query_one(
            "SELECT applied_through, rebuilding, (SELECT COALESCE(MAX(sseq), 0) FROM changes)
             FROM read_model_state WHERE id = 1",
            &[],
        )
        .await?;
    Ok(ReadModelState {
        applied_through: r.try_get(0)?,
        rebuilding: r.try_get::<_, i64>(1)? != 0,
        log_end: r.try_get(2)?,
    })
}

fn cell(r: &tokio_postgres::Row, i: usize) -> Result<Cell, StorageError> {
    let ty = r.columns()[i].type_().clone();
    Ok(if ty == Type::INT8 {
        r.try_get::<_, Option<i64>>(i)?
            .map_or(Cell::Null, Cell::Int)
    } else if ty == Type::INT4 {
        r.try_get::<_, Option<i32>>(i)?
            .map_or(Cell::Null, |n| Cell::Int(i64::from(n)))
    } else if ty == Type::INT2 {
        r.try_get::<_, Option<i16>>(i)?
            .map_or(Cell::Null, |n| Cell::Int(i64::from(n)))
    } else if ty == Type::BOOL {
        r.try_get::<_, Option<bool>>(i)?
            .map_or(Cell::Null, |b| Cell::Int(i64::from(b)))
    } else if ty == Type::NUMERIC || ty == Type::FLOAT8 || ty == Type::FLOAT4 {
        return Err(StorageError::Invalid(format!(
            "read model query: column {i} is {ty}; cast it to bigint"
        )));
    } else {
        r.try_get::<_, Option<String>>(i)?
            .map_or(Cell::Null, Cell::Text)
    })
}

impl ReadModel for PgStore {
    fn note_report_questions(
        &self,
        questions: Vec<(String, i64)>,
        before: i64,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            for (q, at) in &questions {
                tx.execute(
                    "INSERT INTO report_questions (question, asked_at) VALUES ($1, $2)
                     ON CONFLICT (question) DO UPDATE
                     SET asked_at = GREATEST(report_questions.asked_at, excluded.asked_at)",
                    &[q, at],
                )
                .await?;
            }
            tx.execute(
                "DELETE FROM report_questions WHERE asked_at < $1",
                &[&before],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn read_model_state(&self) -> StoreFuture<'_, ReadModelState> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let st = state(&tx).await?;
            tx.commit().await?;
            Ok(st)
        })
    }

    fn read_model_reset(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            // Under the followers' lock: a follower's step in progress ends first, and the
            // next one sees the cursor at 0 and the rebuild flag (and leaves the rebuild to
            // the rebuild's steps).
            lock_follow(&tx).await?;
            for t in Table::ALL {
                tx.execute(&format!("DELETE FROM {}", t.name()), &[])
                    .await?;
            }
            tx.execute(
                "UPDATE read_model_state SET applied_through = 0, rebuilding = 1, updated_at = $1 WHERE id = 1",
                &[&(crate::model::now_ms() as i64)],
            )
            .await?;
            tx.commit().await?;
            // A rebuild reads the whole log in `sseq` order: statistics of a smaller log
            // (a bulk ingest since the last ANALYZE) make PostgreSQL plan each step's read
            // as a parallel scan and sort of the whole log instead of the key's order.
            analyze(self).await?;
            Ok(())
        })
    }

    fn read_model_step(&self, limit: usize) -> StoreFuture<'_, Step> {
        Box::pin(async move { follow_step(self, limit.max(1), true).await })
    }

    fn read_rows(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, Vec<Vec<Cell>>> {
        Box::pin(async move {
            wait_merged(self).await?;
            // The device sync notes still in memory first: a report shows every note taken.
            if !self.notes.is_empty() {
                self.flush_device_sync().await?;
            }
            let c = self.client().await?;
            let boxed = pg_params(params);
            let refs = pg_refs(&boxed);
            let stmt = c.prepare_cached(&pg_placeholders(&sql)).await?;
            let rows = c.query(&stmt, &refs).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let mut row = Vec::with_capacity(r.len());
                for i in 0..r.len() {
                    row.push(cell(r, i)?);
                }
                out.push(row);
            }
            Ok(out)
        })
    }

    fn note_device_sync(&self, device: DeviceId, note: SyncNote, now: u64) -> StoreFuture<'_, ()> {
        let schedule = self.notes.add(device, note, now);
        Box::pin(async move {
            if schedule {
                tokio::time::sleep(super::notes::FLUSH_AFTER).await;
                self.flush_device_sync().await?;
            }
            Ok(())
        })
    }

    fn flush_device_sync(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let taken = self.notes.take();
            if taken.is_empty() {
                return Ok(0);
            }
            let mut ids = Vec::with_capacity(taken.len());
            let mut seqs = Vec::with_capacity(taken.len());
            let mut ats = Vec::with_capacity(taken.len());
            let mut pulls = Vec::with_capacity(taken.len());
            for (device, p) in &taken {
                let (seq, at, pulled) = p.columns();
                ids.push(device.to_string());
                seqs.push(seq);
                ats.push(at);
                pulls.push(pulled);
            }
            // One statement for every device: a later report replaces an earlier one, the
            // later pull time is kept (another server process may have written a newer one).
            let written = async {
                let c = self.client().await?;
                c.execute(
                    "INSERT INTO device_sync (device_id, reported_seq, reported_at, last_pull_at)
                     SELECT d, COALESCE(s, 0), a, p
                     FROM UNNEST($1::TEXT[], $2::INT8[], $3::INT8[], $4::INT8[]) AS n (d, s, a, p)
                     ON CONFLICT (device_id) DO UPDATE SET
                       reported_seq = CASE WHEN excluded.reported_at >= COALESCE(device_sync.reported_at, 0)
                                      THEN excluded.reported_seq ELSE device_sync.reported_seq END,
                       reported_at = CASE WHEN excluded.reported_at >= COALESCE(device_sync.reported_at, 0)
                                     THEN excluded.reported_at ELSE device_sync.reported_at END,
                       last_pull_at = GREATEST(device_sync.last_pull_at, excluded.last_pull_at)",
                    &[&ids, &seqs, &ats, &pulls],
                )
                .await?;
                Ok::<_, StorageError>(taken.len())
            }
            .await;
            if written.is_err() {
                self.notes.restore(taken);
            }
            written
        })
    }
}

/// Read-model parameters as PostgreSQL values (owned; see [`pg_refs`]).
pub(crate) fn pg_params(params: Vec<Param>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                Param::Text(s) => Box::new(s),
                Param::Int(n) => Box::new(n),
            }
        })
        .collect()
}

/// The references `tokio_postgres` takes, borrowed from [`pg_params`]'s values.
pub(crate) fn pg_refs(boxed: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    boxed
        .iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

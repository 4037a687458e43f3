//! The read model on SQLite: loading merge states, writing rows, the rebuild step.

use super::merge::{
    FactRow, Loaded, MERGE_ROWS, MergeRow, Merger, decode_state, fact_from_row, is_one_change,
    names_merge, settle_merges,
};
use super::tables::{Table, Val};
use super::{Cell, Param, ReadModel, ReadModelState, Step, SyncNote};
use crate::storage::sqlite::SqliteStore;
use crate::storage::{StorageError, StoreFuture};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::collections::BTreeSet;
use sync_protocol::merge::Record;
use sync_protocol::{Change, DeviceId, RecordId};

fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("read model: {e}"))
}

/// The stored merge states of `ids`: a `merged_records` row, else a fact's `facts` row; and
/// the states stored as a change's payload, with it ([`Merger::stored_as_payload`]).
#[allow(clippy::type_complexity)]
fn load_states(
    conn: &Connection,
    ids: &BTreeSet<RecordId>,
) -> Result<(Vec<(RecordId, Record, Loaded)>, Vec<(RecordId, String)>), StorageError> {
    let mut q = conn.prepare_cached(
        "SELECT m.kind, m.state_json, f.kind, f.body_json, f.made_hlc, f.made_device, f.author,
                f.supersedes
         FROM (SELECT ?1 AS id) k
         LEFT JOIN merged_records m ON m.id = k.id
         LEFT JOIN facts f ON f.id = k.id AND m.id IS NULL
         WHERE m.id IS NOT NULL OR f.id IS NOT NULL",
    )?;
    let mut out = Vec::new();
    let mut payloads = Vec::new();
    for id in ids {
        let mut rows = q.query([id.to_string()])?;
        let Some(r) = rows.next()? else {
            continue;
        };
        let merged: Option<String> = r.get(0)?;
        if let Some(kind) = merged {
            let json: String = r.get(1)?;
            out.push((
                *id,
                decode_state(&kind, &json).map_err(corrupt)?,
                Loaded::Merged,
            ));
            if is_one_change(&json) {
                payloads.push((*id, json));
            }
        } else {
            let row = FactRow {
                kind: r.get(2)?,
                body_json: r.get(3)?,
                made_hlc: r.get(4)?,
                made_device: r.get(5)?,
                author: r.get(6)?,
                supersedes: r.get(7)?,
            };
            out.push((*id, fact_from_row(&row).map_err(corrupt)?, Loaded::FactsRow));
        }
    }
    Ok((out, payloads))
}

/// A column's value bound as it is (no copy of its text before SQLite's own).
struct Bind<'a>(&'a Val);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(match self.0 {
            Val::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
        })
    }
}

/// Merges logged `changes` (in order, each with its payload as the log holds it) into the
/// read tables.
pub(crate) fn merge_changes(
    conn: &Connection,
    changes: &[(Change, String)],
) -> Result<usize, StorageError> {
    let refs: Vec<(&Change, &str)> = changes.iter().map(|(c, p)| (c, p.as_str())).collect();
    merge_known(conn, &refs, |_| true)
}

/// Merges `changes`, each with its logged payload ([`Merger::apply_logged`]);
/// `stored(id)` false says that record has no merge state stored yet (it was not in
/// `records` before the push), so it is not looked up.
fn merge_known(
    conn: &Connection,
    changes: &[(&Change, &str)],
    stored: impl Fn(&RecordId) -> bool,
) -> Result<usize, StorageError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let ids: BTreeSet<RecordId> = changes
        .iter()
        .map(|(c, _)| c.id)
        .filter(|id| stored(id))
        .collect();
    let (states, payloads) = load_states(conn, &ids)?;
    let mut merger = Merger::new(states);
    for (id, payload) in payloads {
        merger.stored_as_payload(id, payload);
    }
    for (c, payload) in changes {
        merger.apply_logged(c, payload);
    }
    let writes = merger
        .writes()
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    {
        let mut del = conn.prepare_cached("DELETE FROM conflicts WHERE record_id = ?1")?;
        for id in &writes.cleared {
            del.execute([id])?;
        }
    }
    // One row per statement: a statement of several rows that may fail half-way (an upsert)
    // keeps a statement journal, a copy of every page it touches, which costs more than the
    // statements it saves (measured: docs/BENCHMARKS.md, branch `rmsql`).
    for (table, rows) in writes.tables() {
        let mut ins = conn.prepare_cached(&table.upsert_sqlite())?;
        for row in rows {
            ins.execute(params_from_iter(row.iter().map(Bind)))?;
        }
    }
    if changes.iter().any(|(c, _)| names_merge(c)) {
        settle(conn)?;
    }
    Ok(merger.skipped)
}

/// Sets `deleted` of the `person_merge` facts by the merges in effect
/// ([`super::merge::settle_merges`]).
fn settle(conn: &Connection) -> Result<(), StorageError> {
    let rows: Vec<MergeRow> = conn
        .prepare_cached(MERGE_ROWS)?
        .query_map([], |r| {
            Ok(MergeRow {
                id: r.get(0)?,
                kept: r.get(1)?,
                merged: r.get(2)?,
                made_hlc: r.get(3)?,
                made_device: r.get(4)?,
                deleted: r.get::<_, i64>(5)? != 0,
                state_json: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare_cached("UPDATE facts SET deleted = ?2 WHERE id = ?1")?;
    for (id, deleted) in settle_merges(&rows).map_err(corrupt)? {
        update.execute(params![id, i64::from(deleted)])?;
    }
    Ok(())
}

/// Changes left unmerged before a push (a follower that failed) that the next push's
/// follower merges first; more are left to the catch-up of the next start.
const GAP_LIMIT: i64 = 10_000;

/// By the follower, right after a push committed: merges the changes it logged
/// (`(sseq, change, payload)`, in `sseq` order; a new fact's body is written as it stands in
/// the payload, [`crate::sync::body_in_payload`], and a new mutable record made by one change
/// keeps the payload as its state, [`Merger::apply_logged`]) and moves the cursor over them when nothing before
/// them is left to merge. Changes left unmerged before them by a failed follower (not a
/// rebuild: that is `reindex`'s) are merged first, up to [`GAP_LIMIT`].
/// `new`: records of the push that were not in `records` before it (no state to load).
pub(crate) fn merge_pushed(
    conn: &Connection,
    pushed: &[(i64, &Change, &str)],
    new: &std::collections::HashSet<RecordId>,
) -> Result<(), StorageError> {
    let (Some(first), Some(last)) = (pushed.first(), pushed.last()) else {
        return Ok(());
    };
    let (cursor, rebuilding): (i64, i64) = conn
        .prepare_cached("SELECT applied_through, rebuilding FROM read_model_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut before: Vec<(Change, String)> = Vec::new();
    let mut gap = false;
    if rebuilding == 0 && cursor < first.0 - 1 && first.0 - 1 - cursor <= GAP_LIMIT {
        gap = true;
        let mut q = conn.prepare_cached(
            "SELECT payload FROM changes WHERE sseq > ?1 AND sseq < ?2 AND quarantined_at IS NULL
             ORDER BY sseq",
        )?;
        for p in q.query_map(params![cursor, first.0], |r| r.get::<_, String>(0))? {
            let p = p?;
            if let Ok(c) = serde_json::from_str::<Change>(&p) {
                before.push((c, p));
            }
        }
    }
    // The pushed changes are merged where they are (not copied).
    let changes: Vec<(&Change, &str)> = before
        .iter()
        .map(|(c, p)| (c, p.as_str()))
        .chain(pushed.iter().map(|(_, c, p)| (*c, *p)))
        .collect();
    merge_known(conn, &changes, |id| gap || !new.contains(id))?;
    conn.prepare_cached(
        "UPDATE read_model_state SET applied_through = ?2
         WHERE id = 1 AND applied_through < ?2 AND NOT EXISTS (
             SELECT 1 FROM changes WHERE sseq > read_model_state.applied_through AND sseq < ?1
                 AND quarantined_at IS NULL)",
    )?
    .execute(params![first.0, last.0])?;
    Ok(())
}

/// After a quarantine or release of `sseqs`: their records merged again from the log's
/// changes that are not quarantined.
pub(crate) fn remerge_sseqs(conn: &Connection, sseqs: &[i64]) -> Result<(), StorageError> {
    let mut ids = BTreeSet::new();
    let mut merges = false;
    {
        let mut q = conn.prepare_cached("SELECT payload FROM changes WHERE sseq = ?1")?;
        for n in sseqs {
            let payload: Option<String> = q.query_row([n], |r| r.get(0)).optional()?;
            if let Some(c) = payload.and_then(|p| serde_json::from_str::<Change>(&p).ok()) {
                merges |= names_merge(&c);
                ids.insert(c.id);
            }
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
            conn.execute(
                &format!("DELETE FROM {} WHERE {key} = ?1", t.name()),
                [&idt],
            )?;
        }
        let head = format!("{{\"id\":\"{id}\"");
        let mut q = conn.prepare_cached(
            "SELECT payload FROM changes WHERE substr(payload, 1, 44) = ?1
             AND quarantined_at IS NULL ORDER BY sseq",
        )?;
        let mut changes = Vec::new();
        for p in q.query_map([&head], |r| r.get::<_, String>(0))? {
            let p = p?;
            if let Ok(c) = serde_json::from_str::<Change>(&p) {
                changes.push((c, p));
            }
        }
        merge_changes(conn, &changes)?;
    }
    // A merge quarantined (no change of it left to merge) may let another take effect.
    if merges {
        settle(conn)?;
    }
    Ok(())
}

fn state(conn: &Connection) -> Result<ReadModelState, StorageError> {
    let (applied_through, rebuilding): (i64, i64) = conn.query_row(
        "SELECT applied_through, rebuilding FROM read_model_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let log_end: i64 = conn.query_row("SELECT COALESCE(MAX(sseq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    Ok(ReadModelState {
        applied_through,
        log_end,
        rebuilding: rebuilding != 0,
    })
}

/// Refreshes the planner statistics of the read tables and the log (after a rebuild, and
/// after every [`crate::storage::ANALYZE_AFTER`] changes pushed): `ANALYZE` reading at most
/// a sample of each index, so it takes milliseconds even on a kabupaten's tables.
pub(crate) fn analyze(conn: &Connection) -> Result<(), StorageError> {
    conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE;")?;
    Ok(())
}

/// One rebuild step. Its commit does not wait for the disk (`synchronous = NORMAL`): a step
/// lost to a power cut is merged again from the stored cursor.
fn step(conn: &mut Connection, limit: usize) -> Result<Step, StorageError> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let done = step_tx(conn, limit);
    conn.pragma_update(None, "synchronous", "FULL")?;
    let done = done?;
    if done.done {
        analyze(conn)?;
    }
    Ok(done)
}

fn step_tx(conn: &mut Connection, limit: usize) -> Result<Step, StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = crate::model::now_ms() as i64;
    let st = state(&tx)?;
    let rows: Vec<(i64, String)> = {
        let mut q = tx.prepare_cached(
            "SELECT sseq, payload FROM changes WHERE sseq > ?1 AND quarantined_at IS NULL
             ORDER BY sseq LIMIT ?2",
        )?;
        let rows = q.query_map(
            params![st.applied_through, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        rows.collect::<Result<_, _>>()?
    };
    let Some(last) = rows.last().map(|r| r.0) else {
        let end = st.log_end.max(st.applied_through);
        tx.execute(
            "UPDATE read_model_state SET applied_through = ?1, rebuilding = 0, updated_at = ?2 WHERE id = 1",
            params![end, now],
        )?;
        tx.commit()?;
        return Ok(Step {
            cursor: end,
            log_end: st.log_end,
            done: true,
            ..Step::default()
        });
    };
    let mut unreadable = 0;
    let mut changes = Vec::with_capacity(rows.len());
    for (sseq, p) in rows {
        match serde_json::from_str::<Change>(&p) {
            Ok(c) => changes.push((c, p)),
            Err(e) => {
                tracing::warn!(sseq, error = %e, "read model: a logged change is unreadable");
                unreadable += 1;
            }
        }
    }
    let not_merged = merge_changes(&tx, &changes)?;
    tx.execute(
        "UPDATE read_model_state SET applied_through = ?1, updated_at = ?2 WHERE id = 1",
        params![last, now],
    )?;
    tx.commit()?;
    Ok(Step {
        merged: changes.len().saturating_sub(not_merged),
        skipped: not_merged + unreadable,
        cursor: last,
        log_end: st.log_end,
        done: false,
    })
}

fn reset(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for t in Table::ALL {
        tx.execute(&format!("DELETE FROM {}", t.name()), [])?;
    }
    tx.execute(
        "UPDATE read_model_state SET applied_through = 0, rebuilding = 1, updated_at = ?1 WHERE id = 1",
        [crate::model::now_ms() as i64],
    )?;
    tx.commit()?;
    // Fresh statistics for the rebuild's reads of the whole log.
    analyze(conn)?;
    Ok(())
}

fn rows(conn: &Connection, sql: &str, ps: &[Param]) -> Result<Vec<Vec<Cell>>, StorageError> {
    let mut q = conn.prepare_cached(sql)?;
    let n = q.column_count();
    let values = ps.iter().map(|p| match p {
        Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
    });
    let mut out = Vec::new();
    let mut rs = q.query(params_from_iter(values))?;
    while let Some(r) = rs.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Int(v as i64),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Cell::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(row);
    }
    Ok(out)
}

impl ReadModel for SqliteStore {
    fn note_report_questions(
        &self,
        questions: Vec<(String, i64)>,
        before: i64,
    ) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            let tx = c.transaction()?;
            for (q, at) in &questions {
                tx.execute(
                    "INSERT INTO report_questions (question, asked_at) VALUES (?1, ?2)
                     ON CONFLICT (question) DO UPDATE
                     SET asked_at = MAX(report_questions.asked_at, excluded.asked_at)",
                    params![q, at],
                )?;
            }
            tx.execute(
                "DELETE FROM report_questions WHERE asked_at < ?1",
                params![before],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn read_model_state(&self) -> StoreFuture<'_, ReadModelState> {
        self.read_merged(state)
    }

    fn read_model_reset(&self) -> StoreFuture<'_, ()> {
        self.write(reset)
    }

    fn read_model_step(&self, limit: usize) -> StoreFuture<'_, Step> {
        self.write(move |c| step(c, limit))
    }

    fn read_rows(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, Vec<Vec<Cell>>> {
        Box::pin(async move {
            // The device sync notes still in memory first: a report shows every note taken.
            if !self.notes.is_empty() {
                self.flush_device_sync().await?;
            }
            self.read_merged(move |c| rows(c, &sql, &params)).await
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
        let notes = self.notes.clone();
        Box::pin(async move {
            let taken = notes.take();
            if taken.is_empty() {
                return Ok(0);
            }
            let back = taken.clone();
            let written = self
                .write(move |c| {
                    let tx = c.transaction()?;
                    {
                        let mut up = tx.prepare_cached(super::notes::UPSERT_SQLITE)?;
                        for (device, p) in &taken {
                            let (seq, at, pulled) = p.columns();
                            up.execute(params![device.to_string(), seq, at, pulled])?;
                        }
                    }
                    tx.commit()?;
                    Ok(taken.len())
                })
                .await;
            if written.is_err() {
                notes.restore(back);
            }
            written
        })
    }
}

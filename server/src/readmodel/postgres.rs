//! The read model on PostgreSQL: one query loads a batch's merge states, one statement per
//! table writes its rows (arrays through `UNNEST`), so a push costs a few round trips more,
//! not a few per change.

use super::merge::{
    FactRow, Loaded, MERGE_ROWS, MergeRow, Merger, decode_state, fact_from_row, names_merges,
    settle_merges,
};
use super::tables::{Table, Val, pg_placeholders};
use super::{Cell, Param, ReadModel, ReadModelState, Step, SyncNote};
use crate::storage::postgres::{LOCK_LOG, PgStore};
use crate::storage::{StorageError, StoreFuture};
use deadpool_postgres::Transaction;
use std::collections::BTreeSet;
use sync_protocol::merge::Record;
use sync_protocol::{Change, DeviceId, RecordId};
use tokio_postgres::types::{ToSql, Type};

fn corrupt(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("read model: {e}"))
}

/// The stored merge states of `ids` in one query: a `merged_records` row, else a fact's
/// `facts` row.
async fn load_states(
    tx: &Transaction<'_>,
    ids: &BTreeSet<RecordId>,
) -> Result<Vec<(RecordId, Record, Loaded)>, StorageError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut out = Vec::new();
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
    Ok(out)
}

/// One array per column of `rows`.
fn columns(table: Table, rows: &[Vec<Val>]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    table
        .columns()
        .iter()
        .enumerate()
        .map(|(i, (_, int))| -> Box<dyn ToSql + Sync + Send> {
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
                            Some(Val::Text(s)) => s.clone(),
                            _ => None,
                        })
                        .collect::<Vec<Option<String>>>(),
                )
            }
        })
        .collect()
}

/// Merges `changes` (in order) into the read tables.
pub(crate) async fn merge_changes(
    tx: &Transaction<'_>,
    changes: &[Change],
) -> Result<usize, StorageError> {
    if changes.is_empty() {
        return Ok(0);
    }
    let ids: BTreeSet<RecordId> = changes.iter().map(|c| c.id).collect();
    let mut merger = Merger::new(load_states(tx, &ids).await?);
    for c in changes {
        merger.apply(c);
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
    for (table, rows) in writes.tables() {
        let cols = columns(table, rows);
        let refs: Vec<&(dyn ToSql + Sync)> = cols
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let upsert = tx.prepare_cached(&table.upsert_postgres()).await?;
        tx.execute(&upsert, &refs).await?;
    }
    if names_merges(changes) {
        settle(tx).await?;
    }
    Ok(merger.skipped)
}

/// Advisory lock (with key 0) held while the merges in effect are settled, until the
/// transaction ends: two pushes of merges settle one after the other, the later seeing the
/// earlier's merges. Taken after the records' row locks and before the log lock
/// ([`lock_records`]), always.
pub(crate) const LOCK_MERGES: i32 = 0x4a4b_0004;

/// Takes [`LOCK_MERGES`] (again, if held: advisory locks nest within a transaction).
async fn lock_merges(tx: &Transaction<'_>) -> Result<(), StorageError> {
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_MERGES])
        .await?;
    Ok(())
}

/// Sets `deleted` of the `person_merge` facts by the merges in effect
/// ([`super::merge::settle_merges`]), under [`LOCK_MERGES`].
async fn settle(tx: &Transaction<'_>) -> Result<(), StorageError> {
    lock_merges(tx).await?;
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

/// Locks the `records` rows of `ids` (`FOR UPDATE`, in id order) until the transaction
/// ends: every writer of a record's merge state (a push, a rebuild step, a re-merge after a
/// quarantine) holds this row lock while it loads, merges and writes, so two transactions
/// never write one record's state from stale copies; records that do not exist yet are
/// locked by the push's insert of their `records` row (also in id order). Taken before the
/// log lock, always, so the two never wait for each other in a cycle.
pub(crate) async fn lock_records(
    tx: &Transaction<'_>,
    ids: impl Iterator<Item = RecordId>,
) -> Result<(), StorageError> {
    let ids: BTreeSet<RecordId> = ids.collect();
    if ids.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let lock = tx
        .prepare_cached("SELECT 1 FROM records WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .await?;
    tx.execute(&lock, &[&keys]).await?;
    Ok(())
}

/// In the push's transaction, before the log lock, holding the row locks of its records
/// ([`lock_records`]): merges the changes the push logs.
pub(crate) async fn merge_push(
    tx: &Transaction<'_>,
    changes: &[Change],
) -> Result<(), StorageError> {
    merge_changes(tx, changes).await?;
    Ok(())
}

/// In the push's transaction, under the log lock, once its changes are logged (first and
/// last `sseq`): moves the cursor over them when nothing before them is left to merge.
pub(crate) async fn advance_cursor(
    tx: &Transaction<'_>,
    first: i64,
    last: i64,
) -> Result<(), StorageError> {
    let advance = tx
        .prepare_cached(
            "UPDATE read_model_state SET applied_through = $2
             WHERE id = 1 AND applied_through < $2 AND NOT EXISTS (
                 SELECT 1 FROM changes WHERE sseq > read_model_state.applied_through
                     AND sseq < $1 AND quarantined_at IS NULL)",
        )
        .await?;
    tx.execute(&advance, &[&first, &last]).await?;
    Ok(())
}

/// After a quarantine or release of `sseqs`: their records merged again from the log's
/// changes that are not quarantined.
pub(crate) async fn remerge_sseqs(tx: &Transaction<'_>, sseqs: &[i64]) -> Result<(), StorageError> {
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
            merges |= names_merges(std::slice::from_ref(&c));
            ids.insert(c.id);
        }
    }
    // Row locks first, then the merges' lock, then the log lock: the order a push takes
    // them in.
    lock_records(tx, ids.iter().copied()).await?;
    if merges {
        lock_merges(tx).await?;
    }
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_LOG])
        .await?;
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
                changes.push(c);
            }
        }
        merge_changes(tx, &changes).await?;
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
            // No log lock: a push waiting for it may hold rows this deletes. A push merged
            // meanwhile is merged again by the rebuild (merging is idempotent).
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
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            // A step lost to a crash is merged again from the stored cursor: its commit
            // need not wait for the disk.
            tx.execute("SET LOCAL synchronous_commit = off", &[])
                .await?;
            let now = crate::model::now_ms() as i64;
            let before = state(&tx).await?;
            let rows = tx
                .query(
                    "SELECT sseq, payload FROM changes WHERE sseq > $1 AND quarantined_at IS NULL
                     ORDER BY sseq LIMIT $2",
                    &[
                        &before.applied_through,
                        &i64::try_from(limit).unwrap_or(i64::MAX),
                    ],
                )
                .await?;
            let mut unreadable = 0;
            let mut read = Vec::with_capacity(rows.len());
            for r in &rows {
                let sseq: i64 = r.try_get(0)?;
                let p: String = r.try_get(1)?;
                match serde_json::from_str::<Change>(&p) {
                    Ok(c) => read.push((sseq, c)),
                    Err(e) => {
                        tracing::warn!(sseq, error = %e, "read model: a logged change is unreadable");
                        unreadable += 1;
                    }
                }
            }
            // The records' row locks, then the log lock (a push's order): never two writers
            // of one record's state, and the cursor moved by one writer at a time.
            lock_records(&tx, read.iter().map(|(_, c)| c.id)).await?;
            if read
                .iter()
                .any(|(_, c)| c.kind == sync_protocol::EntityKind::PersonMerge)
            {
                lock_merges(&tx).await?;
            }
            tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_LOG])
                .await?;
            let st = state(&tx).await?;
            let last_read = rows.last().map(|r| r.try_get::<_, i64>(0)).transpose()?;
            if st.applied_through != before.applied_through {
                // Another writer moved the cursor meanwhile (a push, another rebuild): the
                // next step starts from where it is now.
                tx.commit().await?;
                return Ok(Step {
                    cursor: st.applied_through,
                    log_end: st.log_end,
                    ..Step::default()
                });
            }
            let Some(last) = last_read else {
                // Nothing after the cursor, and no push can log more while the log lock is
                // held: the rebuild is done.
                let end = st.log_end.max(st.applied_through);
                tx.execute(
                    "UPDATE read_model_state SET applied_through = $1, rebuilding = 0, updated_at = $2 WHERE id = 1",
                    &[&end, &now],
                )
                .await?;
                tx.commit().await?;
                analyze(self).await?;
                return Ok(Step {
                    cursor: end,
                    log_end: st.log_end,
                    done: true,
                    ..Step::default()
                });
            };
            let changes: Vec<Change> = read.into_iter().map(|(_, c)| c).collect();
            let not_merged = merge_changes(&tx, &changes).await?;
            tx.execute(
                "UPDATE read_model_state SET applied_through = $1, updated_at = $2 WHERE id = 1",
                &[&last, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(Step {
                merged: changes.len().saturating_sub(not_merged),
                skipped: not_merged + unreadable,
                cursor: last,
                log_end: st.log_end,
                done: false,
            })
        })
    }

    fn read_rows(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, Vec<Vec<Cell>>> {
        Box::pin(async move {
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

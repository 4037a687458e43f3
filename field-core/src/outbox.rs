//! The outbox: local changes in device sequence order, until the server has them.
//!
//! A change is pending until the server answers that it has it. Recording that answer does
//! not rewrite the change's row (its JSON makes it the outbox's largest): the run the server
//! took is covered by `device_state.sent_through` (device migration V9), and a row whose
//! `state` is still `pending` counts as pending only above that mark ([`PENDING`]). Rows
//! answered out of that order (after a change that stays pending: a retry, another user's
//! change) are marked `sent` one by one, as before the mark; rejected rows keep `rejected`.

use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sync_protocol::{Change, OutcomeStatus, PushResponse, RejectCode, Rejection};

/// What recording a push response did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub sent: usize,
    pub rejected: usize,
    /// Rejections the device must fix and retry (its clock): still pending.
    pub retry: usize,
    /// Unsent changes given fresh stamps after a `clock_ahead` refusal (push them again).
    pub restamped: usize,
    /// Unsent changes given new sequence numbers because the server had settled their old
    /// ones (`seq_reused`, or at or below `acked_seq`: a tablet restored from a backup).
    pub renumbered: usize,
    /// Changes of another user of the tablet that wait for a sync in that user's own session
    /// (`awaits_author`): still pending, unchanged.
    pub awaiting: Vec<u64>,
}

/// The condition of a pending outbox row, for every reader of the outbox: `state` still
/// `pending` and numbered above the "sent through" mark.
pub(crate) const PENDING: &str =
    "state = 'pending' AND seq > (SELECT sent_through FROM device_state WHERE id = 1)";

/// The pending changes as stored, after `?1` (or all when NULL), at most `?2`.
fn pending_sql() -> String {
    format!(
        "SELECT seq, change_json FROM outbox
         WHERE {PENDING} AND (?1 IS NULL OR seq > ?1) ORDER BY seq LIMIT ?2"
    )
}

/// The "sent through" mark (see the module's documentation), and the last number written.
fn mark_and_written(tx: &rusqlite::Connection) -> Result<(i64, i64)> {
    Ok(tx.query_row(
        "SELECT sent_through, next_seq - 1 FROM device_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

impl Store {
    /// The oldest pending changes, in sequence order, up to `limit`.
    pub fn pending_changes(&self, limit: usize) -> Result<Vec<Change>> {
        self.pending_changes_except(limit, &std::collections::HashSet::new())
    }

    /// [`Self::pending_changes`] leaving out the sequence numbers in `skip` (changes that wait
    /// for another user's session in this run).
    pub fn pending_changes_except(
        &self,
        limit: usize,
        skip: &std::collections::HashSet<u64>,
    ) -> Result<Vec<Change>> {
        self.pending_json(None, limit, skip)?
            .iter()
            .map(|(_, json)| Ok(serde_json::from_str(json)?))
            .collect()
    }

    /// [`Self::pending_changes_except`] (after `after`, when given) as stored: each change's
    /// sequence number and compact JSON (`serde_json::to_string` of the change, written
    /// when it was recorded or renumbered or re-stamped), not parsed. A push sends that text
    /// as it is.
    pub(crate) fn pending_json(
        &self,
        after: Option<u64>,
        limit: usize,
        skip: &std::collections::HashSet<u64>,
    ) -> Result<Vec<(u64, String)>> {
        let mut stmt = self.conn.prepare_cached(&pending_sql())?;
        let want = limit.saturating_add(skip.len());
        let after = after.map(|a| i64::try_from(a).unwrap_or(i64::MAX));
        let rows = stmt.query_map(
            params![after, i64::try_from(want).unwrap_or(i64::MAX)],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, json) = row?;
            let seq = u64::try_from(seq).map_err(|_| StoreError::Corrupt("seq".into()))?;
            if skip.contains(&seq) {
                continue;
            }
            if out.len() == limit {
                break;
            }
            out.push((seq, json));
        }
        Ok(out)
    }

    /// Records the server's answer to a push, in one transaction: accepted and duplicate
    /// changes are sent; a final rejection is taken out of the records (no other replica will
    /// ever have it) and kept in the outbox with its reason for the kader to see and redo;
    /// retryable ones (clock ahead) stay pending, and when the clock ran ahead it is repaired
    /// and every unsent change re-stamped (same sequence numbers). The clock learns the
    /// server's time.
    ///
    /// `seq_reused` on a pending change is never "take it out": the server settled that
    /// number for another change (this tablet was restored from a backup), so the change is
    /// kept, with everything pending after it, under new numbers above `acked_seq`
    /// (sync-protocol section 5), and pushed again.
    pub fn record_push_outcomes(&mut self, resp: &PushResponse) -> Result<PushReport> {
        self.record_push(resp, false)
    }

    /// [`Self::record_push_outcomes`] and the server's `acked_seq` (the sync account's) in
    /// the same transaction: one commit per push.
    pub(crate) fn record_push_answer(&mut self, resp: &PushResponse) -> Result<PushReport> {
        self.record_push(resp, true)
    }

    fn record_push(&mut self, resp: &PushResponse, acked: bool) -> Result<PushReport> {
        let wall = self.clock.now_ms();
        let policy = self.policy;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = PushReport::default();
        let mut reused: Vec<i64> = Vec::new();
        let (marked, written) = mark_and_written(&tx)?;
        // Accepted and duplicate changes, and those rejected for good: the answered run right
        // above the mark moves the mark; the rest is marked row by row below.
        let mut sent: Vec<i64> = Vec::new();
        let mut settled: Vec<i64> = Vec::new();
        for o in &resp.outcomes {
            let seq = i64::try_from(o.seq).map_err(|_| StoreError::Corrupt("seq".into()))?;
            match o.status {
                OutcomeStatus::Accepted | OutcomeStatus::Duplicate => {
                    report.sent += 1;
                    sent.push(seq);
                    settled.push(seq);
                }
                OutcomeStatus::Rejected
                    if o.rejection
                        .as_ref()
                        .is_some_and(|r| r.code == RejectCode::SeqReused) =>
                {
                    let pending: bool = tx
                        .prepare_cached(&format!(
                            "SELECT EXISTS (SELECT 1 FROM outbox WHERE seq = ?1 AND {PENDING})"
                        ))?
                        .query_row([seq], |r| r.get(0))?;
                    if pending {
                        // Renumbered below, after every outcome is read.
                        reused.push(seq);
                    }
                }
                OutcomeStatus::Rejected
                    if o.rejection
                        .as_ref()
                        .is_some_and(|r| r.code == RejectCode::AwaitsAuthor) =>
                {
                    // Another user's change, not stamped in her time on this tablet: kept as
                    // it is (same stamp, same seq) for a sync in her own session.
                    let json = o
                        .rejection
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()?;
                    tx.prepare_cached(&format!(
                        "UPDATE outbox SET rejection_json = ?2 WHERE seq = ?1 AND {PENDING}"
                    ))?
                    .execute(params![seq, json])?;
                    report.awaiting.push(o.seq);
                }
                OutcomeStatus::Rejected => {
                    let retry = o.rejection.as_ref().is_some_and(|r| r.code.is_retryable());
                    let json = o
                        .rejection
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()?;
                    let state = if retry { "pending" } else { "rejected" };
                    if !retry {
                        let stored: Option<String> = tx
                            .prepare_cached(
                                "SELECT change_json FROM outbox WHERE seq = ?1 AND state != 'rejected'",
                            )?
                            .query_row([seq], |r| r.get(0))
                            .optional()?;
                        if let Some(json) = stored {
                            let change: Change = serde_json::from_str(&json)?;
                            crate::apply::remove_change(&tx, &change)?;
                        }
                    }
                    tx.prepare_cached(
                        "UPDATE outbox SET state = ?2, rejection_json = ?3 WHERE seq = ?1",
                    )?
                    .execute(params![seq, state, json])?;
                    if retry {
                        report.retry += 1;
                    } else {
                        report.rejected += 1;
                        settled.push(seq);
                    }
                }
            }
        }
        // The mark moves over the settled numbers that follow it without a gap; every change
        // sent above that is marked on its row, by runs of consecutive numbers (one statement
        // per run).
        settled.sort_unstable();
        let mut mark = marked;
        for seq in settled {
            if seq == mark + 1 {
                mark = seq;
            } else if seq > mark {
                break;
            }
        }
        let mark_sent = |tx: &rusqlite::Transaction<'_>, (from, to): (i64, i64)| {
            tx.prepare_cached(
                "UPDATE outbox SET state = 'sent', rejection_json = NULL WHERE seq BETWEEN ?1 AND ?2",
            )?
            .execute([from, to])
        };
        sent.sort_unstable();
        // A change rejected before and answered sent now (a relayed bundle's late answer) is
        // sent, as when every row was marked: the mark does not change a row's `rejected`.
        let was_rejected: Vec<i64> = tx
            .prepare_cached(
                "SELECT seq FROM outbox WHERE state = 'rejected' AND seq BETWEEN ?1 AND ?2",
            )?
            .query_map([sent.first().copied().unwrap_or(i64::MAX), mark], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        for seq in was_rejected {
            if sent.binary_search(&seq).is_ok() {
                mark_sent(&tx, (seq, seq))?;
            }
        }
        let mut run: Option<(i64, i64)> = None;
        for seq in sent.into_iter().filter(|s| *s > mark) {
            run = match run {
                Some((from, to)) if to + 1 == seq => Some((from, seq)),
                Some(r) => {
                    mark_sent(&tx, r)?;
                    Some((seq, seq))
                }
                None => Some((seq, seq)),
            };
        }
        if let Some(r) = run {
            mark_sent(&tx, r)?;
        }
        // And over what was settled before (rows marked one by one, numbers never used), up to
        // the first change still pending.
        let next_pending: Option<i64> = tx
            .prepare_cached("SELECT min(seq) FROM outbox WHERE state = 'pending' AND seq > ?1")?
            .query_row([mark], |r| r.get(0))?;
        mark = match next_pending {
            Some(p) => mark.max(p - 1),
            None => tx
                .prepare_cached("SELECT COALESCE(max(seq), 0) FROM outbox")?
                .query_row([], |r| r.get::<_, i64>(0))?
                .max(mark),
        };
        // Never over a number this tablet has not written yet: a relayed bundle's late answer
        // after a restore from an older backup can settle numbers the restored outbox does not
        // hold, and the changes later written under them must still count as pending (the
        // server then answers `seq_reused` and they are renumbered).
        mark = mark.min(written).max(marked);
        tx.execute(
            "UPDATE device_state SET last_push_ms = ?1, sent_through = ?2 WHERE id = 1",
            params![i64::try_from(wall).unwrap_or(i64::MAX), mark],
        )?;
        report.renumbered = renumber_settled(&tx, resp.acked_seq, &reused)?;
        let mut state = crate::store::writer_state(&tx, policy)?;
        state.hlc.calibrate(resp.server_time, wall);
        if report.retry > 0 {
            report.restamped = restamp_pending(&tx, &mut state.hlc, wall)?;
        }
        crate::store::save_clock_state(&tx, &state.hlc)?;
        if acked {
            tx.execute(
                "UPDATE sync_account SET acked_seq = ?1 WHERE id = 1",
                [i64::try_from(resp.acked_seq).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        Ok(report)
    }

    /// Takes in the server's `acked_seq` (from `status` or `push`), in one transaction:
    /// the next sequence number becomes at least `acked_seq + 1`, and pending changes whose
    /// number the server has already settled (a tablet restored from an old backup reuses
    /// them) get new numbers above it, in their order, together with every pending change
    /// after them (so a record's creation still comes before its edits). Sequence numbers are
    /// never reused (sync-protocol section 5). Returns how many changes were renumbered.
    ///
    /// A change renumbered although the server had it (a push whose answer was lost) is
    /// harmless: the server stores the same content again, which merges to the same state.
    pub fn record_status(&mut self, acked_seq: u64) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = renumber_settled(&tx, acked_seq, &[])?;
        tx.commit()?;
        Ok(n)
    }

    /// Changes the server refused for good, with the reason (for the "needs fixing" list).
    pub fn rejected_changes(&self) -> Result<Vec<(Change, Option<Rejection>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_json, rejection_json FROM outbox WHERE state = 'rejected' ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, r) = row?;
            out.push((
                serde_json::from_str(&c)?,
                r.as_deref().map(serde_json::from_str).transpose()?,
            ));
        }
        Ok(out)
    }
}

/// `next_seq = max(next_seq, acked + 1)`; the first pending change numbered at or below
/// `acked` (or named in `reused`) and every pending change after it are renumbered, in order,
/// from `acked + 1` (or above any other change numbered beyond it, or any reused number), so
/// the numbers the server sees stay gapless where they can. Returns how many were renumbered.
fn renumber_settled(tx: &rusqlite::Transaction<'_>, acked: u64, reused: &[i64]) -> Result<usize> {
    let acked = i64::try_from(acked).map_err(|_| StoreError::Corrupt("acked_seq".into()))?;
    let threshold = reused.iter().copied().fold(acked, i64::max);
    let first: Option<i64> = tx.query_row(
        &format!("SELECT min(seq) FROM outbox WHERE {PENDING} AND seq <= ?1"),
        [threshold],
        |r| r.get(0),
    )?;
    // Never a number the server settled: above acked_seq and above every number it answered
    // `seq_reused` for (normally at or below acked_seq).
    let mut next = threshold.saturating_add(1);
    let mut renumbered = 0;
    if let Some(first) = first {
        let rows: Vec<(i64, String)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT seq, change_json FROM outbox WHERE {PENDING} AND seq >= ?1
                 ORDER BY seq"
            ))?;
            stmt.query_map([first], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        // Above every change that keeps its number.
        let kept_max: i64 = tx.query_row(
            &format!(
                "SELECT COALESCE(max(seq), 0) FROM outbox WHERE NOT ({PENDING} AND seq >= ?1)"
            ),
            [first],
            |r| r.get(0),
        )?;
        next = next.max(kept_max + 1);
        // Out of the way first (new and old numbers of the moved changes may overlap).
        tx.execute(
            &format!("UPDATE outbox SET seq = -seq WHERE {PENDING} AND seq >= ?1"),
            [first],
        )?;
        for (old, json) in rows {
            let mut change: Change = serde_json::from_str(&json)?;
            change.seq = u64::try_from(next).map_err(|_| StoreError::Corrupt("seq".into()))?;
            tx.prepare_cached(
                "UPDATE outbox SET seq = ?2, change_json = ?3, rejection_json = NULL
                 WHERE seq = ?1",
            )?
            .execute(params![-old, next, serde_json::to_string(&change)?])?;
            next += 1;
            renumbered += 1;
        }
    }
    tx.execute(
        "UPDATE device_state SET next_seq = max(next_seq, ?1) WHERE id = 1",
        [next],
    )?;
    Ok(renumbered)
}

/// After a `clock_ahead` refusal: moves the clock back (never below what it observed) and
/// gives every unsent change a fresh stamp in sequence order, rewriting the bases that named
/// an old stamp, in the records and in the outbox. Sequence numbers stay. Returns how many
/// changes were re-stamped.
fn restamp_pending(
    tx: &rusqlite::Transaction<'_>,
    hlc: &mut sync_protocol::HybridClock,
    wall: u64,
) -> Result<usize> {
    use std::collections::{BTreeMap, BTreeSet};
    use sync_protocol::{Class, Stamp};
    if !hlc.repair(wall) {
        return Ok(0);
    }
    let pending: Vec<(i64, String)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT seq, change_json FROM outbox WHERE {PENDING} ORDER BY seq"
        ))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut moved: BTreeMap<Stamp, Stamp> = BTreeMap::new();
    let mut dirty: BTreeSet<(sync_protocol::RecordId, sync_protocol::EntityKind)> = BTreeSet::new();
    for (seq, json) in &pending {
        let mut change: Change = serde_json::from_str(json)?;
        let old = change.stamp();
        for b in change.base.values_mut() {
            if let Some(n) = moved.get(b) {
                *b = *n;
            }
        }
        change.hlc = match change.base.values().map(|b| b.hlc).max() {
            Some(after) => hlc.now_after(wall, after),
            None => hlc.now(wall),
        };
        let new = change.stamp();
        moved.insert(old, new);
        // A pending review names a losing stamp that may itself have moved.
        if change.kind == sync_protocol::EntityKind::ConflictReview
            && let Some(serde_json::Value::String(l)) = change.body.get("loser")
            && let Ok(l) = l.parse::<Stamp>()
            && let Some(n) = moved.get(&l)
        {
            change
                .body
                .insert("loser".into(), serde_json::Value::String(n.to_string()));
        }
        let (id, oh, nh, dev) = (
            change.id.to_string(),
            old.hlc.to_string(),
            new.hlc.to_string(),
            change.device.to_string(),
        );
        match change.kind.class() {
            Class::Mutable => {
                tx.execute(
                    "UPDATE field_edits SET hlc = ?3 WHERE record_id = ?1 AND hlc = ?2 AND device = ?4",
                    params![id, oh, nh, dev],
                )?;
                tx.execute(
                    "UPDATE mutable_tombstones SET hlc = ?3, seen_json = ?5
                     WHERE record_id = ?1 AND hlc = ?2 AND device = ?4",
                    params![id, oh, nh, dev, serde_json::to_string(&change.base)?],
                )?;
                // Later edits of this record (of this device, also being re-stamped) that
                // named the old stamp. A base names a stamp of the same record: the record id
                // keeps this an indexed update.
                tx.prepare_cached(
                    "UPDATE field_edits SET base = ?2 WHERE record_id = ?3 AND base = ?1",
                )?
                .execute(params![old.to_string(), new.to_string(), id])?;
                dirty.insert((change.id, change.kind));
            }
            Class::Fact => {
                // A fact without a `date` is dated by its stamp; a review's body may have
                // changed (its loser moved).
                let date = if change.tombstone || change.body.contains_key("date") {
                    None
                } else {
                    Some(crate::apply::stamp_date(tx, change.hlc)?)
                };
                let body = (!change.tombstone)
                    .then(|| serde_json::to_string(&change.body))
                    .transpose()?;
                // A fact's date and body may change: its due row is made again
                // (`due_rows.rs`); a tombstone's re-stamp changes no fact row's date or body.
                let old_due = if change.tombstone {
                    None
                } else {
                    crate::due_rows::key_of(tx, &id)?
                };
                let n = tx
                    .prepare_cached(
                        "UPDATE facts SET made_hlc = ?3, date = COALESCE(?5, date),
                             body_json = COALESCE(?6, body_json)
                         WHERE id = ?1 AND made_hlc = ?2 AND made_device = ?4",
                    )?
                    .execute(params![id, oh, nh, dev, date, body])?;
                if n > 0 && !change.tombstone {
                    crate::due_rows::rewrite(tx, &id, old_due, Some(&change.body))?;
                }
                tx.execute(
                    "UPDATE fact_tombstones SET hlc = ?3 WHERE record_id = ?1 AND hlc = ?2 AND device = ?4",
                    params![id, oh, nh, dev],
                )?;
            }
        }
        tx.execute(
            "UPDATE outbox SET hlc = ?2, change_json = ?3 WHERE seq = ?1",
            params![seq, nh, serde_json::to_string(&change)?],
        )?;
    }
    for (id, kind) in &dirty {
        crate::apply::refresh_mutable(tx, id, *kind)?;
    }
    Ok(pending.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The pending changes are read by the index, from the mark on: the rows the mark
    /// covers (still `pending` on their row) are not read.
    #[test]
    fn pending_rows_are_read_by_the_index_above_the_mark() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let args = params![None::<i64>, 10];
        for (sql, n) in [
            (pending_sql(), 2),
            (format!("SELECT count(*) FROM outbox WHERE {PENDING}"), 0),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(&args[..n], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("\n");
            assert!(
                plan.contains("USING COVERING INDEX outbox_state (state=? AND seq>?)")
                    || plan.contains("USING INDEX outbox_state (state=? AND seq>?)"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}

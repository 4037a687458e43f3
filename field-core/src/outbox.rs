//! The outbox: local changes in device sequence order, until the server has them.

use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sync_protocol::{Change, OutcomeStatus, PushResponse, Rejection};

/// What recording a push response did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub sent: usize,
    pub rejected: usize,
    /// Rejections the device must fix and retry (its clock): still pending.
    pub retry: usize,
    /// Unsent changes given fresh stamps after a `clock_ahead` refusal (push them again).
    pub restamped: usize,
}

impl Store {
    /// The oldest pending changes, in sequence order, up to `limit`.
    pub fn pending_changes(&self, limit: usize) -> Result<Vec<Change>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_json FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            r.get::<_, String>(0)
        })?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    /// Records the server's answer to a push, in one transaction: accepted and duplicate
    /// changes are sent; a final rejection is taken out of the records (no other replica will
    /// ever have it) and kept in the outbox with its reason for the kader to see and redo;
    /// retryable ones (clock ahead) stay pending, and when the clock ran ahead it is repaired
    /// and every unsent change re-stamped (same sequence numbers). The clock learns the
    /// server's time.
    pub fn record_push_outcomes(&mut self, resp: &PushResponse) -> Result<PushReport> {
        let wall = self.clock.now_ms();
        let policy = self.policy;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = PushReport::default();
        for o in &resp.outcomes {
            let seq = i64::try_from(o.seq).map_err(|_| StoreError::Corrupt("seq".into()))?;
            match o.status {
                OutcomeStatus::Accepted | OutcomeStatus::Duplicate => {
                    tx.prepare_cached(
                        "UPDATE outbox SET state = 'sent', rejection_json = NULL WHERE seq = ?1",
                    )?
                    .execute([seq])?;
                    report.sent += 1;
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
                    }
                }
            }
        }
        let mut state = crate::store::writer_state(&tx, policy)?;
        state.hlc.calibrate(resp.server_time, wall);
        if report.retry > 0 {
            report.restamped = restamp_pending(&tx, &mut state.hlc, wall)?;
        }
        crate::store::save_clock_state(&tx, &state.hlc)?;
        tx.execute(
            "UPDATE device_state SET last_push_ms = ?1 WHERE id = 1",
            [i64::try_from(wall).unwrap_or(i64::MAX)],
        )?;
        tx.commit()?;
        Ok(report)
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
        let mut stmt =
            tx.prepare("SELECT seq, change_json FROM outbox WHERE state = 'pending' ORDER BY seq")?;
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
                // Later edits (of this device, also being re-stamped) that named the old stamp.
                tx.execute(
                    "UPDATE field_edits SET base = ?2 WHERE base = ?1",
                    params![old.to_string(), new.to_string()],
                )?;
                dirty.insert((change.id, change.kind));
            }
            Class::Fact => {
                tx.execute(
                    "UPDATE facts SET made_hlc = ?3 WHERE id = ?1 AND made_hlc = ?2 AND made_device = ?4",
                    params![id, oh, nh, dev],
                )?;
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

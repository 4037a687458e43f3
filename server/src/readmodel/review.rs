//! What waits for a bidan's review (Tinjauan, issue 17) at or under a place: conflicts no
//! live `conflict_review` fact has decided, and the likely duplicates of [`duplicates`],
//! each with since when it waits; summed per posyandu for the dashboard.
//!
//! A conflict waits since the later of its two edits (the winner's and the loser's stamp:
//! the moment both existed); a pair since its `found_at`. A conflict counts in its record's
//! posyandu; a pair in each of its two persons' posyandu (once when both are of one): each
//! posyandu has a person waiting for the decision.

use super::duplicates::{self, FoundPair, hlc_ms};
use super::{Param, text};
use crate::storage::{Storage, StorageError};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The conflicts of the records at or under `?1`, with their record's posyandu.
const CONFLICTS: &str = "SELECT x.record_id, x.kind, x.field, x.winner_hlc, x.loser_hlc,
        x.loser_device, x.posyandu
    FROM (
        SELECT c.record_id, c.kind, c.field, c.winner_hlc, c.loser_hlc, c.loser_device,
               COALESCE(p.posyandu, h.posyandu, g.posyandu, r.posyandu) AS posyandu
        FROM conflicts c
        LEFT JOIN persons p ON p.id = c.record_id
        LEFT JOIN households h ON h.id = c.record_id
        LEFT JOIN pregnancies g ON g.id = c.record_id
        LEFT JOIN referrals r ON r.id = c.record_id
    ) x JOIN place_tree t ON t.code = x.posyandu
    WHERE t.ancestor = ?1";

/// A conflict nobody has reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingConflict {
    pub record: String,
    /// The record's kind (`person`, `household`, …).
    pub kind: String,
    /// The field at issue (`_deleted` for a deletion overridden).
    pub field: String,
    pub posyandu: String,
    /// Unix milliseconds.
    pub since_ms: u64,
}

/// Everything waiting at or under a place.
#[derive(Debug, Clone, Default)]
pub struct Waiting {
    pub conflicts: Vec<WaitingConflict>,
    pub pairs: Vec<FoundPair>,
}

/// What waits in one posyandu.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PosyanduWaiting {
    pub conflicts: u64,
    /// Unix milliseconds of the oldest conflict waiting.
    pub oldest_conflict_ms: Option<u64>,
    pub duplicates: u64,
    pub oldest_duplicate_ms: Option<u64>,
}

/// `(record, field, loser stamp)` of every live `conflict_review`: the conflicts decided.
async fn reviewed(store: &dyn Storage) -> Result<HashSet<(String, String, String)>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT subject, body_json FROM facts
             WHERE kind = 'conflict_review' AND deleted = 0"
                .into(),
            vec![],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let record = text(r, 0)?;
            let body: Value = serde_json::from_str(&text(r, 1)?).ok()?;
            let field = body.get("field")?.as_str()?.to_string();
            let loser = body.get("loser")?.as_str()?.to_string();
            Some((record, field, loser))
        })
        .collect())
}

/// The conflicts waiting at or under `place`, the oldest first.
pub async fn conflicts(
    store: &dyn Storage,
    place: &str,
) -> Result<Vec<WaitingConflict>, StorageError> {
    let rows = store
        .read_rows(CONFLICTS.into(), vec![Param::Text(place.to_string())])
        .await?;
    let done = reviewed(store).await?;
    let mut out: Vec<WaitingConflict> = rows
        .iter()
        .filter_map(|r| {
            let (record, kind, field) = (text(r, 0)?, text(r, 1)?, text(r, 2)?);
            let (winner, loser) = (text(r, 3), text(r, 4)?);
            let loser_stamp = format!("{loser}.{}", text(r, 5)?);
            if done.contains(&(record.clone(), field.clone(), loser_stamp)) {
                return None;
            }
            Some(WaitingConflict {
                since_ms: hlc_ms(winner.as_deref()).max(hlc_ms(Some(&loser))),
                posyandu: text(r, 6)?,
                record,
                kind,
                field,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.since_ms, &a.record, &a.field).cmp(&(b.since_ms, &b.record, &b.field)));
    Ok(out)
}

/// Conflicts and likely duplicates waiting at or under `place` (the caller checks scope).
pub async fn waiting(store: &dyn Storage, place: &str) -> Result<Waiting, StorageError> {
    Ok(Waiting {
        conflicts: conflicts(store, place).await?,
        pairs: duplicates::find(store, place).await?,
    })
}

impl Waiting {
    /// Only what concerns the places for which `keep(posyandu)` holds: their conflicts, and
    /// the pairs with a person in one of them.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.conflicts.retain(|c| keep(&c.posyandu));
        self.pairs
            .retain(|p| keep(&p.first_posyandu) || keep(&p.second_posyandu));
    }

    /// Counts and the oldest per posyandu (only posyandu with something waiting).
    pub fn per_posyandu(&self) -> BTreeMap<String, PosyanduWaiting> {
        let mut out: BTreeMap<String, PosyanduWaiting> = BTreeMap::new();
        let older = |a: Option<u64>, b: u64| Some(a.map_or(b, |a| a.min(b)));
        for c in &self.conflicts {
            let w = out.entry(c.posyandu.clone()).or_default();
            w.conflicts += 1;
            w.oldest_conflict_ms = older(w.oldest_conflict_ms, c.since_ms);
        }
        for p in &self.pairs {
            let mut places = vec![&p.first_posyandu];
            if p.second_posyandu != p.first_posyandu {
                places.push(&p.second_posyandu);
            }
            for code in places {
                let w = out.entry(code.clone()).or_default();
                w.duplicates += 1;
                w.oldest_duplicate_ms = older(w.oldest_duplicate_ms, p.found_at_ms);
            }
        }
        out
    }
}

/// Whole days from `since_ms` to `now_ms` (0 when in the future).
pub fn days_waiting(since_ms: u64, now_ms: u64) -> i64 {
    i64::try_from(now_ms.saturating_sub(since_ms) / 86_400_000).unwrap_or(i64::MAX)
}

//! Tinjauan (issue #17): the review queue and its decisions, on the unlocked store
//! (field-core's `review` module). Who may decide what is field-core's rule (the server's).

use super::AppCore;
use crate::error::{AppError, record_id};
use field_core::{
    ConflictKey, DueEntry, DuplicatePair, PairComparison, Resolution, ReviewConflict, ReviewCounts,
};
use serde::Serialize;
use sync_protocol::RecordId;

/// The Tinjauan screen: the three sections and their counts.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewQueue {
    pub counts: ReviewCounts,
    pub conflicts: Vec<ReviewConflict>,
    pub duplicates: Vec<DuplicatePair>,
    pub problems: Vec<DueEntry>,
}

/// An optional note: blank means none.
fn note(n: Option<String>) -> Option<String> {
    n.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl AppCore {
    /// Everything waiting for the unlocked user's decision.
    pub fn review_queue(&self) -> Result<ReviewQueue, AppError> {
        self.with_store(|s| {
            let conflicts = s.review_conflicts()?;
            let duplicates = s.duplicate_pairs()?;
            let problems = s.data_problems()?;
            let counts = ReviewCounts {
                conflicts: conflicts.len() as u64,
                duplicates: duplicates.len() as u64,
                problems: problems.len() as u64,
                total: (conflicts.len() + duplicates.len() + problems.len()) as u64,
                supervisor: s.is_supervisor(),
            };
            Ok(ReviewQueue {
                counts,
                conflicts,
                duplicates,
                problems,
            })
        })
    }

    /// Decides a conflict (keep, take the other, or a corrected value).
    pub fn resolve_conflict(
        &self,
        key: ConflictKey,
        resolution: Resolution,
        note_text: Option<String>,
    ) -> Result<RecordId, AppError> {
        let n = note(note_text);
        self.with_store(|s| Ok(s.resolve_conflict(&key, &resolution, n.as_deref())?))
    }

    /// Two persons side by side.
    pub fn compare_pair(&self, first: &str, second: &str) -> Result<PairComparison, AppError> {
        let a = record_id("first", first)?;
        let b = record_id("second", second)?;
        self.with_store(|s| Ok(s.compare_pair(a, b)?))
    }

    /// "Orang yang sama": `kept` survives, taking the fields named in `take` from `merged`.
    pub fn merge_same_person(
        &self,
        kept: &str,
        merged: &str,
        take: Vec<String>,
        reason: Option<String>,
    ) -> Result<RecordId, AppError> {
        let k = record_id("kept", kept)?;
        let m = record_id("merged", merged)?;
        let r = note(reason);
        self.with_store(|s| Ok(s.merge_same_person(k, m, &take, r.as_deref())?))
    }

    /// "Bukan orang yang sama": the pair is not proposed again, on any tablet.
    pub fn dismiss_duplicate(
        &self,
        first: &str,
        second: &str,
        note_text: Option<String>,
    ) -> Result<RecordId, AppError> {
        let a = record_id("first", first)?;
        let b = record_id("second", second)?;
        let n = note(note_text);
        self.with_store(|s| Ok(s.dismiss_duplicate(a, b, n.as_deref())?))
    }
}

//! Answers of the `/v1/reports` routes kept in memory, per process, until the data they were
//! computed from changes: a report of the whole kabupaten reads every under-five's history
//! (seconds at kabupaten size), while the dashboard asks the same question again and again.
//!
//! An answer is kept with the read model's [`Generation`] read *before* it was computed, and
//! served only while the generation is unchanged. The generation moves with every change
//! the read model can see:
//! - a push (the log's last `sseq`: on both backends log order is commit order, the same
//!   invariant pull's cursor relies on, so a committed push always raises it);
//! - a quarantine or release (the quarantine log's length: each action adds a row);
//! - a rebuild (`read_model_state`: the cursor, the rebuilding flag, its `updated_at`);
//! - the place hierarchy (count and total text length of `places`, which the answers name).
//!
//! Data committed between reading the generation and computing makes a kept answer newer
//! than its generation, never older; the next request sees a new generation and computes
//! again. Answers also expire after [`MAX_AGE`] (a place renamed to a name of the same
//! length is seen then), and the cache holds at most [`MAX_BYTES`] (oldest dropped first).

use super::{Cell, Param};
use crate::Storage;
use crate::storage::StorageError;
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is kept at most, even with nothing changed.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// The most answer bytes kept.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

/// What the read model's answers depend on, read in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation(Vec<Cell>);

impl Generation {
    /// The log's last `sseq` (0 for an empty log).
    pub fn log_end(&self) -> i64 {
        self.0.first().and_then(Cell::int).unwrap_or(0)
    }

    /// The last `sseq` the read model has merged, as far as the log goes: the smaller of the
    /// log's end and the read model's cursor (`applied_through`). Per-posyandu parts claim to
    /// reflect the log only up to here, so a read model that merges after the push (a
    /// follower) never has a part claim a change it has not merged yet.
    pub fn merged_end(&self) -> i64 {
        let cursor = self.0.get(2).and_then(Cell::int).unwrap_or(0);
        self.log_end().min(cursor)
    }

    /// A rebuild is in progress.
    pub fn rebuilding(&self) -> bool {
        self.0.get(3).and_then(Cell::int).unwrap_or(0) != 0
    }

    /// The quarantine log's length (each quarantine or release adds a row).
    pub fn quarantine_actions(&self) -> i64 {
        self.0.get(1).and_then(Cell::int).unwrap_or(0)
    }

    /// Everything but the log's end, the cursor (which every push moves) and the quarantine
    /// log's length: the rebuild state and the places. Per-posyandu parts ([`super::parts`])
    /// are all recomputed when it moves; a push, a quarantine or a release only makes the
    /// posyandu it touched stale.
    pub fn structure(&self) -> Vec<Cell> {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 0 && *i != 1 && *i != 2)
            .map(|(_, c)| c.clone())
            .collect()
    }
}

const GENERATION: &str = "SELECT
        (SELECT COALESCE(MAX(sseq), 0) FROM changes),
        (SELECT COUNT(*) FROM change_quarantine_log),
        s.applied_through, s.rebuilding, COALESCE(s.updated_at, 0),
        (SELECT COUNT(*) FROM places),
        (SELECT CAST(COALESCE(SUM(LENGTH(code) + LENGTH(name)
                + LENGTH(COALESCE(parent, ''))), 0) AS BIGINT) FROM places)
    FROM read_model_state s WHERE s.id = 1";

/// The read model's generation now.
pub async fn generation(store: &dyn Storage) -> Result<Generation, StorageError> {
    let rows = store
        .read_rows(GENERATION.into(), Vec::<Param>::new())
        .await?;
    Ok(Generation(rows.into_iter().next().unwrap_or_default()))
}

struct Entry {
    generation: Generation,
    made: Instant,
    body: Bytes,
}

/// Kept answers by key (the route and every parameter its answer depends on).
#[derive(Default)]
pub struct ReportCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// The per-posyandu parts the answers are made of: after a push, only the posyandu it
    /// touched are computed again.
    pub parts: super::parts::PartCache,
}

impl ReportCache {
    /// The answer kept for `key` at `generation`, if any and not expired.
    pub fn get(&self, key: &str, generation: &Generation) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| &e.generation == generation && e.made.elapsed() < MAX_AGE)
            .map(|e| e.body.clone())
    }

    /// Keeps `body` as the answer for `key` at `generation`; drops answers of other
    /// generations, the expired, and the oldest beyond [`MAX_BYTES`].
    pub fn put(&self, key: String, generation: Generation, body: Bytes) {
        if body.len() > MAX_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, e| e.generation == generation && e.made.elapsed() < MAX_AGE);
        entries.insert(
            key,
            Entry {
                generation,
                made: Instant::now(),
                body,
            },
        );
        let mut total: usize = entries.values().map(|e| e.body.len()).sum();
        while total > MAX_BYTES {
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.made)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = entries.remove(&oldest) {
                total -= e.body.len();
            }
        }
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(n: i64) -> Generation {
        Generation(vec![Cell::Int(n)])
    }

    #[test]
    fn an_answer_is_served_only_at_its_generation() {
        let c = ReportCache::default();
        assert!(c.get("skdn", &g(1)).is_none());
        c.put("skdn".into(), g(1), Bytes::from_static(b"one"));
        assert_eq!(c.get("skdn", &g(1)).as_deref(), Some(&b"one"[..]));
        assert!(
            c.get("skdn", &g(2)).is_none(),
            "a push moved the generation"
        );
        assert!(c.get("nutrition", &g(1)).is_none(), "another key");
        c.put("nutrition".into(), g(2), Bytes::from_static(b"two"));
        assert_eq!(c.len(), 1, "answers of an older generation are dropped");
        assert!(c.get("skdn", &g(1)).is_none());
    }
}

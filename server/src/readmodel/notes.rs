//! What devices tell of themselves at `status` and `pull` ([`SyncNote`]), kept in memory and
//! written in batches (`device_sync`, read by `GET /v1/reports/tablets` and the Tablet page).
//!
//! A check-in that finds nothing new used to cost a committed write of its own (on SQLite an
//! fsync under the single writer, on PostgreSQL a commit): with 2,000 tablets checking in,
//! 2,000 writes. Now a note only updates a map; the first note after a write schedules the
//! next write [`FLUSH_AFTER`] later, which stores every device's latest note in one
//! transaction. A read of the read model in this process writes the notes waiting first
//! (`ReadModel::read_rows`), so the tablets' report here always shows every note taken.
//!
//! **What a crash can lose**: the notes of the last [`FLUSH_AFTER`] (a tablet's last pull
//! time and its last reported outbox number), never a change, a cursor or an acknowledgement.
//! The tablet's next status or pull notes them again; until then the report shows the
//! previous contact (a push still sets `devices.last_sync_at` in its own transaction). A
//! graceful shutdown writes them (`serve`). Several server processes on one PostgreSQL each
//! write their own notes; the write keeps the later pull time and the later report of each
//! device, so an older batch never overwrites a newer one.

use super::SyncNote;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use sync_protocol::DeviceId;

/// How long a note waits in memory at most (unless a read or a shutdown writes it sooner).
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// A device's notes not yet written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// The latest status report: the outbox's highest sequence number, and when (ms).
    pub reported: Option<(u64, u64)>,
    /// The latest completed pull (ms).
    pub pulled_at: Option<u64>,
}

impl Pending {
    /// `reported_seq`, `reported_at`, `last_pull_at` as database integers.
    pub fn columns(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        (
            self.reported.map(|(seq, _)| int(seq)),
            self.reported.map(|(_, at)| int(at)),
            self.pulled_at.map(int),
        )
    }
}

/// The notes waiting to be written, one entry per device (the latest of each kind).
#[derive(Debug, Default)]
pub struct SyncNotes {
    pending: Mutex<HashMap<DeviceId, Pending>>,
}

impl SyncNotes {
    /// Keeps a note. True when nothing was waiting before: the caller schedules the write
    /// (after [`FLUSH_AFTER`]); otherwise one is scheduled already.
    pub fn add(&self, device: DeviceId, note: SyncNote, now: u64) -> bool {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let first = m.is_empty();
        let e = m.entry(device).or_default();
        match note {
            SyncNote::Status { last_seq } => {
                if e.reported.is_none_or(|(_, at)| at <= now) {
                    e.reported = Some((last_seq, now));
                }
            }
            SyncNote::Pull => e.pulled_at = Some(e.pulled_at.map_or(now, |t| t.max(now))),
        }
        first
    }

    /// Takes every note waiting (the caller writes them).
    pub fn take(&self) -> Vec<(DeviceId, Pending)> {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        m.drain().collect()
    }

    /// Puts back notes whose write failed, unless newer ones came meanwhile.
    pub fn restore(&self, notes: Vec<(DeviceId, Pending)>) {
        let mut m = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (device, old) in notes {
            let e = m.entry(device).or_default();
            if e.reported.is_none() {
                e.reported = old.reported;
            }
            e.pulled_at = e.pulled_at.max(old.pulled_at);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

/// The upsert of one device's notes (SQLite's dialect; the PostgreSQL backend writes the same
/// with `UNNEST` and `GREATEST`): a later report replaces an earlier one, the later pull
/// time is kept.
pub const UPSERT_SQLITE: &str =
    "INSERT INTO device_sync (device_id, reported_seq, reported_at, last_pull_at)
     VALUES (?1, COALESCE(?2, 0), ?3, ?4)
     ON CONFLICT (device_id) DO UPDATE SET
       reported_seq = CASE WHEN excluded.reported_at >= COALESCE(device_sync.reported_at, 0)
                      THEN excluded.reported_seq ELSE device_sync.reported_seq END,
       reported_at = CASE WHEN excluded.reported_at >= COALESCE(device_sync.reported_at, 0)
                     THEN excluded.reported_at ELSE device_sync.reported_at END,
       last_pull_at = CASE WHEN excluded.last_pull_at IS NULL THEN device_sync.last_pull_at
                      WHEN device_sync.last_pull_at IS NULL THEN excluded.last_pull_at
                      ELSE MAX(device_sync.last_pull_at, excluded.last_pull_at) END";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_coalesce_per_device_and_keep_the_latest() {
        let notes = SyncNotes::default();
        let a = DeviceId::new_v7();
        let b = DeviceId::new_v7();
        assert!(
            notes.add(a, SyncNote::Pull, 10),
            "the first note schedules a write"
        );
        assert!(!notes.add(a, SyncNote::Pull, 30));
        assert!(
            !notes.add(a, SyncNote::Pull, 20),
            "an older pull time is not kept"
        );
        assert!(!notes.add(a, SyncNote::Status { last_seq: 7 }, 25));
        assert!(!notes.add(b, SyncNote::Status { last_seq: 3 }, 26));
        assert!(!notes.add(b, SyncNote::Status { last_seq: 5 }, 27));
        let mut taken = notes.take();
        taken.sort_by_key(|(d, _)| *d);
        let mut want = vec![
            (
                a,
                Pending {
                    reported: Some((7, 25)),
                    pulled_at: Some(30),
                },
            ),
            (
                b,
                Pending {
                    reported: Some((5, 27)),
                    pulled_at: None,
                },
            ),
        ];
        want.sort_by_key(|(d, _)| *d);
        assert_eq!(taken, want);
        assert!(notes.is_empty());
        assert!(
            notes.add(b, SyncNote::Pull, 40),
            "after a take, the next note schedules"
        );
        // A failed write's notes come back, without hiding newer ones.
        notes.restore(want);
        let mut again = notes.take();
        again.sort_by_key(|(d, _)| *d);
        assert_eq!(again[0].1.pulled_at.max(again[1].1.pulled_at), Some(40));
        let b_notes = again.iter().find(|(d, _)| *d == b).map(|x| x.1);
        assert_eq!(
            b_notes,
            Some(Pending {
                reported: Some((5, 27)),
                pulled_at: Some(40)
            })
        );
    }
}

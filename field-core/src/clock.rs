//! The wall clock, injectable so tests can set the tablet a year ahead.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A clock a test sets by hand. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ms)))
    }
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// WITA (UTC+8), the time zone of Kabupaten Belu: dates a kader sees are local dates.
pub const WITA_OFFSET_MS: i64 = 8 * 3600 * 1000;

/// The local (WITA) calendar date `YYYY-MM-DD` of a physical time.
pub fn local_date(ms: u64) -> chrono::NaiveDate {
    local_date_at(ms, WITA_OFFSET_MS)
}

/// The calendar date of a physical time in a zone `offset_ms` east of UTC.
pub fn local_date_at(ms: u64, offset_ms: i64) -> chrono::NaiveDate {
    let local = i64::try_from(ms)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_ms);
    chrono::DateTime::from_timestamp_millis(local)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

//! Prometheus text-format metrics, kept in memory: requests by route and status, changes
//! accepted, duplicate and rejected (by code), changes served by pull, and the sync lag (how
//! long after it was made on a device a change reached the server).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the sync-lag histogram, in seconds (a minute to a month).
const LAG_BUCKETS_S: [f64; 8] = [
    60.0,
    600.0,
    3_600.0,
    21_600.0,
    86_400.0,
    259_200.0,
    604_800.0,
    2_592_000.0,
];

/// Upper bounds of the server-time histogram of pulls that found nothing new, in seconds
/// (0.1 ms to 1 s: a check-in should cost well under a millisecond).
pub const PULL_EMPTY_BUCKETS_S: [f64; 16] = [
    0.000_1, 0.000_2, 0.000_3, 0.000_5, 0.000_75, 0.001, 0.001_5, 0.002, 0.003, 0.005, 0.010,
    0.025, 0.050, 0.100, 0.250, 1.0,
];

/// A histogram of server times (cumulative counts per bucket of [`PULL_EMPTY_BUCKETS_S`],
/// count, sum in seconds).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct TimeHistogram {
    pub buckets: [u64; 16],
    pub count: u64,
    pub sum_s: f64,
}

impl TimeHistogram {
    fn observe(&mut self, seconds: f64) {
        for (i, b) in PULL_EMPTY_BUCKETS_S.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum_s += seconds.max(0.0);
    }

    /// The upper bound of the bucket holding the `q` quantile (seconds; infinite above the
    /// last bucket, `None` when empty), counting only what came after `before`.
    pub fn quantile_since(&self, before: &TimeHistogram, q: f64) -> Option<f64> {
        let n = self.count.checked_sub(before.count)?;
        if n == 0 {
            return None;
        }
        let want = ((n as f64) * q).ceil().max(1.0) as u64;
        for (i, b) in PULL_EMPTY_BUCKETS_S.iter().enumerate() {
            if self.buckets[i].saturating_sub(before.buckets[i]) >= want {
                return Some(*b);
            }
        }
        Some(f64::INFINITY)
    }

    /// Mean server time (seconds) of what came after `before`.
    pub fn mean_since(&self, before: &TimeHistogram) -> Option<f64> {
        let n = self.count.checked_sub(before.count)?;
        (n > 0).then(|| (self.sum_s - before.sum_s) / n as f64)
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    request_seconds: Mutex<BTreeMap<&'static str, (f64, u64)>>,
    pub changes_accepted: AtomicU64,
    pub changes_duplicate: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    pub changes_pulled: AtomicU64,
    /// Stored changes over the page's byte limit, passed over by pull (never served).
    pub changes_skipped: AtomicU64,
    lag: Mutex<([u64; 8], u64, f64)>,
    pub in_flight_pushes: AtomicU64,
    /// Server time of pulls that sent no change (a tablet's check-in with nothing new): from
    /// the request's routing to its answer, session lookup and the page's queries included,
    /// the HTTP exchange and the response's compression not.
    pull_empty: Mutex<TimeHistogram>,
    /// Titip bundles opened and judged (section 10).
    pub titip_bundles: AtomicU64,
    /// Titip bundles refused (altered, unsigned, revoked sender, ...).
    pub titip_refused: AtomicU64,
    /// Check-ins (pull or status) answered with what was read together with their session
    /// (`crate::checkin`: PostgreSQL, a session remembered from an earlier check-in).
    pub checkins_at_once: AtomicU64,
}

impl Metrics {
    pub fn request(&self, route: &'static str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status)).or_default() += 1;
        }
        if let Ok(mut m) = self.request_seconds.lock() {
            let e = m.entry(route).or_default();
            e.0 += seconds;
            e.1 += 1;
        }
    }

    /// A pull that sent no change took `seconds` of server time.
    pub fn pull_nothing_new(&self, seconds: f64) {
        if let Ok(mut h) = self.pull_empty.lock() {
            h.observe(seconds);
        }
    }

    /// The histogram of [`Metrics::pull_nothing_new`] so far.
    pub fn pull_nothing_new_histogram(&self) -> TimeHistogram {
        self.pull_empty.lock().map(|h| *h).unwrap_or_default()
    }

    pub fn rejected(&self, code: &'static str) {
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(code).or_default() += 1;
        }
    }

    pub fn lag(&self, seconds: f64) {
        if let Ok(mut l) = self.lag.lock() {
            for (i, b) in LAG_BUCKETS_S.iter().enumerate() {
                if seconds <= *b {
                    l.0[i] += 1;
                }
            }
            l.1 += 1;
            l.2 += seconds.max(0.0);
        }
    }

    /// The metrics in Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP jangkau_http_requests_total HTTP requests by route and status.\n# TYPE jangkau_http_requests_total counter"
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "jangkau_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP jangkau_http_request_seconds Time spent answering, by route.\n# TYPE jangkau_http_request_seconds summary"
        );
        if let Ok(m) = self.request_seconds.lock() {
            for (route, (sum, n)) in m.iter() {
                let _ = writeln!(
                    out,
                    "jangkau_http_request_seconds_sum{{route=\"{route}\"}} {sum}\njangkau_http_request_seconds_count{{route=\"{route}\"}} {n}"
                );
            }
        }
        let counters = [
            (
                "jangkau_changes_accepted_total",
                "Changes stored by push.",
                &self.changes_accepted,
            ),
            (
                "jangkau_changes_duplicate_total",
                "Changes pushed again after they were stored.",
                &self.changes_duplicate,
            ),
            (
                "jangkau_changes_pulled_total",
                "Changes sent to devices by pull.",
                &self.changes_pulled,
            ),
            (
                "jangkau_changes_skipped_total",
                "Stored changes over the pull page's byte limit, passed over (never served).",
                &self.changes_skipped,
            ),
            (
                "jangkau_titip_bundles_total",
                "Titip bundles a carrier handed over, opened and judged.",
                &self.titip_bundles,
            ),
            (
                "jangkau_titip_refused_total",
                "Titip bundles refused: altered, truncated, badly signed or of a revoked device.",
                &self.titip_refused,
            ),
            (
                "jangkau_checkins_at_once_total",
                "Check-ins answered with the page or status read together with their session.",
                &self.checkins_at_once,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP jangkau_changes_rejected_total Changes refused by push, by reason.\n# TYPE jangkau_changes_rejected_total counter"
        );
        if let Ok(m) = self.rejected.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(out, "jangkau_changes_rejected_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP jangkau_push_in_flight Push batches being stored now.\n# TYPE jangkau_push_in_flight gauge\njangkau_push_in_flight {}",
            self.in_flight_pushes.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP jangkau_sync_lag_seconds Time from a change's stamp on the device to its arrival.\n# TYPE jangkau_sync_lag_seconds histogram"
        );
        if let Ok(l) = self.lag.lock() {
            for (i, b) in LAG_BUCKETS_S.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "jangkau_sync_lag_seconds_bucket{{le=\"{b}\"}} {}",
                    l.0[i]
                );
            }
            let _ = writeln!(
                out,
                "jangkau_sync_lag_seconds_bucket{{le=\"+Inf\"}} {}\njangkau_sync_lag_seconds_sum {}\njangkau_sync_lag_seconds_count {}",
                l.1, l.2, l.1
            );
        }
        let _ = writeln!(
            out,
            "# HELP jangkau_pull_nothing_new_seconds Server time of pulls that sent no change.\n# TYPE jangkau_pull_nothing_new_seconds histogram"
        );
        let h = self.pull_nothing_new_histogram();
        for (i, b) in PULL_EMPTY_BUCKETS_S.iter().enumerate() {
            let _ = writeln!(
                out,
                "jangkau_pull_nothing_new_seconds_bucket{{le=\"{b}\"}} {}",
                h.buckets[i]
            );
        }
        let _ = writeln!(
            out,
            "jangkau_pull_nothing_new_seconds_bucket{{le=\"+Inf\"}} {}\njangkau_pull_nothing_new_seconds_sum {}\njangkau_pull_nothing_new_seconds_count {}",
            h.count, h.sum_s, h.count
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nothing_new_histogram_counts_and_places_quantiles() {
        let m = Metrics::default();
        let before = m.pull_nothing_new_histogram();
        for ms in [0.15, 0.4, 0.4, 0.9, 4.0] {
            m.pull_nothing_new(ms / 1000.0);
        }
        let h = m.pull_nothing_new_histogram();
        assert_eq!(h.count, 5);
        assert_eq!(h.quantile_since(&before, 0.5), Some(0.000_5));
        assert_eq!(h.quantile_since(&before, 0.99), Some(0.005));
        let mean = h.mean_since(&before).expect("mean");
        assert!((mean - 0.00117).abs() < 1e-9, "{mean}");
        assert!(
            m.render()
                .contains("jangkau_pull_nothing_new_seconds_count 5"),
            "rendered"
        );
        assert_eq!(h.quantile_since(&h, 0.5), None);
    }
}

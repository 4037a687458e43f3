//! Retries: exponential backoff with jitter (1 s, 2 s, 4 s … capped at 5 min, ±50 %), and an
//! injectable sleeper so tests run without waiting.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How a failed request is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay before the first retry (before jitter).
    pub initial: Duration,
    /// No delay (before jitter) is longer than this.
    pub max: Duration,
    /// Each delay is multiplied by a random factor in `1 ± jitter`.
    pub jitter: f64,
    /// Retries of one request before the run gives up (the next run starts again).
    pub max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            jitter: 0.5,
            max_retries: 8,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry), with `unit` a random
    /// number in `[0, 1)` choosing the jitter.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let factor = 2f64.powi(i32::try_from(attempt.min(62)).unwrap_or(62));
        let base = (self.initial.as_secs_f64() * factor).min(self.max.as_secs_f64());
        let jitter = self.jitter.clamp(0.0, 1.0);
        let unit = unit.clamp(0.0, 1.0);
        Duration::from_secs_f64((base * (1.0 + jitter * (2.0 * unit - 1.0))).max(0.0))
    }

    /// As [`Self::delay`] with fresh randomness, and never shorter than the server's
    /// `Retry-After`.
    pub fn next_delay(&self, attempt: u32, retry_after_s: Option<u32>) -> Duration {
        let d = self.delay(attempt, random_unit());
        match retry_after_s {
            Some(s) => d.max(Duration::from_secs(u64::from(s))),
            None => d,
        }
    }
}

/// A random number in `[0, 1)` from the operating system's generator.
fn random_unit() -> f64 {
    use chacha20poly1305::aead::OsRng;
    use chacha20poly1305::aead::rand_core::RngCore;
    let bits = OsRng.next_u64() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// A boxed future of a sleep.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits between retries. The default sleeps with tokio; tests record the delays instead.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, d: Duration) -> SleepFuture;
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Does not wait; remembers every delay asked for (for tests).
#[derive(Debug, Clone, Default)]
pub struct RecordingSleeper(pub std::sync::Arc<std::sync::Mutex<Vec<Duration>>>);

impl RecordingSleeper {
    pub fn delays(&self) -> Vec<Duration> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) -> SleepFuture {
        if let Ok(mut v) = self.0.lock() {
            v.push(d);
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_to_a_five_minute_cap_with_half_jitter() {
        let b = Backoff::default();
        let secs = |a, u| b.delay(a, u).as_secs_f64();
        assert_eq!(secs(0, 0.5), 1.0);
        assert_eq!(secs(1, 0.5), 2.0);
        assert_eq!(secs(2, 0.5), 4.0);
        assert_eq!(secs(8, 0.5), 256.0);
        assert_eq!(secs(9, 0.5), 300.0);
        assert_eq!(secs(60, 0.5), 300.0);
        assert_eq!(secs(0, 0.0), 0.5);
        assert!((secs(0, 0.999_999) - 1.5).abs() < 1e-3);
        assert_eq!(secs(20, 0.0), 150.0);
        for a in 0..20 {
            let d = b.next_delay(a, None).as_secs_f64();
            let base = (2f64.powi(a as i32)).min(300.0);
            assert!(d >= base * 0.5 && d <= base * 1.5, "{a}: {d}");
        }
        assert!(b.next_delay(0, Some(30)) >= Duration::from_secs(30));
    }
}

//! A small seeded generator (SplitMix64): every random choice of a run follows from one
//! printed seed, and `JANGKAU_CRASH_SEED=<seed>` repeats it.

use std::time::Duration;

pub struct Rng(u64);

impl Rng {
    /// Seeded from `JANGKAU_CRASH_SEED`, else from the clock; prints the seed.
    pub fn seeded(test: &str) -> Rng {
        let seed = std::env::var("JANGKAU_CRASH_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{test}: seed {seed} (repeat with JANGKAU_CRASH_SEED={seed})");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, d)`.
    pub fn within(&mut self, d: Duration) -> Duration {
        d.mul_f64(self.unit())
    }
}

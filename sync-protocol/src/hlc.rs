//! Hybrid logical clock (HLC) and the clock policy.
//!
//! A timestamp is `(wall_ms, counter)`: milliseconds since the Unix epoch and a counter that
//! orders events inside one millisecond. Ties between devices are broken by the device id
//! (see `merge`), so the order of any two edits is total and the same on every replica.
//!
//! # Policy
//! 1. **Physical time** is the device's wall clock plus an *offset* learned from the server at
//!    enrolment and at every sync ([`HybridClock::calibrate`]). A tablet whose clock is days
//!    off stamps with (roughly) the server's time after its first contact.
//! 2. **Monotonic**: a stamp is always greater than every stamp this clock issued or observed
//!    before, even when the wall clock jumps backwards (battery out, user fiddling).
//! 3. **Bounded ahead**: a receiver never absorbs a remote stamp more than
//!    [`ClockPolicy::max_ahead_ms`] ahead of its own physical time
//!    ([`HybridClock::observe`] returns [`ClockError::TooFarAhead`]); the district server
//!    rejects such a pushed change with `clock_ahead` and keeps nothing of it, so one tablet
//!    set a year ahead cannot drag every clock in the district with it.
//! 4. **Repair**: a device told its stamps are too far ahead recalibrates and calls
//!    [`HybridClock::repair`], which may move the clock *back*. This is safe because the
//!    stamps it gives up were never accepted by anyone; the device then re-stamps its unsent
//!    outbox entries, in sequence order, with fresh stamps.
//! 5. **Behind is trusted**: stamps from the past are normal (weeks offline) and accepted.
//!    A clock set back loses last-writer-wins ties until its next sync recalibrates it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Largest wall time a stamp can hold: 48 bits of milliseconds (the year 10889).
pub const MAX_WALL_MS: u64 = (1 << 48) - 1;

/// One HLC timestamp. Wire form: 16 lowercase hex digits, 12 for `wall_ms` and 4 for
/// `counter`, so that string order equals timestamp order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u16,
}

impl Hlc {
    pub const ZERO: Hlc = Hlc {
        wall_ms: 0,
        counter: 0,
    };

    pub fn new(wall_ms: u64, counter: u16) -> Result<Self, ClockError> {
        if wall_ms > MAX_WALL_MS {
            return Err(ClockError::OutOfRange { wall_ms });
        }
        Ok(Self { wall_ms, counter })
    }

    /// The next stamp after this one (carries into the millisecond when the counter is
    /// full). The greatest stamp has no successor and stays where it is; no clock reaches it
    /// before the year 10889, and [`HybridClock::observe`] refuses remote stamps near it.
    fn tick(self) -> Self {
        match self.counter.checked_add(1) {
            Some(counter) => Hlc {
                wall_ms: self.wall_ms,
                counter,
            },
            None if self.wall_ms < MAX_WALL_MS => Hlc {
                wall_ms: self.wall_ms + 1,
                counter: 0,
            },
            None => self,
        }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}{:04x}", self.wall_ms, self.counter)
    }
}

impl FromStr for Hlc {
    type Err = ClockError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 16 || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ClockError::Malformed(s.chars().take(40).collect()));
        }
        let wall_ms =
            u64::from_str_radix(&s[..12], 16).map_err(|_| ClockError::Malformed(s.into()))?;
        let counter =
            u16::from_str_radix(&s[12..], 16).map_err(|_| ClockError::Malformed(s.into()))?;
        Ok(Hlc { wall_ms, counter })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.wall_ms > MAX_WALL_MS {
            return Err(serde::ser::Error::custom("HLC wall time beyond 48 bits"));
        }
        let mut buf = [0u8; 16];
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let packed = (self.wall_ms << 16) | u64::from(self.counter);
        for (i, slot) in buf.iter_mut().enumerate() {
            *slot = HEX[((packed >> (60 - 4 * i)) & 0xf) as usize];
        }
        // The buffer holds only ASCII hex digits.
        let s = std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(s)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Hlc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HLC timestamp: 16 lowercase hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hlc, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("malformed HLC timestamp {0:?}: expected 16 lowercase hex digits")]
    Malformed(String),
    #[error("HLC wall time {wall_ms} ms is beyond the representable range")]
    OutOfRange { wall_ms: u64 },
    #[error(
        "timestamp {remote} is {ahead_ms} ms ahead of this clock's physical time; the limit is {limit_ms} ms"
    )]
    TooFarAhead {
        remote: Hlc,
        ahead_ms: u64,
        limit_ms: u64,
    },
}

/// The clock policy shared by devices and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockPolicy {
    /// How far ahead of the receiver's physical time a remote stamp may be (default 15 minutes).
    pub max_ahead_ms: u64,
    /// How far a device's physical clock may differ from the server's before the device
    /// should recalibrate and repair (default 2 minutes).
    pub recalibrate_beyond_ms: u64,
}

impl Default for ClockPolicy {
    fn default() -> Self {
        Self {
            max_ahead_ms: 15 * 60 * 1000,
            recalibrate_beyond_ms: 2 * 60 * 1000,
        }
    }
}

impl ClockPolicy {
    /// Checks a remote stamp against the receiver's physical time.
    pub fn check_remote(&self, remote: Hlc, physical_ms: u64) -> Result<(), ClockError> {
        let ahead_ms = remote.wall_ms.saturating_sub(physical_ms);
        if ahead_ms > self.max_ahead_ms {
            return Err(ClockError::TooFarAhead {
                remote,
                ahead_ms,
                limit_ms: self.max_ahead_ms,
            });
        }
        Ok(())
    }
}

/// A hybrid logical clock. It does not read the wall clock itself: callers pass the wall time
/// in, so the clock is deterministic and testable, and IO stays out of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridClock {
    /// The greatest stamp issued or observed.
    pub last: Hlc,
    /// The greatest stamp observed from elsewhere: [`Self::repair`] never goes below it.
    #[serde(default)]
    pub max_observed: Hlc,
    /// Server time minus device wall time, learned at enrolment and each sync.
    pub offset_ms: i64,
    pub policy: ClockPolicy,
}

impl HybridClock {
    pub fn new(policy: ClockPolicy) -> Self {
        Self {
            last: Hlc::ZERO,
            max_observed: Hlc::ZERO,
            offset_ms: 0,
            policy,
        }
    }

    /// Restores a clock saved on disk (persist `last`, `max_observed` and `offset_ms`).
    pub fn restore(last: Hlc, max_observed: Hlc, offset_ms: i64, policy: ClockPolicy) -> Self {
        Self {
            last,
            max_observed,
            offset_ms,
            policy,
        }
    }

    /// The corrected physical time for a wall-clock reading.
    pub fn physical_ms(&self, wall_ms: u64) -> u64 {
        let corrected = i128::from(wall_ms) + i128::from(self.offset_ms);
        corrected.clamp(0, i128::from(MAX_WALL_MS)) as u64
    }

    /// A stamp for a local event (a record saved on this device).
    pub fn now(&mut self, wall_ms: u64) -> Hlc {
        let pt = self.physical_ms(wall_ms);
        self.last = if pt > self.last.wall_ms {
            Hlc {
                wall_ms: pt,
                counter: 0,
            }
        } else {
            self.last.tick()
        };
        self.last
    }

    /// Takes in a stamp received from elsewhere, so that later local stamps order after it.
    /// A stamp too far ahead of physical time is refused and leaves the clock unchanged.
    pub fn observe(&mut self, remote: Hlc, wall_ms: u64) -> Result<(), ClockError> {
        let pt = self.physical_ms(wall_ms);
        self.policy.check_remote(remote, pt)?;
        self.max_observed = self.max_observed.max(remote);
        if remote > self.last {
            self.last = remote;
        }
        Ok(())
    }

    /// Takes in a stamp delivered by the district server (a pulled change). The server
    /// admitted it only within the bound of its own clock, so it is trusted even when this
    /// device's clock is behind (a tablet set back after its last calibration): later local
    /// stamps order after it.
    pub fn observe_trusted(&mut self, remote: Hlc) {
        self.max_observed = self.max_observed.max(remote);
        if remote > self.last {
            self.last = remote;
        }
    }

    /// A stamp for a local edit that replaces values stamped up to `after` (the edit's
    /// `base`): always greater than `after`, as the envelope rules require.
    pub fn now_after(&mut self, wall_ms: u64, after: Hlc) -> Hlc {
        if after > self.last {
            self.last = after;
        }
        self.now(wall_ms)
    }

    /// Learns the offset from a server time read at device wall time `wall_ms`.
    /// Returns true when the device clock was off by more than the recalibration threshold.
    pub fn calibrate(&mut self, server_ms: u64, wall_ms: u64) -> bool {
        let new_offset = i128::from(server_ms) - i128::from(wall_ms);
        let new_offset = new_offset.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let drift = new_offset.abs_diff(self.offset_ms);
        self.offset_ms = new_offset;
        drift > self.policy.recalibrate_beyond_ms
    }

    /// True when the clock's last stamp is beyond the policy's bound ahead of physical time:
    /// the stamps it would hand out now would be refused by the server.
    pub fn is_ahead(&self, wall_ms: u64) -> bool {
        self.policy
            .check_remote(self.last, self.physical_ms(wall_ms))
            .is_err()
    }

    /// Moves a clock that ran ahead back to physical time, but never below a stamp it has
    /// observed from elsewhere (later local edits must still order after what the device
    /// saw). Only call this when every stamp above that point belongs to changes no other
    /// replica has accepted (the server refused them with `clock_ahead`); re-stamp those
    /// changes afterwards with [`Self::now`], and rewrite every `base` that named an old
    /// stamp. Returns true when the clock moved back.
    pub fn repair(&mut self, wall_ms: u64) -> bool {
        if self.is_ahead(wall_ms) {
            let floor = Hlc {
                wall_ms: self.physical_ms(wall_ms),
                counter: 0,
            };
            self.last = floor.max(self.max_observed);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600 * 1000;
    const T0: u64 = 1_763_800_000_000; // 2025-11-22

    #[test]
    fn wire_form_round_trips_and_sorts_like_stamps() {
        let cases = [
            (Hlc::ZERO, "0000000000000000"),
            (Hlc::new(T0, 7).unwrap(), "019aaaac26000007"),
            (Hlc::new(MAX_WALL_MS, u16::MAX).unwrap(), "ffffffffffffffff"),
        ];
        for (hlc, text) in cases {
            assert_eq!(hlc.to_string(), text);
            assert_eq!(serde_json::to_string(&hlc).unwrap(), format!("\"{text}\""));
            assert_eq!(text.parse::<Hlc>().unwrap(), hlc);
        }
        let a = Hlc::new(T0, 65535).unwrap();
        let b = Hlc::new(T0 + 1, 0).unwrap();
        assert!(a < b && a.to_string() < b.to_string());
    }

    #[test]
    fn malformed_stamps_are_typed_errors() {
        for bad in [
            "",
            "019aab68c500000",
            "019AAB68C5000007",
            "019aab68c50000070",
            "zz9aab68c5000007",
            "019aab68c500000é",
        ] {
            assert!(
                matches!(bad.parse::<Hlc>(), Err(ClockError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<Hlc>("17").is_err());
        assert!(Hlc::new(MAX_WALL_MS + 1, 0).is_err());
    }

    #[test]
    fn monotonic_when_the_wall_clock_jumps_backwards() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let a = c.now(T0);
        let b = c.now(T0 - 365 * DAY); // battery out: clock reset a year back
        let d = c.now(T0 - 365 * DAY);
        let e = c.now(T0 + 1);
        assert!(a < b && b < d && d < e, "{a} {b} {d} {e}");
        assert_eq!(b.wall_ms, T0);
    }

    #[test]
    fn counter_overflow_carries_into_the_millisecond() {
        let mut c = HybridClock::restore(
            Hlc::new(T0, u16::MAX - 1).unwrap(),
            Hlc::ZERO,
            0,
            ClockPolicy::default(),
        );
        let a = c.now(T0);
        let b = c.now(T0);
        assert_eq!(a, Hlc::new(T0, u16::MAX).unwrap());
        assert_eq!(b, Hlc::new(T0 + 1, 0).unwrap());
    }

    #[test]
    fn observing_orders_later_local_stamps_after_the_remote() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let remote = Hlc::new(T0 + 60_000, 3).unwrap(); // a minute ahead: within the bound
        c.observe(remote, T0).unwrap();
        assert!(c.now(T0) > remote);
    }

    #[test]
    fn a_remote_a_year_ahead_is_refused_and_does_not_move_the_clock() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let before = c.now(T0);
        let remote = Hlc::new(T0 + 365 * DAY, 0).unwrap();
        let err = c.observe(remote, T0).unwrap_err();
        assert!(matches!(err, ClockError::TooFarAhead { ahead_ms, .. } if ahead_ms == 365 * DAY));
        assert_eq!(c.last, before);
        // Exactly at the bound is accepted, one millisecond more is not.
        let limit = ClockPolicy::default().max_ahead_ms;
        assert!(
            c.clone()
                .observe(Hlc::new(T0 + limit, 0).unwrap(), T0)
                .is_ok()
        );
        assert!(c.observe(Hlc::new(T0 + limit + 1, 0).unwrap(), T0).is_err());
    }

    #[test]
    fn calibration_corrects_a_tablet_set_days_ahead() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let wall = T0 + 3 * DAY; // the tablet thinks it is three days later
        assert!(c.calibrate(T0, wall));
        let stamp = c.now(wall);
        assert_eq!(stamp.wall_ms, T0);
        // Small drift does not count as needing repair.
        assert!(!c.calibrate(T0 + 1_000, wall));
    }

    #[test]
    fn repair_moves_a_runaway_clock_back_only_when_it_is_ahead() {
        // A tablet set a year ahead after its last calibration stamps a year ahead...
        let mut c = HybridClock::new(ClockPolicy::default());
        let runaway = c.now(T0 + 365 * DAY);
        // ...the server refuses; the device recalibrates and repairs.
        c.calibrate(T0, T0 + 365 * DAY);
        assert!(c.is_ahead(T0 + 365 * DAY));
        assert!(c.repair(T0 + 365 * DAY));
        let fresh = c.now(T0 + 365 * DAY);
        assert!(fresh < runaway);
        assert!(ClockPolicy::default().check_remote(fresh, T0).is_ok());
        // A healthy clock is left alone.
        assert!(!c.repair(T0 + 365 * DAY));
    }

    #[test]
    fn trusted_stamps_and_bases_always_order_before_new_local_stamps() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let server = Hlc::new(T0 + DAY, 0).unwrap(); // this tablet was set back a day
        c.observe_trusted(server);
        assert!(c.now(T0) > server);
        let base = Hlc::new(T0 + 2 * DAY, 5).unwrap();
        assert!(c.now_after(T0, base) > base);
    }

    #[test]
    fn repair_never_goes_below_an_observed_stamp() {
        let mut c = HybridClock::new(ClockPolicy::default());
        let remote = Hlc::new(T0 + 10 * 60_000, 0).unwrap(); // legal: 10 minutes ahead
        c.observe(remote, T0).unwrap();
        c.now(T0 + 365 * DAY); // then the tablet jumps a year ahead
        c.calibrate(T0, T0 + 365 * DAY);
        assert!(c.repair(T0 + 365 * DAY));
        assert!(c.now(T0 + 365 * DAY) > remote);
    }

    #[test]
    fn physical_time_saturates_instead_of_overflowing() {
        let c = HybridClock::restore(Hlc::ZERO, Hlc::ZERO, i64::MIN, ClockPolicy::default());
        assert_eq!(c.physical_ms(5), 0);
        let c = HybridClock::restore(Hlc::ZERO, Hlc::ZERO, i64::MAX, ClockPolicy::default());
        assert_eq!(c.physical_ms(u64::MAX), MAX_WALL_MS);
        // The greatest stamp stays put instead of wrapping.
        let mut c = HybridClock::restore(
            Hlc::new(MAX_WALL_MS, u16::MAX).unwrap(),
            Hlc::ZERO,
            0,
            ClockPolicy::default(),
        );
        assert_eq!(c.now(0), Hlc::new(MAX_WALL_MS, u16::MAX).unwrap());
        assert!(
            serde_json::to_string(&Hlc {
                wall_ms: MAX_WALL_MS + 1,
                counter: 0
            })
            .is_err()
        );
    }
}

//! The size of pull pages during one run: it starts at [`SyncConfig::pull_limit`] (500 by
//! default, sized for 2G), doubles while full pages come back fast, up to
//! [`SyncConfig::pull_limit_max`] (1,000 by default) and the server's `max_batch`, and falls back to the start at
//! once after a slow answer (4 × [`GROW_BELOW`]) or a retried request. An answer too large for this tablet halves
//! the page, and the run never grows past that size again.
//!
//! Fewer, larger pages on a fast link mean fewer round trips and fewer commits (each page is
//! still one transaction with its cursor); on a slow link a page of the starting size already
//! takes longer than [`GROW_BELOW`], so the small pages stay.
//!
//! [`SyncConfig::pull_limit`]: super::SyncConfig::pull_limit
//! [`SyncConfig::pull_limit_max`]: super::SyncConfig::pull_limit_max

use std::time::Duration;

/// The default of [`SyncConfig::pull_grow_below`]: a page grows when a page twice its size
/// is expected within this (the answer of the last one, request to decoded page, took at
/// most half of it). An answer that took four times this sends the size back to the start.
///
/// [`SyncConfig::pull_grow_below`]: super::SyncConfig::pull_grow_below
pub const GROW_BELOW: Duration = Duration::from_secs(1);

/// The page size of one run's pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullPace {
    grow_below: Duration,
    start: u32,
    ceiling: u32,
    limit: u32,
    largest: u32,
}

impl PullPace {
    /// Pages of `start` changes, growing up to `max` and the server's `server_max` (never
    /// below `start`: a server asked for more cuts the page itself) while a page twice as
    /// large is expected within `grow_below`.
    pub fn new(start: u32, max: u32, server_max: usize, grow_below: Duration) -> Self {
        let start = start.max(1);
        let server_max = u32::try_from(server_max).unwrap_or(u32::MAX).max(1);
        let ceiling = max.min(server_max).max(start);
        Self {
            grow_below,
            start,
            ceiling,
            limit: start,
            largest: start,
        }
    }

    /// The `limit` of the next page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The largest `limit` asked for so far.
    pub fn largest(&self) -> u32 {
        self.largest
    }

    /// A page of `served` changes came back `took` after it was asked for; `retried` when
    /// its request was sent more than once; `more` when the server said more follow.
    pub fn answered(&mut self, served: usize, more: bool, took: Duration, retried: bool) {
        if retried || took > self.grow_below.saturating_mul(4) {
            self.limit = self.start.min(self.ceiling);
            return;
        }
        // Only a page cut by its count says a larger one would have held more; one cut by
        // the server's byte cap, or the last page, would not.
        let full = more && served >= self.limit as usize;
        if full && took.saturating_mul(2) <= self.grow_below {
            self.limit = self.limit.saturating_mul(2).min(self.ceiling);
            self.largest = self.largest.max(self.limit);
        }
    }

    /// The answer was too large for this tablet: half the page from now on (the ceiling
    /// too). `false` when the page is already one change.
    pub fn too_large(&mut self) -> bool {
        if self.limit <= 1 {
            return false;
        }
        self.limit = (self.limit / 2).max(1);
        self.ceiling = self.limit;
        self.start = self.start.min(self.limit);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_millis(50);
    const SLOW_ABOVE: Duration = GROW_BELOW.saturating_mul(4);

    fn pace(start: u32, max: u32, server_max: usize) -> PullPace {
        PullPace::new(start, max, server_max, GROW_BELOW)
    }

    #[test]
    fn full_fast_pages_double_up_to_the_ceiling() {
        let mut p = pace(500, 2_000, 2_000);
        assert_eq!(p.limit(), 500);
        p.answered(500, true, FAST, false);
        assert_eq!(p.limit(), 1_000);
        p.answered(1_000, true, FAST, false);
        assert_eq!(p.limit(), 2_000);
        p.answered(2_000, true, FAST, false);
        assert_eq!(p.limit(), 2_000);
        assert_eq!(p.largest(), 2_000);
    }

    #[test]
    fn the_server_limit_caps_the_growth() {
        let mut p = pace(500, 5_000, 800);
        p.answered(500, true, FAST, false);
        assert_eq!(p.limit(), 800);
        // A configured start above the server's limit stays (the server cuts the page).
        let p = pace(3_000, 5_000, 2_000);
        assert_eq!(p.limit(), 3_000);
    }

    #[test]
    fn a_fixed_page_never_grows() {
        let mut p = pace(4, 4, 2_000);
        for _ in 0..5 {
            p.answered(4, true, FAST, false);
        }
        assert_eq!((p.limit(), p.largest()), (4, 4));
        let mut p = pace(4, 0, 2_000);
        p.answered(4, true, FAST, false);
        assert_eq!(p.limit(), 4);
    }

    #[test]
    fn slow_pages_stay_small_and_fall_back_at_once() {
        // A 2G page of 500 takes seconds: no growth.
        let mut p = pace(500, 2_000, 2_000);
        p.answered(500, true, Duration::from_millis(2_100), false);
        assert_eq!(p.limit(), 500);
        // Grown on a fast link, then one slow answer or one retry: back to the start.
        p.answered(500, true, FAST, false);
        p.answered(1_000, true, FAST, false);
        assert_eq!(p.limit(), 2_000);
        p.answered(2_000, true, SLOW_ABOVE + Duration::from_millis(1), false);
        assert_eq!(p.limit(), 500);
        p.answered(500, true, FAST, false);
        assert_eq!(p.limit(), 1_000);
        p.answered(1_000, true, FAST, true);
        assert_eq!(p.limit(), 500);
        // An answer between the two bounds keeps the size.
        p.answered(500, true, Duration::from_millis(700), false);
        assert_eq!(p.limit(), 500);
    }

    #[test]
    fn pages_not_cut_by_count_do_not_grow() {
        let mut p = pace(500, 2_000, 2_000);
        // Cut by the server's byte cap.
        p.answered(310, true, FAST, false);
        assert_eq!(p.limit(), 500);
        // The last page.
        p.answered(500, false, FAST, false);
        assert_eq!(p.limit(), 500);
    }

    #[test]
    fn too_large_halves_for_the_rest_of_the_run() {
        let mut p = pace(500, 2_000, 2_000);
        p.answered(500, true, FAST, false);
        assert_eq!(p.limit(), 1_000);
        assert!(p.too_large());
        assert_eq!(p.limit(), 500);
        assert!(p.too_large());
        assert_eq!(p.limit(), 250);
        p.answered(250, true, FAST, false);
        assert_eq!(p.limit(), 250, "never past the size that fit");
        p.answered(250, true, SLOW_ABOVE * 2, false);
        assert_eq!(p.limit(), 250);
        let mut one = pace(1, 1, 2_000);
        assert!(!one.too_large());
        assert_eq!(one.limit(), 1);
    }
}

//! The shape of the link between a tablet and the network: bandwidth, latency and loss,
//! applied to whole messages so the proxy can still parse and fault them.
//!
//! Model, per direction: bytes go out in segments of [`SEGMENT`] bytes (plus [`OVERHEAD`]
//! bytes of TCP/IP headers each), one after another at `bits_per_second` (the link is shared
//! by every connection of the proxy); each segment arrives `rtt / 2` after it was sent; a
//! segment lost (probability `loss`, deterministic from `seed`) arrives one retransmission
//! timeout later, `max(200 ms, rtt) + rtt`; a connection's segments arrive in order (a late
//! one holds back those behind it, as TCP does). A new connection costs one `rtt` (the
//! handshake) before its first byte can go.

use std::sync::Mutex;
use std::time::Duration;
use sync_protocol::sample::SampleRng;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Payload bytes per segment (an Ethernet-sized TCP segment).
pub const SEGMENT: usize = 1460;
/// TCP/IP header bytes per segment.
pub const OVERHEAD: usize = 40;

/// Bandwidth, latency and loss of a link.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkShape {
    /// Bits per second in each direction; `None`: unlimited.
    pub bits_per_second: Option<u64>,
    /// Round-trip time; each direction adds half.
    pub rtt: Duration,
    /// Probability that a segment is lost and sent again.
    pub loss: f64,
    /// Seed of the loss draws.
    pub seed: u64,
}

impl LinkShape {
    /// No shaping at all.
    pub fn loopback() -> Self {
        Self::default()
    }

    /// A rural 2G (EDGE) link: 64 kbit/s each way, 400 ms round trip, 2 % segment loss.
    pub fn two_g() -> Self {
        Self {
            bits_per_second: Some(64_000),
            rtt: Duration::from_millis(400),
            loss: 0.02,
            seed: 2,
        }
    }

    /// Whether the link changes nothing.
    pub fn is_instant(&self) -> bool {
        self.bits_per_second.is_none() && self.rtt.is_zero() && self.loss <= 0.0
    }

    /// The delay a lost segment adds.
    pub fn retransmission_timeout(&self) -> Duration {
        self.rtt.max(Duration::from_millis(200)) + self.rtt
    }
}

/// One direction of travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Tablet to server.
    Up,
    /// Server to tablet.
    Down,
}

/// A connection's place in the link: when it may first send, and when its last segment
/// arrives in each direction (later segments never overtake it).
#[derive(Debug, Clone, Copy)]
pub struct Lane {
    ready: Instant,
    last_up: Instant,
    last_down: Instant,
}

impl Lane {
    fn last(&mut self, dir: Direction) -> &mut Instant {
        match dir {
            Direction::Up => &mut self.last_up,
            Direction::Down => &mut self.last_down,
        }
    }
}

/// A shaped link shared by every connection of one proxy.
#[derive(Debug)]
pub struct Link {
    shape: LinkShape,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// When each direction finishes sending what is queued on it.
    free_up: Instant,
    free_down: Instant,
    rng: SampleRng,
}

impl Link {
    pub fn new(shape: LinkShape) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                free_up: now,
                free_down: now,
                rng: SampleRng::new(shape.seed),
            }),
            shape,
        }
    }

    pub fn shape(&self) -> &LinkShape {
        &self.shape
    }

    /// A new connection: its first byte goes after the handshake.
    pub fn open_lane(&self) -> Lane {
        let now = Instant::now();
        let ready = now + self.shape.rtt;
        Lane {
            ready,
            last_up: now,
            last_down: now,
        }
    }

    /// When each segment of `len` bytes sent now arrives: `(end offset, arrival)` in order.
    pub fn plan(&self, dir: Direction, len: usize, lane: &mut Lane) -> Vec<(usize, Instant)> {
        let now = Instant::now();
        if self.shape.is_instant() || len == 0 {
            return vec![(len, now)];
        }
        let one_way = self.shape.rtt / 2;
        let rto = self.shape.retransmission_timeout();
        let mut st = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let mut out = Vec::with_capacity(len.div_ceil(SEGMENT));
        let mut at = 0;
        while at < len {
            let end = (at + SEGMENT).min(len);
            let tx = self.shape.bits_per_second.map_or(Duration::ZERO, |bps| {
                let bits = ((end - at + OVERHEAD) * 8) as f64;
                Duration::from_secs_f64(bits / bps.max(1) as f64)
            });
            let free = match dir {
                Direction::Up => &mut st.free_up,
                Direction::Down => &mut st.free_down,
            };
            let start = now.max(*free).max(lane.ready);
            let sent = start + tx;
            *free = sent;
            let lost = self.shape.loss > 0.0 && unit(&mut st.rng) < self.shape.loss;
            let mut arrive = sent + one_way + if lost { rto } else { Duration::ZERO };
            let last = lane.last(dir);
            arrive = arrive.max(*last);
            *last = arrive;
            out.push((end, arrive));
            at = end;
        }
        out
    }

    /// Sends `bytes` through the link into `w`: each segment is written when it arrives.
    pub async fn send<W: AsyncWrite + Unpin>(
        &self,
        dir: Direction,
        w: &mut W,
        bytes: &[u8],
        lane: &mut Lane,
    ) -> std::io::Result<()> {
        let mut from = 0;
        for (end, arrive) in self.plan(dir, bytes.len(), lane) {
            tokio::time::sleep_until(arrive).await;
            w.write_all(&bytes[from..end]).await?;
            from = end;
        }
        w.flush().await
    }

    /// Waits as long as `len` bytes take to cross (for a message the proxy answers itself).
    pub async fn carry(&self, dir: Direction, len: usize, lane: &mut Lane) {
        if let Some((_, arrive)) = self.plan(dir, len, lane).last() {
            tokio::time::sleep_until(*arrive).await;
        }
    }
}

/// A number in `[0, 1)`.
pub(crate) fn unit(rng: &mut SampleRng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pacing_latency_and_loss() {
        let shape = LinkShape {
            bits_per_second: Some(64_000),
            rtt: Duration::from_millis(400),
            loss: 0.0,
            seed: 1,
        };
        let link = Link::new(shape.clone());
        let mut lane = link.open_lane();
        let t0 = Instant::now();
        // 8,000 bytes: 6 segments, 8,240 bytes with headers: 1.03 s at 64 kbit/s, after the
        // handshake (400 ms), plus 200 ms one way.
        let plan = link.plan(Direction::Up, 8_000, &mut lane);
        assert_eq!(plan.len(), 6);
        assert_eq!(plan.last().map(|p| p.0), Some(8_000));
        let total = plan.last().unwrap().1 - t0;
        assert!(
            total >= Duration::from_millis(1_620) && total < Duration::from_millis(1_700),
            "{total:?}"
        );
        assert!(plan.windows(2).all(|w| w[0].1 <= w[1].1));
        // The other direction is free; the same direction queues behind.
        let down = link.plan(Direction::Down, 100, &mut lane);
        assert!(down[0].1 - t0 < Duration::from_millis(700), "{down:?}");
        let up = link.plan(Direction::Up, 100, &mut lane);
        assert!(up[0].1 > plan.last().unwrap().1);

        // Loss: about 2 % of segments arrive a retransmission timeout late, the same ones
        // for the same seed.
        let lost = |seed| {
            let link = Link::new(LinkShape {
                bits_per_second: None,
                rtt: Duration::ZERO,
                loss: 0.02,
                seed,
            });
            (0..10_000)
                .map(|_| {
                    let before = Instant::now();
                    let plan = link.plan(Direction::Down, 10, &mut link.open_lane());
                    plan[0].1 - before >= Duration::from_millis(150)
                })
                .collect::<Vec<bool>>()
        };
        let a = lost(7);
        assert_eq!(a, lost(7));
        assert_ne!(a, lost(8));
        let n = a.iter().filter(|l| **l).count();
        assert!((120..=280).contains(&n), "{n}");
        let lossy = LinkShape {
            loss: 0.02,
            ..shape
        };
        assert_eq!(lossy.retransmission_timeout(), Duration::from_millis(800));
        assert!(LinkShape::loopback().is_instant());
        assert!(!LinkShape::two_g().is_instant());
    }

    #[test]
    fn a_lost_segment_holds_back_the_ones_behind_it() {
        let link = Link::new(LinkShape {
            bits_per_second: None,
            rtt: Duration::from_millis(100),
            loss: 0.5,
            seed: 3,
        });
        let mut lane = link.open_lane();
        let plan = link.plan(Direction::Down, 40 * SEGMENT, &mut lane);
        assert!(plan.windows(2).all(|w| w[0].1 <= w[1].1));
        let t0 = Instant::now();
        let last = plan.last().unwrap().1 - t0;
        // At least one of 40 segments is lost: the last arrives an RTO (300 ms) late.
        assert!(last >= Duration::from_millis(350), "{last:?}");
    }
}

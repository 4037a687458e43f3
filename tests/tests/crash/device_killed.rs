//! `jangkau sync` killed with SIGKILL at random points of its run, again and again, on two
//! devices: the first with a large outbox (its pushes and the pull of its own changes are
//! cut), the second recording and syncing between those kills (its pulls of the first one's
//! changes are cut). Then one clean sync each: nothing lost, nothing twice.

use std::time::{Duration, Instant};

use super::checks::assert_converged;
use super::device::{CliDevice, Ending, Line};
use super::rng::Rng;
use super::server::{ServerProcess, Stop};
use crate::common::Backend;

/// Kills of device A's sync (device B's come on top).
const KILLS_A: usize = 25;
const KILLS_B: usize = 10;
const MAX_ROUNDS: usize = 80;

#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    /// Killed before the first progress line (opening the database, starting up).
    startup: usize,
    /// Killed during the status call.
    status: usize,
    push: usize,
    pull: usize,
    /// Killed after the run said it was done (still closing).
    after_done: usize,
    /// Ended by itself before the chosen point.
    finished: usize,
}

impl Tally {
    fn kills(&self) -> usize {
        self.startup + self.status + self.push + self.pull + self.after_done
    }
}

/// Where a run is cut.
#[derive(Debug, Clone, Copy)]
enum Aim {
    /// Before the first progress line (starting, opening the database).
    Start,
    /// Anywhere: after the k-th progress line (0: before the first).
    Anywhere,
    Push,
    Pull,
}

/// One device and what the test knows about it.
struct Sim<'a> {
    dev: &'a CliDevice,
    batch: u64,
    page: u64,
    args: Vec<String>,
    /// Changes it made.
    created: u64,
    /// Changes waiting in its outbox (from `jangkau status` after each run).
    waiting: u64,
    /// Changes it pulled, by its progress lines (a lower bound).
    pulled: u64,
    /// Time to the first progress line, and between two lines (running means).
    startup: Duration,
    gap: Duration,
    tally: Tally,
}

impl<'a> Sim<'a> {
    fn new(dev: &'a CliDevice, batch: u64, page: u64) -> Sim<'a> {
        Sim {
            dev,
            batch,
            page,
            args: vec![
                "--batch".into(),
                batch.to_string(),
                "--pull-limit".into(),
                page.to_string(),
                "--retries".into(),
                "0".into(),
            ],
            created: 0,
            waiting: 0,
            pulled: 0,
            startup: Duration::from_millis(40),
            gap: Duration::from_millis(20),
            tally: Tally::default(),
        }
    }

    /// Records `n` households; `self.waiting` is exact here (no run is going on).
    fn import(&mut self, first: usize, n: usize, members: usize) {
        self.dev.import_only(first, n, members);
        let waiting = self.dev.waiting();
        assert!(
            waiting > self.waiting,
            "device {}: importing {n} households added nothing to the outbox",
            self.dev.name
        );
        self.created += waiting - self.waiting;
        self.waiting = waiting;
    }

    /// Starts a sync and kills it at a random point chosen by `aim`; `others` is the number
    /// of the other device's changes on the server before the run (what it may pull).
    fn cut(&mut self, rng: &mut Rng, aim: Aim, others: u64) {
        let pushes = self.waiting.div_ceil(self.batch);
        let pulls = others
            .saturating_sub(self.pulled)
            .div_ceil(self.page)
            .max(1);
        let (kind, n) = match aim {
            Aim::Push if pushes > 0 => (Some(Line::Push), rng.between(1, pushes)),
            Aim::Pull => (Some(Line::Pull), rng.between(1, pulls)),
            Aim::Start => (None, 0),
            _ => (None, rng.between(0, pushes + pulls + 1)),
        };
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut run = self.dev.spawn_sync(&args);
        let reached = match (kind, n) {
            (None, 0) => true,
            (None, n) => run.wait_for(|ls| ls.len() as u64 >= n),
            (Some(k), n) => run.wait_nth(k, n as usize),
        };
        if reached {
            let base = if run.lines.is_empty() {
                self.startup
            } else {
                self.gap
            };
            std::thread::sleep(rng.within(base));
        }
        let (ending, lines) = run.kill();
        self.tally.runs += 1;
        match ending {
            Ending::Killed => match lines.last().map(|(_, l)| Line::of(l)) {
                None => self.tally.startup += 1,
                Some(Line::Status) => self.tally.status += 1,
                Some(Line::Push) => self.tally.push += 1,
                Some(Line::Pull) => self.tally.pull += 1,
                Some(_) => self.tally.after_done += 1,
            },
            Ending::Exited(status) => {
                assert!(
                    status.success(),
                    "device {}: `jangkau sync` ended with {status}: {lines:?}",
                    self.dev.name
                );
                self.tally.finished += 1;
            }
        }
        // What this run did, from its progress lines: pulled pages are kept with their
        // cursor, so a kill after "receiving (N so far)" keeps those N.
        let mut received = 0;
        for (_, l) in &lines {
            if let Some(r) = l.strip_prefix("sync: receiving (") {
                received = r
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(received);
            }
            if let Some(r) = l.strip_prefix("sync: done: ") {
                received = r
                    .split(", ")
                    .nth(1)
                    .and_then(|p| p.split(' ').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(received);
            }
        }
        self.pulled += received;
        if let Some((first, _)) = lines.first() {
            self.startup = (self.startup + *first) / 2;
        }
        if lines.len() >= 2 {
            let span = lines[lines.len() - 1].0 - lines[0].0;
            let mean = span / (lines.len() as u32 - 1);
            self.gap = (self.gap + mean) / 2;
        }
        // The database opens after every kill, and says what still waits.
        self.waiting = self.dev.waiting();
    }
}

async fn a_sync_killed_again_and_again_loses_and_duplicates_nothing(backend: Backend) {
    let t0 = Instant::now();
    let what = format!("sync killed repeatedly ({backend:?})");
    let mut rng = Rng::seeded(&what);
    let mut server = ServerProcess::create(backend).await;
    tokio::task::block_in_place(|| server.start());
    let a = CliDevice::enrol(&server, "kader.mawar", "A").await;
    let b = CliDevice::enrol(&server, "kader.mawar2", "B").await;

    let (sa, sb) = tokio::task::block_in_place(|| {
        let mut sa = Sim::new(&a, 25, 20);
        let mut sb = Sim::new(&b, 10, 40);
        sa.import(0, 100, 14);
        sb.import(10_000, 20, 4);
        let big = sa.created;
        let aims = [
            Aim::Push,
            Aim::Pull,
            Aim::Anywhere,
            Aim::Push,
            Aim::Pull,
            Aim::Start,
        ];
        let mut round = 0;
        while sa.tally.kills() < KILLS_A || sb.tally.kills() < KILLS_B {
            assert!(
                round < MAX_ROUNDS,
                "{what}: only {} and {} kills in {MAX_ROUNDS} rounds: A {:?}, B {:?}",
                sa.tally.kills(),
                sb.tally.kills(),
                sa.tally,
                sb.tally
            );
            if round > 0 {
                sa.import(1_000 + round * 10, 4, 4);
                sb.import(20_000 + round * 10, 2, 4);
            }
            sa.cut(&mut rng, aims[round % aims.len()], sb.created - sb.waiting);
            sb.cut(
                &mut rng,
                aims[(round + 1) % aims.len()],
                sa.created - sa.waiting,
            );
            round += 1;
        }
        let killed_pushes = sa.tally.push + sb.tally.push;
        let killed_pulls = sa.tally.pull + sb.tally.pull;
        assert!(
            killed_pushes > 0 && killed_pulls > 0,
            "{what}: no push or no pull was cut: A {:?}, B {:?}",
            sa.tally,
            sb.tally
        );
        // One clean run each (A again for B's last changes).
        for s in [&sa, &sb, &sa] {
            let r = s
                .dev
                .sync_clean(&s.args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(r["waiting"], 0, "{what}: device {}: {r}", s.dev.name);
        }
        eprintln!(
            "{what}: {round} rounds; A made {} changes ({big} before the first run), B {}; \
             A {:?}; B {:?}",
            sa.created, sb.created, sa.tally, sb.tally
        );
        (sa, sb)
    });

    tokio::task::block_in_place(|| server.stop(Stop::Term));
    let changes = server.changes().await;
    tokio::task::block_in_place(|| {
        assert_converged(&what, &changes, &[(&a, sa.created), (&b, sb.created)]);
    });
    server.finish().await;
    eprintln!("{what}: {:.1} s", t0.elapsed().as_secs_f64());
}

crate::both_backends!(a_sync_killed_again_and_again_loses_and_duplicates_nothing);

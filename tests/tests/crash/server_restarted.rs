//! `jangkau-server` killed (SIGKILL) or stopped (SIGTERM) in the middle of a device's push,
//! several times at different points, and started again on the same database and port; the
//! device's one sync run retries through every restart (short backoff) and finishes; one more
//! restart comes in the pull that follows its push. A second device records and syncs in a
//! loop meanwhile, so its requests are cut too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::checks::assert_converged;
use super::device::{CliDevice, Line};
use super::rng::Rng;
use super::server::{ServerProcess, Stop};
use crate::common::Backend;

/// Restarts during A's push; one more comes during its pull.
const PUSH_RESTARTS: u64 = 4;
const A_BATCH: u64 = 10;
const A_PAGE: u64 = 10;
/// What B records before A starts (households of 4: 100 changes).
const B_FIRST: usize = 25;

const A_ARGS: [&str; 8] = [
    "--batch",
    "10",
    "--pull-limit",
    "10",
    "--retries",
    "15",
    "--retry-delay-ms",
    "20",
];
const B_ARGS: [&str; 8] = [
    "--batch",
    "5",
    "--pull-limit",
    "20",
    "--retries",
    "15",
    "--retry-delay-ms",
    "20",
];

/// Ends device B's loop however the test ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn restarted_mid_push(backend: Backend, how: Stop) {
    let t0 = Instant::now();
    let what = format!("server {how:?} mid-push ({backend:?})");
    let mut rng = Rng::seeded(&what);
    let mut server = ServerProcess::create(backend).await;
    tokio::task::block_in_place(|| server.start());
    let a = Arc::new(CliDevice::enrol(&server, "kader.mawar", "A").await);
    let b = Arc::new(CliDevice::enrol(&server, "kader.mawar2", "B").await);

    let (created_a, created_b) = tokio::task::block_in_place(|| {
        let created_a = a.import(0, 100, 14);
        let mut created_b = b.import(10_000, B_FIRST, 4);
        let batches = created_a.div_ceil(A_BATCH);
        assert_eq!(A_ARGS[1], A_BATCH.to_string());
        assert_eq!(A_ARGS[3], A_PAGE.to_string());
        // One restart in each part of A's push, and one in the pull of (at least) B's first
        // changes that follows it in the same run.
        let part = batches / PUSH_RESTARTS;
        let mut points: Vec<(Line, u64)> = (0..PUSH_RESTARTS)
            .map(|i| (Line::Push, rng.between(i * part + 1, (i + 1) * part - 1)))
            .collect();
        let pages = created_b.div_ceil(A_PAGE);
        points.push((Line::Pull, rng.between(2, pages - 1)));

        // Device B: record and sync in a loop until A is done (or this test fails).
        let done = Arc::new(AtomicBool::new(false));
        let _stop_b = StopOnDrop(done.clone());
        let b_synced = Arc::new(AtomicUsize::new(0));
        let looping = {
            let (b, done, synced) = (b.clone(), done.clone(), b_synced.clone());
            std::thread::spawn(move || {
                let mut runs = Vec::new();
                let mut created = 0;
                let mut i = 0;
                while !done.load(Ordering::SeqCst) {
                    if i > 0 {
                        created += b.import(20_000 + i * 10, 1, 4);
                    }
                    let (status, lines) = b.spawn_sync(&B_ARGS).wait();
                    runs.push((status, lines));
                    synced.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
                (created, runs)
            })
        };
        // B's first changes are on the server before A starts, so A's run pulls them.
        let deadline = Instant::now() + Duration::from_secs(60);
        while b_synced.load(Ordering::SeqCst) == 0 {
            assert!(
                Instant::now() < deadline,
                "{what}: B's first sync takes over 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }

        let mut downtime = Vec::new();
        let mut run = a.spawn_sync(&A_ARGS);
        for (kind, n) in &points {
            let reached = run.wait_nth(*kind, *n as usize);
            assert!(
                reached,
                "{what}: A's sync ended before its {kind:?} line {n}: {:?}",
                run.lines
            );
            // Somewhere in the request that line announced.
            let gap = match run.lines.len() {
                0 | 1 => Duration::from_millis(10),
                l => (run.lines[l - 1].0 - run.lines[0].0) / (l as u32 - 1),
            };
            std::thread::sleep(rng.within(gap));
            let down = Instant::now();
            server.stop(how);
            // Down for a moment: the client's requests meet a closed port.
            std::thread::sleep(rng.within(Duration::from_millis(300)));
            server.start();
            downtime.push(down.elapsed());
        }
        let (status, lines) = run.wait();
        assert!(
            status.success(),
            "{what}: A's sync did not get through the restarts ({status}); its last lines: \
             {:?}\nserver log:\n{}",
            &lines[lines.len().saturating_sub(12)..],
            server.log_tail()
        );
        let retries = lines
            .iter()
            .filter(|(_, l)| Line::of(l) == Line::Retry)
            .count();
        assert!(
            retries > 0,
            "{what}: A's sync never had to retry across {} restarts",
            downtime.len()
        );
        done.store(true, Ordering::SeqCst);
        let (more, b_runs) = looping.join().expect("device B's loop");
        created_b += more;
        for (status, lines) in &b_runs {
            assert!(
                status.success(),
                "{what}: one of B's syncs did not get through a restart ({status}): {:?}",
                &lines[lines.len().saturating_sub(12)..]
            );
        }
        let b_retries: usize = b_runs
            .iter()
            .map(|(_, ls)| {
                ls.iter()
                    .filter(|(_, l)| Line::of(l) == Line::Retry)
                    .count()
            })
            .sum();
        // One clean run each (A again for B's last changes).
        for d in [&a, &b, &a] {
            let args = if d.name == "A" { A_ARGS } else { B_ARGS };
            let r = d.sync_clean(&args);
            assert_eq!(r["waiting"], 0, "{what}: device {}: {r}", d.name);
        }
        eprintln!(
            "{what}: restarts at {points:?} ({batches} push batches, {pages}+ pages); down \
             {downtime:?}; A's run: {} lines, {retries} retries, {:.1} s; B: {} runs, \
             {b_retries} retries; A made {created_a}, B {created_b}",
            lines.len(),
            lines.last().map_or(0.0, |(t, _)| t.as_secs_f64()),
            b_runs.len()
        );
        (created_a, created_b)
    });

    tokio::task::block_in_place(|| server.stop(Stop::Term));
    let changes = server.changes().await;
    tokio::task::block_in_place(|| {
        assert_converged(&what, &changes, &[(&a, created_a), (&b, created_b)]);
    });
    server.finish().await;
    eprintln!("{what}: {:.1} s", t0.elapsed().as_secs_f64());
}

async fn the_server_killed_mid_push_loses_and_duplicates_nothing(backend: Backend) {
    restarted_mid_push(backend, Stop::Kill).await;
}

async fn the_server_stopped_mid_push_loses_and_duplicates_nothing(backend: Backend) {
    restarted_mid_push(backend, Stop::Term).await;
}

crate::both_backends!(
    the_server_killed_mid_push_loses_and_duplicates_nothing,
    the_server_stopped_mid_push_loses_and_duplicates_nothing
);

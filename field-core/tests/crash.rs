//! Crash test: a child process writes in a loop and is killed with SIGKILL at random points,
//! hundreds of times. After each kill the database opens, passes `PRAGMA integrity_check`,
//! and every write the child reported as committed is there exactly once, with exactly one
//! outbox entry, and the outbox sequence has no gap.
//!
//! The child also applies pulled pages (with their cursor) between writes: after a kill the
//! stored cursor names the last page applied, that page is there whole, and nothing of the
//! next page is.
//!
//! It also records push outcomes that re-stamp unsent changes (`clock_ahead`) and saves the
//! keyring (a guest user added and removed): after each kill every pending change is in the
//! records under the stamp its outbox row holds, and the keyring opens.
//!
//! The child is this same test binary, run with `FIELD_CORE_CRASH_CHILD` set (the
//! `crash_child` test does nothing otherwise). `FIELD_CORE_CRASH_ITERATIONS` overrides the
//! number of kills (default 200). The kill points follow from one seed, printed at the start;
//! `JANGKAU_CRASH_SEED=<seed>` replays them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{ManualClock, MeasurementInput, Store, SystemClock};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "FIELD_CORE_CRASH_CHILD";
const PAGE_LEN: usize = 12;

/// The pulled page number `n` (deterministic, so the parent can check it).
fn page(n: u64) -> Vec<sync_protocol::Change> {
    let device: sync_protocol::DeviceId = "019aaaac-2600-7000-8000-00000000d0d0".parse().unwrap();
    let author: sync_protocol::UserId = "019aaaac-2600-7000-8000-00000000a0a0".parse().unwrap();
    sync_protocol::sample::posyandu_day(n, device, author, n * 1_000 + 1, PAGE_LEN)
}

fn cursor_page(s: &Store) -> u64 {
    s.pull_cursor()
        .unwrap()
        .and_then(|c| c.strip_prefix("page-").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let o = opts(&ManualClock::new(0)).with_clock(Arc::new(SystemClock));
    let mut store = Store::unlock(&path, "maria", "258046", o).unwrap();
    let child: sync_protocol::RecordId = std::env::var("FIELD_CORE_CRASH_PERSON")
        .unwrap()
        .parse()
        .unwrap();
    let out = std::io::stdout();
    let mut n = 0u64;
    loop {
        n += 1;
        let line = if n.is_multiple_of(7) {
            // A push answered: most changes accepted, the last few refused `clock_ahead` by a
            // server an hour behind this tablet's corrected time: the clock is repaired and
            // the unsent changes re-stamped, in one transaction.
            use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};
            let pending = store.pending_changes(10_000).unwrap();
            let hold = pending.len().saturating_sub(4);
            let outcomes = pending
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < hold {
                        Outcome::accepted(c.seq)
                    } else {
                        Outcome::rejected(
                            c.seq,
                            Rejection::new(RejectCode::ClockAhead, "ahead", None),
                        )
                    }
                })
                .collect();
            let wall = field_core::Clock::now_ms(&SystemClock);
            let physical = store.hybrid_clock().unwrap().physical_ms(wall);
            let r = store
                .record_push_outcomes(&PushResponse {
                    v: 1,
                    outcomes,
                    acked_seq: 0,
                    server_time: physical - 3_600_000,
                })
                .unwrap();
            format!("R {}", r.restamped)
        } else if n % 5 == 3 {
            // Keyring saves: a guest user added and removed again.
            // Named per process: a kill between the add and the remove leaves this guest
            // in the keyring, and the next child must not trip over it.
            let guest = user(&format!("tamu{}-{n}", std::process::id()));
            store
                .add_user(&guest, "739154", field_core::KdfParams::INSECURE_FOR_TESTS)
                .unwrap();
            store.remove_user(&guest.username).unwrap();
            "K".to_string()
        } else if n.is_multiple_of(10) {
            let next = cursor_page(&store) + 1;
            store
                .apply_pulled(&page(next), Some(&format!("page-{next}")), None)
                .unwrap();
            format!("P {next}")
        } else if n.is_multiple_of(8) {
            let reg = store
                .register_household(
                    &household(),
                    &[
                        person("Kristina Bau", "female", "1998-01-02"),
                        person("Petrus Bau", "male", "2023-03-04"),
                    ],
                    &[(1, 0)],
                )
                .unwrap();
            format!("H {} {} {}", reg.household, reg.persons[0], reg.persons[1])
        } else {
            let m = MeasurementInput {
                kind: "weight".into(),
                value: 10.0 + (n % 50) as f64 / 10.0,
                unit: "kg".into(),
                position: None,
                measured_by: None,
                ..Default::default()
            };
            let id = store
                .save_measurement(child, None, "2025-11-22", &m)
                .unwrap();
            format!("M {id}")
        };
        // Reported only after the commit returned.
        let mut lock = out.lock();
        writeln!(lock, "{line}").unwrap();
        lock.flush().unwrap();
    }
}

fn count(s: &Store, sql: &str, id: &str) -> i64 {
    s.connection().query_row(sql, [id], |r| r.get(0)).unwrap()
}

#[test]
fn killed_writers_lose_nothing_committed() {
    let iterations: usize = std::env::var("FIELD_CORE_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let f = fixture();
    let mut store = f.store;
    let child_id = family(&mut store).persons[2];
    drop(store);
    let exe = std::env::current_exe().unwrap();
    // Every kill point follows from one seed, printed so that a failure can be replayed:
    // `JANGKAU_CRASH_SEED=<seed> cargo test -p field-core --test crash`.
    let mut rand = crash_rand("killed_writers_lose_nothing_committed");
    let mut all: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut killed_mid_run = 0;
    let mut checked_pages = 0u64;
    let mut pages_seen = 0usize;
    let mut check_time = Duration::ZERO;
    let mut integrity_time = Duration::ZERO;
    for i in 0..iterations {
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(CHILD_ENV, &f.path)
            .env("FIELD_CORE_CRASH_PERSON", child_id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if (line.starts_with("M ")
                    || line.starts_with("H ")
                    || line.starts_with("P ")
                    || line.starts_with("R ")
                    || line == "K")
                    && tx.send(line).is_err()
                {
                    break;
                }
            }
        });
        // Kill at a random point of the write loop: 0–60 ms after the first committed write
        // (most kills land inside a transaction or its fsync), and now and then during
        // start-up, before anything was written.
        let mut lines = Vec::new();
        if rand(10) == 0 {
            std::thread::sleep(Duration::from_millis(rand(20)));
        } else {
            if let Ok(first) = rx.recv_timeout(Duration::from_secs(20)) {
                lines.push(first);
            }
            std::thread::sleep(Duration::from_millis(rand(60)));
        }
        let still_running = child.try_wait().unwrap().is_none();
        assert!(still_running, "the child died on its own in iteration {i}");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        if !lines.is_empty() {
            killed_mid_run += 1;
        }

        let check_started = Instant::now();
        let s = reopen(&f.path, &f.clock);
        assert_eq!(
            s.integrity_check().unwrap(),
            vec!["ok".to_string()],
            "iteration {i}"
        );
        let integrity_done = check_started.elapsed();
        for line in &lines {
            check_line(&s, line, i);
        }
        // Pages: every page up to the cursor is whole, the next one is absent.
        let k = cursor_page(&s);
        for n in checked_pages + 1..=k {
            for c in page(n) {
                assert_eq!(
                    count(
                        &s,
                        "SELECT count(*) FROM records WHERE id = ?1",
                        &c.id.to_string()
                    ),
                    1,
                    "{i}: page {n}"
                );
            }
        }
        checked_pages = checked_pages.max(k);
        let next = page(k + 1);
        let present: i64 = next
            .iter()
            .map(|c| {
                count(
                    &s,
                    "SELECT count(*) FROM records WHERE id = ?1",
                    &c.id.to_string(),
                )
            })
            .sum();
        assert_eq!(present, 0, "{i}: page {} half applied", k + 1);
        pages_seen += lines.iter().filter(|l| l.starts_with("P ")).count();
        // The outbox sequence is gapless and matches the device state.
        let (n, max, next): (i64, i64, i64) = s
            .connection()
            .query_row(
                "SELECT count(*), max(seq), (SELECT next_seq FROM device_state) FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((n, next), (max, max + 1), "iteration {i}");
        check_pending_matches_records(&s, i);
        // The keyring is whole: maria opened it above, and it lists her.
        assert!(
            Store::local_users(&f.path)
                .unwrap()
                .iter()
                .any(|u| u.username == "maria")
        );
        all.extend(lines);
        check_time += check_started.elapsed();
        integrity_time += integrity_done;
    }
    // Everything ever reported is still there, exactly once.
    let s = reopen(&f.path, &f.clock);
    let records: Vec<&String> = all
        .iter()
        .filter(|l| !l.starts_with("R ") && *l != "K")
        .collect();
    let unique: BTreeSet<&String> = records.iter().copied().collect();
    assert_eq!(unique.len(), records.len());
    let restamps = all.iter().filter(|l| l.starts_with("R ")).count();
    let keyrings = all.iter().filter(|l| *l == "K").count();
    assert!(restamps > 0 && keyrings > 0, "{restamps} {keyrings}");
    for line in &all {
        check_line(&s, line, iterations);
    }
    assert!(
        killed_mid_run > iterations / 2,
        "{killed_mid_run} of {iterations} kills hit a running writer"
    );
    eprintln!(
        "crash test: {iterations} kills, {} committed writes reported ({pages_seen} pulled pages, {restamps} re-stampings, {keyrings} keyring saves), {:.1} s (checks {:.1} s, of which reopen+integrity {:.1} s)",
        all.len(),
        started.elapsed().as_secs_f64(),
        check_time.as_secs_f64(),
        integrity_time.as_secs_f64()
    );
}

/// Every pending change is in the records under the stamp the outbox holds (a re-stamping
/// is all or nothing), and its row agrees with its JSON.
fn check_pending_matches_records(s: &Store, i: usize) {
    let mut stmt = s
        .connection()
        .prepare(
            "SELECT seq, hlc, change_json FROM outbox WHERE state = 'pending'
               AND seq > (SELECT sent_through FROM device_state WHERE id = 1)",
        )
        .unwrap();
    let rows: Vec<(i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (seq, hlc, json) in rows {
        let c: sync_protocol::Change = serde_json::from_str(&json).unwrap();
        assert_eq!((c.seq as i64, c.hlc.to_string()), (seq, hlc.clone()), "{i}");
        let (id, dev) = (c.id.to_string(), c.device.to_string());
        let found: i64 = if c.kind.class() == sync_protocol::Class::Fact {
            if c.tombstone {
                continue;
            }
            s.connection()
                .query_row(
                    "SELECT count(*) FROM facts WHERE id = ?1 AND made_hlc = ?2 AND made_device = ?3",
                    [&id, &hlc, &dev],
                    |r| r.get(0),
                )
                .unwrap()
        } else {
            let n: i64 = s
                .connection()
                .query_row(
                    "SELECT count(*) FROM field_edits WHERE record_id = ?1 AND hlc = ?2 AND device = ?3",
                    [&id, &hlc, &dev],
                    |r| r.get(0),
                )
                .unwrap();
            i64::from(n == c.body.len() as i64)
        };
        assert_eq!(
            found, 1,
            "{i}: seq {seq} not in the records under its stamp"
        );
    }
}

fn check_line(s: &Store, line: &str, i: usize) {
    let mut parts = line.split_whitespace();
    match parts.next() {
        Some("R") | Some("K") => {}
        Some("M") => {
            let id = parts.next().unwrap();
            assert_eq!(
                count(s, "SELECT count(*) FROM facts WHERE id = ?1", id),
                1,
                "{i}: {line}"
            );
            assert_eq!(
                count(s, "SELECT count(*) FROM outbox WHERE record_id = ?1", id),
                1,
                "{i}: {line}"
            );
        }
        Some("P") => {
            let n: u64 = parts.next().unwrap().parse().unwrap();
            assert!(cursor_page(s) >= n, "{i}: {line}");
        }
        Some("H") => {
            let hh = parts.next().unwrap();
            assert_eq!(
                count(s, "SELECT count(*) FROM households WHERE id = ?1", hh),
                1,
                "{i}: {line}"
            );
            assert_eq!(
                count(s, "SELECT count(*) FROM persons WHERE household = ?1", hh),
                2,
                "{i}: {line}"
            );
            for p in parts {
                assert_eq!(
                    count(s, "SELECT count(*) FROM outbox WHERE record_id = ?1", p),
                    1,
                    "{i}: {line}"
                );
            }
        }
        _ => panic!("unexpected line {line:?}"),
    }
}

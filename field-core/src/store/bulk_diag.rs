//! EXPERIMENT (helper fresh5, not for merging): timings of a bulk first sync's end and
//! switches for its variants, read from the environment.

use rusqlite::Connection;
use std::io::Write;
use std::time::Instant;

/// Appends one line per step to the file named by `JANGKAU_BULK_TIMING`.
pub(crate) struct Steps {
    out: Option<(std::fs::File, Instant, Instant)>,
    cpu: u64,
}

/// This thread's CPU time in ns (`/proc/thread-self/schedstat`'s first field).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn mem() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("VmHWM:") / 1024, kb("VmRSS:") / 1024)
}

impl Steps {
    pub(crate) fn new() -> Self {
        let out = std::env::var_os("JANGKAU_BULK_TIMING").and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
                .map(|f| (f, Instant::now(), Instant::now()))
        });
        Steps { out, cpu: cpu_ns() }
    }

    pub(crate) fn mark(&mut self, what: &str) {
        if let Some((f, t, t0)) = &mut self.out {
            let (hwm, rss) = mem();
            let cpu = cpu_ns();
            let _ = writeln!(
                f,
                "{what:<28} {:>8.1} ms  cpu {:>7.1} ms  (at {:>8.1})  hwm {hwm} MiB rss {rss} MiB",
                t.elapsed().as_secs_f64() * 1e3,
                cpu.saturating_sub(self.cpu) as f64 / 1e6,
                t0.elapsed().as_secs_f64() * 1e3
            );
            self.cpu = cpu;
            *t = Instant::now();
        }
    }
}

pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The autocheckpoint a connection has outside a bulk (`open.rs` `configure`).
pub(crate) fn default_autockpt(conn: &Connection) -> i64 {
    let page: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap_or(8192);
    (32 << 20) / page.max(512)
}

pub(crate) fn set_autockpt(conn: &Connection, n: i64) {
    let _ = conn.query_row(&format!("PRAGMA wal_autocheckpoint = {n}"), [], |_| Ok(()));
}

//! The device simulator: a real district server in this process, tablets enrolled through
//! the real API (field-core stores, encrypted with SQLCipher), data recorded through
//! field-core's domain API and synced over real HTTP on loopback, optionally through the
//! byte-counting, link-shaping proxy ([`crate::proxy`]).
//!
//! Driven by the `simulator` binary (`src/bin/simulator.rs`); the figures it prints are the
//! ones quoted in `docs/BENCHMARKS.md`. Nothing here is timed in a test.
//!
//! - [`server`]: the district server on `127.0.0.1:0` (SQLite or a scratch PostgreSQL).
//! - [`device`]: one tablet: enrolment, sync runs with per-phase timings.
//! - [`village`]: realistic data of one posyandu recorded through the domain API.
//! - [`scenarios`]: `wire`, `push-pull`, `fresh-device`, `posyandu-day`, `many-devices`.
//! - [`profile`]: where the time of a push or a pull goes, step by step.
//! - [`report`]: the rows every scenario produces, as a table or JSON.

pub mod device;
pub mod profile;
pub mod report;
pub mod scenarios;
pub mod server;
pub mod village;

use std::path::PathBuf;

/// What can stop a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("district server: {0}")]
    Server(String),
    #[error("device store: {0}")]
    Store(#[from] field_core::StoreError),
    #[error("sync: {0}")]
    Sync(#[from] field_core::sync::SyncError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A result that does not add up (fewer records arrived than were sent, ...).
    #[error("check failed: {0}")]
    Check(String),
}

impl From<district_server::StorageError> for SimError {
    fn from(e: district_server::StorageError) -> Self {
        SimError::Server(e.to_string())
    }
}

impl From<district_server::admin::AdminError> for SimError {
    fn from(e: district_server::admin::AdminError) -> Self {
        SimError::Server(e.to_string())
    }
}

impl From<district_server::AppError> for SimError {
    fn from(e: district_server::AppError) -> Self {
        SimError::Server(e.to_string())
    }
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;

/// Where simulated tablets keep their databases.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Tablets whose writes are measured (the disk the temporary directory is on).
    pub disk: PathBuf,
    /// Tablets that only make data for others (`/dev/shm` when there is one: their fsyncs
    /// are not what is measured).
    pub scratch: PathBuf,
}

impl Default for Dirs {
    fn default() -> Self {
        let shm = PathBuf::from("/dev/shm");
        Self {
            disk: std::env::temp_dir(),
            scratch: if shm.is_dir() {
                shm
            } else {
                std::env::temp_dir()
            },
        }
    }
}

/// Peak and current resident memory of this process (`VmHWM`, `VmRSS` in
/// `/proc/self/status`), in bytes; `None` where there is no procfs.
pub fn memory() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|v| v * 1024)
    };
    Some((kb("VmHWM:")?, kb("VmRSS:")?))
}

/// Resets the peak resident memory to the current one (`5` into `/proc/self/clear_refs`), so
/// a later [`memory`] gives the peak of what came after. Returns whether it worked.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time this process has used, all threads (user + system, from `/proc/self/stat`,
/// in clock ticks of 10 ms: Linux's `USER_HZ` is 100).
pub fn cpu_time() -> Option<std::time::Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}

/// Bytes this process has written: through write calls (`wchar`) and to storage
/// (`write_bytes`: what the page cache sent or will send to the disk), from `/proc/self/io`.
pub fn bytes_written() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |key: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((field("wchar:")?, field("write_bytes:")?))
}

/// The machine's load average over the last minute (`/proc/loadavg`).
pub fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

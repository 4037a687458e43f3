//! Crash tests at process level: the real `jangkau` and `jangkau-server` binaries as child
//! processes, killed in the middle of a sync and started again, on SQLite and PostgreSQL.
//! After every scenario the end state is checked exactly: each change on the server once,
//! every outbox empty, every device holding the server's records, every database sound.
//!
//! Random choices are seeded; the seed is printed (`JANGKAU_CRASH_SEED=<seed>` repeats it).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod crash {
    mod bins;
    mod checks;
    mod device;
    mod device_killed;
    mod rng;
    mod server;
    mod server_restarted;
}

//! System tests of Jangkau live in `tests/tests/`: a real district server (embedded SQLite
//! or PostgreSQL) on 127.0.0.1 and several devices (field-core stores in temporary
//! directories, or the real `jangkau` binary) syncing over real HTTP.
//!
//! This library holds what the tests and the benchmark share:
//! - [`proxy`]: the project's own fault-injecting, link-shaping HTTP/1.1 proxy;
//! - [`sim`]: the device simulator behind the `simulator` benchmark binary
//!   (`cargo run -p system-tests --release --bin simulator -- all`).
#![forbid(unsafe_code)]
pub mod proxy;
pub mod sim;

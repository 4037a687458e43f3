//! System tests of Jangkau live in `tests/`: a real district server on 127.0.0.1 with
//! embedded SQLite, and several devices (field-core stores in temporary directories) syncing
//! over real HTTP. This library is empty.
#![forbid(unsafe_code)]

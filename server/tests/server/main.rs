//! Server tests over real HTTP and real databases: every test runs against SQLite and
//! PostgreSQL (127.0.0.1:5432, or `JANGKAU_TEST_PG`), each on a fresh database.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod access;
mod api;
mod cli;
mod dashboard;
mod fhir_server;
mod fuzz;
mod group_commit;
mod kfa;
mod limits;
mod memory;
mod ops;
mod satusehat;
mod shared;
mod storage;
mod titip;

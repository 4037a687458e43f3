//! # health-rules
//!
//! The answers a kader needs ("is this child growing?", "what is due today?", "who must I
//! visit?") as pure functions over data. No IO: no SQLite, no HTTP, no tokio. Rule tables
//! that districts vary (KBM, immunisation schedule, red-line position) and the WHO growth
//! tables are data files under `data/`, compiled in with `include_str!`.
#![forbid(unsafe_code)]

pub mod advice;
pub mod age;
pub mod checks;
pub mod common;
pub mod growth;
pub mod identity;
pub mod immunisation;
pub mod kms;
pub mod pregnancy;
pub mod problems;
pub mod report;
pub mod tasks;

pub use common::{Label, Params, Sex};

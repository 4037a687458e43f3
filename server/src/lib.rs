//! # district-server
//!
//! The Jangkau district server (dinas kesehatan kabupaten): places and accounts, device
//! enrolment and login, and the sync endpoints that keep every tablet in step, each user
//! seeing and writing only their own area. Axum on tokio, over one [`storage::Storage`]
//! trait with two backends: SQLite (embedded default) and PostgreSQL (production).
//!
//! Layout: [`storage`] (trait, backends, migrations), [`sync`] (the push algorithm and the
//! role × kind rules, backend-independent), [`auth`] (codes, tokens, Argon2id, rate limits),
//! [`checkin`] (a check-in's session and page asked for at once),
//! [`http`] (routes and handlers), [`admin`] (what the CLI does), [`demodata`] (the demo
//! district's generated history), [`export`] (e-PPGBM and FHIR files), [`config`],
//! [`metrics`], [`web`] (the dashboard's HTML pages), [`satusehat`] (the SATUSEHAT
//! submission worker).
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod checkin;
pub mod config;
pub mod demodata;
pub mod error;
pub mod export;
pub mod http;
pub mod metrics;
pub mod model;
pub mod quarantine;
pub mod readmodel;
pub mod relay;
pub mod satusehat;
pub mod storage;
pub mod sync;
pub mod web;

pub use config::Config;
pub use error::AppError;
pub use http::{AppState, router};
pub use storage::{Storage, StorageError};

//! `jangkau`: the headless Jangkau client for staff and scripts.
//!
//! Each subcommand lives in its own module; add one by adding a variant to
//! [`Command`] and a `run` function in the module.
#![forbid(unsafe_code)]

mod device;
mod enrol_cmd;
mod export_cmd;
mod growth_cmd;
mod import_cmd;
mod record_cmd;
mod relay_cmd;
mod status_cmd;
mod sync_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every subcommand (shown in `--help`).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done (everything was computed or recorded)
  1  some input was rejected (a bad row in a CSV, or a bad measurement); the rest was done
  2  usage error or a file could not be read or written
  3  the server could not be reached or is busy: try again later (nothing is lost)
  4  login needed or refused (wrong PIN or password, session ended, enrolment code refused)
  5  this device was revoked by an admin: its data is kept, it no longer syncs
  6  the app or the server must be updated";

#[derive(Debug, Parser)]
#[command(name = "jangkau", version, about = "Jangkau command-line tools for ILP staff and scripts", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// WHO growth z-scores and Permenkes 2/2020 nutritional status, for one child or a CSV register.
    Growth(growth_cmd::GrowthArgs),
    /// Enrol this device with a district server (one-time code from the admin) and log in.
    Enrol(enrol_cmd::EnrolArgs),
    /// Send waiting changes and receive the area's new records.
    Sync(sync_cmd::SyncArgs),
    /// What waits to sync, the last successful sync, conflicts and refused changes.
    Status(status_cmd::StatusArgs),
    /// Register households and their members from a CSV file.
    Import(import_cmd::ImportArgs),
    /// Every record on this device as sync envelopes, one JSON object per line.
    Export(export_cmd::ExportArgs),
    /// Record what a kader or bidan records: a weighing, a home visit, a pregnancy, a referral.
    Record(record_cmd::RecordArgs),
    /// Titip: sync through another tablet or a file (seal, carry, collect, open).
    Relay(relay_cmd::RelayArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Growth(args) => growth_cmd::run(args),
        Command::Enrol(args) => enrol_cmd::run(args),
        Command::Sync(args) => sync_cmd::run(args),
        Command::Status(args) => status_cmd::run(args),
        Command::Import(args) => import_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Record(args) => record_cmd::run(args),
        Command::Relay(args) => relay_cmd::run(args),
    }
}

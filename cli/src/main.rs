//! `jangkau`: the headless Jangkau client for staff and scripts.
//!
//! Each subcommand lives in its own module; add one by adding a variant to
//! [`Command`] and a `run` function in the module.
#![forbid(unsafe_code)]

mod growth_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every subcommand (shown in `--help`).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  everything was computed
  1  some input was rejected (a bad row in a CSV, or a bad measurement); the rest was done
  2  usage error or a file could not be read or written";

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Growth(args) => growth_cmd::run(args),
    }
}

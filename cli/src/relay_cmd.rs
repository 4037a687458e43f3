//! `jangkau relay`: titip, sync through another tablet or a file (docs/sync-protocol.md
//! section 10).
//!
//! - `seal`: this tablet seals what it has not delivered into a bundle for the server;
//! - `carry`: a carrier takes a bundle (or a pack); its next `jangkau sync` hands it over;
//! - `collect`: the carrier writes the server's sealed answers for the tablets it carried for;
//! - `open`: the first tablet takes in the answers meant for it.
//!
//! The files are sealed: the carrier reads only whose they are.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use field_core::sync::TitipError;

use crate::device::{self, DEVICE_EXIT_CODES, DataArgs, EXIT_USAGE, Failure, Secrets};

const HELP: &str = "\
A bundle is encrypted to the district server's key and signed with this tablet's key (both
exchanged at enrolment): a carrier, a USB stick or a shared folder can neither read, change
nor forge it, and delivering it twice changes nothing. A tablet enrolled before titip has no
keys: enrol it again.";

/// Arguments of `jangkau relay`.
#[derive(Debug, Args)]
#[command(after_help = format!("{HELP}\n\n{DEVICE_EXIT_CODES}"))]
pub struct RelayArgs {
    #[command(subcommand)]
    command: RelayCommand,
}

#[derive(Debug, Subcommand)]
enum RelayCommand {
    /// Seal what this tablet has not delivered into a bundle file for the server.
    Seal {
        #[command(flatten)]
        data: DataArgs,
        /// Write the bundle to this file (created owner-only).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only changes from this sequence number on (default: every undelivered change).
        #[arg(long, value_name = "SEQ")]
        from_seq: Option<u64>,
    },
    /// Take another tablet's bundle (or a pack of them) to hand over at the next sync.
    Carry {
        #[command(flatten)]
        data: DataArgs,
        /// The bundle file.
        file: PathBuf,
    },
    /// Write the server's sealed answers for the tablets this one carried for.
    Collect {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Take in the answers meant for this tablet (acknowledgements and new records).
    Open {
        #[command(flatten)]
        data: DataArgs,
        /// An answer file, or a carrier's collected pack.
        file: PathBuf,
    },
    /// What this tablet sealed (and what the server confirmed) and what it carries.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: RelayArgs) -> ExitCode {
    match relay(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn titip(e: TitipError) -> Failure {
    match e {
        TitipError::Store(s) => s.into(),
        TitipError::Sync(s) => s.into(),
        other => Failure::new(EXIT_USAGE, format!("{other} ({})", other.message_key())),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::new(EXIT_USAGE, format!("cannot read {}: {e}", path.display())))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        Failure::new(EXIT_USAGE, format!("cannot write {}: {e}", path.display()))
    };
    let mut f = field_core::store::files::create_private_file(path).map_err(fail)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(fail)
}

fn relay(args: RelayArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    match args.command {
        RelayCommand::Seal {
            data,
            out,
            from_seq,
        } => {
            let mut store = device::open(&data, &mut secrets)?;
            let max = sync_protocol::Limits::default().max_batch;
            let sealed = store.seal_titip(from_seq, max).map_err(titip)?;
            write(&out, &sealed)?;
            let count = store
                .titip_sent()
                .map_err(titip)?
                .first()
                .map_or(0, |s| s.count);
            println!(
                "Sealed {count} changes ({} bytes) into {}.",
                sealed.len(),
                out.display()
            );
        }
        RelayCommand::Carry { data, file } => {
            let mut store = device::open(&data, &mut secrets)?;
            let bytes = read(&file)?;
            let added = store.carry_titip(&bytes).map_err(titip)?;
            let carried = store.titip_carried().map_err(titip)?;
            let waiting = carried
                .iter()
                .filter(|c| c.handed_ms.is_none() && c.refused.is_none())
                .count();
            println!("Took {added} new bundles; {waiting} wait for the next sync.");
        }
        RelayCommand::Collect { data, out } => {
            let mut store = device::open(&data, &mut secrets)?;
            let (pack, n) = store.collect_titip().map_err(titip)?;
            write(&out, &pack)?;
            println!("Wrote {n} answers into {}.", out.display());
        }
        RelayCommand::Open { data, file } => {
            let mut store = device::open(&data, &mut secrets)?;
            let bytes = read(&file)?;
            let r = store.open_titip(&bytes).map_err(titip)?;
            println!(
                "Opened {} answers: {} changes confirmed, {} refused, {} received; acked up to {}.",
                r.answers, r.confirmed, r.rejected, r.received, r.acked_seq
            );
            if r.rejected > 0 {
                return Err(Failure::new(
                    device::EXIT_REJECTED,
                    "some changes were refused and stay on this device with their reason",
                ));
            }
        }
        RelayCommand::List { data, json } => {
            let store = device::open(&data, &mut secrets)?;
            let sent = store.titip_sent().map_err(titip)?;
            let carried = store.titip_carried().map_err(titip)?;
            if json {
                let v = serde_json::json!({"sent": sent, "carried": carried});
                println!("{v}");
            } else {
                for s in &sent {
                    println!(
                        "sealed {} changes at {}: {}",
                        s.count,
                        s.created_ms,
                        match s.confirmed {
                            Some(c) => format!("{c} confirmed by the server"),
                            None => "not confirmed yet".into(),
                        }
                    );
                }
                for c in &carried {
                    println!(
                        "carrying {} changes of {}: {}",
                        c.count,
                        c.device,
                        match (&c.refused, c.handed_ms) {
                            (Some(r), _) => format!("refused ({r})"),
                            (None, Some(_)) => "handed over, answer kept".into(),
                            (None, None) => "waits for the next sync".into(),
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

//! `jangkau export --format jsonl`: every change this device holds as a sync envelope, one
//! JSON object per line.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::device::{self, DEVICE_EXIT_CODES, DataArgs, EXIT_USAGE, Failure, Secrets};

const HELP: &str = "\
Each line is one change envelope of the sync protocol (docs/sync-protocol.md, section 4):
this device's own changes exactly as they were (or will be) pushed, then the changes
received from other devices, rebuilt from the stored edits. A received change has `seq: 0`
(this device does not keep other devices' sequence numbers). Changes the server refused for
good are not records and are not exported (see `jangkau status`).";

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One JSON object per line.
    Jsonl,
}

/// Arguments of `jangkau export`.
#[derive(Debug, Args)]
#[command(after_help = format!("{HELP}\n\n{DEVICE_EXIT_CODES}"))]
pub struct ExportArgs {
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> ExitCode {
    match export(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn export(args: ExportArgs) -> Result<(), Failure> {
    let Format::Jsonl = args.format;
    let mut secrets = Secrets::new();
    let store = device::open(&args.data, &mut secrets)?;
    let mut w: Box<dyn Write> = match &args.out {
        // 0600 whatever the umask: the export holds health data.
        Some(p) => Box::new(BufWriter::new(
            field_core::store::files::create_private_file(p).map_err(|e| {
                Failure::new(EXIT_USAGE, format!("cannot write {}: {e}", p.display()))
            })?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    let mut io_err: Option<io::Error> = None;
    let n = store.export_changes(|c| {
        let line = serde_json::to_string(c)?;
        if io_err.is_none()
            && let Err(e) = writeln!(w, "{line}")
        {
            io_err = Some(e);
        }
        Ok(())
    })?;
    if let Some(e) = io_err.or_else(|| w.flush().err()) {
        return Err(Failure::new(
            EXIT_USAGE,
            format!("cannot write the export: {e}"),
        ));
    }
    if args.out.is_some() {
        eprintln!("jangkau: exported {n} changes");
    }
    Ok(())
}

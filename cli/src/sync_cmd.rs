//! `jangkau sync`: one sync run (status, push, pull), with progress on stderr.

use std::process::ExitCode;

use clap::Args;
use field_core::sync::SyncPhase;

use crate::device::{self, DEVICE_EXIT_CODES, DataArgs, Failure, Secrets, TlsArgs};

/// Arguments of `jangkau sync`.
#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
pub struct SyncArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    tls: TlsArgs,
    /// Most changes per push (default 1000; a push also closes at 48 KiB compressed).
    #[arg(long, value_name = "N")]
    batch: Option<usize>,
    /// Changes per pull page, fixed (default: 500, growing to 1,000 on a fast link).
    #[arg(long, value_name = "N")]
    pull_limit: Option<u32>,
    /// Retries of a failed request before giving up (with backoff: 1 s, 2 s, 4 s …).
    #[arg(long, value_name = "N")]
    retries: Option<u32>,
    /// The wait before the first retry in milliseconds (default 1000; doubled each retry,
    /// ±50 %).
    #[arg(long, value_name = "MS")]
    retry_delay_ms: Option<u64>,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// No progress lines on standard error.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: SyncArgs) -> ExitCode {
    match sync(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn sync(args: SyncArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&args.data, &mut secrets)?;
    let password = secrets.password_if_given();
    let mut client = args.tls.client()?;
    let mut cfg = client.config().clone();
    if let Some(b) = args.batch {
        cfg.push_batch = b.max(1);
    }
    if let Some(n) = args.pull_limit {
        // Pages of exactly this size (they do not grow with the link).
        cfg.pull_limit = n.max(1);
        cfg.pull_limit_max = cfg.pull_limit;
    }
    if let Some(r) = args.retries {
        cfg.backoff.max_retries = r;
    }
    if let Some(ms) = args.retry_delay_ms {
        cfg.backoff.initial = std::time::Duration::from_millis(ms);
    }
    client = field_core::sync::SyncClient::new(cfg);
    if !args.quiet {
        client = client.on_event(|e| {
            let what = match &e.phase {
                SyncPhase::Status => "checking with the server".to_string(),
                SyncPhase::LoggingIn => "logging in again".to_string(),
                SyncPhase::Pushing => format!("sending ({} waiting)", e.waiting),
                SyncPhase::Pulling => format!("receiving ({} so far)", e.received),
                SyncPhase::Retrying {
                    attempt,
                    delay_ms,
                    key,
                } => format!(
                    "retry {attempt} in {:.1} s ({key})",
                    *delay_ms as f64 / 1000.0
                ),
                SyncPhase::UpToDate => "up to date".to_string(),
                SyncPhase::Done => format!("done: {} sent, {} received", e.sent, e.received),
                SyncPhase::Failed { key } => format!("failed ({key})"),
            };
            eprintln!("sync: {what}");
        });
    }
    let rt = device::runtime()?;
    let report = match rt.block_on(client.sync(&mut store, password.as_deref())) {
        Err(field_core::sync::SyncError::LoginRequired) if password.is_none() => {
            // On a terminal: ask once, log in, and run again.
            let Some(p) = secrets.ask_password() else {
                return Err(field_core::sync::SyncError::LoginRequired.into());
            };
            rt.block_on(client.login(&mut store, &p))?;
            rt.block_on(client.sync(&mut store, Some(&p)))?
        }
        other => other?,
    };
    if args.json {
        let json = serde_json::to_string(&report)
            .map_err(|e| Failure::new(device::EXIT_USAGE, e.to_string()))?;
        println!("{json}");
    } else if report.up_to_date {
        println!("Up to date.");
    } else {
        println!(
            "Sent {}, refused {}, received {}; {} waiting; {} open conflicts.",
            report.sent, report.rejected, report.received, report.waiting, report.conflicts_open
        );
    }
    if !args.json && report.titip_handed + report.titip_refused > 0 {
        println!(
            "Handed over {} titip bundles of other tablets ({} refused); `jangkau relay collect` writes their answers.",
            report.titip_handed, report.titip_refused
        );
    }
    if report.rejected > 0 {
        eprintln!(
            "jangkau: the server refused {} changes; see `jangkau status` for the reasons",
            report.rejected
        );
        return Err(Failure::new(
            device::EXIT_REJECTED,
            "some changes were refused and stay on this device with their reason",
        ));
    }
    Ok(())
}

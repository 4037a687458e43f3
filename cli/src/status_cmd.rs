//! `jangkau status`: what waits to sync, when the last sync succeeded, conflicts, refusals.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::device::{self, DEVICE_EXIT_CODES, DataArgs, Failure, Secrets, time_text};

/// Arguments of `jangkau status`.
#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
pub struct StatusArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: StatusArgs) -> ExitCode {
    match status(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn status(args: StatusArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let store = device::open(&args.data, &mut secrets)?;
    let state = store.sync_state()?;
    let counts = store.sync_counts()?;
    let rejected: Vec<_> = store
        .rejected_changes()?
        .into_iter()
        .map(|(c, r)| {
            json!({
                "seq": c.seq, "id": c.id, "kind": c.kind,
                "code": r.as_ref().map(|r| r.code),
                "key": r.as_ref().map(|r| r.key.clone()),
                "field": r.as_ref().and_then(|r| r.field.clone()),
                "message": r.as_ref().map(|r| r.message.clone()),
            })
        })
        .collect();
    let user = store.user();
    if args.json {
        let v = json!({
            "device_id": state.device_id,
            "user": user.username,
            "enrolled": state.enrolled,
            "server": state.server_url,
            "revoked": state.revoked,
            "waiting": counts.pending,
            "rejected": counts.rejected,
            "open_conflicts": counts.open_conflicts,
            "acked_seq": state.acked_seq,
            "last_success_ms": state.last_success_ms,
            "last_attempt_ms": state.last_attempt_ms,
            "last_error": state.last_error.as_ref().map(|(k, m)| json!({"key": k, "message": m})),
            "session_expires_at": state.session_expires_at,
            "rejected_changes": rejected,
        });
        println!("{v}");
        return Ok(());
    }
    println!("Device:     {} ({})", state.device_id, user.username);
    println!(
        "Server:     {}",
        state.server_url.as_deref().unwrap_or("(not enrolled)")
    );
    if let Some(r) = &state.revoked {
        println!(
            "REVOKED:    since {}: {} (the data stays on this device; it no longer syncs)",
            time_text(r.at_ms),
            r.message
        );
    }
    println!("Waiting:    {} changes to send", counts.pending);
    println!(
        "Refused:    {} changes (kept here, need fixing)",
        counts.rejected
    );
    println!("Conflicts:  {} to review", counts.open_conflicts);
    println!(
        "Last sync:  {}",
        state
            .last_success_ms
            .map_or_else(|| "never".to_string(), time_text)
    );
    if let Some((key, msg)) = &state.last_error {
        println!("Last error: {msg} ({key})");
    }
    match state.session_expires_at {
        Some(t) => println!("Session:    until {}", time_text(t)),
        None => println!("Session:    none (the next sync needs the password)"),
    }
    for r in rejected {
        println!(
            "  refused #{} {} {}: {} ({})",
            r["seq"],
            r["kind"].as_str().unwrap_or("?"),
            r["id"].as_str().unwrap_or("?"),
            r["message"].as_str().unwrap_or("?"),
            r["field"].as_str().unwrap_or("-")
        );
    }
    Ok(())
}

//! The admin's quarantine of a change: `jangkau-server change quarantine|release|list`.
//!
//! A quarantined change stays in the log (and settled for its device, so the device is not
//! asked again), but no pull serves it and no status counts it. Quarantine and release are
//! logged (here, through tracing, and in the database's `change_quarantine_log`) and
//! reversible: a released change is served again to devices whose cursor is before it, and
//! to new devices; a device whose cursor passed it while it was quarantined does not get it
//! (the admin tells that tablet to re-install, or leaves it: the change was bad).

use crate::storage::{ChangeFilter, ChangeTarget, LoggedChange, Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    #[error(
        "{0:?} is neither a server sequence number (as `change list` shows, e.g. 1204 or s1204) nor a record id"
    )]
    BadTarget(String),
    #[error("no change {0} {1}")]
    Nothing(&'static str, String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads what the admin typed: a server sequence number (`1204`, `s1204`) or a record id.
pub fn parse_target(s: &str) -> Result<ChangeTarget, QuarantineError> {
    let t = s.trim();
    let digits = t.strip_prefix('s').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits
            .parse::<i64>()
            .map(ChangeTarget::Sseq)
            .map_err(|_| QuarantineError::BadTarget(s.chars().take(60).collect()));
    }
    t.parse::<sync_protocol::RecordId>()
        .map(ChangeTarget::Record)
        .map_err(|_| QuarantineError::BadTarget(s.chars().take(60).collect()))
}

/// Quarantines (`on`) or releases what `target` names; returns the server sequence numbers
/// whose state changed (an error when none did).
pub async fn set(
    store: &dyn Storage,
    target: &str,
    on: bool,
    reason: &str,
) -> Result<Vec<i64>, QuarantineError> {
    let t = parse_target(target)?;
    let reason: String = reason.chars().take(500).collect();
    let done = store
        .set_quarantine(t.clone(), on, reason.clone(), crate::model::now_ms())
        .await?;
    let action = if on { "quarantined" } else { "released" };
    if done.is_empty() {
        let what = if on { "to quarantine" } else { "in quarantine" };
        return Err(QuarantineError::Nothing(
            what,
            target.chars().take(60).collect(),
        ));
    }
    tracing::warn!(target: "audit", action, sseqs = ?done, target = ?t, reason = %reason, "change {action} by an admin");
    Ok(done)
}

/// The listing `change list` prints, one change a line.
pub fn format_list(rows: &[LoggedChange]) -> String {
    let mut out = format!(
        "{:>10}  {:<36}  {:<16} {:<20} {:>10}  {}\n",
        "sseq", "record", "kind", "posyandu", "bytes", "state"
    );
    for r in rows {
        let state = match (&r.quarantined_at, &r.quarantine_reason) {
            (Some(_), Some(why)) if !why.is_empty() => format!("quarantined: {why}"),
            (Some(_), _) => "quarantined".to_string(),
            (None, _) if r.bytes as usize > sync_protocol::codec::PULL_PAGE_BYTES => {
                "over the page limit: not served".to_string()
            }
            (None, _) => "served".to_string(),
        };
        out.push_str(&format!(
            "{:>10}  {:<36}  {:<16} {:<20} {:>10}  {}\n",
            r.sseq, r.record, r.kind, r.posyandu, r.bytes, state
        ));
    }
    out
}

/// The changes `change list` shows.
pub async fn list(
    store: &dyn Storage,
    filter: ChangeFilter,
) -> Result<Vec<LoggedChange>, QuarantineError> {
    Ok(store.list_changes(filter).await?)
}

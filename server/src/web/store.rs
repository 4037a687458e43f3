//! The dashboard's own rows (migration 0007): sessions, the audit log, the ILP rollout, a
//! password reset; and the conflicts waiting per posyandu. Writes through
//! [`crate::storage::web::WebStore::web_exec`], reads through `read_rows`; the SQL is in
//! SQLite's dialect with `?N` parameters and runs unchanged on PostgreSQL.

use crate::Storage;
use crate::readmodel::{Cell, Param};
use crate::storage::StorageError;
use sync_protocol::UserId;

fn t(s: &str) -> Param {
    Param::Text(s.to_string())
}

fn i(n: u64) -> Param {
    Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn text(row: &[Cell], k: usize) -> String {
    row.get(k)
        .and_then(Cell::text)
        .unwrap_or_default()
        .to_string()
}

fn int(row: &[Cell], k: usize) -> i64 {
    row.get(k).and_then(Cell::int).unwrap_or(0)
}

pub async fn create_session(
    store: &dyn Storage,
    token_hash: &str,
    user: UserId,
    csrf: &str,
    now: u64,
    expires_at: u64,
) -> Result<(), StorageError> {
    // Expired sessions go as new ones come.
    store
        .web_exec(
            "DELETE FROM web_sessions WHERE expires_at < ?1".into(),
            vec![i(now)],
        )
        .await?;
    store
        .web_exec(
            "INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)"
                .into(),
            vec![
                t(token_hash),
                t(&user.to_string()),
                t(csrf),
                i(now),
                i(expires_at),
            ],
        )
        .await?;
    Ok(())
}

/// `(user, csrf, expires_at)` of a session.
pub async fn session(
    store: &dyn Storage,
    token_hash: &str,
) -> Result<Option<(UserId, String, u64)>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash = ?1".into(),
            vec![t(token_hash)],
        )
        .await?;
    Ok(rows.first().and_then(|r| {
        let user: UserId = text(r, 0).parse().ok()?;
        Some((user, text(r, 1), u64::try_from(int(r, 2)).unwrap_or(0)))
    }))
}

pub async fn end_session(store: &dyn Storage, token_hash: &str) -> Result<(), StorageError> {
    store
        .web_exec(
            "DELETE FROM web_sessions WHERE token_hash = ?1".into(),
            vec![t(token_hash)],
        )
        .await?;
    Ok(())
}

/// Ends every session of `user` at `now` (ms): the dashboard's are deleted, the tablets' are
/// kept and expired, so a tablet's next request answers `session_expired` and its user logs
/// in again — after a password reset, with the new password (whoever knew the old one is
/// out). Used when a user is disabled and when a password is reset.
pub async fn end_user_sessions(
    store: &dyn Storage,
    user: UserId,
    now: u64,
) -> Result<(), StorageError> {
    let id = user.to_string();
    store
        .web_exec(
            "UPDATE sessions SET expires_at = ?2 WHERE user_id = ?1 AND expires_at > ?2".into(),
            vec![t(&id), i(now)],
        )
        .await?;
    store
        .web_exec(
            "DELETE FROM web_sessions WHERE user_id = ?1".into(),
            vec![t(&id)],
        )
        .await?;
    Ok(())
}

/// One admin action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub username: String,
    pub action: String,
    pub target: String,
    /// The place the action concerns (the admin's scope shows what is at or under it).
    pub place: String,
    pub detail: String,
}

pub async fn audit(store: &dyn Storage, e: &AuditEntry) -> Result<(), StorageError> {
    store
        .web_exec(
            "INSERT INTO audit_log (at, username, action, target, place, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                .into(),
            vec![
                Param::Int(e.at),
                t(&e.username),
                t(&e.action),
                t(&e.target),
                t(&e.place),
                t(&e.detail),
            ],
        )
        .await?;
    Ok(())
}

/// The latest actions on places at or under `scope`, newest first.
pub async fn audit_log(
    store: &dyn Storage,
    scope: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT a.at, a.username, a.action, a.target, a.place, a.detail FROM audit_log a
             WHERE a.place = ?1 OR a.place IN (SELECT code FROM place_tree WHERE ancestor = ?1)
             ORDER BY a.at DESC LIMIT ?2"
                .into(),
            vec![t(scope), Param::Int(i64::try_from(limit).unwrap_or(100))],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            at: int(r, 0),
            username: text(r, 1),
            action: text(r, 2),
            target: text(r, 3),
            place: text(r, 4),
            detail: text(r, 5),
        })
        .collect())
}

/// Since when each place runs ILP (`YYYY-MM-DD`), by code.
pub async fn ilp(
    store: &dyn Storage,
) -> Result<std::collections::HashMap<String, String>, StorageError> {
    let rows = store
        .read_rows("SELECT code, since FROM place_ilp".into(), vec![])
        .await?;
    Ok(rows.iter().map(|r| (text(r, 0), text(r, 1))).collect())
}

/// Records (or with `None` clears) since when `code` runs ILP.
pub async fn set_ilp(
    store: &dyn Storage,
    code: &str,
    since: Option<&str>,
) -> Result<(), StorageError> {
    store
        .web_exec(
            "DELETE FROM place_ilp WHERE code = ?1".into(),
            vec![t(code)],
        )
        .await?;
    if let Some(since) = since {
        store
            .web_exec(
                "INSERT INTO place_ilp (code, since) VALUES (?1, ?2)".into(),
                vec![t(code), t(since)],
            )
            .await?;
    }
    Ok(())
}

/// Replaces a user's password hash; false when there is no such user.
pub async fn set_secret(
    store: &dyn Storage,
    user: UserId,
    phc: &str,
) -> Result<bool, StorageError> {
    let n = store
        .web_exec(
            "UPDATE users SET secret_hash = ?1 WHERE id = ?2".into(),
            vec![t(phc), t(&user.to_string())],
        )
        .await?;
    Ok(n > 0)
}

/// Conflicts waiting for review (no live `conflict_review` decided them), per posyandu at
/// or under `scope`: `readmodel::review::conflicts`, the Tinjauan page's own count.
pub async fn conflicts_by_posyandu(
    store: &dyn Storage,
    scope: &str,
) -> Result<std::collections::BTreeMap<String, u64>, StorageError> {
    let mut out = std::collections::BTreeMap::new();
    for c in crate::readmodel::review::conflicts(store, scope).await? {
        *out.entry(c.posyandu).or_insert(0) += 1;
    }
    Ok(out)
}

/// The demo district's ILP rollout: 9 of the 17 puskesmas run ILP (as in Belu), since
/// dates in 2024 and 2025. Leaves a puskesmas that already has a date alone.
pub async fn demo_ilp(store: &dyn Storage) -> Result<(), StorageError> {
    let have = ilp(store).await?;
    for (i, since) in [
        "2024-01-15",
        "2024-03-01",
        "2024-05-20",
        "2024-07-01",
        "2024-08-12",
        "2024-10-01",
        "2025-01-06",
        "2025-04-14",
        "2025-07-01",
    ]
    .iter()
    .enumerate()
    {
        let code = format!("53.04.PKM{:02}", [1, 2, 3, 5, 7, 9, 11, 13, 15][i]);
        if !have.contains_key(&code) {
            set_ilp(store, &code, Some(since)).await?;
        }
    }
    Ok(())
}

//! The worker's table (`satusehat_resources`, migration 0008) on either backend, through
//! the read model's `read_rows` and the dashboard's `web_exec` (one statement each), and the
//! health workers' NIK (`users.nik`).

use crate::Storage;
use crate::readmodel::{Cell, Param};
use crate::storage::StorageError;
use std::collections::HashMap;

/// Where a resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The platform has it (`remote_id`), with this content.
    Sent,
    /// Not yet through (5xx, timeout): tried again at `next_attempt_at`.
    Waiting,
    /// The platform refused it (`outcome`): tried again only when its content changes.
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Waiting => "waiting",
            Status::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sent" => Status::Sent,
            "waiting" => Status::Waiting,
            "refused" => Status::Refused,
            _ => return None,
        })
    }
}

/// One row: a local record (the first of its correction chain) as one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub record_id: String,
    pub resource_type: String,
    pub posyandu: String,
    pub remote_id: Option<String>,
    pub version_id: Option<String>,
    pub content_hash: String,
    pub status: Status,
    pub attempts: i64,
    /// Milliseconds since the epoch.
    pub next_attempt_at: i64,
    /// The last `OperationOutcome` (JSON), for a refusal or a failed attempt.
    pub outcome: Option<String>,
    pub updated_at: i64,
}

const COLS: &str = "record_id, resource_type, posyandu, remote_id, version_id, content_hash,
    status, attempts, next_attempt_at, outcome, updated_at";

fn text(r: &[Cell], i: usize) -> Option<String> {
    r.get(i).and_then(Cell::text).map(str::to_string)
}

fn row(r: &[Cell]) -> Result<Row, StorageError> {
    let bad = || StorageError::Corrupt("a satusehat_resources row".into());
    Ok(Row {
        record_id: text(r, 0).ok_or_else(bad)?,
        resource_type: text(r, 1).ok_or_else(bad)?,
        posyandu: text(r, 2).unwrap_or_default(),
        remote_id: text(r, 3),
        version_id: text(r, 4),
        content_hash: text(r, 5).unwrap_or_default(),
        status: text(r, 6)
            .as_deref()
            .and_then(Status::parse)
            .ok_or_else(bad)?,
        attempts: r.get(7).and_then(Cell::int).unwrap_or(0),
        next_attempt_at: r.get(8).and_then(Cell::int).unwrap_or(0),
        outcome: text(r, 9),
        updated_at: r.get(10).and_then(Cell::int).unwrap_or(0),
    })
}

/// Every row, by (record id, resource type).
pub async fn all(store: &dyn Storage) -> Result<HashMap<(String, String), Row>, StorageError> {
    let rows = store
        .read_rows(format!("SELECT {COLS} FROM satusehat_resources"), vec![])
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let r = row(&r)?;
        out.insert((r.record_id.clone(), r.resource_type.clone()), r);
    }
    Ok(out)
}

/// Writes a row (inserted or replaced).
pub async fn put(store: &dyn Storage, r: &Row) -> Result<(), StorageError> {
    let t = |s: &str| Param::Text(s.to_string());
    let o = |s: &Option<String>| Param::Text(s.clone().unwrap_or_default());
    store
        .web_exec(
            format!(
                "INSERT INTO satusehat_resources ({COLS}) VALUES (?1, ?2, ?3, NULLIF(?4, ''),
                     NULLIF(?5, ''), ?6, ?7, ?8, ?9, NULLIF(?10, ''), ?11)
                 ON CONFLICT (record_id, resource_type) DO UPDATE SET
                     posyandu = excluded.posyandu, remote_id = excluded.remote_id,
                     version_id = excluded.version_id, content_hash = excluded.content_hash,
                     status = excluded.status, attempts = excluded.attempts,
                     next_attempt_at = excluded.next_attempt_at, outcome = excluded.outcome,
                     updated_at = excluded.updated_at"
            ),
            vec![
                t(&r.record_id),
                t(&r.resource_type),
                t(&r.posyandu),
                o(&r.remote_id),
                o(&r.version_id),
                t(&r.content_hash),
                t(r.status.as_str()),
                Param::Int(r.attempts),
                Param::Int(r.next_attempt_at),
                o(&r.outcome),
                Param::Int(r.updated_at),
            ],
        )
        .await?;
    Ok(())
}

/// The refused rows of the posyandu at or below `place`, the latest first, each with the
/// name of the person it is about (when known).
pub async fn refused_under(
    store: &dyn Storage,
    place: &str,
    limit: i64,
) -> Result<Vec<(Row, Option<String>)>, StorageError> {
    let cols: Vec<String> = COLS.split(',').map(|c| format!("s.{}", c.trim())).collect();
    let rows = store
        .read_rows(
            format!(
                "SELECT {}, COALESCE(p.name, q.name)
                 FROM satusehat_resources s JOIN place_tree t ON t.code = s.posyandu
                 LEFT JOIN facts f ON f.id = s.record_id
                 LEFT JOIN persons p ON p.id = f.person
                 LEFT JOIN persons q ON q.id = s.record_id
                 WHERE t.ancestor = ?1 AND s.status = 'refused'
                 ORDER BY s.updated_at DESC, s.record_id LIMIT ?2",
                cols.join(", ")
            ),
            vec![Param::Text(place.to_string()), Param::Int(limit)],
        )
        .await?;
    rows.iter().map(|r| Ok((row(r)?, text(r, 11)))).collect()
}

/// Per posyandu at or below `place`: (code, sent, waiting, refused).
pub async fn counts_under(
    store: &dyn Storage,
    place: &str,
) -> Result<Vec<(String, i64, i64, i64)>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT s.posyandu,
                 SUM(CASE WHEN s.status = 'sent' THEN 1 ELSE 0 END),
                 SUM(CASE WHEN s.status = 'waiting' THEN 1 ELSE 0 END),
                 SUM(CASE WHEN s.status = 'refused' THEN 1 ELSE 0 END)
             FROM satusehat_resources s JOIN place_tree t ON t.code = s.posyandu
             WHERE t.ancestor = ?1 AND s.resource_type <> 'Practitioner'
             GROUP BY s.posyandu ORDER BY s.posyandu"
                .into(),
            vec![Param::Text(place.to_string())],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let n = |i: usize| r.get(i).and_then(Cell::int).unwrap_or(0);
            Some((text(r, 0)?, n(1), n(2), n(3)))
        })
        .collect())
}

/// The health workers' NIKs: user id → NIK.
pub async fn user_niks(store: &dyn Storage) -> Result<HashMap<String, String>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT id, nik FROM users WHERE nik IS NOT NULL".into(),
            vec![],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((text(r, 0)?, text(r, 1)?)))
        .collect())
}

/// Sets (or, with `None`, clears) a user's NIK; false when there is no such user.
pub async fn set_user_nik(
    store: &dyn Storage,
    username: &str,
    nik: Option<&str>,
) -> Result<bool, StorageError> {
    let n = store
        .web_exec(
            "UPDATE users SET nik = NULLIF(?1, '') WHERE username = ?2".into(),
            vec![
                Param::Text(nik.unwrap_or_default().to_string()),
                Param::Text(username.to_string()),
            ],
        )
        .await?;
    Ok(n > 0)
}

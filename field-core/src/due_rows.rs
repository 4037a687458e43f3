//! The due lists' `due_facts` rows (device migration V6), written by the code that writes a
//! fact, in the same transaction, from the body already decoded in Rust.
//!
//! V6 kept the table by triggers on `facts`; each ran a sub-program per written row and its
//! JSON functions re-read the body (a pull into a filled store cost 30 % more). V7 drops the
//! triggers: every path that writes `facts` (`apply.rs`: a pulled or saved fact, its
//! replacing version, a retraction, a refused change's removal; `outbox.rs`: a re-stamp)
//! writes the row here. A bulk first sync writes none; its end fills the table from `facts`
//! (`crate::migrations::refill_due_facts`).
//!
//! A row is the one `due_facts_fill` (migrations.rs) makes of the stored fact, byte for byte:
//! a live fact of a due kind saved under a person, keyed `(person, date, seq)` with `seq`
//! the fact's rowid, its body cut to the kind's fields as a JSON array of the body's own
//! JSON values (`null` for an absent field). A body written by this crate is serde_json's
//! compact form, so a field's value written again by serde_json is the text SQLite's `->`
//! gives (`field-core/tests/due_facts.rs` checks every path against a fill).

use crate::error::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Statement, params};
use serde_json::{Map, Value};
use std::fmt::Write;

/// Writes (or replaces) one row.
pub(crate) const INSERT_SQL: &str =
    "INSERT OR REPLACE INTO due_facts (person, date, seq, kind, id, supersedes, body)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Removes one row by its key.
const DELETE_SQL: &str = "DELETE FROM due_facts WHERE person = ?1 AND date = ?2 AND seq = ?3";

/// The `due_facts.kind` code of a fact kind a due list reads, and the body fields kept of it,
/// in the order of the row's JSON array (as `due_columns` in migrations.rs and
/// `health/due_read.rs`).
pub(crate) fn code(kind: &str) -> Option<(i64, &'static [&'static str])> {
    match kind {
        "measurement" => Some((1, &["type", "value", "position", "oedema"])),
        "immunisation" => Some((2, &["vaccine"])),
        "visit" => Some((3, &["type"])),
        "anc_contact" => Some((4, &["pregnancy"])),
        "screening" => Some((5, &["instrument", "answers"])),
        _ => None,
    }
}

/// A fact as stored: what its due row is made of.
pub(crate) struct Fact<'a> {
    pub(crate) id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) person: Option<&'a str>,
    pub(crate) date: &'a str,
    /// The fact's rowid.
    pub(crate) seq: i64,
    pub(crate) supersedes: Option<&'a str>,
    pub(crate) deleted: bool,
    /// The body; `None` when the stored body is not a JSON object (the row's body is NULL).
    pub(crate) body: Option<&'a Map<String, Value>>,
}

/// The key of a fact's due row: `(person, date, seq)`.
pub(crate) type Key = (String, String, i64);

/// The body fields as the row's JSON array.
fn cut(fields: &[&str], body: &Map<String, Value>) -> Result<String> {
    let mut out = String::with_capacity(48);
    out.push('[');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match body.get(*field) {
            // `Value`'s Display is serde_json's compact form.
            Some(v) => write!(out, "{v}")
                .map_err(|_| StoreError::Corrupt(format!("due_facts body field {field}")))?,
            None => out.push_str("null"),
        }
    }
    out.push(']');
    Ok(out)
}

impl Fact<'_> {
    /// Whether the fact has a row (a live fact of a due kind saved under a person).
    pub(crate) fn has_row(&self) -> bool {
        !self.deleted && self.person.is_some() && code(self.kind).is_some()
    }

    /// Writes its row with `insert` ([`INSERT_SQL`]); nothing when it has none.
    pub(crate) fn write(&self, insert: &mut Statement<'_>) -> Result<()> {
        let (Some(person), Some((kind, fields)), false) =
            (self.person, code(self.kind), self.deleted)
        else {
            return Ok(());
        };
        let body = self.body.map(|b| cut(fields, b)).transpose()?;
        insert.execute(params![
            person,
            self.date,
            self.seq,
            kind,
            self.id,
            self.supersedes,
            body
        ])?;
        Ok(())
    }
}

/// Removes the row keyed `(person, date, seq)`, if there is one.
pub(crate) fn remove(conn: &Connection, person: &str, date: &str, seq: i64) -> Result<()> {
    conn.prepare_cached(DELETE_SQL)?
        .execute(params![person, date, seq])?;
    Ok(())
}

/// The key of the row the stored fact `id` has now (`None`: it has none). With
/// [`rewrite`], for the writes that are not a pulled page's (a refused change's removal, a
/// re-stamp): read before the write, rewritten after it.
pub(crate) fn key_of(conn: &Connection, id: &str) -> Result<Option<Key>> {
    let row: Option<(String, Option<String>, String, i64, bool)> = conn
        .prepare_cached("SELECT kind, person, date, rowid, deleted FROM facts WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    Ok(row.and_then(|(kind, person, date, seq, deleted)| {
        let person = person?;
        (!deleted && code(&kind).is_some()).then_some((person, date, seq))
    }))
}

/// Makes the row of the stored fact `id` again after a write: removes the row of `old` (its
/// key before the write, [`key_of`]) and writes the fact's row as stored now (none when it
/// is gone or has none). `body`: the body just written, when the caller has it decoded;
/// otherwise the stored one is decoded.
pub(crate) fn rewrite(
    conn: &Connection,
    id: &str,
    old: Option<Key>,
    body: Option<&Map<String, Value>>,
) -> Result<()> {
    if let Some((person, date, seq)) = &old {
        remove(conn, person, date, *seq)?;
    }
    type Row = (
        String,
        Option<String>,
        String,
        i64,
        Option<String>,
        bool,
        String,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT kind, person, date, rowid, supersedes, deleted, body_json FROM facts
             WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((kind, person, date, seq, supersedes, deleted, body_json)) = row else {
        return Ok(());
    };
    if deleted || person.is_none() || code(&kind).is_none() {
        return Ok(());
    }
    // Without the body just written, the stored one; one that is not a JSON object gives a
    // NULL body, as the fill does.
    let stored = match body {
        Some(_) => None,
        None => match serde_json::from_str::<Value>(&body_json) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
    };
    Fact {
        id,
        kind: &kind,
        person: person.as_deref(),
        date: &date,
        seq,
        supersedes: supersedes.as_deref(),
        deleted,
        body: body.or(stored.as_ref()),
    }
    .write(&mut *conn.prepare_cached(INSERT_SQL)?)
}

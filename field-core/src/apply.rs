//! Applying changes to the record tables: the one code path for local writes and pulled
//! changes, reproducing `sync_protocol::merge` exactly.
//!
//! - Facts: stored once per id; when two bodies arrive for one id the smaller `(hlc, device)`
//!   is kept (`FactRecord::apply`); tombstones hide; `supersedes` links a correction.
//! - Mutable records: every field edit and tombstone is stored (`field_edits`,
//!   `mutable_tombstones`); the record is then loaded into a `MutableRecord`, and its winners,
//!   deletion and conflicts are written back to the read tables. A pulled edit therefore
//!   merges per field with any unsynced local edit, which stays as made, in the outbox.

use crate::error::{Result, StoreError};
use crate::names;
use crate::store::Store;
use rusqlite::{CachedStatement, Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use sync_protocol::merge::{ConflictKind, FactVersion, FieldEdit, MutableRecord, Tombstone};
use sync_protocol::schema::SCHEMA_VERSION;
use sync_protocol::{Body, Change, Class, EntityKind, Hlc, PullResponse, RecordId, Stamp};

/// The kind stored for a record id, if the record is known.
pub(crate) fn record_kind(conn: &Connection, id: &RecordId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT kind FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?)
}

/// True when pulled changes of a newer body schema than this app's are stored for the record.
pub(crate) fn needs_newer_app(conn: &Connection, id: &RecordId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM future_changes WHERE record_id = ?1)")?
        .query_row([id.to_string()], |r| r.get(0))?)
}

/// The local date of a stamp, in the device's zone (a fact without a `date` field is dated
/// by the moment it was made).
pub(crate) fn stamp_date(conn: &Connection, hlc: Hlc) -> Result<String> {
    let offset = crate::store::zone_offset_ms(conn)?;
    Ok(crate::clock::local_date_at(hlc.wall_ms, offset)
        .format("%Y-%m-%d")
        .to_string())
}

/// The statements nearly every pulled change runs, held by the [`Page`] from their first use
/// to its end: taken from and given back to rusqlite's statement cache once a page instead of
/// once a change (each time hashing the SQL text twice).
#[derive(Clone, Copy)]
enum Held {
    Register = 0,
    FieldEdit = 1,
    Fact = 2,
    DueRow = 3,
    BulkEdit = 4,
}

const HELD_SQL: [&str; 5] = [
    "INSERT INTO records (id, kind) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    "INSERT INTO field_edits (record_id, field, value_json, hlc, device, author, base)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    "INSERT INTO facts (id, kind, posyandu, person, household, visit, session, subject, date,
         body_json, made_hlc, made_device, author, supersedes, deleted)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
         EXISTS (SELECT 1 FROM fact_tombstones WHERE record_id = ?1))
     ON CONFLICT(id) DO NOTHING",
    crate::due_rows::INSERT_SQL,
    "INSERT INTO bulk_edits (record_id, kind, field, value_json, hlc, device, author, base)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
];

/// What one call of [`apply_change_in`] knows of the changes applied before it in the same
/// transaction (a pulled page): the records first registered in it, their merged state kept
/// in memory (mutable ones), the zone offset once read, and the statements it holds.
#[derive(Default)]
pub(crate) struct Page<'c> {
    /// Records this page registered (unknown before it), with their kind: no read-table row,
    /// no conflict and no name-index row of theirs existed before the page.
    fresh: HashMap<RecordId, EntityKind>,
    /// The merged state of the fresh mutable records, built from the page's changes with the
    /// rule `load_mutable` rebuilds them by (`MutableRecord::from_parts`/`apply` keep the
    /// smaller by JSON form under one stamp, as `same_stamp_edit` does in the tables).
    pending: HashMap<RecordId, MutableRecord>,
    /// `settings.utc_offset_minutes`, read once per page.
    offset_ms: Option<i64>,
    /// A first sync in bulk is under way (`store/bulk.rs`): the name index is not written
    /// and merges are not settled per change; both are rebuilt when the bulk sync ends. The
    /// field edits of records known before the page go to `bulk_edits`, and their read rows
    /// are refreshed at its end ([`finish_bulk_edits`]).
    bulk: bool,
    /// [`Held`]'s statements, prepared (or taken from the cache) at their first use.
    held: [Option<CachedStatement<'c>>; 5],
}

impl<'c> Page<'c> {
    /// One of the held statements.
    fn stmt(&mut self, conn: &'c Connection, which: Held) -> Result<&mut CachedStatement<'c>> {
        let slot = &mut self.held[which as usize];
        if slot.is_none() {
            *slot = Some(conn.prepare_cached(HELD_SQL[which as usize])?);
        }
        slot.as_mut()
            .ok_or_else(|| StoreError::Corrupt("a held statement".into()))
    }

    fn offset_ms(&mut self, conn: &Connection) -> Result<i64> {
        match self.offset_ms {
            Some(o) => Ok(o),
            None => {
                let o = crate::store::zone_offset_ms(conn)?;
                self.offset_ms = Some(o);
                Ok(o)
            }
        }
    }
}

/// Registers the id (`id`: its text); errors when it is known with another kind.
fn register<'c>(
    conn: &'c Connection,
    change: &Change,
    id: &str,
    page: &mut Page<'c>,
) -> Result<()> {
    if let Some(kind) = page.fresh.get(&change.id) {
        if *kind != change.kind {
            return Err(StoreError::KindMismatch {
                id: change.id,
                existing: kind.as_str().to_string(),
                incoming: change.kind,
            });
        }
        return Ok(());
    }
    let inserted = page
        .stmt(conn, Held::Register)?
        .execute(params![id, change.kind.as_str()])?;
    if inserted == 1 {
        page.fresh.insert(change.id, change.kind);
        return Ok(());
    }
    if let Some(existing) = record_kind(conn, &change.id)?
        && existing != change.kind.as_str()
    {
        return Err(StoreError::KindMismatch {
            id: change.id,
            existing,
            incoming: change.kind,
        });
    }
    Ok(())
}

/// Applies a local change and refreshes its record at once.
pub(crate) fn apply_local(conn: &Connection, change: &Change) -> Result<()> {
    apply_change(conn, change)?;
    if change.kind.class() == Class::Mutable {
        refresh_mutable(conn, &change.id, change.kind)?;
    }
    Ok(())
}

/// Stores one change. Mutable records need [`refresh_mutable`] afterwards (once per record
/// for a whole page).
pub(crate) fn apply_change(conn: &Connection, change: &Change) -> Result<()> {
    apply_change_in(conn, change, &mut Page::default())
}

/// As [`apply_change`], within a page: `page` carries what earlier changes of the same
/// transaction registered (and, for fresh mutable records, their merged state).
pub(crate) fn apply_change_in<'c>(
    conn: &'c Connection,
    change: &Change,
    page: &mut Page<'c>,
) -> Result<()> {
    let id = change.id.to_string();
    register(conn, change, &id, page)?;
    let hlc = change.hlc.to_string();
    let device = change.device.to_string();
    let author = change.author.to_string();
    match change.kind.class() {
        Class::Mutable => {
            // A bulk first sync defers a known record's edits and read row to its end
            // (`bulk_edits`, [`finish_bulk_edits`]); a record fresh in this page has no
            // stored edits and is written from `page.pending` below.
            let defer = page.bulk && !page.fresh.contains_key(&change.id);
            if defer {
                let kind = change.kind.as_str();
                if change.tombstone {
                    // Stored as usual (rare); the row below marks the record for the refresh.
                    page.stmt(conn, Held::BulkEdit)?.execute(params![
                        id,
                        kind,
                        None::<&str>,
                        None::<&str>,
                        None::<&str>,
                        None::<&str>,
                        None::<&str>,
                        None::<&str>
                    ])?;
                } else {
                    for (field, value) in &change.body {
                        let base = change.base.get(field).map(|b| b.to_string());
                        page.stmt(conn, Held::BulkEdit)?.execute(params![
                            id,
                            kind,
                            field,
                            serde_json::to_string(value)?,
                            hlc,
                            device,
                            author,
                            base
                        ])?;
                    }
                    return Ok(());
                }
            }
            if change.tombstone {
                let seen = serde_json::to_string(&change.base)?;
                let n = conn
                    .prepare_cached(
                        "INSERT INTO mutable_tombstones (record_id, hlc, device, author, seen_json)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![id, hlc, device, author, seen])?;
                if n == 0 {
                    same_stamp_tombstone(conn, change)?;
                }
            } else {
                for (field, value) in &change.body {
                    let base = change.base.get(field).map(|b| b.to_string());
                    let n = page.stmt(conn, Held::FieldEdit)?.execute(params![
                        id,
                        field,
                        serde_json::to_string(value)?,
                        hlc,
                        device,
                        author,
                        base
                    ])?;
                    if n == 0 {
                        same_stamp_edit(conn, change, field, value)?;
                    }
                }
            }
            if page.fresh.contains_key(&change.id) {
                page.pending
                    .entry(change.id)
                    .or_insert_with(|| MutableRecord::new(change.kind))
                    .apply(change)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
        Class::Fact => {
            if change.tombstone {
                conn.prepare_cached(
                    "INSERT INTO fact_tombstones (record_id, hlc, device) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![id, hlc, device])?;
                let was: Option<(Option<String>, String, i64)> = conn
                    .prepare_cached(
                        "UPDATE facts SET deleted = 1 WHERE id = ?1 RETURNING person, date, rowid",
                    )?
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                // Its due row, if it had one (a bulk first sync fills the table at its end).
                if let Some((Some(person), date, seq)) = was
                    && !page.bulk
                    && crate::due_rows::code(change.kind.as_str()).is_some()
                {
                    crate::due_rows::remove(conn, &person, &date, seq)?;
                }
                if change.kind == EntityKind::PersonMerge && !page.bulk {
                    settle_merges(conn)?;
                }
                return Ok(());
            }
            let cols = FactColumns::of(conn, change, page)?;
            let body = serde_json::to_string(&change.body)?;
            let supersedes = change.supersedes.map(|s| s.to_string());
            // The row's values, in the order both the INSERT and the UPDATE below number them.
            let row = params![
                id,
                change.kind.as_str(),
                cols.posyandu,
                cols.person,
                cols.household,
                cols.visit,
                cols.session,
                cols.subject,
                cols.date.as_ref(),
                body,
                hlc,
                device,
                author,
                supersedes
            ];
            // The due row of the fact as written (`due_rows.rs`); its rowid and `deleted`
            // come from the write.
            let due = |seq: i64, deleted: bool| crate::due_rows::Fact {
                id: &id,
                kind: change.kind.as_str(),
                person: cols.person,
                date: &cols.date,
                seq,
                supersedes: supersedes.as_deref(),
                deleted,
                body: Some(&change.body),
            };
            // The common case, a fact seen for the first time, is one statement. Not
            // `RETURNING`: SQLite runs it as a trigger program per row, which cost a bulk
            // first sync about a fifth more. The rowid is the connection's last insert, and
            // `deleted` (an earlier tombstone) is read only for a fact with a due row.
            let inserted = page.stmt(conn, Held::Fact)?.execute(row)?;
            if inserted == 1 {
                if !page.bulk
                    && cols.person.is_some()
                    && crate::due_rows::code(change.kind.as_str()).is_some()
                {
                    let seq = conn.last_insert_rowid();
                    let deleted = fact_tombstoned(conn, &id)?;
                    let fact = due(seq, deleted);
                    if fact.has_row() {
                        fact.write(page.stmt(conn, Held::DueRow)?)?;
                    }
                }
                if change.kind == EntityKind::PersonMerge && !page.bulk {
                    settle_merges(conn)?;
                }
                return Ok(());
            }
            // The stored version; its person, date, rowid and `deleted` key its due row.
            type Made = (
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                String,
                i64,
                bool,
            );
            let made: Option<Made> = conn
                .prepare_cached(
                    "SELECT made_hlc, made_device, body_json, supersedes, person, date, rowid,
                         deleted
                     FROM facts WHERE id = ?1",
                )?
                .query_row([&id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })
                .optional()?;
            let replace = match &made {
                None => false,
                Some((mh, md, mb, ms, ..)) => {
                    let corrupt = |what: &str| StoreError::Corrupt(format!("fact {id}: {what}"));
                    let stored_stamp = Stamp {
                        hlc: mh.parse().map_err(|_| corrupt("made_hlc"))?,
                        device: md.parse().map_err(|_| corrupt("made_device"))?,
                    };
                    let stored_body: Body = serde_json::from_str(mb)?;
                    let stored_sup: Option<RecordId> = ms
                        .as_deref()
                        .map(str::parse)
                        .transpose()
                        .map_err(|_| corrupt("supersedes"))?;
                    let stored = FactVersion {
                        stamp: stored_stamp,
                        body: &stored_body,
                        supersedes: stored_sup,
                    };
                    let incoming = FactVersion {
                        stamp: change.stamp(),
                        body: &change.body,
                        supersedes: change.supersedes,
                    };
                    // The same rule every replica applies (FactRecord).
                    incoming.precedes(&stored)
                }
            };
            if replace {
                // Numbered as the INSERT's row; its kind (?2) is bound but not written: a
                // record id never changes kind.
                conn.prepare_cached(
                    "UPDATE facts SET posyandu = ?3, person = ?4, household = ?5, visit = ?6,
                             session = ?7, subject = ?8, date = ?9, body_json = ?10,
                             made_hlc = ?11, made_device = ?12, author = ?13, supersedes = ?14
                         WHERE id = ?1",
                )?
                .execute(row)?;
                if let Some((.., person, date, seq, deleted)) = &made
                    && !page.bulk
                {
                    let fact = due(*seq, *deleted);
                    // The old row (its person or date may change), then the new one.
                    if let Some(person) = person
                        && !*deleted
                        && crate::due_rows::code(fact.kind).is_some()
                    {
                        crate::due_rows::remove(conn, person, date, *seq)?;
                    }
                    if fact.has_row() {
                        fact.write(page.stmt(conn, Held::DueRow)?)?;
                    }
                }
                if change.kind == EntityKind::PersonMerge && !page.bulk {
                    settle_merges(conn)?;
                }
            }
        }
    }
    Ok(())
}

/// Whether a tombstone is stored for the fact `id` (a retraction that arrived before it).
fn fact_tombstoned(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM fact_tombstones WHERE record_id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}

/// A `person_merge` row: id, kept, merged, made_hlc, made_device, deleted, tombstoned.
type MergeRow = (
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    bool,
    bool,
);

/// Marks the `person_merge` facts that do not take effect (`records::merges::effective`: a
/// person merged twice, or a cycle of merges made on different tablets) as `deleted`, like a
/// tombstoned merge, and the others by their tombstones only. Every read that follows merges
/// reads live merge facts (`deleted = 0`), so each replica holding the same facts shows the
/// same persons whatever order they arrived in. The facts themselves stay stored.
pub(crate) fn settle_merges(conn: &Connection) -> Result<()> {
    let rows: Vec<MergeRow> = conn
        .prepare_cached(
            "SELECT f.id, f.person, f.subject, f.made_hlc, f.made_device, f.deleted,
                 EXISTS (SELECT 1 FROM fact_tombstones t WHERE t.record_id = f.id)
             FROM facts f WHERE f.kind = 'person_merge'",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut live = Vec::new();
    for (id, kept, merged, hlc, device, _, tombstoned) in &rows {
        if *tombstoned {
            continue;
        }
        let (Some(kept), Some(merged)) = (kept, merged) else {
            continue;
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("person_merge {id}: {what}"));
        live.push(records::merges::MergeFact {
            id: id.parse().map_err(|_| corrupt("id"))?,
            kept: kept.parse().map_err(|_| corrupt("kept"))?,
            merged: merged.parse().map_err(|_| corrupt("merged"))?,
            stamp: Stamp {
                hlc: hlc.parse().map_err(|_| corrupt("made_hlc"))?,
                device: device.parse().map_err(|_| corrupt("made_device"))?,
            },
        });
    }
    let effective = records::merges::effective(&live);
    // Only `person_merge` facts: a kind without a `due_facts` row (`due_rows.rs`).
    let mut update = conn.prepare_cached("UPDATE facts SET deleted = ?2 WHERE id = ?1")?;
    for (id, _, _, _, _, deleted, tombstoned) in rows {
        let now = tombstoned || !id.parse().is_ok_and(|i| effective.contains(&i));
        if now != deleted {
            update.execute(params![id, now])?;
        }
    }
    Ok(())
}

/// A second, different edit under a stamp already stored (a device that reused a stamp):
/// keep the smaller by JSON form, as `MutableRecord` does, so arrival order does not matter.
fn same_stamp_edit(conn: &Connection, change: &Change, field: &str, value: &Value) -> Result<()> {
    let incoming = FieldEdit {
        value: value.clone(),
        hlc: change.hlc,
        device: change.device,
        author: change.author,
        base: change.base.get(field).copied(),
    };
    same_stamp_field_edit(conn, &change.id, change.kind, field, &incoming)
}

/// [`same_stamp_edit`] for one field's edit: the stored edit of `field` under the incoming
/// edit's stamp (in `field_edits` alone) is replaced when the incoming one is smaller by JSON
/// form.
fn same_stamp_field_edit(
    conn: &Connection,
    record: &RecordId,
    kind: EntityKind,
    field: &str,
    incoming: &FieldEdit,
) -> Result<()> {
    let id = record.to_string();
    let (hlc, device) = (incoming.hlc.to_string(), incoming.device.to_string());
    let value = &incoming.value;
    let stored = load_mutable_filtered(conn, record, kind, Some((field, &hlc, &device)))?;
    let Some(existing) = stored.fields().get(field).and_then(|e| e.first()) else {
        return Ok(());
    };
    if serde_json::to_string(incoming)? < serde_json::to_string(existing)? {
        conn.prepare_cached(
            "UPDATE field_edits SET value_json = ?5, author = ?6, base = ?7
             WHERE record_id = ?1 AND field = ?2 AND hlc = ?3 AND device = ?4",
        )?
        .execute(params![
            id,
            field,
            hlc,
            device,
            serde_json::to_string(value)?,
            incoming.author.to_string(),
            incoming.base.map(|b| b.to_string())
        ])?;
    }
    Ok(())
}

fn same_stamp_tombstone(conn: &Connection, change: &Change) -> Result<()> {
    let stored = load_mutable(conn, &change.id, change.kind)?;
    let Some(existing) = stored
        .tombstones()
        .iter()
        .find(|t| t.hlc == change.hlc && t.device == change.device)
    else {
        return Ok(());
    };
    let incoming = Tombstone {
        hlc: change.hlc,
        device: change.device,
        author: change.author,
        seen: change.base.clone(),
    };
    if serde_json::to_string(&incoming)? < serde_json::to_string(existing)? {
        conn.prepare_cached(
            "UPDATE mutable_tombstones SET author = ?4, seen_json = ?5
             WHERE record_id = ?1 AND hlc = ?2 AND device = ?3",
        )?
        .execute(params![
            change.id.to_string(),
            change.hlc.to_string(),
            change.device.to_string(),
            change.author.to_string(),
            serde_json::to_string(&change.base)?
        ])?;
    }
    Ok(())
}

/// The indexed columns of a fact, taken from its body (borrowed from it).
struct FactColumns<'a> {
    posyandu: &'a str,
    person: Option<&'a str>,
    household: Option<&'a str>,
    visit: Option<&'a str>,
    session: Option<&'a str>,
    subject: Option<&'a str>,
    date: std::borrow::Cow<'a, str>,
}

impl<'a> FactColumns<'a> {
    fn of(conn: &Connection, change: &'a Change, page: &mut Page) -> Result<Self> {
        let s = |f: &str| change.body.get(f).and_then(Value::as_str);
        let (person, subject) = match change.kind {
            EntityKind::PersonMerge => (s("kept"), s("merged")),
            EntityKind::AncContact => (s("person"), s("pregnancy")),
            EntityKind::ReferralEvent => (None, s("referral")),
            EntityKind::ConflictReview => (None, s("record")),
            EntityKind::DuplicateDismissal => (s("first"), s("second")),
            _ => (s("person"), None),
        };
        let date = match s("date") {
            Some(d) => std::borrow::Cow::Borrowed(d),
            None => std::borrow::Cow::Owned(
                crate::clock::local_date_at(change.hlc.wall_ms, page.offset_ms(conn)?)
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
        };
        Ok(Self {
            posyandu: s("posyandu").unwrap_or_default(),
            person,
            household: s("household"),
            visit: s("visit"),
            session: s("session"),
            subject,
            date,
        })
    }
}

/// Loads a mutable record's edits and tombstones into a `MutableRecord`: those in
/// `field_edits` and, during a bulk first sync, those it deferred to `bulk_edits` (an empty
/// table otherwise; `MutableRecord::from_parts` keeps the smaller edit under one stamp, as
/// `same_stamp_edit` does in the tables).
pub(crate) fn load_mutable(
    conn: &Connection,
    id: &RecordId,
    kind: EntityKind,
) -> Result<MutableRecord> {
    load_mutable_filtered(conn, id, kind, None)
}

fn parse_device(s: &str) -> Result<sync_protocol::DeviceId> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("device {s:?}")))
}

fn parse_user(s: &str) -> Result<sync_protocol::UserId> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("user {s:?}")))
}

/// As [`load_mutable`]; with `only`, just the edit of one field with one stamp, and only
/// from `field_edits` (the stored edit a same-stamp edit is compared with).
fn load_mutable_filtered(
    conn: &Connection,
    id: &RecordId,
    kind: EntityKind,
    only: Option<(&str, &str, &str)>,
) -> Result<MutableRecord> {
    let idt = id.to_string();
    let mut edits = Vec::new();
    {
        // `bulk_edits` has no index: it is scanned, and it is empty outside a bulk first
        // sync, during which only a local write or a same-stamp tombstone loads a record.
        let mut stmt = conn.prepare_cached(
            "SELECT field, value_json, hlc, device, author, base FROM field_edits
             WHERE record_id = ?1 AND (?2 IS NULL OR (field = ?2 AND hlc = ?3 AND device = ?4))
             UNION ALL
             SELECT field, value_json, hlc, device, author, base FROM bulk_edits
             WHERE ?2 IS NULL AND record_id = ?1 AND field IS NOT NULL",
        )?;
        let (f, h, d) = match only {
            Some((f, h, d)) => (Some(f), Some(h), Some(d)),
            None => (None, None, None),
        };
        let mut rows = stmt.query(params![idt, f, h, d])?;
        while let Some(r) = rows.next()? {
            let field: String = r.get(0)?;
            edits.push((field, field_edit_at(r, 1)?));
        }
    }
    let mut tombstones = Vec::new();
    if only.is_none() {
        let mut stmt = conn.prepare_cached(
            "SELECT hlc, device, author, seen_json FROM mutable_tombstones WHERE record_id = ?1",
        )?;
        let mut rows = stmt.query([&idt])?;
        while let Some(r) = rows.next()? {
            let hlc: String = r.get(0)?;
            let device: String = r.get(1)?;
            let author: String = r.get(2)?;
            let seen: String = r.get(3)?;
            tombstones.push(Tombstone {
                hlc: parse_hlc(&hlc)?,
                device: parse_device(&device)?,
                author: parse_user(&author)?,
                seen: serde_json::from_str(&seen)?,
            });
        }
    }
    Ok(MutableRecord::from_parts(kind, edits, tombstones))
}

/// The end of a bulk first sync's deferred edits (`store/bulk.rs`, migration V8): moves
/// `bulk_edits` into `field_edits` in key order (each of its leaves written once), with the
/// same-stamp rule of [`same_stamp_edit`] for an edit stored twice, then refreshes each
/// touched record's read row (values, deletion, conflicts) once and empties the table.
/// `bulk`: the name index is left to the caller (`bulk::finish` refills it). Nothing on a
/// database older than the table (a bulk cut under V7, finished before the migrations).
pub(crate) fn finish_bulk_edits(conn: &Connection, bulk: bool) -> Result<usize> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bulk_edits')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    {
        let mut rows = conn.prepare(
            "SELECT record_id, field, value_json, hlc, device, author, base, kind FROM bulk_edits
             WHERE field IS NOT NULL ORDER BY record_id, field, hlc, device",
        )?;
        let mut insert = conn.prepare_cached(HELD_SQL[Held::FieldEdit as usize])?;
        let mut rows = rows.query([])?;
        while let Some(r) = rows.next()? {
            let col = |i: usize| r.get_ref(i).map(rusqlite::types::ToSqlOutput::Borrowed);
            let n = insert.execute(params![
                col(0)?,
                col(1)?,
                col(2)?,
                col(3)?,
                col(4)?,
                col(5)?,
                col(6)?
            ])?;
            if n == 0 {
                let id: String = r.get(0)?;
                let field: String = r.get(1)?;
                let kind: String = r.get(7)?;
                let incoming = field_edit_at(r, 2)?;
                same_stamp_field_edit(
                    conn,
                    &parse_record_id(&id)?,
                    parse_kind(&kind)?,
                    &field,
                    &incoming,
                )?;
            }
        }
    }
    // In the order the records were first edited in the bulk: the conflicts found are
    // numbered (`conflicts.id`, the review list's order) roughly as a page-by-page sync
    // would have numbered them.
    let touched: Vec<(String, String)> = conn
        .prepare("SELECT record_id, kind FROM bulk_edits GROUP BY record_id ORDER BY min(rowid)")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute_batch("DELETE FROM bulk_edits")?;
    for (id, kind) in &touched {
        refresh_mutable_in(conn, &parse_record_id(id)?, parse_kind(kind)?, bulk)?;
    }
    Ok(touched.len())
}

/// A stored field edit read from `r`'s columns `value_json, hlc, device, author, base`,
/// the first at `first`.
fn field_edit_at(r: &rusqlite::Row<'_>, first: usize) -> Result<FieldEdit> {
    let value: String = r.get(first)?;
    let hlc: String = r.get(first + 1)?;
    let device: String = r.get(first + 2)?;
    let author: String = r.get(first + 3)?;
    let base: Option<String> = r.get(first + 4)?;
    Ok(FieldEdit {
        value: serde_json::from_str(&value)?,
        hlc: parse_hlc(&hlc)?,
        device: parse_device(&device)?,
        author: parse_user(&author)?,
        base: base
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|_| StoreError::Corrupt(format!("base {base:?}")))?,
    })
}

fn parse_record_id(s: &str) -> Result<RecordId> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("record id {s:?}")))
}

fn parse_kind(s: &str) -> Result<EntityKind> {
    serde_json::from_value(Value::String(s.to_string()))
        .map_err(|_| StoreError::Corrupt(format!("kind {s:?}")))
}

pub(crate) fn parse_hlc(s: &str) -> Result<Hlc> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("hlc {s:?}")))
}

/// Writes a mutable record's merged values, deletion and conflicts to the read tables.
pub(crate) fn refresh_mutable(conn: &Connection, id: &RecordId, kind: EntityKind) -> Result<()> {
    refresh_mutable_in(conn, id, kind, false)
}

/// As [`refresh_mutable`]; `bulk`: a bulk first sync is under way (no name-index write).
fn refresh_mutable_in(
    conn: &Connection,
    id: &RecordId,
    kind: EntityKind,
    bulk: bool,
) -> Result<()> {
    let rec = load_mutable(conn, id, kind)?;
    write_mutable(conn, id, kind, &rec, false, bulk)
}

/// Writes a merged record to the read tables. `fresh`: the record was unknown before this
/// transaction, so it has no read-table row, no name-index row and no conflict row yet.
/// `bulk`: a bulk first sync is under way; the name index is left to its end
/// (`store::bulk::finish` refills it from `persons`).
fn write_mutable(
    conn: &Connection,
    id: &RecordId,
    kind: EntityKind,
    rec: &MutableRecord,
    fresh: bool,
    bulk: bool,
) -> Result<()> {
    let values = rec.values();
    let deleted = rec.is_deleted();
    let updated = rec
        .fields()
        .values()
        .filter_map(|e| e.last().map(|e| e.hlc))
        .chain(rec.tombstones().iter().map(|t| t.hlc))
        .max()
        .unwrap_or_default()
        .to_string();
    let idt = id.to_string();
    let s = |f: &str| values.get(f).and_then(Value::as_str).map(str::to_string);
    let json = serde_json::to_string(&values)?;
    match kind {
        EntityKind::Household => {
            conn.prepare_cached(
                "INSERT INTO households (id, posyandu, kk_number, head_name, dusun, rt, rw, deleted,
                     values_json, updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(id) DO UPDATE SET posyandu = excluded.posyandu,
                     kk_number = excluded.kk_number, head_name = excluded.head_name,
                     dusun = excluded.dusun, rt = excluded.rt, rw = excluded.rw,
                     deleted = excluded.deleted, values_json = excluded.values_json,
                     updated_hlc = excluded.updated_hlc",
            )?
            .execute(params![
                idt,
                s("posyandu"),
                s("kk_number"),
                s("head_name"),
                s("dusun"),
                s("rt"),
                s("rw"),
                deleted,
                json,
                updated
            ])?;
        }
        EntityKind::Person => {
            let name = s("name");
            let key = name.as_deref().map(names::name_key);
            let estimated = values
                .get("birth_date_estimated")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            // Not `RETURNING rowid`: SQLite runs it as a trigger program per row, and a bulk
            // first sync, which writes no name index, has no use for the rowid.
            conn.prepare_cached(
                    "INSERT INTO persons (id, posyandu, household, name, name_key, sex, birth_date,
                         birth_date_estimated, nik, mother, status, deleted, values_json, updated_hlc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT(id) DO UPDATE SET posyandu = excluded.posyandu,
                         household = excluded.household, name = excluded.name,
                         name_key = excluded.name_key, sex = excluded.sex,
                         birth_date = excluded.birth_date,
                         birth_date_estimated = excluded.birth_date_estimated,
                         nik = excluded.nik, mother = excluded.mother, status = excluded.status,
                         deleted = excluded.deleted, values_json = excluded.values_json,
                         updated_hlc = excluded.updated_hlc",
                )?
                .execute(
                    params![
                        idt,
                        s("posyandu"),
                        s("household"),
                        name,
                        key,
                        s("sex"),
                        s("birth_date"),
                        estimated,
                        s("nik"),
                        s("mother"),
                        s("status").unwrap_or_else(|| "active".into()),
                        deleted,
                        json,
                        updated
                    ],
                )?;
            // The name index (not written during a bulk first sync: `store::bulk::finish`
            // refills it), keyed by the row's rowid. A fresh record had no row, so the
            // statement inserted one.
            if !bulk {
                let rowid: i64 = if fresh {
                    conn.last_insert_rowid()
                } else {
                    conn.prepare_cached("SELECT rowid FROM persons WHERE id = ?1")?
                        .query_row([&idt], |r| r.get(0))?
                };
                if !fresh {
                    conn.prepare_cached("DELETE FROM person_fts WHERE rowid = ?1")?
                        .execute([rowid])?;
                }
                if !deleted && let Some(name) = &name {
                    conn.prepare_cached(
                        "INSERT INTO person_fts (rowid, name, name_key) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![rowid, name, key])?;
                }
            }
        }
        EntityKind::Pregnancy => {
            conn.prepare_cached(
                "INSERT INTO pregnancies (id, posyandu, person, hpht, status, deleted, values_json,
                     updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET posyandu = excluded.posyandu,
                     person = excluded.person, hpht = excluded.hpht, status = excluded.status,
                     deleted = excluded.deleted, values_json = excluded.values_json,
                     updated_hlc = excluded.updated_hlc",
            )?
            .execute(params![
                idt,
                s("posyandu"),
                s("person"),
                s("hpht"),
                s("status"),
                deleted,
                json,
                updated
            ])?;
        }
        EntityKind::Referral => {
            conn.prepare_cached(
                "INSERT INTO referrals (id, posyandu, person, status, visit, deleted, values_json,
                     updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET posyandu = excluded.posyandu,
                     person = excluded.person, status = excluded.status, visit = excluded.visit,
                     deleted = excluded.deleted, values_json = excluded.values_json,
                     updated_hlc = excluded.updated_hlc",
            )?
            .execute(params![
                idt,
                s("posyandu"),
                s("person"),
                s("status"),
                s("visit"),
                deleted,
                json,
                updated
            ])?;
        }
        other => {
            return Err(StoreError::Corrupt(format!(
                "{other} is not a mutable kind"
            )));
        }
    }
    // Conflicts: exactly MutableRecord::conflicts. A conflict is identified by (record,
    // field, losing stamp): rows still present keep their row (and its id), changed ones
    // (a new winner) are updated, gone ones deleted, new ones inserted.
    let mut existing: BTreeMap<(String, String, String), String> = BTreeMap::new();
    if !fresh {
        let mut stmt = conn.prepare_cached(
            "SELECT field, loser_hlc, loser_device, conflict_json FROM conflicts
             WHERE record_id = ?1",
        )?;
        let mut rows = stmt.query([&idt])?;
        while let Some(r) = rows.next()? {
            existing.insert((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?);
        }
    }
    let conflicts = rec.conflicts(*id);
    for c in &conflicts {
        let (field, loser) = c.subject();
        let winner = match &c.conflict {
            ConflictKind::Field { winner, .. } => Some(winner.hlc.to_string()),
            ConflictKind::DeleteOverridden { .. } => None,
        };
        let key = (
            field.to_string(),
            loser.hlc.to_string(),
            loser.device.to_string(),
        );
        let json = serde_json::to_string(c)?;
        match existing.remove(&key) {
            Some(old) if old == json => {}
            Some(_) => {
                conn.prepare_cached(
                    "UPDATE conflicts SET winner_hlc = ?5, conflict_json = ?6
                     WHERE record_id = ?1 AND field = ?2 AND loser_hlc = ?3 AND loser_device = ?4",
                )?
                .execute(params![idt, key.0, key.1, key.2, winner, json])?;
            }
            None => {
                conn.prepare_cached(
                    "INSERT INTO conflicts (record_id, kind, field, winner_hlc, loser_hlc,
                         loser_device, conflict_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    idt,
                    kind.as_str(),
                    key.0,
                    winner,
                    key.1,
                    key.2,
                    json
                ])?;
            }
        }
    }
    for (field, lh, ld) in existing.keys() {
        conn.prepare_cached(
            "DELETE FROM conflicts
             WHERE record_id = ?1 AND field = ?2 AND loser_hlc = ?3 AND loser_device = ?4",
        )?
        .execute(params![idt, field, lh, ld])?;
    }
    Ok(())
}

/// What applying a pulled page did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    pub applied: usize,
    /// Changes refused because they contradict themselves or this device's records; they are
    /// skipped so one bad change cannot stop sync forever.
    pub skipped: Vec<(RecordId, String)>,
    /// Mutable records whose merged state was recomputed.
    pub records_merged: usize,
    pub conflicts_now: u64,
    /// Changes of a newer body schema than this app knows: stored as received, not merged;
    /// their records need a newer app.
    pub newer_schema: usize,
}

impl Store {
    /// Applies one pulled page in one transaction, with the cursor that follows it: either the
    /// whole page and its cursor are kept, or nothing. Unsynced local edits are never
    /// overwritten: they merge per field with the pulled ones and stay in the outbox. The
    /// cursor is saved for the logged-in user's scope ([`Store::scope_key`]).
    pub fn apply_pull_page(&mut self, page: &PullResponse) -> Result<PullReport> {
        let scope = self.scope_key()?;
        self.apply_pull_page_for_scope(&scope, page)
    }

    /// As [`Store::apply_pull_page`], saving the cursor under the scope key `scope`.
    pub fn apply_pull_page_for_scope(
        &mut self,
        scope: &str,
        page: &PullResponse,
    ) -> Result<PullReport> {
        self.apply_pulled_in_scope(
            scope,
            &page.changes,
            Some(&page.cursor),
            Some(page.server_time),
            page.has_more,
            false,
        )
    }

    /// As [`Store::apply_pull_page`], for a page of a sync run that pulls until `has_more` is
    /// false: a large page with more to follow, into a store that holds next to nothing yet,
    /// begins a first sync in bulk (`store/bulk.rs`: the indexes are built once, with the last
    /// page). The caller must go on pulling, or call [`Store::finish_bulk_sync`] when it stops.
    pub fn apply_sync_page(&mut self, page: &PullResponse) -> Result<PullReport> {
        let scope = self.scope_key()?;
        self.apply_pulled_in_scope(
            &scope,
            &page.changes,
            Some(&page.cursor),
            Some(page.server_time),
            page.has_more,
            true,
        )
    }

    /// Applies pulled changes in one transaction; saves `cursor` with them when given (for
    /// the logged-in user's scope), and calibrates the clock with `server_time` when given.
    pub fn apply_pulled(
        &mut self,
        changes: &[Change],
        cursor: Option<&str>,
        server_time: Option<u64>,
    ) -> Result<PullReport> {
        let scope = self.scope_key()?;
        self.apply_pulled_in_scope(&scope, changes, cursor, server_time, false, false)
    }

    /// `more`: the server said more pages follow (`has_more`). With `may_begin`, a large
    /// page with more to follow, into a store that holds next to nothing, begins a bulk first
    /// sync (`store/bulk.rs`); a page without more ends one under way.
    ///
    /// A sync run's large pages (and every page of a bulk first sync) are applied without
    /// SQLite's foreign-key checks: `apply_change_in` registers each record in `records`
    /// before it writes any row of it, so each `REFERENCES records(id)` check would only look
    /// the same id up once more (one B-tree descent on a 36-character key for every fact and
    /// every field edit). They are on again after the page, except between the pages of a
    /// bulk first sync (turning them off and on makes SQLite prepare every statement again),
    /// which its last page, [`Store::finish_bulk_sync`] or the next local write ends.
    fn apply_pulled_in_scope(
        &mut self,
        scope: &str,
        changes: &[Change],
        cursor: Option<&str>,
        server_time: Option<u64>,
        more: bool,
        may_begin: bool,
    ) -> Result<PullReport> {
        let relax = may_begin
            && (changes.len() >= crate::store::bulk::MIN_PAGE
                || crate::store::bulk::active(&self.conn)?);
        crate::store::set_foreign_keys(&self.conn, !relax)?;
        let out = self.apply_pulled_tx(scope, changes, cursor, server_time, more, may_begin);
        // After the transaction: SQLite ignores the pragma inside one.
        let between_bulk_pages = relax && out.is_ok() && crate::store::bulk::active(&self.conn)?;
        if !between_bulk_pages {
            crate::store::set_foreign_keys(&self.conn, true)?;
        }
        out
    }

    /// [`Self::apply_pulled_in_scope`]'s transaction.
    fn apply_pulled_tx(
        &mut self,
        scope: &str,
        changes: &[Change],
        cursor: Option<&str>,
        server_time: Option<u64>,
        more: bool,
        may_begin: bool,
    ) -> Result<PullReport> {
        let wall = self.clock.now_ms();
        let wall_i = i64::try_from(wall).unwrap_or(i64::MAX);
        let policy = self.policy;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut state = crate::store::writer_state(&tx, policy)?;
        if let Some(server) = server_time {
            state.hlc.calibrate(server, wall);
        }
        let mut report = PullReport::default();
        let mut dirty: BTreeMap<RecordId, EntityKind> = BTreeMap::new();
        let mut bulk = crate::store::bulk::active(&tx)?;
        if !bulk && may_begin && crate::store::bulk::should_begin(&tx, changes.len(), more)? {
            bulk = crate::store::bulk::begin(&tx)?;
        }
        let mut page = Page {
            bulk,
            ..Page::default()
        };
        let any_future: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM future_changes)", [], |r| {
                r.get(0)
            })?;
        let refuse = |change: &Change, reason: &str| -> Result<()> {
            tx.prepare_cached(
                "INSERT INTO refused_pulls (device, seq, record_id, reason, change_json,
                     received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                change.device.to_string(),
                i64::try_from(change.seq).unwrap_or(i64::MAX),
                change.id.to_string(),
                reason,
                serde_json::to_string(change)?,
                wall_i
            ])?;
            Ok(())
        };
        for change in changes {
            if let Err(e) = change.check_envelope() {
                refuse(change, &e.to_string())?;
                report.skipped.push((change.id, e.to_string()));
                continue;
            }
            if change.schema > SCHEMA_VERSION {
                // Stored as received, never merged or re-written by this older app
                // (sync-protocol section 5): its record shows "update the app".
                tx.prepare_cached(
                    "INSERT INTO future_changes (device, seq, record_id, kind, schema,
                         change_json, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    change.device.to_string(),
                    i64::try_from(change.seq).unwrap_or(i64::MAX),
                    change.id.to_string(),
                    change.kind.as_str(),
                    change.schema,
                    serde_json::to_string(change)?,
                    wall_i
                ])?;
                state.hlc.observe_trusted(change.hlc);
                report.newer_schema += 1;
                continue;
            }
            match apply_change_in(&tx, change, &mut page) {
                Ok(()) => {}
                Err(StoreError::KindMismatch { existing, .. }) => {
                    let reason = format!("kind mismatch: the record is a {existing}");
                    refuse(change, &reason)?;
                    report.skipped.push((change.id, reason));
                    continue;
                }
                Err(e) => return Err(e),
            }
            // A change an older app kept aside as "of a newer schema" is now understood
            // (the app was updated, and the server sends it again).
            if any_future {
                tx.prepare_cached("DELETE FROM future_changes WHERE device = ?1 AND seq = ?2")?
                    .execute(params![
                        change.device.to_string(),
                        i64::try_from(change.seq).unwrap_or(i64::MAX)
                    ])?;
            }
            // Pulled changes are trusted: the server admitted them within its own bound.
            state.hlc.observe_trusted(change.hlc);
            if change.kind.class() == Class::Mutable {
                dirty.insert(change.id, change.kind);
            }
            report.applied += 1;
        }
        for (id, kind) in &dirty {
            match page.pending.remove(id) {
                Some(rec) => write_mutable(&tx, id, *kind, &rec, true, page.bulk)?,
                // A known record's changes in a bulk first sync: refreshed at its end.
                None if page.bulk => {}
                None => refresh_mutable_in(&tx, id, *kind, page.bulk)?,
            }
        }
        report.records_merged = dirty.len();
        // Its held statements go back to the cache (they borrow the transaction).
        drop(page);
        if bulk && !more {
            // The pull's last page: the indexes, the name index and merges, in its transaction.
            crate::store::bulk::finish(&tx)?;
        }
        crate::store::save_clock_state(&tx, &state.hlc)?;
        if let Some(cursor) = cursor {
            tx.execute(
                "INSERT INTO pull_cursors (scope, cursor, last_pull_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(scope) DO UPDATE SET cursor = excluded.cursor,
                     last_pull_ms = excluded.last_pull_ms",
                params![scope, cursor, wall_i],
            )?;
            tx.execute(
                "UPDATE device_state SET last_pull_ms = ?1 WHERE id = 1",
                params![wall_i],
            )?;
        }
        report.conflicts_now = tx.query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(report)
    }

    /// Whether a record holds pulled changes of a newer app version (show it read-only, with
    /// "update the app to see this record").
    pub fn needs_newer_app(&self, id: RecordId) -> Result<bool> {
        needs_newer_app(&self.conn, &id)
    }

    /// Every record holding changes of a newer app version, with their kind.
    pub fn records_needing_newer_app(&self) -> Result<Vec<(RecordId, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT record_id, kind FROM future_changes ORDER BY record_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind) = row?;
            let id = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("record id {id:?}")))?;
            out.push((id, kind));
        }
        Ok(out)
    }

    /// Pulled changes that could not be applied (kind mismatch, a self-contradicting
    /// envelope), with the reason: `(change, reason)`.
    pub fn refused_pulls(&self) -> Result<Vec<(Change, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_json, reason FROM refused_pulls ORDER BY received_ms, device, seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (c, reason) = row?;
            out.push((serde_json::from_str(&c)?, reason));
        }
        Ok(out)
    }
}

/// The body of a fact as stored.
pub(crate) fn fact_body(json: &str) -> Result<Body> {
    Ok(serde_json::from_str(json)?)
}

/// Takes a change out of this device's state, as `MutableRecord::remove` and
/// `FactRecord::remove` do: the server refused it for good, so the tablet must not keep
/// showing what no other replica will ever have. The change stays in the outbox, marked
/// rejected, for the kader to see and redo.
pub(crate) fn remove_change(conn: &Connection, change: &Change) -> Result<()> {
    let id = change.id.to_string();
    let hlc = change.hlc.to_string();
    let device = change.device.to_string();
    match change.kind.class() {
        Class::Mutable => {
            conn.execute(
                "DELETE FROM field_edits WHERE record_id = ?1 AND hlc = ?2 AND device = ?3",
                params![id, hlc, device],
            )?;
            conn.execute(
                "DELETE FROM mutable_tombstones WHERE record_id = ?1 AND hlc = ?2 AND device = ?3",
                params![id, hlc, device],
            )?;
            let left: i64 = conn.query_row(
                "SELECT (SELECT count(*) FROM field_edits WHERE record_id = ?1)
                      + (SELECT count(*) FROM mutable_tombstones WHERE record_id = ?1)",
                [&id],
                |r| r.get(0),
            )?;
            if left > 0 {
                return refresh_mutable(conn, &change.id, change.kind);
            }
            // Nothing of the record is left: it never existed for anyone else.
            let table = match change.kind {
                EntityKind::Household => "households",
                EntityKind::Person => "persons",
                EntityKind::Pregnancy => "pregnancies",
                _ => "referrals",
            };
            if change.kind == EntityKind::Person {
                conn.execute(
                    "DELETE FROM person_fts WHERE rowid = (SELECT rowid FROM persons WHERE id = ?1)",
                    [&id],
                )?;
            }
            conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [&id])?;
            conn.execute("DELETE FROM conflicts WHERE record_id = ?1", [&id])?;
        }
        Class::Fact => {
            // The fact's due row is made again after the write (`due_rows.rs`).
            let old_due = crate::due_rows::key_of(conn, &id)?;
            if change.tombstone {
                conn.execute(
                    "DELETE FROM fact_tombstones WHERE record_id = ?1 AND hlc = ?2 AND device = ?3",
                    params![id, hlc, device],
                )?;
                conn.execute(
                    "UPDATE facts SET deleted = EXISTS (SELECT 1 FROM fact_tombstones
                         WHERE record_id = ?1) WHERE id = ?1",
                    [&id],
                )?;
            } else {
                conn.execute(
                    "DELETE FROM facts WHERE id = ?1 AND made_hlc = ?2 AND made_device = ?3",
                    params![id, hlc, device],
                )?;
            }
            crate::due_rows::rewrite(conn, &id, old_due, None)?;
            if change.kind == EntityKind::PersonMerge {
                settle_merges(conn)?;
            }
        }
    }
    Ok(())
}

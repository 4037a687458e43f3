//! Merging a batch of changes into the read model, backend-neutral: the records a batch
//! touches are loaded (their merge state), each change goes through `sync_protocol::merge`
//! (the very `MutableRecord` / `FactRecord` the tablets use), and the result comes out as
//! rows for the read tables ([`Writes`]), which each backend writes its own way.

use super::tables::{Table, Val};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use sync_protocol::merge::{ConflictKind, FactRecord, MutableRecord, Record};
use sync_protocol::stamp::Stamp;
use sync_protocol::{Change, Class, EntityKind, Hlc, RecordId};

/// The merge state of a record as stored in `merged_records.state_json`.
pub fn encode_state(r: &Record) -> Result<String, serde_json::Error> {
    match r {
        Record::Mutable(m) => serde_json::to_string(m),
        Record::Fact(f) => serde_json::to_string(f),
    }
}

/// Reads a stored merge state back (`kind` from `merged_records.kind`). A mutable record's
/// state is either its `MutableRecord` or, for a record made by one change and not changed
/// since, that change's logged payload ([`is_one_change`]): its state is what
/// `MutableRecord::apply` makes of that change.
pub fn decode_state(kind: &str, json: &str) -> Result<Record, String> {
    let kind: EntityKind =
        serde_json::from_value(Value::String(kind.into())).map_err(|e| format!("kind: {e}"))?;
    Ok(match kind.class() {
        Class::Mutable if is_one_change(json) => {
            let change: Change =
                serde_json::from_str(json).map_err(|e| format!("state (one change): {e}"))?;
            let mut m = MutableRecord::new(kind);
            m.apply(&change)
                .map_err(|e| format!("state (one change): {e}"))?;
            Record::Mutable(m)
        }
        Class::Mutable => Record::Mutable(
            serde_json::from_str::<MutableRecord>(json).map_err(|e| format!("state: {e}"))?,
        ),
        Class::Fact => Record::Fact(
            serde_json::from_str::<FactRecord>(json).map_err(|e| format!("state: {e}"))?,
        ),
    })
}

/// Whether a stored mutable state is a change's logged payload (a change's JSON starts with
/// its `id`; a `MutableRecord`'s with its `kind`).
pub fn is_one_change(state_json: &str) -> bool {
    state_json.starts_with("{\"id\":")
}

/// A fact whose whole merge state is its `facts` row: the fact has arrived and no tombstone
/// hides it (the usual fact, once made never changed). Such a fact has no
/// `merged_records` row; its state is read back from the `facts` row
/// ([`fact_from_row`]), so its body is stored once.
pub fn in_facts_row(f: &FactRecord) -> bool {
    f.body.is_some() && f.made.is_some() && f.author.is_some() && f.tombstones.is_empty()
}

/// The columns of a `facts` row that hold a fact's merge state.
pub struct FactRow {
    pub kind: String,
    pub body_json: String,
    pub made_hlc: String,
    pub made_device: String,
    pub author: String,
    pub supersedes: Option<String>,
}

/// The merge state of a fact kept only in its `facts` row ([`in_facts_row`]).
pub fn fact_from_row(r: &FactRow) -> Result<Record, String> {
    let kind: EntityKind =
        serde_json::from_value(Value::String(r.kind.clone())).map_err(|e| format!("kind: {e}"))?;
    let body = serde_json::from_str(&r.body_json).map_err(|e| format!("body: {e}"))?;
    let hlc: Hlc = r.made_hlc.parse().map_err(|e| format!("made_hlc: {e:?}"))?;
    let device = r
        .made_device
        .parse()
        .map_err(|e| format!("made_device: {e}"))?;
    let author = r.author.parse().map_err(|e| format!("author: {e}"))?;
    let supersedes = match &r.supersedes {
        Some(s) => Some(s.parse().map_err(|e| format!("supersedes: {e}"))?),
        None => None,
    };
    Ok(Record::Fact(FactRecord {
        kind,
        body: Some(body),
        made: Some(Stamp { hlc, device }),
        author: Some(author),
        supersedes,
        tombstones: Vec::new(),
    }))
}

/// Where a record's stored state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// A `merged_records` row.
    Merged,
    /// A `facts` row ([`in_facts_row`]).
    FactsRow,
}

/// A record of the batch, merged in memory.
#[derive(Debug)]
enum Slot<'a> {
    Record(Record),
    /// A fact new to the read model whose only change so far is this one, not a tombstone:
    /// its state is what [`made_by`] makes of it, read from the change where it is (a
    /// posyandu day is mostly such facts; their bodies are not copied). With it, the body's
    /// compact JSON when the caller has its logged payload ([`Merger::apply_logged`]).
    NewFact(&'a Change, Option<&'a str>),
    /// A mutable record new to the read model whose only change so far is this one, not a
    /// tombstone, with a body, given with its logged payload and its body's compact JSON
    /// ([`Merger::apply_logged`]): its values are the body, its `merged_records` state is
    /// the payload ([`decode_state`]), nothing is copied into a `MutableRecord`.
    NewMutable(&'a Change, Logged<'a>),
}

/// A change's logged payload and, within it, its body's compact JSON.
#[derive(Debug, Clone, Copy)]
pub struct Logged<'a> {
    pub payload: &'a str,
    pub body_json: &'a str,
}

/// The state `FactRecord::apply` makes of a new fact's first change (not a tombstone).
fn made_by(c: &Change) -> FactRecord {
    FactRecord {
        kind: c.kind,
        body: Some(c.body.clone()),
        made: Some(c.stamp()),
        author: Some(c.author),
        supersedes: c.supersedes,
        tombstones: Vec::new(),
    }
}

/// The records a batch touches, merged in memory.
#[derive(Debug)]
pub struct Merger<'a> {
    records: HashMap<RecordId, Slot<'a>>,
    /// Where each record's stored state came from (absent: a record new to the read model).
    loaded: HashMap<RecordId, Loaded>,
    touched: BTreeMap<RecordId, ()>,
    /// New facts are kept as their change ([`Slot::NewFact`]); false only for the reference
    /// the tests compare with.
    borrow_new_facts: bool,
    /// Records whose stored state is a change's payload ([`is_one_change`]), with it.
    stored_payloads: HashMap<RecordId, String>,
    /// Changes not merged: their record is known with another kind (the push refuses such a
    /// change, so only a log written by hand can hold one).
    pub skipped: usize,
}

impl<'a> Merger<'a> {
    /// Starts from the stored states of the records the batch names.
    pub fn new(loaded: impl IntoIterator<Item = (RecordId, Record, Loaded)>) -> Self {
        let mut m = Self {
            records: HashMap::new(),
            loaded: HashMap::new(),
            touched: BTreeMap::new(),
            borrow_new_facts: true,
            stored_payloads: HashMap::new(),
            skipped: 0,
        };
        for (id, record, from) in loaded {
            m.records.insert(id, Slot::Record(record));
            m.loaded.insert(id, from);
        }
        m
    }

    /// Notes that the state loaded for `id` was stored as `payload`, a change's logged
    /// payload ([`is_one_change`]): that change merged again (a push merged by the follower
    /// and by a rebuild) is known to change nothing, and the record's rows, already written
    /// from it, are left as they are — the same bytes as if it had been merged once.
    pub fn stored_as_payload(&mut self, id: RecordId, payload: String) {
        self.stored_payloads.insert(id, payload);
    }

    /// Merges one change (idempotent: a change merged twice changes nothing).
    pub fn apply(&mut self, change: &'a Change) {
        self.apply_parts(change, None);
    }

    /// As [`Merger::apply`], given the change's logged payload (its compact JSON, as the push
    /// stored it): a fact new to the read model has its `body_json` written from the
    /// payload's body, and a mutable record new to the read model made by this change alone
    /// has its values written from it and its state stored as the payload itself.
    pub fn apply_logged(&mut self, change: &'a Change, payload: &'a str) {
        let logged =
            crate::sync::body_in_payload(payload).map(|body_json| Logged { payload, body_json });
        self.apply_parts(change, logged);
    }

    /// [`Merger::apply`], with the change's logged payload and its body's compact JSON when
    /// known ([`Merger::apply_logged`]).
    fn apply_parts(&mut self, change: &'a Change, logged: Option<Logged<'a>>) {
        use std::collections::hash_map::Entry;
        if let Some(logged) = logged
            && self
                .stored_payloads
                .get(&change.id)
                .is_some_and(|p| p == logged.payload)
        {
            // The stored state is this very change's: merging it again changes nothing.
            return;
        }
        let slot = match self.records.entry(change.id) {
            Entry::Vacant(v) => {
                if self.borrow_new_facts && change.kind.class() == Class::Fact && !change.tombstone
                {
                    v.insert(Slot::NewFact(change, logged.map(|l| l.body_json)));
                    self.touched.insert(change.id, ());
                    return;
                }
                if let Some(logged) = logged
                    && self.borrow_new_facts
                    && change.kind.class() == Class::Mutable
                    && !change.tombstone
                    && !change.body.is_empty()
                    && is_one_change(logged.payload)
                {
                    v.insert(Slot::NewMutable(change, logged));
                    self.touched.insert(change.id, ());
                    return;
                }
                v.insert(Slot::Record(match change.kind.class() {
                    Class::Mutable => Record::Mutable(MutableRecord::new(change.kind)),
                    Class::Fact => Record::Fact(FactRecord::new(change.kind)),
                }))
            }
            Entry::Occupied(o) => o.into_mut(),
        };
        match *slot {
            Slot::NewFact(first, _) => *slot = Slot::Record(Record::Fact(made_by(first))),
            Slot::NewMutable(first, _) => {
                let mut m = MutableRecord::new(first.kind);
                // Its kind, by construction: the first change made the slot.
                if m.apply(first).is_ok() {
                    *slot = Slot::Record(Record::Mutable(m));
                }
            }
            Slot::Record(_) => {}
        }
        let Slot::Record(record) = slot else {
            // Made a record just above.
            return;
        };
        let merged = match record {
            Record::Mutable(m) => m.apply(change),
            Record::Fact(f) => f.apply(change),
        };
        match merged {
            Ok(()) => {
                self.touched.insert(change.id, ());
            }
            Err(e) => {
                tracing::warn!(record = %change.id, error = %e, "read model: change not merged");
                self.skipped += 1;
            }
        }
    }

    /// The rows to write for every record touched.
    pub fn writes(&self) -> Result<Writes, serde_json::Error> {
        let mut w = Writes::default();
        for id in self.touched.keys() {
            let record = match self.records.get(id) {
                Some(Slot::Record(r)) => r,
                Some(Slot::NewFact(c, body_json)) => {
                    // In its `facts` row alone ([`in_facts_row`]), as `made_by` would be.
                    let idt = id.to_string();
                    w.new.insert(idt.clone());
                    project_fact_parts(
                        &mut w,
                        &idt,
                        Made {
                            kind: c.kind,
                            body: &c.body,
                            body_json: *body_json,
                            made: c.stamp(),
                            author: c.author,
                            supersedes: c.supersedes,
                            deleted: false,
                        },
                    )?;
                    continue;
                }
                Some(Slot::NewMutable(c, logged)) => {
                    let idt = id.to_string();
                    w.new.insert(idt.clone());
                    w.push(
                        Table::Merged,
                        vec![
                            Val::text(&idt),
                            Val::text(c.kind.as_str()),
                            Val::text(logged.payload),
                        ],
                    );
                    // One edit per field, all of this change: the values are the body, no
                    // conflict, no tombstone; first and last edit both this change's.
                    let hlc = c.hlc.to_string();
                    project_values(
                        &mut w,
                        &idt,
                        c.kind,
                        &c.body,
                        logged.body_json.to_string(),
                        false,
                        &hlc,
                        &hlc,
                    );
                    continue;
                }
                None => continue,
            };
            let idt = id.to_string();
            let loaded = self.loaded.get(id).copied();
            if loaded.is_none() {
                w.new.insert(idt.clone());
            }
            // A fact kept in its `facts` row needs no `merged_records` row (one that has
            // one keeps it, so a stored state is never stale).
            let merged_row = match record {
                Record::Fact(f) => !in_facts_row(f) || loaded == Some(Loaded::Merged),
                Record::Mutable(_) => true,
            };
            if merged_row {
                w.push(
                    Table::Merged,
                    vec![
                        Val::text(&idt),
                        Val::text(record.kind().as_str()),
                        Val::Text(Some(encode_state(record)?)),
                    ],
                );
            }
            match record {
                Record::Mutable(m) => {
                    project_mutable(&mut w, &idt, *id, m)?;
                    // A record new to the read model has no stored conflicts to replace.
                    if loaded.is_some() {
                        w.cleared.push(idt);
                    }
                }
                Record::Fact(f) => project_fact(&mut w, &idt, f)?,
            }
        }
        Ok(w)
    }
}

/// Rows for the read tables, per table (one row per record and table), and the mutable
/// records whose conflicts are replaced.
#[derive(Debug, Default, PartialEq)]
pub struct Writes {
    pub rows: BTreeMap<Table, Vec<Vec<Val>>>,
    /// Ids of the records written that had no stored state (not among the states the
    /// merger was given). A writer that loaded every stored state of the batch under the
    /// read model's lock knows that such a record has no row in any read table (a record's
    /// rows and its state are written and deleted together), so its rows are plain inserts.
    pub new: HashSet<String>,
    /// Records whose stored conflicts are deleted before [`Table::Conflicts`] rows are added.
    pub cleared: Vec<String>,
}

impl Writes {
    fn push(&mut self, table: Table, row: Vec<Val>) {
        self.rows.entry(table).or_default().push(row);
    }

    /// Rows in the order to write them.
    pub fn tables(&self) -> impl Iterator<Item = (Table, &Vec<Vec<Val>>)> {
        self.rows.iter().map(|(t, r)| (*t, r))
    }
}

fn project_mutable(
    w: &mut Writes,
    idt: &str,
    id: RecordId,
    m: &MutableRecord,
) -> Result<(), serde_json::Error> {
    let values = m.values();
    let stamps = || {
        m.fields()
            .values()
            .flat_map(|e| e.iter().map(|e| e.hlc))
            .chain(m.tombstones().iter().map(|t| t.hlc))
    };
    project_values(
        w,
        idt,
        m.kind,
        &values,
        serde_json::to_string(&values)?,
        m.is_deleted(),
        &stamps().max().unwrap_or_default().to_string(),
        &stamps().min().unwrap_or_default().to_string(),
    );
    for c in m.conflicts(id) {
        let (field, loser) = c.subject();
        let winner = match &c.conflict {
            ConflictKind::Field { winner, .. } => Some(winner.hlc.to_string()),
            ConflictKind::DeleteOverridden { .. } => None,
        };
        w.push(
            Table::Conflicts,
            vec![
                Val::text(idt),
                Val::text(m.kind.as_str()),
                Val::text(field),
                Val::Text(winner),
                Val::text(&loser.hlc.to_string()),
                Val::text(&loser.device.to_string()),
                Val::Text(Some(serde_json::to_string(&c)?)),
            ],
        );
    }
    Ok(())
}

/// A mutable record's row in its table: its current `values` (and them as JSON), whether it
/// is deleted, its newest and its oldest edit's HLC.
#[allow(clippy::too_many_arguments)]
fn project_values(
    w: &mut Writes,
    idt: &str,
    kind: EntityKind,
    values: &serde_json::Map<String, Value>,
    values_json: String,
    deleted: bool,
    updated: &str,
    made: &str,
) {
    let deleted = Val::Int(i64::from(deleted));
    let updated = Val::text(updated);
    let s = |f: &str| Val::Text(values.get(f).and_then(Value::as_str).map(str::to_string));
    let json = Val::Text(Some(values_json));
    let key = Val::text(idt);
    match kind {
        EntityKind::Household => w.push(
            Table::Households,
            vec![
                key,
                s("posyandu"),
                s("kk_number"),
                s("head_name"),
                s("dusun"),
                s("rt"),
                s("rw"),
                deleted,
                json,
                updated,
            ],
        ),
        EntityKind::Person => {
            let estimated = values
                .get("birth_date_estimated")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let status = values
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("active");
            w.push(
                Table::Persons,
                vec![
                    key,
                    s("posyandu"),
                    s("household"),
                    s("name"),
                    s("sex"),
                    s("birth_date"),
                    Val::Int(i64::from(estimated)),
                    s("nik"),
                    s("mother"),
                    Val::text(status),
                    deleted,
                    json,
                    updated,
                    // When the person was first recorded (the duplicate finder's `found_at`).
                    Val::text(made),
                ],
            );
        }
        EntityKind::Pregnancy => w.push(
            Table::Pregnancies,
            vec![
                key,
                s("posyandu"),
                s("person"),
                s("hpht"),
                s("status"),
                deleted,
                json,
                updated,
            ],
        ),
        EntityKind::Referral => {
            w.push(
                Table::Referrals,
                vec![
                    key,
                    s("posyandu"),
                    s("person"),
                    s("status"),
                    s("visit"),
                    deleted,
                    json,
                    updated,
                    Val::text(made),
                ],
            );
        }
        _ => {}
    }
}

/// A fact as made: what its `facts` row shows.
struct Made<'b> {
    kind: EntityKind,
    body: &'b sync_protocol::Body,
    /// `body` as compact JSON, when known already.
    body_json: Option<&'b str>,
    made: Stamp,
    author: sync_protocol::UserId,
    supersedes: Option<RecordId>,
    deleted: bool,
}

fn project_fact(w: &mut Writes, idt: &str, f: &FactRecord) -> Result<(), serde_json::Error> {
    // Only a tombstone so far: nothing to show until the fact itself arrives.
    let (Some(body), Some(made), Some(author)) = (&f.body, f.made, f.author) else {
        return Ok(());
    };
    project_fact_parts(
        w,
        idt,
        Made {
            kind: f.kind,
            body,
            body_json: None,
            made,
            author,
            supersedes: f.supersedes,
            deleted: f.is_deleted(),
        },
    )
}

fn project_fact_parts(w: &mut Writes, idt: &str, f: Made<'_>) -> Result<(), serde_json::Error> {
    let Made {
        kind,
        body,
        body_json,
        made,
        author,
        supersedes,
        deleted,
    } = f;
    let s = |k: &str| Val::Text(body.get(k).and_then(Value::as_str).map(str::to_string));
    let (person, subject) = match kind {
        EntityKind::PersonMerge => (s("kept"), s("merged")),
        EntityKind::AncContact => (s("person"), s("pregnancy")),
        EntityKind::ReferralEvent => (Val::Text(None), s("referral")),
        EntityKind::ConflictReview => (Val::Text(None), s("record")),
        EntityKind::DuplicateDismissal => (s("first"), s("second")),
        _ => (s("person"), Val::Text(None)),
    };
    let date = body
        .get("date")
        .and_then(Value::as_str)
        .map_or_else(|| wita_date(made.hlc), str::to_string);
    let posyandu = body
        .get("posyandu")
        .and_then(Value::as_str)
        .unwrap_or_default();
    w.push(
        Table::Facts,
        vec![
            Val::text(idt),
            Val::text(kind.as_str()),
            Val::text(posyandu),
            person,
            s("household"),
            s("visit"),
            s("session"),
            subject,
            Val::Text(Some(date)),
            Val::Text(Some(match body_json {
                Some(j) => j.to_string(),
                None => serde_json::to_string(body)?,
            })),
            Val::Text(Some(made.hlc.to_string())),
            Val::Text(Some(made.device.to_string())),
            Val::Text(Some(author.to_string())),
            Val::Text(supersedes.map(|s| s.to_string())),
            Val::Int(i64::from(deleted)),
        ],
    );
    Ok(())
}

/// The date of a stamp in WITA (UTC+8, Belu's zone): a fact without a `date` is dated by
/// when it was made (the tablet uses its own zone, WITA in Belu).
pub fn wita_date(hlc: Hlc) -> String {
    use chrono::Datelike;
    let ms = i64::try_from(hlc.wall_ms).unwrap_or(i64::MAX);
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
        + chrono::Duration::hours(8);
    let d = t.date_naive();
    if (0..=9999).contains(&d.year()) {
        // `%Y-%m-%d` without parsing the format for every fact.
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

/// Whether a change is a `person_merge` (or its tombstone): only a batch holding one has the
/// merges in effect settled again ([`settle_merges`]).
pub fn names_merge(change: &Change) -> bool {
    change.kind == EntityKind::PersonMerge
}

/// The query [`settle_merges`] reads: every `person_merge` row of `facts` (`kept` and `merged`
/// are its `person` and `subject`) with its `merged_records` state if it has one (a fact
/// with a tombstone always has one).
pub const MERGE_ROWS: &str = "SELECT f.id, f.person, f.subject, f.made_hlc, f.made_device,
        f.deleted, m.state_json
    FROM facts f LEFT JOIN merged_records m ON m.id = f.id
    WHERE f.kind = 'person_merge'";

/// A row of [`MERGE_ROWS`].
#[derive(Debug, Clone)]
pub struct MergeRow {
    pub id: String,
    pub kept: Option<String>,
    pub merged: Option<String>,
    pub made_hlc: String,
    pub made_device: String,
    pub deleted: bool,
    pub state_json: Option<String>,
}

/// The `person_merge` facts whose `deleted` must change, with its new value: the merges that
/// do not take effect by `records::merges::effective` (the tablets' rule: the earlier merge
/// by stamp holds; a person merged twice, or a cycle, leaves the later one kept but
/// ignored) are deleted like a tombstoned merge, the others deleted only by a tombstone — as
/// field-core's `settle_merges`, so every read of live merges (`deleted = 0`) agrees with
/// the tablets whatever order the facts arrived in.
pub fn settle_merges(rows: &[MergeRow]) -> Result<Vec<(String, bool)>, String> {
    let mut tombstoned = Vec::with_capacity(rows.len());
    let mut live = Vec::new();
    for r in rows {
        let gone = match &r.state_json {
            Some(json) => match decode_state(EntityKind::PersonMerge.as_str(), json)? {
                Record::Fact(f) => f.is_deleted(),
                Record::Mutable(_) => return Err(format!("person_merge {}: not a fact", r.id)),
            },
            None => false,
        };
        tombstoned.push(gone);
        if gone {
            continue;
        }
        let (Some(kept), Some(merged)) = (&r.kept, &r.merged) else {
            continue;
        };
        let bad = |what: &str| format!("person_merge {}: {what}", r.id);
        live.push(records::merges::MergeFact {
            id: r.id.parse().map_err(|_| bad("id"))?,
            kept: kept.parse().map_err(|_| bad("kept"))?,
            merged: merged.parse().map_err(|_| bad("merged"))?,
            stamp: Stamp {
                hlc: r.made_hlc.parse().map_err(|_| bad("made_hlc"))?,
                device: r.made_device.parse().map_err(|_| bad("made_device"))?,
            },
        });
    }
    let effective = records::merges::effective(&live);
    Ok(rows
        .iter()
        .zip(tombstoned)
        .filter_map(|(r, gone)| {
            let now = gone || !r.id.parse().is_ok_and(|i: RecordId| effective.contains(&i));
            (now != r.deleted).then(|| (r.id.clone(), now))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sync_protocol::{DeviceId, UserId};

    fn change(id: RecordId, kind: EntityKind, wall_ms: u64, body: Value) -> Change {
        Change {
            id,
            kind,
            device: DeviceId::new_v7(),
            seq: wall_ms,
            hlc: Hlc {
                wall_ms,
                counter: 0,
            },
            author: UserId::new_v7(),
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }

    fn tombstone(of: &Change, wall_ms: u64) -> Change {
        Change {
            tombstone: true,
            hlc: Hlc {
                wall_ms,
                counter: 0,
            },
            body: Default::default(),
            ..of.clone()
        }
    }

    /// The writes of a batch merged with new facts kept as their changes, and as records
    /// made by `FactRecord::apply` (the reference). Merged a third time with each change's
    /// stored payload (`apply_logged`, as the SQLite follower does): the same writes as the
    /// reference, byte for byte, each `merged_records` state compared decoded.
    fn both(loaded: Vec<(RecordId, Record, Loaded)>, changes: &[Change]) -> (Writes, Writes) {
        let payloads: Vec<String> = changes
            .iter()
            .map(|c| crate::sync::Prepared::new(c.clone()).payload)
            .collect();
        let mut fast = Merger::new(loaded.clone());
        let mut payloaded = Merger::new(loaded.clone());
        let mut reference = Merger::new(loaded);
        reference.borrow_new_facts = false;
        for (c, p) in changes.iter().zip(&payloads) {
            fast.apply(c);
            payloaded.apply_logged(c, p);
            reference.apply(c);
        }
        assert_eq!(fast.skipped, reference.skipped);
        assert_eq!(payloaded.skipped, reference.skipped);
        assert_eq!(
            decoded(payloaded.writes().expect("writes")),
            decoded(reference.writes().expect("writes")),
            "{changes:?}"
        );
        (
            fast.writes().expect("writes"),
            reference.writes().expect("writes"),
        )
    }

    /// Writes with each `merged_records` state decoded: a state stored as a change's payload
    /// ([`is_one_change`]) and as its `MutableRecord` are the same state. Every other column
    /// stays as written, byte for byte.
    fn decoded(mut w: Writes) -> (Writes, Vec<Record>) {
        let mut states = Vec::new();
        if let Some(rows) = w.rows.get_mut(&Table::Merged) {
            for row in rows.iter_mut() {
                let (Val::Text(Some(kind)), Val::Text(Some(json))) = (&row[1], &row[2]) else {
                    panic!("a merged_records row without kind or state: {row:?}");
                };
                states.push(decode_state(kind, json).expect("a stored state decodes"));
                row[2] = Val::Text(None);
            }
        }
        (w, states)
    }

    #[test]
    fn a_new_mutable_record_made_by_one_change_is_stored_as_its_payload() {
        let ms = 1_764_000_000_000;
        let person = RecordId::new_v7();
        let child = change(
            person,
            EntityKind::Person,
            ms,
            json!({"posyandu": "P1", "name": "Anak", "sex": "female", "birth_date": "2024-01-31",
                "birth_date_estimated": true, "nik": null, "note": "kutip \" é"}),
        );
        let mut renamed = change(
            person,
            EntityKind::Person,
            ms + 5,
            json!({"name": "Anak B"}),
        );
        renamed.base.insert("name".into(), child.stamp());
        // Edited on another tablet without seeing the first name: a conflict.
        let mut concurrent = change(
            person,
            EntityKind::Person,
            ms + 6,
            json!({"name": "Anak C"}),
        );
        concurrent.device = DeviceId::new_v7();
        let gone = tombstone(&child, ms + 9);
        let referral = change(
            RecordId::new_v7(),
            EntityKind::Referral,
            ms,
            json!({"posyandu": "P1", "person": person.to_string(), "status": "made"}),
        );
        let household = change(
            RecordId::new_v7(),
            EntityKind::Household,
            ms,
            json!({"posyandu": "P1", "head_name": "Bapak", "rt": "01"}),
        );
        let pregnancy = change(
            RecordId::new_v7(),
            EntityKind::Pregnancy,
            ms,
            json!({"posyandu": "P1", "person": person.to_string(), "hpht": "2025-06-01"}),
        );
        let empty = change(RecordId::new_v7(), EntityKind::Person, ms, json!({}));
        let wrong_kind = change(person, EntityKind::Visit, ms + 3, json!({}));
        for batch in [
            vec![child.clone()],
            vec![child.clone(), child.clone()],
            vec![child.clone(), renamed.clone()],
            vec![renamed.clone(), child.clone()],
            vec![child.clone(), renamed.clone(), concurrent.clone()],
            vec![child.clone(), gone.clone()],
            vec![gone.clone(), child.clone()],
            vec![child.clone(), wrong_kind.clone()],
            vec![referral.clone(), household.clone(), pregnancy.clone()],
            vec![empty.clone()],
        ] {
            let (fast, reference) = both(Vec::new(), &batch);
            assert_eq!(fast, reference, "{batch:?}");
        }
        // The payload as a state: what `MutableRecord::apply` makes of the change, and a
        // later change merges onto it as onto the full state.
        let payload = crate::sync::Prepared::new(child.clone()).payload;
        assert!(is_one_change(&payload));
        let mut reference = MutableRecord::new(EntityKind::Person);
        reference.apply(&child).expect("same kind");
        let Record::Mutable(stored) = decode_state("person", &payload).expect("decodes") else {
            panic!("a person's state is mutable");
        };
        assert_eq!(stored, reference);
        let full = encode_state(&Record::Mutable(reference.clone())).expect("json");
        assert!(!is_one_change(&full));
        // The same change merged again onto its stored payload: nothing to write.
        let renamed_payload = crate::sync::Prepared::new(renamed.clone()).payload;
        let mut again = Merger::new(vec![(
            person,
            Record::Mutable(stored.clone()),
            Loaded::Merged,
        )]);
        again.stored_as_payload(person, payload.clone());
        again.apply_logged(&child, &payload);
        assert_eq!(again.writes().expect("writes"), Writes::default());
        // Then another change: the full state, as without the note.
        again.apply_logged(&renamed, &renamed_payload);
        let mut plain = Merger::new(vec![(
            person,
            Record::Mutable(stored.clone()),
            Loaded::Merged,
        )]);
        plain.apply(&renamed);
        assert_eq!(
            again.writes().expect("writes"),
            plain.writes().expect("writes")
        );
        for loaded in [
            Record::Mutable(stored),
            decode_state("person", &full).expect("decodes"),
        ] {
            let (fast, reference) = both(
                vec![(person, loaded, Loaded::Merged)],
                &[renamed.clone(), concurrent.clone()],
            );
            assert_eq!(fast, reference);
        }
    }

    #[test]
    fn a_payload_state_that_cannot_be_read_back_is_an_error() {
        let ms = 1_764_000_000_000;
        let child = change(
            RecordId::new_v7(),
            EntityKind::Person,
            ms,
            json!({"posyandu": "P1", "name": "Anak", "sex": "female"}),
        );
        let payload = crate::sync::Prepared::new(child.clone()).payload;
        assert!(is_one_change(&payload));
        assert!(decode_state("person", &payload).is_ok());
        let cut = &payload[..payload.len() / 2];
        for (kind, json) in [
            // Cut short (a torn write, a hand edit).
            ("person", cut),
            // Starts as a payload but is not a change.
            ("person", r#"{"id":"not an id"}"#),
            // A person's change stored under another kind.
            ("household", payload.as_str()),
        ] {
            let err = decode_state(kind, json).expect_err(json);
            assert!(
                err.starts_with("state (one change)"),
                "{kind} {json}: {err}"
            );
        }
    }

    #[test]
    fn a_new_fact_kept_as_its_change_writes_what_apply_makes() {
        let ms = 1_764_000_000_000;
        let person = RecordId::new_v7();
        let p = person.to_string();
        let weighing = change(
            RecordId::new_v7(),
            EntityKind::Measurement,
            ms,
            json!({"posyandu": "P1", "person": p, "type": "weight", "value": 9.5}),
        );
        let mut corrected = change(
            RecordId::new_v7(),
            EntityKind::Measurement,
            ms + 5,
            json!({"posyandu": "P1", "person": p, "type": "weight", "value": 9.7, "date": "2025-11-22"}),
        );
        corrected.supersedes = Some(weighing.id);
        // The same fact made twice with different bodies: the smaller stamp is kept.
        let mut again = corrected.clone();
        again.hlc.wall_ms -= 1;
        again.body.insert("value".into(), json!(9.8));
        let visit = change(
            RecordId::new_v7(),
            EntityKind::Visit,
            ms + 1,
            json!({"posyandu": "P1", "person": p, "type": "posyandu"}),
        );
        let hidden = tombstone(&visit, ms + 9);
        let only_tombstone = tombstone(
            &change(RecordId::new_v7(), EntityKind::Immunisation, ms, json!({})),
            ms + 2,
        );
        let child = change(
            person,
            EntityKind::Person,
            ms,
            json!({"posyandu": "P1", "name": "Anak", "sex": "female"}),
        );
        // Text that JSON escapes, numbers in several spellings.
        let noted = change(
            RecordId::new_v7(),
            EntityKind::Measurement,
            ms + 4,
            json!({"posyandu": "P1", "person": p, "type": "weight", "value": 1e2,
                "small": 1e-7, "neg": -0.0, "big": 18_446_744_073_709_551_615u64,
                "note": "kutip \" garis \\ baris\n tab\t \u{1} \u{7f} é 漢 😀 </script>",
                "list": [1.5, null, true, {"b": "x", "a": []}]}),
        );
        // A change of another kind under a fact's id is not merged.
        let wrong_kind = change(weighing.id, EntityKind::Visit, ms + 3, json!({}));
        let batches: Vec<Vec<Change>> = vec![
            vec![weighing.clone()],
            vec![weighing.clone(), weighing.clone()],
            vec![weighing.clone(), corrected.clone(), again.clone()],
            vec![again.clone(), corrected.clone()],
            vec![visit.clone(), hidden.clone()],
            vec![hidden.clone(), visit.clone()],
            vec![only_tombstone.clone()],
            vec![noted.clone(), child.clone()],
            vec![
                child.clone(),
                weighing.clone(),
                visit.clone(),
                wrong_kind.clone(),
            ],
        ];
        for batch in &batches {
            let (fast, reference) = both(Vec::new(), batch);
            assert_eq!(fast, reference, "{batch:?}");
        }
        // A fact already in the read model (its `facts` row) is never kept as a change.
        let mut stored = FactRecord::new(EntityKind::Measurement);
        stored.apply(&weighing).expect("same kind");
        let loaded = vec![(weighing.id, Record::Fact(stored), Loaded::FactsRow)];
        let (fast, reference) = both(loaded, &[weighing.clone(), tombstone(&weighing, ms + 7)]);
        assert_eq!(fast, reference);
        assert!(!fast.rows[&Table::Merged].is_empty());
    }

    #[test]
    fn records_without_a_stored_state_are_marked_new_and_only_they() {
        let ms = 1_764_000_000_000;
        let (known, fresh, fact) = (RecordId::new_v7(), RecordId::new_v7(), RecordId::new_v7());
        let body = json!({"posyandu": "P1", "name": "Anak"});
        let first = change(known, EntityKind::Person, ms, body.clone());
        let mut stored = MutableRecord::new(EntityKind::Person);
        stored.apply(&first).expect("applies");
        let renamed = change(known, EntityKind::Person, ms + 1, json!({"name": "Anak B"}));
        let made = change(fresh, EntityKind::Person, ms + 2, body);
        let weighing = change(
            fact,
            EntityKind::Measurement,
            ms + 3,
            json!({"posyandu": "P1", "person": fresh.to_string(), "type": "weight", "value": 9.1}),
        );
        let changes = [renamed, made, weighing];
        let payloads: Vec<String> = changes
            .iter()
            .map(|c| crate::sync::Prepared::new(c.clone()).payload)
            .collect();
        let loaded = vec![(known, Record::Mutable(stored), Loaded::Merged)];
        for logged in [false, true] {
            let mut m = Merger::new(loaded.clone());
            for (c, p) in changes.iter().zip(&payloads) {
                if logged {
                    m.apply_logged(c, p);
                } else {
                    m.apply(c);
                }
            }
            let w = m.writes().expect("writes");
            let expected: HashSet<String> = [fresh, fact].iter().map(ToString::to_string).collect();
            assert_eq!(w.new, expected, "logged: {logged}");
            assert_eq!(w.cleared, vec![known.to_string()]);
        }
    }

    #[test]
    fn made_by_is_the_state_apply_makes_of_a_first_change() {
        let c = change(
            RecordId::new_v7(),
            EntityKind::AncContact,
            1_764_000_000_000,
            json!({"posyandu": "P1", "person": "x", "pregnancy": "y"}),
        );
        let mut f = FactRecord::new(c.kind);
        f.apply(&c).expect("same kind");
        assert_eq!(made_by(&c), f);
    }

    #[test]
    fn wita_date_is_the_formatted_date() {
        for ms in [
            0u64,
            1,
            57_599_999,
            57_600_000,
            1_764_000_000_000,
            1_709_164_799_999,
            253_402_271_999_999,
            253_402_272_000_000,
            u64::MAX,
        ] {
            let hlc = Hlc {
                wall_ms: ms,
                counter: 0,
            };
            let t = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
                .unwrap_or_default()
                + chrono::Duration::hours(8);
            assert_eq!(wita_date(hlc), t.format("%Y-%m-%d").to_string(), "{ms}");
        }
    }
}

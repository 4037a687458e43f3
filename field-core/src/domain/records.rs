//! Corrections, retractions, moved/died, and merging duplicate persons.

use crate::error::Result;
use crate::messages::{Key, invalid};
use crate::reads::ConflictKey;
use crate::store::{Draft, Store, Writer};
use crate::validate;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{Body, Class, EntityKind, RecordId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Active,
    Moved,
    Died,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Moved => "moved",
            PersonStatus::Died => "died",
        }
    }
}

impl Store {
    /// Corrects a fact: a new fact of the same kind that supersedes the old one. `changes`
    /// holds the fields to change; the others are copied from the old fact. The old fact stays.
    pub fn correct_fact(&mut self, old: RecordId, changes: Body) -> Result<RecordId> {
        self.write(|w| {
            let kind = crate::apply::record_kind(&w.tx, &old)?
                .ok_or_else(|| invalid("id", Key::UnknownRecord, &[]))?;
            let kind: EntityKind = serde_json::from_value(Value::String(kind))?;
            if kind.class() != Class::Fact {
                return Err(invalid("id", Key::NotAFact, &[]).into());
            }
            let row: Option<(String, i64, i64)> =
                w.tx.query_row(
                    "SELECT body_json, deleted,
                        EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)
                     FROM facts f WHERE id = ?1",
                    [old.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((body, deleted, superseded)) = row else {
                return Err(invalid("id", Key::UnknownRecord, &[]).into());
            };
            if deleted != 0 || superseded != 0 {
                return Err(invalid("id", Key::AlreadyCorrected, &[]).into());
            }
            let mut body = crate::apply::fact_body(&body)?;
            // A correction fixes what was recorded, not whom or where: moving a fact to
            // another person or posyandu is a different record (retract and record again).
            for field in [
                "person",
                "posyandu",
                "kept",
                "merged",
                "pregnancy",
                "referral",
            ] {
                if let Some(v) = changes.get(field)
                    && body.get(field) != Some(v)
                {
                    return Err(invalid(field, Key::FactMoved, &[]).into());
                }
            }
            for (k, v) in changes {
                if v.is_null() {
                    body.remove(&k);
                } else {
                    body.insert(k, v);
                }
            }
            if kind == EntityKind::Measurement
                && let Some(Value::String(p)) = body.get("person")
                && let Ok(pid) = p.parse::<RecordId>()
            {
                let p = validate::person(&w.tx, "person", &pid)?;
                validate::measurement_for_age(&body, &p)?;
            }
            let mut d = Draft::new(kind, body);
            d.supersedes = Some(old);
            w.push(d)
        })
    }

    /// Hides a fact entered in error (a tombstone; the fact stays stored).
    pub fn retract_fact(&mut self, id: RecordId) -> Result<()> {
        self.write(|w| {
            let kind = crate::apply::record_kind(&w.tx, &id)?
                .ok_or_else(|| invalid("id", Key::UnknownRecord, &[]))?;
            let kind: EntityKind = serde_json::from_value(Value::String(kind))?;
            if kind.class() != Class::Fact {
                return Err(invalid("id", Key::NotAFact, &[]).into());
            }
            validate::require_live(&w.tx, "id", &id, kind.as_str())?;
            let mut d = Draft::edit(id, kind, Body::new());
            d.tombstone = true;
            w.push(d)?;
            Ok(())
        })
    }

    /// Marks a person as moved away, from `date`.
    pub fn mark_moved(&mut self, person: RecordId, date: &str) -> Result<()> {
        self.set_status(person, PersonStatus::Moved, date)
    }

    /// Records a death, on `date`.
    pub fn mark_died(&mut self, person: RecordId, date: &str) -> Result<()> {
        self.set_status(person, PersonStatus::Died, date)
    }

    /// Sets a person's status (`active` again after a mistaken "moved", for instance).
    pub fn set_status(&mut self, person: RecordId, status: PersonStatus, date: &str) -> Result<()> {
        self.write(|w| {
            let p = validate::person(&w.tx, "person", &person)?;
            validate::not_before_birth("status_date", Some(date), &p)?;
            let mut patch = Body::new();
            patch.insert("status".into(), Value::String(status.as_str().into()));
            patch.insert("status_date".into(), Value::String(date.into()));
            w.push(Draft::edit(person, EntityKind::Person, patch))?;
            Ok(())
        })
    }

    /// Links two records of one person registered twice. Neither is deleted: `merged` drops
    /// out of lists and searches, and its facts appear in `kept`'s timeline.
    pub fn merge_persons(
        &mut self,
        kept: RecordId,
        merged: RecordId,
        reason: Option<&str>,
    ) -> Result<RecordId> {
        if kept == merged {
            return Err(invalid("merged", Key::SamePerson, &[]).into());
        }
        self.write(|w| push_merge(w, kept, merged, reason))
    }

    /// A supervisor's decision on a conflict, named by its [`ConflictKey`] (record, field,
    /// losing stamp: the same conflict whatever merges happened since it was listed). Keep the
    /// winner, or use the loser: for a field, the losing value is written as a new edit that
    /// has seen the winner; for an overridden deletion (`_deleted`), the record is deleted
    /// with a tombstone that saw every current value. Either way a `conflict_review` fact
    /// records the decision, and the conflict leaves [`Store::conflicts`].
    pub fn review_conflict(
        &mut self,
        conflict: &ConflictKey,
        use_loser: bool,
        note: Option<&str>,
    ) -> Result<RecordId> {
        self.write(|w| push_review(w, conflict, use_loser, note))
    }
}

/// The writes of [`Store::review_conflict`] inside an open transaction (also used after a
/// corrected value in the same transaction, `review::Store::resolve_conflict`).
pub(crate) fn push_review(
    w: &mut Writer<'_>,
    conflict: &ConflictKey,
    use_loser: bool,
    note: Option<&str>,
) -> Result<RecordId> {
    let (kind, json): (String, String) =
        w.tx.query_row(
            "SELECT kind, conflict_json FROM conflicts
                 WHERE record_id = ?1 AND field = ?2 AND loser_hlc = ?3 AND loser_device = ?4",
            [
                conflict.record.to_string(),
                conflict.field.clone(),
                conflict.loser.hlc.to_string(),
                conflict.loser.device.to_string(),
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| invalid("conflict", Key::UnknownRecord, &[]))?;
    let rid = conflict.record;
    let kind: EntityKind = serde_json::from_value(Value::String(kind))?;
    let posyandu = w
        .mutable(&rid, kind)?
        .values()
        .get("posyandu")
        .cloned()
        .unwrap_or(Value::Null);
    if use_loser {
        let c: sync_protocol::Conflict = serde_json::from_str(&json)?;
        match c.conflict {
            sync_protocol::ConflictKind::Field { field, loser, .. } => {
                let mut patch = Body::new();
                patch.insert(field, loser.value);
                w.push(Draft::edit(rid, kind, patch))?;
            }
            sync_protocol::ConflictKind::DeleteOverridden { .. } => {
                // The base of a tombstone made now is every field's current winner:
                // it holds, and the record is deleted.
                let mut d = Draft::edit(rid, kind, Body::new());
                d.tombstone = true;
                w.push(d)?;
            }
        }
    }
    let mut body = Body::new();
    body.insert("posyandu".into(), posyandu);
    body.insert("record".into(), Value::String(rid.to_string()));
    body.insert("field".into(), Value::String(conflict.field.clone()));
    body.insert("loser".into(), Value::String(conflict.loser.to_string()));
    body.insert(
        "decision".into(),
        Value::String(
            if use_loser {
                "use_loser"
            } else {
                "keep_winner"
            }
            .into(),
        ),
    );
    if let Some(n) = note {
        body.insert("note".into(), Value::String(n.into()));
    }
    w.push(Draft::new(EntityKind::ConflictReview, body))
}

/// The write of [`Store::merge_persons`] inside an open transaction (also used by
/// `review::Store::merge_same_person` after the survivor's chosen fields).
pub(crate) fn push_merge(
    w: &mut Writer<'_>,
    kept: RecordId,
    merged: RecordId,
    reason: Option<&str>,
) -> Result<RecordId> {
    let k = validate::person(&w.tx, "kept", &kept)?;
    validate::person(&w.tx, "merged", &merged)?;
    for (field, id) in [("kept", &kept), ("merged", &merged)] {
        let already: bool = w.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM facts WHERE kind = 'person_merge'
                         AND subject = ?1 AND deleted = 0)",
            [id.to_string()],
            |r| r.get(0),
        )?;
        if already {
            return Err(invalid(field, Key::RecordDeleted, &[]).into());
        }
    }
    let mut body = Body::new();
    body.insert("posyandu".into(), Value::String(k.posyandu.clone()));
    body.insert("kept".into(), Value::String(kept.to_string()));
    body.insert("merged".into(), Value::String(merged.to_string()));
    if let Some(r) = reason {
        body.insert("reason".into(), Value::String(r.into()));
    }
    w.push(Draft::new(EntityKind::PersonMerge, body))
}

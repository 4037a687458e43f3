//! Conflicts for review: both values with who changed each, on which tablet and when, what a
//! clinical value changes; and the decision (keep, take the other, or a corrected value).

use crate::error::{Result, StoreError};
use crate::messages::{Key, invalid};
use crate::reads::{ConflictKey, GrowthPoint, PersonSummary, TimelineEntry};
use crate::store::{Draft, Store};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{Body, ConflictKind, DeviceId, EntityKind, Hlc, RecordId, UserId};

/// One side of a conflict: a value and who made it, where and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictSide {
    /// The value (`null` for the deletion of a `_deleted` conflict).
    pub value: Value,
    pub author: UserId,
    /// The author's name when they have logged in on this tablet.
    pub author_name: Option<String>,
    pub device: DeviceId,
    /// Made on this tablet.
    pub this_tablet: bool,
    /// When, by the author's tablet (Unix ms).
    pub at_ms: u64,
    /// For a child's birth date or sex: the latest growth result (KMS, WHO categories) if
    /// this value is the one kept, by the rules the tablet uses everywhere.
    pub growth: Option<GrowthPoint>,
    /// For a pregnancy's HPHT: the HPL (due date) it gives.
    pub hpl: Option<String>,
}

/// A conflict waiting for a decision, ready for the review card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewConflict {
    /// What [`Store::resolve_conflict`] takes.
    pub key: ConflictKey,
    pub kind: EntityKind,
    pub record: RecordId,
    /// The person to open (the person, or the person of a pregnancy or referral).
    pub person: Option<RecordId>,
    /// The record in words: the person's name, or the household head's.
    pub label: String,
    pub posyandu: Option<String>,
    /// The field (`_deleted` when a deletion was overridden by later edits).
    pub field: String,
    /// Whether the field changes a health result (birth date, sex, HPHT).
    pub clinical: bool,
    /// The value the record holds now.
    pub current: ConflictSide,
    /// The value that lost (or the deletion that did not take effect).
    pub other: ConflictSide,
}

/// A reviewer's decision on a conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "value", rename_all = "snake_case")]
pub enum Resolution {
    /// Keep what the record holds now.
    KeepWinner,
    /// Take the other value (or carry out the overridden deletion).
    UseLoser,
    /// Neither: the reviewer types the right value. Written as an edit that has seen the
    /// current value, then the conflict is closed keeping it (`keep_winner`: the corrected
    /// value is then the current one).
    Corrected(Value),
}

/// Fields whose value changes a health result.
fn clinical(kind: EntityKind, field: &str) -> bool {
    matches!(
        (kind, field),
        (EntityKind::Person, "birth_date" | "sex") | (EntityKind::Pregnancy, "hpht")
    )
}

impl Store {
    /// The conflicts waiting for a decision in the unlocked user's area (none for a kader:
    /// she does not decide them), oldest first.
    pub fn review_conflicts(&self) -> Result<Vec<ReviewConflict>> {
        if !self.is_supervisor() {
            return Ok(Vec::new());
        }
        let scope = self.read_scope()?;
        let mut out = Vec::new();
        for (key, c) in self.conflicts()? {
            let rec = crate::apply::load_mutable(&self.conn, &c.record, c.kind)?;
            let values = rec.values();
            let text = |f: &str| values.get(f).and_then(Value::as_str).map(str::to_string);
            let posyandu = text("posyandu");
            if let (Some(scope), Some(p)) = (&scope, &posyandu)
                && !scope.contains(p)
            {
                continue;
            }
            let person = match c.kind {
                EntityKind::Person => Some(c.record),
                EntityKind::Pregnancy | EntityKind::Referral => {
                    text("person").and_then(|p| p.parse().ok())
                }
                _ => None,
            };
            let label = match c.kind {
                EntityKind::Household => text("head_name").unwrap_or_default(),
                EntityKind::Person => text("name").unwrap_or_default(),
                _ => match person {
                    Some(p) => self.person_name(p)?.unwrap_or_default(),
                    None => String::new(),
                },
            };
            let (field, loser) = match &c.conflict {
                ConflictKind::Field { field, loser, .. } => (
                    field.clone(),
                    (loser.value.clone(), loser.author, loser.device, loser.hlc),
                ),
                ConflictKind::DeleteOverridden { tombstone } => (
                    "_deleted".to_string(),
                    (
                        Value::Null,
                        tombstone.author,
                        tombstone.device,
                        tombstone.hlc,
                    ),
                ),
            };
            // The current winner of the field now (it may have changed since the conflict
            // was first recorded); for an overridden deletion, the newest edit that kept it.
            let winner = if field == "_deleted" {
                rec.fields()
                    .values()
                    .flatten()
                    .max_by_key(|e| e.stamp())
                    .map(|e| (Value::Bool(false), e.author, e.device, e.hlc))
            } else {
                rec.winner(&field)
                    .map(|e| (e.value.clone(), e.author, e.device, e.hlc))
            };
            let Some(winner) = winner else {
                continue;
            };
            let clinical = clinical(c.kind, &field);
            let effects = if clinical {
                Some(self.clinical_context(c.kind, person)?)
            } else {
                None
            };
            let side = |(value, author, device, hlc): (Value, UserId, DeviceId, Hlc)| {
                let (growth, hpl) = match &effects {
                    Some(ctx) => ctx.effect(&field, &value, &self.rules),
                    None => (None, None),
                };
                Ok::<_, StoreError>(ConflictSide {
                    author_name: self.user_name(author)?,
                    this_tablet: device == self.device,
                    at_ms: hlc.wall_ms,
                    value,
                    author,
                    device,
                    growth,
                    hpl,
                })
            };
            let (current, other) = (side(winner)?, side(loser)?);
            out.push(ReviewConflict {
                key,
                kind: c.kind,
                record: c.record,
                person,
                label,
                posyandu,
                field,
                clinical,
                current,
                other,
            });
        }
        Ok(out)
    }

    /// Decides a conflict: keep, take the other value, or write a corrected one; then the
    /// `conflict_review` fact closes it on every tablet that syncs it. One transaction.
    /// Only a bidan, perawat or admin decides ([`Key::SupervisorOnly`]).
    pub fn resolve_conflict(
        &mut self,
        key: &ConflictKey,
        resolution: &Resolution,
        note: Option<&str>,
    ) -> Result<RecordId> {
        self.require_supervisor("conflict")?;
        match resolution {
            Resolution::KeepWinner => self.review_conflict(key, false, note),
            Resolution::UseLoser => self.review_conflict(key, true, note),
            Resolution::Corrected(value) => {
                if key.field == "_deleted" {
                    return Err(invalid("value", Key::UnknownField, &[]).into());
                }
                let kind: Option<String> = self
                    .conn
                    .query_row(
                        "SELECT kind FROM conflicts WHERE record_id = ?1 AND field = ?2
                         AND loser_hlc = ?3 AND loser_device = ?4",
                        [
                            key.record.to_string(),
                            key.field.clone(),
                            key.loser.hlc.to_string(),
                            key.loser.device.to_string(),
                        ],
                        |r| r.get(0),
                    )
                    .optional()?;
                let kind: EntityKind = match kind {
                    Some(k) => serde_json::from_value(Value::String(k))?,
                    None => return Err(invalid("conflict", Key::UnknownRecord, &[]).into()),
                };
                let mut patch = Body::new();
                patch.insert(key.field.clone(), value.clone());
                // The edit and the review in one write: a reviewer never leaves a corrected
                // value with its conflict still open, or a closed conflict without the value.
                self.write(|w| {
                    w.push(Draft::edit(key.record, kind, patch))
                        .map_err(|e| match e {
                            // The form has one input for the value.
                            StoreError::Invalid(mut v) => {
                                v.field = "value".into();
                                StoreError::Invalid(v)
                            }
                            other => other,
                        })?;
                    crate::domain::records::push_review(w, key, false, note)
                })
            }
        }
    }

    /// A person's name, whatever the read scope.
    fn person_name(&self, id: RecordId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM persons WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// A user's display name when they have logged in on this tablet.
    pub(crate) fn user_name(&self, id: UserId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT display_name FROM users WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// What a clinical value is judged against: the person and their measurements.
    fn clinical_context(&self, kind: EntityKind, person: Option<RecordId>) -> Result<Clinical> {
        let Some(person) = person else {
            return Ok(Clinical::None);
        };
        if kind != EntityKind::Person {
            return Ok(Clinical::Pregnancy);
        }
        let today = self.today()?;
        let p = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM persons p WHERE p.id = ?1",
                crate::reads::PERSON_COLS
            ))?
            .query_row([person.to_string()], |r| PersonSummary::from_row(r, today))
            .optional()?;
        let Some(p) = p else {
            return Ok(Clinical::None);
        };
        let entries = self.person_timeline(person).map(|t| t.entries);
        let entries = match entries {
            Ok(e) => e,
            // Outside the read scope: no result rather than a leak.
            Err(StoreError::NoSuchRecord { .. }) => return Ok(Clinical::None),
            Err(e) => return Err(e),
        };
        Ok(Clinical::Person(Box::new(p), entries))
    }
}

/// The inputs of a clinical field's effect.
enum Clinical {
    None,
    Person(Box<PersonSummary>, Vec<TimelineEntry>),
    Pregnancy,
}

impl Clinical {
    /// The latest growth result, or the HPL, under `value` of `field`.
    fn effect(
        &self,
        field: &str,
        value: &Value,
        rules: &crate::health::RuleOptions,
    ) -> (Option<GrowthPoint>, Option<String>) {
        match self {
            Clinical::None => (None, None),
            Clinical::Person(p, entries) => {
                let mut p = (**p).clone();
                let v = value.as_str().map(str::to_string);
                match field {
                    "birth_date" => p.birth_date = v,
                    "sex" => p.sex = v,
                    _ => return (None, None),
                }
                let growth = crate::health::growth_points(&p, entries, rules);
                (growth.into_iter().last(), None)
            }
            Clinical::Pregnancy => {
                let hpl = value
                    .as_str()
                    .and_then(crate::validate::parse_date)
                    .and_then(|d| health_rules::pregnancy::hpl(d).ok())
                    .map(|d| d.format("%Y-%m-%d").to_string());
                (None, hpl)
            }
        }
    }
}

//! Per-field merge of mutable records (household, person, pregnancy, referral).

use super::MergeError;
use crate::change::Change;
use crate::entity::EntityKind;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId, UserId};
use crate::stamp::Stamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One edit of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEdit {
    pub value: Value,
    pub hlc: Hlc,
    pub device: DeviceId,
    /// Who made the edit (for the review screen).
    pub author: UserId,
    /// The stamp of the value the author saw and replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Stamp>,
}

impl FieldEdit {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            hlc: self.hlc,
            device: self.device,
        }
    }
}

/// A deletion of a mutable record, with the field stamps its author saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub hlc: Hlc,
    pub device: DeviceId,
    pub author: UserId,
    pub seen: BTreeMap<String, Stamp>,
}

impl Tombstone {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            hlc: self.hlc,
            device: self.device,
        }
    }
}

/// The merged state of one mutable record: every edit it has received, per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutableRecord {
    pub kind: EntityKind,
    /// Edits per field, sorted by stamp, without duplicate stamps. Build with
    /// [`MutableRecord::from_parts`] or [`MutableRecord::apply`] to keep that true.
    fields: BTreeMap<String, Vec<FieldEdit>>,
    /// Sorted by stamp, without duplicate stamps.
    tombstones: Vec<Tombstone>,
}

/// A value that lost without anyone having seen it, kept for a supervisor to review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub record: RecordId,
    pub kind: EntityKind,
    pub conflict: ConflictKind,
}

impl Conflict {
    /// The field at issue (`_deleted` for an overridden deletion) and the losing stamp: what a
    /// `conflict_review` fact names.
    pub fn subject(&self) -> (&str, Stamp) {
        match &self.conflict {
            ConflictKind::Field { field, loser, .. } => (field.as_str(), loser.stamp()),
            ConflictKind::DeleteOverridden { tombstone } => ("_deleted", tombstone.stamp()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConflictKind {
    /// Two edits of one field made without seeing each other; `loser` was not applied.
    Field {
        field: String,
        winner: FieldEdit,
        loser: FieldEdit,
    },
    /// A deletion that did not take effect because of edits its author had not seen.
    DeleteOverridden { tombstone: Tombstone },
}

impl MutableRecord {
    pub fn new(kind: EntityKind) -> Self {
        Self {
            kind,
            fields: BTreeMap::new(),
            tombstones: Vec::new(),
        }
    }

    /// Rebuilds a record from stored parts, in any order and with duplicates.
    pub fn from_parts(
        kind: EntityKind,
        edits: impl IntoIterator<Item = (String, FieldEdit)>,
        tombstones: impl IntoIterator<Item = Tombstone>,
    ) -> Self {
        let mut r = Self::new(kind);
        for (field, edit) in edits {
            insert_sorted(r.fields.entry(field).or_default(), edit, FieldEdit::stamp);
        }
        for t in tombstones {
            insert_sorted(&mut r.tombstones, t, Tombstone::stamp);
        }
        r
    }

    /// Every edit, per field, sorted by stamp.
    pub fn fields(&self) -> &BTreeMap<String, Vec<FieldEdit>> {
        &self.fields
    }

    /// Every tombstone, sorted by stamp.
    pub fn tombstones(&self) -> &[Tombstone] {
        &self.tombstones
    }

    /// Adds a change's edits. Applying the same change twice changes nothing.
    pub fn apply(&mut self, change: &Change) -> Result<(), MergeError> {
        if change.kind != self.kind {
            return Err(MergeError::KindMismatch {
                id: change.id,
                existing: self.kind,
                incoming: change.kind,
            });
        }
        if change.tombstone {
            let t = Tombstone {
                hlc: change.hlc,
                device: change.device,
                author: change.author,
                seen: change.base.clone(),
            };
            insert_sorted(&mut self.tombstones, t, Tombstone::stamp);
            return Ok(());
        }
        for (field, value) in &change.body {
            let edit = FieldEdit {
                value: value.clone(),
                hlc: change.hlc,
                device: change.device,
                author: change.author,
                base: change.base.get(field).copied(),
            };
            insert_sorted(
                self.fields.entry(field.clone()).or_default(),
                edit,
                FieldEdit::stamp,
            );
        }
        Ok(())
    }

    /// Takes out every edit and tombstone of one change (a change the server refused for
    /// good, or one about to be re-stamped). Returns true when something was removed.
    pub fn remove(&mut self, stamp: Stamp) -> bool {
        let mut removed = false;
        for edits in self.fields.values_mut() {
            let before = edits.len();
            edits.retain(|e| e.stamp() != stamp);
            removed |= edits.len() != before;
        }
        self.fields.retain(|_, edits| !edits.is_empty());
        let before = self.tombstones.len();
        self.tombstones.retain(|t| t.stamp() != stamp);
        removed || self.tombstones.len() != before
    }

    /// Adds everything another replica's copy of this record holds.
    pub fn merge(&mut self, other: &MutableRecord) -> Result<(), MergeError> {
        if other.kind != self.kind {
            return Err(MergeError::KindMismatch {
                id: RecordId(uuid::Uuid::nil()),
                existing: self.kind,
                incoming: other.kind,
            });
        }
        for (field, edits) in &other.fields {
            let mine = self.fields.entry(field.clone()).or_default();
            for e in edits {
                insert_sorted(mine, e.clone(), FieldEdit::stamp);
            }
        }
        for t in &other.tombstones {
            insert_sorted(&mut self.tombstones, t.clone(), Tombstone::stamp);
        }
        Ok(())
    }

    /// The winning edit of a field: the greatest stamp, or on a forward-only field the
    /// furthest value (then the greatest stamp).
    pub fn winner(&self, field: &str) -> Option<&FieldEdit> {
        let edits = self.fields.get(field)?;
        match self.kind.forward_only_rank(field) {
            None => edits.iter().max_by_key(|e| e.stamp()),
            Some(rank) => edits.iter().max_by(|a, b| cmp_ranked(rank, a, b)),
        }
    }

    /// The current value of every field.
    pub fn values(&self) -> serde_json::Map<String, Value> {
        self.fields
            .keys()
            .filter_map(|f| self.winner(f).map(|w| (f.clone(), w.value.clone())))
            .collect()
    }

    /// The stamp of every field's winning edit: the `base` of a tombstone made now, and the
    /// source of the `base` of an edit made now.
    pub fn seen_clock(&self) -> BTreeMap<String, Stamp> {
        self.fields
            .keys()
            .filter_map(|f| self.winner(f).map(|w| (f.clone(), w.stamp())))
            .collect()
    }

    /// The stamp an edit of `field` made now should name as its base.
    pub fn base_for(&self, field: &str) -> Option<Stamp> {
        self.winner(field).map(FieldEdit::stamp)
    }

    /// Whether the tombstone's author saw every field's winning edit. On a last-writer-wins
    /// field, a winner no newer than the stamp the author saw was seen (the author's own
    /// winner was at least as new, so it is that very edit). On a forward-only field the
    /// winner is chosen by progress, not by stamp, so only the very same stamp counts.
    fn tombstone_holds(&self, t: &Tombstone) -> bool {
        self.fields
            .keys()
            .all(|f| match (self.winner(f), t.seen.get(f)) {
                (Some(w), Some(seen)) if self.kind.forward_only_rank(f).is_some() => {
                    w.stamp() == *seen
                }
                (Some(w), Some(seen)) => w.stamp() <= *seen,
                (Some(_), None) => false,
                (None, _) => true,
            })
    }

    /// Deleted when some tombstone saw every field's winning edit.
    pub fn is_deleted(&self) -> bool {
        self.tombstones.iter().any(|t| self.tombstone_holds(t))
    }

    /// The conflicts this record holds, in a deterministic order. A deleted record keeps
    /// its field conflicts: a value that lost without being seen stays visible even when the
    /// record was then deleted. A forward-only field has none (progress is not a
    /// disagreement: "done" after a concurrent "received" is simply further along).
    pub fn conflicts(&self, record: RecordId) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (field, edits) in &self.fields {
            if self.kind.forward_only_rank(field).is_some() {
                continue;
            }
            let Some(winner) = self.winner(field) else {
                continue;
            };
            for loser in edits {
                let answered = edits.iter().any(|e| e.base == Some(loser.stamp()));
                if loser.stamp() != winner.stamp() && loser.value != winner.value && !answered {
                    out.push(Conflict {
                        record,
                        kind: self.kind,
                        conflict: ConflictKind::Field {
                            field: field.clone(),
                            winner: winner.clone(),
                            loser: loser.clone(),
                        },
                    });
                }
            }
        }
        let deleted = self.is_deleted();
        for t in self.tombstones.iter().filter(|_| !deleted) {
            out.push(Conflict {
                record,
                kind: self.kind,
                conflict: ConflictKind::DeleteOverridden {
                    tombstone: t.clone(),
                },
            });
        }
        out
    }
}

fn cmp_ranked(rank: fn(&Value) -> Option<u8>, a: &FieldEdit, b: &FieldEdit) -> Ordering {
    // Unknown values rank below every known one; the stamp breaks ties.
    let ra = rank(&a.value).map_or(0, |r| u16::from(r) + 1);
    let rb = rank(&b.value).map_or(0, |r| u16::from(r) + 1);
    ra.cmp(&rb).then_with(|| a.stamp().cmp(&b.stamp()))
}

/// Inserts keeping the vector sorted by `key` and free of duplicate keys. Two different
/// elements under one key (a device that reused a stamp after a restore) keep the smaller
/// one by its JSON form, so the result does not depend on arrival order.
fn insert_sorted<T: Serialize, K: Ord>(v: &mut Vec<T>, item: T, key: impl Fn(&T) -> K) {
    match v.binary_search_by(|probe| key(probe).cmp(&key(&item))) {
        Ok(pos) => {
            let existing = serde_json::to_string(&v[pos]).unwrap_or_default();
            let incoming = serde_json::to_string(&item).unwrap_or_default();
            if incoming < existing {
                v[pos] = item;
            }
        }
        Err(pos) => v.insert(pos, item),
    }
}

//! Per-field merge of mutable records (household, person, pregnancy, referral).

use crate::change::Change;
use crate::entity::EntityKind;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId};
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
    /// The stamp of the value the author saw and replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Hlc>,
}

impl FieldEdit {
    fn stamp(&self) -> (Hlc, DeviceId) {
        (self.hlc, self.device)
    }
}

/// A deletion of a mutable record, with the field stamps its author saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub hlc: Hlc,
    pub device: DeviceId,
    pub seen: BTreeMap<String, Hlc>,
}

/// The merged state of one mutable record: every edit it has received, per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutableRecord {
    pub kind: EntityKind,
    /// Edits per field, sorted by `(hlc, device)`, without duplicates.
    pub fields: BTreeMap<String, Vec<FieldEdit>>,
    /// Sorted by `(hlc, device)`, without duplicates.
    pub tombstones: Vec<Tombstone>,
}

/// A value that lost without anyone having seen it, kept for a supervisor to review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub record: RecordId,
    pub kind: EntityKind,
    pub conflict: ConflictKind,
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

    /// Adds a change's edits. Applying the same change twice changes nothing.
    pub fn apply(&mut self, change: &Change) {
        if change.tombstone {
            let t = Tombstone {
                hlc: change.hlc,
                device: change.device,
                seen: change.base.clone(),
            };
            insert_sorted(&mut self.tombstones, t, |t| (t.hlc, t.device));
            return;
        }
        for (field, value) in &change.body {
            let edit = FieldEdit {
                value: value.clone(),
                hlc: change.hlc,
                device: change.device,
                base: change.base.get(field).copied(),
            };
            insert_sorted(
                self.fields.entry(field.clone()).or_default(),
                edit,
                FieldEdit::stamp,
            );
        }
    }

    /// Adds everything another replica's copy of this record holds.
    pub fn merge(&mut self, other: &MutableRecord) {
        for (field, edits) in &other.fields {
            let mine = self.fields.entry(field.clone()).or_default();
            for e in edits {
                insert_sorted(mine, e.clone(), FieldEdit::stamp);
            }
        }
        for t in &other.tombstones {
            insert_sorted(&mut self.tombstones, t.clone(), |t| (t.hlc, t.device));
        }
    }

    /// The winning edit of a field.
    pub fn winner(&self, field: &str) -> Option<&FieldEdit> {
        let edits = self.fields.get(field)?;
        match self.kind.forward_only_rank(field) {
            None => edits.last(),
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
    pub fn seen_clock(&self) -> BTreeMap<String, Hlc> {
        self.fields
            .keys()
            .filter_map(|f| self.winner(f).map(|w| (f.clone(), w.hlc)))
            .collect()
    }

    fn tombstone_holds(&self, t: &Tombstone) -> bool {
        self.fields
            .keys()
            .all(|f| match (self.winner(f), t.seen.get(f)) {
                (Some(w), Some(seen)) => w.hlc <= *seen,
                (Some(_), None) => false,
                (None, _) => true,
            })
    }

    /// Deleted when some tombstone saw every field's winning edit.
    pub fn is_deleted(&self) -> bool {
        self.tombstones.iter().any(|t| self.tombstone_holds(t))
    }

    /// The conflicts this record holds, in a deterministic order.
    pub fn conflicts(&self, record: RecordId) -> Vec<Conflict> {
        let mut out = Vec::new();
        for (field, edits) in &self.fields {
            let Some(winner) = self.winner(field) else {
                continue;
            };
            for loser in edits {
                let answered = edits.iter().any(|e| e.base == Some(loser.hlc));
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
        if !self.is_deleted() {
            for t in &self.tombstones {
                out.push(Conflict {
                    record,
                    kind: self.kind,
                    conflict: ConflictKind::DeleteOverridden {
                        tombstone: t.clone(),
                    },
                });
            }
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

/// Inserts keeping the vector sorted by `key` and free of duplicate keys. On a duplicate key
/// the existing element is kept (a duplicate delivery of the same change carries the same data).
fn insert_sorted<T, K: Ord>(v: &mut Vec<T>, item: T, key: impl Fn(&T) -> K) {
    match v.binary_search_by(|probe| key(probe).cmp(&key(&item))) {
        Ok(_) => {}
        Err(pos) => v.insert(pos, item),
    }
}

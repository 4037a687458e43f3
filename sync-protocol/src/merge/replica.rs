//! An in-memory replica: the reference implementation of the merge rules.

use super::{Conflict, FactRecord, MutableRecord};
use crate::change::{Body, Change, EnvelopeError};
use crate::entity::{Class, EntityKind};
use crate::ids::{DeviceId, RecordId};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Mutable(MutableRecord),
    Fact(FactRecord),
}

impl Record {
    pub fn kind(&self) -> EntityKind {
        match self {
            Record::Mutable(m) => m.kind,
            Record::Fact(f) => f.kind,
        }
    }
}

/// What [`Replica::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    New,
    /// This device and sequence number were applied before, with the same content.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("device {device} used sequence number {seq} for two different changes")]
    SeqReused { device: DeviceId, seq: u64 },
    #[error("record {id} is a {existing}, not a {incoming}")]
    KindMismatch {
        id: RecordId,
        existing: EntityKind,
        incoming: EntityKind,
    },
    #[error("invalid change envelope: {0}")]
    Envelope(#[from] EnvelopeError),
}

/// What a person sees of a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum RecordView {
    Mutable {
        kind: EntityKind,
        values: Body,
        deleted: bool,
    },
    Fact {
        kind: EntityKind,
        body: Option<Body>,
        deleted: bool,
        supersedes: Option<RecordId>,
        /// Live facts that correct this one.
        superseded_by: Vec<RecordId>,
    },
}

/// A replica: the changes it has received and the records they make. It is the reference
/// model of the rules; stores use [`admit`] and the record types directly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replica {
    log: BTreeMap<(DeviceId, u64), Change>,
    records: BTreeMap<RecordId, Record>,
}

/// Decides what to do with an incoming change given the stored change with the same
/// `(device, seq)`, if any: the check every store makes before merging.
pub fn admit(stored: Option<&Change>, incoming: &Change) -> Result<Applied, MergeError> {
    incoming.check_envelope()?;
    match stored {
        None => Ok(Applied::New),
        Some(seen) if seen.same_content(incoming) => Ok(Applied::Duplicate),
        Some(_) => Err(MergeError::SeqReused {
            device: incoming.device,
            seq: incoming.seq,
        }),
    }
}

impl Replica {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one change. Duplicates (same device, sequence number and content) are no-ops.
    pub fn apply(&mut self, change: &Change) -> Result<Applied, MergeError> {
        if admit(self.log.get(&change.origin()), change)? == Applied::Duplicate {
            return Ok(Applied::Duplicate);
        }
        let record = match self.records.get_mut(&change.id) {
            Some(r) if r.kind() != change.kind => {
                return Err(MergeError::KindMismatch {
                    id: change.id,
                    existing: r.kind(),
                    incoming: change.kind,
                });
            }
            Some(r) => r,
            None => self
                .records
                .entry(change.id)
                .or_insert_with(|| match change.kind.class() {
                    Class::Mutable => Record::Mutable(MutableRecord::new(change.kind)),
                    Class::Fact => Record::Fact(FactRecord::new(change.kind)),
                }),
        };
        match record {
            Record::Mutable(m) => m.apply(change)?,
            Record::Fact(f) => f.apply(change)?,
        }
        self.log.insert(change.origin(), change.clone());
        Ok(Applied::New)
    }

    /// Receives every change another replica holds (a sync in both directions is two calls).
    /// A change that cannot be applied is skipped and reported; the others are applied.
    pub fn merge_from(&mut self, other: &Replica) -> Vec<MergeError> {
        other
            .log
            .values()
            .filter_map(|c| self.apply(c).err())
            .collect()
    }

    /// Takes out a change this replica made and the server refused for good.
    pub fn remove(&mut self, origin: (DeviceId, u64)) -> bool {
        let Some(change) = self.log.remove(&origin) else {
            return false;
        };
        match self.records.get_mut(&change.id) {
            Some(Record::Mutable(m)) => m.remove(change.stamp()),
            Some(Record::Fact(f)) => f.remove(change.stamp()),
            None => false,
        }
    }

    /// Every change this replica holds, by origin.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.log.values()
    }

    pub fn record(&self, id: &RecordId) -> Option<&Record> {
        self.records.get(id)
    }

    /// The highest sequence number received from a device (gaps not considered).
    pub fn max_seq(&self, device: DeviceId) -> u64 {
        self.log
            .range((device, 0)..=(device, u64::MAX))
            .next_back()
            .map_or(0, |((_, seq), _)| *seq)
    }

    /// What a person sees: each record's current values, deletions and corrections.
    pub fn view(&self) -> BTreeMap<RecordId, RecordView> {
        let mut superseded_by: BTreeMap<RecordId, Vec<RecordId>> = BTreeMap::new();
        for (id, r) in &self.records {
            if let Record::Fact(f) = r
                && let Some(target) = f.supersedes
                && !f.is_deleted()
            {
                superseded_by.entry(target).or_default().push(*id);
            }
        }
        self.records
            .iter()
            .map(|(id, r)| {
                let view = match r {
                    Record::Mutable(m) => RecordView::Mutable {
                        kind: m.kind,
                        values: m.values(),
                        deleted: m.is_deleted(),
                    },
                    Record::Fact(f) => RecordView::Fact {
                        kind: f.kind,
                        body: f.body.clone(),
                        deleted: f.is_deleted(),
                        supersedes: f.supersedes,
                        superseded_by: superseded_by.remove(id).unwrap_or_default(),
                    },
                };
                (*id, view)
            })
            .collect()
    }

    /// Every conflict, in a deterministic order.
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.records
            .iter()
            .filter_map(|(id, r)| match r {
                Record::Mutable(m) => Some(m.conflicts(*id)),
                Record::Fact(_) => None,
            })
            .flatten()
            .collect()
    }
}

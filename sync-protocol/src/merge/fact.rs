//! Append-only facts (visits, measurements, immunisations, ...).

use crate::change::{Body, Change};
use crate::entity::EntityKind;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId};
use serde::{Deserialize, Serialize};

/// The merged state of one fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactRecord {
    pub kind: EntityKind,
    /// The fact as first made; `None` while only its tombstone has arrived.
    pub body: Option<Body>,
    /// Who made it, and when.
    pub made: Option<(Hlc, DeviceId)>,
    pub supersedes: Option<RecordId>,
    /// Stamps of the tombstones that hide this fact (sorted, no duplicates).
    pub tombstones: Vec<(Hlc, DeviceId)>,
}

impl FactRecord {
    pub fn new(kind: EntityKind) -> Self {
        Self {
            kind,
            body: None,
            made: None,
            supersedes: None,
            tombstones: Vec::new(),
        }
    }

    /// Adds a change. A fact never changes once made: when two different bodies arrive for
    /// one id (a buggy or malicious device; the server refuses the second), the one with the
    /// smaller stamp is kept on every replica, so replicas still agree.
    pub fn apply(&mut self, change: &Change) {
        let stamp = (change.hlc, change.device);
        if change.tombstone {
            if let Err(pos) = self.tombstones.binary_search(&stamp) {
                self.tombstones.insert(pos, stamp);
            }
            return;
        }
        if self.made.is_none_or(|made| stamp < made) {
            self.body = Some(change.body.clone());
            self.made = Some(stamp);
            self.supersedes = change.supersedes;
        }
    }

    /// Adds everything another replica's copy holds.
    pub fn merge(&mut self, other: &FactRecord) {
        for t in &other.tombstones {
            if let Err(pos) = self.tombstones.binary_search(t) {
                self.tombstones.insert(pos, *t);
            }
        }
        if let (Some(theirs), Some(body)) = (other.made, &other.body)
            && self.made.is_none_or(|mine| theirs < mine)
        {
            self.body = Some(body.clone());
            self.made = Some(theirs);
            self.supersedes = other.supersedes;
        }
    }

    /// A tombstone always wins over a fact: the fact cannot have changed since its author saw it.
    pub fn is_deleted(&self) -> bool {
        !self.tombstones.is_empty()
    }
}

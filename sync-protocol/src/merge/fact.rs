//! Append-only facts (visits, measurements, immunisations, ...).

use super::MergeError;
use crate::change::{Body, Change};
use crate::entity::EntityKind;
use crate::ids::{RecordId, UserId};
use crate::stamp::Stamp;
use serde::{Deserialize, Serialize};

/// One version of a fact: what decides which of two versions of one fact id every replica
/// keeps.
#[derive(Debug, Clone, Copy)]
pub struct FactVersion<'a> {
    pub stamp: Stamp,
    pub body: &'a Body,
    pub supersedes: Option<RecordId>,
}

impl FactVersion<'_> {
    /// True when this version is kept over `other`: the smaller stamp, then the body with
    /// more fields (under one stamp, a body with fewer fields is the copy an older protocol
    /// was served, its newer schema's fields left out: `schema::downgrade`), then the smaller
    /// JSON of `(body, supersedes)`. A total order, so the choice does not depend on arrival.
    pub fn precedes(&self, other: &FactVersion<'_>) -> bool {
        if self.stamp != other.stamp {
            return self.stamp < other.stamp;
        }
        if self.body.len() != other.body.len() {
            return self.body.len() > other.body.len();
        }
        let json = |v: &FactVersion<'_>| {
            serde_json::to_vec(&(&Some(v.body), &v.supersedes)).unwrap_or_default()
        };
        json(self) < json(other)
    }
}

/// The merged state of one fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactRecord {
    pub kind: EntityKind,
    /// The fact as made; `None` while only its tombstone has arrived.
    pub body: Option<Body>,
    /// Who made it, and when.
    pub made: Option<Stamp>,
    pub author: Option<UserId>,
    pub supersedes: Option<RecordId>,
    /// Stamps of the tombstones that hide this fact (sorted, no duplicates).
    pub tombstones: Vec<Stamp>,
}

impl FactRecord {
    pub fn new(kind: EntityKind) -> Self {
        Self {
            kind,
            body: None,
            made: None,
            author: None,
            supersedes: None,
            tombstones: Vec::new(),
        }
    }

    /// Adds a change. A fact never changes once made. Should two different bodies arrive
    /// for one id (a faulty device; the server refuses the second with `fact_immutable`,
    /// and the device removes a refused change from its own state), every replica keeps the
    /// one with the smaller stamp, then the smaller canonical JSON: the result does not
    /// depend on arrival order.
    pub fn apply(&mut self, change: &Change) -> Result<(), MergeError> {
        if change.kind != self.kind {
            return Err(MergeError::KindMismatch {
                id: change.id,
                existing: self.kind,
                incoming: change.kind,
            });
        }
        let stamp = change.stamp();
        if change.tombstone {
            if let Err(pos) = self.tombstones.binary_search(&stamp) {
                self.tombstones.insert(pos, stamp);
            }
            return Ok(());
        }
        let incoming = FactVersion {
            stamp,
            body: &change.body,
            supersedes: change.supersedes,
        };
        let replace = self.version().is_none_or(|kept| incoming.precedes(&kept));
        if replace {
            self.body = Some(change.body.clone());
            self.made = Some(stamp);
            self.author = Some(change.author);
            self.supersedes = change.supersedes;
        }
        Ok(())
    }

    /// Takes out one change (refused by the server for good). Returns true when removed.
    pub fn remove(&mut self, stamp: Stamp) -> bool {
        let before = self.tombstones.len();
        self.tombstones.retain(|t| *t != stamp);
        let mut removed = self.tombstones.len() != before;
        if self.made == Some(stamp) {
            self.body = None;
            self.made = None;
            self.author = None;
            self.supersedes = None;
            removed = true;
        }
        removed
    }

    /// Adds everything another replica's copy holds.
    pub fn merge(&mut self, other: &FactRecord) -> Result<(), MergeError> {
        if other.kind != self.kind {
            return Err(MergeError::KindMismatch {
                id: RecordId(uuid::Uuid::nil()),
                existing: self.kind,
                incoming: other.kind,
            });
        }
        for t in &other.tombstones {
            if let Err(pos) = self.tombstones.binary_search(t) {
                self.tombstones.insert(pos, *t);
            }
        }
        if let (Some(theirs), Some(body)) = (other.made, &other.body) {
            let incoming = FactVersion {
                stamp: theirs,
                body,
                supersedes: other.supersedes,
            };
            let replace = self.version().is_none_or(|kept| incoming.precedes(&kept));
            if replace {
                self.body = Some(body.clone());
                self.made = Some(theirs);
                self.author = other.author;
                self.supersedes = other.supersedes;
            }
        }
        Ok(())
    }

    /// The version this replica keeps, once the fact itself has arrived.
    pub fn version(&self) -> Option<FactVersion<'_>> {
        Some(FactVersion {
            stamp: self.made?,
            body: self.body.as_ref()?,
            supersedes: self.supersedes,
        })
    }

    /// A tombstone always wins over a fact: the fact cannot have changed since its author saw it.
    pub fn is_deleted(&self) -> bool {
        !self.tombstones.is_empty()
    }
}

//! The change envelope: one edit of one record, as it travels between device and server.

use crate::entity::{Class, EntityKind};
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields of a record, or the changed fields of a mutable record.
pub type Body = serde_json::Map<String, serde_json::Value>;

/// One change. For a fact, `body` is the whole fact. For a mutable record, `body` holds only
/// the fields this edit sets, and `base` names, per field, the stamp of the value the author
/// saw and replaced (absent when the field had no value). For a tombstone of a mutable
/// record, `base` is the author's whole view of the record's field stamps: the tombstone wins
/// over exactly the edits it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The record this change is about (UUIDv7, made on the device that created the record).
    pub id: RecordId,
    pub kind: EntityKind,
    /// The device that made this change.
    pub device: DeviceId,
    /// The device's sequence number for this change: 1, 2, 3, ... with no gaps.
    pub seq: u64,
    pub hlc: Hlc,
    /// The user who was logged in when the change was made.
    pub author: UserId,
    /// Version of the body schema for this kind.
    pub schema: u16,
    #[serde(default, skip_serializing_if = "is_false")]
    pub tombstone: bool,
    /// For a fact that corrects another: the fact it supersedes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<RecordId>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub base: BTreeMap<String, Hlc>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub body: Body,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Change {
    /// The key that makes a push idempotent.
    pub fn origin(&self) -> (DeviceId, u64) {
        (self.device, self.seq)
    }

    /// Checks the envelope's own consistency (not the body's schema).
    pub fn check_envelope(&self) -> Result<(), EnvelopeError> {
        if self.seq == 0 {
            return Err(EnvelopeError::ZeroSeq);
        }
        if self.id.0.get_version_num() != 7 {
            return Err(EnvelopeError::NotUuidV7);
        }
        match self.kind.class() {
            Class::Fact => {
                if !self.base.is_empty() {
                    return Err(EnvelopeError::BaseOnFact);
                }
                if self.tombstone && (!self.body.is_empty() || self.supersedes.is_some()) {
                    return Err(EnvelopeError::TombstoneWithBody);
                }
                if !self.tombstone && self.body.is_empty() {
                    return Err(EnvelopeError::EmptyBody);
                }
                if self.supersedes == Some(self.id) {
                    return Err(EnvelopeError::SupersedesItself);
                }
            }
            Class::Mutable => {
                if self.supersedes.is_some() {
                    return Err(EnvelopeError::SupersedesOnMutable);
                }
                if self.tombstone && !self.body.is_empty() {
                    return Err(EnvelopeError::TombstoneWithBody);
                }
                if !self.tombstone && self.body.is_empty() {
                    return Err(EnvelopeError::EmptyBody);
                }
                if !self.tombstone && self.base.keys().any(|k| !self.body.contains_key(k)) {
                    return Err(EnvelopeError::BaseWithoutField);
                }
            }
        }
        Ok(())
    }
}

/// An envelope that contradicts itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the device sequence number must start at 1")]
    ZeroSeq,
    #[error("record ids must be UUID version 7")]
    NotUuidV7,
    #[error("a fact never has a base: facts are not edited")]
    BaseOnFact,
    #[error("only facts can supersede another record")]
    SupersedesOnMutable,
    #[error("a fact cannot supersede itself")]
    SupersedesItself,
    #[error("a tombstone carries no body")]
    TombstoneWithBody,
    #[error("a change that is not a tombstone must carry a body")]
    EmptyBody,
    #[error("the base names a field the change does not set")]
    BaseWithoutField,
}

impl EnvelopeError {
    /// The field of the envelope at fault.
    pub fn field(self) -> &'static str {
        match self {
            EnvelopeError::ZeroSeq => "seq",
            EnvelopeError::NotUuidV7 => "id",
            EnvelopeError::BaseOnFact | EnvelopeError::BaseWithoutField => "base",
            EnvelopeError::SupersedesOnMutable | EnvelopeError::SupersedesItself => "supersedes",
            EnvelopeError::TombstoneWithBody | EnvelopeError::EmptyBody => "body",
        }
    }
}

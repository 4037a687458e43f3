//! The change envelope: one edit of one record, as it travels between device and server.

use crate::entity::{Class, EntityKind};
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId, UserId};
use crate::stamp::Stamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fields of a record, or the changed fields of a mutable record.
pub type Body = serde_json::Map<String, serde_json::Value>;

/// One change. For a fact, `body` is the whole fact. For a mutable record, `body` holds only
/// the fields this edit sets, and `base` names, per field, the stamp (HLC and device) of the
/// value the author saw and replaced (absent when the field had no value). For a tombstone of
/// a mutable record, `base` is the author's whole view of the record's field stamps: the
/// tombstone wins over exactly the edits it saw.
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
    pub base: BTreeMap<String, Stamp>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub body: Body,
}

/// The largest sequence number: 2^53, the top of the integer range every JSON reader keeps
/// exactly (the spec's integer range). A change above it is refused (`invalid_envelope`).
pub const MAX_SEQ: u64 = 1 << 53;

/// The most entries in a change's `base` (a tombstone's base names every field of its record;
/// the largest kind has fewer than 20 fields).
pub const MAX_BASE_ENTRIES: usize = 64;

/// The longest field name in a body or a base, in bytes.
pub const MAX_FIELD_NAME_BYTES: usize = 64;

fn is_false(b: &bool) -> bool {
    !*b
}

fn canonicalise_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && n.as_i64().is_none()
                && n.as_u64().is_none()
                && f.fract() == 0.0
                && f.abs() < 9.007_199_254_740_992e15
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(canonicalise_numbers),
        Value::Object(o) => o.values_mut().for_each(canonicalise_numbers),
        _ => {}
    }
}

impl Change {
    /// The key that makes a push idempotent.
    pub fn origin(&self) -> (DeviceId, u64) {
        (self.device, self.seq)
    }

    /// The stamp of this change's edits.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            hlc: self.hlc,
            device: self.device,
        }
    }

    /// The canonical JSON form that decides whether two changes with the same
    /// `(device, seq)` are the same change: keys sorted, no whitespace, every number that is
    /// a whole number written without fraction or exponent (so `100`, `100.0` and `1e2` are
    /// one value), other numbers in their shortest round-trip form.
    pub fn canonical_json(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        canonicalise_numbers(&mut value);
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// True when both are the same change by [`Self::canonical_json`].
    pub fn same_content(&self, other: &Change) -> bool {
        self == other || self.canonical_json() == other.canonical_json()
    }

    /// Checks the envelope's own consistency (not the body's schema).
    pub fn check_envelope(&self) -> Result<(), EnvelopeError> {
        if self.seq == 0 {
            return Err(EnvelopeError::ZeroSeq);
        }
        if self.seq > MAX_SEQ {
            return Err(EnvelopeError::SeqTooLarge);
        }
        if self.base.len() > MAX_BASE_ENTRIES
            || self
                .base
                .keys()
                .any(|k| k.is_empty() || k.len() > MAX_FIELD_NAME_BYTES)
        {
            return Err(EnvelopeError::BaseTooLarge);
        }
        if self.id.0.get_version_num() != 7 {
            return Err(EnvelopeError::NotUuidV7);
        }
        if self.supersedes.is_some_and(|s| s.0.get_version_num() != 7) {
            return Err(EnvelopeError::SupersedesNotUuidV7);
        }
        if self.base.values().any(|b| b.hlc >= self.hlc) {
            return Err(EnvelopeError::BaseNotBefore);
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
    #[error("the device sequence number is above 2^53")]
    SeqTooLarge,
    #[error("the base names more than 64 fields, or a field name longer than 64 bytes")]
    BaseTooLarge,
    #[error("record ids must be UUID version 7")]
    NotUuidV7,
    #[error("a fact never has a base: facts are not edited")]
    BaseOnFact,
    #[error("only facts can supersede another record")]
    SupersedesOnMutable,
    #[error("a fact cannot supersede itself")]
    SupersedesItself,
    #[error("the superseded record id must be UUID version 7")]
    SupersedesNotUuidV7,
    #[error("a tombstone carries no body")]
    TombstoneWithBody,
    #[error("a change that is not a tombstone must carry a body")]
    EmptyBody,
    #[error("the base names a field the change does not set")]
    BaseWithoutField,
    #[error("a base stamp must be earlier than the change's own stamp")]
    BaseNotBefore,
}

impl EnvelopeError {
    /// The field of the envelope at fault.
    pub fn field(self) -> &'static str {
        match self {
            EnvelopeError::ZeroSeq | EnvelopeError::SeqTooLarge => "seq",
            EnvelopeError::NotUuidV7 => "id",
            EnvelopeError::BaseOnFact
            | EnvelopeError::BaseTooLarge
            | EnvelopeError::BaseWithoutField
            | EnvelopeError::BaseNotBefore => "base",
            EnvelopeError::SupersedesOnMutable
            | EnvelopeError::SupersedesItself
            | EnvelopeError::SupersedesNotUuidV7 => "supersedes",
            EnvelopeError::TombstoneWithBody | EnvelopeError::EmptyBody => "body",
        }
    }
}

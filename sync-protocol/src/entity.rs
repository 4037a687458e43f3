//! Entity kinds and their class: facts (append-only) or mutable records (merged per field).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the records of a kind merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Append-only: union by record id. A correction is a new fact naming the one it
    /// supersedes; a tombstone hides a fact entered in error.
    Fact,
    /// Merged per field by HLC, with the device id as tie-break; concurrent edits of one
    /// field leave a conflict that keeps the losing value.
    Mutable,
}

/// Every kind of record that travels between devices and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    // Mutable records.
    Household,
    Person,
    Pregnancy,
    Referral,
    // Facts.
    PosyanduSession,
    Visit,
    Measurement,
    Immunisation,
    Supplement,
    Screening,
    AncContact,
    ReferralEvent,
    Note,
    /// Links two records of one person registered twice; neither is deleted.
    PersonMerge,
    /// A supervisor's decision on a conflict.
    ConflictReview,
    /// Two persons found alike (a likely duplicate) who are NOT the same person: the pair is
    /// not proposed again. `first` < `second` as strings (canonical pair order).
    DuplicateDismissal,
}

impl EntityKind {
    pub const ALL: [EntityKind; 16] = [
        EntityKind::Household,
        EntityKind::Person,
        EntityKind::Pregnancy,
        EntityKind::Referral,
        EntityKind::PosyanduSession,
        EntityKind::Visit,
        EntityKind::Measurement,
        EntityKind::Immunisation,
        EntityKind::Supplement,
        EntityKind::Screening,
        EntityKind::AncContact,
        EntityKind::ReferralEvent,
        EntityKind::Note,
        EntityKind::PersonMerge,
        EntityKind::ConflictReview,
        EntityKind::DuplicateDismissal,
    ];

    pub fn class(self) -> Class {
        match self {
            EntityKind::Household
            | EntityKind::Person
            | EntityKind::Pregnancy
            | EntityKind::Referral => Class::Mutable,
            _ => Class::Fact,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Household => "household",
            EntityKind::Person => "person",
            EntityKind::Pregnancy => "pregnancy",
            EntityKind::Referral => "referral",
            EntityKind::PosyanduSession => "posyandu_session",
            EntityKind::Visit => "visit",
            EntityKind::Measurement => "measurement",
            EntityKind::Immunisation => "immunisation",
            EntityKind::Supplement => "supplement",
            EntityKind::Screening => "screening",
            EntityKind::AncContact => "anc_contact",
            EntityKind::ReferralEvent => "referral_event",
            EntityKind::Note => "note",
            EntityKind::PersonMerge => "person_merge",
            EntityKind::ConflictReview => "conflict_review",
            EntityKind::DuplicateDismissal => "duplicate_dismissal",
        }
    }

    /// Fields whose values only move forward along a fixed order (a lattice), instead of
    /// last-writer-wins. Returns the rank of a value, or `None` for an unknown value.
    pub fn forward_only_rank(self, field: &str) -> Option<fn(&serde_json::Value) -> Option<u8>> {
        match (self, field) {
            (EntityKind::Referral, "status") => Some(referral_status_rank),
            _ => None,
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The states of a referral (rujukan), in the only order they may take.
pub const REFERRAL_STATUSES: [&str; 3] = ["made", "received", "done"];

fn referral_status_rank(v: &serde_json::Value) -> Option<u8> {
    let s = v.as_str()?;
    REFERRAL_STATUSES
        .iter()
        .position(|x| *x == s)
        .and_then(|i| u8::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for k in EntityKind::ALL {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::String(k.as_str().into()))
            );
        }
    }

    #[test]
    fn referral_status_is_the_only_forward_only_field() {
        let rank = EntityKind::Referral.forward_only_rank("status");
        assert!(rank.is_some());
        if let Some(rank) = rank {
            assert_eq!(rank(&serde_json::json!("made")), Some(0));
            assert_eq!(rank(&serde_json::json!("done")), Some(2));
            assert_eq!(rank(&serde_json::json!("lost")), None);
        }
        assert!(EntityKind::Person.forward_only_rank("status").is_none());
    }
}

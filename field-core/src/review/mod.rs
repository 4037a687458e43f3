//! Tinjauan (issue #17): what waits for a decision on this tablet, and the decisions.
//!
//! - **Conflicts** ([`Store::review_conflicts`], `conflicts.rs`): two tablets changed one
//!   field without seeing each other; both values with who, which tablet and when, and for a
//!   clinical field (a child's birth date or sex, a pregnancy's HPHT) what each value changes.
//!   Decided by [`Store::resolve_conflict`] (keep, take the other, or a corrected value).
//! - **Likely duplicates** ([`Store::duplicate_pairs`], `duplicates.rs`): pairs found on the
//!   tablet (same NIK; same name by spelling key, birth date and mother: the registration
//!   check) and pairs the district server found across posyandu (cached from
//!   `GET /v1/records/duplicates`), minus dismissed pairs and merged persons. Compared side
//!   by side ([`Store::compare_pair`]); decided by [`Store::merge_same_person`] or
//!   [`Store::dismiss_duplicate`].
//! - **Data problems** ([`Store::data_problems`]): the "periksa data" tasks, each with the
//!   form that corrects it.
//!
//! Who decides: merging and reviewing a conflict are a bidan's or perawat's (an admin's too,
//! as on the server); a kader sees and dismisses the likely duplicates of her own area and
//! corrects data problems, and sees no conflicts (the sync panel tells her they wait for the
//! bidan). The server refuses the same (`server/src/sync.rs`, `check_role`).

mod conflicts;
mod duplicates;

pub use conflicts::{ConflictSide, Resolution, ReviewConflict};
pub use duplicates::{
    DuplicatePair, PairComparison, PairField, PairHousehold, PairSide, PairSource, PersonBrief,
    ServerPair,
};

use crate::error::Result;
use crate::messages::{Key, invalid};
use crate::store::Store;
use serde::Serialize;

/// The roles whose decisions merge persons and close conflicts (the server's rule).
pub const SUPERVISOR_ROLES: [&str; 4] = ["bidan", "perawat", "puskesmas_admin", "dinas_admin"];

/// How many items wait in each section of Tinjauan, for Beranda's badge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReviewCounts {
    pub conflicts: u64,
    pub duplicates: u64,
    pub problems: u64,
    pub total: u64,
    /// Whether the unlocked user may merge and review conflicts (else: dismiss and correct).
    pub supervisor: bool,
}

impl Store {
    /// Whether the unlocked user is a bidan, perawat or admin ([`SUPERVISOR_ROLES`]).
    pub fn is_supervisor(&self) -> bool {
        SUPERVISOR_ROLES.contains(&self.user().role.as_str())
    }

    /// Refuses a decision a kader may not take, as the server would (`forbidden_role`).
    pub(crate) fn require_supervisor(&self, field: &str) -> Result<()> {
        if self.is_supervisor() {
            Ok(())
        } else {
            Err(invalid(field, Key::SupervisorOnly, &[]).into())
        }
    }

    /// The counts of the three sections for the unlocked user.
    pub fn review_counts(&self) -> Result<ReviewCounts> {
        let conflicts = self.review_conflicts()?.len() as u64;
        let duplicates = self.duplicate_pairs()?.len() as u64;
        let problems = self.data_problems()?.len() as u64;
        Ok(ReviewCounts {
            conflicts,
            duplicates,
            problems,
            total: conflicts + duplicates + problems,
            supervisor: self.is_supervisor(),
        })
    }

    /// The "periksa data" tasks of the user's area: records health-rules could not use
    /// (implausible values, impossible dates, a weight that jumps), each naming the form that
    /// corrects it (the person's record, where a fact is corrected by a new one that
    /// supersedes it).
    #[cfg(feature = "health")]
    pub fn data_problems(&self) -> Result<Vec<crate::health::DueEntry>> {
        self.due_list(&crate::health::DueFilter {
            groups: vec![records::DueGroup::CheckData],
            ..Default::default()
        })
    }

    /// Without the `health` feature no rule runs, so nothing is flagged.
    #[cfg(not(feature = "health"))]
    pub fn data_problems(&self) -> Result<Vec<()>> {
        Ok(Vec::new())
    }
}

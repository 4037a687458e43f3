//! Merge rules. Every replica (each device, the server) that has received the same set of
//! changes, in any order, with any duplicates, holds the same state: merging is commutative,
//! associative and idempotent (tested as properties in `tests/convergence.rs`).
//!
//! - **Facts** ([`FactRecord`]) are append-only and union by record id. A correction is a new
//!   fact that names the fact it supersedes; a tombstone hides a fact entered in error.
//! - **Mutable records** ([`MutableRecord`]) merge per field: the edit with the greatest
//!   `(hlc, device)` wins, except on forward-only fields (a referral's status), where the
//!   furthest value wins. A losing edit that nobody saw (no later edit names it as its base)
//!   and whose value differs from the winner's is a [`Conflict`]: kept for review, not lost.
//! - **Tombstones** of mutable records win over the edits they saw (the field stamps in their
//!   base) and not over edits they did not see; a record kept alive that way reports a
//!   [`ConflictKind::DeleteOverridden`] conflict.
//!
//! [`Replica`] is an in-memory reference replica: the device store and the server implement
//! the same rules over their tables by calling [`MutableRecord`] and [`FactRecord`].

mod fact;
mod mutable;
mod replica;

pub use fact::{FactRecord, FactVersion};
pub use mutable::{Conflict, ConflictKind, FieldEdit, MutableRecord, Tombstone};
pub use replica::{Applied, MergeError, Record, RecordView, Replica, admit};

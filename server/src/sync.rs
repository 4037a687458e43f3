//! The push algorithm, shared by both storage backends: every change of a batch is checked
//! (identity, idempotency, clock, schema, kind, fact immutability, role, scope) against what
//! the database holds plus what the batch itself settled before it, and gets one outcome.
//!
//! # Who may write what (role × kind)
//!
//! | role                          | may write                                                  |
//! |-------------------------------|------------------------------------------------------------|
//! | kader                         | household, person, pregnancy, posyandu_session, visit,     |
//! |                               | measurement, immunisation, supplement, screening,          |
//! |                               | anc_contact, note; a referral or referral_event only with  |
//! |                               | status `made` (the kader refers; a health worker receives) |
//! | bidan, perawat                | every kind                                                 |
//! | puskesmas_admin, dinas_admin  | note, person_merge, conflict_review (supervision only;     |
//! |                               | admins read every record of their area)                    |
//!
//! `person_merge` and `conflict_review` are supervisors' decisions: bidan, perawat and admins.
//! Every role reads every kind inside its scope.
//!
//! # Scope
//! Every record names its posyandu (`posyandu`, a place code): facts in every body, mutable
//! records in the change that creates them; the server remembers each record's posyandu. A
//! change is in scope when that posyandu is at or below the user's scope place. An edit that
//! moves a record to another posyandu must be in scope at both ends.

use crate::model::{RecordInfo, Settled};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, Outcome, RecordId, RejectCode, Rejection, Role,
    UserId,
};

/// Who pushes, and what they may touch.
#[derive(Debug, Clone)]
pub struct PushContext {
    pub device: DeviceId,
    pub user: UserId,
    pub role: Role,
    /// The posyandu codes inside the user's scope.
    pub scope_posyandu: HashSet<String>,
    pub now_ms: u64,
    /// Dates after this (`YYYY-MM-DD`) are in the future.
    pub today: String,
    pub clock: ClockPolicy,
}

/// A change with its stored form computed once, before any transaction opens.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub change: Change,
    /// Compact JSON of the change, stored and served as is.
    pub payload: String,
    /// SHA-256 of `payload`: the content a (device, seq) settled with.
    pub hash: Vec<u8>,
}

impl Prepared {
    pub fn new(change: Change) -> Self {
        let payload = serde_json::to_string(&change).unwrap_or_default();
        // The content a (device, seq) settles with is the protocol's canonical form, so a
        // re-sent change that differs only in key order or number spelling is a duplicate.
        let hash = Sha256::digest(change.canonical_json()).to_vec();
        Self {
            change,
            payload,
            hash,
        }
    }
}

/// SHA-256 of a fact's content (body and what it supersedes), in canonical form: the same
/// fact re-sent by another device or under another stamp hashes the same.
pub fn fact_hash(change: &Change) -> Vec<u8> {
    let content = Change {
        id: change.id,
        kind: change.kind,
        device: DeviceId(uuid::Uuid::nil()),
        seq: 1,
        hlc: sync_protocol::Hlc::ZERO,
        author: UserId(uuid::Uuid::nil()),
        schema: change.schema,
        tombstone: false,
        supersedes: change.supersedes,
        base: Default::default(),
        body: change.body.clone(),
    };
    Sha256::digest(content.canonical_json()).to_vec()
}

/// A settled row to write.
#[derive(Debug, Clone)]
pub struct SettledRow {
    pub seq: u64,
    pub hash: Vec<u8>,
    /// JSON of the final rejection, or none when accepted.
    pub rejection: Option<String>,
}

/// A change-log row to write (the payload is `prepared[index].payload`).
#[derive(Debug, Clone)]
pub struct LogRow {
    pub index: usize,
    pub posyandu: String,
}

/// Everything a batch writes, decided before writing.
#[derive(Debug, Default)]
pub struct Plan {
    pub outcomes: Vec<Outcome>,
    pub settled: Vec<SettledRow>,
    pub log: Vec<LogRow>,
    /// Records created or whose posyandu moved (upsert by id).
    pub records: Vec<(RecordId, RecordInfo)>,
}

/// The answer to a push, plus what the metrics need.
#[derive(Debug, Clone, Default)]
pub struct PushResult {
    pub outcomes: Vec<Outcome>,
    pub acked_seq: u64,
    /// HLC wall times of the changes accepted now (for the sync-lag metric).
    pub accepted_wall_ms: Vec<u64>,
}

/// Decides every change of a batch. `settled` holds what the database has for this device's
/// sequence numbers in the batch, `records` what it has for the record ids in the batch.
pub fn plan(
    ctx: &PushContext,
    batch: &[Prepared],
    mut settled: HashMap<u64, Settled>,
    mut records: HashMap<RecordId, RecordInfo>,
) -> Plan {
    let mut plan = Plan::default();
    for (index, p) in batch.iter().enumerate() {
        let c = &p.change;
        // A change of another device is not this device's to settle: refuse, store nothing.
        if c.device != ctx.device {
            plan.outcomes.push(Outcome::rejected(
                c.seq,
                Rejection::new(
                    RejectCode::IdentityMismatch,
                    "the change names another device than the one logged in",
                    Some("device"),
                ),
            ));
            continue;
        }
        if let Some(prev) = settled.get(&c.seq) {
            let outcome = if prev.hash != p.hash {
                Outcome::rejected(
                    c.seq,
                    Rejection::new(
                        RejectCode::SeqReused,
                        "this sequence number was already used for another change",
                        Some("seq"),
                    ),
                )
            } else {
                match &prev.rejection {
                    None => Outcome::duplicate(c.seq),
                    Some(r) => Outcome::rejected(c.seq, r.clone()),
                }
            };
            plan.outcomes.push(outcome);
            continue;
        }
        match decide(ctx, c, records.get(&c.id)) {
            Ok((posyandu, record)) => {
                plan.outcomes.push(Outcome::accepted(c.seq));
                plan.settled.push(SettledRow {
                    seq: c.seq,
                    hash: p.hash.clone(),
                    rejection: None,
                });
                settled.insert(
                    c.seq,
                    Settled {
                        hash: p.hash.clone(),
                        rejection: None,
                    },
                );
                plan.log.push(LogRow { index, posyandu });
                if let Some(info) = record {
                    records.insert(c.id, info.clone());
                    plan.records.push((c.id, info));
                }
            }
            Err(rejection) => {
                if !rejection.code.is_retryable() {
                    plan.settled.push(SettledRow {
                        seq: c.seq,
                        hash: p.hash.clone(),
                        rejection: serde_json::to_string(&rejection).ok(),
                    });
                    settled.insert(
                        c.seq,
                        Settled {
                            hash: p.hash.clone(),
                            rejection: Some(rejection.clone()),
                        },
                    );
                }
                plan.outcomes.push(Outcome::rejected(c.seq, rejection));
            }
        }
    }
    plan
}

/// The checks of one change. On success: the posyandu the change is logged under, and the
/// record index row to write (when the record is new or moves).
fn decide(
    ctx: &PushContext,
    c: &Change,
    existing: Option<&RecordInfo>,
) -> Result<(String, Option<RecordInfo>), Rejection> {
    if c.author != ctx.user {
        return Err(Rejection::new(
            RejectCode::IdentityMismatch,
            "the change names another author than the user logged in",
            Some("author"),
        ));
    }
    if let Err(e) = ctx.clock.check_remote(c.hlc, ctx.now_ms) {
        return Err(Rejection::new(
            RejectCode::ClockAhead,
            e.to_string(),
            Some("hlc"),
        ));
    }
    if let Some(rec) = existing
        && rec.kind != c.kind
    {
        return Err(Rejection::new(
            RejectCode::KindMismatch,
            format!("record {} is a {}, not a {}", c.id, rec.kind, c.kind),
            Some("kind"),
        ));
    }
    let is_fact = c.kind.class() == sync_protocol::Class::Fact;
    let creates = existing.is_none();
    sync_protocol::schema::validate(c, creates, &ctx.today)?;
    if c.tombstone && existing.is_none() {
        return Err(Rejection::new(
            RejectCode::InvalidBody,
            "a tombstone names a record the server does not know",
            Some("id"),
        ));
    }
    let fact_hash_now = (is_fact && !c.tombstone).then(|| fact_hash(c));
    if let (Some(rec), Some(h)) = (existing, &fact_hash_now)
        && rec.fact_hash.as_ref().is_some_and(|old| old != h)
    {
        return Err(Rejection::new(
            RejectCode::FactImmutable,
            "a fact with this id exists with another content: facts are never edited",
            Some("body"),
        ));
    }
    check_role(ctx.role, c)?;
    let body_posyandu = c
        .body
        .get("posyandu")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let out_of_scope = |place: &str| {
        Rejection::new(
            RejectCode::OutOfScope,
            format!("posyandu {place} is outside the area of this user"),
            Some("posyandu"),
        )
    };
    let posyandu = match (existing, body_posyandu) {
        (Some(rec), Some(new)) => {
            if !ctx.scope_posyandu.contains(&rec.posyandu) {
                return Err(out_of_scope(&rec.posyandu));
            }
            new
        }
        (Some(rec), None) => rec.posyandu.clone(),
        (None, Some(new)) => new,
        (None, None) => {
            return Err(Rejection::new(
                RejectCode::InvalidBody,
                "a new record must name its posyandu",
                Some("posyandu"),
            ));
        }
    };
    if !ctx.scope_posyandu.contains(&posyandu) {
        return Err(out_of_scope(&posyandu));
    }
    let record = match existing {
        None => Some(RecordInfo {
            kind: c.kind,
            posyandu: posyandu.clone(),
            fact_hash: fact_hash_now,
        }),
        Some(rec) if rec.posyandu != posyandu => Some(RecordInfo {
            posyandu: posyandu.clone(),
            ..rec.clone()
        }),
        Some(_) => None,
    };
    Ok((posyandu, record))
}

/// The role × kind write rules (see the module documentation).
pub fn check_role(role: Role, c: &Change) -> Result<(), Rejection> {
    use EntityKind as K;
    let forbidden = |why: &str| {
        Err(Rejection::new(
            RejectCode::ForbiddenRole,
            format!("a {} may not {why}", crate::model::role_str(role)),
            Some("kind"),
        ))
    };
    let status = c.body.get("status").and_then(serde_json::Value::as_str);
    match role {
        Role::Bidan | Role::Perawat => Ok(()),
        Role::PuskesmasAdmin | Role::DinasAdmin => match c.kind {
            K::Note | K::PersonMerge | K::ConflictReview => Ok(()),
            k => forbidden(&format!("write a {k}: admins only supervise")),
        },
        Role::Kader => match c.kind {
            K::PersonMerge | K::ConflictReview => {
                forbidden(&format!("write a {}: a bidan or perawat decides", c.kind))
            }
            K::Referral | K::ReferralEvent if status.is_some_and(|s| s != "made") => {
                Err(Rejection::new(
                    RejectCode::ForbiddenRole,
                    "a kader may only make a referral; a health worker receives and closes it",
                    Some("status"),
                ))
            }
            _ => Ok(()),
        },
    }
}

/// The highest `n >= acked` such that every seq in `acked+1..=n` is settled. `settled_after`
/// holds the settled seqs above `acked`, in ascending order.
pub fn advance_acked(acked: u64, settled_after: impl IntoIterator<Item = u64>) -> u64 {
    let mut acked = acked;
    for s in settled_after {
        if s == acked + 1 {
            acked = s;
        } else if s > acked + 1 {
            break;
        }
    }
    acked
}

/// The pull cursor: opaque to clients, `s` and the last server sequence sent.
pub fn encode_cursor(sseq: i64) -> String {
    format!("s{sseq}")
}

/// `None` for a cursor this server did not make.
pub fn decode_cursor(cursor: Option<&str>) -> Option<i64> {
    match cursor {
        None => Some(0),
        Some(s) => s
            .strip_prefix('s')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acked_advances_over_contiguous_seqs_only() {
        assert_eq!(advance_acked(0, [1, 2, 3, 5]), 3);
        assert_eq!(advance_acked(3, [5, 6]), 3);
        assert_eq!(advance_acked(3, [4, 5, 7]), 5);
        assert_eq!(advance_acked(0, []), 0);
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        assert_eq!(decode_cursor(Some(&encode_cursor(42))), Some(42));
        assert_eq!(decode_cursor(None), Some(0));
        for bad in ["", "s", "s-1", "42", "sx", "s99999999999999999999"] {
            assert_eq!(decode_cursor(Some(bad)), None, "{bad}");
        }
    }
}

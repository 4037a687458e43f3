//! The push algorithm, shared by both storage backends: every change of a batch is checked
//! (identity, idempotency, clock, schema, kind, fact immutability, role, scope) against what
//! the database holds plus what the batch itself settled before it, and gets one outcome.
//!
//! # Who may write and delete what (role × kind × action)
//!
//! | role                          | may write                                                  |
//! |-------------------------------|------------------------------------------------------------|
//! | kader                         | household, person, pregnancy, posyandu_session, visit,     |
//! |                               | measurement, immunisation, supplement, screening,          |
//! |                               | anc_contact, note, duplicate_dismissal; a referral or      |
//! |                               | referral_event only with status `made` (the kader refers;  |
//! |                               | a health worker receives)                                  |
//! | bidan, perawat                | every kind                                                 |
//! | puskesmas_admin, dinas_admin  | note, person_merge, conflict_review, duplicate_dismissal   |
//! |                               | (supervision only;                                         |
//! |                               | admins read every record of their area)                    |
//!
//! A deletion (tombstone) needs the right to write the kind, and a kader deletes only what a
//! kader created (never a health worker's or an admin's record or fact), and a referral only
//! while its status is `made` (once a health worker received it, it is theirs). The table
//! in `docs/sync-protocol.md` §5 ("Who may write and delete what") states the same, and the
//! server's access tests check it against the rules.
//!
//! `person_merge` and `conflict_review` are supervisors' decisions: bidan, perawat and admins.
//! A `duplicate_dismissal` ("these two are not the same person") a kader may also write for
//! persons of her own area (the scope check of `first` and `second`): it changes no record,
//! only stops the pair being proposed, and the kader knows her families best; a merge or a
//! review chooses what the record says and stays with the health worker.
//! Every role reads every kind inside its scope.
//!
//! # Author
//! A change's `author` may be another user who has logged in on the pushing device (a shared
//! tablet carries the changes of every user who unlocked it), but only for a change stamped
//! while that author was the one logged in on the device: the server keeps each login of a
//! device with the device's HLC at that login ([`Login`]), and the author of a stamp `h` is the
//! user of the last login below `h` ([`login_owner`]). Role and scope are checked against the
//! author, never the session's user. The storage looks the other authors of a batch up once
//! per batch ([`other_authors`], [`Authors`]). An author who never logged in on the device,
//! or whose account is disabled, gets `identity_mismatch` (field `author`, final). A change of
//! another author stamped outside her windows gets `awaits_author` (not final): the device
//! keeps it and pushes it in a session of its author, whose own changes are always hers.
//!
//! # Scope
//! Every record names its posyandu (`posyandu`, a place code): facts in every body, mutable
//! records in the change that creates them; the server remembers each record's posyandu. A
//! change is in scope when that posyandu is at or below the author's scope place, and so is
//! every record it points at: the body's references (`person`, `household`, `mother`,
//! `visit`, `session`, `pregnancy`, `referral`, `kept`, `merged`, `record`: every field of
//! type [`sync_protocol::schema::FieldType::Ref`]) and `supersedes`. A reference to a record
//! the server does not know (not stored, not created earlier in the batch) is accepted: it
//! names nothing of another area (ids are random), and refusing it for good would lose a
//! fact whose target still waits in an outbox (`awaits_author`, `clock_ahead`).
//! A record's posyandu never changes by an edit (`invalid_value`): a person who moves is
//! registered again in the new posyandu, marked `moved`, and linked by a `person_merge`.

use crate::model::{RecordInfo, Settled};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, Hlc, Outcome, RecordId, RejectCode, Rejection, Role,
    Scope, UserId,
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

/// What the database says of an author other than the session's user.
#[derive(Debug, Clone)]
pub enum AuthorInfo {
    /// Logged in on this device at least once, and enabled.
    Active {
        role: Role,
        /// The posyandu codes inside the author's scope.
        scope_posyandu: Arc<HashSet<String>>,
    },
    /// Logged in on this device, but the account is disabled now.
    Disabled,
}

/// The other authors of a batch who have logged in on the device; an author missing here
/// never did.
pub type Authors = HashMap<UserId, AuthorInfo>;

/// The distinct authors of the batch's changes of this device, other than the session's
/// user: the ones the storage must look up (none in the usual one-user batch).
pub fn other_authors(ctx: &PushContext, batch: &[Prepared]) -> Vec<UserId> {
    let mut seen = HashSet::new();
    batch
        .iter()
        .map(|p| &p.change)
        .filter(|c| c.device == ctx.device && c.author != ctx.user)
        .filter(|c| seen.insert(c.author))
        .map(|c| c.author)
        .collect()
}

/// A change with its stored form computed once, before any transaction opens.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub change: Change,
    /// Compact JSON of the change, stored and served as is.
    pub payload: String,
    /// SHA-256 of `payload`: the content a (device, seq) settled with.
    pub hash: Vec<u8>,
    /// The checks that need no database, made before the writer is taken
    /// ([`Prepared::checked`]); absent, [`plan`] makes them itself.
    pub checks: Option<Checks>,
}

/// What [`plan`] checks of a change without the database, computed ahead
/// ([`Prepared::checked`]) so that the storage's single writer only decides what depends on
/// the stored state.
#[derive(Debug, Clone)]
pub struct Checks {
    /// The day the checks bounded dates with ([`PushContext::today`]).
    today: String,
    /// `schema::validate` of the change as an edit of a stored record.
    as_edit: Result<(), Rejection>,
    /// The same as the change that creates its record, where that differs: a mutable
    /// record's change that is not a tombstone (a fact is always complete, a tombstone has
    /// no body to complete).
    as_creation: Option<Result<(), Rejection>>,
    /// [`fact_hash`] of a fact that is not a tombstone.
    fact_hash: Option<Vec<u8>>,
}

impl Checks {
    /// The checks of `change` for a push on `today`. Its size is `json_len`, its payload's
    /// length (not serialised again); `fact_hash` is its [`fact_hash`] when it is a fact
    /// that is not a tombstone. A mutable record's change is validated as an edit only when
    /// its validation as a creation fails: a creation is checked for everything an edit is,
    /// and more (its required fields), so one that passes as a creation passes as an edit.
    fn of(change: &Change, json_len: usize, today: &str, fact_hash: Option<Vec<u8>>) -> Self {
        let validate = |creates: bool| match json_len {
            // An empty payload: the change did not serialise; measured (and refused) as
            // `validate` measures it.
            0 => sync_protocol::schema::validate(change, creates, today),
            len => sync_protocol::schema::validate_sized(change, creates, today, len),
        };
        let is_fact = change.kind.class() == sync_protocol::Class::Fact;
        let as_creation = (!is_fact && !change.tombstone).then(|| validate(true));
        let as_edit = match &as_creation {
            Some(Ok(())) => Ok(()),
            _ => validate(false),
        };
        Self {
            today: today.to_string(),
            as_edit,
            as_creation,
            fact_hash,
        }
    }

    /// `schema::validate(change, creates, today)`.
    fn validation(&self, creates: bool) -> &Result<(), Rejection> {
        match (&self.as_creation, creates) {
            (Some(r), true) => r,
            _ => &self.as_edit,
        }
    }
}

impl Prepared {
    pub fn new(change: Change) -> Self {
        Self::prepare(change, None)
    }

    /// As [`Prepared::new`], with the checks [`plan`] makes without the database (schema
    /// validation, the fact hash) made now, on the caller's thread, for a push of `ctx`.
    pub fn checked(change: Change, ctx: &PushContext) -> Self {
        Self::prepare(change, Some(&ctx.today))
    }

    /// The payload and the hash, and the checks for a push on `today` when given. The
    /// change is serialised once: its size is the payload's length, and both hashes take
    /// the body's text from the payload when it is the canonical text ([`canonical_body`]).
    fn prepare(change: Change, today: Option<&str>) -> Self {
        let payload = serde_json::to_string(&change).unwrap_or_default();
        let body = canonical_body(&change, &payload);
        let body = body.as_deref();
        // The content a (device, seq) settles with is the protocol's canonical form, so a
        // re-sent change that differs only in key order or number spelling is a duplicate.
        let hash = match body {
            Some(body) => hash_with_body(&change, false, body),
            None => canonical_hash(&change),
        };
        let checks = today.map(|today| {
            let is_fact = change.kind.class() == sync_protocol::Class::Fact;
            let fact = (is_fact && !change.tombstone).then(|| fact_hash_with(&change, body));
            Checks::of(&change, payload.len(), today, fact)
        });
        Self {
            change,
            payload,
            hash,
            checks,
        }
    }

    /// The body's compact JSON as it stands in [`Prepared::payload`] ([`body_in_payload`]).
    pub fn body_json(&self) -> Option<&str> {
        body_in_payload(&self.payload)
    }
}

/// The text of a change's `body` inside its compact JSON (`serde_json::to_string` of the
/// change): the same bytes as `serde_json::to_string(&change.body)`, found without
/// serialising the body again. `body` is the change's last field; the key is looked for at
/// the top level only (a `base` entry may be named `body` too). `None` when the change has
/// no body (it is left out then) or `payload` is not such a text.
pub fn body_in_payload(payload: &str) -> Option<&str> {
    const KEY: &[u8] = b"\"body\":";
    let bytes = payload.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' if depth == 1 && bytes[i..].starts_with(KEY) => {
                // A top-level string followed by `:` is a key; the body runs to the
                // change's closing brace.
                let body = payload.get(i + KEY.len()..payload.len().checked_sub(1)?)?;
                return (body.starts_with('{') && body.ends_with('}') && payload.ends_with('}'))
                    .then_some(body);
            }
            // A string: to its closing quote, the first one after it that an even run of
            // backslashes (none, or escaped backslashes) precedes (found a word at a time).
            b'"' => {
                let start = i + 1;
                let mut from = start;
                i = loop {
                    let quote = from + payload.get(from..)?.find('"')?;
                    let backslashes = bytes[start..quote]
                        .iter()
                        .rev()
                        .take_while(|&&c| c == b'\\')
                        .count();
                    if backslashes % 2 == 0 {
                        break quote;
                    }
                    from = quote + 1;
                };
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// SHA-256 of [`Change::canonical_json`], written straight from the change (no
/// `serde_json::Value` copy of it): the same bytes, checked against `canonical_json` by the
/// tests. Falls back to `canonical_json` itself should the direct form not serialise.
pub fn canonical_hash(change: &Change) -> Vec<u8> {
    hash_canonical(&canonical::Canonical::of(change), || {
        change.canonical_json()
    })
}

/// SHA-256 of a fact's content (body and what it supersedes), in canonical form: the same
/// fact re-sent by another device or under another stamp hashes the same.
pub fn fact_hash(change: &Change) -> Vec<u8> {
    let content = canonical::Canonical::fact(change);
    hash_canonical(&content, || fact_content(change).canonical_json())
}

/// What [`fact_hash`] hashes, as a change (the reference form: device, author and stamp
/// blanked, no base, never a tombstone).
fn fact_content(change: &Change) -> Change {
    Change {
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
    }
}

/// The canonical text of `change`'s body, written once for both hashes: its text in
/// `payload` (its compact JSON) when that is the canonical text, as it is unless a number in
/// it is a whole number written as a float (`100.0`), which the canonical form writes as an
/// integer; then the canonical text written on its own. `None` when the change has no body
/// or the payload is not its JSON.
fn canonical_body<'a>(change: &Change, payload: &'a str) -> Option<Cow<'a, str>> {
    let plain = body_in_payload(payload)?;
    if !change.body.values().any(canonical::rewrites) {
        return Some(Cow::Borrowed(plain));
    }
    canonical::body_text(&change.body).map(Cow::Owned)
}

/// [`fact_hash`], with the body's canonical text when it is at hand.
fn fact_hash_with(change: &Change, body: Option<&str>) -> Vec<u8> {
    match body {
        Some(body) => hash_with_body(change, true, body),
        None => fact_hash(change),
    }
}

/// SHA-256 of the canonical form of `change` ([`canonical_hash`]), or of its fact content
/// when `fact` ([`fact_hash`]), written key by key with `body` as the body's canonical text
/// ([`canonical_body`]) instead of serialising the body again. The keys in sorted order and
/// skipped where [`canonical::Canonical`] skips them; a fact's content has no base, a nil
/// device and author, a zero stamp, sequence 1 and no tombstone.
fn hash_with_body(change: &Change, fact: bool, body: &str) -> Vec<u8> {
    fn field<T: serde::Serialize + ?Sized>(
        h: &mut HashWriter,
        key: &[u8],
        value: &T,
    ) -> serde_json::Result<()> {
        h.0.update(key);
        serde_json::to_writer(&mut *h, value)
    }
    let nil_user = UserId(uuid::Uuid::nil());
    let nil_device = DeviceId(uuid::Uuid::nil());
    let mut h = HashWriter(Sha256::new());
    let written = (|| -> serde_json::Result<()> {
        field(
            &mut h,
            b"{\"author\":",
            if fact { &nil_user } else { &change.author },
        )?;
        if !fact && !change.base.is_empty() {
            field(&mut h, b",\"base\":", &change.base)?;
        }
        if !change.body.is_empty() {
            h.0.update(b",\"body\":");
            h.0.update(body.as_bytes());
        }
        field(
            &mut h,
            b",\"device\":",
            if fact { &nil_device } else { &change.device },
        )?;
        field(
            &mut h,
            b",\"hlc\":",
            &if fact { Hlc::ZERO } else { change.hlc },
        )?;
        field(&mut h, b",\"id\":", &change.id)?;
        field(&mut h, b",\"kind\":", &change.kind)?;
        field(&mut h, b",\"schema\":", &change.schema)?;
        field(&mut h, b",\"seq\":", &if fact { 1 } else { change.seq })?;
        if let Some(s) = &change.supersedes {
            field(&mut h, b",\"supersedes\":", s)?;
        }
        if !fact && change.tombstone {
            h.0.update(b",\"tombstone\":true");
        }
        h.0.update(b"}");
        Ok(())
    })();
    match written {
        Ok(()) => h.0.finalize().to_vec(),
        // As the direct form falls back (an HLC that does not serialise).
        Err(_) if fact => fact_hash(change),
        Err(_) => canonical_hash(change),
    }
}

fn hash_canonical(c: &canonical::Canonical<'_>, reference: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    let mut h = HashWriter(Sha256::new());
    match serde_json::to_writer(&mut h, c) {
        Ok(()) => h.0.finalize().to_vec(),
        Err(_) => Sha256::digest(reference()).to_vec(),
    }
}

/// Feeds serialised bytes straight into the hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The canonical form of a change ([`Change::canonical_json`]) as a borrowed view: the
/// envelope's keys in sorted order (what `serde_json::Value`'s sorted map gives), the body's
/// maps already sorted, whole numbers written as integers.
mod canonical {
    use serde::ser::{SerializeMap, SerializeSeq};
    use serde::{Serialize, Serializer};
    use std::collections::BTreeMap;
    use sync_protocol::stamp::Stamp;
    use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, UserId};

    const NIL_DEVICE: DeviceId = DeviceId(uuid::Uuid::nil());
    const NIL_USER: UserId = UserId(uuid::Uuid::nil());

    /// Keys in sorted order; skipped exactly where [`Change`]'s own `Serialize` skips.
    #[derive(Serialize)]
    pub(super) struct Canonical<'a> {
        author: &'a UserId,
        #[serde(skip_serializing_if = "no_base")]
        base: Option<&'a BTreeMap<String, Stamp>>,
        #[serde(skip_serializing_if = "no_body")]
        body: Body<'a>,
        device: &'a DeviceId,
        hlc: Hlc,
        id: &'a RecordId,
        kind: EntityKind,
        schema: u16,
        seq: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        supersedes: Option<RecordId>,
        #[serde(skip_serializing_if = "is_false")]
        tombstone: bool,
    }

    fn no_base(b: &Option<&BTreeMap<String, Stamp>>) -> bool {
        b.is_none_or(|b| b.is_empty())
    }

    fn no_body(b: &Body<'_>) -> bool {
        b.0.is_empty()
    }

    fn is_false(b: &bool) -> bool {
        !*b
    }

    impl<'a> Canonical<'a> {
        pub(super) fn of(c: &'a Change) -> Self {
            Self {
                author: &c.author,
                base: Some(&c.base),
                body: Body(&c.body),
                device: &c.device,
                hlc: c.hlc,
                id: &c.id,
                kind: c.kind,
                schema: c.schema,
                seq: c.seq,
                supersedes: c.supersedes,
                tombstone: c.tombstone,
            }
        }

        /// A fact's content (see `super::fact_content`).
        pub(super) fn fact(c: &'a Change) -> Self {
            Self {
                author: &NIL_USER,
                base: None,
                body: Body(&c.body),
                device: &NIL_DEVICE,
                hlc: Hlc::ZERO,
                id: &c.id,
                kind: c.kind,
                schema: c.schema,
                seq: 1,
                supersedes: c.supersedes,
                tombstone: false,
            }
        }
    }

    struct Body<'a>(&'a serde_json::Map<String, serde_json::Value>);

    /// The canonical text of a body alone: the bytes [`Canonical`] writes for its `body`.
    pub(super) fn body_text(body: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        serde_json::to_string(&Body(body)).ok()
    }

    impl Serialize for Body<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                m.serialize_entry(k, &Value(v))?;
            }
            m.end()
        }
    }

    /// A value with whole numbers as integers (`canonicalise_numbers` of sync-protocol).
    struct Value<'a>(&'a serde_json::Value);

    /// Whether a whole number written as a float is rewritten as an integer.
    fn whole_float(n: &serde_json::Number) -> bool {
        n.as_f64().is_some_and(|f| {
            n.as_i64().is_none()
                && n.as_u64().is_none()
                && f.fract() == 0.0
                && f.abs() < 9.007_199_254_740_992e15
        })
    }

    /// Whether the canonical form of `v` differs from its plain compact JSON (a whole
    /// number written as a float, anywhere in it).
    pub(super) fn rewrites(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => whole_float(n),
            serde_json::Value::Array(a) => a.iter().any(rewrites),
            serde_json::Value::Object(o) => o.values().any(rewrites),
            _ => false,
        }
    }

    impl Serialize for Value<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if whole_float(n) => s.serialize_i64(f as i64),
                    _ => n.serialize(s),
                },
                serde_json::Value::Array(a) => {
                    let mut seq = s.serialize_seq(Some(a.len()))?;
                    for v in a {
                        seq.serialize_element(&Value(v))?;
                    }
                    seq.end()
                }
                serde_json::Value::Object(o) => Body(o).serialize(s),
                other => other.serialize(s),
            }
        }
    }
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
/// sequence numbers in the batch, `records` what it has for [`referenced_ids`], `authors`
/// what it has for [`other_authors`], `logins` the device's logins (when there are other
/// authors; in any order).
pub fn plan(
    ctx: &PushContext,
    batch: &[Prepared],
    mut settled: HashMap<u64, Settled>,
    mut records: HashMap<RecordId, RecordInfo>,
    authors: &Authors,
    logins: &[Login],
) -> Plan {
    let mut logins = logins.to_vec();
    logins.sort_by_key(|l| (l.hlc, l.order));
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
        // A sequence number past 2^53 is outside the spec's integer range (and past what a
        // database integer keeps apart): refuse it, settle nothing under it.
        if c.seq > sync_protocol::schema::MAX_SEQ {
            plan.outcomes.push(Outcome::rejected(
                c.seq,
                Rejection::new(
                    RejectCode::InvalidEnvelope,
                    "the device sequence number is above 2^53",
                    Some("seq"),
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
        match decide(ctx, authors, &logins, p, &records) {
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
                if rejection.code.is_final() {
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

/// One login of a user on the device: the device's HLC at that login (clamped by the server,
/// see [`login_hlc`]) and its order of arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    pub user: UserId,
    pub hlc: Hlc,
    /// Increases with each login of the device (ties of `hlc` go to the later login).
    pub order: i64,
}

/// The user logged in on the device when the stamp `h` was issued: the user of the last
/// login below `h` (`logins` sorted by `(hlc, order)`). `None` before the first login.
pub fn login_owner(logins: &[Login], h: Hlc) -> Option<UserId> {
    logins
        .iter()
        .take_while(|l| l.hlc < h)
        .last()
        .map(|l| l.user)
}

/// The HLC recorded for a login: the device's own (`claimed`), never above the server's clock
/// (a device cannot stretch the window of the user before it into the future) nor below the
/// device's previous login (windows follow the order of logins). Without a claim (an older
/// app), the server's clock stands in.
pub fn login_hlc(claimed: Option<Hlc>, now_ms: u64, previous: Option<Hlc>) -> Hlc {
    let now = Hlc {
        wall_ms: now_ms.min(sync_protocol::hlc::MAX_WALL_MS),
        counter: 0,
    };
    let h = claimed.map_or(now, |c| c.min(now));
    previous.map_or(h, |p| h.max(p))
}

/// Every record id a batch names: the changes' own ids, what they supersede, and every
/// reference field of their bodies. The storage loads these records before [`plan`].
pub fn referenced_ids(batch: &[Prepared]) -> Vec<RecordId> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in batch {
        let c = &p.change;
        for id in std::iter::once(c.id)
            .chain(c.supersedes)
            .chain(body_refs(c).map(|(_, id)| id))
        {
            if seen.insert(id) {
                out.push(id);
            }
        }
    }
    out
}

/// The references of a change's body: `(field, id)` for every field of type `Ref` that holds
/// a record id.
fn body_refs(c: &Change) -> impl Iterator<Item = (&'static str, RecordId)> + '_ {
    sync_protocol::schema::fields(c.kind)
        .iter()
        .filter(|f| f.ty == sync_protocol::schema::FieldType::Ref)
        .filter_map(|f| {
            let s = c.body.get(f.name)?.as_str()?;
            let id = sync_protocol::ids::parse_canonical_uuid(s)?;
            Some((f.name, RecordId(id)))
        })
}

/// The checks of one change. On success: the posyandu the change is logged under, and the
/// record index row to write (when the record is new or its stored facts change).
fn decide(
    ctx: &PushContext,
    authors: &Authors,
    logins: &[Login],
    p: &Prepared,
    records: &HashMap<RecordId, RecordInfo>,
) -> Result<(String, Option<RecordInfo>), Rejection> {
    let c = &p.change;
    // Made ahead for this push's day, else now.
    let checks = p.checks.as_ref().filter(|k| k.today == ctx.today);
    let existing = records.get(&c.id);
    let (role, scope_posyandu) = if c.author == ctx.user {
        (ctx.role, &ctx.scope_posyandu)
    } else {
        match authors.get(&c.author) {
            Some(AuthorInfo::Active {
                role,
                scope_posyandu,
            }) => {
                if login_owner(logins, c.hlc) != Some(c.author) {
                    return Err(Rejection::new(
                        RejectCode::AwaitsAuthor,
                        "this change was not made while its author was logged in on this tablet: \
                         it waits for a sync by its author",
                        Some("author"),
                    ));
                }
                (*role, scope_posyandu.as_ref())
            }
            Some(AuthorInfo::Disabled) => {
                return Err(Rejection::new(
                    RejectCode::IdentityMismatch,
                    "the author's account is disabled",
                    Some("author"),
                ));
            }
            None => {
                return Err(Rejection::new(
                    RejectCode::IdentityMismatch,
                    "the author has never logged in on this device",
                    Some("author"),
                ));
            }
        }
    };
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
    match checks {
        Some(k) => k.validation(creates).clone()?,
        None => sync_protocol::schema::validate(c, creates, &ctx.today)?,
    }
    if c.tombstone && existing.is_none() {
        return Err(Rejection::new(
            RejectCode::InvalidBody,
            "a tombstone names a record the server does not know",
            Some("id"),
        ));
    }
    let fact_hash_now = (is_fact && !c.tombstone).then(|| {
        checks
            .and_then(|k| k.fact_hash.clone())
            .unwrap_or_else(|| fact_hash(c))
    });
    if let (Some(rec), Some(h)) = (existing, &fact_hash_now)
        && rec.fact_hash.as_ref().is_some_and(|old| old != h)
    {
        return Err(Rejection::new(
            RejectCode::FactImmutable,
            "a fact with this id exists with another content: facts are never edited",
            Some("body"),
        ));
    }
    check_role(role, c, existing)?;
    let out_of_scope = |place: &str, field: &str| {
        Rejection::new(
            RejectCode::OutOfScope,
            format!("posyandu {place} is outside the area of this user"),
            Some(field),
        )
    };
    let body_posyandu = c
        .body
        .get("posyandu")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let posyandu = match (existing, body_posyandu) {
        (Some(rec), _) => {
            if !scope_posyandu.contains(&rec.posyandu) {
                return Err(out_of_scope(&rec.posyandu, "posyandu"));
            }
            // A record stays where it was created (fact bodies never change anyway).
            sync_protocol::schema::check_area_unchanged(c, &rec.posyandu)?;
            rec.posyandu.clone()
        }
        (None, Some(new)) => new,
        (None, None) => {
            return Err(Rejection::new(
                RejectCode::InvalidBody,
                "a new record must name its posyandu",
                Some("posyandu"),
            ));
        }
    };
    if !scope_posyandu.contains(&posyandu) {
        return Err(out_of_scope(&posyandu, "posyandu"));
    }
    // Every record the change points at must lie in the author's area too.
    let refs = c
        .supersedes
        .map(|id| ("supersedes", id))
        .into_iter()
        .chain(body_refs(c));
    for (field, id) in refs {
        if let Some(target) = records.get(&id)
            && !scope_posyandu.contains(&target.posyandu)
        {
            return Err(Rejection::new(
                RejectCode::OutOfScope,
                format!(
                    "{field} names a {} of posyandu {}, outside the area of this user",
                    target.kind, target.posyandu
                ),
                Some(field),
            ));
        }
    }
    let status = c.body.get("status").and_then(serde_json::Value::as_str);
    let record = match existing {
        None => Some(RecordInfo {
            kind: c.kind,
            posyandu: posyandu.clone(),
            fact_hash: fact_hash_now,
            creator_role: Some(role),
            status: status.map(str::to_string),
        }),
        Some(rec) if c.kind == EntityKind::Referral && status.is_some() => {
            let furthest = furthest_status(rec.status.as_deref(), status);
            (furthest.as_deref() != rec.status.as_deref()).then(|| RecordInfo {
                status: furthest,
                ..rec.clone()
            })
        }
        Some(_) => None,
    };
    Ok((posyandu, record))
}

/// The further of two referral statuses (`made < received < done`; an unknown one ranks
/// below all).
fn furthest_status(a: Option<&str>, b: Option<&str>) -> Option<String> {
    let rank = |s: Option<&str>| -> i64 {
        s.and_then(|s| {
            sync_protocol::entity::REFERRAL_STATUSES
                .iter()
                .position(|x| *x == s)
        })
        .map_or(-1, |i| i64::try_from(i).unwrap_or(-1))
    };
    if rank(b) > rank(a) { b } else { a }.map(str::to_string)
}

/// The role × kind × action rules (see the module documentation): `existing` is the record a
/// tombstone deletes.
pub fn check_role(role: Role, c: &Change, existing: Option<&RecordInfo>) -> Result<(), Rejection> {
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
            K::Note | K::PersonMerge | K::ConflictReview | K::DuplicateDismissal => Ok(()),
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
            k if c.tombstone => match existing {
                Some(rec) if rec.creator_role.is_some_and(|r| r != Role::Kader) => forbidden(
                    &format!("delete a {k} a health worker or an admin recorded"),
                ),
                Some(rec) if rec.creator_role.is_none() => forbidden(&format!(
                    "delete a {k} whose author the server does not know; ask the bidan"
                )),
                Some(rec)
                    if matches!(k, K::Referral | K::ReferralEvent)
                        && rec.status.as_deref().is_some_and(|s| s != "made") =>
                {
                    forbidden(&format!(
                        "delete a {k} a health worker already received; ask the bidan"
                    ))
                }
                _ => Ok(()),
            },
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

/// Hex digits of the scope fingerprint in a cursor.
const FINGERPRINT_LEN: usize = 8;

/// A short fingerprint of a scope (level and place): the first 32 bits of SHA-256, hex.
pub fn scope_fingerprint(scope: &Scope) -> String {
    let d = Sha256::digest(
        format!("{}\n{}", crate::model::level_str(scope.level), scope.place).as_bytes(),
    );
    d.iter()
        .take(FINGERPRINT_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pull cursor: opaque to clients, `s`, the last server sequence sent, `.` and the
/// fingerprint of the scope it was issued under (`s1204.9f86d081`). A cursor of a peer of
/// protocol 1 that was sent part of a change only (schema 2 downgraded, or a newer kind
/// left out: `sync_protocol::schema::downgrade`) also names the first such server sequence,
/// `.p<n>` (`s1204.9f86d081.p1100`): once that device speaks protocol 2 (its app was
/// updated), its pull starts again just before it, so nothing it was not given is lost.
pub fn encode_cursor(sseq: i64, scope: &Scope) -> String {
    encode_cursor_partial(sseq, scope, None)
}

/// As [`encode_cursor`], with the first server sequence a protocol-1 peer got only in part.
pub fn encode_cursor_partial(sseq: i64, scope: &Scope, partial_from: Option<i64>) -> String {
    match partial_from {
        Some(p) => format!("s{sseq}.{}.p{p}", scope_fingerprint(scope)),
        None => format!("s{sseq}.{}", scope_fingerprint(scope)),
    }
}

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorPos {
    /// The last server sequence sent (0: from the start).
    pub after: i64,
    /// The first server sequence sent in part only to a protocol-1 peer.
    pub partial_from: Option<i64>,
}

impl CursorPos {
    /// Where a peer speaking `protocol` goes on: after the last sequence sent, or (protocol 2
    /// and later) just before the first change it was sent in part only.
    pub fn start_for(self, protocol: u16) -> i64 {
        match self.partial_from {
            Some(p) if protocol >= 2 => self.after.min(p.saturating_sub(1)).max(0),
            _ => self.after,
        }
    }
}

/// Where a pull (or status) starts for a user of `scope`: 0 for no cursor, for a cursor of
/// another scope (a user of another scope syncs on the device: the whole scope is sent
/// again) and for the old `s<n>` form, which names no scope. `None` for a cursor this
/// server did not make. The position a protocol-1 peer goes on from; see
/// [`decode_cursor_pos`].
pub fn decode_cursor(cursor: Option<&str>, scope: &Scope) -> Option<i64> {
    decode_cursor_pos(cursor, scope).map(|p| p.after)
}

/// Decodes a cursor with its partial mark (see [`encode_cursor`]).
pub fn decode_cursor_pos(cursor: Option<&str>, scope: &Scope) -> Option<CursorPos> {
    let from_start = CursorPos {
        after: 0,
        partial_from: None,
    };
    let Some(s) = cursor else {
        return Some(from_start);
    };
    let digits = |t: &str| {
        (!t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i64>().ok())
            .flatten()
    };
    let mut parts = s.strip_prefix('s')?.split('.');
    let n = digits(parts.next()?)?;
    let Some(f) = parts.next() else {
        return Some(from_start);
    };
    let partial_from = match parts.next() {
        None => None,
        Some(p) => Some(digits(p.strip_prefix('p')?)?),
    };
    if parts.next().is_some()
        || f.len() != FINGERPRINT_LEN
        || !f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    Some(if f == scope_fingerprint(scope) {
        CursorPos {
            after: n,
            partial_from,
        }
    } else {
        from_start
    })
}

/// One pull page as a peer speaking `protocol` is sent it: for protocol 1, every change of
/// body schema 2 downgraded to schema 1 (`sync_protocol::schema::downgrade`; left out when
/// nothing of it is schema 1). Returns the payloads and the first server sequence sent in
/// part only (for the cursor's mark), merged with the mark of the cursor the page started
/// from.
pub fn page_for_protocol(
    changes: Vec<(i64, String)>,
    protocol: u16,
    partial_from: Option<i64>,
) -> (Vec<(i64, String)>, Option<i64>) {
    let max_schema = sync_protocol::schema::max_schema_for_protocol(protocol);
    if max_schema >= sync_protocol::schema::SCHEMA_VERSION {
        return (changes, None);
    }
    let mut first_partial = partial_from;
    let mut out = Vec::with_capacity(changes.len());
    for (sseq, payload) in changes {
        // Cheap test first: a stored change of this schema is served as stored. The
        // envelope's `schema` is written before its body, so the first match is it.
        let stored_schema = payload
            .find("\"schema\":")
            .and_then(|at| payload.get(at + 9..))
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<u16>().ok());
        if stored_schema.is_some_and(|n| n <= max_schema) {
            out.push((sseq, payload));
            continue;
        }
        let change: Change = match serde_json::from_str(&payload) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(sseq, error = %e, "a stored change does not parse");
                continue;
            }
        };
        if change.schema <= max_schema {
            out.push((sseq, payload));
            continue;
        }
        first_partial = Some(first_partial.map_or(sseq, |p| p.min(sseq)));
        if let Some(down) = sync_protocol::schema::downgrade(&change, protocol)
            && let Ok(json) = serde_json::to_string(down.as_ref())
        {
            out.push((sseq, json));
        }
    }
    (out, first_partial)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change with `body` and the envelope's optional parts as asked.
    fn change_with(
        body: serde_json::Value,
        base: bool,
        supersedes: bool,
        tombstone: bool,
    ) -> Change {
        let dev = DeviceId(uuid::Uuid::now_v7());
        let mut base_map = std::collections::BTreeMap::new();
        if base {
            for f in ["name", "birth_date", "a\"quoted\u{e9}"] {
                base_map.insert(
                    f.to_string(),
                    sync_protocol::Stamp {
                        hlc: Hlc {
                            wall_ms: 1_700_000_000_123,
                            counter: 7,
                        },
                        device: dev,
                    },
                );
            }
        }
        Change {
            id: RecordId(uuid::Uuid::now_v7()),
            kind: EntityKind::Measurement,
            device: dev,
            seq: 42,
            hlc: Hlc {
                wall_ms: 1_700_000_000_999,
                counter: 3,
            },
            author: UserId(uuid::Uuid::now_v7()),
            schema: 2,
            tombstone,
            supersedes: supersedes.then(|| RecordId(uuid::Uuid::now_v7())),
            base: base_map,
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }

    /// The direct canonical hashes equal the reference (`Change::canonical_json` through a
    /// `serde_json::Value`), for whole numbers written as floats, nested values, escapes,
    /// empty and absent parts.
    #[test]
    fn canonical_hashes_equal_the_reference_form() {
        let bodies = [
            serde_json::json!({}),
            serde_json::json!({"weight_kg": 12.5, "posyandu": "53.04.01.2001.01", "date": "2026-01-02"}),
            serde_json::json!({"n": 100.0, "m": 1e2, "k": -3.0, "big": 9.007_199_254_740_993e15,
                "tiny": 1e-7, "neg0": -0.0, "u": 18_446_744_073_709_551_615u64, "i": -5}),
            serde_json::json!({"z": [1.0, 2.5, {"b": 3.0, "a": [4.0, null, true, "x"]}], "a": {"y": 2.0}}),
            serde_json::json!({"text": "kutip \" garis \\ baris\n tab\t \u{1} é 漢 😀"}),
            serde_json::json!({"flag": false, "none": null, "s": ""}),
        ];
        for body in bodies {
            for (base, supersedes, tombstone) in [
                (false, false, false),
                (true, false, false),
                (false, true, false),
                (true, true, true),
                (false, false, true),
            ] {
                let c = change_with(body.clone(), base, supersedes, tombstone);
                assert_eq!(
                    canonical_hash(&c),
                    Sha256::digest(c.canonical_json()).to_vec(),
                    "change {c:?}"
                );
                assert_eq!(
                    fact_hash(&c),
                    Sha256::digest(fact_content(&c).canonical_json()).to_vec(),
                    "fact {c:?}"
                );
                // The same, with the body taken from the payload where it can be.
                let p = Prepared::new(c.clone());
                assert_eq!(
                    p.hash,
                    Sha256::digest(c.canonical_json()).to_vec(),
                    "prepared {c:?}"
                );
                assert_eq!(
                    fact_hash_with(&c, canonical_body(&c, &p.payload).as_deref()),
                    Sha256::digest(fact_content(&c).canonical_json()).to_vec(),
                    "prepared fact {c:?}"
                );
            }
        }
    }

    /// The body is taken from the payload exactly when no number of it is rewritten by the
    /// canonical form, at any depth.
    #[test]
    fn the_payloads_body_is_canonical_unless_a_whole_float_is_in_it() {
        for (body, reused) in [
            (
                serde_json::json!({"a": 12.5, "b": 3, "c": -4, "d": 1e-7, "e": "1.0"}),
                true,
            ),
            (serde_json::json!({"a": 12.0}), false),
            (serde_json::json!({"a": [1, {"b": -0.0}]}), false),
            (serde_json::json!({"a": {"b": [2.5, 1e2]}}), false),
            (serde_json::json!({"big": 9.007_199_254_740_993e15}), true),
        ] {
            let c = change_with(body, false, false, false);
            let p = Prepared::new(c.clone());
            let text = canonical_body(&c, &p.payload);
            assert_eq!(
                matches!(text, Some(Cow::Borrowed(_))),
                reused,
                "{}",
                p.payload
            );
            // Either way, the body's text in the reference canonical form.
            let reference: serde_json::Value =
                serde_json::from_slice(&c.canonical_json()).expect("canonical JSON");
            assert_eq!(
                text.as_deref(),
                Some(reference["body"].to_string().as_str()),
                "{}",
                p.payload
            );
        }
        let tomb = change_with(serde_json::json!({}), true, false, true);
        assert!(canonical_body(&tomb, &Prepared::new(tomb.clone()).payload).is_none());
    }

    /// The size a change's validation measures is its payload's length.
    #[test]
    fn the_payloads_length_is_the_json_size() {
        for body in [
            serde_json::json!({"weight_kg": 12.5, "posyandu": "53.04.01.2001.01"}),
            serde_json::json!({"text": "kutip \" garis \\ baris\n 漢 😀", "n": 100.0}),
        ] {
            let c = change_with(body, true, true, false);
            assert_eq!(
                Prepared::new(c.clone()).payload.len(),
                sync_protocol::schema::json_size(&c)
            );
        }
    }

    /// A change whose HLC cannot be serialised hashes as the reference does (its fallback).
    #[test]
    fn an_unserialisable_change_hashes_as_the_reference() {
        let mut c = change_with(serde_json::json!({"a": 1}), false, false, false);
        c.hlc.wall_ms = u64::MAX;
        assert_eq!(
            canonical_hash(&c),
            Sha256::digest(c.canonical_json()).to_vec()
        );
    }

    /// The body found in the stored payload is the body's own compact JSON, for every kind
    /// of body and envelope (a `base` entry named `body` among them); no body, no text.
    #[test]
    fn the_body_in_a_payload_is_the_bodys_json() {
        let bodies = [
            serde_json::json!({"weight_kg": 12.5, "posyandu": "53.04.01.2001.01", "date": "2026-01-02"}),
            serde_json::json!({"n": 100.0, "m": 1e2, "k": -3.0, "tiny": 1e-7, "neg0": -0.0,
                "u": 18_446_744_073_709_551_615u64, "i": -5}),
            serde_json::json!({"z": [1.0, {"body": {"a": "}"}}], "body": "\"body\":{"}),
            serde_json::json!({"text": "kutip \" garis \\ baris\n \u{1} \u{7f} é 漢 😀 </script>"}),
            serde_json::json!({"a": "c:\\", "b": "\\\"", "c": "\\\\\"body\":{", "d": ["\\"]}),
        ];
        for body in bodies {
            for (base, supersedes, tombstone) in [
                (false, false, false),
                (true, true, false),
                (true, true, true),
            ] {
                let mut c = change_with(body.clone(), base, supersedes, tombstone);
                if base {
                    c.base.insert(
                        "body".into(),
                        sync_protocol::Stamp {
                            hlc: c.hlc,
                            device: c.device,
                        },
                    );
                }
                let p = Prepared::new(c.clone());
                assert!(p.payload.contains(",\"base\":") == base);
                let expected = serde_json::to_string(&c.body).unwrap_or_default();
                assert_eq!(p.body_json(), Some(expected.as_str()), "{}", p.payload);
            }
        }
        let empty = Prepared::new(change_with(serde_json::json!({}), true, false, true));
        assert_eq!(empty.body_json(), None, "{}", empty.payload);
        assert_eq!(body_in_payload(""), None);
        assert_eq!(body_in_payload("{\"a\":{\"body\":{}}}"), None);
        assert_eq!(body_in_payload("{\"body\":[1]}"), None);
    }

    /// `plan` decides every change the same whether the checks that need no database were
    /// made ahead (`Prepared::checked`, as the SQLite push does) or by `plan` itself: schema
    /// errors of a new and of a stored mutable record (required fields only for the new),
    /// facts, a changed fact's content, tombstones, and checks made for another day.
    #[test]
    fn checks_made_ahead_decide_as_plan_does() {
        let device = DeviceId(uuid::Uuid::now_v7());
        let user = UserId(uuid::Uuid::now_v7());
        let ctx = PushContext {
            device,
            user,
            role: Role::Bidan,
            scope_posyandu: ["53.04.01.2001.01".to_string()].into(),
            now_ms: 1_764_000_000_000,
            today: "2026-12-07".into(),
            clock: ClockPolicy::default(),
        };
        let mut seq = 0;
        let mut make = |kind: EntityKind, id: Option<RecordId>, body: serde_json::Value| {
            seq += 1;
            Change {
                id: id.unwrap_or_else(|| RecordId(uuid::Uuid::now_v7())),
                kind,
                device,
                seq,
                hlc: Hlc {
                    wall_ms: 1_763_999_000_000 + seq,
                    counter: 0,
                },
                author: user,
                schema: 2,
                tombstone: false,
                supersedes: None,
                base: Default::default(),
                body: body.as_object().cloned().unwrap_or_default(),
            }
        };
        let place = "53.04.01.2001.01";
        let stored_household = RecordId(uuid::Uuid::now_v7());
        let stored_fact = RecordId(uuid::Uuid::now_v7());
        let weight = |v: f64, date: &str| {
            serde_json::json!({"posyandu": place, "person": stored_household.to_string(),
                "type": "weight", "value": v, "unit": "kg", "date": date})
        };
        let mut tomb = make(
            EntityKind::Household,
            Some(stored_household),
            serde_json::json!({}),
        );
        tomb.tombstone = true;
        let batch = vec![
            make(
                EntityKind::Household,
                None,
                serde_json::json!({"posyandu": place, "head_name": "Ina"}),
            ),
            make(
                EntityKind::Household,
                None,
                serde_json::json!({"posyandu": place}),
            ),
            make(
                EntityKind::Household,
                Some(stored_household),
                serde_json::json!({"rt": "01"}),
            ),
            make(
                EntityKind::Household,
                Some(stored_household),
                serde_json::json!({"rt": 1}),
            ),
            make(EntityKind::Measurement, None, weight(9.5, "2026-12-06")),
            make(EntityKind::Measurement, None, weight(9.5, "2026-12-08")),
            make(EntityKind::Measurement, None, weight(5_000.0, "2026-12-06")),
            make(
                EntityKind::Measurement,
                Some(stored_fact),
                weight(9.6, "2026-12-06"),
            ),
            make(
                EntityKind::Measurement,
                Some(stored_fact),
                weight(9.7, "2026-12-06"),
            ),
            tomb,
            // Over the size of one change, as a creation and as an edit.
            make(
                EntityKind::Household,
                None,
                serde_json::json!({"posyandu": place,
                    "head_name": "x".repeat(sync_protocol::schema::MAX_CHANGE_BYTES)}),
            ),
            make(
                EntityKind::Household,
                Some(stored_household),
                serde_json::json!({"rt": "x".repeat(sync_protocol::schema::MAX_CHANGE_BYTES)}),
            ),
        ];
        let mut records = HashMap::new();
        records.insert(
            stored_household,
            RecordInfo {
                kind: EntityKind::Household,
                posyandu: place.into(),
                fact_hash: None,
                creator_role: Some(Role::Bidan),
                status: None,
            },
        );
        records.insert(
            stored_fact,
            RecordInfo {
                kind: EntityKind::Measurement,
                posyandu: place.into(),
                fact_hash: batch.get(7).map(fact_hash),
                creator_role: Some(Role::Bidan),
                status: None,
            },
        );
        let decide = |prepared: Vec<Prepared>, ctx: &PushContext| {
            let p = plan(
                ctx,
                &prepared,
                HashMap::new(),
                records.clone(),
                &Authors::new(),
                &[],
            );
            format!(
                "{:?} {:?} {:?} {:?}",
                p.outcomes, p.settled, p.log, p.records
            )
        };
        let reference = decide(batch.iter().cloned().map(Prepared::new).collect(), &ctx);
        let ahead: Vec<Prepared> = batch
            .iter()
            .cloned()
            .map(|c| Prepared::checked(c, &ctx))
            .collect();
        assert!(ahead.iter().all(|p| p.checks.is_some()));
        assert_eq!(decide(ahead, &ctx), reference);
        // Each case is what it was meant to be.
        use sync_protocol::OutcomeStatus::{Accepted as A, Rejected as R};
        let statuses: Vec<_> = plan(
            &ctx,
            &batch.iter().cloned().map(Prepared::new).collect::<Vec<_>>(),
            HashMap::new(),
            records.clone(),
            &Authors::new(),
            &[],
        )
        .outcomes
        .iter()
        .map(|o| o.status)
        .collect();
        assert_eq!(
            statuses,
            [A, R, A, R, A, R, R, A, R, A, R, R],
            "{reference}"
        );
        assert!(reference.contains("TooLarge"), "{reference}");
        // Checks made for another day are made again for this push's.
        let mut later = ctx.clone();
        later.today = "2026-12-08".into();
        let stale: Vec<Prepared> = batch
            .iter()
            .cloned()
            .map(|c| Prepared::checked(c, &ctx))
            .collect();
        assert_eq!(
            decide(stale, &later),
            decide(batch.iter().cloned().map(Prepared::new).collect(), &later)
        );
        assert_ne!(
            decide(batch.iter().cloned().map(Prepared::new).collect(), &later),
            reference
        );
    }

    #[test]
    fn acked_advances_over_contiguous_seqs_only() {
        assert_eq!(advance_acked(0, [1, 2, 3, 5]), 3);
        assert_eq!(advance_acked(3, [5, 6]), 3);
        assert_eq!(advance_acked(3, [4, 5, 7]), 5);
        assert_eq!(advance_acked(0, []), 0);
    }

    fn scope(level: sync_protocol::PlaceLevel, place: &str) -> Scope {
        Scope {
            level,
            place: place.to_string(),
        }
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        use sync_protocol::PlaceLevel;
        let mawar = scope(PlaceLevel::Posyandu, "53.04.05.2001.P01");
        let c = encode_cursor(42, &mawar);
        assert!(c.starts_with("s42."), "{c}");
        assert_eq!(c.len(), "s42.".len() + FINGERPRINT_LEN);
        assert_eq!(decode_cursor(Some(&c), &mawar), Some(42));
        assert_eq!(decode_cursor(None, &mawar), Some(0));
        // Another scope (place or level), or the old form: absent, start again.
        let melati = scope(PlaceLevel::Posyandu, "53.04.05.2001.P02");
        assert_eq!(decode_cursor(Some(&c), &melati), Some(0));
        let same_place_other_level = scope(PlaceLevel::Desa, "53.04.05.2001.P01");
        assert_eq!(decode_cursor(Some(&c), &same_place_other_level), Some(0));
        assert_eq!(decode_cursor(Some("s42"), &mawar), Some(0));
        assert_eq!(decode_cursor(Some("s0.00000000"), &mawar), Some(0));
        for bad in [
            "",
            "s",
            "s-1",
            "s+1",
            "42",
            "sx",
            "s99999999999999999999",
            "s42.",
            "s42.xyz",
            "s42.ABCDEF01",
            "s42.0123456789",
            "s.01234567",
            "s-1.01234567",
            "s42.0123456.",
        ] {
            assert_eq!(decode_cursor(Some(bad), &mawar), None, "{bad}");
        }
    }

    #[test]
    fn a_protocol_1_cursor_marks_the_first_change_sent_in_part() {
        use sync_protocol::PlaceLevel;
        let mawar = scope(PlaceLevel::Posyandu, "53.04.05.2001.P01");
        let c = encode_cursor_partial(120, &mawar, Some(100));
        assert!(c.ends_with(".p100"), "{c}");
        let pos = decode_cursor_pos(Some(&c), &mawar).expect("a cursor of this server");
        assert_eq!(
            pos,
            CursorPos {
                after: 120,
                partial_from: Some(100)
            }
        );
        // Protocol 1 goes on after 120; protocol 2 (the app updated) from just before 100.
        assert_eq!((pos.start_for(1), pos.start_for(2)), (120, 99));
        assert_eq!(decode_cursor(Some(&c), &mawar), Some(120));
        // Another scope: the whole scope again, mark or not.
        let melati = scope(PlaceLevel::Posyandu, "53.04.05.2001.P02");
        assert_eq!(
            decode_cursor_pos(Some(&c), &melati).map(|p| p.start_for(2)),
            Some(0)
        );
        for bad in [
            format!("{c}.p1"),
            c.replace(".p100", ".p"),
            c.replace(".p100", ".q100"),
        ] {
            assert_eq!(decode_cursor_pos(Some(&bad), &mawar), None, "{bad}");
        }
    }

    #[test]
    fn a_protocol_1_page_is_schema_1() {
        use sync_protocol::{Change, EntityKind, Hlc};
        let change = |seq: u64, schema: u16, body: serde_json::Value| Change {
            id: sync_protocol::RecordId::new_v7(),
            kind: EntityKind::Immunisation,
            device: DeviceId::new_v7(),
            seq,
            hlc: Hlc::new(1_763_800_000_000, 0).expect("hlc"),
            author: UserId::new_v7(),
            schema,
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().expect("object"),
        };
        let old = change(
            1,
            1,
            serde_json::json!({"posyandu": "P1", "vaccine": "BCG", "batch": "B1"}),
        );
        let new = change(
            2,
            2,
            serde_json::json!({"posyandu": "P1", "vaccine": "HB0", "kfa_code": "930001", "expiry": "2030-01-01"}),
        );
        let page = vec![
            (7, serde_json::to_string(&old).expect("json")),
            (9, serde_json::to_string(&new).expect("json")),
        ];
        let (v2, mark) = page_for_protocol(page.clone(), 2, None);
        assert_eq!((v2, mark), (page.clone(), None));
        let (v1, mark) = page_for_protocol(page.clone(), 1, Some(12));
        assert_eq!(mark, Some(9));
        assert_eq!(v1[0], page[0], "a schema-1 change is served as stored");
        let sent: Change = serde_json::from_str(&v1[1].1).expect("a change");
        assert_eq!(sent.schema, 1);
        assert!(!sent.body.contains_key("kfa_code") && !sent.body.contains_key("expiry"));
        assert_eq!((sent.id, sent.seq), (new.id, new.seq));
    }
}

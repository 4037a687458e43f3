//! Property: whatever changes a district makes (edits, deletions, facts, corrections, fact
//! tombstones, stamps reused by a restored tablet), delivered to a tablet in any order, in
//! pages of any size and with duplicates, the store ends exactly where sync-protocol's
//! reference `Replica` does: the same values, deletions, fact bodies and corrections, and the
//! same conflicts.
//!
//! The second order of each case is applied as a bulk first sync (`store/bulk.rs`), whose
//! edits of records known from earlier pages are deferred to its end.
//!
//! Cases per run: 24 (each opens two stores). `PROPTEST_CASES` raises it for a longer run.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use sync_protocol::merge::RecordView;
use sync_protocol::sample::SampleRng;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, RecordId, Replica, Stamp, UserId};

fn uuid7(ms: u64, n: u64) -> uuid::Uuid {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

/// Two persons and a referral (mutable), then facts from 100 on.
const MUTABLE: [(u64, EntityKind); 3] = [
    (1, EntityKind::Person),
    (2, EntityKind::Person),
    (3, EntityKind::Referral),
];

fn fields(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Referral => &["status", "reason", "note"],
        _ => &["name", "phone", "status"],
    }
}

fn value(kind: EntityKind, field: &str, n: u8) -> Value {
    match (kind, field) {
        // The last is a value a newer app may send: unknown here, ranked lowest.
        (EntityKind::Referral, "status") => {
            json!(["made", "received", "done", "x_later"][usize::from(n % 4)])
        }
        (_, "status") => json!(["active", "moved", "died"][usize::from(n % 3)]),
        _ => json!(["a", "b", "c"][usize::from(n % 3)]),
    }
}

/// One generated step: `(what, device, time, a, b)`, interpreted by [`build`].
type Step = (u8, u8, u8, u8, u8);

fn rid(n: u64) -> RecordId {
    RecordId(uuid7(T0, n))
}

/// Turns generated steps into a valid history: sequence numbers per device, bases strictly
/// before their edit, facts and their corrections and tombstones, and stamps reused.
fn build(steps: &[Step]) -> Vec<Change> {
    let devices: Vec<DeviceId> = (0..3).map(|n| DeviceId(uuid7(T0, 0xd000 + n))).collect();
    let mut seqs = [0u64; 3];
    let mut out: Vec<Change> = Vec::new();
    let mut facts: Vec<RecordId> = Vec::new();
    for &(what, d, t, a, b) in steps {
        let d = usize::from(d % 3);
        seqs[d] += 1;
        let hlc = Hlc {
            wall_ms: T0 + 1_000 + u64::from(t % 40) * 1_000,
            counter: 0,
        };
        let mut c = Change {
            id: rid(1),
            kind: EntityKind::Person,
            device: devices[d],
            seq: seqs[d],
            hlc,
            author: UserId(uuid7(T0, 0xe000 + d as u64)),
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: BTreeMap::new(),
            body: Body::new(),
        };
        // Stamps of earlier edits of (record, field), older than this change.
        let earlier = |out: &[Change], id: RecordId, field: &str| -> Vec<Stamp> {
            out.iter()
                .filter(|e| e.id == id && !e.tombstone && e.body.contains_key(field))
                .map(Change::stamp)
                .filter(|s| s.hlc < hlc)
                .collect()
        };
        match what % 10 {
            // An edit of one or two fields, with a base picked among earlier edits.
            0..=3 => {
                let (n, kind) = MUTABLE[usize::from(a % 3)];
                c.id = rid(n);
                c.kind = kind;
                let fs = fields(kind);
                let f1 = fs[usize::from(b % 3)];
                c.body
                    .insert(f1.into(), value(kind, f1, (a / 3).wrapping_add(b)));
                if what % 10 == 3 {
                    let f2 = fs[usize::from((b % 3 + 1) % 3)];
                    c.body.insert(f2.into(), value(kind, f2, b / 3));
                }
                for f in c.body.keys().cloned().collect::<Vec<_>>() {
                    let seen = earlier(&out, c.id, &f);
                    if !seen.is_empty() && b % 4 != 0 {
                        c.base.insert(f, seen[usize::from(a) % seen.len()]);
                    }
                }
            }
            // A deletion that saw the latest earlier edit of some fields.
            4 => {
                let (n, kind) = MUTABLE[usize::from(a % 3)];
                c.id = rid(n);
                c.kind = kind;
                c.tombstone = true;
                for (i, f) in fields(kind).iter().enumerate() {
                    if b & (1 << i) == 0 {
                        continue;
                    }
                    if let Some(s) = earlier(&out, c.id, f).into_iter().max() {
                        c.base.insert((*f).into(), s);
                    }
                }
            }
            // A new fact (a weighing).
            5 | 6 => {
                c.id = RecordId(uuid7(T0 + 1, 100 + facts.len() as u64));
                c.kind = EntityKind::Measurement;
                c.body = weighing(a);
                facts.push(c.id);
            }
            // A correction of an earlier fact.
            7 if !facts.is_empty() => {
                c.id = RecordId(uuid7(T0 + 1, 100 + facts.len() as u64));
                c.kind = EntityKind::Measurement;
                c.body = weighing(b);
                c.supersedes = Some(facts[usize::from(a) % facts.len()]);
                facts.push(c.id);
            }
            // A fact entered in error.
            8 if !facts.is_empty() => {
                c.id = facts[usize::from(a) % facts.len()];
                c.kind = EntityKind::Measurement;
                c.tombstone = true;
            }
            // A restored tablet: an earlier change's record and stamp, other content.
            9 if !out.is_empty() => {
                let old = out[usize::from(a) % out.len()].clone();
                let d = devices.iter().position(|x| *x == old.device).unwrap_or(0);
                seqs[d] += 1;
                c = old.clone();
                c.seq = seqs[d];
                if old.tombstone && old.kind.class() == sync_protocol::Class::Mutable {
                    // Saw less (or more) than the first.
                    let first = c.base.keys().next().cloned();
                    match first {
                        Some(k) if b % 2 == 0 => {
                            c.base.remove(&k);
                        }
                        _ => {
                            for f in fields(c.kind) {
                                if let Some(s) = earlier(&out, c.id, f)
                                    .into_iter()
                                    .filter(|s| s.hlc < old.hlc)
                                    .max()
                                {
                                    c.base.insert((*f).into(), s);
                                }
                            }
                        }
                    }
                } else if old.tombstone {
                    // A fact tombstone has no content to differ in: make a new weighing
                    // under the reused stamp instead.
                    c.tombstone = false;
                    c.id = RecordId(uuid7(T0 + 1, 100 + facts.len() as u64));
                    c.body = weighing(b);
                    facts.push(c.id);
                } else if old.kind.class() == sync_protocol::Class::Fact {
                    c.body = weighing(b.wrapping_add(1));
                } else {
                    for (f, v) in c.body.iter_mut() {
                        *v = value(old.kind, f, b.wrapping_add(1));
                    }
                }
            }
            // Not possible yet (no fact, nothing to reuse): an edit of the first person.
            _ => {
                c.body.insert("name".into(), value(c.kind, "name", b));
            }
        }
        out.push(c);
    }
    out
}

/// 120 weighings of a fourth device, of records the history never names: a first pulled page
/// large enough to begin a bulk first sync.
fn fillers() -> Vec<Change> {
    let device = DeviceId(uuid7(T0, 0xd009));
    (0..120u64)
        .map(|n| Change {
            id: RecordId(uuid7(T0 + 2, 50_000 + n)),
            kind: EntityKind::Measurement,
            device,
            seq: n + 1,
            hlc: Hlc {
                wall_ms: T0 + 500,
                counter: n as u16,
            },
            author: UserId(uuid7(T0, 0xe009)),
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: BTreeMap::new(),
            body: weighing(n as u8),
        })
        .collect()
}

fn weighing(n: u8) -> Body {
    json!({
        "posyandu": POSYANDU,
        "person": rid(1).to_string(),
        "type": "weight",
        "value": 8.0 + f64::from(n % 5) / 10.0,
        "unit": "kg",
    })
    .as_object()
    .cloned()
    .unwrap()
}

/// What a person sees of every record on the store, in the reference's terms.
fn store_view(s: &field_core::Store, ids: &[RecordId]) -> BTreeMap<RecordId, String> {
    let conn = s.connection();
    let mut out = BTreeMap::new();
    for id in ids {
        let idt = id.to_string();
        let mut found = None;
        for table in ["persons", "referrals"] {
            let row: Option<(String, bool)> = conn
                .query_row(
                    &format!("SELECT values_json, deleted FROM {table} WHERE id = ?1"),
                    [&idt],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            if let Some((v, d)) = row {
                let v: Body = serde_json::from_str(&v).unwrap();
                found = Some(format!("mutable {} deleted={d}", Value::Object(v)));
            }
        }
        if found.is_none() {
            let row: Option<(String, bool, Option<String>)> = conn
                .query_row(
                    "SELECT body_json, deleted, supersedes FROM facts WHERE id = ?1",
                    [&idt],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ok();
            let tombstoned: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM fact_tombstones WHERE record_id = ?1)",
                    [&idt],
                    |r| r.get(0),
                )
                .unwrap();
            found = Some(match row {
                Some((b, d, sup)) => {
                    let b: Body = serde_json::from_str(&b).unwrap();
                    format!("fact {} deleted={d} supersedes={sup:?}", Value::Object(b))
                }
                None => format!("fact none deleted={tombstoned} supersedes=None"),
            });
        }
        out.insert(*id, found.unwrap());
    }
    out
}

fn replica_view(r: &Replica) -> BTreeMap<RecordId, String> {
    r.view()
        .into_iter()
        .map(|(id, v)| {
            let s = match v {
                RecordView::Mutable {
                    values, deleted, ..
                } => format!("mutable {} deleted={deleted}", Value::Object(values)),
                RecordView::Fact {
                    body,
                    deleted,
                    supersedes,
                    ..
                } => match body {
                    Some(b) => format!(
                        "fact {} deleted={deleted} supersedes={:?}",
                        Value::Object(b),
                        supersedes.map(|s| s.to_string())
                    ),
                    None => format!("fact none deleted={deleted} supersedes=None"),
                },
            };
            (id, s)
        })
        .collect()
}

fn sorted_conflicts(list: impl IntoIterator<Item = sync_protocol::Conflict>) -> Vec<String> {
    let mut v: Vec<String> = list
        .into_iter()
        .map(|c| serde_json::to_string(&c).unwrap())
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_store_agrees_with_the_reference_replica(
        steps in prop::collection::vec(any::<Step>(), 1..45),
        shuffles in prop::collection::vec((any::<u64>(), 1usize..12), 2),
    ) {
        let changes = build(&steps);
        let mut replica = Replica::new();
        for c in &changes {
            replica.apply(c).unwrap();
        }
        let want = replica_view(&replica);
        let want_conflicts = sorted_conflicts(replica.conflicts());
        let ids: Vec<RecordId> = want.keys().copied().collect();
        for (k, (seed, page)) in shuffles.into_iter().enumerate() {
            let mut order = changes.clone();
            let mut rng = SampleRng::new(seed);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let mut f = fixture();
            // Durability is not what this checks: no fsync per page.
            f.store.connection().execute_batch("PRAGMA synchronous = OFF").unwrap();
            if k == 1 {
                // The second order as a bulk first sync (`store/bulk.rs`): a first page of
                // other records large enough to begin one, then the pages, the last ending
                // it. Edits of records an earlier page brought are deferred to its end.
                let pull = |changes: Vec<Change>, more: bool| sync_protocol::PullResponse {
                    v: sync_protocol::PROTOCOL_VERSION,
                    changes,
                    cursor: "c".into(),
                    has_more: more,
                    server_time: T0,
                };
                f.store.apply_sync_page(&pull(fillers(), true)).unwrap();
                prop_assert!(f.store.bulk_sync_active().unwrap());
                let chunks: Vec<&[Change]> = order.chunks(page).collect();
                for (i, chunk) in chunks.iter().enumerate() {
                    let more = i + 1 < chunks.len();
                    let report = f.store.apply_sync_page(&pull(chunk.to_vec(), more)).unwrap();
                    prop_assert!(report.skipped.is_empty(), "{:?}", report.skipped);
                    prop_assert_eq!(f.store.bulk_sync_active().unwrap(), more);
                }
            } else {
                for chunk in order.chunks(page) {
                    let report = f.store.apply_pulled(chunk, None, None).unwrap();
                    prop_assert!(report.skipped.is_empty(), "{:?}", report.skipped);
                }
            }
            // Duplicates change nothing.
            let again = order.len().min(page * 2);
            f.store.apply_pulled(&order[..again], None, None).unwrap();
            prop_assert_eq!(&store_view(&f.store, &ids), &want, "seed {} page {}", seed, page);
            let mine = sorted_conflicts(f.store.conflicts().unwrap().into_iter().map(|(_, c)| c));
            prop_assert_eq!(&mine, &want_conflicts, "seed {} page {}", seed, page);
        }
    }
}

//! Convergence of the server's read model with a tablet, as a property: changes of three
//! devices (households, persons, pregnancies and referrals edited concurrently, weighings,
//! their corrections and deletions, a person deleted) are pushed to a real district server
//! in a random order, cut into batches and with some sent twice; a field-core store is fed
//! the server's log of them as pulled pages in yet another order, with duplicates. The
//! server's read tables, the field-core store's tables and sync-protocol's reference
//! `Replica` (fed the log) must then show the same merged values and deletions per record,
//! the same live facts and the same conflicts (record, field). Merges of persons (the bidan's)
//! may contradict one another: the live merges are those `records::merges::effective` keeps
//! (the reference `Replica` keeps every merge, so it is settled by that rule here). On SQLite
//! and PostgreSQL.
//!
//! Cases per run: 48 on SQLite, 24 on PostgreSQL (`PROPTEST_CASES` changes both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use district_server::Storage;
use district_server::auth;
use district_server::model::NewDevice;
use district_server::readmodel::{Cell, Param};
use district_server::sync::PushContext;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use sync_protocol::sample::SampleRng;
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, Hlc, RecordId, Role, Stamp, UserId,
};

#[test]
fn sqlite_read_model_equals_a_field_core_store() {
    converges(Backend::Sqlite, 48);
}

#[test]
fn postgres_read_model_equals_a_field_core_store() {
    converges(Backend::Postgres, 24);
}

/// One change to make, on a record of a small pool (so edits collide).
#[derive(Debug, Clone)]
enum Op {
    Household {
        rec: usize,
        head: usize,
        dusun: usize,
    },
    /// A full person body; `seen`: the device saw its own last write (else a blind,
    /// concurrent edit).
    Person {
        rec: usize,
        name: usize,
        status: usize,
        seen: bool,
    },
    DeletePerson {
        rec: usize,
    },
    Pregnancy {
        rec: usize,
        status: usize,
    },
    /// A referral status (only the bidan's device moves it past `made`).
    Referral {
        rec: usize,
        status: usize,
    },
    /// A weighing; `fact` picks the id (two bodies for one id can arrive).
    Weighing {
        fact: usize,
        value: u8,
        corrects: Option<usize>,
    },
    DeleteWeighing {
        fact: usize,
    },
    /// A merge of two persons, on the bidan's device (a fresh merge id each): merges that
    /// contradict (a person merged twice, a cycle) are settled by `records::merges::effective`.
    Merge {
        kept: usize,
        other: usize,
    },
    /// A tombstone of the `nth` merge made so far (modulo their number).
    DeleteMerge {
        nth: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..3usize, 0..3usize).prop_map(|(rec, head, dusun)| Op::Household {
            rec,
            head,
            dusun
        }),
        (0..3usize, 0..3usize, 0..3usize, any::<bool>()).prop_map(|(rec, name, status, seen)| {
            Op::Person {
                rec,
                name,
                status,
                seen,
            }
        }),
        (0..3usize).prop_map(|rec| Op::DeletePerson { rec }),
        (0..2usize, 0..3usize).prop_map(|(rec, status)| Op::Pregnancy { rec, status }),
        (0..2usize, 0..3usize).prop_map(|(rec, status)| Op::Referral { rec, status }),
        (0..4usize, 1..30u8, proptest::option::of(0..4usize)).prop_map(
            |(fact, value, corrects)| Op::Weighing {
                fact,
                value,
                corrects,
            }
        ),
        (0..4usize).prop_map(|fact| Op::DeleteWeighing { fact }),
        (0..3usize, 0..2usize).prop_map(|(kept, other)| Op::Merge { kept, other }),
        (0..4usize).prop_map(|nth| Op::DeleteMerge { nth }),
    ]
}

/// A case: each op on a device (0, 1: kaders of Mawar; 2: the bidan) at an HLC offset, a
/// push schedule seed, and a pull order seed with a page size.
#[derive(Debug, Clone)]
struct Case {
    ops: Vec<(usize, Op, u32)>,
    push_seed: u64,
    pull_seed: u64,
    page: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec((0..3usize, op(), 0..5_000u32), 1..30),
        any::<u64>(),
        any::<u64>(),
        1..8usize,
    )
        .prop_map(|(ops, push_seed, pull_seed, page)| Case {
            ops,
            push_seed,
            pull_seed,
            page,
        })
}

/// The record ids and the devices of one case (fresh ids per case).
struct World {
    households: Vec<RecordId>,
    persons: Vec<RecordId>,
    pregnancies: Vec<RecordId>,
    referrals: Vec<RecordId>,
    facts: Vec<RecordId>,
    devices: Vec<(DeviceId, UserId, Role)>,
}

const NAMES: [&str; 3] = ["Ani Fiktif", "Budi Fiktif", "Citra Fiktif"];
const DUSUN: [&str; 3] = ["Dusun A", "Dusun B", "Dusun C"];
const PERSON_STATUS: [&str; 3] = ["active", "moved", "died"];
const PREGNANCY_STATUS: [&str; 3] = ["ongoing", "delivered", "ended"];
const PERSON_FIELDS: [&str; 5] = ["posyandu", "name", "sex", "birth_date", "status"];

fn changes_of(case: &Case, w: &World) -> Vec<Change> {
    let base_ms = district_server::model::now_ms() - 120_000;
    let mut seqs = [0u64; 3];
    let mut last: BTreeMap<(usize, RecordId), Stamp> = BTreeMap::new();
    let mut out = Vec::new();
    let mut merges: Vec<RecordId> = Vec::new();
    for (dev, op, offset) in &case.ops {
        // Only a bidan merges.
        let dev = if matches!(op, Op::Merge { .. } | Op::DeleteMerge { .. }) {
            &2
        } else {
            dev
        };
        let (device, author, role) = w.devices[*dev];
        seqs[*dev] += 1;
        let seq = seqs[*dev];
        let hlc = Hlc {
            wall_ms: base_ms + u64::from(*offset) + seq,
            counter: 0,
        };
        let mk = |id: RecordId, kind: EntityKind, body: Value| Change {
            id,
            kind,
            device,
            seq,
            hlc,
            author,
            schema: sync_protocol::schema::kind_since(kind),
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        };
        let person0 = w.persons[0].to_string();
        let c = match op {
            Op::Household { rec, head, dusun } => mk(
                w.households[*rec],
                EntityKind::Household,
                json!({"posyandu": MAWAR, "head_name": NAMES[*head],
                       "dusun": DUSUN[*dusun]}),
            ),
            Op::Person {
                rec,
                name,
                status,
                seen,
            } => {
                let mut c = mk(
                    w.persons[*rec],
                    EntityKind::Person,
                    json!({"posyandu": MAWAR, "name": NAMES[*name], "sex": "female",
                           "birth_date": "2023-05-01",
                           "status": PERSON_STATUS[*status]}),
                );
                if let (true, Some(s)) = (*seen, last.get(&(*dev, c.id))) {
                    for f in PERSON_FIELDS {
                        c.base.insert(f.into(), *s);
                    }
                }
                c
            }
            Op::DeletePerson { rec } => {
                let mut c = mk(w.persons[*rec], EntityKind::Person, json!({}));
                c.tombstone = true;
                if let Some(s) = last.get(&(*dev, c.id)) {
                    for f in PERSON_FIELDS {
                        c.base.insert(f.into(), *s);
                    }
                }
                c
            }
            Op::Pregnancy { rec, status } => mk(
                w.pregnancies[*rec],
                EntityKind::Pregnancy,
                json!({"posyandu": MAWAR, "person": person0, "hpht": "2025-08-01",
                       "status": PREGNANCY_STATUS[*status]}),
            ),
            Op::Referral { rec, status } => {
                let status = if role == Role::Bidan {
                    ["made", "received", "done"][*status]
                } else {
                    "made"
                };
                mk(
                    w.referrals[*rec],
                    EntityKind::Referral,
                    json!({"posyandu": MAWAR, "person": person0, "reason": "gizi kurang",
                           "destination": "puskesmas", "status": status}),
                )
            }
            Op::Weighing {
                fact,
                value,
                corrects,
            } => {
                let mut c = mk(
                    w.facts[*fact],
                    EntityKind::Measurement,
                    json!({"posyandu": MAWAR, "person": person0, "type": "weight",
                           "value": f64::from(*value) / 2.0, "unit": "kg", "date": "2025-11-22"}),
                );
                c.supersedes = corrects.filter(|f| f != fact).map(|f| w.facts[f]);
                c
            }
            Op::DeleteWeighing { fact } => {
                let mut c = mk(w.facts[*fact], EntityKind::Measurement, json!({}));
                c.tombstone = true;
                c
            }
            Op::Merge { kept, other } => {
                let merged = (kept + 1 + other) % 3;
                let id = RecordId::new_v7();
                merges.push(id);
                mk(
                    id,
                    EntityKind::PersonMerge,
                    json!({"posyandu": MAWAR, "kept": w.persons[*kept].to_string(),
                           "merged": w.persons[merged].to_string()}),
                )
            }
            Op::DeleteMerge { nth } => {
                let id = if merges.is_empty() {
                    RecordId::new_v7()
                } else {
                    merges[nth % merges.len()]
                };
                let mut c = mk(id, EntityKind::PersonMerge, json!({}));
                c.tombstone = true;
                c
            }
        };
        last.insert((*dev, c.id), c.stamp());
        out.push(c);
    }
    out
}

/// A push schedule: each device's changes cut into batches (in its order), the batches of
/// all devices interleaved, and some batches sent again.
fn schedule(changes: &[Change], w: &World, seed: u64) -> Vec<(usize, Vec<Change>)> {
    let mut rng = SampleRng::new(seed);
    let mut queues: Vec<Vec<Vec<Change>>> = Vec::new();
    for (device, ..) in &w.devices {
        let mine: Vec<Change> = changes
            .iter()
            .filter(|c| c.device == *device)
            .cloned()
            .collect();
        let mut batches = Vec::new();
        let mut i = 0;
        while i < mine.len() {
            let n = 1 + rng.below(4) as usize;
            batches.push(mine[i..(i + n).min(mine.len())].to_vec());
            i += n;
        }
        batches.reverse();
        queues.push(batches);
    }
    let mut out: Vec<(usize, Vec<Change>)> = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        let d = rng.below(queues.len() as u64) as usize;
        if let Some(b) = queues[d].pop() {
            out.push((d, b));
            if rng.below(4) == 0 {
                let again = out[rng.below(out.len() as u64) as usize].clone();
                out.push(again);
            }
        }
    }
    out
}

fn ctx(device: DeviceId, user: UserId, role: Role) -> Arc<PushContext> {
    let now = district_server::model::now_ms();
    Arc::new(PushContext {
        device,
        user,
        role,
        scope_posyandu: [MAWAR.to_string()].into_iter().collect::<HashSet<_>>(),
        now_ms: now,
        today: district_server::model::today_for_validation(now),
        clock: ClockPolicy::default(),
    })
}

/// Enrols a device of `username` straight in the storage (as the enrolment route does).
async fn enrol(s: &dyn Storage, username: &str, id: DeviceId) -> (UserId, Role) {
    let user = s.user_by_username(username.into()).await.unwrap().unwrap();
    let code = district_server::admin::issue_enrol_code(s, username, 24)
        .await
        .unwrap();
    let code = auth::normalise_code(&code).unwrap();
    let dev = NewDevice {
        id,
        name: "Tablet uji".into(),
        token_hash: auth::hash_secret(&auth::new_token().unwrap()),
        app_version: "0.1.0".into(),
        now: district_server::model::now_ms(),
    };
    s.enrol(auth::hash_secret(&code), dev)
        .await
        .unwrap()
        .unwrap();
    (user.id, user.role)
}

/// What a person sees of the case's records: each mutable record's merged values and
/// deletion, the live facts, and the conflicts by (record, field).
#[derive(Debug, Default, PartialEq)]
struct Seen {
    mutable: BTreeMap<RecordId, String>,
    live_facts: BTreeSet<RecordId>,
    conflicts: BTreeSet<(RecordId, String)>,
}

const MUTABLE_TABLES: [(&str, EntityKind); 4] = [
    ("households", EntityKind::Household),
    ("persons", EntityKind::Person),
    ("pregnancies", EntityKind::Pregnancy),
    ("referrals", EntityKind::Referral),
];

fn mutable_line(kind: EntityKind, values: &Value, deleted: bool) -> String {
    format!("{kind:?} {values} deleted={deleted}")
}

/// The server's read tables.
async fn server_seen(s: &dyn Storage, ids: &BTreeSet<RecordId>) -> Seen {
    let mut seen = Seen::default();
    for id in ids {
        let p = || vec![Param::Text(id.to_string())];
        for (table, kind) in MUTABLE_TABLES {
            let rows = s
                .read_rows(
                    format!("SELECT values_json, deleted FROM {table} WHERE id = ?1"),
                    p(),
                )
                .await
                .unwrap();
            if let Some(r) = rows.first() {
                let values: Value = serde_json::from_str(r[0].text().unwrap()).unwrap();
                let line = mutable_line(kind, &values, r[1] == Cell::Int(1));
                assert!(
                    seen.mutable.insert(*id, line).is_none(),
                    "{id} in two tables"
                );
            }
        }
        let live = s
            .read_rows(
                "SELECT id FROM facts WHERE id = ?1 AND deleted = 0".into(),
                p(),
            )
            .await
            .unwrap();
        if !live.is_empty() {
            seen.live_facts.insert(*id);
        }
        for r in s
            .read_rows(
                "SELECT field FROM conflicts WHERE record_id = ?1".into(),
                p(),
            )
            .await
            .unwrap()
        {
            seen.conflicts
                .insert((*id, r[0].text().unwrap().to_string()));
        }
    }
    seen
}

/// The same, from a view (of a field-core store's tables, or of the reference `Replica`).
fn view_seen(v: &View, ids: &BTreeSet<RecordId>) -> Seen {
    let mut seen = Seen::default();
    for (id, rec) in v.records.iter().filter(|(id, _)| ids.contains(id)) {
        match rec {
            Rec::Mutable {
                kind,
                values,
                deleted,
            } => {
                let values = Value::Object(values.clone());
                seen.mutable
                    .insert(*id, mutable_line(*kind, &values, *deleted));
            }
            Rec::Fact { deleted, .. } => {
                if !deleted {
                    seen.live_facts.insert(*id);
                }
            }
        }
    }
    for k in v.conflicts.iter().filter(|k| ids.contains(&k.record)) {
        seen.conflicts.insert((k.record, k.field.clone()));
    }
    seen
}

fn converges(backend: Backend, cases: u32) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Server::start_on(backend));
    // The tablet whose store is fed the changes (enrolled over HTTP; it never syncs here).
    let tablet = rt.block_on(Device::enrol(&server, "kader.mawar"));
    tablet
        .store
        .connection()
        .execute_batch("PRAGMA synchronous = OFF")
        .unwrap();
    let mut runner = TestRunner::new(PtConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 50,
        ..PtConfig::default()
    });
    let logged = std::cell::Cell::new(0usize);
    let compared = std::cell::Cell::new(0usize);
    let conflicts = std::cell::Cell::new(0usize);
    let ignored_merges = std::cell::Cell::new(0usize);
    let tablet = std::cell::RefCell::new(tablet);
    let result = runner.run(&case(), |case| {
        rt.block_on(async {
            let s = server.store.as_ref();
            let ids = |n| (0..n).map(|_| RecordId::new_v7()).collect::<Vec<_>>();
            let mut devices = Vec::new();
            for u in ["kader.mawar", "kader.mawar2", "bidan.naitimu"] {
                let id = DeviceId::new_v7();
                let (user, role) = enrol(s, u, id).await;
                devices.push((id, user, role));
            }
            let w = World {
                households: ids(2),
                persons: ids(3),
                pregnancies: ids(2),
                referrals: ids(2),
                facts: ids(4),
                devices,
            };
            let changes = changes_of(&case, &w);
            let case_ids: BTreeSet<RecordId> = changes.iter().map(|c| c.id).collect();
            for (d, batch) in schedule(&changes, &w, case.push_seed) {
                let (device, user, role) = w.devices[d];
                s.push(ctx(device, user, role), batch).await.unwrap();
            }
            // What the server accepted of the case: its log, as a tablet pulls it.
            let log: Vec<Change> = server
                .changes(MAWAR)
                .await
                .into_iter()
                .filter(|c| case_ids.contains(&c.id))
                .collect();
            logged.set(logged.get() + log.len());
            // The tablet gets the log in another order, in pages, with some pages again.
            let mut order = log.clone();
            let mut rng = SampleRng::new(case.pull_seed);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let mut pages: Vec<&[Change]> = order.chunks(case.page).collect();
            for _ in 0..pages.len() / 2 {
                let again = pages[rng.below(pages.len() as u64) as usize];
                let at = rng.below(pages.len() as u64 + 1) as usize;
                pages.insert(at, again);
            }
            let on_tablet = {
                let mut tablet = tablet.borrow_mut();
                for page in pages {
                    let report = tablet.store.apply_pulled(page, None, None).unwrap();
                    prop_assert!(report.skipped.is_empty(), "{:?}", report.skipped);
                }
                view_seen(&View::of_store(&tablet.store), &case_ids)
            };
            let on_server = server_seen(s, &case_ids).await;
            let mut reference = view_seen(&View::of_changes(&log), &case_ids);
            // The reference `Replica` keeps every live merge: the merges in effect are those
            // `records::merges::effective` picks among them (the tablets' and server's rule).
            let live: Vec<records::merges::MergeFact> = log
                .iter()
                .filter(|c| c.kind == EntityKind::PersonMerge && !c.tombstone)
                .filter(|c| reference.live_facts.contains(&c.id))
                .filter_map(|c| {
                    let id = |f: &str| c.body.get(f)?.as_str()?.parse::<RecordId>().ok();
                    Some(records::merges::MergeFact {
                        id: c.id,
                        kept: id("kept")?,
                        merged: id("merged")?,
                        stamp: c.stamp(),
                    })
                })
                .collect();
            let effective = records::merges::effective(&live);
            for m in &live {
                if !effective.contains(&m.id) {
                    reference.live_facts.remove(&m.id);
                }
            }
            ignored_merges.set(ignored_merges.get() + live.len() - effective.len());
            prop_assert_eq!(
                &on_server,
                &on_tablet,
                "server read model vs field-core store"
            );
            prop_assert_eq!(&on_server, &reference, "server read model vs Replica");
            conflicts.set(conflicts.get() + on_server.conflicts.len());
            compared.set(compared.get() + on_server.mutable.len() + on_server.live_facts.len());
            Ok(())
        })
    });
    drop(tablet);
    rt.block_on(server.stop());
    let (logged, compared, conflicts) = (logged.get(), compared.get(), conflicts.get());
    eprintln!(
        "{cases} cases: {logged} changes logged, {compared} records and {conflicts} conflicts \
         compared, {} merges ignored",
        ignored_merges.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // The property compared something: most changes were accepted and records were seen.
    assert!(
        logged >= cases as usize * 2 && compared >= cases as usize && conflicts > 0,
        "{logged} changes logged, {compared} records and {conflicts} conflicts compared in {cases} cases"
    );
}

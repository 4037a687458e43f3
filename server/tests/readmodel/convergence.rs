//! Convergence, as a property: the same changes pushed to two servers in different orders,
//! cut into different batches and with duplicates, leave each server's read model equal to
//! a reference `Replica` fed the server's log (in yet another order), and the two read
//! models equal whenever the two logs hold the same changes. Then `reindex` changes nothing.

use crate::common::{Backend, MAWAR, TestDb, now_ms};
use district_server::Storage;
use district_server::auth::{self, PasswordCost};
use district_server::model::NewDevice;
use district_server::readmodel::{self, Cell, Param};
use district_server::sync::PushContext;
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use sync_protocol::merge::{RecordView, Replica};
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, Hlc, RecordId, Role, Stamp, UserId,
};

#[test]
fn sqlite_read_model_converges_like_the_replica() {
    converges(Backend::Sqlite, 24);
}

#[test]
fn postgres_read_model_converges_like_the_replica() {
    converges(Backend::Postgres, 12);
}

/// One change to make: which record (of a small pool), which device, what.
#[derive(Debug, Clone)]
enum Op {
    /// A full person body (names and sexes from small pools, so edits collide).
    Person {
        rec: usize,
        name: usize,
        female: bool,
        status: usize,
    },
    /// A partial edit of one field.
    Rename {
        rec: usize,
        name: usize,
    },
    /// Deletes a person, having seen what this device last wrote.
    DeletePerson {
        rec: usize,
    },
    /// A referral status (only the bidan's device moves it past `made`).
    Referral {
        rec: usize,
        status: usize,
    },
    /// A weighing; `fact` picks the id, so two bodies for one id can arrive.
    Weighing {
        fact: usize,
        value: u8,
        corrects: Option<usize>,
    },
    DeleteWeighing {
        fact: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..3usize, any::<bool>(), 0..3usize).prop_map(|(rec, name, female, status)| {
            Op::Person {
                rec,
                name,
                female,
                status,
            }
        }),
        (0..3usize, 0..3usize).prop_map(|(rec, name)| Op::Rename { rec, name }),
        (0..3usize).prop_map(|rec| Op::DeletePerson { rec }),
        (0..2usize, 0..3usize).prop_map(|(rec, status)| Op::Referral { rec, status }),
        (0..4usize, 1..30u8, proptest::option::of(0..4usize)).prop_map(
            |(fact, value, corrects)| Op::Weighing {
                fact,
                value,
                corrects,
            }
        ),
        (0..4usize).prop_map(|fact| Op::DeleteWeighing { fact }),
    ]
}

/// A generated case: each op on a device (0, 1: kader; 2: bidan) at an HLC offset, and two
/// delivery schedules (seeds).
#[derive(Debug, Clone)]
struct Case {
    ops: Vec<(usize, Op, u32)>,
    seed_a: u64,
    seed_b: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec((0..3usize, op(), 0..5_000u32), 1..28),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(ops, seed_a, seed_b)| Case {
            ops,
            seed_a,
            seed_b,
        })
}

/// The ids and tablets of one case (fresh per case, the same on both servers).
struct World {
    persons: Vec<RecordId>,
    referrals: Vec<RecordId>,
    facts: Vec<RecordId>,
    devices: Vec<(DeviceId, UserId, Role)>,
}

const NAMES: [&str; 3] = ["Ani Fiktif", "Budi Fiktif", "Citra Fiktif"];
const STATUSES: [&str; 3] = ["active", "moved", "died"];

fn changes_of(case: &Case, w: &World) -> Vec<Change> {
    let base_ms = now_ms() - 120_000;
    let mut seqs = [0u64; 3];
    let mut last: BTreeMap<(usize, RecordId), Stamp> = BTreeMap::new();
    let mut out = Vec::new();
    for (dev, op, offset) in &case.ops {
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
        let c = match op {
            Op::Person {
                rec,
                name,
                female,
                status,
            } => mk(
                w.persons[*rec],
                EntityKind::Person,
                json!({"posyandu": MAWAR, "name": NAMES[*name], "sex": if *female {"female"} else {"male"},
                       "birth_date": "2023-05-01", "status": STATUSES[*status]}),
            ),
            Op::Rename { rec, name } => {
                let mut c = mk(
                    w.persons[*rec],
                    EntityKind::Person,
                    json!({"posyandu": MAWAR, "name": NAMES[*name], "sex": "female", "birth_date": "2023-05-01"}),
                );
                // The device saw its own last write of the record.
                if let Some(s) = last.get(&(*dev, c.id)) {
                    c.base.insert("name".into(), *s);
                }
                c
            }
            Op::DeletePerson { rec } => {
                let mut c = mk(w.persons[*rec], EntityKind::Person, json!({}));
                c.tombstone = true;
                if let Some(s) = last.get(&(*dev, c.id)) {
                    for f in ["posyandu", "name", "sex", "birth_date", "status"] {
                        c.base.insert(f.into(), *s);
                    }
                }
                c
            }
            Op::Referral { rec, status } => {
                let status = if role == Role::Bidan {
                    ["made", "received", "done"][*status]
                } else {
                    "made"
                };
                mk(
                    w.referrals[*rec],
                    EntityKind::Referral,
                    json!({"posyandu": MAWAR, "person": w.persons[0].to_string(), "reason": "gizi kurang",
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
                    json!({"posyandu": MAWAR, "person": w.persons[0].to_string(), "type": "weight",
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
        };
        last.insert((*dev, c.id), c.stamp());
        out.push(c);
    }
    out
}

/// A schedule: each device's changes cut into batches (in its order), the batches of all
/// devices interleaved, and some batches sent again.
fn schedule(changes: &[Change], w: &World, seed: u64) -> Vec<(usize, Vec<Change>)> {
    let mut rng = seed | 1;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n.max(1)
    };
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
            let n = 1 + next(4) as usize;
            batches.push(mine[i..(i + n).min(mine.len())].to_vec());
            i += n;
        }
        batches.reverse();
        queues.push(batches);
    }
    let mut out: Vec<(usize, Vec<Change>)> = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        let d = next(queues.len() as u64) as usize;
        if let Some(b) = queues[d].pop() {
            out.push((d, b));
            if next(4) == 0 {
                let again = out[next(out.len() as u64) as usize].clone();
                out.push(again);
            }
        }
    }
    out
}

fn ctx(device: DeviceId, user: UserId, role: Role) -> Arc<PushContext> {
    let now = now_ms();
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

pub(crate) async fn enrol(s: &dyn Storage, username: &str, id: DeviceId) -> (UserId, Role) {
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
        now: now_ms(),
    };
    s.enrol(auth::hash_secret(&code), dev)
        .await
        .unwrap()
        .unwrap();
    (user.id, user.role)
}

/// The read model's view of the case's records, in the Replica's terms.
async fn view_of(
    s: &dyn Storage,
    ids: &BTreeSet<RecordId>,
) -> (BTreeMap<RecordId, RecordView>, BTreeSet<String>) {
    let mut views = BTreeMap::new();
    let mut conflicts = BTreeSet::new();
    for id in ids {
        let p = || vec![Param::Text(id.to_string())];
        let kind = s
            // A fact kept in its `facts` row has no `merged_records` row.
            .read_rows(
                "SELECT kind FROM merged_records WHERE id = ?1
                 UNION ALL SELECT kind FROM facts WHERE id = ?1"
                    .into(),
                p(),
            )
            .await
            .unwrap();
        let Some(kind) = kind.first().and_then(|r| r[0].text().map(str::to_string)) else {
            continue;
        };
        let kind: EntityKind = serde_json::from_value(json!(kind)).unwrap();
        let table = match kind {
            EntityKind::Person => Some("persons"),
            EntityKind::Referral => Some("referrals"),
            _ => None,
        };
        let view = if let Some(t) = table {
            let r = s
                .read_rows(
                    format!("SELECT values_json, deleted FROM {t} WHERE id = ?1"),
                    p(),
                )
                .await
                .unwrap();
            let r = &r[0];
            RecordView::Mutable {
                kind,
                values: serde_json::from_str(r[0].text().unwrap()).unwrap(),
                deleted: r[1] == Cell::Int(1),
            }
        } else {
            let r = s
                .read_rows(
                    "SELECT body_json, deleted, supersedes FROM facts WHERE id = ?1".into(),
                    p(),
                )
                .await
                .unwrap();
            let by = s
                .read_rows(
                    "SELECT id FROM facts WHERE supersedes = ?1 AND deleted = 0 ORDER BY id".into(),
                    p(),
                )
                .await
                .unwrap();
            let mut superseded_by: Vec<RecordId> = by
                .iter()
                .map(|r| r[0].text().unwrap().parse().unwrap())
                .collect();
            superseded_by.sort();
            match r.first() {
                Some(r) => RecordView::Fact {
                    kind,
                    body: Some(serde_json::from_str(r[0].text().unwrap()).unwrap()),
                    deleted: r[1] == Cell::Int(1),
                    supersedes: r[2].text().map(|s| s.parse().unwrap()),
                    superseded_by,
                },
                // Only its tombstone has arrived.
                None => RecordView::Fact {
                    kind,
                    body: None,
                    deleted: true,
                    supersedes: None,
                    superseded_by,
                },
            }
        };
        views.insert(*id, view);
        for r in s
            .read_rows(
                "SELECT conflict_json FROM conflicts WHERE record_id = ?1".into(),
                p(),
            )
            .await
            .unwrap()
        {
            let v: Value = serde_json::from_str(r[0].text().unwrap()).unwrap();
            conflicts.insert(v.to_string());
        }
    }
    (views, conflicts)
}

/// The reference: a Replica fed the server's log of the case (reversed: yet another order).
async fn reference(
    s: &dyn Storage,
    ids: &BTreeSet<RecordId>,
) -> (
    BTreeMap<RecordId, RecordView>,
    BTreeSet<String>,
    BTreeSet<(DeviceId, u64)>,
) {
    let page = s.pull("53.04".into(), 0, 1_000_000).await.unwrap();
    let mut log: Vec<Change> = page
        .changes
        .iter()
        .map(|(_, j)| serde_json::from_str::<Change>(j).unwrap())
        .filter(|c| ids.contains(&c.id))
        .collect();
    log.reverse();
    let mut r = Replica::new();
    for c in &log {
        r.apply(c).unwrap();
    }
    let mut view = r.view();
    // A fact known by its tombstone only: the read model shows it as deleted, without body.
    for v in view.values_mut() {
        if let RecordView::Fact {
            body: None,
            deleted,
            ..
        } = v
        {
            *deleted = true;
        }
        if let RecordView::Fact { superseded_by, .. } = v {
            superseded_by.sort();
        }
    }
    let conflicts = r
        .conflicts()
        .iter()
        .map(|c| serde_json::to_value(c).unwrap().to_string())
        .collect();
    (view, conflicts, log.iter().map(Change::origin).collect())
}

fn converges(backend: Backend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (db_a, db_b) = rt.block_on(async {
        let a = TestDb::new(backend).await;
        let b = TestDb::new(backend).await;
        for db in [&a, &b] {
            district_server::admin::demo(db.store.as_ref(), PasswordCost::TEST, 24, false)
                .await
                .unwrap();
        }
        (a, b)
    });
    let mut runner = TestRunner::new(PtConfig {
        cases,
        failure_persistence: None,
        ..PtConfig::default()
    });
    let logged = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&case(), |case| {
        rt.block_on(async {
            let w = World {
                persons: (0..3).map(|_| RecordId::new_v7()).collect(),
                referrals: (0..2).map(|_| RecordId::new_v7()).collect(),
                facts: (0..4).map(|_| RecordId::new_v7()).collect(),
                devices: {
                    let mut d = Vec::new();
                    for u in ["kader.mawar", "kader.mawar", "bidan.naitimu"] {
                        let id = DeviceId::new_v7();
                        let (user, role) = enrol(db_a.store.as_ref(), u, id).await;
                        enrol(db_b.store.as_ref(), u, id).await;
                        d.push((id, user, role));
                    }
                    d
                },
            };
            let changes = changes_of(&case, &w);
            let ids: BTreeSet<RecordId> = changes.iter().map(|c| c.id).collect();
            let mut results = Vec::new();
            for (db, seed) in [(&db_a, case.seed_a), (&db_b, case.seed_b)] {
                let s = db.store.as_ref();
                for (d, batch) in schedule(&changes, &w, seed) {
                    let (device, user, role) = w.devices[d];
                    s.push(ctx(device, user, role), batch).await.unwrap();
                }
                let got = view_of(s, &ids).await;
                let (view, conflicts, log) = reference(s, &ids).await;
                prop_assert_eq!(&got.0, &view, "records (log {:?})", log.len());
                prop_assert_eq!(&got.1, &conflicts, "conflicts");
                logged.fetch_add(log.len(), std::sync::atomic::Ordering::Relaxed);
                results.push((got, log));
            }
            if results[0].1 == results[1].1 {
                prop_assert_eq!(&results[0].0, &results[1].0, "same log, same read model");
            }
            Ok(())
        })
    });
    rt.block_on(async {
        // And a rebuild of everything the cases left gives the same tables.
        for db in [&db_a, &db_b] {
            let s = db.store.as_ref();
            let before = crate::snapshot(s).await;
            readmodel::reindex(s, true, 50, |_| {}).await.unwrap();
            assert_eq!(crate::snapshot(s).await, before);
        }
    });
    rt.block_on(async {
        db_a.finish().await;
        db_b.finish().await;
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let logged = logged.into_inner();
    assert!(
        logged >= cases as usize * 2,
        "most generated changes should be accepted: {logged} logged in {cases} cases"
    );
}

//! Property (issue #17): any interleaving of edits, conflict reviews (keep, take the other,
//! a corrected value), merges ("the same person", any survivor, fields taken), dismissals
//! ("not the same") and weighings, made offline on three tablets that sync with a server in
//! any order, ends with every tablet in the same state — the same persons and values, the same
//! facts, the same open conflicts, the same likely-duplicate pairs, the same growth results
//! and SKDN — and no fact lost: every fact any tablet made is on every tablet, and every
//! weighing shows on exactly one listed child (the survivor of its merges), even when two
//! tablets merged the same pair with opposite survivors or one person into two.
//!
//! Real stores (SQLite files); the server is the union of pushed changes, pulled back by
//! each tablet. Cases per run: 16 (each opens three stores); `PROPTEST_CASES` raises it.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{MeasurementInput, PersonInput, Resolution, Store};
use health_rules::kms::YearMonth;
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use sync_protocol::{Change, DeviceId, EntityKind, RecordId};

struct Tablet {
    _dir: tempfile::TempDir,
    store: Store,
}

struct World {
    tablets: Vec<Tablet>,
    /// What the server holds: every pushed change, by (device, seq).
    server: BTreeMap<(DeviceId, u64), Change>,
    persons: Vec<RecordId>,
    clock: field_core::ManualClock,
}

const NAMES: [&str; 3] = ["Yosef Bria", "Yosep Bria Mali", "Fransiskus Bria"];
const BIRTHS: [&str; 3] = ["2024-05-10", "2024-06-10", "2023-05-10"];

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        oedema: None,
        measured_by: None,
    }
}

impl World {
    fn new() -> World {
        let clock = field_core::ManualClock::new(T0);
        let tablets: Vec<Tablet> = (0..3)
            .map(|i| {
                let dir = tempfile::tempdir().unwrap();
                // Two bidan and a perawat: each may review, merge and dismiss.
                let role = if i == 2 { "perawat" } else { "bidan" };
                let store = Store::create(
                    &dir.path().join("jangkau.db"),
                    DeviceId::new_v7(),
                    &user_with_role(&format!("t{i}"), role),
                    "258046",
                    opts(&clock),
                )
                .unwrap();
                Tablet { _dir: dir, store }
            })
            .collect();
        let mut w = World {
            tablets,
            server: BTreeMap::new(),
            persons: Vec::new(),
            clock,
        };
        // Two pairs of likely duplicates: same name key, birth date and (no) mother; and a
        // shared NIK.
        let child = |name: &str, birth: &str, nik: Option<&str>| PersonInput {
            nik: nik.map(str::to_string),
            ..person(name, "male", birth)
        };
        let reg = w.tablets[0]
            .store
            .register_household(
                &household(),
                &[
                    child("Yosef Bria", "2024-05-10", None),
                    child("Josef Bria", "2024-05-10", None),
                    child("Petrus Mali", "2023-01-02", Some("5304050201230001")),
                    child("Paulus Mali", "2023-01-02", Some("5304050201230001")),
                ],
                &[],
            )
            .unwrap();
        w.persons = reg.persons;
        for (i, p) in w.persons.clone().into_iter().enumerate() {
            w.tablets[0]
                .store
                .save_measurement(p, None, "2025-11-03", &weight(9.0 + i as f64 / 10.0))
                .unwrap();
        }
        for t in 0..3 {
            w.sync(t);
        }
        w
    }

    /// Push what the tablet made, then pull everything the server holds from others.
    fn sync(&mut self, t: usize) {
        for c in self.tablets[t].store.pending_changes(100_000).unwrap() {
            self.server.entry((c.device, c.seq)).or_insert(c);
        }
        let me = self.tablets[t].store.device_id();
        let theirs: Vec<Change> = self
            .server
            .values()
            .filter(|c| c.device != me)
            .cloned()
            .collect();
        if !theirs.is_empty() {
            self.tablets[t]
                .store
                .apply_pulled(&theirs, None, None)
                .unwrap();
        }
    }

    /// One step; a refused decision (already merged, a merged person, ...) writes nothing.
    fn step(&mut self, (op, t, a, b): (u8, u8, u8, u8)) {
        self.clock.advance(7_000);
        let t = usize::from(t % 3);
        let pa = self.persons[usize::from(a) % self.persons.len()];
        let pb = self.persons[usize::from(b) % self.persons.len()];
        let s = &mut self.tablets[t].store;
        let patch = |k: &str, v: &str| json!({ k: v }).as_object().cloned().unwrap();
        match op % 7 {
            0 => {
                let _ = s.update_person(pa, patch("name", NAMES[usize::from(b) % 3]));
            }
            1 => {
                let _ = s.update_person(pa, patch("birth_date", BIRTHS[usize::from(b) % 3]));
            }
            2 => {
                let open = s.review_conflicts().unwrap();
                if open.is_empty() {
                    return;
                }
                let c = &open[usize::from(a) % open.len()];
                let r = match b % 3 {
                    0 => Resolution::KeepWinner,
                    1 => Resolution::UseLoser,
                    _ if c.field == "birth_date" => Resolution::Corrected(json!("2024-01-15")),
                    _ if c.field == "_deleted" => Resolution::KeepWinner,
                    _ => Resolution::Corrected(json!(format!("Nama Koreksi {b}"))),
                };
                s.resolve_conflict(&c.key, &r, None).unwrap();
            }
            3 => {
                let take: Vec<String> = if b % 2 == 0 {
                    vec![]
                } else {
                    vec!["name".into(), "nik".into()]
                };
                let _ = s.merge_same_person(pa, pb, &take, None);
            }
            4 => {
                let _ = s.dismiss_duplicate(pa, pb, None);
            }
            5 => {
                let day = format!("2025-11-{:02}", 10 + b % 15);
                let _ = s.save_measurement(pa, None, &day, &weight(9.0 + f64::from(b % 9) / 10.0));
            }
            _ => self.sync(t),
        }
    }
}

/// Everything a tablet shows that the property compares.
#[derive(Debug, PartialEq)]
struct Snapshot {
    persons: Vec<(String, String, bool)>,
    facts: Vec<(String, String, bool, String)>,
    conflicts: Vec<String>,
    pairs: Vec<(RecordId, RecordId)>,
    listed: Vec<(RecordId, Vec<RecordId>, Vec<String>)>,
    skdn_d: u32,
}

fn snapshot(s: &Store, persons: &[RecordId]) -> Snapshot {
    let conn = s.connection();
    let persons_rows = conn
        .prepare("SELECT id, values_json, deleted FROM persons ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let facts = conn
        .prepare("SELECT id, kind, deleted, body_json FROM facts ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let mut conflicts: Vec<String> = s
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|(k, _)| format!("{}/{}/{}", k.record, k.field, k.loser))
        .collect();
    conflicts.sort();
    let mut pairs: Vec<(RecordId, RecordId)> = s
        .duplicate_pairs()
        .unwrap()
        .into_iter()
        .map(|p| (p.first.person.id, p.second.person.id))
        .collect();
    pairs.sort_by_key(|(a, b)| (a.to_string(), b.to_string()));
    // The children lists show (merged ones left out) with their timelines' weighings and
    // growth result days.
    let listed_ids: BTreeSet<RecordId> = s
        .roster(POSYANDU, "2025-11-30")
        .unwrap()
        .into_iter()
        .map(|r| r.person.id)
        .collect();
    let mut listed = Vec::new();
    for p in persons {
        if !listed_ids.contains(p) {
            continue;
        }
        let tl = s.person_timeline(*p).unwrap();
        let mut weighings: Vec<RecordId> = tl
            .entries
            .iter()
            .filter(|e| e.kind == EntityKind::Measurement)
            .map(|e| e.id)
            .collect();
        weighings.sort_by_key(|i| i.to_string());
        let growth: Vec<String> = tl
            .growth
            .iter()
            .map(|g| format!("{} {:?}", g.date, g.kms.as_ref().map(|k| k.result)))
            .collect();
        listed.push((*p, weighings, growth));
    }
    let skdn_d = s
        .skdn(POSYANDU, YearMonth::new(2025, 11).unwrap())
        .unwrap()
        .counts
        .d;
    Snapshot {
        persons: persons_rows,
        facts,
        conflicts,
        pairs,
        listed,
        skdn_d,
    }
}

fn step() -> impl Strategy<Value = (u8, u8, u8, u8)> {
    (0u8..7, 0u8..3, 0u8..8, 0u8..8)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(16),
        max_shrink_iters: 100,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn reviews_merges_and_dismissals_converge_and_lose_no_fact(
        steps in proptest::collection::vec(step(), 1..40),
        order in proptest::collection::vec(0u8..3, 3..6),
    ) {
        let mut w = World::new();
        for s in &steps {
            w.step(*s);
        }
        // Every tablet comes online, in a generated order, then all once more.
        for t in &order {
            w.sync(usize::from(*t));
        }
        for t in 0..3 {
            w.sync(t);
        }
        for t in 0..3 {
            w.sync(t);
        }
        let persons = w.persons.clone();
        let snaps: Vec<Snapshot> = w.tablets.iter().map(|t| snapshot(&t.store, &persons)).collect();
        prop_assert_eq!(&snaps[0], &snaps[1]);
        prop_assert_eq!(&snaps[0], &snaps[2]);

        // No fact lost: every fact any tablet made is on every tablet.
        let made: BTreeSet<String> = w
            .server
            .values()
            .filter(|c| c.kind.class() == sync_protocol::Class::Fact && !c.tombstone)
            .map(|c| c.id.to_string())
            .collect();
        let held: BTreeSet<String> = snaps[0].facts.iter().map(|f| f.0.clone()).collect();
        prop_assert!(made.is_subset(&held));
        // Every live weighing shows on exactly one listed child.
        let weighings: BTreeSet<String> = snaps[0]
            .facts
            .iter()
            .filter(|f| f.1 == "measurement" && !f.2)
            .map(|f| f.0.clone())
            .collect();
        let mut shown: Vec<String> = snaps[0]
            .listed
            .iter()
            .flat_map(|(_, ws, _)| ws.iter().map(|i| i.to_string()))
            .collect();
        shown.sort();
        let unique: BTreeSet<String> = shown.iter().cloned().collect();
        prop_assert_eq!(shown.len(), unique.len(), "a weighing shows on two children");
        prop_assert_eq!(unique, weighings);
        // Each listed child weighed this month counts once in D.
        let weighed_now = snaps[0].listed.iter().filter(|(_, ws, _)| !ws.is_empty()).count();
        prop_assert_eq!(snaps[0].skdn_d as usize, weighed_now);
    }
}

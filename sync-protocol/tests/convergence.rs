//! Property tests of the merge rules: random devices make random edits (with syncs between
//! them and clock jumps); every order of delivery, with duplicates and re-deliveries,
//! converges every replica to the same state, and merging replicas is commutative,
//! associative and idempotent.
//!
//! Cases per run: 4,000 (convergence) + 4,000 (algebra) + 2,000 (no fact or value lost)
//! + 1,000 (deletion means the deleter saw the current values) = 11,000.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::json;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use sync_protocol::Stamp;
use sync_protocol::merge::{Record, RecordView};
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, HybridClock, RecordId, Replica, UserId};
use sync_protocol::{ClockPolicy, ConflictKind};
use uuid::Uuid;

thread_local! {
    /// For every tombstone the simulation made: the stamps of the record's changes its
    /// author had received at the time.
    static SEEN_BY_TOMBSTONE: RefCell<BTreeMap<Stamp, BTreeSet<Stamp>>> = const { RefCell::new(BTreeMap::new()) };
}

const T0: u64 = 1_763_800_000_000;

fn uuid7(ms: u64, a: u64, b: u64) -> Uuid {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&a.to_be_bytes());
    rand[8..].copy_from_slice(&(b as u16).to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

fn record_id(n: u64) -> RecordId {
    RecordId(uuid7(T0, 0xabc, n))
}

const FIELDS: [&str; 3] = ["name", "dusun", "phone"];
const VALUES: [&str; 3] = ["a", "b", "c"];
/// Mutable records: two persons and one referral.
const MUTABLE: [(u64, EntityKind); 3] = [
    (1, EntityKind::Person),
    (2, EntityKind::Person),
    (3, EntityKind::Referral),
];

#[derive(Debug, Clone)]
enum Action {
    Edit {
        record: usize,
        field: usize,
        value: usize,
    },
    Delete {
        record: usize,
    },
    AddFact,
    Supersede {
        pick: usize,
    },
    TombstoneFact {
        pick: usize,
    },
    Sync {
        other: usize,
    },
    ClockJump {
        delta_ms: i64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0..3usize, 0..3usize, 0..3usize).prop_map(|(record, field, value)| Action::Edit { record, field, value }),
        1 => (0..3usize).prop_map(|record| Action::Delete { record }),
        3 => Just(Action::AddFact),
        1 => (0..8usize).prop_map(|pick| Action::Supersede { pick }),
        1 => (0..8usize).prop_map(|pick| Action::TombstoneFact { pick }),
        2 => (0..4usize).prop_map(|other| Action::Sync { other }),
        1 => prop_oneof![
            Just(-365 * 86_400_000i64),
            Just(-3_600_000i64),
            Just(-1i64),
            Just(0i64),
            Just(5i64),
            Just(600_000i64),
            Just(365 * 86_400_000i64),
        ].prop_map(|delta_ms| Action::ClockJump { delta_ms }),
    ]
}

struct Device {
    id: DeviceId,
    user: UserId,
    clock: HybridClock,
    wall: u64,
    seq: u64,
    replica: Replica,
    facts: Vec<RecordId>,
}

impl Device {
    fn new(n: u64) -> Self {
        Device {
            id: DeviceId(uuid7(T0, 0xd0, n)),
            user: UserId(uuid7(T0, 0xe0, n)),
            clock: HybridClock::new(ClockPolicy::default()),
            wall: T0 + n * 7,
            seq: 0,
            replica: Replica::new(),
            facts: Vec::new(),
        }
    }

    fn change(&mut self, id: RecordId, kind: EntityKind) -> Change {
        self.wall += 3;
        self.seq += 1;
        Change {
            id,
            kind,
            device: self.id,
            seq: self.seq,
            hlc: self.clock.now(self.wall),
            author: self.user,
            schema: sync_protocol::schema::kind_since(kind),
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: Default::default(),
        }
    }

    fn commit(&mut self, c: Change) {
        self.replica.apply(&c).expect("own change applies");
    }

    fn mutable(&self, id: &RecordId) -> Option<&sync_protocol::merge::MutableRecord> {
        match self.replica.record(id) {
            Some(Record::Mutable(m)) => Some(m),
            _ => None,
        }
    }

    fn act(&mut self, action: &Action, fact_counter: &mut u64) {
        match *action {
            Action::Edit {
                record,
                field,
                value,
            } => {
                let (n, kind) = MUTABLE[record];
                let id = record_id(n);
                let (field, value) = if kind == EntityKind::Referral && field == 0 {
                    ("status", json!(sync_protocol::REFERRAL_STATUSES[value]))
                } else {
                    (FIELDS[field], json!(VALUES[value]))
                };
                let base = self.mutable(&id).and_then(|m| m.base_for(field));
                if let Some(b) = base {
                    // An edit is always stamped after the value it replaces.
                    self.clock.now_after(self.wall, b.hlc);
                }
                let mut c = self.change(id, kind);
                c.body.insert(field.to_string(), value);
                if let Some(b) = base {
                    c.base.insert(field.to_string(), b);
                }
                self.commit(c);
            }
            Action::Delete { record } => {
                let (n, kind) = MUTABLE[record];
                let id = record_id(n);
                let seen = self
                    .mutable(&id)
                    .map(|m| m.seen_clock())
                    .unwrap_or_default();
                if let Some(newest) = seen.values().max() {
                    self.clock.now_after(self.wall, newest.hlc);
                }
                let mut c = self.change(id, kind);
                c.tombstone = true;
                c.base = seen;
                // What the author had received, for the test's own oracle of deletion.
                let known: BTreeSet<Stamp> = self
                    .replica
                    .changes()
                    .filter(|k| k.id == id)
                    .map(Change::stamp)
                    .collect();
                SEEN_BY_TOMBSTONE.with(|m| m.borrow_mut().insert(c.stamp(), known));
                self.commit(c);
            }
            Action::AddFact => {
                *fact_counter += 1;
                let id = RecordId(uuid7(self.wall, 0xfac7, *fact_counter));
                let mut c = self.change(id, EntityKind::Measurement);
                c.body
                    .insert("weight_kg".into(), json!(8.0 + *fact_counter as f64 / 10.0));
                c.body
                    .insert("person".into(), json!(record_id(1).to_string()));
                self.facts.push(id);
                self.commit(c);
            }
            Action::Supersede { pick } => {
                if self.facts.is_empty() {
                    return;
                }
                let old = self.facts[pick % self.facts.len()];
                *fact_counter += 1;
                let id = RecordId(uuid7(self.wall, 0xc0, *fact_counter));
                let mut c = self.change(id, EntityKind::Measurement);
                c.body.insert("weight_kg".into(), json!(9.5));
                c.supersedes = Some(old);
                self.facts.push(id);
                self.commit(c);
            }
            Action::TombstoneFact { pick } => {
                if self.facts.is_empty() {
                    return;
                }
                let id = self.facts[pick % self.facts.len()];
                let mut c = self.change(id, EntityKind::Measurement);
                c.tombstone = true;
                self.commit(c);
            }
            Action::ClockJump { delta_ms } => {
                self.wall = self.wall.saturating_add_signed(delta_ms);
            }
            Action::Sync { .. } => unreachable!("handled by the simulation"),
        }
    }

    /// Receives another device's changes as a pull would: observing their stamps.
    fn receive(&mut self, other: &Replica) {
        for c in other.changes() {
            // Changes reach devices through the server, which bounds their stamps: trusted.
            self.clock.observe_trusted(c.hlc);
            self.replica.apply(c).expect("valid change");
            if c.kind.class() == sync_protocol::Class::Fact && !self.facts.contains(&c.id) {
                self.facts.push(c.id);
            }
        }
    }
}

/// Runs the scenario and returns the devices with their local (partial) replicas.
fn simulate(n_devices: usize, script: &[(usize, Action)]) -> Vec<Device> {
    let mut devices: Vec<Device> = (0..n_devices as u64).map(Device::new).collect();
    let mut fact_counter = 0;
    for (who, action) in script {
        let who = who % n_devices;
        if let Action::Sync { other } = action {
            let other = other % n_devices;
            if other != who {
                let theirs = devices[other].replica.clone();
                devices[who].receive(&theirs);
                let mine = devices[who].replica.clone();
                devices[other].receive(&mine);
            }
        } else {
            devices[who].act(action, &mut fact_counter);
        }
    }
    devices
}

/// A deterministic shuffle (Fisher–Yates with a splitmix64 stream).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        v.swap(i, (z % (i as u64 + 1)) as usize);
    }
}

fn all_changes(devices: &[Device]) -> Vec<Change> {
    let mut u = Replica::new();
    for d in devices {
        assert!(u.merge_from(&d.replica).is_empty());
    }
    u.changes().cloned().collect()
}

fn script() -> impl Strategy<Value = (usize, Vec<(usize, Action)>)> {
    (
        2..=4usize,
        proptest::collection::vec((0..4usize, action()), 1..40),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

    /// Every order of delivery, with duplicates and re-deliveries, converges.
    #[test]
    fn every_delivery_order_converges(
        (n, script) in script(),
        seeds in proptest::collection::vec(any::<u64>(), 3),
        dup_every in 1..5usize,
    ) {
        let devices = simulate(n, &script);
        let changes = all_changes(&devices);
        let mut reference: Option<Replica> = None;
        for seed in seeds {
            let mut order = changes.clone();
            // Re-deliver some changes: a retried push, a page pulled twice.
            let dups: Vec<Change> = changes.iter().step_by(dup_every).cloned().collect();
            order.extend(dups);
            shuffle(&mut order, seed);
            let mut r = Replica::new();
            for c in &order {
                r.apply(c).unwrap();
            }
            match &reference {
                None => reference = Some(r),
                Some(want) => {
                    prop_assert_eq!(&r.view(), &want.view());
                    prop_assert_eq!(&r.conflicts(), &want.conflicts());
                    prop_assert_eq!(&r, want);
                }
            }
        }
        // Devices that finally receive everything agree with the fresh replicas.
        let want = reference.unwrap();
        for mut d in devices {
            let all = {
                let mut r = Replica::new();
                for c in &changes { r.apply(c).unwrap(); }
                r
            };
            d.receive(&all);
            prop_assert_eq!(&d.replica.view(), &want.view());
            prop_assert_eq!(&d.replica.conflicts(), &want.conflicts());
        }
    }

    /// Merging replicas is commutative, associative and idempotent.
    #[test]
    fn merge_is_commutative_associative_idempotent((n, script) in script()) {
        let devices = simulate(n.max(3), &script);
        let (a, b, c) = (&devices[0].replica, &devices[1].replica, &devices[2].replica);
        let merged = |x: &Replica, y: &Replica| {
            let mut m = x.clone();
            assert!(m.merge_from(y).is_empty());
            m
        };
        prop_assert_eq!(merged(a, b), merged(b, a));
        prop_assert_eq!(merged(&merged(a, b), c), merged(a, &merged(b, c)));
        prop_assert_eq!(merged(a, a), a.clone());
        let ab = merged(a, b);
        prop_assert_eq!(merged(&ab, b), ab.clone());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// No fact is lost, a fact's body never changes, and every live correction is listed on
    /// the fact it corrects; every losing field value is either seen by a later edit or in a
    /// conflict.
    #[test]
    fn no_fact_or_value_is_lost((n, script) in script(), seed in any::<u64>()) {
        let devices = simulate(n, &script);
        let mut changes = all_changes(&devices);
        shuffle(&mut changes, seed);
        let mut r = Replica::new();
        for c in &changes { r.apply(c).unwrap(); }
        let view = r.view();
        let conflicts = r.conflicts();
        for c in &changes {
            match view.get(&c.id) {
                Some(RecordView::Fact { body, deleted, superseded_by, .. }) => {
                    if !c.tombstone {
                        prop_assert_eq!(body.as_ref(), Some(&c.body));
                    } else {
                        prop_assert!(*deleted);
                    }
                    for s in superseded_by {
                        let ok = matches!(view.get(s), Some(RecordView::Fact { supersedes: Some(x), deleted: false, .. }) if *x == c.id);
                        prop_assert!(ok, "bad correction link");
                    }
                }
                Some(RecordView::Mutable { values, .. }) => {
                    for (field, value) in &c.body {
                        let current = values.get(field);
                        let answered = changes.iter().any(|o| o.id == c.id && o.base.get(field) == Some(&c.stamp()));
                        let in_conflict = conflicts.iter().any(|k| k.record == c.id && matches!(&k.conflict,
                            ConflictKind::Field { field: f, loser, .. } if f == field && loser.hlc == c.hlc && loser.device == c.device));
                        let rank = c.kind.forward_only_rank(field);
                        let progressed = rank.is_some_and(|rank| {
                            current.and_then(rank) >= rank(value)
                        });
                        prop_assert!(current == Some(value) || answered || in_conflict || progressed,
                            "value {value} of {field} vanished");
                    }
                }
                None => prop_assert!(false, "record {} missing", c.id),
            }
        }
    }
}

#[test]
fn stamps_stay_monotonic_per_device_through_clock_jumps() {
    let script: Vec<(usize, Action)> = vec![
        (
            0,
            Action::Edit {
                record: 0,
                field: 0,
                value: 0,
            },
        ),
        (
            0,
            Action::ClockJump {
                delta_ms: -365 * 86_400_000,
            },
        ),
        (
            0,
            Action::Edit {
                record: 0,
                field: 0,
                value: 1,
            },
        ),
        (0, Action::AddFact),
        (0, Action::ClockJump { delta_ms: 600_000 }),
        (
            0,
            Action::Edit {
                record: 0,
                field: 1,
                value: 2,
            },
        ),
    ];
    let devices = simulate(1, &script);
    let stamps: Vec<Hlc> = devices[0].replica.changes().map(|c| c.hlc).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// A record is deleted exactly when some tombstone's author had received every field's
    /// winning edit, judged from what the simulation knows each author had seen.
    #[test]
    fn deletion_means_the_deleter_saw_the_current_values((n, script) in script()) {
        SEEN_BY_TOMBSTONE.with(|m| m.borrow_mut().clear());
        let devices = simulate(n, &script);
        let mut r = Replica::new();
        for c in all_changes(&devices) { r.apply(&c).unwrap(); }
        let seen = SEEN_BY_TOMBSTONE.with(|m| m.borrow().clone());
        for (n, _) in MUTABLE {
            let Some(Record::Mutable(m)) = r.record(&record_id(n)) else { continue };
            let winners: Vec<Stamp> = m.fields().keys().filter_map(|f| m.winner(f)).map(|w| w.stamp()).collect();
            let expected = m.tombstones().iter().any(|t| {
                let known = seen.get(&t.stamp());
                known.is_some_and(|k| winners.iter().all(|w| k.contains(w)))
            });
            prop_assert_eq!(m.is_deleted(), expected, "record {}", n);
        }
    }
}

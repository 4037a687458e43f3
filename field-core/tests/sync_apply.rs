//! Applying pulled changes: per-field merge with unsynced local edits, conflicts, facts union,
//! idempotence, and equivalence with sync-protocol's reference replica.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use sync_protocol::merge::RecordView;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, RecordId, Replica, Stamp, UserId};

fn edit(
    id: RecordId,
    kind: EntityKind,
    device: DeviceId,
    seq: u64,
    hlc: Hlc,
    body: Value,
    base: &[(&str, Stamp)],
) -> Change {
    Change {
        id,
        kind,
        device,
        seq,
        hlc,
        author: UserId::new_v7(),
        schema: 1,
        tombstone: false,
        supersedes: None,
        base: base.iter().map(|(f, h)| (f.to_string(), *h)).collect(),
        body: body.as_object().cloned().unwrap(),
    }
}

fn hlc(ms: u64) -> Hlc {
    Hlc {
        wall_ms: ms,
        counter: 0,
    }
}

fn person_change(store: &field_core::Store, id: RecordId) -> Change {
    store
        .pending_changes(1000)
        .unwrap()
        .into_iter()
        .find(|c| c.id == id && c.body.contains_key("name") && c.body.contains_key("sex"))
        .unwrap()
}

#[test]
fn a_pulled_edit_merges_per_field_with_an_unsynced_local_edit() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    // Local, unsynced: the kader fixes the name and adds a phone number.
    f.clock.advance(60_000);
    f.store
        .update_person(
            p,
            json!({"name": "Yohanes Bere", "phone": "0812"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let local = f.store.pending_changes(1000).unwrap().pop().unwrap();
    let local_json = serde_json::to_string(&local).unwrap();

    // Pulled: another device, later, changed the name too (without seeing ours) and the RT.
    let other = DeviceId::new_v7();
    let pulled = edit(
        p,
        EntityKind::Person,
        other,
        1,
        hlc(local.hlc.wall_ms + 5_000),
        json!({"name": "Yohanes Bria Bere", "rt": "003"}),
        &[("name", created.stamp())],
    );
    let report = f
        .store
        .apply_pulled(std::slice::from_ref(&pulled), Some("c1"), None)
        .unwrap();
    assert_eq!(report.applied, 1);
    let person = f.store.person(p).unwrap();
    assert_eq!(person.name, "Yohanes Bria Bere"); // later stamp wins the field
    assert_eq!(person.values["phone"], "0812"); // our other field stays
    assert_eq!(person.values["rt"], "003"); // their other field arrives
    // Our losing edit is kept as a conflict for review...
    let conflicts = f.store.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    match &conflicts[0].1.conflict {
        sync_protocol::ConflictKind::Field { field, loser, .. } => {
            assert_eq!(field, "name");
            assert_eq!(loser.value, json!("Yohanes Bere"));
            assert_eq!(loser.device, f.store.device_id());
        }
        other => panic!("{other:?}"),
    }
    // ...and the local change is still in the outbox, pending, exactly as made.
    let still = f
        .store
        .pending_changes(1000)
        .unwrap()
        .into_iter()
        .find(|c| c.seq == local.seq)
        .unwrap();
    assert_eq!(serde_json::to_string(&still).unwrap(), local_json);
    assert_eq!(f.store.sync_counts().unwrap().open_conflicts, 1);
    assert_eq!(f.store.pull_cursor().unwrap().as_deref(), Some("c1"));
    // The clock observed the pulled stamp: the next local edit orders after it.
    f.store
        .update_person(p, json!({"phone": "0813"}).as_object().cloned().unwrap())
        .unwrap();
    let next = f.store.pending_changes(1000).unwrap().pop().unwrap();
    assert!(next.hlc > pulled.hlc);

    // An older pulled edit of a field we changed later does not overwrite ours.
    let old = edit(
        p,
        EntityKind::Person,
        other,
        2,
        hlc(T0 - DAY),
        json!({"phone": "0899"}),
        &[],
    );
    f.store.apply_pulled(&[old], Some("c2"), None).unwrap();
    assert_eq!(f.store.person(p).unwrap().values["phone"], "0813");

    // A supervisor reviews the conflict.
    let (cid, _) = f.store.conflicts().unwrap()[0].clone();
    f.store
        .review_conflict(cid, false, Some("nama sesuai KK"))
        .unwrap();
    assert_eq!(
        f.store.sync_counts().unwrap().open_conflicts,
        f.store.conflicts().unwrap().len() as u64 - 1
    );
}

#[test]
fn pulled_facts_union_and_pages_are_idempotent() {
    let mut f = fixture();
    let other = DeviceId::new_v7();
    let day = sync_protocol::sample::posyandu_day(7, other, UserId::new_v7(), 1, 200);
    let r1 = f.store.apply_pulled(&day[..120], Some("p1"), None).unwrap();
    let r2 = f.store.apply_pulled(&day[80..], Some("p2"), None).unwrap();
    assert_eq!(r1.applied + r2.applied, 240);
    let count = |s: &field_core::Store, sql: &str| -> i64 {
        s.connection().query_row(sql, [], |r| r.get(0)).unwrap()
    };
    let facts = day.iter().filter(|c| c.kind != EntityKind::Person).count() as i64;
    assert_eq!(count(&f.store, "SELECT count(*) FROM facts"), facts);
    let persons: std::collections::BTreeSet<_> = day
        .iter()
        .filter(|c| c.kind == EntityKind::Person)
        .map(|c| c.id)
        .collect();
    assert_eq!(
        count(&f.store, "SELECT count(*) FROM persons"),
        persons.len() as i64
    );
    // Pulled changes never enter the outbox.
    assert_eq!(f.store.sync_counts().unwrap().pending, 0);
    // A fact tombstone that arrives first hides the fact when it comes.
    let m = day
        .iter()
        .find(|c| c.kind == EntityKind::Measurement)
        .unwrap();
    let mut f2 = fixture();
    let mut t = m.clone();
    t.tombstone = true;
    t.body = Body::new();
    t.seq = 999;
    t.hlc = hlc(m.hlc.wall_ms + 10);
    f2.store.apply_pulled(&[t], None, None).unwrap();
    f2.store
        .apply_pulled(std::slice::from_ref(m), None, None)
        .unwrap();
    assert_eq!(
        count(&f2.store, "SELECT count(*) FROM facts WHERE deleted = 1"),
        1
    );
}

#[test]
fn pulled_stamps_are_trusted_when_this_tablet_is_behind() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    // The tablet's clock is set a month back (battery out), never recalibrated.
    f.clock.set(T0 - 30 * DAY);
    let pulled = edit(
        reg.persons[0],
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(T0 + 60_000),
        json!({"phone": "0877"}),
        &[],
    );
    f.store
        .apply_pulled(std::slice::from_ref(&pulled), None, None)
        .unwrap();
    assert_eq!(f.store.hybrid_clock().unwrap().max_observed, pulled.hlc);
    // The kader's later correction still wins: its stamp orders after what was pulled.
    f.store
        .update_person(
            reg.persons[0],
            json!({"phone": "0812"}).as_object().cloned().unwrap(),
        )
        .unwrap();
    assert_eq!(
        f.store.person(reg.persons[0]).unwrap().values["phone"],
        "0812"
    );
    assert!(f.store.conflicts().unwrap().is_empty());
}

#[test]
fn a_tablet_set_a_year_ahead_is_repaired_and_its_unsent_changes_restamped() {
    use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};
    let mut f = fixture();
    f.clock.set(T0 + 365 * DAY); // never calibrated: stamps a year ahead
    let reg = family(&mut f.store);
    f.store
        .update_person(
            reg.persons[0],
            json!({"name": "Yohanes Bere"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let m = f
        .store
        .save_measurement(
            reg.persons[2],
            None,
            "2025-11-22",
            &field_core::MeasurementInput {
                kind: "weight".into(),
                value: 10.5,
                unit: "kg".into(),
                position: None,
                measured_by: None,
            },
        )
        .unwrap();
    f.store
        .correct_fact(m, json!({"value": 10.6}).as_object().cloned().unwrap())
        .unwrap();
    let before = f.store.pending_changes(100).unwrap();
    assert!(before.iter().all(|c| c.hlc.wall_ms >= T0 + 365 * DAY));
    let resp = PushResponse {
        v: 1,
        outcomes: before
            .iter()
            .map(|c| {
                Outcome::rejected(c.seq, Rejection::new(RejectCode::ClockAhead, "ahead", None))
            })
            .collect(),
        acked_seq: 0,
        server_time: T0,
    };
    let r = f.store.record_push_outcomes(&resp).unwrap();
    assert_eq!((r.retry, r.restamped), (before.len(), before.len()));
    let after = f.store.pending_changes(100).unwrap();
    assert_eq!(
        after.iter().map(|c| c.seq).collect::<Vec<_>>(),
        before.iter().map(|c| c.seq).collect::<Vec<_>>()
    );
    let policy = sync_protocol::ClockPolicy::default();
    for c in &after {
        c.check_envelope().unwrap();
        policy.check_remote(c.hlc, T0).unwrap();
    }
    assert!(after.windows(2).all(|w| w[0].hlc < w[1].hlc));
    // The edit's base names the re-stamped creation, not the old stamp.
    let created = after.iter().find(|c| c.id == reg.persons[0]).unwrap();
    let edit = after.iter().rfind(|c| c.id == reg.persons[0]).unwrap();
    assert_eq!(edit.base.get("name"), Some(&created.stamp()));
    // The records moved with them: nothing a year ahead is left, and a replica fed the
    // re-stamped changes sees what the tablet shows.
    let ahead: i64 = f
        .store
        .connection()
        .query_row(
            "SELECT (SELECT count(*) FROM field_edits WHERE hlc > ?1)
                  + (SELECT count(*) FROM facts WHERE made_hlc > ?1)
                  + (SELECT count(*) FROM outbox WHERE hlc > ?1)",
            [hlc(T0 + DAY).to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ahead, 0);
    let mut replica = Replica::new();
    for c in &after {
        replica.apply(c).unwrap();
    }
    for p in &reg.persons {
        let Some(RecordView::Mutable { values, .. }) = replica.view().get(p).cloned() else {
            panic!()
        };
        assert_eq!(f.store.person(*p).unwrap().values, values);
    }
    assert!(f.store.conflicts().unwrap().is_empty());
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    assert_eq!(
        t.entries
            .iter()
            .filter(|e| e.superseded_by.is_none())
            .count(),
        1
    );
    // New edits continue after the re-stamped ones, at the server's time.
    f.store
        .update_person(
            reg.persons[0],
            json!({"phone": "0812"}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let last = f.store.pending_changes(100).unwrap().pop().unwrap();
    assert!(last.hlc > after.last().unwrap().hlc && last.hlc.wall_ms < T0 + DAY);
}

#[test]
fn pulled_tombstone_of_a_person_hides_them_unless_edited_unseen() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    let seen: BTreeMap<String, Stamp> = created
        .body
        .keys()
        .map(|k| (k.clone(), created.stamp()))
        .collect();
    let mut t = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(created.hlc.wall_ms + 1000),
        json!({}),
        &[],
    );
    t.tombstone = true;
    t.base = seen;
    f.store.apply_pulled(&[t], None, None).unwrap();
    assert_eq!(f.store.household(reg.household).unwrap().members.len(), 2);
    assert!(
        f.store
            .search_persons("yohanes bria", None, 5)
            .unwrap()
            .iter()
            .all(|h| h.person.id != p)
    );
    // A local edit the tombstone had not seen brings the person back, with a conflict.
    f.store.connection();
    let mut g = fixture();
    let reg2 = family(&mut g.store);
    let p2 = reg2.persons[0];
    let created2 = person_change(&g.store, p2);
    g.clock.advance(10_000);
    g.store
        .update_person(p2, json!({"phone": "0812"}).as_object().cloned().unwrap())
        .unwrap();
    let mut t2 = edit(
        p2,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(created2.hlc.wall_ms + 20_000),
        json!({}),
        &[],
    );
    t2.tombstone = true;
    t2.base = created2
        .body
        .keys()
        .map(|k| (k.clone(), created2.stamp()))
        .collect();
    g.store.apply_pulled(&[t2], None, None).unwrap();
    assert_eq!(g.store.household(reg2.household).unwrap().members.len(), 3);
    assert!(g.store.conflicts().unwrap().iter().any(|(_, c)| matches!(
        c.conflict,
        sync_protocol::ConflictKind::DeleteOverridden { .. }
    )));
}

/// Many devices editing the same records, delivered in different orders and page sizes:
/// the store ends exactly where sync-protocol's reference replica does.
#[test]
fn the_store_agrees_with_the_reference_replica() {
    let devices: Vec<DeviceId> = (0..3).map(|_| DeviceId::new_v7()).collect();
    let ids: Vec<RecordId> = (0..4).map(|_| RecordId::new_v7()).collect();
    let mut rng = sync_protocol::sample::SampleRng::new(42);
    let mut changes = Vec::new();
    let mut seqs = [0u64; 3];
    let fields = ["name", "phone", "rt", "status"];
    let values = [json!("a"), json!("b"), json!("c")];
    let statuses = [json!("active"), json!("moved"), json!("died")];
    for i in 0..150u64 {
        let d = rng.below(3) as usize;
        seqs[d] += 1;
        let id = ids[rng.below(4) as usize];
        let field = fields[rng.below(4) as usize];
        let value = if field == "status" {
            statuses[rng.below(3) as usize].clone()
        } else {
            values[rng.below(3) as usize].clone()
        };
        let wall = T0 + 1000 + rng.below(40) * 1000 + i % 3;
        let stamp = hlc(wall);
        // A base names some earlier stamp of some device (seen or not).
        let base_stamp = Stamp {
            hlc: hlc(T0 + rng.below(wall - T0)),
            device: devices[rng.below(3) as usize],
        };
        let base: Vec<(&str, Stamp)> = if rng.below(2) == 0 {
            vec![(field, base_stamp)]
        } else {
            vec![]
        };
        let mut c = edit(
            id,
            EntityKind::Person,
            devices[d],
            seqs[d],
            stamp,
            json!({ field: value }),
            &base,
        );
        if rng.below(15) == 0 {
            c.tombstone = true;
            c.body = Body::new();
            c.base = [
                ("name".to_string(), base_stamp),
                ("phone".to_string(), base_stamp),
            ]
            .into();
        }
        changes.push(c);
    }
    let mut replica = Replica::new();
    for c in &changes {
        replica.apply(c).unwrap();
    }
    let view = replica.view();
    for (round, page) in [(0u64, 7usize), (1, 50), (2, 1)] {
        let mut order = changes.clone();
        // A deterministic shuffle per round.
        let mut r = sync_protocol::sample::SampleRng::new(round + 100);
        for i in (1..order.len()).rev() {
            order.swap(i, r.below(i as u64 + 1) as usize);
        }
        let mut f = fixture();
        for chunk in order.chunks(page) {
            f.store.apply_pulled(chunk, None, None).unwrap();
        }
        // Duplicates change nothing.
        f.store.apply_pulled(&order[..20], None, None).unwrap();
        for id in &ids {
            let (values, deleted): (String, bool) = f
                .store
                .connection()
                .query_row(
                    "SELECT values_json, deleted FROM persons WHERE id = ?1",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let values: Body = serde_json::from_str(&values).unwrap();
            match view.get(id) {
                Some(RecordView::Mutable {
                    values: v,
                    deleted: d,
                    ..
                }) => {
                    assert_eq!(&values, v, "round {round}");
                    assert_eq!(deleted, *d, "round {round}");
                }
                other => panic!("{other:?}"),
            }
        }
        let mut mine: Vec<String> = f
            .store
            .conflicts()
            .unwrap()
            .into_iter()
            .map(|(_, c)| serde_json::to_string(&c).unwrap())
            .collect();
        let mut theirs: Vec<String> = replica
            .conflicts()
            .iter()
            .map(|c| serde_json::to_string(c).unwrap())
            .collect();
        mine.sort();
        theirs.sort();
        assert_eq!(mine, theirs, "round {round}");
    }
}

#[test]
fn push_outcomes_mark_sent_and_take_refused_changes_out() {
    use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};
    let mut f = fixture();
    let reg = family(&mut f.store);
    let m = f
        .store
        .save_measurement(
            reg.persons[2],
            None,
            "2025-11-22",
            &field_core::MeasurementInput {
                kind: "weight".into(),
                value: 10.5,
                unit: "kg".into(),
                position: None,
                measured_by: None,
            },
        )
        .unwrap();
    f.store
        .update_person(
            reg.persons[0],
            json!({"phone": "0812"}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let pending = f.store.pending_changes(100).unwrap();
    assert_eq!(pending.len(), 6);
    let (m_seq, phone_seq) = (pending[4].seq, pending[5].seq);
    let mut outcomes: Vec<Outcome> = pending[..4]
        .iter()
        .map(|c| Outcome::accepted(c.seq))
        .collect();
    outcomes.push(Outcome::rejected(
        m_seq,
        Rejection::new(
            RejectCode::OutOfScope,
            "not your posyandu",
            Some("posyandu"),
        ),
    ));
    outcomes.push(Outcome::rejected(
        phone_seq,
        Rejection::new(RejectCode::ClockAhead, "clock ahead", None),
    ));
    let resp = PushResponse {
        v: 1,
        outcomes,
        acked_seq: 4,
        server_time: T0,
    };
    let r = f.store.record_push_outcomes(&resp).unwrap();
    assert_eq!((r.sent, r.rejected, r.retry), (4, 1, 1));
    let counts = f.store.sync_counts().unwrap();
    assert_eq!((counts.pending, counts.rejected), (1, 1));
    assert!(counts.last_push_ms.is_some());
    // The refused measurement is gone from the records, and listed with its reason.
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    assert!(t.entries.iter().all(|e| e.id != m));
    let rejected = f.store.rejected_changes().unwrap();
    assert_eq!(rejected[0].0.id, m);
    assert_eq!(
        rejected[0].1.as_ref().unwrap().key,
        "sync.reject.out_of_scope"
    );
    // The retryable one stays, in the records and the outbox.
    assert_eq!(
        f.store.person(reg.persons[0]).unwrap().values["phone"],
        "0812"
    );
    assert_eq!(f.store.pending_changes(10).unwrap()[0].seq, phone_seq);
}

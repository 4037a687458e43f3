//! The store's two tie rules, against sync-protocol's reference `Replica`:
//! - a restored tablet that reuses a stamp for a different edit or tombstone
//!   (`same_stamp_edit`, `same_stamp_tombstone`): every delivery order keeps the same one;
//! - equal ranks on the referral status: the greater stamp wins, and it is the base of the
//!   next local edit and what a deletion must have seen.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sync_protocol::merge::RecordView;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, RecordId, Replica, Stamp, UserId};

const P: EntityKind = EntityKind::Person;
const R: EntityKind = EntityKind::Referral;

fn uuid7(ms: u64, n: u64) -> uuid::Uuid {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

fn rid(n: u64) -> RecordId {
    RecordId(uuid7(T0, n))
}

fn dev(n: u64) -> DeviceId {
    DeviceId(uuid7(T0, 0xd000 + n))
}

fn author(n: u64) -> UserId {
    UserId(uuid7(T0, 0xe000 + n))
}

fn at(t: u64) -> Hlc {
    Hlc {
        wall_ms: T0 + 1_000 * t,
        counter: 0,
    }
}

fn stamp(d: u64, t: u64) -> Stamp {
    Stamp {
        hlc: at(t),
        device: dev(d),
    }
}

/// An edit by device `d` at time `t`; `base` names (field, device, time) of what it saw.
fn edit(
    kind: EntityKind,
    d: u64,
    seq: u64,
    t: u64,
    body: Value,
    base: &[(&str, u64, u64)],
) -> Change {
    Change {
        id: rid(1),
        kind,
        device: dev(d),
        seq,
        hlc: at(t),
        author: author(d),
        schema: 1,
        tombstone: false,
        supersedes: None,
        base: base
            .iter()
            .map(|(f, d, t)| (f.to_string(), stamp(*d, *t)))
            .collect(),
        body: body.as_object().cloned().unwrap(),
    }
}

fn tombstone(kind: EntityKind, d: u64, seq: u64, t: u64, seen: &[(&str, u64, u64)]) -> Change {
    let mut c = edit(kind, d, seq, t, json!({}), seen);
    c.tombstone = true;
    c.body = Body::new();
    c
}

/// What a person sees of record 1 on the store: values, deleted, conflicts (as JSON).
fn store_state(s: &field_core::Store, kind: EntityKind) -> (Body, bool, Vec<String>) {
    let table = match kind {
        EntityKind::Person => "persons",
        EntityKind::Referral => "referrals",
        other => panic!("{other}"),
    };
    let (values, deleted): (String, bool) = s
        .connection()
        .query_row(
            &format!("SELECT values_json, deleted FROM {table} WHERE id = ?1"),
            [rid(1).to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut conflicts: Vec<String> = s
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|(_, c)| serde_json::to_string(&c).unwrap())
        .collect();
    conflicts.sort();
    (serde_json::from_str(&values).unwrap(), deleted, conflicts)
}

fn replica_state(changes: &[Change]) -> (Body, bool, Vec<String>) {
    let mut r = Replica::new();
    for c in changes {
        r.apply(c).unwrap();
    }
    let Some(RecordView::Mutable {
        values, deleted, ..
    }) = r.view().remove(&rid(1))
    else {
        panic!("no record")
    };
    let mut conflicts: Vec<String> = r
        .conflicts()
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    conflicts.sort();
    (values, deleted, conflicts)
}

/// Pulls `changes` one page per change, in this order, into a fresh store.
fn pulled(changes: &[&Change], role: &str) -> Fixture {
    let mut f = fixture_with_role(role);
    for c in changes {
        f.store
            .apply_pulled(std::slice::from_ref(*c), None, None)
            .unwrap();
    }
    f
}

/// Every order of delivery (one change per page) reaches the reference replica's state.
fn every_order_agrees(kind: EntityKind, changes: &[Change]) -> (Body, bool, Vec<String>) {
    let want = replica_state(changes);
    let n = changes.len();
    let mut orders = vec![(0..n).collect::<Vec<_>>(), (0..n).rev().collect()];
    // Also each change moved last (the arrival that "last arrival wins" would keep).
    for i in 0..n {
        let mut o: Vec<usize> = (0..n).filter(|j| *j != i).collect();
        o.push(i);
        orders.push(o);
    }
    for order in orders {
        let refs: Vec<&Change> = order.iter().map(|i| &changes[*i]).collect();
        let f = pulled(&refs, "kader");
        assert_eq!(store_state(&f.store, kind), want, "order {order:?}");
        // A duplicate delivery of the whole set changes nothing.
        let mut f = f;
        f.store.apply_pulled(changes, None, None).unwrap();
        assert_eq!(store_state(&f.store, kind), want, "order {order:?} again");
    }
    want
}

/// A tablet restored from a backup reuses the stamp t=20 for another name (renumbered, so a
/// new sequence number): every store keeps the same edit as the reference replica.
#[test]
fn a_restored_tablet_reusing_a_stamp_for_another_edit_is_kept_the_same_everywhere() {
    let created = edit(P, 1, 1, 10, json!({"name": "Ani", "sex": "female"}), &[]);
    let before = edit(P, 1, 2, 20, json!({"name": "Yohana"}), &[("name", 1, 10)]);
    let after_restore = edit(P, 1, 7, 20, json!({"name": "Maria"}), &[("name", 1, 10)]);
    let (values, deleted, conflicts) =
        every_order_agrees(P, &[created, before.clone(), after_restore.clone()]);
    assert_eq!(values["name"], json!("Maria"), "the smaller by JSON form");
    assert!(!deleted && conflicts.is_empty(), "{conflicts:?}");
    // The other way round: the same rule, not "first arrival wins".
    let before2 = edit(P, 1, 2, 20, json!({"name": "Maria"}), &[("name", 1, 10)]);
    let after2 = edit(P, 1, 7, 20, json!({"name": "Yohana"}), &[("name", 1, 10)]);
    let created = edit(P, 1, 1, 10, json!({"name": "Ani", "sex": "female"}), &[]);
    let (values, ..) = every_order_agrees(P, &[created, before2, after2]);
    assert_eq!(values["name"], json!("Maria"));
}

/// Two tombstones under one stamp that saw different fields: every store agrees whether
/// the person is deleted.
#[test]
fn a_reused_stamp_on_a_tombstone_is_kept_the_same_everywhere() {
    let created = edit(P, 1, 1, 10, json!({"name": "Ani", "sex": "female"}), &[]);
    let phone = edit(P, 2, 1, 15, json!({"phone": "0812"}), &[]);
    let saw_name = tombstone(P, 1, 2, 30, &[("name", 1, 10), ("sex", 1, 10)]);
    let saw_all = tombstone(
        P,
        1,
        5,
        30,
        &[("name", 1, 10), ("sex", 1, 10), ("phone", 2, 15)],
    );
    let (_, deleted, _) = every_order_agrees(P, &[created, phone, saw_name, saw_all]);
    assert!(deleted, "the kept tombstone saw every field");
}

/// A reused stamp on the referral status ("received", then "done" after the restore).
#[test]
fn a_reused_stamp_on_the_referral_status_is_kept_the_same_everywhere() {
    let made = edit(R, 1, 1, 10, json!({"status": "made"}), &[]);
    let received = edit(
        R,
        2,
        1,
        20,
        json!({"status": "received"}),
        &[("status", 1, 10)],
    );
    let done = edit(R, 2, 4, 20, json!({"status": "done"}), &[("status", 1, 10)]);
    let (values, ..) = every_order_agrees(R, &[made, received, done]);
    assert_eq!(values["status"], json!("done"));
}

fn referral(t: u64) -> Change {
    edit(
        R,
        1,
        1,
        t,
        json!({"status": "made", "posyandu": POSYANDU, "reason": "BGM"}),
        &[],
    )
}

/// Two health workers mark one referral "received" without seeing each other. The greater
/// stamp wins: the bidan's next step names it as its base, and a deletion deletes only when
/// it saw that stamp.
#[test]
fn equal_status_ranks_fall_to_the_greater_stamp_on_the_store() {
    let made = referral(10);
    let early = edit(
        R,
        3,
        1,
        15,
        json!({"status": "received"}),
        &[("status", 1, 10)],
    );
    let late = edit(
        R,
        2,
        1,
        20,
        json!({"status": "received"}),
        &[("status", 1, 10)],
    );
    every_order_agrees(R, &[made.clone(), early.clone(), late.clone()]);

    for order in [[&made, &early, &late], [&made, &late, &early]] {
        let mut f = pulled(&order, "bidan");
        f.clock.set(T0 + 60_000);
        f.store
            .advance_referral(rid(1), "done", "2025-11-22", None)
            .unwrap();
        let step = f
            .store
            .pending_changes(100)
            .unwrap()
            .into_iter()
            .find(|c| c.id == rid(1))
            .unwrap();
        assert_eq!(step.base.get("status"), Some(&stamp(2, 20)), "{order:?}");
    }

    let saw_greater = tombstone(R, 4, 1, 40, &[("status", 2, 20), ("reason", 1, 10)]);
    let saw_greater = {
        let mut t = saw_greater;
        t.base.insert("posyandu".into(), stamp(1, 10));
        t
    };
    let (_, deleted, _) =
        every_order_agrees(R, &[made.clone(), early.clone(), late.clone(), saw_greater]);
    assert!(deleted, "a deletion that saw the winner deletes");
    let mut saw_smaller = tombstone(R, 4, 1, 40, &[("status", 3, 15), ("reason", 1, 10)]);
    saw_smaller.base.insert("posyandu".into(), stamp(1, 10));
    let (_, deleted, _) = every_order_agrees(R, &[made, early, late, saw_smaller]);
    assert!(!deleted, "a deletion that saw a loser does not");
}

/// Statuses a newer app may send, unknown here, rank equally: the greater stamp is shown.
#[test]
fn equal_ranks_of_unknown_statuses_show_the_greater_stamp_on_the_store() {
    let a = edit(R, 1, 1, 10, json!({"status": "zzz_later"}), &[]);
    let b = edit(R, 2, 1, 20, json!({"status": "aaa_later"}), &[]);
    let (values, ..) = every_order_agrees(R, &[a, b]);
    assert_eq!(values["status"], json!("aaa_later"));
}

//! The two tie rules of the merge, pinned in every delivery order:
//! - a restored tablet that reuses a stamp `(hlc, device)` for different content (a field edit
//!   or a tombstone): every replica keeps the same one (the smaller by JSON form), never "the
//!   last to arrive";
//! - equal ranks on the forward-only referral status: the greater stamp wins (its value when
//!   the values differ, its stamp as the base of the next edit and of a deletion).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use sync_protocol::merge::{MutableRecord, Record, RecordView};
use sync_protocol::{Change, EntityKind, Replica, Stamp};

const P: EntityKind = EntityKind::Person;
const R: EntityKind = EntityKind::Referral;

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// Applies `changes` in every order; returns the (single) state every order reached.
fn one_state_in_every_order(changes: &[Change]) -> Replica {
    let mut reached: Option<Replica> = None;
    for order in permutations(changes.len()) {
        let mut r = Replica::new();
        for &i in &order {
            r.apply(&changes[i]).unwrap();
        }
        match &reached {
            None => reached = Some(r),
            Some(first) => {
                assert_eq!(
                    first.record(&rid(1)),
                    r.record(&rid(1)),
                    "order {order:?} reached another record"
                );
                assert_eq!(first.view(), r.view(), "order {order:?}");
                assert_eq!(first.conflicts(), r.conflicts(), "order {order:?}");
            }
        }
    }
    reached.unwrap()
}

fn mutable(r: &Replica) -> &MutableRecord {
    match r.record(&rid(1)) {
        Some(Record::Mutable(m)) => m,
        other => panic!("{other:?}"),
    }
}

fn values(r: &Replica) -> (serde_json::Value, bool) {
    match r.view().get(&rid(1)) {
        Some(RecordView::Mutable {
            values, deleted, ..
        }) => (serde_json::Value::Object(values.clone()), *deleted),
        other => panic!("{other:?}"),
    }
}

/// Device 1 registers a person at t=10 and syncs; its tablet is restored from a backup made
/// before that, renumbered, and its clock set back: the same stamp (t=20) is made twice, with
/// different names, under two sequence numbers.
#[test]
fn a_restored_tablet_reusing_a_stamp_for_another_edit_converges_in_every_order() {
    let created = edit(rid(1), P, 1, 1, 10, &[("name", json!("Ani"))], &[]);
    let before = edit(
        rid(1),
        P,
        1,
        2,
        20,
        &[("name", json!("Yohana"))],
        &[("name", 1, 10)],
    );
    let after_restore = edit(
        rid(1),
        P,
        1,
        7,
        20,
        &[("name", json!("Maria"))],
        &[("name", 1, 10)],
    );
    let r = one_state_in_every_order(&[created, before, after_restore]);
    // One of the two is kept everywhere: the smaller by JSON form ("Maria" < "Yohana").
    assert_eq!(values(&r).0, json!({"name": "Maria"}));
    let edits = &mutable(&r).fields()["name"];
    assert_eq!(edits.len(), 2, "one edit per stamp: {edits:?}");
    assert_eq!(edits[1].value, json!("Maria"));
    assert!(r.conflicts().is_empty(), "{:?}", r.conflicts());
}

/// Two tombstones under one stamp that saw different things: every order keeps the same one,
/// so every replica agrees whether the person is deleted.
#[test]
fn a_reused_stamp_on_a_tombstone_converges_in_every_order() {
    let created = edit(rid(1), P, 1, 1, 10, &[("name", json!("Ani"))], &[]);
    let other = edit(rid(1), P, 2, 1, 15, &[("phone", json!("0812"))], &[]);
    // Saw the name only: the unseen phone keeps the person.
    let saw_name = tombstone(rid(1), P, 1, 2, 30, &[("name", 1, 10)]);
    // Same stamp, after a restore: saw both fields.
    let saw_both = tombstone(rid(1), P, 1, 5, 30, &[("name", 1, 10), ("phone", 2, 15)]);
    let r = one_state_in_every_order(&[created, other, saw_name, saw_both]);
    let kept = mutable(&r).tombstones();
    assert_eq!(kept.len(), 1, "{kept:?}");
    // The smaller by JSON form: `"seen":{"name":…,"phone":…}` vs `"seen":{"name":…}`.
    let a = serde_json::to_string(&kept[0]).unwrap();
    assert!(a.contains("phone"), "{a}");
    assert!(values(&r).1, "deleted everywhere");
}

/// The same reused stamps reached by merging whole records: `a.merge(b)` equals `b.merge(a)`.
#[test]
fn merging_records_that_hold_a_reused_stamp_is_commutative() {
    let x = edit(rid(1), P, 1, 1, 20, &[("name", json!("Yohana"))], &[]);
    let y = edit(rid(1), P, 1, 2, 20, &[("name", json!("Maria"))], &[]);
    let tx = tombstone(rid(1), P, 1, 3, 30, &[("name", 1, 20)]);
    let ty = tombstone(rid(1), P, 1, 4, 30, &[]);
    let mut a = MutableRecord::new(P);
    a.apply(&x).unwrap();
    a.apply(&tx).unwrap();
    let mut b = MutableRecord::new(P);
    b.apply(&y).unwrap();
    b.apply(&ty).unwrap();
    let mut ab = a.clone();
    ab.merge(&b).unwrap();
    let mut ba = b.clone();
    ba.merge(&a).unwrap();
    assert_eq!(ab, ba);
    assert_eq!(ab.values()["name"], json!("Maria"));
    // Re-merging changes nothing.
    let mut again = ab.clone();
    again.merge(&a).unwrap();
    again.merge(&b).unwrap();
    assert_eq!(again, ab);
}

/// A restored tablet reusing a stamp on the referral's status ("received" then, after the
/// restore, "done"): every order keeps the same value.
#[test]
fn a_reused_stamp_on_the_referral_status_converges_in_every_order() {
    let made = edit(rid(1), R, 1, 1, 10, &[("status", json!("made"))], &[]);
    let received = edit(
        rid(1),
        R,
        2,
        1,
        20,
        &[("status", json!("received"))],
        &[("status", 1, 10)],
    );
    let done = edit(
        rid(1),
        R,
        2,
        4,
        20,
        &[("status", json!("done"))],
        &[("status", 1, 10)],
    );
    let r = one_state_in_every_order(&[made, received, done]);
    // "done" < "received" by JSON form: kept, and it is also the furthest.
    assert_eq!(values(&r).0, json!({"status": "done"}));
    assert_eq!(mutable(&r).fields()["status"].len(), 2);
}

/// Two health workers mark the same referral "received" without seeing each other: equal
/// ranks, so the greater stamp wins. Its stamp is the base the next edit names, and a
/// deletion that saw it (and only it) deletes.
#[test]
fn equal_status_ranks_fall_to_the_greater_stamp() {
    let made = edit(rid(1), R, 1, 1, 10, &[("status", json!("made"))], &[]);
    let early = edit(
        rid(1),
        R,
        3,
        1,
        15,
        &[("status", json!("received"))],
        &[("status", 1, 10)],
    );
    let late = edit(
        rid(1),
        R,
        2,
        1,
        20,
        &[("status", json!("received"))],
        &[("status", 1, 10)],
    );
    let r = one_state_in_every_order(&[made.clone(), early.clone(), late.clone()]);
    let m = mutable(&r);
    let greater: Stamp = stamp(2, 20);
    assert_eq!(m.winner("status").unwrap().stamp(), greater);
    assert_eq!(m.winner("status").unwrap().author, user(2));
    assert_eq!(m.base_for("status"), Some(greater));
    assert_eq!(m.seen_clock()["status"], greater);

    // A deletion that saw the greater stamp deletes; one that saw the smaller does not.
    let saw_greater = tombstone(rid(1), R, 4, 1, 40, &[("status", 2, 20)]);
    let r = one_state_in_every_order(&[made.clone(), early.clone(), late.clone(), saw_greater]);
    assert!(values(&r).1, "a deletion that saw the winner deletes");
    let saw_smaller = tombstone(rid(1), R, 4, 1, 40, &[("status", 3, 15)]);
    let r = one_state_in_every_order(&[made, early, late, saw_smaller]);
    assert!(!values(&r).1, "a deletion that saw a loser does not");
}

/// Values a newer app may send (unknown to this one) all rank below the known ones and
/// equally among themselves: the greater stamp decides which is shown.
#[test]
fn equal_ranks_of_unknown_statuses_show_the_greater_stamp() {
    let a = edit(rid(1), R, 1, 1, 10, &[("status", json!("zzz_later"))], &[]);
    let b = edit(rid(1), R, 2, 1, 20, &[("status", json!("aaa_later"))], &[]);
    let r = one_state_in_every_order(&[a.clone(), b.clone()]);
    assert_eq!(values(&r).0, json!({"status": "aaa_later"}));
    // And any known value, even the first, is further than an unknown one.
    let c = edit(rid(1), R, 3, 1, 5, &[("status", json!("made"))], &[]);
    let r = one_state_in_every_order(&[a, b, c]);
    assert_eq!(values(&r).0, json!({"status": "made"}));
}

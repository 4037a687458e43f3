//! The outbox's "sent through" mark (device migration V9): a push's answer moves the mark
//! over the answered run without rewriting its rows; answers out of order, retries and
//! another user's changes are marked row by row; every reader sees the same states.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};

/// `n` more pending changes (phone edits of the family's father).
fn edits(f: &mut Fixture, person: sync_protocol::RecordId, n: usize) {
    for i in 0..n {
        f.store
            .update_person(
                person,
                json!({"phone": format!("0812{i:04}")})
                    .as_object()
                    .cloned()
                    .unwrap(),
            )
            .unwrap();
    }
}

fn answer(outcomes: Vec<Outcome>) -> PushResponse {
    PushResponse {
        v: 1,
        outcomes,
        acked_seq: 0,
        server_time: T0,
    }
}

fn accepted(seqs: std::ops::RangeInclusive<u64>) -> Vec<Outcome> {
    seqs.map(Outcome::accepted).collect()
}

fn pending_seqs(f: &Fixture) -> Vec<u64> {
    f.store
        .pending_changes(100)
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect()
}

/// (seq, state) of every outbox row, and the mark.
fn rows(f: &Fixture) -> (Vec<(i64, String)>, i64) {
    let c = f.store.connection();
    let mut stmt = c
        .prepare("SELECT seq, state FROM outbox ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let mark = c
        .query_row("SELECT sent_through FROM device_state", [], |r| r.get(0))
        .unwrap();
    (rows, mark)
}

#[test]
fn the_mark_moves_over_answered_runs_without_rewriting_them() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    edits(&mut f, reg.persons[0], 6);
    assert_eq!(pending_seqs(&f), (1..=10).collect::<Vec<_>>());

    // An answer for a later batch first: its rows are marked one by one, the mark stays.
    let r = f
        .store
        .record_push_outcomes(&answer(accepted(4..=6)))
        .unwrap();
    assert_eq!(r.sent, 3);
    assert_eq!(pending_seqs(&f), vec![1, 2, 3, 7, 8, 9, 10]);
    let (states, mark) = rows(&f);
    assert_eq!(mark, 0);
    assert_eq!(states[3].1, "sent");

    // The first batch's answer moves the mark over it, and over 4..6 marked before; its rows
    // are not rewritten.
    f.store
        .record_push_outcomes(&answer(accepted(1..=3)))
        .unwrap();
    let (states, mark) = rows(&f);
    assert_eq!(mark, 6);
    assert_eq!(states[0], (1, "pending".into()));
    assert_eq!(pending_seqs(&f), vec![7, 8, 9, 10]);
    assert_eq!(f.store.sync_counts().unwrap().pending, 4);

    // A retry in the middle: it stays pending (re-stamped), the mark stops below it and the
    // changes after it are marked one by one.
    let mut outcomes = vec![Outcome::rejected(
        7,
        Rejection::new(RejectCode::ClockAhead, "clock ahead", None),
    )];
    outcomes.extend(accepted(8..=10));
    let r = f.store.record_push_outcomes(&answer(outcomes)).unwrap();
    assert_eq!((r.sent, r.retry), (3, 1));
    assert_eq!(pending_seqs(&f), vec![7]);
    let (states, mark) = rows(&f);
    assert_eq!(mark, 6);
    assert_eq!(states[7].1, "sent");
    assert_eq!(f.store.sync_counts().unwrap().pending, 1);

    // The retried change accepted: the mark reaches the end.
    f.store
        .record_push_outcomes(&answer(accepted(7..=7)))
        .unwrap();
    assert_eq!(rows(&f).1, 10);
    assert!(pending_seqs(&f).is_empty());
    let counts = f.store.sync_counts().unwrap();
    assert_eq!((counts.pending, counts.rejected), (0, 0));

    // A duplicate answer for changes under the mark (a relayed bundle's answer) changes
    // nothing; the next change is pending above the mark.
    f.store
        .record_push_outcomes(&answer(accepted(2..=5)))
        .unwrap();
    assert_eq!(rows(&f).1, 10);
    edits(&mut f, reg.persons[0], 1);
    assert_eq!(pending_seqs(&f), vec![11]);
    // Every change still exported, sent or not.
    assert_eq!(f.store.export_changes(|_| Ok(())).unwrap(), 11);
}

#[test]
fn a_final_rejection_is_settled_and_the_mark_passes_it() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    edits(&mut f, reg.persons[0], 2);
    let mut outcomes = accepted(1..=4);
    outcomes.push(Outcome::rejected(
        5,
        Rejection::new(RejectCode::OutOfScope, "not your posyandu", None),
    ));
    outcomes.extend(accepted(6..=6));
    let r = f.store.record_push_outcomes(&answer(outcomes)).unwrap();
    assert_eq!((r.sent, r.rejected), (5, 1));
    let (states, mark) = rows(&f);
    assert_eq!(mark, 6);
    assert_eq!(states[4], (5, "rejected".into()));
    assert_eq!(states[5], (6, "pending".into()));
    let counts = f.store.sync_counts().unwrap();
    assert_eq!((counts.pending, counts.rejected), (0, 1));
    assert_eq!(f.store.rejected_changes().unwrap().len(), 1);
    // The rejected change is not exported; the sent ones are.
    assert_eq!(f.store.export_changes(|_| Ok(())).unwrap(), 5);
}

#[test]
fn another_users_change_holds_the_mark_until_it_is_sent() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    edits(&mut f, reg.persons[0], 2);
    let mut outcomes = accepted(1..=2);
    outcomes.push(Outcome::rejected(
        3,
        Rejection::new(RejectCode::AwaitsAuthor, "awaits its author", None),
    ));
    outcomes.extend(accepted(4..=6));
    let r = f.store.record_push_outcomes(&answer(outcomes)).unwrap();
    assert_eq!(r.awaiting, vec![3]);
    assert_eq!(rows(&f).1, 2);
    assert_eq!(pending_seqs(&f), vec![3]);
    f.store
        .record_push_outcomes(&answer(accepted(3..=3)))
        .unwrap();
    assert_eq!(rows(&f).1, 6);
    assert!(pending_seqs(&f).is_empty());
}

#[test]
fn a_rejected_change_answered_sent_later_is_sent() {
    let mut f = fixture();
    family(&mut f.store);
    let mut outcomes = accepted(1..=2);
    outcomes.push(Outcome::rejected(
        3,
        Rejection::new(RejectCode::OutOfScope, "not your posyandu", None),
    ));
    f.store.record_push_outcomes(&answer(outcomes)).unwrap();
    assert_eq!(rows(&f).1, 3);
    assert_eq!(f.store.sync_counts().unwrap().rejected, 1);
    // A relayed bundle's late answer: the server had it.
    f.store
        .record_push_outcomes(&answer(vec![Outcome::duplicate(3)]))
        .unwrap();
    let (states, mark) = rows(&f);
    assert_eq!((states[2].1.as_str(), mark), ("sent", 3));
    assert_eq!(f.store.sync_counts().unwrap().rejected, 0);
}

#[test]
fn an_answer_for_numbers_not_written_yet_leaves_them_pending_when_written() {
    // A tablet restored from an older backup receives a relayed bundle's late answer for
    // numbers its restored outbox never held (11..=20 here, with 1..=10 written).
    let mut f = fixture();
    let reg = family(&mut f.store);
    edits(&mut f, reg.persons[0], 6);
    assert_eq!(pending_seqs(&f), (1..=10).collect::<Vec<_>>());
    f.store
        .record_push_outcomes(&answer(accepted(1..=20)))
        .unwrap();
    // The mark stops at the last number written.
    assert_eq!(rows(&f).1, 10);
    assert!(pending_seqs(&f).is_empty());
    // The next changes are written as 11 and 12: they are pending (the server will answer
    // `seq_reused` and they are renumbered), not hidden under the mark.
    edits(&mut f, reg.persons[0], 2);
    assert_eq!(pending_seqs(&f), vec![11, 12]);
    assert_eq!(f.store.sync_counts().unwrap().pending, 2);
}

//! The merge rules, as tables of scenarios: changes in, state and conflicts out. Each scenario
//! is also checked in every delivery order (all permutations), so the expected state does not
//! depend on arrival order.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sync_protocol::merge::RecordView;
use sync_protocol::{Change, ConflictKind, EntityKind, Replica};

const P: EntityKind = EntityKind::Person;
const R: EntityKind = EntityKind::Referral;
const M: EntityKind = EntityKind::Measurement;

struct Case {
    name: &'static str,
    changes: Vec<Change>,
    /// Expected values of record 1 (mutable) and whether it is deleted.
    values: Value,
    deleted: bool,
    /// Expected conflicts as (field or "_deleted", losing value).
    conflicts: Vec<(&'static str, Value)>,
}

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

fn cases() -> Vec<Case> {
    let id = rid(1);
    vec![
        Case {
            name: "sequential edits on one device: last one wins, no conflict",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("name", json!("Maria"))], &[]),
                edit(
                    id,
                    P,
                    1,
                    2,
                    20,
                    &[("name", json!("Maria Bria"))],
                    &[("name", 1, 10)],
                ),
            ],
            values: json!({"name": "Maria Bria"}),
            deleted: false,
            conflicts: vec![],
        },
        Case {
            name: "an edit that saw another device's edit replaces it without conflict",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("name", json!("Maria"))], &[]),
                edit(
                    id,
                    P,
                    2,
                    1,
                    15,
                    &[("name", json!("Mariana"))],
                    &[("name", 1, 10)],
                ),
            ],
            values: json!({"name": "Mariana"}),
            deleted: false,
            conflicts: vec![],
        },
        Case {
            name: "concurrent edits of one field: later HLC wins, the loser is kept as a conflict",
            changes: vec![
                edit(
                    id,
                    P,
                    1,
                    1,
                    10,
                    &[("name", json!("Maria")), ("dusun", json!("Halilulik A"))],
                    &[],
                ),
                edit(
                    id,
                    P,
                    2,
                    1,
                    20,
                    &[("name", json!("Maria Bria"))],
                    &[("name", 1, 10)],
                ),
                edit(
                    id,
                    P,
                    3,
                    1,
                    30,
                    &[("name", json!("Mariya"))],
                    &[("name", 1, 10)],
                ),
            ],
            values: json!({"name": "Mariya", "dusun": "Halilulik A"}),
            deleted: false,
            conflicts: vec![("name", json!("Maria Bria"))],
        },
        Case {
            name: "concurrent edits of different fields merge without conflict",
            changes: vec![
                edit(
                    id,
                    P,
                    1,
                    1,
                    10,
                    &[("name", json!("Maria")), ("rt", json!("01"))],
                    &[],
                ),
                edit(
                    id,
                    P,
                    2,
                    1,
                    20,
                    &[("name", json!("Maria Bria"))],
                    &[("name", 1, 10)],
                ),
                edit(id, P, 3, 1, 15, &[("rt", json!("02"))], &[("rt", 1, 10)]),
            ],
            values: json!({"name": "Maria Bria", "rt": "02"}),
            deleted: false,
            conflicts: vec![],
        },
        Case {
            name: "equal HLC: the device id breaks the tie, the same on every replica",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("phone", json!("0812"))], &[]),
                edit(id, P, 2, 1, 10, &[("phone", json!("0813"))], &[]),
            ],
            values: json!({"phone": "0813"}),
            deleted: false,
            conflicts: vec![("phone", json!("0812"))],
        },
        Case {
            name: "concurrent edits to the same value are not a conflict",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("status", json!("moved"))], &[]),
                edit(id, P, 2, 1, 12, &[("status", json!("moved"))], &[]),
            ],
            values: json!({"status": "moved"}),
            deleted: false,
            conflicts: vec![],
        },
        Case {
            name: "a tombstone wins over the edits it saw",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("name", json!("Maria"))], &[]),
                edit(id, P, 2, 1, 20, &[("rt", json!("03"))], &[]),
                tombstone(id, P, 3, 1, 30, &[("name", 1, 10), ("rt", 2, 20)]),
            ],
            values: json!({"name": "Maria", "rt": "03"}),
            deleted: true,
            conflicts: vec![],
        },
        Case {
            name: "a tombstone does not win over an edit it did not see, even an older one",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("name", json!("Maria"))], &[]),
                edit(id, P, 2, 1, 25, &[("rt", json!("03"))], &[]),
                tombstone(id, P, 3, 1, 30, &[("name", 1, 10)]),
            ],
            values: json!({"name": "Maria", "rt": "03"}),
            deleted: false,
            conflicts: vec![("_deleted", json!(null))],
        },
        Case {
            name: "an edit after the tombstone that did not see it keeps the record",
            changes: vec![
                edit(id, P, 1, 1, 10, &[("name", json!("Maria"))], &[]),
                tombstone(id, P, 2, 1, 20, &[("name", 1, 10)]),
                edit(
                    id,
                    P,
                    1,
                    2,
                    30,
                    &[("name", json!("Maria B"))],
                    &[("name", 1, 10)],
                ),
            ],
            values: json!({"name": "Maria B"}),
            deleted: false,
            conflicts: vec![("_deleted", json!(null))],
        },
        Case {
            name: "a referral's status only moves forward, whatever the clocks say",
            changes: vec![
                edit(
                    id,
                    R,
                    1,
                    1,
                    10,
                    &[("status", json!("made")), ("reason", json!("BGM"))],
                    &[],
                ),
                edit(
                    id,
                    R,
                    2,
                    1,
                    20,
                    &[("status", json!("done"))],
                    &[("status", 1, 10)],
                ),
                // A kader's tablet, unaware, sets it back to "received" later by HLC.
                edit(
                    id,
                    R,
                    3,
                    1,
                    30,
                    &[("status", json!("received"))],
                    &[("status", 1, 10)],
                ),
            ],
            values: json!({"status": "done", "reason": "BGM"}),
            deleted: false,
            // Progress is not a disagreement: a forward-only field never conflicts.
            conflicts: vec![],
        },
        Case {
            name: "a referral moved forward step by step has no conflict",
            changes: vec![
                edit(id, R, 1, 1, 10, &[("status", json!("made"))], &[]),
                edit(
                    id,
                    R,
                    2,
                    1,
                    20,
                    &[("status", json!("received"))],
                    &[("status", 1, 10)],
                ),
                edit(
                    id,
                    R,
                    1,
                    2,
                    30,
                    &[("status", json!("done"))],
                    &[("status", 2, 20)],
                ),
            ],
            values: json!({"status": "done"}),
            deleted: false,
            conflicts: vec![],
        },
    ]
}

fn check(case: &Case, order: &[usize]) {
    let id = rid(1);
    let mut r = Replica::new();
    for &i in order {
        r.apply(&case.changes[i]).unwrap();
    }
    let view = r.view();
    match view.get(&id) {
        Some(RecordView::Mutable {
            values, deleted, ..
        }) => {
            assert_eq!(
                &Value::Object(values.clone()),
                &case.values,
                "{}: values",
                case.name
            );
            assert_eq!(*deleted, case.deleted, "{}: deleted", case.name);
        }
        other => panic!("{}: unexpected view {other:?}", case.name),
    }
    let got: Vec<(&str, Value)> = r
        .conflicts()
        .into_iter()
        .map(|c| match c.conflict {
            ConflictKind::Field { field, loser, .. } => {
                let f: &str = Box::leak(field.into_boxed_str());
                (f, loser.value)
            }
            ConflictKind::DeleteOverridden { .. } => ("_deleted", Value::Null),
        })
        .collect();
    assert_eq!(
        got, case.conflicts,
        "{}: conflicts (order {order:?})",
        case.name
    );
}

#[test]
fn mutable_record_rules_in_every_delivery_order() {
    for case in cases() {
        for order in permutations(case.changes.len()) {
            check(&case, &order);
        }
    }
}

#[test]
fn facts_union_corrections_supersede_and_tombstones_hide() {
    let w1 = fact(
        rid(10),
        M,
        1,
        1,
        10,
        json!({"type": "weight", "value": 8.2}),
    );
    let w2 = fact(
        rid(11),
        M,
        2,
        1,
        11,
        json!({"type": "weight", "value": 7.9}),
    );
    let mut fix = fact(
        rid(12),
        M,
        1,
        2,
        20,
        json!({"type": "weight", "value": 8.4}),
    );
    fix.supersedes = Some(rid(10));
    let mut wrong = tombstone(rid(11), M, 2, 2, 30, &[]);
    wrong.base.clear();
    let changes = [w1, w2, fix, wrong];
    for order in permutations(changes.len()) {
        let mut r = Replica::new();
        for &i in &order {
            r.apply(&changes[i]).unwrap();
            r.apply(&changes[i]).unwrap(); // duplicates are harmless
        }
        let v = r.view();
        let Some(RecordView::Fact {
            body,
            deleted,
            superseded_by,
            ..
        }) = v.get(&rid(10))
        else {
            panic!("fact missing");
        };
        assert_eq!(
            body.as_ref().and_then(|b| b.get("value")),
            Some(&json!(8.2)),
            "the old fact is kept"
        );
        assert!(!deleted);
        assert_eq!(superseded_by, &vec![rid(12)]);
        assert!(matches!(
            v.get(&rid(11)),
            Some(RecordView::Fact { deleted: true, .. })
        ));
        assert!(
            matches!(v.get(&rid(12)), Some(RecordView::Fact { deleted: false, supersedes: Some(s), .. }) if *s == rid(10))
        );
    }
}

#[test]
fn duplicates_and_reused_sequence_numbers() {
    let a = edit(rid(1), P, 1, 1, 10, &[("name", json!("A"))], &[]);
    let mut r = Replica::new();
    assert_eq!(r.apply(&a).unwrap(), sync_protocol::Applied::New);
    assert_eq!(r.apply(&a).unwrap(), sync_protocol::Applied::Duplicate);
    let reused = edit(rid(2), P, 1, 1, 11, &[("name", json!("B"))], &[]);
    assert!(matches!(
        r.apply(&reused),
        Err(sync_protocol::MergeError::SeqReused { seq: 1, .. })
    ));
    let wrong_kind = edit(
        rid(1),
        EntityKind::Household,
        2,
        1,
        12,
        &[("name", json!("C"))],
        &[],
    );
    assert!(matches!(
        r.apply(&wrong_kind),
        Err(sync_protocol::MergeError::KindMismatch { .. })
    ));
    assert_eq!(r.max_seq(dev(1)), 1);
}

#[test]
fn envelope_rules_table() {
    use sync_protocol::EnvelopeError as E;
    let ok_edit = edit(
        rid(1),
        P,
        1,
        1,
        10,
        &[("name", json!("A"))],
        &[("name", 2, 5)],
    );
    let ok_fact = fact(rid(2), M, 1, 2, 10, json!({"value": 1}));
    let mut cases: Vec<(Change, Option<E>)> =
        vec![(ok_edit.clone(), None), (ok_fact.clone(), None)];
    let mut c = ok_edit.clone();
    c.seq = 0;
    cases.push((c, Some(E::ZeroSeq)));
    let mut c = ok_edit.clone();
    c.id = sync_protocol::RecordId(uuid::Uuid::from_u128(
        0x1234_5678_9abc_4def_8000_0000_0000_0001,
    ));
    cases.push((c, Some(E::NotUuidV7)));
    let mut c = ok_fact.clone();
    c.base.insert("value".into(), stamp(1, 1));
    cases.push((c, Some(E::BaseOnFact)));
    let mut c = ok_edit.clone();
    c.supersedes = Some(rid(3));
    cases.push((c, Some(E::SupersedesOnMutable)));
    let mut c = ok_fact.clone();
    c.supersedes = Some(c.id);
    cases.push((c, Some(E::SupersedesItself)));
    let mut c = ok_edit.clone();
    c.tombstone = true;
    cases.push((c, Some(E::TombstoneWithBody)));
    let mut c = ok_edit.clone();
    c.body.clear();
    c.base.clear();
    cases.push((c, Some(E::EmptyBody)));
    let mut c = ok_edit.clone();
    c.base.insert("rt".into(), stamp(1, 1));
    cases.push((c, Some(E::BaseWithoutField)));
    let mut c = ok_edit.clone();
    c.base.insert("name".into(), stamp(2, 10));
    cases.push((c, Some(E::BaseNotBefore)));
    let mut c = ok_fact.clone();
    c.supersedes = Some(sync_protocol::RecordId(uuid::Uuid::from_u128(
        0x1234_5678_9abc_4def_8000_0000_0000_0002,
    )));
    cases.push((c, Some(E::SupersedesNotUuidV7)));
    for (change, want) in cases {
        assert_eq!(change.check_envelope().err(), want, "{change:?}");
    }
}

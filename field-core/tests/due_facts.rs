//! The due lists' `due_facts` (device migration V6; since V7 written by the code that writes a
//! fact, `field-core/src/due_rows.rs`, no longer by triggers) follows every write of a fact:
//! a pulled fact, its replacing version, a retraction (pulled or local) and one that arrived
//! before its fact, a local save and its correction, a refused change's removal (a fact and a
//! retraction), a re-stamp after `clock_ahead`, a person merge. After each, the table equals a
//! fill from `facts` (`due_facts_fill`, what V6's upgrade and a bulk sync's end run), byte for
//! byte; only live facts of the kinds a due list reads, saved under a person, have a row.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, UserId};

/// The rows kept; asserts they are what a fill from `facts` makes of it.
fn as_filled(store: &field_core::Store) -> Vec<String> {
    let kept = due_facts_rows(store.connection());
    field_core::testing::refill_due_facts(store).unwrap();
    assert_eq!(kept, due_facts_rows(store.connection()));
    kept
}

fn rowid(conn: &Connection, id: RecordId) -> i64 {
    conn.query_row(
        "SELECT rowid FROM facts WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .unwrap()
}

/// A pulled change of `kind` stamped at `ms` by `device`.
fn pulled(id: RecordId, kind: EntityKind, device: DeviceId, ms: u64, body: Value) -> Change {
    Change {
        id,
        kind,
        device,
        seq: ms,
        hlc: Hlc {
            wall_ms: ms,
            counter: 0,
        },
        author: UserId::new_v7(),
        schema: sync_protocol::schema::kind_since(kind),
        tombstone: false,
        supersedes: None,
        base: BTreeMap::new(),
        body: body.as_object().cloned().unwrap(),
    }
}

fn tombstone(id: RecordId, kind: EntityKind, device: DeviceId, ms: u64) -> Change {
    let mut c = pulled(id, kind, device, ms, json!({}));
    c.tombstone = true;
    c
}

#[test]
fn pulled_facts_write_their_rows_as_a_fill_would() {
    let mut f = fixture();
    let (d1, d2) = (DeviceId::new_v7(), DeviceId::new_v7());
    let (p1, p2) = (RecordId::new_v7(), RecordId::new_v7());
    let ids: [RecordId; 9] = std::array::from_fn(|_| RecordId::new_v7());
    let [m1, i1, v1, a1, s1, x1, x2, t1, n1] = ids;
    let at = |p: RecordId, date: &str, more: Value| {
        let mut b = json!({"posyandu": POSYANDU, "person": p.to_string(), "date": date});
        b.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        b
    };
    let page = vec![
        // A retraction that arrives before its fact: the fact is stored retracted.
        tombstone(t1, EntityKind::Immunisation, d1, T0 - 5 * DAY),
        pulled(
            t1,
            EntityKind::Immunisation,
            d1,
            T0 - 6 * DAY,
            at(p1, "2025-01-09", json!({"vaccine": "BCG"})),
        ),
        // Stamped later than its replacing version below.
        pulled(
            m1,
            EntityKind::Measurement,
            d2,
            T0 - DAY,
            at(
                p1,
                "2025-01-10",
                json!({"type": "weight", "value": 8.5, "unit": "kg", "oedema": true}),
            ),
        ),
        pulled(
            i1,
            EntityKind::Immunisation,
            d1,
            T0 - 3 * DAY,
            at(
                p1,
                "2025-01-10",
                json!({"vaccine": "MR1", "catch_up": false}),
            ),
        ),
        // No `date`: dated by its stamp.
        pulled(
            v1,
            EntityKind::Visit,
            d1,
            T0 - 3 * DAY,
            json!({"posyandu": POSYANDU, "person": p1.to_string(), "type": "posyandu"}),
        ),
        pulled(
            a1,
            EntityKind::AncContact,
            d1,
            T0 - 3 * DAY,
            at(p2, "2025-02-01", json!({"pregnancy": "g1", "contact": 2})),
        ),
        // JSON values of every shape, as serde_json writes them.
        pulled(
            s1,
            EntityKind::Screening,
            d1,
            T0 - 3 * DAY,
            at(
                p2,
                "2025-02-01",
                json!({
                    "instrument": "danger \"signs\"\\ é ✓ \n\t\u{1}/",
                    "answers": {
                        "bleeding": true, "fever": null, "z": [1, -2, 0.1, 1e20, -0.0, 1.5e-7],
                        "big": u64::MAX, "small": i64::MIN, "nested": {"b": [], "a": {}}
                    },
                    "result": "x"
                }),
            ),
        ),
        // Not read by a due list: another kind; no person.
        pulled(
            x1,
            EntityKind::Supplement,
            d1,
            T0 - 3 * DAY,
            at(p1, "2025-01-10", json!({"supplement": "vitamin_a"})),
        ),
        pulled(
            x2,
            EntityKind::Measurement,
            d1,
            T0 - 3 * DAY,
            json!({"posyandu": POSYANDU, "date": "2025-01-10", "type": "weight", "value": 3}),
        ),
        pulled(
            n1,
            EntityKind::Measurement,
            d1,
            T0 - 3 * DAY,
            at(
                p2,
                "2025-02-02",
                json!({"type": "height", "position": "lying"}),
            ),
        ),
    ];
    f.store.apply_pulled(&page, None, None).unwrap();
    let c = f.store.connection();
    let v1_date: String = c
        .query_row(
            "SELECT date FROM facts WHERE id = ?1",
            [v1.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    let (rm1, ri1, rv1, ra1, rs1, rn1) = (
        rowid(c, m1),
        rowid(c, i1),
        rowid(c, v1),
        rowid(c, a1),
        rowid(c, s1),
        rowid(c, n1),
    );
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 6, "{rows:#?}");
    for want in [
        format!("{p1}|2025-01-10|{rm1}|1|{m1}|-|[\"weight\",8.5,null,true]"),
        format!("{p1}|2025-01-10|{ri1}|2|{i1}|-|[\"MR1\"]"),
        format!("{p1}|{v1_date}|{rv1}|3|{v1}|-|[\"posyandu\"]"),
        format!("{p2}|2025-02-01|{ra1}|4|{a1}|-|[\"g1\"]"),
        format!("{p2}|2025-02-02|{rn1}|1|{n1}|-|[\"height\",null,\"lying\",null]"),
    ] {
        assert!(rows.contains(&want), "{want} not in {rows:#?}");
    }
    assert!(rows.iter().any(|r| r.starts_with(&format!(
        "{p2}|2025-02-01|{rs1}|5|{s1}|-|[\"danger \\\"signs\\\"\\\\ é ✓ \\n\\t\\u0001/\",{{"
    ))));

    // The replacing version (an earlier stamp) moves the fact to another person and date,
    // with another body; re-applying the page changes nothing.
    let mut older = pulled(
        m1,
        EntityKind::Measurement,
        d1,
        T0 - 2 * DAY,
        at(p2, "2025-01-11", json!({"type": "weight", "value": 9})),
    );
    older.supersedes = Some(i1);
    f.store
        .apply_pulled(&[older.clone(), page[2].clone()], None, None)
        .unwrap();
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 6);
    assert!(rows.contains(&format!(
        "{p2}|2025-01-11|{rm1}|1|{m1}|{i1}|[\"weight\",9,null,null]"
    )));
    assert!(
        !rows
            .iter()
            .any(|r| r.starts_with(&format!("{p1}|2025-01-10|{rm1}|")))
    );

    // Pulled retractions: a row goes; a retraction of a fact without one changes nothing.
    f.store
        .apply_pulled(
            &[
                tombstone(i1, EntityKind::Immunisation, d1, T0),
                tombstone(x1, EntityKind::Supplement, d1, T0),
            ],
            None,
            None,
        )
        .unwrap();
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 5);
    let i1 = i1.to_string();
    assert!(
        !rows
            .iter()
            .any(|r| r.split('|').nth(4) == Some(i1.as_str()))
    );
}

#[test]
fn local_saves_corrections_retractions_refusals_and_restamps_keep_the_rows() {
    use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};
    let mut f = fixture();
    // A year ahead: the server refuses the changes with clock_ahead below.
    f.clock.set(T0 + 365 * DAY);
    let reg = family(&mut f.store);
    let child = reg.persons[2];
    let weight = |value: f64| field_core::MeasurementInput {
        kind: "weight".into(),
        value,
        unit: "kg".into(),
        ..Default::default()
    };
    let m1 = f
        .store
        .save_measurement(child, None, "2025-11-20", &weight(10.5))
        .unwrap();
    let m2 = f
        .store
        .save_measurement(child, None, "2025-11-21", &weight(10.7))
        .unwrap();
    assert_eq!(as_filled(&f.store).len(), 2);
    let m3 = f
        .store
        .correct_fact(m1, json!({"value": 10.6}).as_object().cloned().unwrap())
        .unwrap();
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|r| r.contains(&format!("|{m3}|{m1}|"))));
    f.store.retract_fact(m2).unwrap();
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 2);
    assert!(!rows.iter().any(|r| r.contains(&m2.to_string())));

    // The server refuses the retraction (its fact comes back) and the correction (it goes).
    let pending = f.store.pending_changes(100).unwrap();
    let refuse = |c: &Change| (c.id == m2 && c.tombstone) || c.id == m3;
    let resp = PushResponse {
        v: 1,
        outcomes: pending
            .iter()
            .filter(|c| refuse(c))
            .map(|c| Outcome::rejected(c.seq, Rejection::new(RejectCode::InvalidValue, "no", None)))
            .collect(),
        acked_seq: 0,
        server_time: T0 + 365 * DAY,
    };
    assert_eq!(resp.outcomes.len(), 2);
    f.store.record_push_outcomes(&resp).unwrap();
    let rows = as_filled(&f.store);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| r.contains(&format!("|{m2}|"))));
    assert!(!rows.iter().any(|r| r.contains(&m3.to_string())));

    // The rest is refused with clock_ahead: re-stamped (each fact's row made again).
    let pending = f.store.pending_changes(100).unwrap();
    let resp = all_clock_ahead(&pending, T0);
    let r = f.store.record_push_outcomes(&resp).unwrap();
    assert_eq!(r.restamped, pending.len());
    assert_eq!(as_filled(&f.store), rows);

    // A person merge (its facts have no row; the persons' facts keep theirs).
    let other = f
        .store
        .register_household(
            &household(),
            &[person("Fransiskus B", "male", "2024-05-10")],
            &[],
        )
        .unwrap()
        .persons[0];
    f.store
        .save_measurement(other, None, "2025-11-21", &weight(10.2))
        .unwrap();
    f.store.merge_persons(child, other, None).unwrap();
    assert_eq!(as_filled(&f.store).len(), 3);
}

/// The triggers are gone (V7): a row written to `facts` by hand gets no row; a bulk first
/// sync's end (as a cut one is finished at the next unlock) fills the table from `facts`.
#[test]
fn no_triggers_and_a_bulk_sync_end_fills_the_table() {
    let f = fixture();
    let c = f.store.connection();
    let triggers: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0);
    c.execute(
        "INSERT INTO records (id, kind) VALUES ('m1', 'measurement')",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO facts (id, kind, posyandu, person, date, body_json, made_hlc, made_device,
             author)
         VALUES ('m1', 'measurement', 'P1', 'p1', '2025-01-10', ?1, '0000000000000001', 'd',
             'a')",
        params![r#"{"type":"weight","value":8.50}"#],
    )
    .unwrap();
    assert!(due_facts_rows(c).is_empty());
    c.execute(
        "INSERT INTO deferred_indexes (name, sql) VALUES ('x', 'SELECT 1')",
        [],
    )
    .unwrap();
    let mut s = f.store;
    assert!(s.finish_bulk_sync().unwrap());
    let m1 = s
        .connection()
        .query_row("SELECT rowid FROM facts WHERE id = 'm1'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    assert_eq!(
        due_facts_rows(s.connection()),
        vec![format!(
            "p1|2025-01-10|{m1}|1|m1|-|[\"weight\",8.50,null,null]"
        )]
    );
}

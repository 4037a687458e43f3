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
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, PullResponse, RecordId, UserId};

/// The rows kept; asserts they are what a fill from `facts` makes of it.
fn as_filled(store: &field_core::Store) -> Vec<String> {
    let kept = due_facts_rows(store.connection());
    field_core::testing::refill_due_facts(store).unwrap();
    assert_eq!(kept, due_facts_rows(store.connection()));
    kept
}

/// A weight in kg, as a kader enters it.
fn weight(value: f64) -> field_core::MeasurementInput {
    field_core::MeasurementInput {
        kind: "weight".into(),
        value,
        unit: "kg".into(),
        ..Default::default()
    }
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

/// How a bulk first sync in [`a_bulk_sync_whose_later_pages_rewrite_facts_ends_as_a_fill`]
/// ends.
#[derive(Clone, Copy, Debug)]
enum End {
    /// Its last page.
    LastPage,
    /// Cut after the second page, finished at the next unlock; the last page then applied
    /// normally.
    Cut,
}

/// A bulk first sync (pages of 150 changes into a store holding a few local facts) whose
/// later pages replace facts of earlier pages and of the store (another person, date and
/// body), retract them, bring a fact whose retraction came first, and send changes again;
/// a local save and retraction between its pages. Whether it ends with its last page or is cut
/// and finished at the next unlock, its end leaves in `due_facts` the rows that the same pages
/// applied one at a time without a bulk (each fact's row written by `due_rows.rs`, no fill)
/// leave for the same facts; and a fill from `facts` changes nothing. (Written for a side table
/// of the bulk's due rows, tried in issue 19's fourteenth pass and not kept:
/// docs/BENCHMARKS.md.)
#[test]
fn a_bulk_sync_whose_later_pages_rewrite_facts_ends_as_a_fill() {
    for end in [End::LastPage, End::Cut] {
        bulk_sync_rewriting_facts(end);
    }
}

fn bulk_sync_rewriting_facts(end: End) {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2];
    // The store's own facts before the bulk (their rows in `due_facts`).
    let own1 = f
        .store
        .save_measurement(child, None, "2025-11-20", &weight(10.5))
        .unwrap();
    let own2 = f
        .store
        .save_measurement(child, None, "2025-11-21", &weight(10.7))
        .unwrap();
    let (d1, d2) = (DeviceId::new_v7(), DeviceId::new_v7());
    let persons: [RecordId; 6] = std::array::from_fn(|_| RecordId::new_v7());
    let at = |p: RecordId, date: &str, more: Value| {
        let mut b = json!({"posyandu": POSYANDU, "person": p.to_string(), "date": date});
        b.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        b
    };
    // Page 1: 150 facts of every due kind and some of none, stamped T0 - 100 days + n s.
    let first: Vec<Change> = (0..150u64)
        .map(|n| {
            let p = persons[(n % 6) as usize];
            let date = format!("2025-0{}-{:02}", n % 9 + 1, n % 28 + 1);
            let ms = T0 - 100 * DAY + n * 1_000;
            let id = RecordId::new_v7();
            match n % 5 {
                0 => pulled(
                    id,
                    EntityKind::Measurement,
                    d1,
                    ms,
                    at(
                        p,
                        &date,
                        json!({"type": "weight", "value": 8.5 + n as f64 / 10.0, "unit": "kg"}),
                    ),
                ),
                1 => pulled(
                    id,
                    EntityKind::Immunisation,
                    d1,
                    ms,
                    at(p, &date, json!({"vaccine": "BCG"})),
                ),
                2 => pulled(
                    id,
                    EntityKind::Visit,
                    d1,
                    ms,
                    at(p, &date, json!({"type": "home"})),
                ),
                3 => pulled(
                    id,
                    EntityKind::Supplement,
                    d1,
                    ms,
                    at(p, &date, json!({"supplement": "vitamin_a"})),
                ),
                _ => pulled(
                    id,
                    EntityKind::Screening,
                    d1,
                    ms,
                    at(
                        p,
                        &date,
                        json!({"instrument": "x", "answers": {"a": [1, 2.50, null]}}),
                    ),
                ),
            }
        })
        .collect();
    // Page 2: later changes to page 1's facts and to the store's own.
    let mut second = Vec::new();
    let late_fact = RecordId::new_v7();
    for (n, c) in first.iter().enumerate() {
        match n % 6 {
            // A replacing version (an earlier stamp, another device): another person, date
            // and body.
            0 => {
                let mut r = pulled(
                    c.id,
                    c.kind,
                    d2,
                    c.hlc.wall_ms - 10 * DAY,
                    at(
                        persons[(n + 1) % 6],
                        "2025-10-31",
                        json!({"type": "height", "value": 70, "vaccine": "MR1", "position": "lying"}),
                    ),
                );
                r.supersedes = Some(first[(n + 3) % 150].id);
                second.push(r);
            }
            // A retraction.
            1 => second.push(tombstone(c.id, c.kind, d2, T0 - DAY)),
            // Sent again.
            2 => second.push(c.clone()),
            _ => {}
        }
    }
    // The retraction of a fact that comes on the last page.
    second.push(tombstone(late_fact, EntityKind::Measurement, d2, T0 - DAY));
    // The store's own facts: one replaced (an earlier stamp), one retracted.
    second.push(pulled(
        own1,
        EntityKind::Measurement,
        d2,
        T0 - 200 * DAY,
        at(
            persons[0],
            "2025-01-02",
            json!({"type": "weight", "value": 3.25}),
        ),
    ));
    second.push(tombstone(own2, EntityKind::Measurement, d2, T0 - DAY));
    // And new facts.
    for n in 0..40u64 {
        second.push(pulled(
            RecordId::new_v7(),
            EntityKind::Immunisation,
            d1,
            T0 - 60 * DAY + n,
            at(
                persons[(n % 6) as usize],
                "2025-08-08",
                json!({"vaccine": "OPV1"}),
            ),
        ));
    }
    assert!(second.len() >= 100, "{}", second.len());
    // Page 3: replaced again (an even earlier stamp), retracted after a replacement, new
    // facts, and the one retracted before it came.
    let mut third = Vec::new();
    for (n, c) in first.iter().enumerate() {
        match n % 12 {
            0 => third.push(pulled(
                c.id,
                c.kind,
                d2,
                c.hlc.wall_ms - 20 * DAY,
                at(
                    persons[(n + 2) % 6],
                    "2025-12-01",
                    json!({"type": "weight", "value": 1e-3, "vaccine": "DPT1"}),
                ),
            )),
            6 => third.push(tombstone(c.id, c.kind, d1, T0)),
            _ => {}
        }
    }
    third.push(pulled(
        late_fact,
        EntityKind::Measurement,
        d1,
        T0 - 5 * DAY,
        at(
            persons[3],
            "2025-11-01",
            json!({"type": "weight", "value": 9}),
        ),
    ));
    for n in 0..100u64 {
        third.push(pulled(
            RecordId::new_v7(),
            EntityKind::AncContact,
            d1,
            T0 - 50 * DAY + n,
            at(
                persons[(n % 6) as usize],
                "2025-07-07",
                json!({"pregnancy": format!("g{n}"), "contact": 1}),
            ),
        ));
    }
    let page = |changes: Vec<Change>, n: usize, more: bool| PullResponse {
        v: sync_protocol::PROTOCOL_VERSION,
        changes,
        cursor: format!("page-{n}"),
        has_more: more,
        server_time: T0,
    };
    let pages = [
        page(first, 1, true),
        page(second, 2, true),
        page(third, 3, false),
    ];
    let own_rows = due_facts_rows(f.store.connection());
    assert_eq!(own_rows.len(), 2);

    let applied_whole = |page: &PullResponse, report: field_core::PullReport| {
        assert!(
            report.skipped.is_empty(),
            "{}: {:?}",
            page.cursor,
            report.skipped
        );
        assert_eq!(report.applied, page.changes.len(), "{}", page.cursor);
    };
    applied_whole(&pages[0], f.store.apply_sync_page(&pages[0]).unwrap());
    assert!(f.store.bulk_sync_active().unwrap());
    // The bulk's pages write no due rows; `due_facts` holds the store's own.
    assert_eq!(due_facts_rows(f.store.connection()), own_rows);
    applied_whole(&pages[1], f.store.apply_sync_page(&pages[1]).unwrap());
    assert!(f.store.bulk_sync_active().unwrap());
    // Between the pages: a local save, and the retraction of a fact of page 1 (its row aside).
    assert_eq!(due_facts_rows(f.store.connection()), own_rows);
    let kept = pages[0].changes[4].id;
    assert!(
        pages[1]
            .changes
            .iter()
            .all(|c| c.id != kept || !c.tombstone)
    );
    f.store
        .save_measurement(child, None, "2025-11-22", &weight(10.9))
        .unwrap();
    f.store.retract_fact(kept).unwrap();
    let mut s = match end {
        End::LastPage => f.store,
        End::Cut => {
            drop(f.store);
            let s = reopen(&f.path, &f.clock);
            assert!(!s.bulk_sync_active().unwrap());
            s
        }
    };
    applied_whole(&pages[2], s.apply_sync_page(&pages[2]).unwrap());
    assert!(!s.bulk_sync_active().unwrap());
    let rows = as_filled(&s);
    assert!(rows.len() > 150, "{end:?}: {}", rows.len());
    let late = rowid(s.connection(), late_fact);
    assert!(!rows.iter().any(|r| r.contains(&format!("|{late}|"))));
    assert!(!rows.iter().any(|r| r.contains(&own2.to_string())));
    assert!(!rows.iter().any(|r| r.contains(&kept.to_string())));
    assert!(
        rows.iter()
            .any(|r| r.contains(&format!("|{own1}|-|[\"weight\",3.25,null,null]")))
    );

    // The same pages into a store of the same user, each page alone (no page says more
    // follow, so no bulk begins), with the same retraction between the second and the third:
    // every due row written fact by fact. The pulled facts' rows must be the bulk's, but for
    // their rowids (the `seq` of the key), which the two stores number apart. The store's own
    // facts (`own1`, `own2`, the save between the pages) exist only in the bulk's store.
    let mut r = fixture();
    family(&mut r.store);
    for (n, p) in pages.iter().enumerate() {
        let alone = PullResponse {
            has_more: false,
            ..p.clone()
        };
        applied_whole(&alone, r.store.apply_sync_page(&alone).unwrap());
        assert!(!r.store.bulk_sync_active().unwrap());
        if n == 1 {
            r.store.retract_fact(kept).unwrap();
        }
    }
    let pulled_ids: std::collections::BTreeSet<String> = pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.id))
        .filter(|id| *id != own1 && *id != own2)
        .map(|id| id.to_string())
        .collect();
    let bulk = rows_by_id(s.connection(), &pulled_ids);
    let one_by_one = rows_by_id(r.store.connection(), &pulled_ids);
    assert!(bulk.len() > 150, "{end:?}: {}", bulk.len());
    assert_eq!(bulk, one_by_one, "{end:?}");
    drop(s);
    drop(f.dir);
}

/// A `due_facts` row but for its key's `seq`: person, date, kind, supersedes, body.
type DueRow = (String, String, i64, Option<String>, Option<String>);

/// The `due_facts` rows of the facts `ids`, by fact id, without their `seq` (the fact's
/// rowid, which differs between two stores).
fn rows_by_id(
    conn: &Connection,
    ids: &std::collections::BTreeSet<String>,
) -> BTreeMap<String, DueRow> {
    let mut q = conn
        .prepare("SELECT id, person, date, kind, supersedes, body FROM due_facts")
        .unwrap();
    q.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .filter(|(id, _)| ids.contains(id))
    .collect()
}

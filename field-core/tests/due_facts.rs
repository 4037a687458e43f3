//! The due lists' `due_facts` (device migration V6) follows every write of a fact through its
//! triggers: an insert, a changed body, person or date, a retraction and its undo, a
//! deletion; only live facts of the kinds a due list reads, saved under a person, have a row;
//! while a bulk first sync is under way the triggers are idle and its end fills the table.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rusqlite::{Connection, params};

/// Writes a fact row directly (as the apply does), with its `records` row.
fn fact(conn: &Connection, id: &str, kind: &str, person: Option<&str>, date: &str, body: &str) {
    conn.execute(
        "INSERT INTO records (id, kind) VALUES (?1, ?2)",
        params![id, kind],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO facts (id, kind, posyandu, person, date, body_json, made_hlc, made_device,
             author)
         VALUES (?1, ?2, 'P1', ?3, ?4, ?5, '0000000000000001', 'd', 'a')",
        params![id, kind, person, date, body],
    )
    .unwrap();
}

fn rowid(conn: &Connection, id: &str) -> i64 {
    conn.query_row("SELECT rowid FROM facts WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[test]
fn due_facts_follow_every_write_of_a_fact() {
    let f = fixture();
    let c = f.store.connection();
    // Each kind keeps its fields, as JSON as written; absent ones are null.
    fact(
        c,
        "m1",
        "measurement",
        Some("p1"),
        "2025-01-10",
        r#"{"type":"weight","value":8.50,"unit":"kg","oedema":true,"visit":"v1","posyandu":"P1"}"#,
    );
    fact(
        c,
        "i1",
        "immunisation",
        Some("p1"),
        "2025-01-10",
        r#"{"vaccine":"MR1","catch_up":false}"#,
    );
    fact(
        c,
        "v1",
        "visit",
        Some("p1"),
        "2025-01-09",
        r#"{"type":"posyandu","findings":"ok"}"#,
    );
    fact(
        c,
        "a1",
        "anc_contact",
        Some("p2"),
        "2025-02-01",
        r#"{"pregnancy":"g1","contact":2}"#,
    );
    fact(
        c,
        "s1",
        "screening",
        Some("p2"),
        "2025-02-01",
        r#"{"instrument":"danger_signs","answers":{"bleeding":true,"fever":null},"result":"x"}"#,
    );
    // Not read by a due list: another kind, no person, a body that is not an object.
    fact(
        c,
        "x1",
        "supplement",
        Some("p1"),
        "2025-01-10",
        r#"{"supplement":"vitamin_a"}"#,
    );
    fact(
        c,
        "x2",
        "measurement",
        None,
        "2025-01-10",
        r#"{"type":"weight","value":3}"#,
    );
    fact(c, "b1", "measurement", Some("p3"), "2025-03-01", "[1,2]");
    let (m1, i1, v1, a1, s1, b1) = (
        rowid(c, "m1"),
        rowid(c, "i1"),
        rowid(c, "v1"),
        rowid(c, "a1"),
        rowid(c, "s1"),
        rowid(c, "b1"),
    );
    let mut expected = vec![
        format!("p1|2025-01-09|{v1}|3|v1|-|[\"posyandu\"]"),
        format!("p1|2025-01-10|{m1}|1|m1|-|[\"weight\",8.50,null,true]"),
        format!("p1|2025-01-10|{i1}|2|i1|-|[\"MR1\"]"),
        format!("p2|2025-02-01|{a1}|4|a1|-|[\"g1\"]"),
        format!(
            "p2|2025-02-01|{s1}|5|s1|-|[\"danger_signs\",{{\"bleeding\":true,\"fever\":null}}]"
        ),
        format!("p3|2025-03-01|{b1}|1|b1|-|NULL"),
    ];
    assert_eq!(due_facts_rows(c), expected);

    // A replaced body (a version that precedes the stored one), date and correction link.
    c.execute(
        "UPDATE facts SET body_json = '{\"type\":\"weight\",\"value\":9}', date = '2025-01-11',
             supersedes = 'm0' WHERE id = 'm1'",
        [],
    )
    .unwrap();
    expected[1] = format!("p1|2025-01-11|{m1}|1|m1|m0|[\"weight\",9,null,null]");
    // (The rows' seq are single digits here: text order is key order.)
    expected.sort();
    assert_eq!(due_facts_rows(c), expected);

    // Retracted, then the retraction undone.
    c.execute("UPDATE facts SET deleted = 1 WHERE id = 'i1'", [])
        .unwrap();
    let live: Vec<String> = expected
        .iter()
        .filter(|r| !r.contains("|i1|"))
        .cloned()
        .collect();
    assert_eq!(due_facts_rows(c), live);
    c.execute("UPDATE facts SET deleted = 0 WHERE id = 'i1'", [])
        .unwrap();
    assert_eq!(due_facts_rows(c), expected);

    // Saved under another person (the apply's replacing version may move it).
    c.execute("UPDATE facts SET person = 'p4' WHERE id = 'v1'", [])
        .unwrap();
    c.execute("UPDATE facts SET person = NULL WHERE id = 'a1'", [])
        .unwrap();
    expected.remove(0);
    expected.retain(|r| !r.contains("|a1|"));
    expected.push(format!("p4|2025-01-09|{v1}|3|v1|-|[\"posyandu\"]"));
    expected.sort();
    assert_eq!(due_facts_rows(c), expected);

    // Deleted (an undone local save).
    c.execute("DELETE FROM facts WHERE id = 's1'", []).unwrap();
    expected.retain(|r| !r.contains("|s1|"));
    assert_eq!(due_facts_rows(c), expected);

    // A fill from `facts` gives the same rows.
    field_core::testing::refill_due_facts(&f.store).unwrap();
    assert_eq!(due_facts_rows(c), expected);
}

#[test]
fn a_bulk_sync_leaves_the_triggers_idle_and_its_end_fills_the_table() {
    let f = fixture();
    let c = f.store.connection();
    fact(
        c,
        "m1",
        "measurement",
        Some("p1"),
        "2025-01-10",
        r#"{"type":"weight","value":8}"#,
    );
    c.execute(
        "INSERT INTO deferred_indexes (name, sql) VALUES ('x', 'SELECT 1')",
        [],
    )
    .unwrap();
    fact(
        c,
        "m2",
        "measurement",
        Some("p1"),
        "2025-01-12",
        r#"{"type":"weight","value":9}"#,
    );
    c.execute("UPDATE facts SET deleted = 1 WHERE id = 'm1'", [])
        .unwrap();
    // Idle: m1 is still there, m2 is not.
    let m1 = rowid(c, "m1");
    let m2 = rowid(c, "m2");
    assert_eq!(
        due_facts_rows(c),
        vec![format!(
            "p1|2025-01-10|{m1}|1|m1|-|[\"weight\",8,null,null]"
        )]
    );
    // The bulk's end (as a cut one is finished at the next unlock) fills it.
    let mut s = f.store;
    assert!(s.finish_bulk_sync().unwrap());
    assert_eq!(
        due_facts_rows(s.connection()),
        vec![format!(
            "p1|2025-01-12|{m2}|1|m2|-|[\"weight\",9,null,null]"
        )]
    );
}

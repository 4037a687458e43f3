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
        schema: sync_protocol::schema::kind_since(kind),
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

    // A supervisor reviews the conflict: it leaves the review list (and the count).
    let (key, _) = f.store.conflicts().unwrap()[0].clone();
    f.store
        .review_conflict(&key, false, Some("nama sesuai KK"))
        .unwrap();
    assert!(f.store.conflicts().unwrap().iter().all(|(k, _)| *k != key));
    assert_eq!(
        f.store.sync_counts().unwrap().open_conflicts,
        f.store.conflicts().unwrap().len() as u64
    );
    let all = f.store.all_conflicts().unwrap();
    assert!(all.iter().any(|(k, _, reviewed)| *k == key && *reviewed));
}

/// A conflict keeps its key and its row while the record is merged again; reviewing by key
/// reviews exactly that conflict.
#[test]
fn conflicts_are_stable_across_refreshes() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    let other = DeviceId::new_v7();
    // Two conflicts on one record: name and phone.
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
    let pulled = edit(
        p,
        EntityKind::Person,
        other,
        1,
        hlc(local.hlc.wall_ms + 5_000),
        json!({"name": "Yohanes Bria Bere", "phone": "0899"}),
        &[("name", created.stamp())],
    );
    f.store.apply_pulled(&[pulled], None, None).unwrap();
    let rows = |s: &field_core::Store| -> Vec<(i64, String)> {
        let mut st = s
            .connection()
            .prepare("SELECT id, field FROM conflicts ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = rows(&f.store);
    let keys: Vec<_> = f
        .store
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys.len(), 2);
    // More merges of the record (another field, then a new winner of `name`).
    for (seq, body) in [
        (2, json!({"rt": "004"})),
        (3, json!({"name": "Yohanes B. Bere"})),
    ] {
        let c = edit(
            p,
            EntityKind::Person,
            other,
            seq,
            hlc(local.hlc.wall_ms + 10_000 * seq),
            body,
            &[],
        );
        f.store.apply_pulled(&[c], None, None).unwrap();
    }
    let after = rows(&f.store);
    // The rows of the two original conflicts are the same rows (a new one may be added:
    // the earlier pulled name now lost too).
    for r in &before {
        assert!(after.contains(r), "{before:?} -> {after:?}");
    }
    let now: Vec<_> = f
        .store
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for k in &keys {
        assert!(now.contains(k));
    }
    // Reviewing the phone conflict reviews it, not another one.
    let phone = keys.iter().find(|k| k.field == "phone").unwrap();
    f.store.review_conflict(phone, true, None).unwrap();
    let open: Vec<_> = f
        .store
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(!open.contains(phone));
    assert!(open.iter().any(|k| k.field == "name"));
    assert_eq!(f.store.person(p).unwrap().values["phone"], "0812");
}

#[test]
fn use_loser_of_an_overridden_deletion_deletes_the_record() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    f.clock.advance(10_000);
    f.store
        .update_person(p, json!({"phone": "0812"}).as_object().cloned().unwrap())
        .unwrap();
    let mut t = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(created.hlc.wall_ms + 20_000),
        json!({}),
        &[],
    );
    t.tombstone = true;
    t.base = created
        .body
        .keys()
        .map(|k| (k.clone(), created.stamp()))
        .collect();
    f.store.apply_pulled(&[t], None, None).unwrap();
    let (key, _) = f
        .store
        .conflicts()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k.field == "_deleted")
        .unwrap();
    f.store.review_conflict(&key, true, None).unwrap();
    assert_eq!(f.store.household(reg.household).unwrap().members.len(), 2);
    assert!(f.store.conflicts().unwrap().is_empty());
    let last = f.store.pending_changes(100).unwrap();
    assert!(last.iter().any(|c| c.id == p && c.tombstone));
}

fn weight_input() -> field_core::MeasurementInput {
    field_core::MeasurementInput {
        kind: "weight".into(),
        value: 10.5,
        unit: "kg".into(),
        position: None,
        measured_by: None,
        ..Default::default()
    }
}

/// A tablet restored from a backup: the server settled seq numbers this tablet reuses for
/// new work. Nothing of that work is lost; it is renumbered above `acked_seq`, in order.
#[test]
fn a_restored_tablet_renumbers_instead_of_losing_new_work() {
    use sync_protocol::{Outcome, PushResponse, RejectCode, Rejection};
    let mut f = fixture();
    let reg = family(&mut f.store); // seq 1..4
    let m = f
        .store
        .save_measurement(reg.persons[2], None, "2025-11-22", &weight_input())
        .unwrap(); // seq 5
    let before = f.store.pending_changes(100).unwrap();
    assert_eq!(before.last().unwrap().seq, 5);
    // status: the server has settled up to 7 (from before the restore).
    let n = f.store.record_status(7).unwrap();
    assert_eq!(n, 5);
    let after = f.store.pending_changes(100).unwrap();
    assert_eq!(
        after.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![8, 9, 10, 11, 12]
    );
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((a.id, a.hlc), (b.id, b.hlc));
    }
    // The next change continues after them; a second status changes nothing.
    assert_eq!(f.store.record_status(7).unwrap(), 0);
    f.store
        .save_measurement(reg.persons[2], None, "2025-11-21", &weight_input())
        .unwrap();
    assert_eq!(
        f.store.pending_changes(100).unwrap().last().unwrap().seq,
        13
    );

    // Without a status first: the push answers seq_reused. The change stays, in the
    // records and pending, under a new number.
    let mut g = fixture();
    let reg = family(&mut g.store);
    let m2 = g
        .store
        .save_measurement(reg.persons[2], None, "2025-11-22", &weight_input())
        .unwrap();
    let pending = g.store.pending_changes(100).unwrap();
    let mut outcomes: Vec<Outcome> = pending[..4]
        .iter()
        .map(|c| Outcome::accepted(c.seq))
        .collect();
    outcomes.push(Outcome::rejected(
        pending[4].seq,
        Rejection::new(RejectCode::SeqReused, "reused", Some("seq")),
    ));
    let r = g
        .store
        .record_push_outcomes(&PushResponse {
            v: 1,
            outcomes,
            acked_seq: 5,
            server_time: T0,
        })
        .unwrap();
    assert_eq!((r.sent, r.rejected, r.renumbered), (4, 0, 1));
    let left = g.store.pending_changes(100).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].id, left[0].seq), (m2, 6));
    let t = g.store.person_timeline(reg.persons[2]).unwrap();
    assert!(t.entries.iter().any(|e| e.id == m2));
    assert_eq!(g.store.sync_counts().unwrap().rejected, 0);
    let _ = m;

    // Renumbered numbers stay gapless above acked_seq, even when they overlap the old ones:
    // the server's acked_seq only advances over consecutive numbers.
    let mut h = fixture();
    family(&mut h.store); // seq 1..4
    assert_eq!(h.store.record_status(2).unwrap(), 4);
    assert_eq!(
        h.store
            .pending_changes(100)
            .unwrap()
            .iter()
            .map(|c| c.seq)
            .collect::<Vec<_>>(),
        vec![3, 4, 5, 6]
    );
}

/// A change of a newer body schema is kept as received, not merged, and its record is
/// read-only here.
#[test]
fn a_newer_schema_change_is_kept_as_received_and_not_merged() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    let mut c = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(created.hlc.wall_ms + 60_000),
        json!({"name": "Yohanes v2", "new_field": {"x": 1}}),
        &[("name", created.stamp())],
    );
    c.schema = sync_protocol::schema::SCHEMA_VERSION + 1;
    let r = f
        .store
        .apply_pulled(std::slice::from_ref(&c), None, None)
        .unwrap();
    assert_eq!((r.applied, r.newer_schema), (0, 1));
    assert_eq!(f.store.person(p).unwrap().name, "Yohanes Bria");
    assert!(f.store.needs_newer_app(p).unwrap());
    let stored: String = f
        .store
        .connection()
        .query_row("SELECT change_json FROM future_changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(serde_json::from_str::<Change>(&stored).unwrap(), c);
    let err = f
        .store
        .update_person(p, json!({"phone": "0812"}).as_object().cloned().unwrap())
        .unwrap_err();
    assert!(matches!(err, field_core::StoreError::NeedsNewerApp { id } if id == p));
    assert_eq!(err.message_key(), Some("validation.needs_newer_app"));
    // Other records are not affected.
    f.store
        .update_person(
            reg.persons[1],
            json!({"phone": "0812"}).as_object().cloned().unwrap(),
        )
        .unwrap();
}

#[test]
fn a_change_kept_aside_is_applied_when_it_arrives_again_readable() {
    // An app kept a change of a newer schema aside; once updated, the server sends the
    // change again (docs/sync-protocol.md section 2) and it is merged like any other.
    let mut f = fixture();
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    let mut c = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(created.hlc.wall_ms + 60_000),
        json!({"name": "Yohanes Baru", "birth_weight": 3.2}),
        &[("name", created.stamp())],
    );
    c.schema = sync_protocol::schema::SCHEMA_VERSION + 1;
    f.store
        .apply_pulled(std::slice::from_ref(&c), None, None)
        .unwrap();
    assert!(f.store.needs_newer_app(p).unwrap());
    c.schema = sync_protocol::schema::SCHEMA_VERSION;
    let r = f
        .store
        .apply_pulled(std::slice::from_ref(&c), None, None)
        .unwrap();
    assert_eq!((r.applied, r.newer_schema), (1, 0));
    assert!(!f.store.needs_newer_app(p).unwrap());
    assert_eq!(f.store.person(p).unwrap().name, "Yohanes Baru");
}

#[test]
fn pull_cursors_are_kept_per_scope_and_refused_changes_recorded() {
    use sync_protocol::{PlaceLevel, PullResponse, Scope};
    let mut f = fixture();
    let page = |cursor: &str, changes: Vec<Change>| PullResponse {
        v: 1,
        changes,
        cursor: cursor.into(),
        has_more: false,
        server_time: T0,
    };
    f.store
        .set_scope(&Scope {
            level: PlaceLevel::Posyandu,
            place: POSYANDU.into(),
        })
        .unwrap();
    f.store.apply_pull_page(&page("s1", vec![])).unwrap();
    assert_eq!(f.store.pull_cursor().unwrap().as_deref(), Some("s1"));
    assert_eq!(
        f.store
            .pull_cursor_for("posyandu:53.04.05.2001.P01")
            .unwrap()
            .as_deref(),
        Some("s1")
    );
    // Another scope (a bidan of the desa on the same tablet) has its own cursor.
    f.store
        .apply_pull_page_for_scope("desa:53.04.05.2001", &page("d7", vec![]))
        .unwrap();
    assert_eq!(f.store.pull_cursor().unwrap().as_deref(), Some("s1"));
    assert_eq!(
        f.store
            .pull_cursor_for("desa:53.04.05.2001")
            .unwrap()
            .as_deref(),
        Some("d7")
    );
    // A pulled change whose id is known with another kind is recorded, and the cursor moves.
    let reg = family(&mut f.store);
    let mut bad = edit(
        reg.household,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(T0 + 1000),
        json!({"name": "X"}),
        &[],
    );
    bad.schema = 1;
    let r = f
        .store
        .apply_pull_page(&page("s2", vec![bad.clone()]))
        .unwrap();
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(f.store.pull_cursor().unwrap().as_deref(), Some("s2"));
    let refused = f.store.refused_pulls().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, bad);
    assert!(refused[0].1.contains("kind mismatch"));
}

/// Re-stamping after clock_ahead also moves what names the old stamps: a pending review's
/// loser, and the date of a fact dated by its stamp.
#[test]
fn restamping_rewrites_review_losers_and_stamp_dates() {
    let mut f = fixture();
    f.clock.set(T0 + 365 * DAY);
    let reg = family(&mut f.store);
    let p = reg.persons[0];
    let created = person_change(&f.store, p);
    f.store
        .update_person(
            p,
            json!({"name": "Yohanes Bere"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let local = f.store.pending_changes(100).unwrap().pop().unwrap();
    // A pulled edit (accepted by the server at its time) loses to the local one, a year
    // ahead; the supervisor reviews that conflict here.
    let _ = created;
    let pulled = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(T0 + 60_000),
        json!({"name": "Yohanes Bria Bere"}),
        &[],
    );
    f.store.apply_pulled(&[pulled], None, None).unwrap();
    let (key, _) = f.store.conflicts().unwrap()[0].clone();
    f.store.review_conflict(&key, false, None).unwrap();
    let _ = local;
    let before = f.store.pending_changes(100).unwrap();
    let resp = all_clock_ahead(&before, T0 + 120_000);
    let r = f.store.record_push_outcomes(&resp).unwrap();
    assert_eq!(r.restamped, before.len());
    let after = f.store.pending_changes(100).unwrap();
    // The review fact has no `date`: its date follows its new stamp (today, not next year).
    let review = after
        .iter()
        .find(|c| c.kind == EntityKind::ConflictReview)
        .unwrap();
    let date: String = f
        .store
        .connection()
        .query_row(
            "SELECT date FROM facts WHERE id = ?1",
            [review.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(date, "2025-11-22");
    // The review named the pulled stamp, which did not move.
    let loser = review.body["loser"].as_str().unwrap().to_string();
    let exists: i64 = f
        .store
        .connection()
        .query_row(
            "SELECT count(*) FROM field_edits WHERE hlc || '.' || device = ?1",
            [&loser],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(exists, 1);
    // A review of our own (moved) edit is rewritten to the new stamp.
    let mut g = fixture();
    g.clock.set(T0 + 365 * DAY);
    let reg = family(&mut g.store);
    let p = reg.persons[0];
    let created = person_change(&g.store, p);
    // A pulled edit from the future (server-trusted) beats our edit: ours loses.
    let pulled = edit(
        p,
        EntityKind::Person,
        DeviceId::new_v7(),
        1,
        hlc(T0 + 366 * DAY),
        json!({"name": "Yohanes Bria Bere"}),
        &[("name", created.stamp())],
    );
    g.store
        .update_person(
            p,
            json!({"name": "Yohanes Bere"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let ours = g.store.pending_changes(100).unwrap().pop().unwrap();
    g.store.apply_pulled(&[pulled], None, None).unwrap();
    let (key, _) = g.store.conflicts().unwrap()[0].clone();
    assert_eq!(key.loser, ours.stamp());
    g.store.review_conflict(&key, false, None).unwrap();
    let before = g.store.pending_changes(100).unwrap();
    let resp = all_clock_ahead(&before, T0);
    g.store.record_push_outcomes(&resp).unwrap();
    let after = g.store.pending_changes(100).unwrap();
    let moved = after.iter().find(|c| c.seq == ours.seq).unwrap();
    assert_ne!(moved.stamp(), ours.stamp());
    let review = after
        .iter()
        .find(|c| c.kind == EntityKind::ConflictReview)
        .unwrap();
    assert_eq!(review.body["loser"], json!(moved.stamp().to_string()));
    let stored: String = g
        .store
        .connection()
        .query_row(
            "SELECT json_extract(body_json, '$.loser') FROM facts WHERE id = ?1",
            [review.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, moved.stamp().to_string());
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
                ..Default::default()
            },
        )
        .unwrap();
    f.store
        .correct_fact(m, json!({"value": 10.6}).as_object().cloned().unwrap())
        .unwrap();
    let before = f.store.pending_changes(100).unwrap();
    assert!(before.iter().all(|c| c.hlc.wall_ms >= T0 + 365 * DAY));
    let resp = all_clock_ahead(&before, T0);
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
    // Round 3: every change in one page, so each record is new to the page and merged in
    // memory from it (apply's fresh-record path) rather than reloaded from the tables.
    for (round, page) in [(0u64, 7usize), (1, 50), (2, 1), (3, 150)] {
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
                ..Default::default()
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

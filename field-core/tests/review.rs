//! Tinjauan (issue #17): conflicts with both values and what a clinical value changes,
//! decisions that close a conflict on every replica, likely duplicates found on the tablet
//! and by the server, dismissals and merges, and who may decide. Several real stores (SQLite
//! files) exchange their changes as a server would relay them.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{
    DuplicateReason, MeasurementInput, PairSource, PersonInput, Resolution, ServerPair, Store,
};
use health_rules::kms::YearMonth;
use serde_json::{Value, json};
use sync_protocol::{Body, DeviceId, EntityKind, RecordId};

struct Tablet {
    _dir: tempfile::TempDir,
    store: Store,
}

fn tablet(role: &str, clock: &field_core::ManualClock) -> Tablet {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(
        &dir.path().join("jangkau.db"),
        DeviceId::new_v7(),
        &user_with_role(role, role),
        "258046",
        opts(clock),
    )
    .unwrap();
    Tablet { _dir: dir, store }
}

/// Every change each tablet made, delivered to every other (as a server relays them; pulls
/// are idempotent, so delivering again is harmless).
fn exchange(tablets: &mut [&mut Tablet]) {
    let all: Vec<Vec<sync_protocol::Change>> = tablets
        .iter()
        .map(|t| t.store.pending_changes(100_000).unwrap())
        .collect();
    for (i, t) in tablets.iter_mut().enumerate() {
        for (j, changes) in all.iter().enumerate() {
            if i != j && !changes.is_empty() {
                t.store.apply_pulled(changes, None, None).unwrap();
            }
        }
    }
}

fn body(v: Value) -> Body {
    v.as_object().cloned().unwrap()
}

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        oedema: None,
        measured_by: None,
    }
}

/// The message key of a refusal.
fn key_of(e: field_core::StoreError) -> String {
    match e {
        field_core::StoreError::Invalid(v) => v.key,
        other => panic!("not a validation error: {other:?}"),
    }
}

fn child(name: &str, birth: &str, nik: Option<&str>) -> PersonInput {
    PersonInput {
        nik: nik.map(str::to_string),
        ..person(name, "male", birth)
    }
}

#[test]
fn a_birth_date_conflict_shows_both_values_and_closes_on_every_tablet() {
    let clock = field_core::ManualClock::new(T0);
    let (mut a, mut c, mut bidan) = (
        tablet("kader", &clock),
        tablet("kader", &clock),
        tablet("bidan", &clock),
    );
    let reg = a
        .store
        .register_household(
            &household(),
            &[child("Fransiskus Bria", "2024-05-10", None)],
            &[],
        )
        .unwrap();
    let kid = reg.persons[0];
    for (d, kg) in [
        ("2025-09-15", 9.2),
        ("2025-10-15", 9.3),
        ("2025-11-15", 9.3),
    ] {
        a.store.save_measurement(kid, None, d, &weight(kg)).unwrap();
    }
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    // Offline, both kader change the birth date.
    clock.advance(60_000);
    a.store
        .update_person(kid, body(json!({"birth_date": "2024-06-10"})))
        .unwrap();
    clock.advance(60_000);
    c.store
        .update_person(kid, body(json!({"birth_date": "2023-05-10"})))
        .unwrap();
    exchange(&mut [&mut a, &mut c, &mut bidan]);

    // A kader decides nothing here: no conflict is listed for her, and she may not decide.
    assert!(a.store.review_conflicts().unwrap().is_empty());
    let list = bidan.store.review_conflicts().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let k = &list[0];
    assert_eq!(
        (k.kind, k.field.as_str()),
        (EntityKind::Person, "birth_date")
    );
    assert_eq!(k.label, "Fransiskus Bria");
    assert_eq!(k.person, Some(kid));
    assert!(k.clinical);
    // The later edit (tablet C) holds; A's value is the other.
    assert_eq!(k.current.value, json!("2023-05-10"));
    assert_eq!(k.other.value, json!("2024-06-10"));
    assert_eq!(k.current.device, c.store.device_id());
    assert_eq!(k.other.device, a.store.device_id());
    assert!(!k.current.this_tablet && !k.other.this_tablet);
    assert!(k.current.at_ms > k.other.at_ms);
    assert_eq!(k.current.author, c.store.user().user_id);
    // What each value changes: the child's latest growth result by the tablet's rules.
    let (gc, go) = (
        k.current.growth.as_ref().unwrap(),
        k.other.growth.as_ref().unwrap(),
    );
    assert_eq!(gc.date, "2025-11-15");
    assert_eq!(gc.age_months, 30);
    assert_eq!(go.age_months, 17);
    assert_ne!(gc.assessment, go.assessment);
    let err = a
        .store
        .resolve_conflict(&k.key, &Resolution::KeepWinner, None)
        .unwrap_err();
    assert_eq!(key_of(err), "validation.supervisor_only");

    // The bidan keeps A's value (the other); it syncs and closes the conflict everywhere.
    bidan
        .store
        .resolve_conflict(&k.key, &Resolution::UseLoser, Some("sesuai akta"))
        .unwrap();
    assert!(bidan.store.review_conflicts().unwrap().is_empty());
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    for t in [&a, &c, &bidan] {
        assert_eq!(
            t.store.person(kid).unwrap().birth_date.as_deref(),
            Some("2024-06-10")
        );
        assert!(t.store.conflicts().unwrap().is_empty());
        assert_eq!(t.store.sync_counts().unwrap().open_conflicts, 0);
    }
}

#[test]
fn a_corrected_value_is_written_and_closes_the_conflict_in_one_write() {
    let clock = field_core::ManualClock::new(T0);
    let (mut a, mut c, mut bidan) = (
        tablet("kader", &clock),
        tablet("kader", &clock),
        tablet("bidan", &clock),
    );
    let reg = a
        .store
        .register_household(
            &household(),
            &[child("Agnes Hoar", "2024-05-10", None)],
            &[],
        )
        .unwrap();
    let kid = reg.persons[0];
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    a.store
        .update_person(kid, body(json!({"name": "Agnes Hoar Bria"})))
        .unwrap();
    clock.advance(1_000);
    c.store
        .update_person(kid, body(json!({"name": "Agnes Bria"})))
        .unwrap();
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    let k = bidan.store.review_conflicts().unwrap().remove(0);
    assert!(!k.clinical);
    assert!(k.current.growth.is_none());
    // A value the schema refuses: nothing is written, the conflict stays open, the error
    // names the one input.
    let pending = bidan.store.pending_changes(1000).unwrap().len();
    let err = bidan
        .store
        .resolve_conflict(&k.key, &Resolution::Corrected(json!("")), None)
        .unwrap_err();
    match err {
        field_core::StoreError::Invalid(v) => assert_eq!(v.field, "value"),
        other => panic!("{other:?}"),
    }
    assert_eq!(bidan.store.pending_changes(1000).unwrap().len(), pending);
    assert_eq!(bidan.store.review_conflicts().unwrap().len(), 1);
    bidan
        .store
        .resolve_conflict(
            &k.key,
            &Resolution::Corrected(json!("Agnes Hoar Bria Mali")),
            None,
        )
        .unwrap();
    let written = bidan.store.pending_changes(1000).unwrap();
    assert_eq!(written.len(), pending + 2);
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    for t in [&a, &c, &bidan] {
        assert_eq!(t.store.person(kid).unwrap().name, "Agnes Hoar Bria Mali");
        assert!(t.store.conflicts().unwrap().is_empty());
    }
}

#[test]
fn likely_duplicates_on_the_tablet_dismissed_and_merged_across_tablets() {
    let clock = field_core::ManualClock::new(T0);
    let (mut a, mut c, mut bidan) = (
        tablet("kader", &clock),
        tablet("kader", &clock),
        tablet("bidan", &clock),
    );
    // The same child on two tablets, the name spelled two ways (same spelling key), same
    // birth date, no mother recorded: a likely duplicate.
    let ra = a
        .store
        .register_household(
            &household(),
            &[child("Yosef Bria", "2024-05-10", None)],
            &[],
        )
        .unwrap();
    let rc = c
        .store
        .register_household(
            &household(),
            &[child("Josef Bria", "2024-05-10", Some("5304051005240001"))],
            &[],
        )
        .unwrap();
    // Twins of one NIK typed twice by mistake, who are not the same person.
    let rt = a
        .store
        .register_household(
            &household(),
            &[
                child("Petrus Mali", "2023-01-02", Some("5304050201230001")),
                child("Paulus Mali", "2023-01-02", Some("5304050201230001")),
            ],
            &[],
        )
        .unwrap();
    let (yosef, josef) = (ra.persons[0], rc.persons[0]);
    a.store
        .save_measurement(yosef, None, "2025-10-15", &weight(10.0))
        .unwrap();
    a.store
        .save_measurement(yosef, None, "2025-11-12", &weight(10.2))
        .unwrap();
    c.store
        .save_measurement(josef, None, "2025-11-14", &weight(10.3))
        .unwrap();
    exchange(&mut [&mut a, &mut c, &mut bidan]);

    let pairs = bidan.store.duplicate_pairs().unwrap();
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    let twins = pairs
        .iter()
        .find(|p| p.reasons == [DuplicateReason::SameNik])
        .unwrap();
    assert!(twins.first.person.id.to_string() < twins.second.person.id.to_string());
    assert_eq!(twins.source, PairSource::Device);
    let same = pairs
        .iter()
        .find(|p| p.reasons == [DuplicateReason::SameNameBirthDateMother])
        .unwrap();
    let mut ids = [same.first.person.id, same.second.person.id];
    ids.sort_by_key(|i| i.to_string());
    let mut want = [yosef, josef];
    want.sort_by_key(|i| i.to_string());
    assert_eq!(ids, want);
    assert_eq!(a.store.review_counts().unwrap().duplicates, 2);

    // A kader dismisses the twins (her own posyandu): every tablet stops proposing them,
    // also after a second dismissal of the same pair (not written twice).
    let d1 = a
        .store
        .dismiss_duplicate(rt.persons[1], rt.persons[0], Some("kembar"))
        .unwrap();
    let d2 = a
        .store
        .dismiss_duplicate(rt.persons[0], rt.persons[1], None)
        .unwrap();
    assert_eq!(d1, d2);
    assert!(
        a.store
            .person_timeline(rt.persons[0])
            .unwrap()
            .entries
            .is_empty()
    );
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    for t in [&a, &c, &bidan] {
        assert_eq!(t.store.duplicate_pairs().unwrap().len(), 1);
    }

    // Compare, then "the same person": the bidan keeps Yosef and takes Josef's NIK.
    let cmp = bidan.store.compare_pair(yosef, josef).unwrap();
    let nik = cmp.fields.iter().find(|f| f.field == "nik").unwrap();
    assert!(!nik.same);
    assert_eq!(cmp.first.timeline.person.id, yosef);
    assert_eq!(
        cmp.first.household.as_ref().unwrap().head_name.as_deref(),
        Some("Yohanes Bria")
    );
    let err = a
        .store
        .merge_same_person(yosef, josef, &[], None)
        .unwrap_err();
    assert_eq!(key_of(err), "validation.supervisor_only");
    bidan
        .store
        .merge_same_person(
            yosef,
            josef,
            &["nik".into(), "name".into()],
            Some("didaftar dua kali"),
        )
        .unwrap();
    exchange(&mut [&mut a, &mut c, &mut bidan]);
    for t in [&a, &c, &bidan] {
        assert!(t.store.duplicate_pairs().unwrap().is_empty());
        let p = t.store.person(yosef).unwrap();
        assert_eq!(p.nik.as_deref(), Some("5304051005240001"));
        assert_eq!(p.name, "Josef Bria");
        // Every weighing of both on the surviving child's growth results.
        let tl = t.store.person_timeline(yosef).unwrap();
        assert_eq!(tl.merged_from, vec![josef]);
        let dates: Vec<&str> = tl.growth.iter().map(|g| g.date.as_str()).collect();
        assert_eq!(dates, ["2025-10-15", "2025-11-12", "2025-11-14"]);
        // The month's SKDN counts the child once.
        let skdn = t
            .store
            .skdn(POSYANDU, YearMonth::new(2025, 11).unwrap())
            .unwrap();
        assert_eq!(skdn.counts.d, 1, "{skdn:?}");
    }
}

/// More persons of one name, birth date and mother than `MAX_NAME_GROUP` (copies of a test
/// record, a default birth date) are a placeholder: no pairs, as the server's finder says;
/// up to it, every two are a pair.
#[test]
fn a_placeholder_group_proposes_no_pairs_on_the_tablet() {
    use records::duplicates::MAX_NAME_GROUP;
    let clock = field_core::ManualClock::new(T0);
    let mut a = tablet("bidan", &clock);
    let copies = |n: usize, birth: &str| -> Vec<PersonInput> {
        (0..n).map(|_| child("Anak Contoh", birth, None)).collect()
    };
    a.store
        .register_household(&household(), &copies(MAX_NAME_GROUP + 1, "2024-05-10"), &[])
        .unwrap();
    assert!(a.store.duplicate_pairs().unwrap().is_empty());
    a.store
        .register_household(&household(), &copies(3, "2024-05-11"), &[])
        .unwrap();
    let pairs = a.store.duplicate_pairs().unwrap();
    assert_eq!(pairs.len(), 3, "{pairs:?}");
    assert!(
        pairs
            .iter()
            .all(|p| p.reasons == [DuplicateReason::SameNameBirthDateMother])
    );
}

#[test]
fn server_pairs_are_listed_with_the_tablets_own_and_without_dismissed_or_merged() {
    let clock = field_core::ManualClock::new(T0);
    let mut bidan = tablet("bidan", &clock);
    let mut other = household();
    other.posyandu = "53.04.05.2001.P02".into();
    let r1 = bidan
        .store
        .register_household(
            &household(),
            &[child("Maria Hale", "2022-03-04", None)],
            &[],
        )
        .unwrap();
    let r2 = bidan
        .store
        .register_household(&other, &[child("Maria Hale", "2022-03-04", None)], &[])
        .unwrap();
    let r3 = bidan
        .store
        .register_household(
            &other,
            &[
                child("Anna Seran", "2021-01-01", None),
                child("Anna Seran K", "2021-02-01", None),
            ],
            &[],
        )
        .unwrap();
    let (m1, m2) = (r1.persons[0], r2.persons[0]);
    let pair = |a: RecordId, b: RecordId, reason: &str| ServerPair {
        first: a,
        second: b,
        reason: reason.into(),
        first_posyandu: None,
        second_posyandu: None,
        found_at: 1_764_000_000,
    };
    let absent = RecordId::new_v7();
    bidan
        .store
        .replace_server_duplicates(
            "53.04.05.2001",
            &[
                // Both found (the tablet sees it too); in the server's order, reversed.
                pair(m2, m1, "name_birth_mother"),
                // Only the server (a spelling its finder tolerates and this one does not).
                pair(r3.persons[0], r3.persons[1], "name_birth_mother"),
                // A person this tablet does not hold: left out.
                pair(m1, absent, "nik"),
            ],
            T0,
        )
        .unwrap();
    let pairs = bidan.store.duplicate_pairs().unwrap();
    assert_eq!(pairs.len(), 2, "{pairs:?}");
    let both = pairs
        .iter()
        .find(|p| p.first.person.name == "Maria Hale")
        .unwrap();
    assert_eq!(both.source, PairSource::Both);
    assert_eq!(both.found_at, Some(1_764_000_000));
    let server = pairs
        .iter()
        .find(|p| p.first.person.name.starts_with("Anna"))
        .unwrap();
    assert_eq!(server.source, PairSource::Server);
    assert_eq!(server.reasons, [DuplicateReason::SameNameBirthDateMother]);
    // Dismissed here before the server knows it: gone at once.
    bidan
        .store
        .dismiss_duplicate(r3.persons[0], r3.persons[1], None)
        .unwrap();
    // Merged here: gone.
    bidan.store.merge_same_person(m1, m2, &[], None).unwrap();
    assert!(bidan.store.duplicate_pairs().unwrap().is_empty());
    // The next answer replaces the last one.
    bidan
        .store
        .replace_server_duplicates("53.04.05.2001", &[], T0 + DAY)
        .unwrap();
    assert!(bidan.store.duplicate_pairs().unwrap().is_empty());
    let counts = bidan.store.review_counts().unwrap();
    assert!(counts.supervisor);
    assert_eq!((counts.conflicts, counts.duplicates), (0, 0));
}

#[test]
fn a_merge_takes_only_fields_it_may_and_refuses_a_household_of_another_posyandu() {
    let clock = field_core::ManualClock::new(T0);
    let mut bidan = tablet("bidan", &clock);
    let mut other = household();
    other.posyandu = "53.04.05.2001.P02".into();
    let r1 = bidan
        .store
        .register_household(&household(), &[child("Klara Abi", "2022-03-04", None)], &[])
        .unwrap();
    let r2 = bidan
        .store
        .register_household(
            &other,
            &[child("Klara Abi", "2022-03-04", Some("5304050403220002"))],
            &[],
        )
        .unwrap();
    let (k, m) = (r1.persons[0], r2.persons[0]);
    let before = bidan.store.pending_changes(1000).unwrap().len();
    let err = bidan
        .store
        .merge_same_person(k, m, &["household".into()], None)
        .unwrap_err();
    assert_eq!(key_of(err), "validation.household_elsewhere");
    let err = bidan
        .store
        .merge_same_person(k, m, &["posyandu".into()], None)
        .unwrap_err();
    assert_eq!(key_of(err), "validation.unknown_field");
    assert!(bidan.store.merge_same_person(k, k, &[], None).is_err());
    // Nothing was written by the refused merges.
    assert_eq!(bidan.store.pending_changes(1000).unwrap().len(), before);
    bidan
        .store
        .merge_same_person(k, m, &["nik".into()], None)
        .unwrap();
    assert_eq!(
        bidan.store.person(k).unwrap().nik.as_deref(),
        Some("5304050403220002")
    );
    // A second merge of the merged record is refused.
    assert!(bidan.store.merge_same_person(k, m, &[], None).is_err());
}

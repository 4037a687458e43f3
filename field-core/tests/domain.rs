//! Every domain operation, and bad input.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{
    AttendanceInput, DuplicateReason, HomeVisitInput, ImmunisationInput, MeasurementInput,
    MemberPanel, PersonInput, ReferralInput, ScreeningInput, Services, StoreError, SupplementInput,
};
use serde_json::json;
use sync_protocol::{EntityKind, RecordId};

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        measured_by: Some("Kader Maria".into()),
        ..Default::default()
    }
}

fn outbox_len(s: &field_core::Store) -> usize {
    s.pending_changes(100_000).unwrap().len()
}

fn invalid_key(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid(v) => {
            assert!(!v.id_text.is_empty() && !v.en_text.is_empty());
            (v.field, v.key)
        }
        other => panic!("expected a validation error, got {other}"),
    }
}

#[test]
fn register_household_writes_records_and_outbox_in_one_go() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    assert_eq!(reg.persons.len(), 3);
    assert!(reg.duplicates.is_empty());
    let hh = f.store.household(reg.household).unwrap();
    assert_eq!(hh.values["head_name"], "Yohanes Bria");
    assert_eq!(hh.members.len(), 3);
    let child = f.store.person(reg.persons[2]).unwrap();
    assert_eq!(
        child.mother.as_deref(),
        Some(reg.persons[1].to_string().as_str())
    );
    assert_eq!(child.status, "active");
    assert_eq!(child.age_months, Some(18));
    assert_eq!(child.life_stage, Some(field_core::LifeStage::Balita));
    // One outbox entry per record, sequence 1..=4 with increasing stamps.
    let out = f.store.pending_changes(100).unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(
        out.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(out.windows(2).all(|w| w[0].hlc < w[1].hlc));
    assert_eq!(out[0].kind, EntityKind::Household);
    assert!(out[1..].iter().all(|c| c.body["posyandu"] == POSYANDU));
    // Bodies use exactly the schema's field names and validate.
    for c in &out {
        sync_protocol::schema::validate(c, true, "2025-11-22").unwrap();
    }
    assert_eq!(f.store.sync_counts().unwrap().pending, 4);
}

#[test]
fn search_tolerates_spelling_variants_and_skips_merged_persons() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    for q in [
        "yohanes",
        "Johanes",
        "JOHANES BRIA",
        "fransiscus",
        "maria gorreti",
        "Mar",
        "bria",
    ] {
        let hits = f.store.search_persons(q, Some(POSYANDU), 10).unwrap();
        assert!(!hits.is_empty(), "{q}");
    }
    let hits = f.store.search_persons("Johanes", None, 10).unwrap();
    assert_eq!(hits[0].person.id, reg.persons[0]);
    assert_eq!(hits[0].household_head.as_deref(), Some("Yohanes Bria"));
    assert!(
        f.store
            .search_persons("Ximenes", None, 10)
            .unwrap()
            .is_empty()
    );
    assert!(f.store.search_persons("\"*(", None, 10).unwrap().is_empty());
    assert!(
        f.store
            .search_persons("yohanes", Some("53.04.05.2001.P02"), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn likely_duplicates_are_flagged_but_saved() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    // Same name (other spelling), birth date and mother, registered by a second kader.
    let mut twin = person("Fransiscus Bria", "male", "2024-05-10");
    twin.mother = Some(reg.persons[1]);
    let again = f.store.add_member(reg.household, &twin).unwrap();
    assert_eq!(again.duplicates.len(), 1);
    assert_eq!(again.duplicates[0].existing, reg.persons[2]);
    assert_eq!(
        again.duplicates[0].reason,
        DuplicateReason::SameNameBirthDateMother
    );
    // Same NIK.
    let mut a = person("Agustina Luruk", "female", "1985-03-01");
    a.nik = Some("5304054103850001".into());
    let r1 = f.store.add_member(reg.household, &a).unwrap();
    assert!(r1.duplicates.is_empty() && r1.warnings.is_empty());
    let mut b = person("Agustina L.", "female", "1985-03-01");
    b.nik = a.nik.clone();
    let r2 = f.store.add_member(reg.household, &b).unwrap();
    assert_eq!(r2.duplicates[0].reason, DuplicateReason::SameNik);
    // A NIK that contradicts sex and birth date is a warning.
    let mut c = person("Paulus Mau", "male", "1985-03-01");
    c.nik = Some("5304054103850002".into());
    let r3 = f.store.add_member(reg.household, &c).unwrap();
    assert_eq!(r3.warnings[0].key, "validation.nik_mismatch");
}

#[test]
fn merge_keeps_both_records_facts() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let mut twin = person("Fransiscus Bria", "male", "2024-05-10");
    twin.mother = Some(reg.persons[1]);
    let dup = f.store.add_member(reg.household, &twin).unwrap().persons[0];
    f.store
        .save_measurement(reg.persons[2], None, "2025-10-01", &weight(10.1))
        .unwrap();
    f.store
        .save_measurement(dup, None, "2025-11-01", &weight(10.4))
        .unwrap();
    let err = f.store.merge_persons(dup, dup, None).unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.same_person");
    f.store
        .merge_persons(reg.persons[2], dup, Some("didaftar dua kali"))
        .unwrap();
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    assert_eq!(t.merged_from, vec![dup]);
    let weights: Vec<_> = t
        .entries
        .iter()
        .filter(|e| e.kind == EntityKind::Measurement)
        .collect();
    assert_eq!(weights.len(), 2);
    assert!(weights[0].date < weights[1].date);
    // The merged record is still stored, but gone from lists and searches.
    assert!(f.store.person(dup).is_ok());
    assert_eq!(f.store.household(reg.household).unwrap().members.len(), 3);
    let hits = f.store.search_persons("fransiskus", None, 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(f.store.merge_persons(reg.persons[2], dup, None).is_err());
}

#[test]
fn posyandu_day_attendance_and_roster() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-22", Some("services_first"))
        .unwrap();
    let before = outbox_len(&f.store);
    let a = f
        .store
        .record_attendance(&AttendanceInput {
            session,
            person: reg.persons[2],
            services: Services {
                measurements: vec![
                    weight(10.9),
                    MeasurementInput {
                        kind: "length_height".into(),
                        value: 80.5,
                        unit: "cm".into(),
                        position: Some("lying".into()),
                        measured_by: None,
                        ..Default::default()
                    },
                ],
                immunisations: vec![ImmunisationInput {
                    vaccine: "DPT-HB-Hib 4".into(),
                    batch: Some("B123".into()),
                    catch_up: None,
                    date: None,
                    ..Default::default()
                }],
                supplements: vec![SupplementInput {
                    supplement: "vitamin_a_red".into(),
                    quantity: Some(1),
                }],
                screenings: vec![],
            },
            counselling: Some("MP-ASI bergizi".into()),
            findings: None,
            follow_up_date: Some("2025-12-20".into()),
            referral: None,
        })
        .unwrap();
    assert_eq!(a.saved.measurements.len(), 2);
    assert_eq!(outbox_len(&f.store), before + 5);
    let roster = f.store.roster(POSYANDU, "2025-11-22").unwrap();
    assert_eq!(roster.len(), 3);
    assert_eq!(roster[0].person.id, reg.persons[2]); // youngest first
    assert_eq!(roster[0].visit, Some(a.visit));
    assert!(roster[1].visit.is_none());
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    let kinds: Vec<_> = t.entries.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EntityKind::Visit) && kinds.contains(&EntityKind::Immunisation));
    assert!(t.entries.iter().all(|e| e.date == "2025-11-22"));
}

#[test]
fn home_visit_with_panels_screening_and_referral() {
    // A bidan's tablet: a kader makes referrals, a health worker moves them forward.
    let mut f = fixture_with_role("bidan");
    let reg = family(&mut f.store);
    let mut patch = sync_protocol::Body::new();
    patch.insert("latrine".into(), json!(true));
    patch.insert("water_source".into(), json!("well"));
    let hv = f
        .store
        .record_home_visit(&HomeVisitInput {
            household: reg.household,
            date: "2025-11-20".into(),
            household_update: Some(patch),
            family_acknowledged: Some(true),
            panels: vec![
                MemberPanel {
                    person: reg.persons[0],
                    services: Services {
                        screenings: vec![ScreeningInput {
                            instrument: "tb".into(),
                            answers:
                                json!({"cough_2_weeks": true, "fever": false, "weight_loss": true})
                                    .as_object()
                                    .cloned()
                                    .unwrap(),
                            result: Some("suspect".into()),
                        }],
                        ..Default::default()
                    },
                    findings: Some("Batuk 3 minggu".into()),
                    education: Some("Etika batuk".into()),
                    follow_up_date: Some("2025-11-27".into()),
                    reminded_to_facility: Some(true),
                    reported_to_health_worker: Some("2025-11-20".into()),
                    referral: Some(ReferralInput {
                        reason: "Suspek TB".into(),
                        destination: "puskesmas".into(),
                        destination_name: Some("Puskesmas Halilulik".into()),
                    }),
                },
                MemberPanel {
                    person: reg.persons[2],
                    services: Services {
                        measurements: vec![weight(10.7)],
                        ..Default::default()
                    },
                    findings: None,
                    education: Some("ASI dan MP-ASI".into()),
                    follow_up_date: None,
                    reminded_to_facility: None,
                    reported_to_health_worker: None,
                    referral: None,
                },
            ],
        })
        .unwrap();
    assert_eq!(hv.panels.len(), 2);
    let referral = hv.panels[0].saved.referral.unwrap();
    let hh = f.store.household(reg.household).unwrap();
    assert_eq!(hh.values["water_source"], "well");
    f.store
        .advance_referral(referral, "received", "2025-11-21", None)
        .unwrap();
    // A second press of the same button adds no second event.
    let pending = outbox_len(&f.store);
    let err = f
        .store
        .advance_referral(referral, "received", "2025-11-21", None)
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("status".into(), "validation.referral_same_status".into())
    );
    assert_eq!(outbox_len(&f.store), pending);
    f.store
        .advance_referral(referral, "done", "2025-11-22", Some("TCM negatif"))
        .unwrap();
    let t = f.store.person_timeline(reg.persons[0]).unwrap();
    assert_eq!(t.referrals[0]["status"], "done");
    assert_eq!(t.referrals[0]["outcome"], "TCM negatif");
    assert!(t.entries.iter().any(|e| e.kind == EntityKind::Screening));
    // Referral status only moves forward: going back is refused, and nothing is written.
    let pending = outbox_len(&f.store);
    let err = f
        .store
        .advance_referral(referral, "made", "2025-11-22", None)
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("status".into(), "validation.referral_backwards".into())
    );
    assert_eq!(outbox_len(&f.store), pending);
    let t = f.store.person_timeline(reg.persons[0]).unwrap();
    assert_eq!(t.referrals[0]["status"], "done");
}

#[test]
fn a_kader_makes_referrals_but_does_not_move_them() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let hv = f
        .store
        .record_home_visit(&HomeVisitInput {
            household: reg.household,
            date: "2025-11-20".into(),
            household_update: None,
            family_acknowledged: None,
            panels: vec![MemberPanel {
                person: reg.persons[0],
                services: Services::default(),
                findings: Some("Batuk 3 minggu".into()),
                education: None,
                follow_up_date: None,
                reminded_to_facility: None,
                reported_to_health_worker: None,
                referral: Some(ReferralInput {
                    reason: "Suspek TB".into(),
                    destination: "puskesmas".into(),
                    destination_name: None,
                }),
            }],
        })
        .unwrap();
    let referral = hv.panels[0].saved.referral.unwrap();
    let pending = outbox_len(&f.store);
    let err = f
        .store
        .advance_referral(referral, "received", "2025-11-21", None)
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        (
            "status".into(),
            "validation.referral_health_worker_only".into()
        )
    );
    assert_eq!(outbox_len(&f.store), pending);
    assert_eq!(f.store.referrals(None).unwrap()[0].status, "made");
}

#[test]
fn merges_are_followed_through_chains() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let a = reg.persons[2];
    let mut twin = person("Fransiscus Bria", "male", "2024-05-10");
    twin.mother = Some(reg.persons[1]);
    let b = f.store.add_member(reg.household, &twin).unwrap().persons[0];
    let mut third = person("Fransiskus Brià", "male", "2024-05-10");
    third.nik = None;
    let c = f.store.add_member(reg.household, &third).unwrap().persons[0];
    for (p, d, kg) in [
        (a, "2025-09-01", 9.9),
        (b, "2025-10-01", 10.1),
        (c, "2025-11-01", 10.4),
    ] {
        f.store.save_measurement(p, None, d, &weight(kg)).unwrap();
    }
    // C was merged into B, then B into A.
    f.store.merge_persons(b, c, None).unwrap();
    f.store.merge_persons(a, b, None).unwrap();
    let t = f.store.person_timeline(a).unwrap();
    let mut from = t.merged_from.clone();
    from.sort();
    let mut want = vec![b, c];
    want.sort();
    assert_eq!(from, want);
    assert_eq!(
        t.entries
            .iter()
            .filter(|e| e.kind == EntityKind::Measurement)
            .count(),
        3
    );
}

#[test]
fn a_correction_cannot_move_a_fact() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let m = f
        .store
        .save_measurement(reg.persons[2], None, "2025-11-01", &weight(10.1))
        .unwrap();
    for (field, value) in [
        ("person", json!(reg.persons[0].to_string())),
        ("posyandu", json!("53.04.05.2001.P02")),
    ] {
        let mut ch = sync_protocol::Body::new();
        ch.insert(field.into(), value);
        let err = f.store.correct_fact(m, ch).unwrap_err();
        assert_eq!(
            invalid_key(err),
            (field.into(), "validation.fact_moved".into())
        );
    }
    // The same person named again is no move.
    let mut ch = sync_protocol::Body::new();
    ch.insert("person".into(), json!(reg.persons[2].to_string()));
    ch.insert("value".into(), json!(10.2));
    f.store.correct_fact(m, ch).unwrap();
}

#[test]
fn the_time_zone_is_a_setting() {
    let mut f = fixture();
    assert_eq!(f.store.utc_offset_minutes(), 480);
    // 2025-11-22 10:00 WITA is still the 22nd in WIB.
    f.store.set_utc_offset_minutes(420).unwrap();
    assert_eq!(f.store.today().unwrap().to_string(), "2025-11-22");
    f.clock.set(T0 - 10 * 3600 * 1000 - 60_000); // 2025-11-21 23:59 WITA = 22:59 WIB
    assert_eq!(f.store.today().unwrap().to_string(), "2025-11-21");
    f.store.set_utc_offset_minutes(540).unwrap(); // WIT: 2025-11-22 00:59
    assert_eq!(f.store.today().unwrap().to_string(), "2025-11-22");
    assert!(f.store.set_utc_offset_minutes(24 * 60).is_err());
    drop(f.store);
    let s = reopen(&f.path, &f.clock);
    assert_eq!(s.utc_offset_minutes(), 540);
}

#[test]
fn correction_supersedes_and_retraction_hides() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let m = f
        .store
        .save_measurement(reg.persons[2], None, "2025-11-22", &weight(11.9))
        .unwrap();
    let fixed = f
        .store
        .correct_fact(m, json!({"value": 10.9}).as_object().cloned().unwrap())
        .unwrap();
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    let old = t.entries.iter().find(|e| e.id == m).unwrap();
    let new = t.entries.iter().find(|e| e.id == fixed).unwrap();
    assert_eq!(old.superseded_by, Some(fixed));
    assert_eq!(new.supersedes, Some(m));
    assert_eq!(new.body["value"], 10.9);
    assert_eq!(new.body["measured_by"], "Kader Maria");
    // The old one cannot be corrected twice; the correction can.
    let err = f
        .store
        .correct_fact(m, json!({"value": 10.8}).as_object().cloned().unwrap())
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.already_corrected");
    // An implausible correction is refused.
    let err = f
        .store
        .correct_fact(fixed, json!({"value": 109.0}).as_object().cloned().unwrap())
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("value".into(), "validation.implausible_for_age".into())
    );
    f.store.retract_fact(fixed).unwrap();
    let t = f.store.person_timeline(reg.persons[2]).unwrap();
    assert!(!t.entries.iter().any(|e| e.id == fixed));
    // Mutable records are not "corrected".
    let err = f
        .store
        .correct_fact(reg.persons[0], sync_protocol::Body::new())
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.not_a_fact");
}

#[test]
fn moved_and_died_leave_the_roster() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    f.store.mark_moved(reg.persons[0], "2025-11-01").unwrap();
    f.store.mark_died(reg.persons[1], "2025-11-10").unwrap();
    assert_eq!(f.store.person(reg.persons[0]).unwrap().status, "moved");
    assert_eq!(
        f.store.person(reg.persons[1]).unwrap().values["status_date"],
        "2025-11-10"
    );
    let roster = f.store.roster(POSYANDU, "2025-11-22").unwrap();
    assert_eq!(roster.len(), 1);
    // No services for someone who moved.
    let err = f
        .store
        .save_measurement(reg.persons[0], None, "2025-11-22", &weight(60.0))
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.person_inactive");
    let err = f.store.mark_died(reg.persons[2], "2023-01-01").unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("status_date".into(), "validation.date_before_birth".into())
    );
}

#[test]
fn pregnancy_and_anc_contacts() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let err = f
        .store
        .start_pregnancy(reg.persons[0], &field_core::PregnancyInput::default())
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.not_pregnant_age");
    let preg = f
        .store
        .start_pregnancy(
            reg.persons[1],
            &field_core::PregnancyInput {
                hpht: Some("2025-08-01".into()),
                gravida: Some(2),
                para: Some(1),
            },
        )
        .unwrap();
    f.store
        .record_anc_contact(
            preg,
            &field_core::AncContactInput {
                contact: 1,
                date: "2025-09-15".into(),
                by_doctor: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    // A second pregnancy while this one is ongoing is refused (it would split her ANC).
    let err = f
        .store
        .start_pregnancy(reg.persons[1], &field_core::PregnancyInput::default())
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("person".into(), "validation.pregnancy_ongoing".into())
    );
    let t = f.store.person_timeline(reg.persons[1]).unwrap();
    assert_eq!(t.pregnancies.len(), 1);
    assert!(t.entries.iter().any(|e| e.kind == EntityKind::AncContact));
    let roster = f.store.roster(POSYANDU, "2025-11-22").unwrap();
    assert!(
        roster
            .iter()
            .any(|r| r.person.id == reg.persons[1] && r.pregnant)
    );
}

#[test]
fn bad_input_is_a_typed_error_and_nothing_is_written() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let n = outbox_len(&f.store);
    let cases: Vec<(PersonInput, &str, &str)> = vec![
        (
            person("Ana", "female", "2025-12-01"),
            "birth_date",
            "validation.date_in_future",
        ),
        (
            person("Ana", "female", "2025-02-30"),
            "birth_date",
            "validation.date_format",
        ),
        (
            person("", "female", "2020-01-01"),
            "name",
            "validation.empty",
        ),
        (person("Ana", "x", "2020-01-01"), "sex", "validation.choice"),
        (
            PersonInput {
                nik: Some("123".into()),
                ..person("Ana", "female", "2020-01-01")
            },
            "nik",
            "validation.digits",
        ),
        (
            PersonInput {
                mother: Some(reg.persons[0]),
                ..person("Ana", "female", "2020-01-01")
            },
            "mother",
            "validation.mother_not_female",
        ),
        (
            PersonInput {
                mother: Some(reg.persons[1]),
                ..person("Ana", "female", "2000-01-01")
            },
            "mother",
            "validation.mother_too_young",
        ),
        (
            PersonInput {
                mother: Some(RecordId::new_v7()),
                ..person("Ana", "female", "2020-01-01")
            },
            "mother",
            "validation.unknown_record",
        ),
        (
            PersonInput {
                mother: Some(reg.household),
                ..person("Ana", "female", "2020-01-01")
            },
            "mother",
            "validation.wrong_record_kind",
        ),
    ];
    for (p, field, key) in cases {
        // The first member is fine: the whole registration must still be refused.
        let err = f
            .store
            .register_household(&household(), &[person("Ok", "male", "1990-01-01"), p], &[])
            .unwrap_err();
        // The form marks the member at fault: `members.<index>.<field>`.
        assert_eq!(
            invalid_key(err),
            (format!("members.1.{field}"), key.to_string())
        );
    }
    let mut bad_hh = household();
    bad_hh.posyandu = "not a code!".into();
    let err = f
        .store
        .register_household(&bad_hh, &[person("Ok", "male", "1990-01-01")], &[])
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("posyandu".into(), "validation.place_code".into())
    );
    let err = f
        .store
        .register_household(&household(), &[], &[])
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.no_members");

    let child = reg.persons[2];
    let m = |kind: &str, value: f64, unit: &str, pos: Option<&str>| MeasurementInput {
        kind: kind.into(),
        value,
        unit: unit.into(),
        position: pos.map(Into::into),
        measured_by: None,
        ..Default::default()
    };
    let mcases = vec![
        (
            m("weight", 105.0, "kg", None),
            "2025-11-22",
            "value",
            "validation.implausible_for_age",
        ),
        (
            m("weight", 10.5, "g/dL", None),
            "2025-11-22",
            "unit",
            "validation.unit_mismatch",
        ),
        (
            m("weight", 900.0, "kg", None),
            "2025-11-22",
            "value",
            "validation.out_of_range",
        ),
        (
            m("length_height", 80.0, "cm", None),
            "2025-11-22",
            "position",
            "validation.position_required",
        ),
        (
            m("weight", 10.5, "kg", None),
            "2025-11-23",
            "date",
            "validation.date_in_future",
        ),
        (
            m("weight", 10.5, "kg", None),
            "2024-01-01",
            "date",
            "validation.date_before_birth",
        ),
        (
            m("muac", 3.0, "cm", None),
            "2025-11-22",
            "value",
            "validation.out_of_range",
        ),
    ];
    for (input, date, field, key) in mcases {
        let err = f
            .store
            .save_measurement(child, None, date, &input)
            .unwrap_err();
        assert_eq!(
            invalid_key(err),
            (field.to_string(), key.to_string()),
            "{input:?}"
        );
    }
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-22", None)
        .unwrap();
    let n2 = outbox_len(&f.store);
    // A bad measurement inside an attendance refuses the whole attendance (no visit saved).
    let err = f
        .store
        .record_attendance(&AttendanceInput {
            session,
            person: child,
            services: Services {
                measurements: vec![weight(10.0), weight(1000.0)],
                ..Default::default()
            },
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: None,
        })
        .unwrap_err();
    // Named by its row, so the form marks the second weight.
    assert_eq!(invalid_key(err).0, "measurements.1.value");
    assert_eq!(outbox_len(&f.store), n2);
    assert_eq!(n2, n + 1);
    let err = f
        .store
        .open_posyandu_session(POSYANDU, "2026-01-01", None)
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.date_in_future");
    let err = f
        .store
        .update_person(child, json!({"name": 5}).as_object().cloned().unwrap())
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("name".into(), "validation.wrong_type".into())
    );
    let err = f
        .store
        .update_person(child, json!({"shoe_size": 5}).as_object().cloned().unwrap())
        .unwrap_err();
    assert_eq!(
        invalid_key(err),
        ("shoe_size".into(), "validation.unknown_field".into())
    );
    assert_eq!(f.store.integrity_check().unwrap(), vec!["ok".to_string()]);
}

#[test]
fn today_follows_the_injected_clock_and_calibration() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    // The tablet is set a year ahead: a "future" date by the real calendar is accepted
    // until the clock is calibrated against the server...
    f.clock.advance(365 * DAY);
    f.store
        .save_measurement(reg.persons[2], None, "2026-06-01", &weight(12.0))
        .unwrap();
    // ...after a pull that tells the server's time, today is the server's today again.
    f.store.apply_pulled(&[], None, Some(T0)).unwrap();
    let err = f
        .store
        .save_measurement(reg.persons[2], None, "2026-07-01", &weight(12.0))
        .unwrap_err();
    assert_eq!(invalid_key(err).1, "validation.date_in_future");
    assert_eq!(f.store.today().unwrap().to_string(), "2025-11-22");
}

#[test]
fn updates_carry_the_base_they_saw() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    f.store
        .update_person(
            reg.persons[0],
            json!({"phone": "0812"}).as_object().cloned().unwrap(),
        )
        .unwrap();
    f.store
        .update_person(
            reg.persons[0],
            json!({"phone": "0813", "name": "Yohanes B. Bria"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let out = f.store.pending_changes(100).unwrap();
    let first = &out[out.len() - 2];
    let last = out.last().unwrap();
    assert!(first.base.is_empty());
    assert_eq!(last.base.get("phone"), Some(&first.stamp()));
    assert_eq!(last.base.get("name"), Some(&out[1].stamp()));
    assert_eq!(
        f.store.person(reg.persons[0]).unwrap().name,
        "Yohanes B. Bria"
    );
    assert!(
        !f.store
            .search_persons("yohanes b", None, 5)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn places_and_scope() {
    use field_core::Place;
    use sync_protocol::{PlaceLevel, Scope};
    let mut f = fixture();
    let p = |code: &str, level, name: &str, parent: Option<&str>| Place {
        code: code.into(),
        level,
        name: name.into(),
        parent: parent.map(Into::into),
    };
    f.store
        .replace_places(&[
            p("53.04", PlaceLevel::Kabupaten, "Belu", None),
            p(
                "53.04.05.2001",
                PlaceLevel::Desa,
                "Halilulik",
                Some("53.04"),
            ),
            p(
                "53.04.05.2001.P01",
                PlaceLevel::Posyandu,
                "Mawar",
                Some("53.04.05.2001"),
            ),
            p(
                "53.04.05.2001.P02",
                PlaceLevel::Posyandu,
                "Melati",
                Some("53.04.05.2001"),
            ),
            p(
                "53.04.05.2002.P01",
                PlaceLevel::Posyandu,
                "Anggrek",
                Some("53.04"),
            ),
        ])
        .unwrap();
    assert_eq!(f.store.places(PlaceLevel::Posyandu, None).unwrap().len(), 3);
    assert_eq!(f.store.scope().unwrap(), None);
    f.store
        .set_scope(&Scope {
            level: PlaceLevel::Desa,
            place: "53.04.05.2001".into(),
        })
        .unwrap();
    assert_eq!(
        f.store.posyandu_in_scope().unwrap(),
        vec![
            "53.04.05.2001.P01".to_string(),
            "53.04.05.2001.P02".to_string()
        ]
    );

    // Merged places (as the sync client stores them after a login): a known place takes the
    // new name and parent, the others stay.
    f.store
        .merge_places(&[
            p(
                "53.04.PKM07",
                PlaceLevel::Puskesmas,
                "Puskesmas Halilulik",
                Some("53.04"),
            ),
            p(
                "53.04.05.2001",
                PlaceLevel::Desa,
                "Desa Naitimu",
                Some("53.04.PKM07"),
            ),
            p(
                "53.04.05.2001.P01",
                PlaceLevel::Posyandu,
                "Posyandu Mawar",
                Some("53.04.05.2001"),
            ),
        ])
        .unwrap();
    let names: Vec<(String, String)> = f
        .store
        .places(PlaceLevel::Posyandu, None)
        .unwrap()
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    assert_eq!(
        names,
        [
            ("53.04.05.2002.P01".to_string(), "Anggrek".to_string()),
            ("53.04.05.2001.P02".to_string(), "Melati".to_string()),
            (
                "53.04.05.2001.P01".to_string(),
                "Posyandu Mawar".to_string()
            ),
        ]
    );
    // A puskesmas scope: its posyandu through the parent links, although the puskesmas code
    // is no prefix of theirs.
    f.store
        .set_scope(&Scope {
            level: PlaceLevel::Puskesmas,
            place: "53.04.PKM07".into(),
        })
        .unwrap();
    assert_eq!(
        f.store.posyandu_in_scope().unwrap(),
        vec![
            "53.04.05.2001.P01".to_string(),
            "53.04.05.2001.P02".to_string()
        ]
    );
}

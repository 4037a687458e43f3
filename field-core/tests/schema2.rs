//! The fields of body schema 2 written through the store: a newborn's birth, a dose's vial
//! (lot, expiry), oedema at a weighing; refusals name the field with a message key, and the
//! outbox carries schema 2.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{AttendanceInput, ImmunisationInput, MeasurementInput, PersonInput, Services};
use serde_json::json;
use sync_protocol::EntityKind;
use sync_protocol::schema::SCHEMA_VERSION;

fn newborn(weight: f64, time: &str) -> PersonInput {
    PersonInput {
        relation: Some("child".into()),
        birth_weight: Some(weight),
        birth_length: Some(49.5),
        birth_time: Some(time.into()),
        ..person("Bayi Ny. Maria", "female", "2025-11-21")
    }
}

#[test]
fn a_newborn_is_registered_with_her_birth() {
    let mut f = fixture();
    let reg = f
        .store
        .register_household(
            &household(),
            &[
                person("Maria Goreti Hale", "female", "1994-07-21"),
                newborn(3.1, "06:45"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let baby = reg.persons[1];
    let created = f
        .store
        .pending_changes(100)
        .unwrap()
        .into_iter()
        .find(|c| c.id == baby)
        .unwrap();
    assert_eq!(created.schema, SCHEMA_VERSION);
    assert_eq!(
        (
            &created.body["birth_weight"],
            &created.body["birth_length"],
            &created.body["birth_time"]
        ),
        (&json!(3.1), &json!(49.5), &json!("06:45"))
    );
}

#[test]
fn a_wrong_birth_is_refused_at_its_field() {
    let mut f = fixture();
    for (member, field, key) in [
        (
            newborn(3.1, "25:00"),
            "members.1.birth_time",
            "validation.time_format",
        ),
        (
            newborn(3100.0, "06:45"),
            "members.1.birth_weight",
            "validation.out_of_range",
        ),
    ] {
        let e = f
            .store
            .register_household(
                &household(),
                &[person("Maria Goreti Hale", "female", "1994-07-21"), member],
                &[(1, 0)],
            )
            .unwrap_err();
        let field_core::StoreError::Invalid(v) = e else {
            panic!("not a validation error: {e:?}")
        };
        assert_eq!((v.field.as_str(), v.key.as_str()), (field, key));
        assert!(!v.id_text.is_empty() && !v.en_text.is_empty());
    }
}

#[test]
fn the_vial_and_oedema_travel_with_the_dose_and_the_weight() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-22", None)
        .unwrap();
    let dose = |expiry: &str| ImmunisationInput {
        vaccine: "MR1".into(),
        batch: Some("MR24-0917".into()),
        expiry: Some(expiry.into()),
        ..Default::default()
    };
    let attend = |im: ImmunisationInput| AttendanceInput {
        session,
        person: reg.persons[2],
        services: Services {
            measurements: vec![MeasurementInput {
                kind: "weight".into(),
                value: 9.4,
                unit: "kg".into(),
                oedema: Some(true),
                ..Default::default()
            }],
            immunisations: vec![im],
            supplements: vec![],
            screenings: vec![],
        },
        counselling: None,
        findings: None,
        follow_up_date: None,
        referral: None,
    };
    // An expired vial: refused at the dose's expiry, nothing written.
    let before = f.store.pending_changes(1000).unwrap().len();
    let e = f
        .store
        .record_attendance(&attend(dose("2025-11-01")))
        .unwrap_err();
    let field_core::StoreError::Invalid(v) = e else {
        panic!("not a validation error: {e:?}")
    };
    assert_eq!(
        (v.field.as_str(), v.key.as_str()),
        ("immunisations.0.expiry", "validation.vial_expired")
    );
    assert!(v.id_text.contains("kedaluwarsa"), "{}", v.id_text);
    assert_eq!(f.store.pending_changes(1000).unwrap().len(), before);

    let a = f
        .store
        .record_attendance(&attend(dose("2026-06-30")))
        .unwrap();
    let out = f.store.pending_changes(1000).unwrap();
    let im = out
        .iter()
        .find(|c| c.id == a.saved.immunisations[0])
        .unwrap();
    assert_eq!(im.kind, EntityKind::Immunisation);
    assert_eq!(
        (&im.body["batch"], &im.body["expiry"]),
        (&json!("MR24-0917"), &json!("2026-06-30"))
    );
    // No KFA code is known for MR (none is made up): the dose carries none.
    assert!(!im.body.contains_key("kfa_code"));
    let w = out
        .iter()
        .find(|c| c.id == a.saved.measurements[0])
        .unwrap();
    assert_eq!(w.body["oedema"], json!(true));
    // The weighing's growth result follows WHO's rule for oedema.
    let check = f
        .store
        .assess_measurement(
            reg.persons[2],
            &[MeasurementInput {
                kind: "weight".into(),
                value: 9.4,
                unit: "kg".into(),
                oedema: Some(true),
                ..Default::default()
            }],
            "2025-11-22",
        )
        .unwrap();
    let text = serde_json::to_string(&check).unwrap();
    assert!(text.contains("growth.oedema"), "{text}");
}

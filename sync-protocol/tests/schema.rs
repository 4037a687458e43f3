//! Body validation: the sample posyandu day is valid; each bad body is refused with the
//! right code and field.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sync_protocol::sample::{SampleRng, posyandu_day};
use sync_protocol::schema::{fields, is_valid_date, validate};
use sync_protocol::{Change, DeviceId, EntityKind, RejectCode, UserId};

const TODAY: &str = "2025-11-23";

fn person_create(body: Value) -> Change {
    let mut c = edit(rid(1), EntityKind::Person, 1, 1, 10, &[], &[]);
    c.body = body.as_object().cloned().unwrap();
    c
}

#[test]
fn the_sample_posyandu_day_is_valid() {
    let mut rng = SampleRng::new(3);
    let day = posyandu_day(9, DeviceId(rng.uuid7(T0)), UserId(rng.uuid7(T0)), 1, 500);
    for c in &day {
        // The sample's person changes are patches of existing records.
        let creates = c.kind.class() == sync_protocol::Class::Fact;
        assert_eq!(validate(c, creates, TODAY), Ok(()), "{c:?}");
    }
}

#[test]
fn every_kind_has_a_posyandu_field() {
    for k in EntityKind::ALL {
        assert!(
            fields(k).iter().any(|f| f.name == "posyandu" && f.required),
            "{k}"
        );
    }
}

#[test]
fn bad_bodies_table() {
    let good = json!({"posyandu": "53.04.05.2001.P01", "name": "Yohana Bere", "sex": "female", "birth_date": "2023-02-28"});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    type Case<'a> = (Value, bool, Option<(RejectCode, &'a str)>);
    let cases: Vec<Case> = vec![
        (good.clone(), true, None),
        (
            without("name"),
            true,
            Some((RejectCode::InvalidBody, "name")),
        ),
        (without("name"), false, None), // a patch need not repeat required fields
        (
            with("name", json!("  ")),
            true,
            Some((RejectCode::InvalidValue, "name")),
        ),
        (
            with("sex", json!("m")),
            true,
            Some((RejectCode::InvalidValue, "sex")),
        ),
        (
            with("sex", json!(1)),
            true,
            Some((RejectCode::InvalidBody, "sex")),
        ),
        (
            with("birth_date", json!("2023-02-29")),
            true,
            Some((RejectCode::InvalidValue, "birth_date")),
        ),
        (with("birth_date", json!("2024-02-29")), true, None),
        (
            with("birth_date", json!("2026-01-01")),
            true,
            Some((RejectCode::InvalidValue, "birth_date")),
        ),
        (
            with("birth_date", json!("28/02/2023")),
            true,
            Some((RejectCode::InvalidValue, "birth_date")),
        ),
        (
            with("nik", json!("530401510323000")),
            true,
            Some((RejectCode::InvalidValue, "nik")),
        ),
        (with("nik", json!("5304015103230001")), true, None),
        (with("nik", json!(null)), true, None),
        (
            with("mother", json!("not-an-id")),
            true,
            Some((RejectCode::InvalidValue, "mother")),
        ),
        (
            with("posyandu", json!("53..04")),
            true,
            Some((RejectCode::InvalidValue, "posyandu")),
        ),
        (
            with("favourite_colour", json!("red")),
            true,
            Some((RejectCode::InvalidBody, "favourite_colour")),
        ),
    ];
    for (body, creates, want) in cases {
        let got = validate(&person_create(body.clone()), creates, TODAY)
            .map_err(|r| (r.code, r.field.unwrap_or_default()));
        let want = want.map_or(Ok(()), |(c, f)| Err((c, f.to_string())));
        assert_eq!(got, want, "{body}");
    }
}

#[test]
fn measurements_check_unit_range_and_position() {
    let m = |body: Value| fact(rid(2), EntityKind::Measurement, 1, 1, 10, body);
    let base = json!({"posyandu": "P1", "person": rid(1).to_string(), "type": "weight", "value": 8.2, "unit": "kg"});
    assert_eq!(validate(&m(base.clone()), true, TODAY), Ok(()));
    let mut b = base.clone();
    b["value"] = json!(900.0);
    assert_eq!(
        validate(&m(b), true, TODAY).unwrap_err().field.as_deref(),
        Some("value")
    );
    let mut b = base.clone();
    b["unit"] = json!("cm");
    assert_eq!(
        validate(&m(b), true, TODAY).unwrap_err().field.as_deref(),
        Some("unit")
    );
    let mut b = base;
    b["type"] = json!("length_height");
    b["unit"] = json!("cm");
    b["value"] = json!(74.0);
    assert_eq!(
        validate(&m(b.clone()), true, TODAY)
            .unwrap_err()
            .field
            .as_deref(),
        Some("position")
    );
    b["position"] = json!("lying");
    assert_eq!(validate(&m(b), true, TODAY), Ok(()));
}

#[test]
fn envelope_and_schema_version_are_checked_first() {
    let mut c = person_create(json!({"posyandu": "P1"}));
    c.schema = sync_protocol::schema::SCHEMA_VERSION + 1;
    assert_eq!(
        validate(&c, false, TODAY).unwrap_err().code,
        RejectCode::UnsupportedSchema
    );
    c.schema = 1;
    c.seq = 0;
    assert_eq!(
        validate(&c, false, TODAY).unwrap_err().code,
        RejectCode::InvalidEnvelope
    );
}

#[test]
fn dates_table() {
    for (s, ok) in [
        ("2024-02-29", true),
        ("2100-02-29", false),
        ("2000-02-29", true),
        ("2025-04-31", false),
        ("2025-13-01", false),
        ("2025-00-10", false),
        ("2025-1-01", false),
        ("+025-01-01", false),
        ("2025-01-01x", false),
    ] {
        assert_eq!(is_valid_date(s), ok, "{s}");
    }
}

#[test]
fn newer_rules_table() {
    use sync_protocol::schema::check_area_unchanged;
    let m = |body: Value| fact(rid(2), EntityKind::Measurement, 1, 1, 10, body);
    let lying_null = json!({"posyandu": "P1", "person": rid(1).to_string(), "type": "length_height", "value": 74.0, "unit": "cm", "position": null});
    assert_eq!(
        validate(&m(lying_null), true, TODAY)
            .unwrap_err()
            .field
            .as_deref(),
        Some("position")
    );
    let s = |answers: Value| {
        fact(
            rid(3),
            EntityKind::Screening,
            1,
            1,
            10,
            json!({"posyandu": "P1", "person": rid(1).to_string(), "instrument": "tb", "date": "2025-11-20", "answers": answers}),
        )
    };
    assert_eq!(
        validate(
            &s(json!({"cough_2_weeks": true, "symptoms": ["fever", "night_sweats"]})),
            true,
            TODAY
        ),
        Ok(())
    );
    assert!(validate(&s(json!({"nested": {"a": 1}})), true, TODAY).is_err());
    assert!(validate(&s(json!({"list": [{"a": 1}]})), true, TODAY).is_err());
    let review = |loser: &str| {
        fact(
            rid(4),
            EntityKind::ConflictReview,
            1,
            1,
            10,
            json!({"posyandu": "P1", "record": rid(1).to_string(), "field": "name", "loser": loser, "decision": "keep_winner"}),
        )
    };
    assert_eq!(
        validate(&review(&stamp(2, 5).to_string()), true, TODAY),
        Ok(())
    );
    assert_eq!(
        validate(&review("hello"), true, TODAY)
            .unwrap_err()
            .field
            .as_deref(),
        Some("loser")
    );
    let moved = person_create(json!({"posyandu": "53.04.05.2001.P02"}));
    assert_eq!(
        check_area_unchanged(&moved, "53.04.05.2001.P01")
            .unwrap_err()
            .field
            .as_deref(),
        Some("posyandu")
    );
    assert_eq!(check_area_unchanged(&moved, "53.04.05.2001.P02"), Ok(()));
}

#[test]
fn a_duplicate_dismissal_names_its_pair_in_canonical_order() {
    let (a, b) = {
        let (x, y) = (rid(1).to_string(), rid(2).to_string());
        if x < y { (x, y) } else { (y, x) }
    };
    let dismissal = |first: &str, second: &str, note: Value| {
        fact(
            rid(9),
            EntityKind::DuplicateDismissal,
            1,
            1,
            10,
            json!({"posyandu": "P1", "first": first, "second": second, "note": note}),
        )
    };
    assert_eq!(
        validate(&dismissal(&a, &b, json!("kakak adik")), true, TODAY),
        Ok(())
    );
    assert_eq!(
        validate(&dismissal(&a, &b, Value::Null), true, TODAY),
        Ok(())
    );
    for (first, second) in [(&b, &a), (&a, &a)] {
        let e = validate(&dismissal(first, second, Value::Null), true, TODAY).unwrap_err();
        assert_eq!(e.code, RejectCode::InvalidValue);
        assert_eq!(e.field.as_deref(), Some("second"));
    }
    let e = validate(&dismissal(&a, "not-an-id", Value::Null), true, TODAY).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("second"));
    let missing = fact(
        rid(9),
        EntityKind::DuplicateDismissal,
        1,
        1,
        10,
        json!({"posyandu": "P1", "first": a}),
    );
    assert_eq!(
        validate(&missing, true, TODAY)
            .unwrap_err()
            .field
            .as_deref(),
        Some("second")
    );
}
// ---------------------------------------------------------------------------------------------
// Body schema 2.

fn fact2(kind: EntityKind, body: Value) -> Change {
    let mut c = fact(rid(2), kind, 1, 1, 10, body);
    c.schema = 2;
    c
}

type Outcome = Result<(), (RejectCode, String)>;

fn outcome(c: &Change) -> Outcome {
    validate(c, true, TODAY).map_err(|r| (r.code, r.field.unwrap_or_default()))
}

fn bad(code: RejectCode, field: &str) -> Outcome {
    Err((code, field.to_string()))
}

#[test]
fn schema_2_immunisation_fields_table() {
    let dose = json!({"posyandu": "P1", "person": rid(1).to_string(), "vaccine": "HB0",
                      "date": "2025-11-20", "batch": "L123", "kfa_code": "93000631",
                      "expiry": "2026-06-30"});
    let with = |k: &str, v: Value| {
        let mut b = dose.clone();
        b[k] = v;
        fact2(EntityKind::Immunisation, b)
    };
    let cases: Vec<(Change, Outcome)> = vec![
        (fact2(EntityKind::Immunisation, dose.clone()), Ok(())),
        // The expiry may be after today (a vial in date), never before the dose's day.
        (with("expiry", json!("2030-01-31")), Ok(())),
        (with("expiry", json!("2025-11-20")), Ok(())),
        (
            with("expiry", json!("2025-11-19")),
            bad(RejectCode::InvalidValue, "expiry"),
        ),
        (
            with("expiry", json!("2026-02-30")),
            bad(RejectCode::InvalidValue, "expiry"),
        ),
        (
            with("expiry", json!("30/06/2026")),
            bad(RejectCode::InvalidValue, "expiry"),
        ),
        (
            with("expiry", json!(20260630)),
            bad(RejectCode::InvalidBody, "expiry"),
        ),
        (
            with("kfa_code", json!("93A00631")),
            bad(RejectCode::InvalidValue, "kfa_code"),
        ),
        (
            with("kfa_code", json!("12345")),
            bad(RejectCode::InvalidValue, "kfa_code"),
        ),
        (
            with("kfa_code", json!("123456789012345678901")),
            bad(RejectCode::InvalidValue, "kfa_code"),
        ),
        (
            with("kfa_code", json!(93000631)),
            bad(RejectCode::InvalidBody, "kfa_code"),
        ),
        (
            with("batch", json!("x".repeat(41))),
            bad(RejectCode::InvalidValue, "batch"),
        ),
    ];
    for (c, want) in cases {
        assert_eq!(outcome(&c), want, "{:?}", c.body);
    }
}

#[test]
fn schema_2_newborn_fields_table() {
    let child = json!({"posyandu": "P1", "name": "Bayi Ny. Maria", "sex": "female",
                       "birth_date": "2025-11-22", "birth_weight": 3.1, "birth_length": 49.5,
                       "birth_time": "06:45"});
    let with = |k: &str, v: Value| {
        let mut b = child.clone();
        b[k] = v;
        let mut c = person_create(b);
        c.schema = 2;
        c
    };
    let cases: Vec<(Change, Outcome)> = vec![
        (with("birth_time", json!("00:00")), Ok(())),
        (with("birth_time", json!("23:59")), Ok(())),
        (
            with("birth_time", json!("24:00")),
            bad(RejectCode::InvalidValue, "birth_time"),
        ),
        (
            with("birth_time", json!("6:45")),
            bad(RejectCode::InvalidValue, "birth_time"),
        ),
        (
            with("birth_time", json!("06:60")),
            bad(RejectCode::InvalidValue, "birth_time"),
        ),
        (
            with("birth_time", json!("06.45")),
            bad(RejectCode::InvalidValue, "birth_time"),
        ),
        (with("birth_weight", json!(0.3)), Ok(())),
        // Grams typed as kilograms.
        (
            with("birth_weight", json!(3100)),
            bad(RejectCode::InvalidValue, "birth_weight"),
        ),
        (
            with("birth_weight", json!(0.2)),
            bad(RejectCode::InvalidValue, "birth_weight"),
        ),
        (
            with("birth_weight", json!("3,1")),
            bad(RejectCode::InvalidBody, "birth_weight"),
        ),
        (with("birth_length", json!(65)), Ok(())),
        (
            with("birth_length", json!(66)),
            bad(RejectCode::InvalidValue, "birth_length"),
        ),
        (
            with("birth_length", json!(19.9)),
            bad(RejectCode::InvalidValue, "birth_length"),
        ),
        // Optional: cleared with null on a later edit.
        (with("birth_weight", Value::Null), Ok(())),
    ];
    for (c, want) in cases {
        assert_eq!(outcome(&c), want, "{:?}", c.body);
    }
}

#[test]
fn schema_2_oedema_goes_with_a_weight() {
    let weighing = json!({"posyandu": "P1", "person": rid(1).to_string(), "type": "weight",
                          "value": 6.1, "unit": "kg", "oedema": true});
    assert_eq!(
        outcome(&fact2(EntityKind::Measurement, weighing.clone())),
        Ok(())
    );
    let mut b = weighing.clone();
    b["oedema"] = json!("ya");
    assert_eq!(
        outcome(&fact2(EntityKind::Measurement, b)),
        bad(RejectCode::InvalidBody, "oedema")
    );
    let muac = json!({"posyandu": "P1", "person": rid(1).to_string(), "type": "muac",
                      "value": 11.0, "unit": "cm", "oedema": true});
    assert_eq!(
        outcome(&fact2(EntityKind::Measurement, muac)),
        bad(RejectCode::InvalidBody, "oedema")
    );
}

#[test]
fn a_schema_1_change_may_not_use_schema_2_fields() {
    let mut c = fact2(
        EntityKind::Measurement,
        json!({"posyandu": "P1", "person": rid(1).to_string(), "type": "weight",
               "value": 6.1, "unit": "kg", "oedema": false}),
    );
    c.schema = 1;
    assert_eq!(outcome(&c), bad(RejectCode::InvalidBody, "oedema"));
    // The same body without the new field is a good schema-1 change, and a good schema-2 one.
    c.body.remove("oedema");
    assert_eq!(outcome(&c), Ok(()));
    c.schema = 2;
    assert_eq!(outcome(&c), Ok(()));
    // A peer limited to schema 1 (protocol 1) may not send schema 2.
    assert_eq!(
        sync_protocol::schema::validate_up_to(&c, true, TODAY, 1).map_err(|r| r.code),
        Err(RejectCode::UnsupportedSchema)
    );
    c.schema = 0;
    assert_eq!(outcome(&c), bad(RejectCode::UnsupportedSchema, "schema"));
}

#[test]
fn every_schema_1_kind_is_schema_1_and_every_schema_2_field_is_optional() {
    use sync_protocol::schema::{SCHEMA_1_KINDS, kind_since};
    for k in SCHEMA_1_KINDS {
        assert_eq!(kind_since(k), 1, "{k}");
    }
    for k in EntityKind::ALL {
        for f in fields(k) {
            assert!(f.since >= 1 && f.since <= sync_protocol::schema::SCHEMA_VERSION);
            // A v1 tablet may omit every field it does not know.
            assert!(
                !(f.since > 1 && f.required),
                "{k}.{} is new and required",
                f.name
            );
        }
    }
}

#[test]
fn downgrade_for_protocol_1_leaves_out_only_schema_2() {
    use sync_protocol::schema::{downgrade, uses_newer_schema};
    let dose = fact2(
        EntityKind::Immunisation,
        json!({"posyandu": "P1", "person": rid(1).to_string(), "vaccine": "HB0",
               "date": "2025-11-20", "batch": "L123", "kfa_code": "93000631",
               "expiry": "2026-06-30"}),
    );
    assert!(uses_newer_schema(&dose, 1));
    assert!(!uses_newer_schema(&dose, 2));
    // Protocol 2 gets it as stored.
    assert_eq!(
        downgrade(&dose, 2).map(|c| c.into_owned()),
        Some(dose.clone())
    );
    let old = downgrade(&dose, 1).unwrap().into_owned();
    assert_eq!(old.schema, 1);
    assert_eq!(
        Value::Object(old.body.clone()),
        json!({"posyandu": "P1", "person": rid(1).to_string(), "vaccine": "HB0",
               "date": "2025-11-20", "batch": "L123"})
    );
    // What a v1 tablet gets is a valid schema-1 change with the same identity.
    assert_eq!(validate(&old, true, TODAY), Ok(()));
    assert_eq!(
        (old.id, old.device, old.seq, old.hlc),
        (dose.id, dose.device, dose.seq, dose.hlc)
    );

    // A mutable edit: the new fields and their base entries go; an edit of new fields only
    // is not sent at all.
    let mut e = edit(
        rid(1),
        EntityKind::Person,
        1,
        2,
        20,
        &[
            ("name", json!("Bayi Ny. Maria")),
            ("birth_weight", json!(3.1)),
        ],
        &[("name", 1, 10), ("birth_weight", 1, 10)],
    );
    e.schema = 2;
    let old = downgrade(&e, 1).unwrap().into_owned();
    assert_eq!(old.body.keys().collect::<Vec<_>>(), vec!["name"]);
    assert_eq!(old.base.keys().collect::<Vec<_>>(), vec!["name"]);
    assert_eq!(old.check_envelope(), Ok(()));
    e.body.remove("name");
    e.base.remove("name");
    assert!(downgrade(&e, 1).is_none());
    // A schema-2 change that uses no new field is sent as schema 1, unchanged otherwise.
    let mut plain = fact2(
        EntityKind::Note,
        json!({"posyandu": "P1", "text": "Ibu pindah ke Atambua"}),
    );
    let old = downgrade(&plain, 1).unwrap().into_owned();
    plain.schema = 1;
    assert_eq!(old, plain);
}

#[test]
fn a_full_copy_of_a_fact_is_kept_over_its_protocol_1_projection() {
    use sync_protocol::merge::FactRecord;
    let dose = fact2(
        EntityKind::Immunisation,
        json!({"posyandu": "P1", "person": rid(1).to_string(), "vaccine": "HB0",
               "date": "2025-11-20", "kfa_code": "93000631", "expiry": "2026-06-30"}),
    );
    let old = sync_protocol::schema::downgrade(&dose, 1)
        .unwrap()
        .into_owned();
    for order in [[&old, &dose], [&dose, &old]] {
        let mut r = FactRecord::new(EntityKind::Immunisation);
        for c in order {
            r.apply(c).unwrap();
        }
        assert_eq!(r.body.as_ref(), Some(&dose.body));
    }
}

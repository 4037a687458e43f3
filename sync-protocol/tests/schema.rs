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
    c.schema = 2;
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

//! Growth results in the timeline and due tasks, from health-rules.
#![cfg(feature = "health")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{ImmunisationInput, MeasurementInput, RuleOptions};

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        measured_by: None,
        ..Default::default()
    }
}

#[test]
fn timeline_carries_growth_results_and_kms() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2]; // born 2024-05-10
    f.store
        .save_measurement(child, None, "2025-09-15", &weight(10.0))
        .unwrap();
    f.store
        .save_measurement(child, None, "2025-10-15", &weight(10.3))
        .unwrap();
    let length = MeasurementInput {
        kind: "length_height".into(),
        value: 79.0,
        unit: "cm".into(),
        position: Some("lying".into()),
        measured_by: None,
        ..Default::default()
    };
    f.store
        .save_measurement(child, None, "2025-10-15", &length)
        .unwrap();
    // A corrected weighing counts only in its corrected form.
    let wrong = f
        .store
        .save_measurement(child, None, "2025-11-15", &weight(12.5))
        .unwrap();
    f.store
        .correct_fact(
            wrong,
            serde_json::json!({"value": 10.2})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let t = f.store.person_timeline(child).unwrap();
    assert_eq!(t.growth.len(), 3, "{:#?}", t.growth);
    let oct = &t.growth[1];
    assert_eq!(oct.date, "2025-10-15");
    assert_eq!(oct.weight_kg, Some(10.3));
    assert_eq!(oct.length_height_cm, Some(79.0));
    // Typed in Rust (issue 13); the JSON the screens read keeps its shape.
    let a = serde_json::to_value(oct.assessment.as_ref().unwrap()).unwrap();
    let kms = |i: usize| serde_json::to_value(t.growth[i].kms.as_ref().unwrap()).unwrap();
    assert!(
        a.pointer("/wfa/z").and_then(|z| z.as_f64()).is_some(),
        "{a}"
    );
    assert!(a.pointer("/lhfa").is_some_and(|v| !v.is_null()), "{a}");
    // KMS: first weighing B, then the gain against the KBM decides N or T.
    assert_eq!(kms(0)["result"], "B");
    let k1 = kms(1);
    let second = &k1["result"];
    assert!(second == "N" || second == "T", "{second}");
    assert_eq!(t.growth[2].weight_kg, Some(10.2));
    assert_eq!(kms(2)["result"], "T");
    // Adults get no growth points.
    assert!(
        f.store
            .person_timeline(reg.persons[0])
            .unwrap()
            .growth
            .is_empty()
    );
}

#[test]
fn due_tasks_for_the_posyandu() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2];
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-22", None)
        .unwrap();
    f.store
        .record_attendance(&field_core::AttendanceInput {
            session,
            person: child,
            services: field_core::Services {
                immunisations: vec![ImmunisationInput {
                    vaccine: "DPT-HB-Hib 1".into(),
                    batch: None,
                    catch_up: Some(true),
                    date: None,
                    ..Default::default()
                }],
                ..Default::default()
            },
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: None,
        })
        .unwrap();
    let tasks = f
        .store
        .due_tasks(POSYANDU, &RuleOptions::default())
        .unwrap();
    let mine = tasks.iter().find(|t| t.person.id == child).unwrap();
    assert!(!mine.tasks.is_empty());
    // Typed in Rust (issue 13); the JSON the screens read keeps its shape.
    let tasks_json: Vec<serde_json::Value> = mine
        .tasks
        .iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    let dose = |t: &serde_json::Value| {
        t.pointer("/params/dose_id")
            .and_then(|d| d.as_str())
            .map(str::to_string)
    };
    // The dose given (recorded by its printed name) is not asked for again; others are.
    assert!(
        tasks_json
            .iter()
            .all(|t| dose(t).as_deref() != Some("DPT-HB-Hib1"))
    );
    assert!(
        tasks_json
            .iter()
            .any(|t| t["kind"] == "vaccine_overdue" && dose(t).as_deref() == Some("OPV1"))
    );
    assert!(
        tasks_json
            .iter()
            .all(|t| t.get("kind").is_some() && t.get("due").is_some())
    );
}

/// A record health-rules cannot use is reported for its person; their other tasks and every
/// other person's tasks are still planned.
#[test]
fn a_bad_record_is_a_problem_of_one_person_not_of_the_list() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2];
    let mut sib = person("Maria Bria", "female", "2025-03-01");
    sib.mother = Some(reg.persons[1]);
    let sib = f.store.add_member(reg.household, &sib).unwrap().persons[0];
    // Pulled from another tablet: an immunisation dated before the child's birth.
    let bad = sync_protocol::Change {
        id: sync_protocol::RecordId::new_v7(),
        kind: sync_protocol::EntityKind::Immunisation,
        device: sync_protocol::DeviceId::new_v7(),
        seq: 1,
        hlc: sync_protocol::Hlc {
            wall_ms: T0 - DAY,
            counter: 0,
        },
        author: sync_protocol::UserId::new_v7(),
        schema: 1,
        tombstone: false,
        supersedes: None,
        base: Default::default(),
        body: serde_json::json!({
            "posyandu": POSYANDU, "person": child.to_string(), "date": "2024-01-01",
            "vaccine": "BCG"
        })
        .as_object()
        .cloned()
        .unwrap(),
    };
    f.store.apply_pulled(&[bad], None, None).unwrap();
    let tasks = f
        .store
        .due_tasks(POSYANDU, &RuleOptions::default())
        .unwrap();
    let mine = tasks.iter().find(|t| t.person.id == child).unwrap();
    assert!(
        mine.problems
            .iter()
            .map(|p| serde_json::to_value(p).unwrap())
            .any(|p| p["key"] == "immunisation.given_before_birth"),
        "{:?}",
        mine.problems
    );
    assert!(!mine.tasks.is_empty());
    let other = tasks.iter().find(|t| t.person.id == sib).unwrap();
    assert!(other.problems.is_empty());
    assert!(!other.tasks.is_empty());
}

//! Measurement checks before saving: "are you sure?" and the result in words.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::advice::Level;
use health_rules::checks::{
    CheckInput, CheckRules, LastValue, MeasurementCheck, Previous, Readings, check,
};
use health_rules::growth::{Indicator, Position, weight_for_age_z};
use health_rules::kms::{KmsResult, Weighing};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

struct Case {
    sex: Sex,
    birth: &'static str,
    date: &'static str,
    readings: Readings,
    pregnancy: Option<Option<NaiveDate>>,
    previous: Previous,
    weighings: Vec<Weighing>,
}

impl Case {
    fn new(sex: Sex, birth: &'static str, date: &'static str, readings: Readings) -> Self {
        Self {
            sex,
            birth,
            date,
            readings,
            pregnancy: None,
            previous: Previous::default(),
            weighings: Vec::new(),
        }
    }

    fn run(&self) -> MeasurementCheck {
        check(
            &CheckInput {
                sex: self.sex,
                birth_date: d(self.birth),
                date: d(self.date),
                readings: &self.readings,
                pregnancy: self.pregnancy,
                previous: &self.previous,
                weighings: &self.weighings,
            },
            &CheckRules::builtin(),
        )
    }
}

fn keys(c: &MeasurementCheck) -> Vec<&'static str> {
    c.findings.iter().map(|f| f.label.key).collect()
}

fn confirms(c: &MeasurementCheck) -> Vec<(&'static str, &'static str)> {
    c.confirm.iter().map(|f| (f.field, f.label.key)).collect()
}

#[test]
fn pregnant_woman_with_lila_22_has_kek() {
    let mut case = Case::new(
        Sex::Female,
        "1998-04-02",
        "2025-11-20",
        Readings {
            muac_cm: Some(22.0),
            weight_kg: Some(48.0),
            ..Default::default()
        },
    );
    case.pregnancy = Some(Some(d("2025-07-01")));
    let c = case.run();
    assert_eq!(keys(&c), ["checks.lila.kek"], "{c:#?}");
    assert_eq!(c.findings[0].level, Level::Act);
    assert_eq!(c.findings[0].params["muac_cm"], "22.0");
    assert_eq!(c.next_action.unwrap().key, "action.lila.kek_pregnant");
    // No child z-scores and no adult BMI in pregnancy.
    assert!(c.growth.is_none());
    case.readings.muac_cm = Some(23.5);
    assert_eq!(keys(&case.run()), ["checks.lila.normal"]);
}

#[test]
fn blood_pressure_categories_from_15_years() {
    // (systolic, diastolic, pregnant, finding, level)
    let cases = [
        (118.0, 76.0, false, "checks.bp.normal", Level::Ok),
        (125.0, 70.0, false, "checks.bp.elevated", Level::Watch),
        (135.0, 85.0, false, "checks.bp.elevated", Level::Watch),
        (140.0, 80.0, false, "checks.bp.high", Level::Act),
        (130.0, 90.0, false, "checks.bp.high", Level::Act),
        (185.0, 100.0, false, "checks.bp.crisis", Level::Urgent),
        (150.0, 110.0, false, "checks.bp.crisis", Level::Urgent),
        (145.0, 92.0, true, "checks.bp.high_pregnant", Level::Urgent),
        (120.0, 80.0, true, "checks.bp.elevated", Level::Watch),
    ];
    for (s, dia, pregnant, key, level) in cases {
        let mut case = Case::new(
            Sex::Female,
            "1970-01-15",
            "2025-11-20",
            Readings {
                bp_systolic: Some(s),
                bp_diastolic: Some(dia),
                ..Default::default()
            },
        );
        if pregnant {
            case.birth = "1996-01-15";
            case.pregnancy = Some(None);
        }
        let c = case.run();
        assert_eq!(keys(&c), [key], "{s}/{dia}");
        assert_eq!(c.findings[0].level, level, "{s}/{dia}");
        assert_eq!(c.findings[0].params["systolic"], format!("{s:.0}"));
    }
    // A child's blood pressure gets no adult category.
    let child = Case::new(
        Sex::Male,
        "2018-01-15",
        "2025-11-20",
        Readings {
            bp_systolic: Some(150.0),
            bp_diastolic: Some(95.0),
            ..Default::default()
        },
    );
    assert!(child.run().findings.is_empty());
    // Systolic not above diastolic: ask.
    let swapped = Case::new(
        Sex::Male,
        "1960-01-15",
        "2025-11-20",
        Readings {
            bp_systolic: Some(80.0),
            bp_diastolic: Some(120.0),
            ..Default::default()
        },
    );
    assert!(confirms(&swapped.run()).contains(&("bp_systolic", "checks.confirm.bp_order")));
}

#[test]
fn blood_sugar_waist_hb_and_bmi_of_adults() {
    let adult = |sex, r: Readings| Case::new(sex, "1975-03-03", "2025-11-20", r).run();
    let sugar = |g| {
        adult(
            Sex::Male,
            Readings {
                blood_sugar: Some(g),
                ..Default::default()
            },
        )
    };
    assert_eq!(keys(&sugar(250.0)), ["checks.sugar.high"]);
    assert_eq!(keys(&sugar(200.0)), ["checks.sugar.high"]);
    assert_eq!(keys(&sugar(199.0)), ["checks.sugar.normal"]);
    assert_eq!(keys(&sugar(60.0)), ["checks.sugar.low"]);
    assert_eq!(sugar(60.0).findings[0].level, Level::Urgent);
    let waist = |sex, cm| {
        adult(
            sex,
            Readings {
                waist_cm: Some(cm),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        keys(&waist(Sex::Male, 91.0)),
        ["checks.waist.central_obesity"]
    );
    assert_eq!(keys(&waist(Sex::Male, 90.0)), ["checks.waist.normal"]);
    assert_eq!(
        keys(&waist(Sex::Female, 81.0)),
        ["checks.waist.central_obesity"]
    );
    assert_eq!(keys(&waist(Sex::Female, 80.0)), ["checks.waist.normal"]);
    let hb = |sex, v| {
        adult(
            sex,
            Readings {
                hb: Some(v),
                ..Default::default()
            },
        )
    };
    assert_eq!(keys(&hb(Sex::Female, 11.5)), ["checks.hb.anaemia"]);
    assert_eq!(keys(&hb(Sex::Female, 12.0)), ["checks.hb.normal"]);
    assert_eq!(keys(&hb(Sex::Male, 12.5)), ["checks.hb.anaemia"]);
    let bmi = |kg, cm| {
        adult(
            Sex::Female,
            Readings {
                weight_kg: Some(kg),
                length_height_cm: Some(cm),
                ..Default::default()
            },
        )
    };
    // 70 kg / 1.60² = 27.3
    assert_eq!(keys(&bmi(70.0, 160.0)), ["checks.bmi.obese"]);
    // 64 kg / 1.60² = 25.0: still normal.
    assert_eq!(keys(&bmi(64.0, 160.0)), ["checks.bmi.normal"]);
    // 45 kg → 17.6; 42 kg → 16.4.
    assert_eq!(keys(&bmi(45.0, 160.0)), ["checks.bmi.thin"]);
    assert_eq!(keys(&bmi(42.0, 160.0)), ["checks.bmi.severe_thin"]);
    // An adult weight out of the usual range, or changed by 10 % in a month: ask.
    let heavy = bmi(180.0, 160.0);
    assert!(confirms(&heavy).contains(&("weight", "checks.confirm.out_of_range")));
    let mut jump = Case::new(
        Sex::Female,
        "1975-03-03",
        "2025-11-20",
        Readings {
            weight_kg: Some(66.0),
            ..Default::default()
        },
    );
    jump.previous.weight_kg = Some(LastValue {
        date: d("2025-10-20"),
        value: 58.0,
        position: None,
    });
    assert_eq!(
        confirms(&jump.run()),
        [("weight", "checks.confirm.weight_jump")]
    );
}

#[test]
fn anaemia_in_pregnancy_follows_the_trimester() {
    let mut case = Case::new(
        Sex::Female,
        "1996-01-15",
        "2025-11-20",
        Readings {
            hb: Some(10.7),
            ..Default::default()
        },
    );
    // HPHT 2025-07-01: day 142 on 2025-11-20, trimester 2: anaemia below 11 g/dL too (the
    // national programme's cut-off in every trimester; it was WHO's 10.5 before issue 16).
    case.pregnancy = Some(Some(d("2025-07-01")));
    assert_eq!(keys(&case.run()), ["checks.hb.anaemia"]);
    case.readings.hb = Some(11.0);
    assert_eq!(keys(&case.run()), ["checks.hb.normal"]);
    case.readings.hb = Some(10.7);
    // HPHT 2025-03-01: trimester 3 (anaemia below 11).
    case.pregnancy = Some(Some(d("2025-03-01")));
    assert_eq!(keys(&case.run()), ["checks.hb.anaemia"]);
}

fn weighing(sex: Sex, birth: &str, date: &str, kg: f64) -> Weighing {
    let days = (d(date) - d(birth)).num_days() as u32;
    Weighing {
        date: d(date),
        weight_g: (kg * 1000.0).round() as u32,
        wfa_z: weight_for_age_z(sex, days, kg).ok(),
    }
}

#[test]
fn under_five_gets_kms_result_and_categories_in_words() {
    let birth = "2024-05-10";
    let mut case = Case::new(
        Sex::Male,
        birth,
        "2025-11-15",
        Readings {
            weight_kg: Some(9.1),
            length_height_cm: Some(80.0),
            position: Some(Position::Lying),
            ..Default::default()
        },
    );
    case.weighings = vec![
        weighing(Sex::Male, birth, "2025-09-15", 9.0),
        weighing(Sex::Male, birth, "2025-10-15", 9.0),
        // Same month as the new weighing: replaced by it.
        weighing(Sex::Male, birth, "2025-11-02", 12.0),
    ];
    let c = case.run();
    let kms = c.kms.as_ref().unwrap();
    assert_eq!(kms.result, KmsResult::T);
    assert!(
        kms.two_t,
        "September → October no gain, October → November 100 g < 200 g"
    );
    let k = keys(&c);
    assert!(
        k.contains(&"kms.result.t") && k.contains(&"kms.finding.two_t"),
        "{k:?}"
    );
    // BB/U, PB/U and BB/PB categories are there too.
    assert!(k.iter().any(|k| k.starts_with("growth.wfa.")), "{k:?}");
    assert!(k.iter().any(|k| k.starts_with("growth.lhfa.")), "{k:?}");
    assert!(k.iter().any(|k| k.starts_with("growth.wfl.")), "{k:?}");
    assert_eq!(c.next_action.unwrap().key, "action.growth.refer");
    assert!(c.confirm.is_empty(), "{:?}", c.confirm);

    // A first weighing is B with "weigh every month".
    case.weighings.clear();
    let c = case.run();
    assert_eq!(c.kms.unwrap().result, KmsResult::B);
    assert_eq!(c.findings.last().unwrap().level, Level::Ok);
}

#[test]
fn implausible_child_values_and_jumps_ask_for_confirmation() {
    let birth = "2024-05-10";
    let mut case = Case::new(
        Sex::Female,
        birth,
        "2025-11-15",
        Readings {
            weight_kg: Some(19.0),
            length_height_cm: Some(77.0),
            position: Some(Position::Lying),
            head_cm: Some(44.0),
            ..Default::default()
        },
    );
    case.previous = Previous {
        weight_kg: Some(LastValue {
            date: d("2025-10-15"),
            value: 9.0,
            position: None,
        }),
        length_height_cm: Some(LastValue {
            date: d("2025-10-15"),
            value: 79.0,
            position: Some(Position::Lying),
        }),
        head_cm: Some(LastValue {
            date: d("2025-10-15"),
            value: 45.5,
            position: None,
        }),
    };
    let c = case.run();
    let got = confirms(&c);
    assert!(
        got.contains(&("weight", "checks.confirm.weight_jump")),
        "{got:?}"
    );
    assert!(
        got.contains(&("length_height", "checks.confirm.length_decrease")),
        "{got:?}"
    );
    assert!(
        got.contains(&("head", "checks.confirm.head_decrease")),
        "{got:?}"
    );
    // 19 kg at 18 months is beyond WHO's plausibility flag too.
    assert!(
        got.contains(&("weight", "checks.confirm.implausible_z")),
        "{got:?}"
    );
    // Length measured standing at 18 months is compared after the +0.7 cm correction.
    case.readings = Readings {
        length_height_cm: Some(78.0),
        position: Some(Position::Standing),
        ..Default::default()
    };
    assert!(case.run().confirm.is_empty());
}

#[test]
fn child_lila_fever_and_school_age_bmi() {
    let child = Case::new(
        Sex::Male,
        "2023-05-10",
        "2025-11-15",
        Readings {
            muac_cm: Some(11.0),
            ..Default::default()
        },
    )
    .run();
    assert!(
        keys(&child).contains(&"checks.lila.child_severe"),
        "{:?}",
        keys(&child)
    );
    assert_eq!(child.findings[0].level, Level::Urgent);
    let infant = Case::new(
        Sex::Female,
        "2025-10-20",
        "2025-11-15",
        Readings {
            temperature: Some(38.0),
            ..Default::default()
        },
    )
    .run();
    assert_eq!(keys(&infant), ["checks.temperature.young_infant_fever"]);
    let school = Case::new(
        Sex::Female,
        "2015-02-01",
        "2025-11-15",
        Readings {
            weight_kg: Some(60.0),
            length_height_cm: Some(140.0),
            ..Default::default()
        },
    )
    .run();
    assert!(
        keys(&school).contains(&"growth.bfa_5_18.obese"),
        "{:?}",
        keys(&school)
    );
    assert!(school.kms.is_none());
}

#[test]
fn a_date_before_birth_is_a_problem_not_a_panic() {
    let c = Case::new(
        Sex::Male,
        "2025-05-10",
        "2025-01-15",
        Readings {
            weight_kg: Some(5.0),
            ..Default::default()
        },
    )
    .run();
    assert_eq!(c.problems[0].key, "checks.date_before_birth");
    assert!(c.findings.is_empty());
}

/// An impossible value gets no category and no advice, only the check in words (issue 16:
/// 84 kg for a 14-month-old gave "BB/U z = 43,87 Risiko berat badan lebih" and asked to
/// measure the length typed; LiLA 225 cm gave "LiLA normal (tidak KEK)").
#[test]
fn impossible_values_get_only_the_check() {
    // (what, sex, birth, date, readings, pregnant, the impossible field)
    let cases = [
        (
            "84 kg at 14 months (meant 8,4)",
            Sex::Male,
            "2025-10-01",
            "2026-12-06",
            Readings {
                weight_kg: Some(84.0),
                length_height_cm: Some(76.0),
                position: Some(Position::Lying),
                ..Default::default()
            },
            false,
            "weight",
        ),
        (
            "LiLA 225 cm for a pregnant woman (meant 22,5)",
            Sex::Female,
            "1998-04-02",
            "2025-11-20",
            Readings {
                muac_cm: Some(225.0),
                ..Default::default()
            },
            true,
            "muac",
        ),
        (
            "Hb 110 g/dL (meant 11,0)",
            Sex::Female,
            "1998-04-02",
            "2025-11-20",
            Readings {
                hb: Some(110.0),
                ..Default::default()
            },
            true,
            "hb",
        ),
        (
            "temperature 375 (meant 37,5)",
            Sex::Male,
            "1980-01-01",
            "2025-11-20",
            Readings {
                temperature: Some(375.0),
                ..Default::default()
            },
            false,
            "temperature",
        ),
    ];
    for (what, sex, birth, date, readings, pregnant, field) in cases {
        let mut case = Case::new(sex, birth, date, readings);
        if pregnant {
            case.pregnancy = Some(Some(d("2025-07-01")));
        }
        let c = case.run();
        assert_eq!(
            confirms(&c),
            [(field, "checks.impossible")],
            "{what}: {c:#?}"
        );
        assert!(c.problems.is_empty(), "{what}: {:?}", c.problems);
        assert!(c.kms.is_none(), "{what}");
        // No finding about the impossible value (only the length's category may remain).
        assert!(
            c.findings
                .iter()
                .all(|f| f.label.key.starts_with("growth.lhfa")),
            "{what}: {:?}",
            keys(&c)
        );
        if let Some(g) = &c.growth {
            assert!(
                g.get(Indicator::WeightForAge).is_none() && g.get(Indicator::BmiForAge).is_none(),
                "{what}"
            );
        }
        assert!(c.next_action.is_none() || field != "weight", "{what}");
    }
}

//! Case tables for the growth module: inputs and expected outputs side by side.
//!
//! Expected z-scores come from WHO's published z-score tables (first table) or from an
//! independent re-computation with WHO's igrowup rules that reproduces WHO's MySurvey
//! output exactly (see `growth_who_reference.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use health_rules::Sex::{self, Female as F, Male as M};
use health_rules::growth::{
    Category, GrowthError, Indicator, IndicatorResult, Measurement, Measures, Position, Reference,
    age_days_from_months, age_in_days, assess, corrected_length, sd_curve, sd_curve_for_length,
    weight_for_age_z, zscore, zscore_for_length,
};

use Indicator::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// WHO's published "expanded" z-score tables (3 decimals): the measurement at
/// −3, −2, −1, 0, +1, +2, +3 SD. Key is the age in days or the length in cm.
#[test]
fn sd_curves_match_who_published_z_score_tables() {
    let cases: [(Indicator, Sex, f64, [f64; 7]); 9] = [
        (
            WeightForAge,
            M,
            0.0,
            [2.08, 2.459, 2.881, 3.346, 3.859, 4.419, 5.031],
        ),
        (
            WeightForAge,
            F,
            928.0,
            [8.952, 10.042, 11.312, 12.801, 14.558, 16.646, 19.144],
        ),
        (
            WeightForAge,
            M,
            1856.0,
            [12.459, 14.175, 16.171, 18.497, 21.218, 24.411, 28.171],
        ),
        (
            LengthHeightForAge,
            M,
            0.0,
            [44.205, 46.098, 47.991, 49.884, 51.777, 53.67, 55.564],
        ),
        (
            LengthHeightForAge,
            F,
            1856.0,
            [95.562, 100.353, 105.144, 109.935, 114.726, 119.517, 124.308],
        ),
        (
            WeightForLength,
            F,
            77.5,
            [7.437, 8.078, 8.797, 9.609, 10.527, 11.572, 12.765],
        ),
        (
            WeightForLength,
            F,
            110.0,
            [14.025, 15.289, 16.715, 18.332, 20.174, 22.283, 24.708],
        ),
        (
            WeightForHeight,
            M,
            65.0,
            [5.868, 6.335, 6.854, 7.433, 8.079, 8.804, 9.619],
        ),
        (
            WeightForHeight,
            M,
            120.0,
            [17.072, 18.624, 20.374, 22.353, 24.601, 27.167, 30.107],
        ),
    ];
    for (ind, sex, key, published) in cases {
        let ours = if ind.is_length_based() {
            sd_curve_for_length(ind, sex, key)
        } else {
            sd_curve(ind, sex, key as u32)
        }
        .unwrap_or_else(|| panic!("{ind} {sex:?} {key}: no curve"));
        for (k, (o, p)) in ours.iter().zip(published).enumerate() {
            assert!(
                (o - p).abs() <= 0.0006,
                "{ind} {sex:?} {key} SD{}: ours {o}, WHO {p}",
                k as i32 - 3
            );
            // And the z-score of WHO's own SD value is that SD (the worked-example check).
            let z = if ind.is_length_based() {
                zscore_for_length(ind, sex, key, p).unwrap()
            } else {
                zscore(ind, sex, key as u32, p).unwrap()
            };
            assert!(
                (z - (k as f64 - 3.0)).abs() < 0.01,
                "{ind} {sex:?} {key}: z({p}) = {z}"
            );
        }
    }
}

struct Case {
    name: &'static str,
    sex: Sex,
    birth: &'static str,
    date: &'static str,
    weight: Option<f64>,
    height: Option<f64>,
    position: Option<Position>,
    muac: Option<f64>,
    head: Option<f64>,
    oedema: bool,
    /// Expected (indicator, z rounded to 2 decimals, category, flagged); z = NaN means
    /// "a result without a z-score" (oedema).
    expect: &'static [(Indicator, f64, Option<Category>, bool)],
    /// Indicators expected to be skipped, with the message key.
    skipped: &'static [(Indicator, &'static str)],
}

const BASE: Case = Case {
    name: "",
    sex: F,
    birth: "2024-01-10",
    date: "2025-03-01",
    weight: None,
    height: None,
    position: None,
    muac: None,
    head: None,
    oedema: false,
    expect: &[],
    skipped: &[],
};

use Category as C;

const CASES: &[Case] = &[
    Case {
        name: "the CLI example: 416 days across the 2024 leap day, lying",
        weight: Some(8.2),
        height: Some(74.0),
        position: Some(Position::Lying),
        expect: &[
            (WeightForAge, -1.05, Some(C::NormalWeight), false),
            (LengthHeightForAge, -0.75, Some(C::NormalHeight), false),
            (WeightForLength, -1.0, Some(C::NormalNutrition), false),
            (BmiForAge, -0.88, Some(C::NormalNutrition), false),
        ],
        ..BASE
    },
    Case {
        name: "newborn on the day of birth at the median",
        sex: M,
        birth: "2025-05-05",
        date: "2025-05-05",
        weight: Some(3.3464),
        expect: &[(WeightForAge, 0.0, Some(C::NormalWeight), false)],
        ..BASE
    },
    Case {
        name: "above +3 SD: restricted weight-for-age (plain LMS would give 3.49)",
        birth: "2023-03-01",
        date: "2024-02-29",
        weight: Some(14.0),
        expect: &[(WeightForAge, 3.55, Some(C::RiskOfOverweight), false)],
        ..BASE
    },
    Case {
        name: "below -3 SD: restricted weight-for-age (plain LMS would give -5.95, flagged)",
        sex: M,
        birth: "2024-01-01",
        date: "2024-06-29",
        weight: Some(4.0),
        expect: &[(WeightForAge, -5.42, Some(C::SeverelyUnderweight), false)],
        ..BASE
    },
    Case {
        name: "day 730: still length; lying needs no correction; weight-for-length",
        birth: "2022-01-01",
        date: "2024-01-01",
        weight: Some(10.0),
        height: Some(80.0),
        position: Some(Position::Lying),
        expect: &[
            (WeightForAge, -1.13, Some(C::NormalWeight), false),
            (LengthHeightForAge, -1.98, Some(C::NormalHeight), false),
            (WeightForLength, -0.1, Some(C::NormalNutrition), false),
            (BmiForAge, 0.17, Some(C::NormalNutrition), false),
        ],
        ..BASE
    },
    Case {
        name: "day 730 measured standing: +0.7 cm",
        birth: "2022-01-01",
        date: "2024-01-01",
        height: Some(80.0),
        position: Some(Position::Standing),
        expect: &[(LengthHeightForAge, -1.77, Some(C::NormalHeight), false)],
        ..BASE
    },
    Case {
        name: "day 731: height; lying is corrected by -0.7 cm; weight-for-height",
        birth: "2022-01-01",
        date: "2024-01-02",
        weight: Some(10.0),
        height: Some(80.0),
        position: Some(Position::Lying),
        expect: &[
            (WeightForAge, -1.14, Some(C::NormalWeight), false),
            (LengthHeightForAge, -1.99, Some(C::NormalHeight), false),
            (WeightForHeight, -0.1, Some(C::NormalNutrition), false),
            (BmiForAge, 0.16, Some(C::NormalNutrition), false),
        ],
        ..BASE
    },
    Case {
        name: "day 731 measured standing: no correction",
        birth: "2022-01-01",
        date: "2024-01-02",
        height: Some(80.0),
        position: Some(Position::Standing),
        expect: &[(LengthHeightForAge, -1.78, Some(C::NormalHeight), false)],
        ..BASE
    },
    Case {
        name: "born on 29 February, measured on 28 February next year: 365 days",
        birth: "2024-02-29",
        date: "2025-02-28",
        weight: Some(9.0),
        expect: &[(WeightForAge, 0.05, Some(C::NormalWeight), false)],
        ..BASE
    },
    Case {
        name: "born on 29 February, measured on 1 March next year: 366 days",
        birth: "2024-02-29",
        date: "2025-03-01",
        weight: Some(9.0),
        expect: &[(WeightForAge, 0.04, Some(C::NormalWeight), false)],
        ..BASE
    },
    Case {
        name: "oldest day of WHO 2006 (1856): head circumference",
        sex: M,
        birth: "2020-01-01",
        date: "2025-01-30",
        head: Some(55.0),
        expect: &[(HeadCircumferenceForAge, 2.82, None, false)],
        ..BASE
    },
    Case {
        name: "MUAC from day 91",
        birth: "2025-01-01",
        date: "2025-04-02",
        muac: Some(11.0),
        expect: &[(ArmCircumferenceForAge, -2.07, None, false)],
        ..BASE
    },
    Case {
        name: "MUAC before day 91 is not defined",
        birth: "2025-01-01",
        date: "2025-04-01",
        muac: Some(11.0),
        skipped: &[(ArmCircumferenceForAge, "growth.indicator_age_out_of_range")],
        ..BASE
    },
    Case {
        name: "oedema: gizi buruk on weight-for-length without a z; length and MUAC still computed",
        sex: M,
        birth: "2024-01-01",
        date: "2025-02-04",
        weight: Some(7.0),
        height: Some(75.0),
        muac: Some(12.0),
        oedema: true,
        expect: &[
            (WeightForLength, f64::NAN, Some(C::SeverelyWasted), false),
            (LengthHeightForAge, -0.86, Some(C::NormalHeight), false),
            (ArmCircumferenceForAge, -2.59, None, false),
        ],
        skipped: &[
            (WeightForAge, "growth.oedema"),
            (BmiForAge, "growth.oedema"),
        ],
        ..BASE
    },
    Case {
        name: "oedema at 3 years, a heavy child: weight-for-height is still gizi buruk",
        sex: F,
        birth: "2022-01-01",
        date: "2025-01-01",
        weight: Some(20.0),
        height: Some(95.0),
        oedema: true,
        expect: &[
            (WeightForHeight, f64::NAN, Some(C::SeverelyWasted), false),
            (LengthHeightForAge, -0.02, Some(C::NormalHeight), false),
        ],
        skipped: &[
            (WeightForAge, "growth.oedema"),
            (BmiForAge, "growth.oedema"),
        ],
        ..BASE
    },
    Case {
        name: "oedema with only MUAC measured: gizi buruk all the same",
        sex: M,
        birth: "2024-01-01",
        date: "2025-02-04",
        muac: Some(12.0),
        oedema: true,
        expect: &[
            (WeightForLength, f64::NAN, Some(C::SeverelyWasted), false),
            (ArmCircumferenceForAge, -2.59, None, false),
        ],
        ..BASE
    },
    Case {
        name: "implausible values are flagged (WFA > +5, LHFA < -6, BMI > +5); 44 cm is below the WFL table",
        sex: M,
        birth: "2024-01-01",
        date: "2024-12-31",
        weight: Some(20.0),
        height: Some(44.0),
        expect: &[
            (WeightForAge, 7.9, Some(C::RiskOfOverweight), true),
            (LengthHeightForAge, -13.36, Some(C::SeverelyStunted), true),
            (BmiForAge, 48.16, Some(C::Obese), true),
        ],
        skipped: &[(WeightForLength, "growth.length_out_of_range")],
        ..BASE
    },
    Case {
        name: "weight-for-length beyond +5 is flagged",
        sex: M,
        birth: "2024-01-01",
        date: "2024-12-31",
        weight: Some(15.0),
        height: Some(70.0),
        expect: &[
            (WeightForAge, 4.22, Some(C::RiskOfOverweight), false),
            (LengthHeightForAge, -2.42, Some(C::Stunted), false),
            (WeightForLength, 7.42, Some(C::Obese), true),
            (BmiForAge, 7.96, Some(C::Obese), true),
        ],
        ..BASE
    },
    Case {
        name: "WHO 2007: 7-year-old boy, height-for-age has no Permenkes category",
        sex: M,
        birth: "2015-06-01",
        date: "2022-06-01",
        height: Some(120.0),
        expect: &[(LengthHeightForAge, -0.33, None, false)],
        ..BASE
    },
    Case {
        name: "WHO 2007: 12-year-old girl, BMI-for-age 5-18 categories; no weight-for-age after 10 years",
        birth: "2010-01-01",
        date: "2022-01-01",
        weight: Some(56.25),
        height: Some(150.0),
        expect: &[
            (LengthHeightForAge, -0.18, None, false),
            (BmiForAge, 2.01, Some(C::ObeseBmi), false),
        ],
        // Weight-for-height does not exist after 1856 days: not listed as skipped.
        skipped: &[(WeightForAge, "growth.indicator_age_out_of_range")],
        ..BASE
    },
];

#[test]
fn assessment_cases() {
    for c in CASES {
        let m = Measurement {
            sex: c.sex,
            birth_date: d(c.birth),
            measure_date: d(c.date),
            measures: Measures {
                weight_kg: c.weight,
                length_height_cm: c.height,
                position: c.position,
                head_cm: c.head,
                muac_cm: c.muac,
                oedema: c.oedema,
            },
        };
        let a = assess(&m).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let mut computed: Vec<Indicator> = Indicator::ALL
            .into_iter()
            .filter(|i| a.get(*i).is_some())
            .collect();
        for (ind, z, cat, flagged) in c.expect {
            let r = a
                .get(*ind)
                .unwrap_or_else(|| panic!("{}: {ind} missing ({:?})", c.name, a.skipped));
            match r.z {
                Some(got) => assert!(
                    (got - z).abs() < 1e-9,
                    "{}: {ind} z {got} expected {z}",
                    c.name
                ),
                None => assert!(z.is_nan(), "{}: {ind} has no z, expected {z}", c.name),
            }
            assert_eq!(r.category, *cat, "{}: {ind} category", c.name);
            assert_eq!(r.flagged, *flagged, "{}: {ind} flag", c.name);
            computed.retain(|i| i != ind);
        }
        assert!(
            computed.is_empty(),
            "{}: unexpected results {computed:?}",
            c.name
        );
        let skipped: Vec<(Indicator, &str)> =
            a.skipped.iter().map(|s| (s.indicator, s.key)).collect();
        assert_eq!(skipped, c.skipped.to_vec(), "{}: skipped", c.name);
    }
}

#[test]
fn bad_input_is_an_error_with_a_key() {
    let measures = Measures {
        weight_kg: Some(8.0),
        ..Measures::default()
    };
    let m = |birth: &str, date: &str, measures: Measures| Measurement {
        sex: F,
        birth_date: d(birth),
        measure_date: d(date),
        measures,
    };
    let cases: Vec<(Measurement, &str)> = vec![
        (
            m("2025-01-02", "2025-01-01", measures.clone()),
            "growth.measure_before_birth",
        ),
        (
            m("2000-01-01", "2025-01-01", measures.clone()),
            "growth.age_out_of_range",
        ),
        (
            m("2024-01-01", "2025-01-01", Measures::default()),
            "growth.no_measurement",
        ),
        (
            m(
                "2024-01-01",
                "2025-01-01",
                Measures {
                    weight_kg: Some(0.0),
                    ..Measures::default()
                },
            ),
            "growth.invalid_value",
        ),
        (
            m(
                "2024-01-01",
                "2025-01-01",
                Measures {
                    length_height_cm: Some(f64::NAN),
                    ..Measures::default()
                },
            ),
            "growth.invalid_value",
        ),
        (
            m(
                "2024-01-01",
                "2025-01-01",
                Measures {
                    head_cm: Some(-40.0),
                    ..Measures::default()
                },
            ),
            "growth.invalid_value",
        ),
    ];
    for (input, key) in cases {
        let err = assess(&input).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
        assert!(!err.to_string().is_empty());
    }
    // Plausibility bounds (finding 8): (weight, length, head, muac, accepted?)
    type Bounds = (Option<f64>, Option<f64>, Option<f64>, Option<f64>, bool);
    let bounds: [Bounds; 16] = [
        (Some(0.2), None, None, None, true),
        (Some(0.19), None, None, None, false),
        (Some(250.0), None, None, None, true),
        (Some(250.1), None, None, None, false),
        (Some(1e308), None, None, None, false),
        (Some(f64::INFINITY), None, None, None, false),
        (None, Some(20.0), None, None, true),
        (None, Some(19.9), None, None, false),
        (None, Some(250.0), None, None, true),
        (None, Some(251.0), None, None, false),
        (None, None, Some(15.0), None, true),
        (None, None, Some(70.1), None, false),
        (None, None, None, Some(5.0), true),
        (None, None, None, Some(4.9), false),
        (None, None, None, Some(60.0), true),
        (None, None, None, Some(60.1), false),
    ];
    for (w, l, h, c, ok) in bounds {
        let input = m(
            "2024-01-01",
            "2025-01-01",
            Measures {
                weight_kg: w,
                length_height_cm: l,
                head_cm: h,
                muac_cm: c,
                ..Measures::default()
            },
        );
        match assess(&input) {
            Ok(a) => {
                assert!(ok, "{w:?} {l:?} {h:?} {c:?} accepted");
                for ind in Indicator::ALL {
                    if let Some(z) = a.get(ind).and_then(|r| r.z) {
                        assert!(z.is_finite(), "{ind}: {z}");
                    }
                }
            }
            Err(e) => {
                assert!(!ok, "{w:?} {l:?} {h:?} {c:?}: {e}");
                assert_eq!(e.key(), "growth.invalid_value");
            }
        }
    }
    // Messages print numbers with one decimal, not 300 digits.
    let e = weight_for_age_z(F, 100, 1e308).unwrap_err();
    assert_eq!(e.key(), "growth.invalid_value");
    assert!(e.to_string().len() < 100, "{e}");
    assert!(e.to_string().ends_with("got 1.0e308"), "{e}");
    let e = weight_for_age_z(F, 100, 300.04).unwrap_err();
    assert!(e.to_string().ends_with("got 300.0"), "{e}");
    assert!(e.message_id().contains("berat badan"), "{}", e.message_id());
    let e = zscore_for_length(WeightForLength, F, 44.987654, 2.5).unwrap_err();
    assert!(e.to_string().contains("45.0 cm"), "{e}");
    assert_eq!(
        zscore(WeightForLength, F, 100, 8.0).unwrap_err().key(),
        "growth.not_age_based"
    );
    assert_eq!(
        zscore_for_length(WeightForAge, F, 70.0, 8.0)
            .unwrap_err()
            .key(),
        "growth.not_length_based"
    );
    assert!(matches!(
        zscore_for_length(WeightForLength, F, 44.9, 2.5),
        Err(GrowthError::LengthOutOfRange { .. })
    ));
    assert!(zscore_for_length(WeightForLength, F, 110.0, 18.0).is_ok());
    assert!(zscore_for_length(WeightForLength, F, 110.01, 18.0).is_err());
    assert!(zscore_for_length(WeightForHeight, F, 64.99, 7.0).is_err());
    assert!(zscore_for_length(WeightForHeight, F, 120.0, 22.0).is_ok());
    assert_eq!(
        weight_for_age_z(F, 1856, 18.389).map(|z| z.abs() < 1e-9),
        Ok(true)
    );
}

#[test]
fn age_rules() {
    assert_eq!(age_in_days(d("2024-02-28"), d("2024-03-01")), Ok(2)); // leap year
    assert_eq!(age_in_days(d("2023-02-28"), d("2023-03-01")), Ok(1));
    assert_eq!(age_in_days(d("2025-01-01"), d("2025-01-01")), Ok(0));
    // WHO: days = round(months × 30.4375).
    assert_eq!(age_days_from_months(22.45), Some(683));
    assert_eq!(age_days_from_months(60.83), Some(1852));
    // 24 months = 730.5 days: R's round() takes the even neighbour, so 730 (still length).
    assert_eq!(age_days_from_months(24.0), Some(730));
    assert_eq!(age_days_from_months(24.02), Some(731));
    assert_eq!(age_days_from_months(-1.0), None);
    assert_eq!(corrected_length(730, 80.0, Some(Position::Standing)), 80.7);
    assert_eq!(corrected_length(731, 80.0, Some(Position::Lying)), 79.3);
    assert_eq!(corrected_length(731, 80.0, None), 80.0);
    assert_eq!(Position::expected_at(730), Position::Lying);
    assert_eq!(Position::expected_at(731), Position::Standing);
}

#[test]
fn reference_switches_from_who2006_to_who2007_after_day_1856() {
    let at = |days: u32| {
        health_rules::growth::assess_at_age(
            M,
            days,
            &Measures {
                length_height_cm: Some(110.0),
                weight_kg: Some(18.0),
                ..Measures::default()
            },
        )
        .unwrap()
    };
    let a = at(1856);
    assert_eq!(a.lhfa.as_ref().unwrap().reference, Reference::Who2006);
    assert!(a.wfh.is_some());
    let b = at(1857);
    assert_eq!(b.lhfa.as_ref().unwrap().reference, Reference::Who2007);
    assert!(b.wfh.is_none() && b.hcfa.is_none());
    // The two references meet closely (not exactly) at 61 months.
    let z = |r: Option<IndicatorResult>| r.and_then(|r| r.z).unwrap();
    assert!((z(a.lhfa) - z(b.lhfa)).abs() < 0.1);
    // WHO's who2007 macro scores below 229 months (121 for weight-for-age); its tables
    // end at 228 (120), whose row is used for the last month.
    assert!(sd_curve(BmiForAge, F, 6970).is_some()); // 228.99 months
    assert!(sd_curve(BmiForAge, F, 6971).is_none()); // 229.02 months
    assert_eq!(sd_curve(BmiForAge, F, 6970), sd_curve(BmiForAge, F, 6940));
    assert!(sd_curve(WeightForAge, F, 3682).is_some()); // 120.97 months
    assert!(sd_curve(WeightForAge, F, 3683).is_none()); // 121.00 months
}

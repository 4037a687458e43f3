//! KMS N/T/O/B, 2T and BGM as case tables, plus order-independence as a property.
#![allow(clippy::unwrap_used)]

use chrono::{Months, NaiveDate};
use health_rules::Sex;
use health_rules::growth::{self, Category};
use health_rules::kms::{
    self, DEFAULT_KBM_ID, DEFAULT_ORANGE_LINE_ID, KbmTable, KmsResult, MonthResult, OrangeLine,
    RedLine, Weighing, YearMonth, kbm_table,
};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn w(date: &str, weight_g: u32) -> Weighing {
    Weighing {
        date: d(date),
        weight_g,
        wfa_z: None,
    }
}

fn table(id: &str) -> &'static KbmTable {
    kbm_table(id).unwrap()
}

fn assess(birth: &str, ws: &[Weighing], kbm: &str) -> Vec<MonthResult> {
    kms::assess(d(birth), ws, table(kbm), RedLine::kms_2010()).unwrap()
}

const BUKU_KIA: &str = DEFAULT_KBM_ID;
const LOKAL: &str = "kbm-lokal-600-200-v1";

/// (age in months at this weighing, KBM Buku KIA, KBM local variant)
const KBM_BY_AGE: &[(u32, u32, u32)] = &[
    (1, 800, 800),
    (2, 900, 900),
    (3, 800, 600),
    (4, 600, 600),
    (5, 500, 500),
    (6, 400, 400),
    (7, 300, 300),
    (10, 300, 300),
    (11, 300, 200),
    (12, 200, 200),
    (24, 200, 200),
    (36, 200, 200), // beyond the table: the last row extends
];

#[test]
fn n_and_t_at_each_kbm_age() {
    let birth = d("2024-01-15");
    for &(age, kia, lokal) in KBM_BY_AGE {
        for (id, kbm) in [(BUKU_KIA, kia), (LOKAL, lokal)] {
            let prev = birth.checked_add_months(Months::new(age - 1)).unwrap();
            let this = birth.checked_add_months(Months::new(age)).unwrap();
            for (gain, want) in [(kbm, KmsResult::N), (kbm - 1, KmsResult::T)] {
                let ws = [
                    Weighing {
                        date: prev,
                        weight_g: 5000,
                        wfa_z: None,
                    },
                    Weighing {
                        date: this,
                        weight_g: 5000 + gain,
                        wfa_z: None,
                    },
                ];
                let r = kms::assess(birth, &ws, table(id), RedLine::kms_2010()).unwrap();
                assert_eq!(r[1].age_months, age, "{id} age {age}");
                assert_eq!(r[1].kbm_g, Some(kbm), "{id} age {age}");
                assert_eq!(r[1].result, want, "{id} age {age} gain {gain}");
            }
        }
    }
}

/// The age that picks the KBM is the age on the weighing day: one day before the child
/// turns 4 months it is still 3 months old (KBM 800), on the day it is 4 (KBM 600).
#[test]
fn kbm_age_changes_on_the_month_birthday() {
    // (this weighing, previous weighing, gain, expected)
    let cases = [
        ("2024-05-14", "2024-04-14", 700, KmsResult::T), // 3 months old: needs 800
        ("2024-05-15", "2024-04-15", 700, KmsResult::N), // 4 months old: needs 600
        ("2024-05-14", "2024-04-14", 800, KmsResult::N),
    ];
    for (this, prev, gain, want) in cases {
        let r = assess(
            "2024-01-15",
            &[w(prev, 6000), w(this, 6000 + gain)],
            BUKU_KIA,
        );
        assert_eq!(r[1].result, want, "{this} gain {gain}");
    }
}

/// (weighings as (date, grams), expected results in month order)
type OtbCase = (&'static [(&'static str, u32)], &'static [KmsResult]);

#[test]
fn o_b_and_losses() {
    // (weighings as (date, grams), expected results in month order)
    let cases: &[OtbCase] = &[
        (&[("2024-03-10", 6000)], &[KmsResult::B]),
        (
            &[("2024-03-10", 6000), ("2024-05-10", 7000)],
            &[KmsResult::B, KmsResult::O],
        ),
        (
            &[("2024-03-10", 6000), ("2024-04-10", 5900)],
            &[KmsResult::B, KmsResult::T],
        ),
        (
            &[("2024-03-10", 6000), ("2024-04-10", 6000)],
            &[KmsResult::B, KmsResult::T],
        ),
        // Across a year end: December then January are consecutive.
        (
            &[("2024-12-20", 7000), ("2025-01-05", 7300)],
            &[KmsResult::B, KmsResult::N],
        ),
        // Two weighings in one month: the later one counts.
        (
            &[
                ("2024-03-10", 6000),
                ("2024-04-02", 6000),
                ("2024-04-28", 7000),
            ],
            &[KmsResult::B, KmsResult::N],
        ),
    ];
    for (ws, want) in cases {
        let ws: Vec<_> = ws.iter().map(|(dt, g)| w(dt, *g)).collect();
        let got: Vec<_> = assess("2023-12-01", &ws, BUKU_KIA)
            .iter()
            .map(|r| r.result)
            .collect();
        assert_eq!(&got, want, "{ws:?}");
    }
}

#[test]
fn two_t_needs_two_consecutive_t() {
    // (monthly gains after a first weighing, expected 2T flags)
    let cases: &[(&[i32], &[bool])] = &[
        (&[0, 0], &[false, false, true]),
        (&[0, 0, 0], &[false, false, true, true]),
        (&[0, 500, 0], &[false, false, false, false]),
        (&[500, 0, 0], &[false, false, false, true]),
    ];
    for (gains, want) in cases {
        // Child 14 months at the start: KBM 200.
        let mut weight = 8000i32;
        let mut ws = vec![w("2024-01-10", 8000)];
        for (i, g) in gains.iter().enumerate() {
            weight += g;
            let date = d("2024-01-10")
                .checked_add_months(Months::new(i as u32 + 1))
                .unwrap();
            ws.push(Weighing {
                date,
                weight_g: weight as u32,
                wfa_z: None,
            });
        }
        let got: Vec<_> = assess("2022-11-01", &ws, BUKU_KIA)
            .iter()
            .map(|r| r.two_t)
            .collect();
        assert_eq!(&got, want, "gains {gains:?}");
    }
}

#[test]
fn two_t_is_broken_by_a_missed_month() {
    let ws = [
        w("2024-01-10", 8000),
        w("2024-02-10", 8000), // T
        w("2024-04-10", 8000), // O (March missed)
        w("2024-05-10", 8000), // T, but last month was O
    ];
    let r = assess("2022-11-01", &ws, BUKU_KIA);
    let got: Vec<_> = r.iter().map(|r| (r.result, r.two_t)).collect();
    assert_eq!(
        got,
        [
            (KmsResult::B, false),
            (KmsResult::T, false),
            (KmsResult::O, false),
            (KmsResult::T, false)
        ]
    );
}

/// BGM and "above the orange line" use the z rounded to 2 decimals, like the
/// categories (finding 16); a missing or non-finite z is unknown (finding 9).
#[test]
fn red_and_orange_lines() {
    // (z, expected BGM, expected above orange)
    let cases = [
        (Some(-3.01), Some(true), Some(false)),
        (Some(-3.006), Some(true), Some(false)), // rounds to -3.01
        (Some(-3.004), Some(false), Some(false)), // rounds to -3.00: "kurang", not BGM
        (Some(-3.0), Some(false), Some(false)),
        (Some(-2.5), Some(false), Some(false)),
        (Some(1.0), Some(false), Some(false)),
        (Some(1.004), Some(false), Some(false)), // rounds to 1.00: normal
        (Some(1.006), Some(false), Some(true)),  // rounds to 1.01: above +1
        (Some(2.5), Some(false), Some(true)),
        (Some(f64::NAN), None, None),
        (Some(f64::INFINITY), None, None),
        (Some(f64::NEG_INFINITY), None, None),
        (None, None, None),
    ];
    for (z, bgm, orange) in cases {
        let ws = [Weighing {
            date: d("2024-03-10"),
            weight_g: 5000,
            wfa_z: z,
        }];
        let r = &assess("2023-12-01", &ws, BUKU_KIA)[0];
        assert_eq!(r.bgm, bgm, "{z:?}");
        assert_eq!(r.above_orange, orange, "{z:?}");
    }
    assert_eq!(OrangeLine::buku_kia_2020().id, DEFAULT_ORANGE_LINE_ID);
    // A district line (+2 SD) through assess_with.
    let plus2 =
        OrangeLine::from_json(r#"{"id":"o2","name":"o","source":"s","wfa_z":2.0}"#).unwrap();
    let ws = [Weighing {
        date: d("2024-03-10"),
        weight_g: 5000,
        wfa_z: Some(1.5),
    }];
    let r = kms::assess_with(
        d("2023-12-01"),
        &ws,
        table(BUKU_KIA),
        RedLine::kms_2010(),
        &plus2,
    )
    .unwrap();
    assert_eq!(r[0].above_orange, Some(false));
    assert!(OrangeLine::from_json(r#"{"id":"o","name":"o","source":"s","wfa_z":"x"}"#).is_err());
}

/// District data cannot make the rules panic (finding 10).
#[test]
fn hostile_district_data_is_rejected_not_a_panic() {
    // (KBM json, accepted)
    let cases = [
        (
            r#"{"id":"x","name":"x","source":"x","extend_last_row":true,
               "rows":[{"from_month":0,"to_month":4294967295,"min_gain_g":200},
                       {"from_month":0,"to_month":1,"min_gain_g":200}]}"#,
            false,
        ),
        (
            r#"{"id":"x","name":"x","source":"x","extend_last_row":true,
               "rows":[{"from_month":0,"to_month":4294967295,"min_gain_g":200}]}"#,
            true,
        ),
    ];
    for (json, ok) in cases {
        let got = KbmTable::from_json(json);
        assert_eq!(got.is_ok(), ok, "{got:?}");
        if !ok {
            assert_eq!(got.map_err(|e| e.key()), Err("kms.table_invalid"));
        }
    }
    // YearMonth checks 1-12 when deserialised.
    for (json, ok) in [
        (r#"{"year":2026,"month":1}"#, true),
        (r#"{"year":2026,"month":12}"#, true),
        (r#"{"year":2026,"month":0}"#, false),
        (r#"{"year":2026,"month":13}"#, false),
    ] {
        assert_eq!(
            serde_json::from_str::<YearMonth>(json).is_ok(),
            ok,
            "{json}"
        );
    }
    // A month built by hand outside 1-12 still has a previous month, without a panic.
    let odd = YearMonth {
        year: i32::MIN,
        month: 0,
    };
    assert_eq!(
        odd.prev(),
        YearMonth {
            year: i32::MIN,
            month: 12
        }
    );
    assert_eq!(
        YearMonth {
            year: 2026,
            month: 1
        }
        .prev(),
        YearMonth {
            year: 2025,
            month: 12
        }
    );
}

#[test]
fn bad_weighings_are_errors_with_keys() {
    let cases = [
        (w("2023-11-30", 5000), "kms.weighing_before_birth"),
        (w("2024-01-10", 0), "kms.implausible_weight"),
        (w("2024-01-10", 60_000), "kms.implausible_weight"),
    ];
    for (wg, key) in cases {
        let err =
            kms::assess(d("2023-12-01"), &[wg], table(BUKU_KIA), RedLine::kms_2010()).unwrap_err();
        assert_eq!(err.key(), key);
    }
}

#[test]
fn district_tables_load_from_json() {
    let json = r#"{"id":"kbm-test-v9","name":"t","source":"t","extend_last_row":false,
        "rows":[{"from_month":1,"to_month":24,"min_gain_g":250}]}"#;
    let t = KbmTable::from_json(json).unwrap();
    assert_eq!(t.min_gain_g(30), None);
    let ws = [w("2024-01-10", 9000), w("2024-02-10", 9001)];
    // 36 months, beyond a non-extended table: any gain is N.
    let r = kms::assess(d("2021-01-10"), &ws, &t, RedLine::kms_2010()).unwrap();
    assert_eq!(r[1].result, KmsResult::N);
}

proptest! {
    /// BGM and the BB/U category come from the same (rounded) z: BGM exactly when the
    /// category is "berat badan sangat kurang" (red line −3 SD), above the orange line
    /// exactly when it is "risiko berat badan lebih" (+1 SD).
    #[test]
    fn bgm_agrees_with_the_category(age in 0u32..=1856, weight in 0.5f64..30.0, male in any::<bool>()) {
        let sex = if male { Sex::Male } else { Sex::Female };
        let z = growth::weight_for_age_z(sex, age, weight).unwrap();
        let a = growth::assess_at_age(sex, age, &growth::Measures {
            weight_kg: Some(weight),
            ..Default::default()
        }).unwrap();
        let cat = a.wfa.and_then(|r| r.category).unwrap();
        prop_assert_eq!(RedLine::kms_2010().check(Some(z)), Some(cat == Category::SeverelyUnderweight));
        prop_assert_eq!(OrangeLine::buku_kia_2020().check(Some(z)), Some(cat == Category::RiskOfOverweight));
    }

    /// The KMS result does not depend on the order the weighings are given in.
    #[test]
    fn order_does_not_matter(
        entries in prop::collection::vec((0u32..400, 3000u32..15000, prop::option::of(-5.0f64..3.0)), 1..20),
        seed in any::<u64>(),
    ) {
        let birth = d("2023-01-01");
        let ws: Vec<Weighing> = entries
            .iter()
            .map(|&(day, g, z)| Weighing {
                date: birth + chrono::Days::new(u64::from(day)),
                weight_g: g,
                wfa_z: z,
            })
            .collect();
        let mut shuffled = ws.clone();
        // Deterministic Fisher–Yates with an LCG.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let a = kms::assess(birth, &ws, table(BUKU_KIA), RedLine::kms_2010()).unwrap();
        let b = kms::assess(birth, &shuffled, table(BUKU_KIA), RedLine::kms_2010()).unwrap();
        prop_assert_eq!(a, b);
    }
}

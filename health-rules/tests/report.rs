//! Monthly posyandu report (SKDN): a hand-counted posyandu, CSV, and sum properties.
#![allow(clippy::unwrap_used)]

use chrono::{Days, NaiveDate};
use health_rules::Sex;
use health_rules::kms::{self, DEFAULT_KBM_ID, RedLine, Weighing, YearMonth, kbm_table};
use health_rules::report::{
    AgeBand, BreastfeedingRecord, CSV_HEADER, Counts, MonthlyReport, ReportChild, ReportOptions,
    monthly_report, monthly_report_with, to_csv,
};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn w(date: &str, g: u32, z: Option<f64>) -> Weighing {
    Weighing {
        date: d(date),
        weight_g: g,
        wfa_z: z,
    }
}

fn child(birth: &str, sex: Sex, has_kms: bool, weighings: Vec<Weighing>) -> ReportChild {
    ReportChild {
        birth_date: d(birth),
        sex,
        has_kms,
        weighings,
        vitamin_a: vec![],
        breastfeeding: vec![],
    }
}

const AUG: YearMonth = YearMonth {
    year: 2026,
    month: 8,
};

fn report(children: &[ReportChild]) -> MonthlyReport {
    monthly_report(
        "Posyandu Mawar, Dusun A",
        AUG,
        children,
        kbm_table(DEFAULT_KBM_ID).unwrap(),
        RedLine::kms_2010(),
    )
    .unwrap()
}

fn posyandu() -> Vec<ReportChild> {
    let mut c1 = child(
        "2026-05-10",
        Sex::Male,
        true,
        vec![
            w("2026-06-10", 4000, None),
            w("2026-07-10", 4900, None), // 2 months: needs 900 → N
            w("2026-08-10", 5500, None), // 3 months: needs 800, gained 600 → T
        ],
    );
    c1.breastfeeding = vec![BreastfeedingRecord {
        month: AUG,
        exclusive: true,
    }];
    let c2 = child(
        "2026-08-05",
        Sex::Female,
        false,
        vec![w("2026-08-06", 3000, None)],
    ); // B
    let mut c3 = child(
        "2025-12-01",
        Sex::Female,
        true,
        vec![
            w("2026-06-01", 7000, None),
            w("2026-08-01", 7600, None), // O
        ],
    );
    c3.vitamin_a = vec![d("2026-08-01")];
    let mut c4 = child(
        "2025-02-15",
        Sex::Male,
        true,
        vec![
            w("2026-07-15", 9000, None),
            w("2026-08-15", 9300, Some(-3.2)), // N and BGM
        ],
    );
    c4.vitamin_a = vec![d("2026-08-15"), d("2026-02-15")];
    let c5 = child(
        "2022-01-20",
        Sex::Male,
        true,
        vec![w("2026-07-20", 14000, None)],
    ); // absent
    let c6 = child(
        "2021-08-01",
        Sex::Female,
        true,
        vec![w("2026-08-02", 15000, None)],
    ); // 60 months: out
    let c7 = child(
        "2024-01-05",
        Sex::Female,
        true,
        vec![
            w("2026-06-05", 11000, None),
            w("2026-07-05", 11000, None),
            w("2026-08-05", 11100, None), // T after T: 2T
            w("2026-09-05", 12000, None), // after the month: ignored
        ],
    );
    let c8 = child("2026-09-10", Sex::Male, false, vec![]); // born after the month
    let c9 = child("2025-09-01", Sex::Male, false, vec![]); // no KMS, not weighed
    vec![c1, c2, c3, c4, c5, c6, c7, c8, c9]
}

fn counts(s: u32, k: u32, d: u32, ntob: [u32; 4], absent: u32, rest: [u32; 4]) -> Counts {
    let [n, t, o, b] = ntob;
    let [two_t, bgm, vitamin_a, asi_eksklusif] = rest;
    Counts {
        s,
        k,
        d,
        n,
        t,
        o,
        b,
        absent,
        two_t,
        bgm,
        vitamin_a,
        asi_eksklusif,
    }
}

#[test]
fn hand_counted_posyandu() {
    let r = report(&posyandu());
    assert!(r.vitamin_a_month);
    assert_eq!(r.rows.len(), 15);
    use AgeBand::*;
    // (band, sex, S, K, D, [N, T, O, B], absent, [2T, BGM, vitamin A, ASI eksklusif])
    let cases = [
        (
            Some(M0To5),
            Some(Sex::Male),
            counts(1, 1, 1, [0, 1, 0, 0], 0, [0, 0, 0, 1]),
        ),
        (
            Some(M0To5),
            Some(Sex::Female),
            counts(1, 1, 1, [0, 0, 0, 1], 0, [0, 0, 0, 0]),
        ),
        (
            Some(M0To5),
            None,
            counts(2, 2, 2, [0, 1, 0, 1], 0, [0, 0, 0, 1]),
        ),
        (
            Some(M6To11),
            Some(Sex::Male),
            counts(1, 0, 0, [0, 0, 0, 0], 0, [0, 0, 0, 0]),
        ),
        (
            Some(M6To11),
            Some(Sex::Female),
            counts(1, 1, 1, [0, 0, 1, 0], 0, [0, 0, 1, 0]),
        ),
        (
            Some(M12To23),
            Some(Sex::Male),
            counts(1, 1, 1, [1, 0, 0, 0], 0, [0, 1, 1, 0]),
        ),
        (Some(M12To23), Some(Sex::Female), Counts::default()),
        (
            Some(M24To59),
            Some(Sex::Male),
            counts(1, 1, 0, [0, 0, 0, 0], 1, [0, 0, 0, 0]),
        ),
        (
            Some(M24To59),
            Some(Sex::Female),
            counts(1, 1, 1, [0, 1, 0, 0], 0, [1, 0, 0, 0]),
        ),
        (
            None,
            Some(Sex::Male),
            counts(4, 3, 2, [1, 1, 0, 0], 1, [0, 1, 1, 1]),
        ),
        (
            None,
            Some(Sex::Female),
            counts(3, 3, 3, [0, 1, 1, 1], 0, [1, 0, 1, 0]),
        ),
        (None, None, counts(7, 6, 5, [1, 2, 1, 1], 1, [1, 1, 2, 1])),
    ];
    for (band, sex, want) in cases {
        assert_eq!(r.row(band, sex).unwrap().counts, want, "{band:?} {sex:?}");
    }
    let ratios = r.row(None, None).unwrap().ratios;
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
    assert!(close(ratios.k_s, 6.0 / 7.0));
    assert!(close(ratios.d_s, 5.0 / 7.0));
    assert!(close(ratios.d_k, 5.0 / 6.0));
    assert!(close(ratios.n_d, 1.0 / 5.0));
    assert!(close(ratios.n_s, 1.0 / 7.0));
    // A cell with S = 0: every ratio is undefined, not a division by zero.
    let empty = r.row(Some(M12To23), Some(Sex::Female)).unwrap().ratios;
    assert_eq!(
        [empty.k_s, empty.d_s, empty.d_k, empty.n_d, empty.n_s],
        [None; 5]
    );
}

#[test]
fn csv_rendering() {
    let csv = to_csv(&report(&posyandu()));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 16);
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(
        lines[1],
        "\"Posyandu Mawar, Dusun A\",2026-08,0-5,L,1,1,1,0,1,0,0,0,0,0,0,1,100.0,100.0,100.0,0.0,0.0,0.0"
    );
    assert_eq!(
        lines[15],
        "\"Posyandu Mawar, Dusun A\",2026-08,0-59,L+P,7,6,5,1,2,1,1,1,1,1,2,1,85.7,71.4,83.3,20.0,14.3,33.3"
    );
    let empty = to_csv(&report(&[]));
    assert!(
        empty.lines().nth(15).unwrap().ends_with(",0,0,0,0,0,,,,,,"),
        "{empty}"
    );
    // Serialize works (the app exports JSON too).
    let json = serde_json::to_value(report(&posyandu())).unwrap();
    assert_eq!(json["rows"][0]["band"], "0-5");
    assert_eq!(json["rows"][14]["counts"]["d"], 5);
}

/// One child's bad weighing (even in an old month) no longer fails the report
/// (finding 6): the child is listed in `problems`, left out of D/N/T/O/B, and the rest
/// is counted.
#[test]
fn a_bad_child_is_listed_not_fatal() {
    // (case, bad child's weighings)
    let cases = [
        ("zero weight this month", vec![w("2026-08-01", 0, None)]),
        (
            "zero weight in an old month",
            vec![w("2026-06-01", 0, None), w("2026-08-01", 6000, None)],
        ),
        (
            "weighing before the birth date",
            vec![w("2026-04-01", 3000, None), w("2026-08-01", 6000, None)],
        ),
    ];
    for (name, weighings) in cases {
        let children = vec![
            child(
                "2026-01-01",
                Sex::Male,
                true,
                vec![w("2026-08-01", 6000, None)],
            ),
            child("2026-05-01", Sex::Male, true, weighings),
        ];
        let r = report(&children);
        assert_eq!(r.problems.len(), 1, "{name}");
        assert_eq!(r.problems[0].index, 1, "{name}");
        // The problem names the weighing's date, for the app to word.
        assert!(
            r.problems[0].params.contains_key("date"),
            "{name}: {:?}",
            r.problems[0].params
        );
        let total = r.total();
        // Both in S and K; only the good child is weighed (B).
        assert_eq!((total.s, total.k, total.d, total.b), (2, 2, 1, 1), "{name}");
        assert_eq!(total.absent, 1, "{name}");
    }
    let key = |ws| report(&[child("2026-05-01", Sex::Male, true, ws)]).problems[0].key;
    assert_eq!(
        key(vec![w("2026-08-01", 0, None)]),
        "kms.implausible_weight"
    );
    assert_eq!(
        key(vec![
            w("2026-04-01", 3000, None),
            w("2026-08-01", 6000, None)
        ]),
        "kms.weighing_before_birth"
    );
}

/// The age band is the age at this month's weighing, not on the last day of the month
/// (finding 5); vitamin A counts by the age on the day of the dose.
#[test]
fn age_is_taken_at_the_weighing() {
    use AgeBand::*;
    // (case, birth, weighing date (Aug 2026), vitamin A date, exclusive BF,
    //  expected band or None = not counted, vitamin A counted, ASI counted)
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        bool,
        Option<AgeBand>,
        bool,
        bool,
    );
    let cases: [Case; 7] = [
        (
            "weighed at 59 months, turns 60 on the 20th: counted",
            "2021-08-20",
            Some("2026-08-05"),
            None,
            false,
            Some(M24To59),
            false,
            false,
        ),
        (
            "not weighed, 60 by the month end: out",
            "2021-08-20",
            None,
            None,
            false,
            None,
            false,
            false,
        ),
        (
            "weighed at 5 months, turns 6 on the 20th: ASI eksklusif counted in 0-5",
            "2026-02-20",
            Some("2026-08-05"),
            None,
            true,
            Some(M0To5),
            false,
            true,
        ),
        (
            "vitamin A at 5 months 29 days: not counted",
            "2026-02-20",
            Some("2026-08-05"),
            Some("2026-08-19"),
            false,
            Some(M0To5),
            false,
            false,
        ),
        (
            "vitamin A on the 6-month birthday: counted",
            "2026-02-20",
            Some("2026-08-05"),
            Some("2026-08-20"),
            false,
            Some(M0To5),
            true,
            false,
        ),
        (
            "weighed at 11 months, 12 by the month end: 6-11",
            "2025-08-25",
            Some("2026-08-05"),
            None,
            false,
            Some(M6To11),
            false,
            false,
        ),
        (
            "not weighed: age on the last day of the month",
            "2025-08-25",
            None,
            Some("2026-08-26"),
            false,
            Some(M12To23),
            true,
            false,
        ),
    ];
    for (name, birth, weighed, vit_a, asi, band, want_vit_a, want_asi) in cases {
        let mut c = child(
            birth,
            Sex::Female,
            true,
            weighed.map(|d| w(d, 8000, None)).into_iter().collect(),
        );
        c.vitamin_a = vit_a.map(d).into_iter().collect();
        c.breastfeeding = vec![BreastfeedingRecord {
            month: AUG,
            exclusive: asi,
        }];
        let r = report(&[c]);
        let total = r.total();
        match band {
            None => assert_eq!(total.s, 0, "{name}"),
            Some(b) => {
                let cell = r.row(Some(b), Some(Sex::Female)).unwrap().counts;
                assert_eq!(cell.s, 1, "{name}");
                assert_eq!(cell.d, u32::from(weighed.is_some()), "{name}");
            }
        }
        assert_eq!(total.vitamin_a, u32::from(want_vit_a), "{name}");
        assert_eq!(total.asi_eksklusif, u32::from(want_asi), "{name}");
    }
}

/// The posyandu day, when given, is the reference day of the unweighed children.
#[test]
fn posyandu_day_option() {
    let c = child("2021-08-20", Sex::Male, true, vec![]);
    let with_day = |day: Option<&str>| {
        monthly_report_with(
            "p",
            AUG,
            std::slice::from_ref(&c),
            kbm_table(DEFAULT_KBM_ID).unwrap(),
            RedLine::kms_2010(),
            &ReportOptions {
                posyandu_day: day.map(d),
            },
        )
        .unwrap()
        .total()
        .s
    };
    assert_eq!(with_day(None), 0, "60 months on 31 August");
    assert_eq!(
        with_day(Some("2026-08-10")),
        1,
        "59 months on the posyandu day"
    );
    assert_eq!(
        with_day(Some("2026-07-10")),
        0,
        "a day outside the month is ignored"
    );
}

/// N/D′ with D′ = D − O − B (finding 15).
#[test]
fn n_over_d_prime() {
    let r = report(&posyandu());
    let t = r.row(None, None).unwrap();
    let c = t.counts;
    assert_eq!(c.d - c.o - c.b, 3);
    assert!((t.ratios.n_d_prime.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    // Only B and O: D′ = 0, undefined.
    let only_b = report(&[child(
        "2026-05-01",
        Sex::Male,
        true,
        vec![w("2026-08-01", 6000, None)],
    )]);
    assert_eq!(only_b.row(None, None).unwrap().ratios.n_d_prime, None);
}

fn arb_child() -> impl Strategy<Value = ReportChild> {
    (
        0u64..2200,    // birth: days after 2020-09-01
        any::<bool>(), // sex
        any::<bool>(), // has KMS
        prop::collection::vec(
            (0u64..420, 2500u32..20000, prop::option::of(-4.0f64..2.0)),
            0..14,
        ),
        any::<bool>(), // vitamin A in August
        any::<bool>(), // exclusive breastfeeding in August
    )
        .prop_map(|(b, male, has_kms, ws, vit_a, asi)| {
            let birth = d("2020-09-01") + Days::new(b);
            let weighings = ws
                .into_iter()
                .map(|(day, g, z)| Weighing {
                    date: birth + Days::new(day),
                    weight_g: g,
                    wfa_z: z,
                })
                .collect();
            ReportChild {
                birth_date: birth,
                sex: if male { Sex::Male } else { Sex::Female },
                has_kms,
                weighings,
                vitamin_a: if vit_a { vec![d("2026-08-17")] } else { vec![] },
                breastfeeding: vec![BreastfeedingRecord {
                    month: AUG,
                    exclusive: asi,
                }],
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// D = N + T + O + B, absent = K − D, D ≤ K ≤ S in every cell; bands sum to the
    /// totals and sexes to both; S counts exactly the under-fives born by month end.
    #[test]
    fn report_sums_are_consistent(children in prop::collection::vec(arb_child(), 0..40)) {
        let r = report(&children);
        for row in &r.rows {
            let c = row.counts;
            prop_assert_eq!(c.d, c.n + c.t + c.o + c.b);
            prop_assert_eq!(c.absent, c.k - c.d);
            prop_assert!(c.d <= c.k && c.k <= c.s);
            prop_assert!(c.two_t <= c.t && c.bgm <= c.d);
        }
        for sex in [Some(Sex::Male), Some(Sex::Female), None] {
            let bands = AgeBand::ALL
                .iter()
                .map(|b| r.row(Some(*b), sex).unwrap().counts)
                .fold(Counts::default(), |acc, c| acc + c);
            prop_assert_eq!(bands, r.row(None, sex).unwrap().counts);
        }
        for band in AgeBand::ALL.map(Some).into_iter().chain([None]) {
            let m = r.row(band, Some(Sex::Male)).unwrap().counts;
            let f = r.row(band, Some(Sex::Female)).unwrap().counts;
            prop_assert_eq!(m + f, r.row(band, None).unwrap().counts);
        }
        // Age on the reference day: this month's counting weighing, else the month end.
        let end = AUG.last_day().unwrap();
        let under_five = children
            .iter()
            .filter(|c| {
                let day = c
                    .weighings
                    .iter()
                    .filter(|w| YearMonth::of(w.date) == AUG)
                    .map(|w| w.date)
                    .max()
                    .unwrap_or(end);
                kms::age_in_months(c.birth_date, day).is_some_and(|m| m < 60)
            })
            .count();
        prop_assert_eq!(r.total().s as usize, under_five);
        prop_assert_eq!(to_csv(&r).lines().count(), 16);
    }
}

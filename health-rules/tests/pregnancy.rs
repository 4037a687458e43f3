//! Pregnancy rules as case tables.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::pregnancy::{
    self, AncSchedule, AncState, DEFAULT_ANC_ID, DangerAdvice, DangerSign, HplRule, Trimester,
    TrimesterState, anc_schedule, anc_status, gestational_age,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn default_anc() -> &'static AncSchedule {
    anc_schedule(DEFAULT_ANC_ID).unwrap()
}

/// HPL by Naegele's calendar rule (+ 7 days, − 3 months, + 1 year; the default, as in
/// the Buku KIA) and by + 280 days (option), across leap days, short months and year
/// ends (finding 7).
#[test]
fn hpl_calendar_rule_and_280_days() {
    // (HPHT, HPL by the calendar rule, HPL by + 280 days)
    let cases = [
        ("2023-03-01", "2023-12-08", "2023-12-06"), // the reviewer's example
        ("2023-05-24", "2024-02-29", "2024-02-28"), // 31 May + 9 months: clamped to 29 Feb
        ("2022-05-24", "2023-02-28", "2023-02-28"), // clamped to 28 Feb (no leap year)
        ("2023-05-25", "2024-03-01", "2024-02-29"),
        ("2023-05-26", "2024-03-02", "2024-03-01"),
        ("2023-06-01", "2024-03-08", "2024-03-07"), // 29 Feb inside the pregnancy
        ("2024-02-22", "2024-11-29", "2024-11-28"), // + 7 days lands on 29 Feb
        ("2024-02-29", "2024-12-07", "2024-12-05"), // HPHT on the leap day
        ("2024-06-01", "2025-03-08", "2025-03-08"), // no leap day inside: the rules agree
        ("2023-04-03", "2024-01-10", "2024-01-08"), // HPL across the year end
        ("2023-12-25", "2024-10-01", "2024-09-30"), // + 7 days crosses the year end
        ("2023-12-31", "2024-10-07", "2024-10-06"),
    ];
    for (hpht, calendar, days280) in cases {
        assert_eq!(pregnancy::hpl(d(hpht)).unwrap(), d(calendar), "HPHT {hpht}");
        assert_eq!(
            pregnancy::hpl_with(d(hpht), HplRule::Naegele).unwrap(),
            d(calendar),
            "HPHT {hpht}"
        );
        assert_eq!(
            pregnancy::hpl_with(d(hpht), HplRule::Plus280Days).unwrap(),
            d(days280),
            "HPHT {hpht}"
        );
    }
    // The schedule names the rule; the built-in ones use the calendar rule.
    assert_eq!(default_anc().hpl_rule, HplRule::Naegele);
    let mut by_days = default_anc().clone();
    by_days.hpl_rule = HplRule::Plus280Days;
    assert_eq!(by_days.hpl(d("2023-03-01")).unwrap(), d("2023-12-06"));
    let json = serde_json::to_string(&by_days).unwrap();
    assert!(json.contains(r#""hpl_rule":"plus280_days""#), "{json}");
    assert_eq!(AncSchedule::from_json(&json).unwrap(), by_days);
    // The last day of trimester 3 is the HPL.
    let (_, end) = by_days.window(d("2023-03-01"), Trimester::Third).unwrap();
    assert_eq!(end, d("2023-12-06"));
    assert!(pregnancy::hpl(NaiveDate::MAX).is_err());
}

#[test]
fn gestational_age_and_trimester() {
    // (on, weeks, days, trimester) for HPHT 2024-01-01 (Buku KIA bounds: T2 from day 85,
    // i.e. after 12 weeks; T3 from day 169, after 24 weeks)
    let cases = [
        ("2024-01-01", 0, 0, Trimester::First),
        ("2024-01-09", 1, 1, Trimester::First),
        ("2024-03-25", 12, 0, Trimester::First),
        ("2024-03-26", 12, 1, Trimester::Second),
        ("2024-06-17", 24, 0, Trimester::Second),
        ("2024-06-18", 24, 1, Trimester::Third),
        ("2024-10-07", 40, 0, Trimester::Third),
    ];
    for (on, weeks, days, tri) in cases {
        let ga = gestational_age(d("2024-01-01"), d(on)).unwrap();
        assert_eq!((ga.weeks, ga.days), (weeks, days), "{on}");
        assert_eq!(default_anc().trimester(ga), tri, "{on}");
    }
    let err = gestational_age(d("2024-01-01"), d("2023-12-31")).unwrap_err();
    assert_eq!(err.key(), "pregnancy.date_before_hpht");
}

fn done(s: &str) -> AncState {
    AncState::Done { date: d(s) }
}
fn due(by: &str) -> AncState {
    AncState::Due { by: d(by) }
}
fn later(from: &str, by: &str) -> AncState {
    AncState::NotYetDue {
        from: d(from),
        by: d(by),
    }
}
fn missed(s: &str) -> AncState {
    AncState::Missed {
        trimester_ended: d(s),
    }
}

/// (source of the row, schedule, contacts, today, expected K1..K6).
type OrdinalCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    [AncState; 6],
);
/// (source of the row, schedule, contacts, today, (required, done, state) by trimester).
type TrimesterCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    [(u8, u8, TrimesterState); 3],
);

/// K1 is the first contact whenever it happens and K2… are ordinal (Permenkes 21/2021);
/// the contacts not done yet are planned into the trimesters that still need them.
#[test]
fn anc_k1_to_k6_are_ordinal() {
    const T2: (&str, &str) = ("2024-03-26", "2024-06-17");
    // Trimester 3 ends on the HPL: 2024-01-01 + 7 days + 9 months (calendar rule).
    const T3: (&str, &str) = ("2024-06-18", "2024-10-08");
    let b123 = DEFAULT_ANC_ID;
    let b213 = "anc-2-1-3-buku-kia-v1";
    let t3 = || later(T3.0, T3.1);
    // (source of the row, schedule, contacts, today, expected K1..K6); HPHT 2024-01-01.
    let cases: Vec<OrdinalCase> = vec![
        (
            "Permenkes 21/2021: 1 contact in T1, 2 in T2, 3 in T3",
            b123,
            &["2024-02-20"],
            "2024-03-01",
            [
                done("2024-02-20"),
                later(T2.0, T2.1),
                later(T2.0, T2.1),
                t3(),
                t3(),
                t3(),
            ],
        ),
        (
            "Permenkes 21/2021: T2 running, its two contacts due",
            b123,
            &["2024-02-20"],
            "2024-04-01",
            [done("2024-02-20"), due(T2.1), due(T2.1), t3(), t3(), t3()],
        ),
        (
            "issue 16: a first contact at 16 weeks is K1 (not 'K1 missed, K2 done'); \
             T1's lacking contact is planned in T3",
            b123,
            &["2024-04-22"],
            "2024-04-23",
            [done("2024-04-22"), due(T2.1), t3(), t3(), t3(), t3()],
        ),
        (
            "Permenkes 21/2021 ordinal: a second contact in T1 is K2",
            b123,
            &["2024-02-20", "2024-03-01"],
            "2024-04-01",
            [
                done("2024-02-20"),
                done("2024-03-01"),
                due(T2.1),
                due(T2.1),
                t3(),
                t3(),
            ],
        ),
        (
            "all six, given out of order, numbered by date",
            b123,
            &[
                "2024-09-01",
                "2024-02-01",
                "2024-07-01",
                "2024-03-01",
                "2024-05-01",
                "2024-08-01",
            ],
            "2024-09-15",
            [
                done("2024-02-01"),
                done("2024-03-01"),
                done("2024-05-01"),
                done("2024-07-01"),
                done("2024-08-01"),
                done("2024-09-01"),
            ],
        ),
        (
            "late booking in T3: K1 done, the other five due before the HPL",
            b123,
            &["2024-07-01"],
            "2024-07-02",
            [
                done("2024-07-01"),
                due(T3.1),
                due(T3.1),
                due(T3.1),
                due(T3.1),
                due(T3.1),
            ],
        ),
        (
            "past the HPL without contacts: every contact missed",
            b123,
            &[],
            "2024-10-09",
            [
                missed(T3.1),
                missed(T3.1),
                missed(T3.1),
                missed(T3.1),
                missed(T3.1),
                missed(T3.1),
            ],
        ),
        (
            "Buku KIA 2-1-3 (a dinas's choice): T1 short by one, T2's contact due",
            b213,
            &["2024-02-20"],
            "2024-04-01",
            [done("2024-02-20"), due(T2.1), t3(), t3(), t3(), t3()],
        ),
    ];
    for (source, id, contacts, today, want) in cases {
        let contacts: Vec<_> = contacts.iter().map(|c| d(c)).collect();
        let got = anc_status(
            anc_schedule(id).unwrap(),
            d("2024-01-01"),
            &contacts,
            d(today),
        )
        .unwrap();
        let states: Vec<_> = got.iter().map(|c| c.state.clone()).collect();
        assert_eq!(states, want, "{source}");
        let ks: Vec<_> = got.iter().map(|c| c.k).collect();
        assert_eq!(ks, [1, 2, 3, 4, 5, 6], "{source}");
    }
    // The first contact of the issue's example happened in trimester 2.
    let got = anc_status(
        default_anc(),
        d("2024-01-01"),
        &[d("2024-04-22")],
        d("2024-04-23"),
    )
    .unwrap();
    assert_eq!((got[0].k, got[0].trimester), (1, Trimester::Second));
    let err = anc_status(
        default_anc(),
        d("2024-01-01"),
        &[d("2023-12-01")],
        d("2024-02-01"),
    )
    .unwrap_err();
    assert_eq!(err.key(), "pregnancy.date_before_hpht");
}

/// The per-trimester check, separate from the numbering: each trimester's minimum from the
/// schedule against the contacts that happened in it.
#[test]
fn anc_trimester_minimums() {
    use TrimesterState::*;
    let b123 = DEFAULT_ANC_ID;
    let b213 = "anc-2-1-3-buku-kia-v1";
    // (source of the row, schedule, contacts, today, [(required, done, state); 3]); HPHT 2024-01-01.
    let cases: Vec<TrimesterCase> = vec![
        (
            "Permenkes 21/2021 1-2-3: first contact at 16 weeks, T1 ended short",
            b123,
            &["2024-04-22"],
            "2024-04-23",
            [
                (1, 0, Short { missing: 1 }),
                (2, 1, Running),
                (3, 0, Upcoming),
            ],
        ),
        (
            "Buku KIA 2-1-3 (dinas option): one contact in T1 leaves it short by one",
            b213,
            &["2024-02-20"],
            "2024-04-01",
            [
                (2, 1, Short { missing: 1 }),
                (1, 0, Running),
                (3, 0, Upcoming),
            ],
        ),
        (
            "Permenkes 21/2021 1-2-3: T1 and T2 met",
            b123,
            &["2024-02-20", "2024-05-01", "2024-05-20"],
            "2024-06-01",
            [(1, 1, Met), (2, 2, Met), (3, 0, Upcoming)],
        ),
        (
            "Permenkes 21/2021 1-2-3: past the HPL with no contact, every trimester short",
            b123,
            &[],
            "2024-10-09",
            [
                (1, 0, Short { missing: 1 }),
                (2, 0, Short { missing: 2 }),
                (3, 0, Short { missing: 3 }),
            ],
        ),
        (
            "the last day of trimester 1 (day 84) still counts as running",
            b123,
            &[],
            "2024-03-25",
            [(1, 0, Running), (2, 0, Upcoming), (3, 0, Upcoming)],
        ),
    ];
    for (source, id, contacts, today, want) in cases {
        let contacts: Vec<_> = contacts.iter().map(|c| d(c)).collect();
        let got = pregnancy::anc_trimester_checks(
            anc_schedule(id).unwrap(),
            d("2024-01-01"),
            &contacts,
            d(today),
        )
        .unwrap();
        let got: Vec<_> = got.iter().map(|c| (c.required, c.done, c.state)).collect();
        assert_eq!(got, want, "{source}");
    }
}

/// The default schedule is Permenkes 21/2021's 1-2-3; 2-1-3 stays as data a dinas may choose.
#[test]
fn default_anc_is_permenkes_1_2_3() {
    let s = default_anc();
    assert_eq!(s.id, "anc-1-2-3-permenkes-21-2021-v1");
    assert!(s.source.contains("Permenkes 21/2021"), "{}", s.source);
    let split: Vec<u8> = [Trimester::First, Trimester::Second, Trimester::Third]
        .iter()
        .map(|t| s.required_in(*t))
        .collect();
    assert_eq!(split, [1, 2, 3]);
    let other = anc_schedule("anc-2-1-3-buku-kia-v1").unwrap();
    let split: Vec<u8> = [Trimester::First, Trimester::Second, Trimester::Third]
        .iter()
        .map(|t| other.required_in(*t))
        .collect();
    assert_eq!(split, [2, 1, 3]);
}

#[test]
fn kek_from_lila() {
    // (LiLA cm, KEK risk or error key)
    let cases = [
        (23.4, Ok(true)),
        (23.49, Ok(true)),
        (23.5, Ok(false)),
        (28.0, Ok(false)),
        (5.0, Err("pregnancy.implausible_lila")),
        (f64::NAN, Err("pregnancy.implausible_lila")),
    ];
    for (lila, want) in cases {
        assert_eq!(
            pregnancy::kek_risk(lila).map_err(|e| e.key()),
            want,
            "{lila}"
        );
    }
}

/// Anaemia in pregnancy: the national programme counts Hb < 11 g/dL in every trimester
/// (source named in the schedule's table); a dinas may set another cut-off as data.
#[test]
fn anaemia_by_trimester() {
    // (source of the row, Hb g/dL, trimester, anaemia or error key)
    let cases = [
        (
            "Kemenkes/Buku KIA: < 11 in T1",
            10.9,
            Trimester::First,
            Ok(true),
        ),
        (
            "Kemenkes/Buku KIA: 11 is not anaemia",
            11.0,
            Trimester::First,
            Ok(false),
        ),
        (
            "Kemenkes/Buku KIA: < 11 in T2 too (not WHO's 10.5)",
            10.9,
            Trimester::Second,
            Ok(true),
        ),
        (
            "Kemenkes/Buku KIA: < 11 in T2",
            10.5,
            Trimester::Second,
            Ok(true),
        ),
        (
            "Kemenkes/Buku KIA: 11 in T2",
            11.0,
            Trimester::Second,
            Ok(false),
        ),
        (
            "Kemenkes/Buku KIA: < 11 in T3",
            10.9,
            Trimester::Third,
            Ok(true),
        ),
        (
            "Kemenkes/Buku KIA: 11 in T3",
            11.0,
            Trimester::Third,
            Ok(false),
        ),
        (
            "plausibility 3-20 g/dL",
            2.0,
            Trimester::Third,
            Err("pregnancy.implausible_hb"),
        ),
    ];
    for (source, hb, tri, want) in cases {
        assert_eq!(
            pregnancy::anaemia(hb, tri).map_err(|e| e.key()),
            want,
            "{source}"
        );
        assert_eq!(
            default_anc().anaemia(hb, tri).map_err(|e| e.key()),
            want,
            "{source}"
        );
    }
    for s in pregnancy::builtin_anc_schedules() {
        assert!(s.anaemia.source.contains("11 g/dL"), "{}", s.id);
    }
    // A dinas that chooses WHO 2011's 10.5 g/dL in trimester 2 sets it in the table.
    let json = serde_json::to_string(default_anc())
        .unwrap()
        .replace(r#""trimester2_below":11.0"#, r#""trimester2_below":10.5"#);
    let who = AncSchedule::from_json(&json).unwrap();
    assert!(!who.anaemia(10.7, Trimester::Second).unwrap());
    assert!(who.anaemia(10.7, Trimester::Third).unwrap());
}

#[test]
fn danger_signs_to_advice() {
    use DangerSign::*;
    let cases: &[(&[DangerSign], DangerAdvice)] = &[
        (&[], DangerAdvice::NoSigns),
        (&[LongCough], DangerAdvice::SeeBidanSoon),
        (
            &[SleeplessAnxious, RecurrentDiarrhoea],
            DangerAdvice::SeeBidanSoon,
        ),
        (&[Bleeding], DangerAdvice::ReferNow),
        (&[LongCough, ReducedFetalMovement], DangerAdvice::ReferNow),
        (&[WaterBreaksEarly], DangerAdvice::ReferNow),
        (&[SwellingOrHeadacheWithSeizures], DangerAdvice::ReferNow),
        (&[HighFever], DangerAdvice::ReferNow),
        (&[PersistentVomiting], DangerAdvice::ReferNow),
    ];
    for (signs, want) in cases {
        assert_eq!(pregnancy::danger_advice(signs), *want, "{signs:?}");
    }
    assert_eq!(
        DangerAdvice::ReferNow.label().key,
        "pregnancy.advice.refer_now"
    );
}

#[test]
fn district_anc_tables_are_checked() {
    let bad = r#"{"id":"x","name":"x","source":"x","trimester2_from_days":85,
        "trimester3_from_days":169,"contacts":[{"k":1,"trimester":3,"doctor":true},
        {"k":2,"trimester":1,"doctor":false}]}"#;
    assert_eq!(
        AncSchedule::from_json(bad).unwrap_err().key(),
        "pregnancy.table_invalid"
    );
}

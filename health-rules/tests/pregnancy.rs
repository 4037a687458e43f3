//! Pregnancy rules as case tables.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::pregnancy::{
    self, AncSchedule, AncState, DEFAULT_ANC_ID, DangerAdvice, DangerSign, HplRule, Trimester,
    anc_schedule, anc_status, gestational_age,
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

#[test]
fn anc_k1_to_k6_for_both_splits() {
    const T1: &str = "2024-03-25";
    const T2: (&str, &str) = ("2024-03-26", "2024-06-17");
    // Trimester 3 ends on the HPL: 2024-01-01 + 7 days + 9 months (calendar rule).
    const T3: (&str, &str) = ("2024-06-18", "2024-10-08");
    let b213 = DEFAULT_ANC_ID;
    let b123 = "anc-1-2-3-permenkes-21-2021-v1";
    // (schedule, contacts, today, expected K1..K6)
    let cases: Vec<(&str, &[&str], &str, [AncState; 6])> = vec![
        (
            b213,
            &["2024-02-20"],
            "2024-03-01",
            [
                done("2024-02-20"),
                due(T1),
                later(T2.0, T2.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
            ],
        ),
        (
            b213,
            &["2024-02-20"],
            "2024-04-01",
            [
                done("2024-02-20"),
                missed(T1),
                due(T2.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
            ],
        ),
        // 1-2-3: a second contact in trimester 1 does not fill a trimester-2 slot.
        (
            b123,
            &["2024-02-20", "2024-03-01"],
            "2024-04-01",
            [
                done("2024-02-20"),
                due(T2.1),
                due(T2.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
                later(T3.0, T3.1),
            ],
        ),
        // All six in order; contacts given out of order.
        (
            b213,
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
        // Late booking: first contact in trimester 3.
        (
            b213,
            &["2024-07-01"],
            "2024-07-02",
            [
                missed(T1),
                missed(T1),
                missed(T2.1),
                done("2024-07-01"),
                due(T3.1),
                due(T3.1),
            ],
        ),
    ];
    for (i, (id, contacts, today, want)) in cases.into_iter().enumerate() {
        let contacts: Vec<_> = contacts.iter().map(|c| d(c)).collect();
        let got = anc_status(
            anc_schedule(id).unwrap(),
            d("2024-01-01"),
            &contacts,
            d(today),
        )
        .unwrap();
        let states: Vec<_> = got.iter().map(|c| c.state.clone()).collect();
        assert_eq!(states, want, "case {i}");
        let ks: Vec<_> = got.iter().map(|c| c.k).collect();
        assert_eq!(ks, [1, 2, 3, 4, 5, 6]);
    }
    let err = anc_status(
        default_anc(),
        d("2024-01-01"),
        &[d("2023-12-01")],
        d("2024-02-01"),
    )
    .unwrap_err();
    assert_eq!(err.key(), "pregnancy.date_before_hpht");
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

#[test]
fn anaemia_by_trimester() {
    // (Hb g/dL, trimester, anaemia or error key)
    let cases = [
        (10.9, Trimester::First, Ok(true)),
        (11.0, Trimester::First, Ok(false)),
        (10.4, Trimester::Second, Ok(true)),
        (10.5, Trimester::Second, Ok(false)),
        (10.9, Trimester::Second, Ok(false)),
        (10.9, Trimester::Third, Ok(true)),
        (11.0, Trimester::Third, Ok(false)),
        (2.0, Trimester::Third, Err("pregnancy.implausible_hb")),
    ];
    for (hb, tri, want) in cases {
        assert_eq!(
            pregnancy::anaemia(hb, tri).map_err(|e| e.key()),
            want,
            "{hb} {tri:?}"
        );
    }
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

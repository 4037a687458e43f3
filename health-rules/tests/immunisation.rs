//! Immunisation due list as a case table: (doses given, today, dose) → expected state.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::immunisation::{
    AreaOptions, CLOCK_SKEW_DAYS, DoseState, GivenDose, Schedule, Timing, check_given, due_list,
};

const BIRTH: &str = "2024-03-10";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn state(given: &[(&str, &str)], today: &str, dose: &str, je_area: bool) -> DoseState {
    let given: Vec<GivenDose> = given
        .iter()
        .map(|(id, date)| GivenDose {
            dose_id: id.to_string(),
            date: d(date),
        })
        .collect();
    let list = due_list(
        Schedule::national_2024(),
        d(BIRTH),
        &given,
        d(today),
        AreaOptions { je_area },
    )
    .unwrap();
    list.into_iter().find(|s| s.dose_id == dose).unwrap().state
}

fn given(date: &str, timing: Timing) -> DoseState {
    DoseState::Given {
        date: d(date),
        timing,
    }
}
fn not_yet(due: &str) -> DoseState {
    DoseState::NotYetDue { due_date: d(due) }
}
fn due(due: &str, until: &str) -> DoseState {
    DoseState::Due {
        due_date: d(due),
        on_time_until: d(until),
    }
}
fn overdue(due: &str, until: Option<&str>) -> DoseState {
    DoseState::Overdue {
        due_date: d(due),
        allowed_until: until.map(d),
    }
}
fn gone(last: &str) -> DoseState {
    DoseState::NoLongerAllowed { last_day: d(last) }
}

const RV12: &[(&str, &str)] = &[("RV1", "2024-05-10"), ("RV2", "2024-06-10")];

/// (case, doses given as (id, date), today, dose, JE area, expected)
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    bool,
    DoseState,
);

#[test]
fn due_list_cases() {
    // (case, doses given, today, dose, JE area, expected)
    let cases: Vec<Case> = vec![
        // Newborn: HB0 due today (on time until the next day), BCG upcoming with its date.
        (
            "hb0 at birth",
            &[],
            BIRTH,
            "HB0",
            false,
            due(BIRTH, "2024-03-11"),
        ),
        (
            "bcg upcoming",
            &[],
            BIRTH,
            "BCG",
            false,
            not_yet("2024-04-10"),
        ),
        (
            "opv2 upcoming",
            &[],
            BIRTH,
            "OPV2",
            false,
            not_yet("2024-05-10"),
        ),
        (
            "hb0 day 7",
            &[],
            "2024-03-17",
            "HB0",
            false,
            overdue(BIRTH, Some("2024-03-17")),
        ),
        (
            "hb0 day 8",
            &[],
            "2024-03-18",
            "HB0",
            false,
            gone("2024-03-17"),
        ),
        // Rotavirus: the last dose no later than 6 months 29 days (2024-10-09).
        (
            "rv3 last day",
            RV12,
            "2024-10-09",
            "RV3",
            false,
            overdue("2024-07-10", Some("2024-10-09")),
        ),
        (
            "rv3 day after",
            RV12,
            "2024-10-10",
            "RV3",
            false,
            gone("2024-10-09"),
        ),
        (
            "rv3 given on last day",
            &[
                ("RV1", "2024-05-10"),
                ("RV2", "2024-06-10"),
                ("RV3", "2024-10-09"),
            ],
            "2024-11-01",
            "RV3",
            false,
            given("2024-10-09", Timing::Kejar),
        ),
        (
            "rv3 given after cutoff",
            &[
                ("RV1", "2024-05-10"),
                ("RV2", "2024-06-10"),
                ("RV3", "2024-10-10"),
            ],
            "2024-11-01",
            "RV3",
            false,
            given("2024-10-10", Timing::AfterCutoff),
        ),
        // RV1 so late that RV2 can no longer fit its 4-week interval before the cut-off.
        (
            "rv2 cannot fit",
            &[("RV1", "2024-09-20")],
            "2024-10-01",
            "RV2",
            false,
            gone("2024-10-09"),
        ),
        // RV2 waits 4 weeks after a late RV1.
        (
            "rv2 interval",
            &[("RV1", "2024-06-20")],
            "2024-07-01",
            "RV2",
            false,
            not_yet("2024-07-18"),
        ),
        // IPV2 at least 4 months after IPV1.
        (
            "ipv2 on time",
            &[("IPV1", "2024-07-10")],
            "2024-12-10",
            "IPV2",
            false,
            due("2024-12-10", "2025-01-09"),
        ),
        (
            "ipv2 after late ipv1",
            &[("IPV1", "2024-10-10")],
            "2025-01-10",
            "IPV2",
            false,
            not_yet("2025-02-10"),
        ),
        (
            "ipv2 kejar",
            &[("IPV1", "2024-10-10")],
            "2025-02-10",
            "IPV2",
            false,
            overdue("2025-02-10", Some("2029-03-09")),
        ),
        (
            "ipv2 too early",
            &[("IPV1", "2024-10-10"), ("IPV2", "2025-02-09")],
            "2025-03-01",
            "IPV2",
            false,
            given("2025-02-09", Timing::TooEarly),
        ),
        (
            "ipv2 given at interval",
            &[("IPV1", "2024-10-10"), ("IPV2", "2025-02-10")],
            "2025-03-01",
            "IPV2",
            false,
            given("2025-02-10", Timing::Kejar),
        ),
        // IPV2 catch-up up to 59 months.
        (
            "ipv2 59 months",
            &[("IPV1", "2024-07-10")],
            "2029-03-09",
            "IPV2",
            false,
            overdue("2024-12-10", Some("2029-03-09")),
        ),
        (
            "ipv2 60 months",
            &[("IPV1", "2024-07-10")],
            "2029-03-10",
            "IPV2",
            false,
            gone("2029-03-09"),
        ),
        // A dose given late is still recorded, as kejar.
        (
            "dpt1 late",
            &[("DPT-HB-Hib1", "2024-08-10")],
            "2024-09-01",
            "DPT-HB-Hib1",
            false,
            given("2024-08-10", Timing::Kejar),
        ),
        (
            "dpt1 on time",
            &[("DPT-HB-Hib1", "2024-05-10")],
            "2024-09-01",
            "DPT-HB-Hib1",
            false,
            given("2024-05-10", Timing::OnTime),
        ),
        (
            "dpt1 before 6 weeks",
            &[("DPT-HB-Hib1", "2024-04-15")],
            "2024-09-01",
            "DPT-HB-Hib1",
            false,
            given("2024-04-15", Timing::TooEarly),
        ),
        // DPT2 after a late DPT1: the 4-week interval decides, then it is overdue.
        (
            "dpt2 after late dpt1",
            &[("DPT-HB-Hib1", "2024-08-10")],
            "2024-09-07",
            "DPT-HB-Hib2",
            false,
            overdue("2024-09-07", Some("2029-03-09")),
        ),
        // A dose recorded without the previous one is judged on its own age window.
        (
            "opv2 without opv1",
            &[("OPV2", "2024-05-10")],
            "2024-06-01",
            "OPV2",
            false,
            given("2024-05-10", Timing::OnTime),
        ),
        // MR1 at 9 months.
        (
            "mr1 due",
            &[],
            "2024-12-10",
            "MR1",
            false,
            due("2024-12-10", "2025-03-09"),
        ),
        (
            "mr1 overdue",
            &[],
            "2025-03-10",
            "MR1",
            false,
            overdue("2024-12-10", Some("2029-03-09")),
        ),
        // JE: selected areas only.
        (
            "je outside area",
            &[],
            "2025-01-10",
            "JE",
            false,
            DoseState::NotApplicable,
        ),
        (
            "je in area",
            &[],
            "2025-01-10",
            "JE",
            true,
            due("2025-01-10", "2025-03-09"),
        ),
        // A dose recorded twice counts at its first date.
        (
            "twice",
            &[("BCG", "2024-04-12"), ("BCG", "2024-04-01")],
            "2024-05-01",
            "BCG",
            false,
            given("2024-04-01", Timing::OnTime),
        ),
    ];
    for (name, g, today, dose, je, want) in cases {
        assert_eq!(state(g, today, dose, je), want, "case {name}");
    }
}

#[test]
fn bad_records_are_errors_with_keys() {
    let cases = [
        ("XYZ", "2024-04-01", "immunisation.unknown_dose"),
        ("BCG", "2024-03-09", "immunisation.given_before_birth"),
        ("BCG", "2024-06-01", "immunisation.given_in_future"),
        // Clock skew: up to 3 days after today is accepted, the 4th is not.
        ("BCG", "2024-05-05", "immunisation.given_in_future"),
    ];
    for (id, date, key) in cases {
        let g = [GivenDose {
            dose_id: id.into(),
            date: d(date),
        }];
        let err = due_list(
            Schedule::national_2024(),
            d(BIRTH),
            &g,
            d("2024-05-01"),
            AreaOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.key(), key, "{id} {date}");
    }
}

/// A tablet's clock may be a day or two off: a dose dated up to CLOCK_SKEW_DAYS after
/// today counts as given on that date. `check_given` sets bad records aside one by one.
#[test]
fn clock_skew_and_check_given() {
    assert_eq!(CLOCK_SKEW_DAYS, 3);
    let today = d("2024-05-01");
    for (date, ok) in [
        ("2024-05-01", true),
        ("2024-05-02", true),
        ("2024-05-04", true),
        ("2024-05-05", false),
    ] {
        let g = [GivenDose {
            dose_id: "BCG".into(),
            date: d(date),
        }];
        let list = due_list(
            Schedule::national_2024(),
            d(BIRTH),
            &g,
            today,
            AreaOptions::default(),
        );
        assert_eq!(list.is_ok(), ok, "{date}: {list:?}");
    }
    let given = [
        GivenDose {
            dose_id: "BCG".into(),
            date: d("2024-04-01"),
        },
        GivenDose {
            dose_id: "XYZ".into(),
            date: d("2024-04-01"),
        },
        GivenDose {
            dose_id: "OPV1".into(),
            date: d("2024-06-01"),
        },
        GivenDose {
            dose_id: "HB0".into(),
            date: d("2024-03-09"),
        },
    ];
    let (ok, bad) = check_given(Schedule::national_2024(), d(BIRTH), &given, today);
    assert_eq!(ok, given[..1].to_vec());
    let keys: Vec<&str> = bad.iter().map(|e| e.key()).collect();
    assert_eq!(
        keys,
        [
            "immunisation.unknown_dose",
            "immunisation.given_in_future",
            "immunisation.given_before_birth"
        ]
    );
    assert!(
        due_list(
            Schedule::national_2024(),
            d(BIRTH),
            &ok,
            today,
            AreaOptions::default()
        )
        .is_ok()
    );
}

#[test]
fn every_state_has_a_label() {
    let list = due_list(
        Schedule::national_2024(),
        d(BIRTH),
        &[],
        d("2024-06-01"),
        AreaOptions::default(),
    )
    .unwrap();
    assert_eq!(list.len(), Schedule::national_2024().doses.len());
    for s in list {
        let l = s.state.label();
        assert!(l.key.starts_with("immunisation.state."));
        assert!(!l.id.is_empty() && !l.en.is_empty());
    }
}

//! Due tasks as case tables: (person history, today) → (priority, kind, due, key param).
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::immunisation::{AreaOptions, GivenDose, Schedule};
use health_rules::kms::{KmsResult, MonthResult, YearMonth};
use health_rules::pregnancy::{DEFAULT_ANC_ID, DangerSign, anc_schedule};
use health_rules::tasks::{
    PersonHistory, PregnancyEpisode, Priority, Task, TaskContext, TaskKind, TbTreatment, due_tasks,
};

const TODAY: &str = "2026-11-23";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn person(birth: &str, sex: Sex) -> PersonHistory {
    PersonHistory {
        birth_date: d(birth),
        sex,
        kms: vec![],
        immunisations: vec![],
        pregnancy: None,
        delivery_date: None,
        newborn_visits: vec![],
        postpartum_visits: vec![],
        tb: None,
        last_posyandu: None,
    }
}

/// Every dose except JE, given at its recommended age.
fn fully_immunised(birth: &str) -> Vec<GivenDose> {
    Schedule::national_2024()
        .doses
        .iter()
        .filter(|d| !d.selected_areas_only)
        .map(|dose| GivenDose {
            dose_id: dose.id.clone(),
            date: dose.recommended.from(d(birth)).unwrap(),
        })
        .collect()
}

fn kms_result(date: &str, result: KmsResult, two_t: bool, bgm: bool) -> MonthResult {
    MonthResult {
        month: YearMonth::of(d(date)),
        date: d(date),
        weight_g: 9000,
        age_months: 22,
        result,
        gain_g: Some(0),
        kbm_g: Some(200),
        two_t,
        bgm: Some(bgm),
    }
}

fn tasks(p: &PersonHistory) -> Vec<Task> {
    let ctx = TaskContext {
        today: d(TODAY),
        schedule: Schedule::national_2024(),
        anc: anc_schedule(DEFAULT_ANC_ID).unwrap(),
        area: AreaOptions::default(),
    };
    due_tasks(p, &ctx).unwrap()
}

type Want = (
    Priority,
    TaskKind,
    &'static str,
    Option<(&'static str, &'static str)>,
);

fn check(name: &str, p: &PersonHistory, want: &[Want]) {
    let got = tasks(p);
    let got_short: Vec<_> = got.iter().map(|t| (t.priority, t.kind, t.due)).collect();
    let want_short: Vec<_> = want.iter().map(|w| (w.0, w.1, d(w.2))).collect();
    assert_eq!(got_short, want_short, "case {name}: {got:#?}");
    for (t, w) in got.iter().zip(want) {
        if let Some((k, v)) = w.3 {
            assert_eq!(
                t.params.get(k).map(String::as_str),
                Some(v),
                "case {name}: {t:?}"
            );
        }
        assert_eq!(t.reason, t.kind.label());
    }
}

#[test]
fn task_cases() {
    use Priority::*;
    use TaskKind::*;

    let newborn = person("2026-11-22", Sex::Female);

    let growing = |result, two_t, bgm| {
        let mut p = person("2025-01-10", Sex::Male);
        p.immunisations = fully_immunised("2025-01-10");
        p.kms = vec![
            kms_result("2026-10-10", KmsResult::N, false, false),
            kms_result("2026-11-10", result, two_t, bgm),
        ];
        p.last_posyandu = Some(d("2026-11-10"));
        p
    };
    let mut absent = growing(KmsResult::T, false, false);
    absent.kms = vec![kms_result("2026-09-10", KmsResult::T, false, false)];
    absent.last_posyandu = Some(d("2026-09-10"));

    let mut pregnant = person("2000-03-03", Sex::Female);
    pregnant.pregnancy = Some(PregnancyEpisode {
        hpht: d("2026-06-01"),
        anc_contacts: vec![d("2026-07-15")],
        open_danger_signs: vec![DangerSign::Bleeding],
    });

    let mut postpartum = person("2000-03-03", Sex::Female);
    postpartum.pregnancy = Some(PregnancyEpisode {
        hpht: d("2026-02-01"),
        anc_contacts: vec![],
        open_danger_signs: vec![],
    });
    postpartum.delivery_date = Some(d("2026-11-15"));
    postpartum.postpartum_visits = vec![d("2026-11-15")];

    let mut past_hpl = person("2000-03-03", Sex::Female);
    past_hpl.pregnancy = Some(PregnancyEpisode {
        hpht: d("2026-01-01"),
        anc_contacts: vec![],
        open_danger_signs: vec![],
    });

    let tb = |missed, pickup: &str, completed| {
        let mut p = person("1980-01-01", Sex::Male);
        p.tb = Some(TbTreatment {
            started: d("2026-09-01"),
            missed_doses: missed,
            next_pickup: Some(d(pickup)),
            completed,
        });
        p
    };

    let cases: Vec<(&str, PersonHistory, Vec<Want>)> = vec![
        (
            "newborn day 1",
            newborn,
            vec![
                (Urgent, NewbornVisit, "2026-11-24", Some(("visit", "KN1"))),
                (Normal, VaccineDue, "2026-11-23", Some(("dose_id", "HB0"))),
                (Normal, NewbornVisit, "2026-11-25", Some(("visit", "KN2"))),
            ],
        ),
        (
            "2T and BGM",
            growing(KmsResult::T, true, true),
            vec![
                (
                    Urgent,
                    GrowthBgmRefer,
                    "2026-11-12",
                    Some(("weight_g", "9000")),
                ),
                (Urgent, Growth2tRefer, "2026-11-12", None),
            ],
        ),
        (
            "T",
            growing(KmsResult::T, false, false),
            vec![(High, GrowthTVisit, "2026-11-17", None)],
        ),
        ("N", growing(KmsResult::N, false, false), vec![]),
        (
            "missed posyandu, old T ignored",
            absent,
            vec![(
                Normal,
                MissedPosyandu,
                "2026-11-30",
                Some(("last_attended", "2026-09-10")),
            )],
        ),
        (
            "pregnant, bleeding, late ANC",
            pregnant,
            vec![
                (
                    Urgent,
                    DangerSignRefer,
                    "2026-11-23",
                    Some(("signs", "pregnancy.danger.bleeding")),
                ),
                (High, AncMissed, "2026-08-24", Some(("contact", "K2"))),
                (High, AncMissed, "2026-11-16", Some(("contact", "K3"))),
                (Normal, AncDue, "2027-03-08", Some(("contact", "K4"))),
                (Normal, AncDue, "2027-03-08", Some(("contact", "K5"))),
                (Normal, AncDue, "2027-03-08", Some(("contact", "K6"))),
            ],
        ),
        (
            "postpartum day 8",
            postpartum,
            vec![
                (
                    High,
                    PostpartumVisitMissed,
                    "2026-11-22",
                    Some(("visit", "KF2")),
                ),
                (High, PostpartumVisit, "2026-12-13", Some(("visit", "KF3"))),
            ],
        ),
        (
            "past HPL",
            past_hpl,
            vec![(Urgent, PastHpl, "2026-10-08", Some(("hpl", "2026-10-08")))],
        ),
        (
            "TB missed doses and pickup",
            tb(2, "2026-11-20", false),
            vec![
                (High, TbPickupMissed, "2026-11-20", None),
                (
                    High,
                    TbMissedDoses,
                    "2026-11-23",
                    Some(("missed_doses", "2")),
                ),
            ],
        ),
        (
            "TB pickup soon",
            tb(0, "2026-11-25", false),
            vec![(Normal, TbPickup, "2026-11-25", None)],
        ),
        ("TB completed", tb(3, "2026-11-20", true), vec![]),
        ("adult, nothing", person("1980-01-01", Sex::Male), vec![]),
    ];
    for (name, p, want) in &cases {
        check(name, p, want);
    }
}

#[test]
fn unvaccinated_child_gets_catch_up_tasks_sorted() {
    // Five months old, never vaccinated, weighed this month.
    let birth = "2026-06-20";
    let mut p = person(birth, Sex::Male);
    p.kms = vec![kms_result("2026-11-05", KmsResult::B, false, false)];
    let got = tasks(&p);
    let overdue: Vec<_> = got
        .iter()
        .filter(|t| t.kind == TaskKind::VaccineOverdue)
        .map(|t| t.params["dose_id"].as_str())
        .collect();
    for id in ["BCG", "OPV1", "DPT-HB-Hib1", "PCV1", "RV1", "IPV1"] {
        assert!(overdue.contains(&id), "{id} in {overdue:?}");
    }
    assert!(!overdue.contains(&"HB0"), "HB0 is no longer allowed");
    // Sorted by priority, then date.
    for w in got.windows(2) {
        assert!(
            (w[0].priority, w[0].due) <= (w[1].priority, w[1].due),
            "{w:?}"
        );
    }
    // Weighed this month (B): no posyandu or growth task.
    assert!(got.iter().all(|t| !matches!(
        t.kind,
        TaskKind::MissedPosyandu | TaskKind::GrowthTVisit | TaskKind::Growth2tRefer
    )));
}

#[test]
fn bad_history_is_an_error_with_a_key() {
    let mut p = person("2026-06-20", Sex::Male);
    p.immunisations = vec![GivenDose {
        dose_id: "XYZ".into(),
        date: d("2026-07-01"),
    }];
    let ctx = TaskContext {
        today: d(TODAY),
        schedule: Schedule::national_2024(),
        anc: anc_schedule(DEFAULT_ANC_ID).unwrap(),
        area: AreaOptions::default(),
    };
    assert_eq!(
        due_tasks(&p, &ctx).unwrap_err().key(),
        "immunisation.unknown_dose"
    );
}

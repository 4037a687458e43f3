//! Due tasks as case tables: (person history, today) → (priority, kind, due, key param).
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::immunisation::{AreaOptions, GivenDose, Schedule};
use health_rules::kms::{GrowthAction, GrowthActions, KmsResult, MonthResult, YearMonth};
use health_rules::pregnancy::{DEFAULT_ANC_ID, DangerSign, anc_schedule};
use health_rules::tasks::{
    DueTasks, PersonHistory, PregnancyEpisode, Priority, Task, TaskContext, TaskKind, TbTreatment,
    due_tasks, due_tasks_and_problems,
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
        registered_on: None,
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
        above_orange: Some(false),
    }
}

fn ctx_on(today: &str) -> TaskContext<'static> {
    TaskContext::new(
        d(today),
        Schedule::national_2024(),
        anc_schedule(DEFAULT_ANC_ID).unwrap(),
        AreaOptions::default(),
    )
}

fn tasks(p: &PersonHistory) -> Vec<Task> {
    due_tasks(p, &ctx_on(TODAY)).unwrap()
}

fn with_problems(p: &PersonHistory, today: &str) -> DueTasks {
    due_tasks_and_problems(p, &ctx_on(today))
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
                // Permenkes 21/2021's 1-2-3: K1 (2026-07-15) met trimester 1; trimester 2
                // (two contacts) ended 2026-11-16 without any: missed. The five contacts
                // still needed for six (K2…K6, ordinal) are due in trimester 3.
                (
                    High,
                    AncMissed,
                    "2026-11-16",
                    Some(("contact", "Trimester 2")),
                ),
                (Normal, AncDue, "2027-03-08", Some(("contact", "K2"))),
                (Normal, AncDue, "2027-03-08", Some(("contact", "K3"))),
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

/// A bad record never hides the other tasks (finding 1): each case has an urgent
/// task that must survive, the bad record becomes a problem plus a CheckData task.
#[test]
fn bad_records_are_set_aside_not_fatal() {
    // (case, history, expected problem keys, task kinds that must still be there)
    let bgm_child = |doses: Vec<(&str, &str)>| {
        let mut p = person("2026-05-20", Sex::Male);
        p.immunisations = doses
            .into_iter()
            .map(|(id, date)| GivenDose {
                dose_id: id.into(),
                date: d(date),
            })
            .collect();
        p.kms = vec![kms_result("2026-11-10", KmsResult::T, true, true)];
        p
    };
    let pregnant_with = |contacts: &[&str]| {
        let mut p = person("2000-03-03", Sex::Female);
        p.pregnancy = Some(PregnancyEpisode {
            hpht: d("2026-06-01"),
            anc_contacts: contacts.iter().map(|c| d(c)).collect(),
            open_danger_signs: vec![DangerSign::Bleeding],
        });
        p
    };
    let cases: Vec<(&str, PersonHistory, Vec<&str>, Vec<TaskKind>)> = vec![
        (
            "dose dated tomorrow (clock skew): counted as given, no problem",
            bgm_child(vec![("BCG", "2026-11-24")]),
            vec![],
            vec![TaskKind::GrowthBgmRefer, TaskKind::Growth2tRefer],
        ),
        (
            "dose 3 days ahead: still within the skew",
            bgm_child(vec![("BCG", "2026-11-26")]),
            vec![],
            vec![TaskKind::GrowthBgmRefer],
        ),
        (
            "dose 4 days ahead: set aside",
            bgm_child(vec![("BCG", "2026-11-27"), ("HB0", "2026-05-20")]),
            vec!["immunisation.given_in_future"],
            vec![
                TaskKind::GrowthBgmRefer,
                TaskKind::Growth2tRefer,
                TaskKind::VaccineOverdue,
                TaskKind::CheckData,
            ],
        ),
        (
            "unknown dose id",
            bgm_child(vec![("XYZ", "2026-07-01")]),
            vec!["immunisation.unknown_dose"],
            vec![
                TaskKind::GrowthBgmRefer,
                TaskKind::VaccineOverdue,
                TaskKind::CheckData,
            ],
        ),
        (
            "dose before birth",
            bgm_child(vec![("BCG", "2026-05-01")]),
            vec!["immunisation.given_before_birth"],
            vec![TaskKind::GrowthBgmRefer, TaskKind::CheckData],
        ),
        (
            "ANC contact before HPHT",
            pregnant_with(&["2026-05-01", "2026-07-15"]),
            vec!["pregnancy.date_before_hpht"],
            vec![
                TaskKind::DangerSignRefer,
                TaskKind::AncMissed,
                TaskKind::CheckData,
            ],
        ),
    ];
    for (name, p, want_problems, want_kinds) in cases {
        let got = with_problems(&p, TODAY);
        let keys: Vec<&str> = got.problems.iter().map(|p| p.key).collect();
        assert_eq!(keys, want_problems, "{name}: {got:#?}");
        for kind in want_kinds {
            assert!(
                got.tasks.iter().any(|t| t.kind == kind),
                "{name}: {kind:?} missing in {:#?}",
                got.tasks
            );
        }
        let checks: Vec<&Task> = got
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::CheckData)
            .collect();
        assert_eq!(checks.len(), got.problems.len(), "{name}");
        for (t, p) in checks.iter().zip(&got.problems) {
            assert_eq!(t.priority, Priority::High, "{name}");
            assert_eq!(t.params.get("problem").map(String::as_str), Some(p.key));
            assert!(!p.label.id.is_empty() && !p.label.en.is_empty());
        }
        // due_tasks gives the same list and no longer fails.
        assert_eq!(due_tasks(&p, &ctx_on(TODAY)).unwrap(), got.tasks, "{name}");
        // Urgent first, whatever the problems.
        assert_eq!(
            got.tasks.first().map(|t| t.priority),
            Some(Priority::Urgent),
            "{name}"
        );
    }
}

/// The vaccine list after a skewed dose: BCG dated tomorrow counts as given.
#[test]
fn skewed_dose_counts_as_given() {
    let mut p = person("2026-05-20", Sex::Male);
    p.immunisations = vec![GivenDose {
        dose_id: "BCG".into(),
        date: d("2026-11-24"),
    }];
    let got = tasks(&p);
    assert!(
        !got.iter()
            .any(|t| t.params.get("dose_id").map(String::as_str) == Some("BCG")),
        "{got:#?}"
    );
}

/// Growth follow-up comes from the district table (finding 4): the default refers 2T,
/// BGM and above the orange line and visits a single T; a district may refer every T.
#[test]
fn growth_actions_are_data() {
    use Priority::*;
    use TaskKind::*;
    let refer_all = GrowthActions {
        t: GrowthAction::Refer,
        ..GrowthActions::buku_kia().clone()
    };
    let visit_all = GrowthActions {
        two_t: GrowthAction::HomeVisit,
        below_red_line: GrowthAction::HomeVisit,
        above_orange_line: GrowthAction::HomeVisit,
        ..GrowthActions::buku_kia().clone()
    };
    let child = |result, two_t, bgm, orange| {
        let mut p = person("2025-01-10", Sex::Male);
        p.immunisations = fully_immunised("2025-01-10");
        let mut r = kms_result("2026-11-10", result, two_t, bgm);
        r.above_orange = Some(orange);
        p.kms = vec![r];
        p
    };
    // (case, actions, history, expected (priority, kind, finding))
    type Case<'a> = (
        &'a str,
        &'a GrowthActions,
        PersonHistory,
        Vec<(Priority, TaskKind, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "single T, default: home visit",
            GrowthActions::buku_kia(),
            child(KmsResult::T, false, false, false),
            vec![(High, GrowthTVisit, "t")],
        ),
        (
            "single T, district refers every T",
            &refer_all,
            child(KmsResult::T, false, false, false),
            vec![(Urgent, GrowthTRefer, "t")],
        ),
        (
            "above the orange line, default: refer",
            GrowthActions::buku_kia(),
            child(KmsResult::N, false, false, true),
            vec![(Urgent, GrowthAboveOrangeRefer, "above_orange")],
        ),
        (
            "2T: refer, no separate T task",
            GrowthActions::buku_kia(),
            child(KmsResult::T, true, false, false),
            vec![(Urgent, Growth2tRefer, "2t")],
        ),
        (
            "district visits instead of referring",
            &visit_all,
            child(KmsResult::T, true, true, false),
            vec![(High, GrowthVisit, "bgm"), (High, GrowthVisit, "2t")],
        ),
        (
            "N, normal weight: nothing",
            GrowthActions::buku_kia(),
            child(KmsResult::N, false, false, false),
            vec![],
        ),
    ];
    for (name, actions, p, want) in cases {
        let ctx = TaskContext {
            growth_actions: actions,
            ..ctx_on(TODAY)
        };
        let got: Vec<_> = due_tasks(&p, &ctx)
            .unwrap()
            .into_iter()
            .map(|t| {
                (
                    t.priority,
                    t.kind,
                    t.params.get("finding").cloned().unwrap_or_default(),
                )
            })
            .collect();
        let want: Vec<_> = want
            .into_iter()
            .map(|(p, k, f)| (p, k, f.to_string()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

/// A missed ANC contact is high for 14 days after its trimester ended, then dropped
/// (finding 14).
#[test]
fn missed_anc_has_a_grace_period() {
    let mut p = person("2000-03-03", Sex::Female);
    // HPHT 2026-06-01: trimester 1 is days 0-84, it ends 2026-08-24.
    p.pregnancy = Some(PregnancyEpisode {
        hpht: d("2026-06-01"),
        anc_contacts: vec![],
        open_danger_signs: vec![],
    });
    // (today, trimester 1 missed listed?) One task for the trimester that ended short
    // (Permenkes 21/2021: one contact in trimester 1), not one per numbered contact.
    let cases = [
        ("2026-08-24", false), // last day of trimester 1: still due
        ("2026-08-25", true),
        ("2026-09-07", true), // 14 days after
        ("2026-09-08", false),
    ];
    for (today, listed) in cases {
        let got = with_problems(&p, today).tasks;
        let missed = got.iter().filter(|t| t.kind == TaskKind::AncMissed).count();
        assert_eq!(missed, if listed { 1 } else { 0 }, "{today}: {got:#?}");
    }
}

/// The HPL of the tasks follows Naegele's calendar rule (finding 7): HPHT 2026-03-01
/// gives 2026-12-08 (+ 280 days would give 2026-12-06).
#[test]
fn past_hpl_uses_the_calendar_rule() {
    let mut p = person("1995-01-01", Sex::Female);
    p.pregnancy = Some(PregnancyEpisode {
        hpht: d("2026-03-01"),
        anc_contacts: vec![],
        open_danger_signs: vec![],
    });
    for (today, past) in [
        ("2026-12-07", false),
        ("2026-12-08", false),
        ("2026-12-09", true),
    ] {
        let got = with_problems(&p, today).tasks;
        let hpl_task = got.iter().find(|t| t.kind == TaskKind::PastHpl);
        assert_eq!(hpl_task.is_some(), past, "{today}: {got:#?}");
        if let Some(t) = hpl_task {
            assert_eq!(t.params["hpl"], "2026-12-08");
        }
    }
}

/// A missed posyandu month needs the person to have been registered before it (issue 16).
#[test]
fn missed_posyandu_waits_for_a_month_after_registration() {
    // A 2-year-old never weighed, today 2026-11-23 (last month: October).
    // (registered on, missed posyandu listed?)
    let cases = [
        (None, true),
        (Some("2026-11-23"), false), // registered today
        (Some("2026-10-31"), false), // registered last month
        (Some("2026-09-30"), true),  // registered before last month: October was missed
    ];
    for (registered, listed) in cases {
        let mut p = person("2024-10-01", Sex::Female);
        p.immunisations = fully_immunised("2024-10-01");
        p.registered_on = registered.map(d);
        let got = with_problems(&p, TODAY).tasks;
        let missed = got.iter().any(|t| t.kind == TaskKind::MissedPosyandu);
        assert_eq!(missed, listed, "{registered:?}: {got:#?}");
    }
}

//! The posyandu day, home visit and report answers (issue #8) on a real store: growth chart,
//! immunisation card, measurement checks, SKDN and monthly report, session summary, due list.
#![cfg(feature = "health")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{
    AttendanceInput, CardStatus, DueFilter, DueForm, DueGroup, HomeVisitInput, ImmunisationInput,
    MeasurementInput, MemberPanel, PregnancyInput, ScreeningInput, Services, Store,
    SupplementInput,
};
use health_rules::Sex;
use health_rules::growth::{self, round_z};
use health_rules::kms::{KmsResult, YearMonth};
use serde_json::json;
use sync_protocol::RecordId;

fn measure(kind: &str, value: f64, unit: &str, position: Option<&str>) -> MeasurementInput {
    MeasurementInput {
        kind: kind.into(),
        value,
        unit: unit.into(),
        position: position.map(str::to_string),
        measured_by: None,
        ..Default::default()
    }
}

fn weight(kg: f64) -> MeasurementInput {
    measure("weight", kg, "kg", None)
}

fn attend(store: &mut Store, session: RecordId, person: RecordId, services: Services) -> RecordId {
    store
        .record_attendance(&AttendanceInput {
            session,
            person,
            services,
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: None,
        })
        .unwrap()
        .visit
}

fn vaccines(names: &[&str]) -> Services {
    Services {
        immunisations: names
            .iter()
            .map(|v| ImmunisationInput {
                vaccine: v.to_string(),
                batch: None,
                catch_up: None,
                date: None,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn wfa_z(birth: &str, date: &str, kg: f64) -> f64 {
    let b = chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap();
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    round_z(growth::weight_for_age_z(Sex::Male, (d - b).num_days() as u32, kg).unwrap())
}

/// A year of weighings: the chart carries every live one (corrections applied, retracted
/// one gone) with its z-score and KMS result, and the latest result says T and what to do.
#[test]
fn a_year_of_weighings_on_the_growth_chart() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2]; // Fransiskus, born 2024-05-10
    // (date, kg, expected KMS result). KBM: 300 g at 7–11 months, 200 g from 12 months.
    let year = [
        ("2024-12-15", 7.5, KmsResult::B),
        ("2025-01-15", 7.9, KmsResult::N),
        ("2025-02-15", 8.3, KmsResult::N),
        ("2025-03-15", 8.5, KmsResult::T), // +200 g < 300 g
        ("2025-04-15", 8.9, KmsResult::N),
        ("2025-05-15", 9.2, KmsResult::N), // 12 months: +300 g ≥ 200 g
        ("2025-06-15", 9.3, KmsResult::T),
        ("2025-07-15", 9.3, KmsResult::T), // 2T
        ("2025-09-15", 9.8, KmsResult::O), // not weighed in August
        ("2025-10-15", 10.0, KmsResult::N),
        ("2025-11-15", 10.1, KmsResult::T),
    ];
    let mut ids = Vec::new();
    for (date, kg, _) in year {
        let kg = if date == "2025-11-15" { 11.9 } else { kg };
        ids.push(
            f.store
                .save_measurement(child, None, date, &weight(kg))
                .unwrap(),
        );
    }
    // November was typed wrong and corrected; an August weighing was entered for the wrong
    // child and retracted.
    let nov = f
        .store
        .correct_fact(
            *ids.last().unwrap(),
            json!({"value": 10.1}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let wrong = f
        .store
        .save_measurement(child, None, "2025-08-20", &weight(15.0))
        .unwrap();
    f.store.retract_fact(wrong).unwrap();
    for (date, cm) in [("2025-05-15", 74.0), ("2025-11-15", 79.5)] {
        f.store
            .save_measurement(
                child,
                None,
                date,
                &measure("length_height", cm, "cm", Some("lying")),
            )
            .unwrap();
    }

    let chart = f.store.growth_chart(child).unwrap();
    assert_eq!(chart.sex, Sex::Male);
    assert_eq!(chart.birth_date, "2024-05-10");
    assert_eq!(chart.kbm_table, "kbm-buku-kia-v1");
    // Curves for drawing: 0–60 months, −3 … +3 SD, with the red and orange lines.
    assert!(chart.wfa.chart.curves.len() > 60);
    assert_eq!(chart.wfa.chart.lines.len(), 2);
    assert!(chart.lhfa.chart.curves.len() > 60);
    // Points: every live weighing, oldest first, with the KMS result of its month.
    let pts = &chart.wfa.points;
    assert_eq!(pts.len(), year.len(), "{pts:#?}");
    for (p, (date, kg, result)) in pts.iter().zip(year) {
        assert_eq!(p.date, date);
        assert_eq!(p.point.value, kg, "{date}");
        assert_eq!(p.kms, Some(result), "{date}");
        assert_eq!(p.point.z, Some(wfa_z("2024-05-10", date, kg)), "{date}");
        assert!(p.point.category.is_some());
    }
    assert_eq!(
        pts.last().unwrap().fact,
        nov,
        "the corrected weighing is drawn"
    );
    let results: Vec<(KmsResult, bool)> = chart.kms.iter().map(|r| (r.result, r.two_t)).collect();
    assert_eq!(results[7], (KmsResult::T, true), "July is 2T");
    assert_eq!(results.iter().filter(|r| r.1).count(), 1);
    // Length points after the position (lying, as expected under 24 months).
    assert_eq!(chart.lhfa.points.len(), 2);
    assert_eq!(chart.lhfa.points[1].point.plotted, 79.5);
    // The latest result in words, with the next action.
    let latest = chart.latest.as_ref().unwrap();
    assert_eq!(latest.date, "2025-11-15");
    assert!(latest.current);
    assert_eq!(latest.kms.as_ref().unwrap().result, KmsResult::T);
    assert_eq!(latest.findings[0].label.key, "kms.result.t");
    assert_eq!(latest.findings[0].params["gain_g"], "100");
    let keys: Vec<&str> = latest.findings.iter().map(|f| f.label.key).collect();
    assert!(
        keys.iter().any(|k| k.starts_with("growth.wfa.")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("growth.lhfa.")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("growth.wfl.")),
        "{keys:?}"
    );
    let next = chart.next_action.as_ref().unwrap();
    assert_eq!(
        next.action.as_ref().unwrap().key,
        "action.growth.home_visit"
    );
    assert!(chart.problems.is_empty(), "{:?}", chart.problems);
    // The timeline's KMS results agree with the chart's.
    let t = f.store.person_timeline(child).unwrap();
    let timeline_results: Vec<String> = t
        .growth
        .iter()
        .filter_map(|g| {
            g.kms.as_ref().map(|k| {
                serde_json::to_value(k).unwrap()["result"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let chart_results: Vec<String> = chart
        .kms
        .iter()
        .map(|r| format!("{:?}", r.result))
        .collect();
    assert_eq!(timeline_results, chart_results);
    // The UI gets it as JSON: curves and points side by side, texts as labels.
    let v = serde_json::to_value(&chart).unwrap();
    assert_eq!(v["sex"], "male");
    assert_eq!(v["wfa"]["sd_levels"], json!([-3, -2, -1, 0, 1, 2, 3]));
    assert_eq!(v["wfa"]["points"][3]["kms"], "T");
    assert!(v["wfa"]["points"][3]["z"].is_f64());
    assert_eq!(v["wfa"]["lines"][0]["kind"], "red_line");
    assert_eq!(
        v["latest"]["findings"][0]["label"]["id"],
        "T: berat badan tidak naik"
    );
    assert_eq!(v["next_action"]["level"], "act");
    // An adult gets curves and no points.
    let adult = f.store.growth_chart(reg.persons[0]).unwrap();
    assert!(adult.wfa.points.is_empty() && adult.latest.is_none());
}

/// The card shows every dose with its state; free-text vaccines are matched to doses, the
/// unmatched ones listed, a dose recorded twice counted once.
#[test]
fn immunisation_card_of_an_18_month_old() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2]; // born 2024-05-10
    let s1 = f
        .store
        .open_posyandu_session(POSYANDU, "2024-06-10", None)
        .unwrap();
    attend(
        &mut f.store,
        s1,
        child,
        vaccines(&["BCG", "Polio tetes (OPV) 1"]),
    );
    let s2 = f
        .store
        .open_posyandu_session(POSYANDU, "2024-07-12", None)
        .unwrap();
    attend(
        &mut f.store,
        s2,
        child,
        vaccines(&[
            "DPT-HB-Hib 1",
            "opv 2",
            "PCV 1",
            "Rotavirus 1",
            "Polio",
            "bcg",
        ]),
    );
    let card = f.store.immunisation_card(child, "2025-11-22").unwrap();
    assert_eq!(card.schedule_id, "imunisasi-nasional-2024-v1");
    assert_eq!(card.doses.len(), 21);
    let dose = |id: &str| card.doses.iter().find(|d| d.dose_id == id).unwrap();
    let status = |id: &str| dose(id).status;
    assert_eq!(status("HB0"), CardStatus::NoLongerAllowed);
    assert_eq!(status("BCG"), CardStatus::Given);
    assert_eq!(dose("BCG").given.as_ref().unwrap().date, "2024-06-10");
    assert_eq!(
        dose("BCG").also_recorded.len(),
        1,
        "bcg again on 2024-07-12"
    );
    assert_eq!(status("OPV1"), CardStatus::Given);
    assert_eq!(status("OPV2"), CardStatus::Given);
    assert_eq!(status("DPT-HB-Hib1"), CardStatus::Given);
    assert_eq!(dose("DPT-HB-Hib1").label.key, "immunisation.state.given");
    assert_eq!(status("DPT-HB-Hib2"), CardStatus::Overdue);
    assert_eq!(dose("DPT-HB-Hib2").label.key, "immunisation.state.overdue");
    assert_eq!(status("RV2"), CardStatus::NoLongerAllowed);
    assert_eq!(status("MR1"), CardStatus::Overdue);
    // MR2 waits 6 months after MR1, which is not given yet.
    assert_eq!(status("MR2"), CardStatus::Upcoming);
    assert_eq!(status("JE"), CardStatus::NotApplicable);
    assert_eq!(card.unmatched.len(), 1);
    assert_eq!(card.unmatched[0].vaccine, "Polio");
    assert!(card.problems.is_empty());
    // On the day of the second session, DPT-HB-Hib 2 was not yet due.
    let then = f.store.immunisation_card(child, "2024-07-12").unwrap();
    let d2 = then
        .doses
        .iter()
        .find(|d| d.dose_id == "DPT-HB-Hib2")
        .unwrap();
    assert_eq!(d2.status, CardStatus::Upcoming);
    assert!(f.store.immunisation_card(child, "22/11/2025").is_err());
    let v = serde_json::to_value(&card).unwrap();
    assert_eq!(v["doses"][1]["status"], "given");
    assert_eq!(v["doses"][1]["state"]["state"], "given");
}

#[test]
fn measurements_are_judged_before_saving() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let (mother, child) = (reg.persons[1], reg.persons[2]);
    f.store
        .start_pregnancy(
            mother,
            &PregnancyInput {
                hpht: Some("2025-06-01".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // A pregnant woman with LiLA 22 cm: KEK.
    let c = f
        .store
        .assess_measurement(mother, &[measure("muac", 22.0, "cm", None)], "2025-11-22")
        .unwrap();
    assert_eq!(
        c.findings[0].label.key, "checks.lila.kek",
        "{:?}",
        c.findings
    );
    assert_eq!(c.next_action.unwrap().key, "action.lila.kek_pregnant");
    assert!(c.confirm.is_empty());
    // Her blood pressure 150/95 in pregnancy: see the bidan today.
    let c = f
        .store
        .assess_measurement(
            mother,
            &[
                measure("bp_systolic", 150.0, "mmHg", None),
                measure("bp_diastolic", 95.0, "mmHg", None),
            ],
            "2025-11-22",
        )
        .unwrap();
    assert_eq!(c.findings[0].label.key, "checks.bp.high_pregnant");
    // The father: high blood pressure, high blood sugar, central obesity.
    let c = f
        .store
        .assess_measurement(
            reg.persons[0],
            &[
                measure("bp_systolic", 145.0, "mmHg", None),
                measure("bp_diastolic", 85.0, "mmHg", None),
                measure("blood_sugar", 230.0, "mg/dL", None),
                measure("waist", 96.0, "cm", None),
            ],
            "2025-11-22",
        )
        .unwrap();
    let keys: Vec<&str> = c.findings.iter().map(|f| f.label.key).collect();
    assert_eq!(
        keys,
        [
            "checks.bp.high",
            "checks.sugar.high",
            "checks.waist.central_obesity"
        ]
    );
    // The child: the result against last month's weighing, before anything is saved.
    f.store
        .save_measurement(child, None, "2025-10-15", &weight(10.0))
        .unwrap();
    let c = f
        .store
        .assess_measurement(child, &[weight(10.1)], "2025-11-15")
        .unwrap();
    assert_eq!(c.kms.as_ref().unwrap().result, KmsResult::T);
    assert_eq!(c.findings[0].label.key, "kms.result.t");
    // A length saved earlier the same day is used for BB/PB; only the weight is asked about.
    f.store
        .save_measurement(
            child,
            None,
            "2025-11-15",
            &measure("length_height", 79.0, "cm", Some("lying")),
        )
        .unwrap();
    let c = f
        .store
        .assess_measurement(child, &[weight(19.0)], "2025-11-15")
        .unwrap();
    assert!(c.growth.as_ref().unwrap().wfl.is_some());
    let fields: Vec<(&str, &str)> = c.confirm.iter().map(|x| (x.field, x.label.key)).collect();
    assert!(
        fields.contains(&("weight", "checks.confirm.weight_jump")),
        "{fields:?}"
    );
    assert!(fields.iter().all(|(f, _)| *f == "weight"));
    // Nothing was written by the checks.
    let t = f.store.person_timeline(child).unwrap();
    assert_eq!(t.growth.len(), 2);
    assert!(
        f.store
            .assess_measurement(child, &[weight(9.0)], "15-11-2025")
            .is_err()
    );
}

/// One posyandu day recorded, then the day's summary, the month's SKDN, report and CSV.
#[test]
fn reports_match_the_recorded_day() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let (mother, a) = (reg.persons[1], reg.persons[2]);
    let mut b = person("Maria Bria", "female", "2025-07-01");
    b.mother = Some(mother);
    let b = f.store.add_member(reg.household, &b).unwrap().persons[0];
    let mut c = person("Agus Bria", "male", "2023-01-01");
    c.has_kms = Some(true);
    let c = f.store.add_member(reg.household, &c).unwrap().persons[0];
    // October: A weighed at home.
    let hv = |store: &mut Store, date: &str, p: RecordId, kg: f64| {
        store
            .record_home_visit(&HomeVisitInput {
                household: reg.household,
                date: date.into(),
                panels: vec![MemberPanel {
                    person: p,
                    services: Services {
                        measurements: vec![weight(kg)],
                        ..Default::default()
                    },
                    findings: None,
                    education: None,
                    follow_up_date: None,
                    reminded_to_facility: None,
                    reported_to_health_worker: None,
                    referral: None,
                }],
                household_update: None,
                family_acknowledged: None,
            })
            .unwrap();
    };
    hv(&mut f.store, "2025-10-15", a, 10.0);
    // November: C weighed at home for the first time; A and B at the posyandu day.
    hv(&mut f.store, "2025-11-10", c, 12.0);
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-15", None)
        .unwrap();
    f.store
        .record_attendance(&AttendanceInput {
            session,
            person: a,
            services: Services {
                measurements: vec![weight(10.1)],
                supplements: vec![SupplementInput {
                    supplement: "vitamin_a_red".into(),
                    quantity: Some(1),
                }],
                ..Default::default()
            },
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: Some(field_core::ReferralInput {
                reason: "T dua bulan".into(),
                destination: "pustu".into(),
                destination_name: None,
            }),
        })
        .unwrap();
    let mut b_services = vaccines(&["DPT-HB-Hib 3"]);
    b_services.measurements = vec![weight(7.0)];
    b_services.screenings = vec![ScreeningInput {
        instrument: "breastfeeding".into(),
        answers: json!({"exclusive": true}).as_object().cloned().unwrap(),
        result: None,
    }];
    // B is weighed at a second tablet's session of the same posyandu day (both opened
    // offline); the day is one.
    let other_tablet = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-15", None)
        .unwrap();
    assert_ne!(other_tablet, session);
    attend(&mut f.store, other_tablet, b, b_services);
    attend(&mut f.store, session, mother, Services::default());

    // The day: A (T) and B (B) weighed here; C weighed at home is absent from the day.
    let day = f.store.session_summary(session).unwrap();
    assert_eq!(
        f.store.session_summary(other_tablet).unwrap().skdn,
        day.skdn,
        "either session closes the same day"
    );
    assert_eq!(day.date, "2025-11-15");
    let k = day.skdn;
    assert_eq!(
        (k.s, k.k, k.d, k.n, k.t, k.o, k.b, k.absent),
        (3, 3, 2, 0, 1, 0, 1, 1)
    );
    assert_eq!(day.attended.total, 3);
    assert_eq!((day.attended.balita, day.attended.adult), (2, 1));
    assert_eq!(day.immunisations, 1);
    assert_eq!(day.vitamin_a, 1);
    // Vitamin A is one service: counted in `vitamin_a` only, not again as a supplement
    // (issue 16: "Vitamin A 1" and "Vitamin A merah 1" were shown side by side).
    assert!(!day.supplements.contains_key("vitamin_a_red"));
    assert_eq!(day.referrals, 1);
    assert!(
        day.not_yet_weighed.is_empty(),
        "C was weighed at home this month"
    );
    assert!((day.ratios.d_s.unwrap() - 2.0 / 3.0).abs() < 1e-9);

    // The month: C's home weighing counts (B).
    let month = YearMonth::new(2025, 11).unwrap();
    let skdn = f.store.skdn(POSYANDU, month).unwrap();
    let s = skdn.counts;
    assert_eq!(
        (s.s, s.k, s.d, s.n, s.t, s.o, s.b, s.absent),
        (3, 3, 3, 0, 1, 0, 2, 0)
    );
    assert_eq!(s.vitamin_a, 1);
    assert_eq!(
        s.asi_eksklusif, 1,
        "B is 4 months and exclusively breastfed"
    );
    let report = f.store.monthly_report(POSYANDU, month).unwrap();
    assert_eq!(report.report.total(), s);
    assert_eq!(report.activity.sessions, ["2025-11-15"]);
    assert_eq!(report.activity.posyandu_visits, 3);
    assert_eq!(report.activity.home_visits, 1);
    assert_eq!(report.activity.immunisations["DPT-HB-Hib3"], 1);
    assert_eq!(report.activity.referrals_made, 1);
    assert!(report.problems.is_empty());
    let csv = f.store.monthly_report_csv(POSYANDU, month).unwrap();
    assert!(csv.starts_with("posyandu,bulan,"));
    assert!(
        csv.lines()
            .any(|l| l.starts_with(&format!("{POSYANDU},2025-11,0-59,L+P,3,3,3,0,1,0,2,0,"))),
        "{csv}"
    );
    // October: only A, weighed for the first time.
    let oct = f
        .store
        .skdn(POSYANDU, YearMonth::new(2025, 10).unwrap())
        .unwrap();
    assert_eq!((oct.counts.d, oct.counts.b), (1, 1));
}

#[test]
fn due_list_filters_by_dusun_rt_and_kind() {
    let mut f = fixture();
    let reg = family(&mut f.store); // dusun Halilulik A, RT 001
    let other = f
        .store
        .register_household(
            &field_core::HouseholdInput {
                posyandu: POSYANDU.into(),
                head_name: "Benediktus Mau".into(),
                dusun: Some("Halilulik B".into()),
                rt: Some("002".into()),
                ..Default::default()
            },
            &[
                person("Theresia Mau", "female", "1996-02-02"),
                person("Yosef Mau", "male", "2025-05-01"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    // Theresia is pregnant and reported bleeding at a posyandu day.
    f.store
        .start_pregnancy(
            other.persons[0],
            &PregnancyInput {
                hpht: Some("2025-07-01".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let session = f
        .store
        .open_posyandu_session(POSYANDU, "2025-11-20", None)
        .unwrap();
    attend(
        &mut f.store,
        session,
        other.persons[0],
        Services {
            screenings: vec![ScreeningInput {
                instrument: "danger_signs".into(),
                answers: json!({"bleeding": true, "high_fever": false})
                    .as_object()
                    .cloned()
                    .unwrap(),
                result: None,
            }],
            ..Default::default()
        },
    );

    let all = f
        .store
        .due_list(&DueFilter {
            posyandu: Some(POSYANDU.into()),
            ..Default::default()
        })
        .unwrap();
    assert!(!all.is_empty());
    // Most urgent first.
    assert!(all.windows(2).all(|w| w[0].priority <= w[1].priority));
    let first = &all[0];
    assert_eq!(first.kind, health_rules::tasks::TaskKind::DangerSignRefer);
    assert_eq!(first.group, DueGroup::DangerSigns);
    assert_eq!(first.form, DueForm::Referral);
    assert_eq!(first.person.id, other.persons[0]);
    assert_eq!(first.params["signs"], "pregnancy.danger.bleeding");
    let v = serde_json::to_value(first).unwrap();
    assert_eq!(
        (v["form"].as_str(), v["group"].as_str()),
        (Some("referral"), Some("danger_signs"))
    );
    assert_eq!(v["priority"], "urgent");

    let a = f
        .store
        .due_list(&DueFilter {
            posyandu: Some(POSYANDU.into()),
            dusun: Some("halilulik a".into()),
            rt: Some("1".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(!a.is_empty());
    assert!(
        a.iter()
            .all(|e| e.person.household == Some(reg.household.to_string()))
    );
    assert!(a.iter().all(|e| e.dusun.as_deref() == Some("Halilulik A")));
    assert_eq!(a[0].household_head.as_deref(), Some("Yohanes Bria"));

    let vaccines_b = f
        .store
        .due_list(&DueFilter {
            posyandu: Some(POSYANDU.into()),
            dusun: Some("Halilulik B".into()),
            groups: vec![DueGroup::Vaccines],
            ..Default::default()
        })
        .unwrap();
    assert!(!vaccines_b.is_empty());
    assert!(vaccines_b.iter().all(|e| e.group == DueGroup::Vaccines
        && e.form == DueForm::Immunisation
        && e.person.id == other.persons[1]));
    // Overdue (high) before due (normal).
    assert!(
        vaccines_b
            .windows(2)
            .all(|w| (w[0].priority, w[0].due) <= (w[1].priority, w[1].due))
    );
    assert!(vaccines_b.iter().any(|e| e.days_late > 0));

    let none = f
        .store
        .due_list(&DueFilter {
            posyandu: Some(POSYANDU.into()),
            rt: Some("009".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(none.is_empty());
}

/// The due list names the head of a person's household also when the household is no
/// longer one of the posyandu's (moved to another posyandu, its members staying): the plans
/// no longer carry heads, the list looks them up.
#[test]
fn due_list_names_the_head_of_a_household_of_another_posyandu() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let child = reg.persons[2];
    let head = |store: &Store| {
        let list = store
            .due_list(&DueFilter {
                posyandu: Some(POSYANDU.into()),
                ..Default::default()
            })
            .unwrap();
        assert!(list.iter().any(|e| e.person.id == child), "{list:?}");
        list.into_iter()
            .filter(|e| e.person.id == child)
            .map(|e| (e.household_head, e.dusun))
            .collect::<Vec<_>>()
    };
    let before = head(&f.store);
    assert!(
        before
            .iter()
            .all(|(h, d)| h.as_deref() == Some("Yohanes Bria")
                && d.as_deref() == Some("Halilulik A"))
    );
    let other = format!("{}9", &POSYANDU[..POSYANDU.len() - 1]);
    assert_ne!(other, POSYANDU);
    f.store
        .update_household(
            reg.household,
            json!({"posyandu": other}).as_object().cloned().unwrap(),
        )
        .unwrap();
    let after = head(&f.store);
    assert_eq!(after.len(), before.len());
    assert!(
        after
            .iter()
            .all(|(h, d)| h.as_deref() == Some("Yohanes Bria") && d.is_none()),
        "{after:?}"
    );
}

/// A newborn's visit in its first 28 days counts as a KN visit.
#[test]
fn a_visit_in_the_first_days_counts_as_a_newborn_visit() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let mut baby = person("Bayi Bria", "female", "2025-11-18");
    baby.mother = Some(reg.persons[1]);
    let baby = f.store.add_member(reg.household, &baby).unwrap().persons[0];
    let kn = |store: &Store| -> Vec<String> {
        store
            .due_list(&DueFilter {
                posyandu: Some(POSYANDU.into()),
                groups: vec![DueGroup::NewbornPostpartum],
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .filter(|e| e.person.id == baby)
            .map(|e| e.params["visit"].clone())
            .collect()
    };
    assert!(kn(&f.store).contains(&"KN2".to_string()));
    f.store
        .record_home_visit(&HomeVisitInput {
            household: reg.household,
            date: "2025-11-22".into(),
            panels: vec![MemberPanel {
                person: baby,
                services: Services::default(),
                findings: Some("KN2: bayi sehat".into()),
                education: None,
                follow_up_date: None,
                reminded_to_facility: None,
                reported_to_health_worker: None,
                referral: None,
            }],
            household_update: None,
            family_acknowledged: None,
        })
        .unwrap();
    assert!(
        !kn(&f.store).contains(&"KN2".to_string()),
        "{:?}",
        kn(&f.store)
    );
}

/// The bidan's pregnancy card (issue 16): gestational age, HPL, trimester, ANC contacts done
/// and due (K1 is the first contact; Permenkes 21/2021's 1-2-3 by default), KEK, anaemia.
#[test]
fn the_pregnancy_view_reads_the_ongoing_pregnancy() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let mother = reg.persons[1];
    assert!(f.store.pregnancy_view(mother).unwrap().is_none());
    let preg = f
        .store
        .start_pregnancy(
            mother,
            &PregnancyInput {
                hpht: Some("2025-07-15".into()),
                ..Default::default()
            },
        )
        .unwrap();
    f.store
        .record_anc_contact(
            preg,
            &field_core::AncContactInput {
                contact: 1,
                date: "2025-09-01".into(),
                ..Default::default()
            },
        )
        .unwrap();
    // Today is 2025-11-22: day 130 after the HPHT.
    let v = f.store.pregnancy_view(mother).unwrap().unwrap();
    assert_eq!((v.weeks, v.days), (18, 4));
    assert_eq!(v.trimester, health_rules::pregnancy::Trimester::Second);
    assert_eq!(v.hpl.to_string(), "2026-04-22"); // Naegele: + 7 days, + 9 months
    assert_eq!((v.done, v.minimum), (1, 6));
    assert_eq!(v.schedule, "anc-1-2-3-permenkes-21-2021-v1");
    let states: Vec<String> = v
        .contacts
        .iter()
        .map(|c| {
            serde_json::to_value(&c.state).unwrap()["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // K1 done in trimester 1; K2 and K3 due in trimester 2 (by day 168); K4–K6 later.
    assert_eq!(
        states,
        [
            "done",
            "due",
            "due",
            "not_yet_due",
            "not_yet_due",
            "not_yet_due"
        ]
    );
    assert!(v.lila.is_none() && v.kek.is_none() && v.hb.is_none() && v.anaemia.is_none());
    assert!(v.anaemia_source.contains("11 g/dL"));
}

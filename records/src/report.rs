//! The body-reading half of the posyandu reports: SKDN and the monthly posyandu report (F1)
//! of a posyandu, the month's activity, and who came to a posyandu day. The rows (persons,
//! facts, pregnancies) are selected by the caller (field-core from its SQLite tables, the
//! server from its read model); everything they mean is decided here and in health-rules.
//!
//! The children of a month are the persons of the posyandu born by the month's end who
//! were still there then: active, or moved/died after the month (`status_date`, see
//! [`present_at`]); merged duplicates count once, with their records. health-rules takes
//! the 0–59-month ones.
//! - **K** (has a KMS / Buku KIA): the person's `has_kms`; when it was never recorded, a
//!   child weighed by the month's end is taken to have one.
//! - **Vitamin A**: supplement facts `vitamin_a`, `vitamin_a_blue`, `vitamin_a_red`.
//! - **ASI eksklusif**: `breastfeeding` screenings whose answers say `"exclusive": true`
//!   (or whose result is `exclusive` / `eksklusif`), in the month of the screening.

use crate::LifeStage;
use crate::facts::{self, Fact, parse_date};
use crate::history::dose_id;
use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::immunisation::Schedule;
use health_rules::kms::{KbmTable, RedLine, YearMonth};
use health_rules::report::{
    self, BreastfeedingRecord, Counts, MonthlyReport, Ratios, ReportChild, ReportError,
    ReportOptions,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use sync_protocol::{Body, EntityKind, RecordId};

/// Days before a month's end an HPHT may lie for the woman to count as pregnant in it.
pub const PREGNANCY_MAX_DAYS: u64 = 300;

/// SKDN of one posyandu and month (all ages 0–59 months, both sexes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skdn {
    pub posyandu: String,
    pub month: YearMonth,
    pub counts: Counts,
    pub ratios: Ratios,
    /// Children whose weighings could not be assessed (left out of D, N, T, O, B).
    pub problems: Vec<ReportChildProblem>,
}

/// A child the report could not fully count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportChildProblem {
    pub person: RecordId,
    pub name: String,
    pub key: String,
    /// The values of the key's text (`date`, `weight_g` …).
    pub params: health_rules::Params,
}

/// What else happened at the posyandu in the month (from the facts dated in it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthActivity {
    /// Dates of the posyandu days held.
    pub sessions: Vec<String>,
    /// Persons served at posyandu days (visits).
    pub posyandu_visits: u32,
    pub home_visits: u32,
    /// Doses given, by dose id (`HB0`, `BCG`, …).
    pub immunisations: BTreeMap<String, u32>,
    /// Immunisations whose vaccine names no dose of the schedule.
    pub immunisations_unmatched: u32,
    /// Women pregnant during the month.
    pub pregnant_women: u32,
    /// Of them, with a LiLA below 23.5 cm measured this month.
    pub pregnant_kek: u32,
    pub anc_contacts: u32,
    pub referrals_made: u32,
    pub births: u32,
    pub deaths: u32,
}

/// The monthly posyandu report: SKDN / F1 by age band and sex (health-rules), plus the
/// month's activity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PosyanduReport {
    pub report: MonthlyReport,
    pub activity: MonthActivity,
    /// `report.problems` with the persons named.
    pub problems: Vec<ReportChildProblem>,
}

/// Who came to a posyandu day, by life stage on the day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttendanceCounts {
    pub total: u32,
    pub balita: u32,
    pub school_adolescent: u32,
    pub adult: u32,
    pub lansia: u32,
    /// Pregnant women among them (ongoing pregnancy).
    pub pregnant: u32,
}

impl AttendanceCounts {
    /// One person who came: their life stage on the day (`None`: birth date unknown) and
    /// whether they have an ongoing pregnancy.
    pub fn add(&mut self, stage: Option<LifeStage>, pregnant: bool) {
        self.total += 1;
        self.pregnant += u32::from(pregnant);
        match stage {
            Some(LifeStage::Balita) => self.balita += 1,
            Some(LifeStage::SchoolAdolescent) => self.school_adolescent += 1,
            Some(LifeStage::Adult) => self.adult += 1,
            Some(LifeStage::Lansia) => self.lansia += 1,
            None => {}
        }
    }
}

/// The first and last day of a month (`None` outside chrono's calendar).
pub fn month_bounds(month: YearMonth) -> Option<(NaiveDate, NaiveDate)> {
    Some((month.first_day()?, month.last_day()?))
}

/// A vitamin A capsule (any colour): one service.
pub fn is_vitamin_a(s: &str) -> bool {
    matches!(s, "vitamin_a" | "vitamin_a_blue" | "vitamin_a_red")
}

/// Still of the posyandu at `end`: active, or moved/died after it (`values.status_date`).
pub fn present_at(status: &str, values: &Body, end: NaiveDate) -> bool {
    if status == "active" {
        return true;
    }
    values
        .get("status_date")
        .and_then(Value::as_str)
        .and_then(parse_date)
        .is_some_and(|d| d > end)
}

/// A child the month's report counts: under five on some day of the month ending `end`
/// (a child may turn [`crate::UNDER_FIVE_MONTHS`] in it; health-rules takes the ages).
pub fn in_report_month(birth: NaiveDate, end: NaiveDate) -> bool {
    crate::age_in_months(birth, end).is_some_and(|m| m <= crate::UNDER_FIVE_MONTHS)
}

/// A `breastfeeding` screening's answer: exclusive or not (`None`: not said).
pub fn exclusive_breastfeeding(body: &Body) -> Option<bool> {
    if let Some(b) = body
        .get("answers")
        .and_then(|a| a.get("exclusive"))
        .and_then(Value::as_bool)
    {
        return Some(b);
    }
    body.get("result")
        .and_then(Value::as_str)
        .map(|r| matches!(r.to_lowercase().as_str(), "exclusive" | "eksklusif"))
}

/// One child of a report: health-rules' input and the visits its weighings were made in.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRecords {
    pub report: ReportChild,
    /// Live weighing facts with the visit they were recorded in: (date, visit).
    pub weighing_visits: Vec<(NaiveDate, Option<String>)>,
}

impl ChildRecords {
    /// A child from their facts (and those of merged records): weighings for the KMS,
    /// vitamin A doses, breastfeeding screenings. `has_kms`: the person's `has_kms` value;
    /// when never recorded, a child weighed by `end` is taken to have a KMS.
    pub fn of(
        sex: Sex,
        birth: NaiveDate,
        has_kms: Option<bool>,
        end: NaiveDate,
        entries: &[Fact],
    ) -> Self {
        let live = facts::live_measurements(entries);
        let days = facts::days(&live);
        let weighings = facts::weighings(sex, birth, &days);
        let weighing_visits = live
            .iter()
            .filter(|m| m.kind == "weight")
            .map(|m| (m.date, m.visit.clone()))
            .collect();
        let mut vitamin_a = Vec::new();
        let mut breastfeeding = Vec::new();
        for e in entries.iter().filter(|e| e.is_live()) {
            let Some(date) = e.day() else {
                continue;
            };
            match e.kind {
                EntityKind::Supplement if e.text("supplement").is_some_and(is_vitamin_a) => {
                    vitamin_a.push(date);
                }
                EntityKind::Screening if e.text("instrument") == Some("breastfeeding") => {
                    if let Some(exclusive) = exclusive_breastfeeding(&e.body) {
                        breastfeeding.push(BreastfeedingRecord {
                            month: YearMonth::of(date),
                            exclusive,
                        });
                    }
                }
                _ => {}
            }
        }
        let has_kms = has_kms.unwrap_or_else(|| weighings.iter().any(|w| w.date <= end));
        Self {
            report: ReportChild {
                birth_date: birth,
                sex,
                has_kms,
                weighings,
                vitamin_a,
                breastfeeding,
            },
            weighing_visits,
        }
    }

    /// Keeps of this month's weighings only those made in one of `visits` (a posyandu
    /// day's SKDN); the earlier months stay for N/T/O/B.
    pub fn only_weighed_at(&mut self, month: YearMonth, visits: &HashSet<&str>) {
        let at_session: HashSet<NaiveDate> = self
            .weighing_visits
            .iter()
            .filter(|(d, v)| {
                YearMonth::of(*d) == month && v.as_deref().is_some_and(|v| visits.contains(v))
            })
            .map(|(d, _)| *d)
            .collect();
        self.report
            .weighings
            .retain(|w| YearMonth::of(w.date) != month || at_session.contains(&w.date));
    }

    /// Weighed (at any posyandu day or visit) in `month`.
    pub fn weighed_in(&self, month: YearMonth) -> bool {
        self.weighing_visits
            .iter()
            .any(|(d, _)| YearMonth::of(*d) == month)
    }
}

/// health-rules' monthly report of the children, with the KMS red line of 2010.
pub fn build_report(
    posyandu: &str,
    month: YearMonth,
    children: &[ReportChild],
    kbm: &KbmTable,
    options: &ReportOptions,
) -> Result<MonthlyReport, ReportError> {
    report::monthly_report_with(posyandu, month, children, kbm, RedLine::kms_2010(), options)
}

/// `report.problems` with the persons named: `persons[i]` is the (id, name) of the i-th
/// child given to [`build_report`].
pub fn named_problems(
    report: &MonthlyReport,
    persons: &[(RecordId, String)],
) -> Vec<ReportChildProblem> {
    report
        .problems
        .iter()
        .filter_map(|p| {
            let (id, name) = persons.get(p.index)?;
            Some(ReportChildProblem {
                person: *id,
                name: name.clone(),
                key: p.key.to_string(),
                params: p.params.clone(),
            })
        })
        .collect()
}

/// SKDN of the whole posyandu (all ages, both sexes) from its monthly report.
pub fn skdn(
    posyandu: &str,
    month: YearMonth,
    report: &MonthlyReport,
    persons: &[(RecordId, String)],
) -> Skdn {
    let counts = report.total();
    Skdn {
        posyandu: posyandu.to_string(),
        month,
        counts,
        ratios: counts.ratios(),
        problems: named_problems(report, persons),
    }
}

/// A pregnancy as the read tables hold it (`pregnancies`: person, hpht, status and the
/// `delivery_date` of its values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PregnancyRow {
    pub person: Option<String>,
    pub hpht: Option<NaiveDate>,
    pub status: Option<String>,
    pub delivery_date: Option<NaiveDate>,
}

impl PregnancyRow {
    /// Pregnant during the month `start..=end`: HPHT within [`PREGNANCY_MAX_DAYS`] before
    /// the month's end, no delivery before the month started; ended pregnancies left out.
    pub fn pregnant_in(&self, start: NaiveDate, end: NaiveDate) -> bool {
        let Some(hpht) = self.hpht else {
            return false;
        };
        let earliest = end - chrono::Days::new(PREGNANCY_MAX_DAYS);
        hpht <= end
            && hpht >= earliest
            && self.status.as_deref() != Some("ended")
            && self.delivery_date.is_none_or(|d| d >= start)
    }
}

impl MonthActivity {
    /// The month's activity from the posyandu's live facts dated in the month (kinds
    /// `posyandu_session`, `visit`, `immunisation`, `anc_contact`, `referral_event`,
    /// `measurement`; others are ignored) and its pregnancies. `births` and `deaths` are
    /// left for the caller (counts of person rows).
    pub fn of(
        facts: &[Fact],
        pregnancies: &[PregnancyRow],
        start: NaiveDate,
        end: NaiveDate,
        schedule: &Schedule,
    ) -> Self {
        let mut act = MonthActivity::default();
        let mut sessions = Vec::new();
        let mut low_muac: HashSet<&str> = HashSet::new();
        for f in facts {
            match f.kind {
                EntityKind::PosyanduSession => sessions.push(f.date.clone()),
                EntityKind::Visit => match f.text("type") {
                    Some("posyandu") => act.posyandu_visits += 1,
                    Some("home") => act.home_visits += 1,
                    _ => {}
                },
                EntityKind::Immunisation => {
                    match f.text("vaccine").and_then(|v| dose_id(schedule, v)) {
                        Some(id) => *act.immunisations.entry(id).or_default() += 1,
                        None => act.immunisations_unmatched += 1,
                    }
                }
                EntityKind::AncContact => act.anc_contacts += 1,
                EntityKind::ReferralEvent if f.text("status") == Some("made") => {
                    act.referrals_made += 1;
                }
                EntityKind::Measurement
                    if f.text("type") == Some("muac")
                        && f.body
                            .get("value")
                            .and_then(Value::as_f64)
                            .is_some_and(|v| v < health_rules::pregnancy::KEK_LILA_CM) =>
                {
                    if let Some(p) = f.person.as_deref() {
                        low_muac.insert(p);
                    }
                }
                _ => {}
            }
        }
        sessions.sort();
        sessions.dedup();
        act.sessions = sessions;
        for p in pregnancies.iter().filter(|p| p.pregnant_in(start, end)) {
            act.pregnant_women += 1;
            if p.person.as_deref().is_some_and(|p| low_muac.contains(p)) {
                act.pregnant_kek += 1;
            }
        }
        act
    }
}

/// What was given at a posyandu day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Given {
    pub immunisations: u32,
    /// Vitamin A (any capsule colour) is one service, counted once here.
    pub vitamin_a: u32,
    /// Supplements other than vitamin A, by kind (`pmt`, `ttd`, …).
    pub supplements: BTreeMap<String, u32>,
}

impl Given {
    /// One live `immunisation` or `supplement` fact of the day (others are ignored).
    pub fn add(&mut self, kind: EntityKind, body: &Body) {
        match kind {
            EntityKind::Immunisation => self.immunisations += 1,
            EntityKind::Supplement => {
                if let Some(s) = body.get("supplement").and_then(Value::as_str) {
                    if is_vitamin_a(s) {
                        self.vitamin_a += 1;
                    } else {
                        *self.supplements.entry(s.to_string()).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::{fact, rid};
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).expect("date")
    }

    fn body(v: Value) -> Body {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn presence_and_report_ages() {
        let end = d("2025-03-31");
        assert!(present_at("active", &Body::new(), end));
        assert!(present_at(
            "moved",
            &body(json!({"status_date": "2025-04-01"})),
            end
        ));
        assert!(!present_at(
            "moved",
            &body(json!({"status_date": "2025-03-31"})),
            end
        ));
        assert!(!present_at("died", &Body::new(), end));
        // Turns 60 months on 31 March: still counted for March (health-rules takes ages).
        assert!(in_report_month(d("2020-03-31"), end));
        assert!(!in_report_month(d("2020-02-29"), end));
        assert!(!in_report_month(d("2025-04-01"), end), "not born yet");
    }

    #[test]
    fn a_child_from_its_facts() {
        let mut weighed = fact(
            1,
            EntityKind::Measurement,
            "2025-03-10",
            json!({"type": "weight", "value": 8.1, "visit": "v1"}),
        );
        weighed.person = Some("c".into());
        let entries = vec![
            fact(
                2,
                EntityKind::Measurement,
                "2025-02-10",
                json!({"type": "weight", "value": 7.9, "visit": "v0"}),
            ),
            weighed,
            fact(
                3,
                EntityKind::Supplement,
                "2025-02-10",
                json!({"supplement": "vitamin_a_blue"}),
            ),
            fact(
                4,
                EntityKind::Supplement,
                "2025-02-10",
                json!({"supplement": "pmt"}),
            ),
            fact(
                5,
                EntityKind::Screening,
                "2025-03-10",
                json!({"instrument": "breastfeeding", "result": "Eksklusif"}),
            ),
        ];
        let end = d("2025-03-31");
        let mut c = ChildRecords::of(Sex::Male, d("2024-09-01"), None, end, &entries);
        assert!(c.report.has_kms, "weighed by the month's end");
        assert_eq!(c.report.weighings.len(), 2);
        assert_eq!(c.report.vitamin_a, vec![d("2025-02-10")]);
        assert_eq!(c.report.breastfeeding.len(), 1);
        assert!(c.report.breastfeeding[0].exclusive);
        assert!(c.weighed_in(YearMonth::of(end)));
        let march = YearMonth::of(end);
        let mut other_day = c.clone();
        other_day.only_weighed_at(march, &HashSet::from(["v9"]));
        assert_eq!(other_day.report.weighings.len(), 1, "February's stays");
        c.only_weighed_at(march, &HashSet::from(["v1"]));
        assert_eq!(c.report.weighings.len(), 2);
        let k = ChildRecords::of(Sex::Male, d("2024-09-01"), Some(false), end, &entries);
        assert!(!k.report.has_kms, "a recorded has_kms wins");
    }

    #[test]
    fn skdn_names_the_children_it_could_not_count() {
        let month = YearMonth::of(d("2025-03-01"));
        let end = d("2025-03-31");
        let ok = ChildRecords::of(
            Sex::Female,
            d("2024-06-01"),
            None,
            end,
            &[fact(
                1,
                EntityKind::Measurement,
                "2025-03-05",
                json!({"type": "weight", "value": 7.5}),
            )],
        );
        let bad = ChildRecords::of(
            Sex::Male,
            d("2024-06-01"),
            Some(true),
            end,
            &[fact(
                2,
                EntityKind::Measurement,
                "2025-03-05",
                json!({"type": "weight", "value": 0.0001}),
            )],
        );
        let table = health_rules::kms::kbm_table(health_rules::kms::DEFAULT_KBM_ID).expect("kbm");
        let children = [ok.report, bad.report];
        let r =
            build_report("P1", month, &children, table, &ReportOptions::default()).expect("report");
        let names = [(rid(10), "Ani".to_string()), (rid(11), "Budi".to_string())];
        let s = skdn("P1", month, &r, &names);
        assert_eq!(s.counts.s, 2);
        assert_eq!(s.counts.k, 2);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert_eq!(s.problems[0].name, "Budi");
        assert_eq!(s.counts.d, 1, "the bad weighing is left out of D");
    }

    #[test]
    fn month_activity_from_facts() {
        let schedule = Schedule::national_2024();
        let mut muac = fact(
            6,
            EntityKind::Measurement,
            "2025-03-05",
            json!({"type": "muac", "value": 22.0}),
        );
        muac.person = Some("w1".into());
        let facts = vec![
            fact(1, EntityKind::PosyanduSession, "2025-03-05", json!({})),
            fact(2, EntityKind::PosyanduSession, "2025-03-05", json!({})),
            fact(
                3,
                EntityKind::Visit,
                "2025-03-05",
                json!({"type": "posyandu"}),
            ),
            fact(4, EntityKind::Visit, "2025-03-06", json!({"type": "home"})),
            fact(
                5,
                EntityKind::Immunisation,
                "2025-03-05",
                json!({"vaccine": "BCG"}),
            ),
            fact(
                7,
                EntityKind::Immunisation,
                "2025-03-05",
                json!({"vaccine": "Polio"}),
            ),
            fact(
                8,
                EntityKind::ReferralEvent,
                "2025-03-05",
                json!({"status": "made"}),
            ),
            fact(
                9,
                EntityKind::ReferralEvent,
                "2025-03-07",
                json!({"status": "received"}),
            ),
            fact(10, EntityKind::AncContact, "2025-03-05", json!({})),
            muac,
        ];
        let preg = |person: &str, hpht: &str, delivery: Option<&str>| PregnancyRow {
            person: Some(person.into()),
            hpht: Some(d(hpht)),
            status: Some("ongoing".into()),
            delivery_date: delivery.map(d),
        };
        let pregnancies = [
            preg("w1", "2024-10-01", None),
            preg("w2", "2024-06-10", Some("2025-02-20")),
            preg("w3", "2024-08-01", None),
            preg("w4", "2024-05-01", None),
        ];
        let a = MonthActivity::of(
            &facts,
            &pregnancies,
            d("2025-03-01"),
            d("2025-03-31"),
            schedule,
        );
        assert_eq!(a.sessions, vec!["2025-03-05".to_string()]);
        assert_eq!((a.posyandu_visits, a.home_visits), (1, 1));
        assert_eq!(a.immunisations.get("BCG"), Some(&1));
        assert_eq!(a.immunisations_unmatched, 1);
        assert_eq!(a.referrals_made, 1);
        assert_eq!(a.anc_contacts, 1);
        assert_eq!(
            a.pregnant_women, 2,
            "delivered before the month: not counted"
        );
        assert_eq!(a.pregnant_kek, 1);
    }

    #[test]
    fn attendance_and_what_was_given() {
        let mut a = AttendanceCounts::default();
        a.add(Some(LifeStage::Balita), false);
        a.add(Some(LifeStage::Adult), true);
        a.add(None, false);
        assert_eq!((a.total, a.balita, a.adult, a.pregnant), (3, 1, 1, 1));
        let mut g = Given::default();
        g.add(EntityKind::Immunisation, &Body::new());
        g.add(
            EntityKind::Supplement,
            &body(json!({"supplement": "vitamin_a_red"})),
        );
        g.add(
            EntityKind::Supplement,
            &body(json!({"supplement": "vitamin_a_blue"})),
        );
        g.add(EntityKind::Supplement, &body(json!({"supplement": "ttd"})));
        assert_eq!((g.immunisations, g.vitamin_a), (1, 2));
        assert_eq!(g.supplements.get("ttd"), Some(&1));
    }
}

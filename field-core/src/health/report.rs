//! Reports from this tablet's records: SKDN and the monthly posyandu report (F1) of a
//! posyandu, its CSV, and the summary that closes a posyandu day.
//!
//! The children of a month are the persons of the posyandu born by the month's end who
//! were still there then: active, or moved/died after the month (`status_date`); merged
//! duplicates count once, with their records. health-rules takes the 0–59-month ones.
//! - **K** (has a KMS / Buku KIA): the person's `has_kms`; when it was never recorded, a
//!   child weighed by the month's end is taken to have one.
//! - **Vitamin A**: supplement facts `vitamin_a`, `vitamin_a_blue`, `vitamin_a_red`.
//! - **ASI eksklusif**: `breastfeeding` screenings whose answers say `"exclusive": true`
//!   (or whose result is `exclusive` / `eksklusif`), in the month of the screening.

use super::facts;
use super::with_rules::{PosyanduFacts, dose_id, kbm};
use crate::error::{Result, StoreError};
use crate::reads::{LifeStage, PERSON_COLS, PersonSummary};
use crate::store::Store;
use crate::validate::{age_months, parse_date};
use chrono::NaiveDate;
use health_rules::immunisation::Schedule;
use health_rules::kms::{RedLine, YearMonth};
use health_rules::report::{
    self, BreastfeedingRecord, Counts, MonthlyReport, Ratios, ReportChild, ReportOptions,
};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use sync_protocol::{EntityKind, RecordId};

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

/// The summary that closes a posyandu day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub session: RecordId,
    pub posyandu: String,
    pub date: String,
    /// The day's SKDN: S and K of the posyandu on the day; D, N, T, O, B, 2T and BGM of
    /// the children weighed at this session (their earlier months count for N/T/O/B).
    pub skdn: Counts,
    pub ratios: Ratios,
    pub attended: AttendanceCounts,
    pub immunisations: u32,
    pub vitamin_a: u32,
    /// Supplements other than vitamin A given, by kind (`pmt`, `ttd`, …).
    pub supplements: BTreeMap<String, u32>,
    pub referrals: u32,
    /// Under-fives of the posyandu not weighed this month yet (for home visits).
    pub not_yet_weighed: Vec<PersonSummary>,
    pub problems: Vec<ReportChildProblem>,
}

/// One person of the posyandu with what the report needs.
struct Child {
    person: PersonSummary,
    report: ReportChild,
    /// Live weighing facts with the visit they were recorded in: (date, visit).
    weighing_visits: Vec<(NaiveDate, Option<String>)>,
}

fn month_bounds(month: YearMonth) -> Result<(NaiveDate, NaiveDate)> {
    match (month.first_day(), month.last_day()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(crate::messages::invalid("month", crate::messages::Key::DateFormat, &[]).into()),
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn is_vitamin_a(s: &str) -> bool {
    matches!(s, "vitamin_a" | "vitamin_a_blue" | "vitamin_a_red")
}

/// Still of the posyandu at `end`: active, or moved/died after it.
fn present_at(p: &PersonSummary, end: NaiveDate) -> bool {
    if p.status == "active" {
        return true;
    }
    p.values
        .get("status_date")
        .and_then(Value::as_str)
        .and_then(parse_date)
        .is_some_and(|d| d > end)
}

fn exclusive_breastfeeding(body: &sync_protocol::Body) -> Option<bool> {
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

fn named_problems(report: &MonthlyReport, children: &[Child]) -> Vec<ReportChildProblem> {
    report
        .problems
        .iter()
        .filter_map(|p| {
            let c = children.get(p.index)?;
            Some(ReportChildProblem {
                person: c.person.id,
                name: c.person.name.clone(),
                key: p.key.to_string(),
                params: p.params.clone(),
            })
        })
        .collect()
}

impl Store {
    /// Persons of a posyandu born by `end`, not merged away, still there at `end`.
    fn report_persons(&self, posyandu: &str, end: NaiveDate) -> Result<Vec<PersonSummary>> {
        let today = self.today()?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS} FROM persons p
             WHERE p.posyandu = ?1 AND p.deleted = 0 AND p.birth_date <= ?2
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)
             ORDER BY p.birth_date DESC, p.name"
        ))?;
        let rows = stmt.query_map(params![posyandu, ymd(end)], |r| {
            PersonSummary::from_row(r, today)
        })?;
        let mut out = Vec::new();
        for row in rows {
            let p = row?;
            if present_at(&p, end) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The children of a posyandu for a month as health-rules' report wants them.
    fn report_children(&self, posyandu: &str, end: NaiveDate) -> Result<Vec<Child>> {
        let persons = self.report_persons(posyandu, end)?;
        let mut all: PosyanduFacts = self.posyandu_facts(posyandu)?;
        let mut out = Vec::with_capacity(persons.len());
        for person in persons {
            let Ok((sex, birth)) = facts::sex_and_birth(&person) else {
                continue;
            };
            if age_months(birth, end) >= 61 {
                continue;
            }
            let (entries, _) = all.take(&person.id.to_string());
            let live = facts::live_measurements(&entries);
            let days = facts::days(&live);
            let weighings = facts::weighings(sex, birth, &days);
            let weighing_visits = live
                .iter()
                .filter(|m| m.kind == "weight")
                .map(|m| (m.date, m.visit.clone()))
                .collect();
            let mut vitamin_a = Vec::new();
            let mut breastfeeding = Vec::new();
            for e in entries.iter().filter(|e| e.superseded_by.is_none()) {
                let Some(date) = parse_date(&e.date) else {
                    continue;
                };
                match e.kind {
                    EntityKind::Supplement
                        if e.body
                            .get("supplement")
                            .and_then(Value::as_str)
                            .is_some_and(is_vitamin_a) =>
                    {
                        vitamin_a.push(date);
                    }
                    EntityKind::Screening
                        if e.body.get("instrument").and_then(Value::as_str)
                            == Some("breastfeeding") =>
                    {
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
            let has_kms = match person.values.get("has_kms").and_then(Value::as_bool) {
                Some(h) => h,
                None => weighings.iter().any(|w| w.date <= end),
            };
            out.push(Child {
                person,
                report: ReportChild {
                    birth_date: birth,
                    sex,
                    has_kms,
                    weighings,
                    vitamin_a,
                    breastfeeding,
                },
                weighing_visits,
            });
        }
        Ok(out)
    }

    fn build_report(
        &self,
        posyandu: &str,
        month: YearMonth,
        children: &[Child],
        options: &ReportOptions,
    ) -> Result<MonthlyReport> {
        let list: Vec<ReportChild> = children.iter().map(|c| c.report.clone()).collect();
        report::monthly_report_with(
            posyandu,
            month,
            &list,
            kbm(&self.rules)?,
            RedLine::kms_2010(),
            options,
        )
        .map_err(|e| {
            StoreError::Invalid(crate::messages::invalid(
                "month",
                crate::messages::Key::DateFormat,
                &[("detail", e.to_string())],
            ))
        })
    }

    /// SKDN of a posyandu for a month (all under-fives, both sexes), from this tablet's
    /// records. See [`Store::monthly_report`] for who is counted.
    pub fn skdn(&self, posyandu: &str, month: YearMonth) -> Result<Skdn> {
        let (_, end) = month_bounds(month)?;
        let children = self.report_children(posyandu, end)?;
        let r = self.build_report(posyandu, month, &children, &ReportOptions::default())?;
        let counts = r.total();
        Ok(Skdn {
            posyandu: posyandu.to_string(),
            month,
            counts,
            ratios: counts.ratios(),
            problems: named_problems(&r, &children),
        })
    }

    /// The monthly posyandu report (SKDN / F1 by age band 0–5, 6–11, 12–23, 24–59 months and
    /// by sex, with 2T, BGM, vitamin A and ASI eksklusif; health-rules) and the month's
    /// activity (posyandu days, visits, doses by vaccine, pregnant women and KEK, ANC
    /// contacts, referrals, births, deaths). The age of a child not weighed this month is
    /// taken on the month's first posyandu day, else its last day.
    pub fn monthly_report(&self, posyandu: &str, month: YearMonth) -> Result<PosyanduReport> {
        let (start, end) = month_bounds(month)?;
        let children = self.report_children(posyandu, end)?;
        let activity = self.month_activity(posyandu, start, end)?;
        let options = ReportOptions {
            posyandu_day: activity.sessions.first().and_then(|d| parse_date(d)),
        };
        let report = self.build_report(posyandu, month, &children, &options)?;
        let problems = named_problems(&report, &children);
        Ok(PosyanduReport {
            report,
            activity,
            problems,
        })
    }

    /// [`Store::monthly_report`] as CSV (health-rules' F1 columns: posyandu, bulan,
    /// umur_bulan, jenis_kelamin, S, K, D, N, T, O, B, tidak_hadir, 2T, BGM, vitamin_A,
    /// ASI_eksklusif and the ratios in percent).
    pub fn monthly_report_csv(&self, posyandu: &str, month: YearMonth) -> Result<String> {
        Ok(report::to_csv(
            &self.monthly_report(posyandu, month)?.report,
        ))
    }

    fn month_activity(
        &self,
        posyandu: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<MonthActivity> {
        let (a, b) = (ymd(start), ymd(end));
        let mut act = MonthActivity::default();
        let live = "f.deleted = 0 AND NOT EXISTS (SELECT 1 FROM facts c
                     WHERE c.supersedes = f.id AND c.deleted = 0)";
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT f.kind, f.date, f.body_json, f.person FROM facts f
             WHERE f.posyandu = ?1 AND f.date BETWEEN ?2 AND ?3 AND {live}
               AND f.kind IN ('posyandu_session', 'visit', 'immunisation', 'anc_contact',
                              'referral_event', 'measurement')
             ORDER BY f.date"
        ))?;
        let mut rows = stmt.query(params![posyandu, a, b])?;
        let schedule = Schedule::national_2024();
        let mut sessions = Vec::new();
        let mut low_muac: HashSet<String> = HashSet::new();
        while let Some(r) = rows.next()? {
            let kind: String = r.get(0)?;
            let date: String = r.get(1)?;
            let body: Value = serde_json::from_str(&r.get::<_, String>(2)?)?;
            let person: Option<String> = r.get(3)?;
            let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
            match kind.as_str() {
                "posyandu_session" => sessions.push(date),
                "visit" => match field("type").as_deref() {
                    Some("posyandu") => act.posyandu_visits += 1,
                    Some("home") => act.home_visits += 1,
                    _ => {}
                },
                "immunisation" if super::td::copied_td(field("vaccine").as_deref()) => {}
                "immunisation" => match field("vaccine").and_then(|v| dose_id(schedule, &v)) {
                    Some(id) => *act.immunisations.entry(id).or_default() += 1,
                    None => act.immunisations_unmatched += 1,
                },
                "anc_contact" => act.anc_contacts += 1,
                "referral_event" if field("status").as_deref() == Some("made") => {
                    act.referrals_made += 1;
                }
                "measurement"
                    if field("type").as_deref() == Some("muac")
                        && body
                            .get("value")
                            .and_then(Value::as_f64)
                            .is_some_and(|v| v < health_rules::pregnancy::KEK_LILA_CM) =>
                {
                    if let Some(p) = person {
                        low_muac.insert(p);
                    }
                }
                _ => {}
            }
        }
        sessions.sort();
        sessions.dedup();
        act.sessions = sessions;
        // Pregnant during the month: HPHT within 300 days before the month's end and no
        // delivery before the month started; ended pregnancies are left out.
        let earliest_hpht = ymd(end - chrono::Days::new(300));
        let mut stmt = self.conn.prepare_cached(
            "SELECT person, json_extract(values_json, '$.delivery_date') FROM pregnancies
             WHERE posyandu = ?1 AND deleted = 0 AND hpht IS NOT NULL
               AND hpht <= ?2 AND hpht >= ?3 AND COALESCE(status, 'ongoing') != 'ended'",
        )?;
        let rows = stmt.query_map(params![posyandu, b, earliest_hpht], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })?;
        for row in rows {
            let (person, delivery) = row?;
            if delivery.is_some_and(|d| d < a) {
                continue;
            }
            act.pregnant_women += 1;
            if person.is_some_and(|p| low_muac.contains(&p)) {
                act.pregnant_kek += 1;
            }
        }
        act.births = self.conn.query_row(
            "SELECT count(*) FROM persons p WHERE p.posyandu = ?1 AND p.deleted = 0
               AND p.birth_date BETWEEN ?2 AND ?3
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)",
            params![posyandu, a, b],
            |r| r.get(0),
        )?;
        act.deaths = self.conn.query_row(
            "SELECT count(*) FROM persons p WHERE p.posyandu = ?1 AND p.deleted = 0
               AND p.status = 'died'
               AND json_extract(p.values_json, '$.status_date') BETWEEN ?2 AND ?3",
            params![posyandu, a, b],
            |r| r.get(0),
        )?;
        Ok(act)
    }

    /// The summary that closes a posyandu day: the day's SKDN (S and K of the posyandu,
    /// D/N/T/O/B/2T/BGM of the children weighed at the day's sessions, this tablet's and
    /// those of other tablets of the same posyandu and date), who came by life stage,
    /// doses, vitamin A and other supplements, referrals made, and the under-fives not
    /// weighed this month yet.
    pub fn session_summary(&self, session: RecordId) -> Result<SessionSummary> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT posyandu, date FROM facts
                 WHERE id = ?1 AND kind = 'posyandu_session' AND deleted = 0",
            )?
            .query_row([session.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((posyandu, date_s)) = row else {
            return Err(facts::not_a("session", "posyandu_session").into());
        };
        let date = parse_date(&date_s).ok_or_else(|| {
            StoreError::Corrupt(format!("posyandu session {session} date {date_s:?}"))
        })?;
        let month = YearMonth::of(date);
        let (_, end) = month_bounds(month)?;
        // The day's visits: of every session of this posyandu and date (two tablets serving
        // one posyandu day offline each open their own session; after a sync the day is one).
        let mut visits: Vec<(String, String)> = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.person FROM facts f WHERE f.kind = 'visit'
               AND f.session IN (SELECT s.id FROM facts s WHERE s.kind = 'posyandu_session'
                                   AND s.posyandu = ?1 AND s.date = ?2 AND s.deleted = 0)
               AND f.deleted = 0 AND f.person IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)",
        )?;
        let rows = stmt.query_map(params![posyandu, date_s], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            visits.push(row?);
        }
        let visit_ids: HashSet<&str> = visits.iter().map(|(v, _)| v.as_str()).collect();

        let mut children = self.report_children(&posyandu, end)?;
        // This month's weighings count only when made at this session.
        for c in &mut children {
            let at_session: HashSet<NaiveDate> = c
                .weighing_visits
                .iter()
                .filter(|(d, v)| {
                    YearMonth::of(*d) == month
                        && v.as_deref().is_some_and(|v| visit_ids.contains(v))
                })
                .map(|(d, _)| *d)
                .collect();
            c.report
                .weighings
                .retain(|w| YearMonth::of(w.date) != month || at_session.contains(&w.date));
        }
        let report = self.build_report(
            &posyandu,
            month,
            &children,
            &ReportOptions {
                posyandu_day: Some(date),
            },
        )?;
        let problems = named_problems(&report, &children);
        let skdn = report.total();

        // Who came.
        let mut attended = AttendanceCounts::default();
        let today = self.today()?;
        let mut pstmt = self.conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS},
                 EXISTS (SELECT 1 FROM pregnancies g WHERE g.person = p.id AND g.deleted = 0
                         AND g.status = 'ongoing')
             FROM persons p WHERE p.id = ?1"
        ))?;
        let mut seen: HashSet<&str> = HashSet::new();
        for (_, person) in &visits {
            if !seen.insert(person.as_str()) {
                continue;
            }
            let found = pstmt
                .query_row([person], |r| {
                    Ok((
                        PersonSummary::from_row(r, today)?,
                        r.get::<_, bool>(crate::reads::PERSON_NCOLS)?,
                    ))
                })
                .optional()?;
            let Some((p, pregnant)) = found else { continue };
            attended.total += 1;
            attended.pregnant += u32::from(pregnant);
            let stage = p
                .birth_date
                .as_deref()
                .and_then(parse_date)
                .map(|b| LifeStage::at(age_months(b, date)));
            match stage {
                Some(LifeStage::Balita) => attended.balita += 1,
                Some(LifeStage::SchoolAdolescent) => attended.school_adolescent += 1,
                Some(LifeStage::Adult) => attended.adult += 1,
                Some(LifeStage::Lansia) => attended.lansia += 1,
                None => {}
            }
        }

        // What was given.
        let mut immunisations = 0;
        let mut vitamin_a = 0;
        let mut supplements: BTreeMap<String, u32> = BTreeMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.kind, f.visit, f.body_json FROM facts f
             WHERE f.posyandu = ?1 AND f.date = ?2 AND f.deleted = 0
               AND f.kind IN ('immunisation', 'supplement') AND f.visit IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)",
        )?;
        let rows = stmt.query_map(params![posyandu, date_s], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, visit, body) = row?;
            if !visit_ids.contains(visit.as_str()) {
                continue;
            }
            if kind == "immunisation" {
                // A Td status copied from the Buku KIA or told is not a dose given today.
                let b: Value = serde_json::from_str(&body)?;
                if !super::td::copied_td(b.get("vaccine").and_then(Value::as_str)) {
                    immunisations += 1;
                }
                continue;
            }
            let body: Value = serde_json::from_str(&body)?;
            if let Some(s) = body.get("supplement").and_then(Value::as_str) {
                // Vitamin A (any capsule colour) is one service, counted once in
                // `vitamin_a`; the other supplements by kind.
                if is_vitamin_a(s) {
                    vitamin_a += 1;
                } else {
                    *supplements.entry(s.to_string()).or_default() += 1;
                }
            }
        }
        let mut referrals = 0;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT visit FROM referrals WHERE posyandu = ?1 AND deleted = 0")?;
        let rows = stmt.query_map([&posyandu], |r| r.get::<_, Option<String>>(0))?;
        for row in rows {
            if row?.is_some_and(|v| visit_ids.contains(v.as_str())) {
                referrals += 1;
            }
        }

        // Under-fives not weighed this month (any weighing this month, not only today's).
        let not_yet_weighed = children
            .into_iter()
            .filter(|c| {
                (0..60).contains(&age_months(c.report.birth_date, date))
                    && c.person.status == "active"
                    && !c
                        .weighing_visits
                        .iter()
                        .any(|(d, _)| YearMonth::of(*d) == month)
            })
            .map(|c| c.person)
            .collect();
        Ok(SessionSummary {
            session,
            posyandu,
            date: date_s,
            skdn,
            ratios: skdn.ratios(),
            attended,
            immunisations,
            vitamin_a,
            supplements,
            referrals,
            not_yet_weighed,
            problems,
        })
    }
}

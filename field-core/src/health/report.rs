//! Reports from this tablet's records: SKDN and the monthly posyandu report (F1) of a
//! posyandu, its CSV, and the summary that closes a posyandu day.
//!
//! The SQL half: which rows of the posyandu count (persons born by the month's end, not
//! merged away; the facts dated in the month; pregnancies). What the rows mean (who is
//! still there, K, vitamin A, ASI eksklusif, the month's activity, attendance by life
//! stage) is `records::report`'s, shared with the district server.

use super::facts;
use super::with_rules::kbm;
use crate::error::{Result, StoreError};
use crate::reads::{LifeStage, PERSON_COLS, PersonSummary};
use crate::store::Store;
use crate::validate::parse_date;
use chrono::NaiveDate;
use health_rules::immunisation::Schedule;
use health_rules::kms::YearMonth;
use health_rules::report::{self, Counts, MonthlyReport, Ratios, ReportChild, ReportOptions};
use records::facts::ymd;
use records::report::{
    ChildRecords, Given, MonthActivity, PosyanduReport, PregnancyRow, ReportChildProblem, Skdn,
    in_report_month, named_problems, present_at,
};
use records::{AttendanceCounts, Fact};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use sync_protocol::{EntityKind, RecordId};

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
    records: ChildRecords,
}

fn month_bounds(month: YearMonth) -> Result<(NaiveDate, NaiveDate)> {
    records::report::month_bounds(month).ok_or_else(|| {
        crate::messages::invalid("month", crate::messages::Key::DateFormat, &[]).into()
    })
}

/// The (id, name) of each child, in the order given to the report.
fn names(children: &[Child]) -> Vec<(RecordId, String)> {
    children
        .iter()
        .map(|c| (c.person.id, c.person.name.clone()))
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
            if present_at(&p.status, &p.values, end) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The children of a posyandu for a month as health-rules' report wants them.
    fn report_children(&self, posyandu: &str, end: NaiveDate) -> Result<Vec<Child>> {
        let persons = self.report_persons(posyandu, end)?;
        let mut all = self.posyandu_facts(posyandu)?;
        let mut out = Vec::with_capacity(persons.len());
        for person in persons {
            let Ok((sex, birth)) = facts::sex_and_birth(&person) else {
                continue;
            };
            if !in_report_month(birth, end) {
                continue;
            }
            let (entries, _) = all.take(&person.id.to_string());
            let has_kms = person.values.get("has_kms").and_then(Value::as_bool);
            let records = ChildRecords::of(sex, birth, has_kms, end, &entries);
            out.push(Child { person, records });
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
        let list: Vec<ReportChild> = children.iter().map(|c| c.records.report.clone()).collect();
        records::report::build_report(posyandu, month, &list, kbm(&self.rules)?, options).map_err(
            |e| {
                StoreError::Invalid(crate::messages::invalid(
                    "month",
                    crate::messages::Key::DateFormat,
                    &[("detail", e.to_string())],
                ))
            },
        )
    }

    /// SKDN of a posyandu for a month (all under-fives, both sexes), from this tablet's
    /// records. See [`Store::monthly_report`] for who is counted.
    pub fn skdn(&self, posyandu: &str, month: YearMonth) -> Result<Skdn> {
        let (_, end) = month_bounds(month)?;
        let children = self.report_children(posyandu, end)?;
        let r = self.build_report(posyandu, month, &children, &ReportOptions::default())?;
        Ok(records::report::skdn(
            posyandu,
            month,
            &r,
            &names(&children),
        ))
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
        let problems = named_problems(&report, &names(&children));
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
        let live = "f.deleted = 0 AND NOT EXISTS (SELECT 1 FROM facts c
                     WHERE c.supersedes = f.id AND c.deleted = 0)";
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT f.id, f.kind, f.date, f.body_json, f.person FROM facts f
             WHERE f.posyandu = ?1 AND f.date BETWEEN ?2 AND ?3 AND {live}
               AND f.kind IN ('posyandu_session', 'visit', 'immunisation', 'anc_contact',
                              'referral_event', 'measurement')
             ORDER BY f.date"
        ))?;
        let mut rows = stmt.query(params![posyandu, a, b])?;
        let mut month_facts = Vec::new();
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            month_facts.push(Fact {
                id: crate::reads::rid(&r.get::<_, String>(0)?)?,
                kind: serde_json::from_value(Value::String(kind))?,
                date: r.get(2)?,
                body: serde_json::from_str(&r.get::<_, String>(3)?)?,
                supersedes: None,
                superseded_by: None,
                person: r.get(4)?,
            });
        }
        // Pregnancies that may fall in the month (records decides: HPHT within 300 days
        // before the month's end, no delivery before it, not ended).
        let earliest_hpht = ymd(end - chrono::Days::new(records::report::PREGNANCY_MAX_DAYS));
        let mut stmt = self.conn.prepare_cached(
            "SELECT person, hpht, status, json_extract(values_json, '$.delivery_date')
             FROM pregnancies
             WHERE posyandu = ?1 AND deleted = 0 AND hpht IS NOT NULL
               AND hpht <= ?2 AND hpht >= ?3",
        )?;
        let rows = stmt.query_map(params![posyandu, b, earliest_hpht], |r| {
            Ok(PregnancyRow {
                person: r.get(0)?,
                hpht: r
                    .get::<_, Option<String>>(1)?
                    .as_deref()
                    .and_then(parse_date),
                status: r.get(2)?,
                delivery_date: r
                    .get::<_, Option<String>>(3)?
                    .as_deref()
                    .and_then(parse_date),
            })
        })?;
        let mut pregnancies = Vec::new();
        for row in rows {
            pregnancies.push(row?);
        }
        let mut act = MonthActivity::of(
            &month_facts,
            &pregnancies,
            start,
            end,
            Schedule::national_2024(),
        );
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
            c.records.only_weighed_at(month, &visit_ids);
        }
        let report = self.build_report(
            &posyandu,
            month,
            &children,
            &ReportOptions {
                posyandu_day: Some(date),
            },
        )?;
        let problems = named_problems(&report, &names(&children));
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
            let stage = p
                .birth_date
                .as_deref()
                .and_then(parse_date)
                .and_then(|b| LifeStage::of(b, date));
            attended.add(stage, pregnant);
        }

        // What was given.
        let mut given = Given::default();
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
            let kind: EntityKind = serde_json::from_value(Value::String(kind))?;
            given.add(kind, &serde_json::from_str(&body)?);
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
                records::is_under_five(c.records.report.birth_date, date)
                    && c.person.status == "active"
                    && !c.records.weighed_in(month)
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
            immunisations: given.immunisations,
            vitamin_a: given.vitamin_a,
            supplements: given.supplements,
            referrals,
            not_yet_weighed,
            problems,
        })
    }
}

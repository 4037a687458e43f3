//! The bridge to health-rules: growth results for the timeline, due tasks, and the answers
//! of the posyandu day, home visits and reports (issue #8):
//! - [`Store::growth_chart`](crate::Store::growth_chart) (`health/chart.rs`): WHO curves,
//!   the child's points, the latest KMS result and categories in words, the next action;
//! - [`Store::immunisation_card`](crate::Store::immunisation_card) (`health/card.rs`):
//!   every dose with its state;
//! - [`Store::assess_measurement`](crate::Store::assess_measurement) (`health/check.rs`):
//!   "are you sure?" and the result in words before saving;
//! - [`Store::skdn`](crate::Store::skdn), [`Store::monthly_report`](crate::Store::monthly_report),
//!   `monthly_report_csv`, [`Store::session_summary`](crate::Store::session_summary)
//!   (`health/report.rs`);
//! - [`Store::due_list`](crate::Store::due_list) (`health/due.rs`): tasks by dusun, RT and
//!   kind, with the form that does them.
//!
//! Behind the default feature `health`; without it the timeline has no growth results and
//! these calls and [`Store::due_tasks`](crate::Store::due_tasks) are absent.

use crate::reads::PersonSummary;
use serde::Serialize;

#[cfg(feature = "health")]
mod card;
#[cfg(feature = "health")]
mod chart;
#[cfg(feature = "health")]
mod check;
#[cfg(feature = "health")]
mod due;
#[cfg(feature = "health")]
mod facts;
#[cfg(feature = "health")]
mod pregnancy;
#[cfg(feature = "health")]
mod report;
#[cfg(feature = "health")]
mod td;

#[cfg(feature = "health")]
pub use card::{CardDose, CardRecord, CardStatus, ImmunisationCard};
#[cfg(feature = "health")]
pub use chart::{ChartPoint, GrowthChart, IndicatorChart, LatestGrowth};
#[cfg(feature = "health")]
pub use due::{DueEntry, DueFilter, DueForm, DueGroup};
#[cfg(feature = "health")]
pub use facts::HealthProblem;
#[cfg(feature = "health")]
pub use pregnancy::{Dated, PregnancyView};
#[cfg(feature = "health")]
pub use report::{
    AttendanceCounts, MonthActivity, PosyanduReport, ReportChildProblem, SessionSummary, Skdn,
};
#[cfg(feature = "health")]
pub use td::{TdFact, TdView};

/// Which versioned rule tables to use (district settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleOptions {
    /// KBM table id (minimum weight gain), e.g. `kbm-buku-kia-v1`.
    pub kbm_table: String,
    /// ANC schedule id, e.g. `anc-1-2-3-permenkes-21-2021-v1` (the default).
    pub anc_schedule: String,
    /// The district gives JE.
    pub je_area: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        Self {
            kbm_table: "kbm-buku-kia-v1".into(),
            anc_schedule: health_rules::pregnancy::DEFAULT_ANC_ID.into(),
            je_area: false,
        }
    }
}

/// Today's tasks for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonTasks {
    pub person: PersonSummary,
    /// `health_rules::tasks::Task` as JSON: kind, priority, due, reason (key, id, en), params.
    pub tasks: Vec<serde_json::Value>,
    /// Records set aside because health-rules could not use them
    /// (`health_rules::tasks::DataProblem` as JSON: key, label, message); each also has a
    /// "check the data" task. The other tasks were planned without them.
    pub problems: Vec<serde_json::Value>,
}

#[cfg(not(feature = "health"))]
pub(crate) fn growth_points(
    _person: &PersonSummary,
    _entries: &[crate::reads::TimelineEntry],
    _opts: &RuleOptions,
) -> Vec<crate::reads::GrowthPoint> {
    Vec::new()
}

#[cfg(feature = "health")]
pub(crate) use with_rules::growth_points;

#[cfg(feature = "health")]
mod with_rules {
    use super::{PersonTasks, RuleOptions, facts};
    use crate::error::{Result, StoreError};
    use crate::reads::{GrowthPoint, PersonSummary, RosterEntry, TimelineEntry};
    use crate::store::Store;
    use crate::validate::{age_months, parse_date};
    use health_rules::Sex;
    use health_rules::growth::{self, Measurement};
    use health_rules::immunisation::{AreaOptions, GivenDose, Schedule};
    use health_rules::kms::{self, KbmTable, MonthResult, RedLine};
    use health_rules::tasks::{self, DueTasks, PersonHistory, PregnancyEpisode, TaskContext};
    use serde_json::Value;
    use std::collections::HashMap;
    use sync_protocol::{Body, EntityKind};

    pub(super) fn sex(s: Option<&str>) -> Option<Sex> {
        match s {
            Some("male") => Some(Sex::Male),
            Some("female") => Some(Sex::Female),
            _ => None,
        }
    }

    pub(super) fn kbm(opts: &RuleOptions) -> Result<&'static KbmTable> {
        kms::kbm_table(&opts.kbm_table)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown KBM table {}", opts.kbm_table)))
    }

    /// Growth results per measurement day, for persons under 229 months (WHO tables' end).
    pub(crate) fn growth_points(
        person: &PersonSummary,
        entries: &[TimelineEntry],
        opts: &RuleOptions,
    ) -> Vec<GrowthPoint> {
        let (Some(sex), Some(birth)) = (
            sex(person.sex.as_deref()),
            person.birth_date.as_deref().and_then(parse_date),
        ) else {
            return Vec::new();
        };
        let days: Vec<facts::Day> = facts::days(&facts::live_measurements(entries))
            .into_iter()
            .filter(|d| (0..229).contains(&age_months(birth, d.date)))
            .collect();
        let mut points = Vec::with_capacity(days.len());
        for day in &days {
            let m = Measurement {
                sex,
                birth_date: birth,
                measure_date: day.date,
                measures: day.measures.clone(),
            };
            // Kept as JSON: the shape of health-rules' results is still moving.
            let (assessment, error_key) = match growth::assess(&m) {
                Ok(a) => (serde_json::to_value(&a).ok(), None),
                Err(e) => (None, Some(e.key().to_string())),
            };
            points.push(GrowthPoint {
                date: day.date.format("%Y-%m-%d").to_string(),
                age_months: age_months(birth, day.date),
                weight_kg: day.measures.weight_kg,
                length_height_cm: day.measures.length_height_cm,
                assessment,
                kms: None,
                error_key,
            });
        }
        if let Ok(table) = kbm(opts)
            && let Ok(results) = kms_results(sex, birth, &days, table)
        {
            for r in results {
                let d = r.date.format("%Y-%m-%d").to_string();
                if let Some(p) = points.iter_mut().find(|p| p.date == d) {
                    p.kms = serde_json::to_value(&r).ok();
                }
            }
        }
        points
    }

    /// The KMS results [`growth_points`] attaches to its points, in their order, without the
    /// WHO assessment of every day and the JSON it is kept in: all the due tasks need.
    fn growth_kms(
        sex: Sex,
        birth: chrono::NaiveDate,
        entries: &[TimelineEntry],
        opts: &RuleOptions,
    ) -> Vec<MonthResult> {
        let days: Vec<facts::Day> = facts::days(&facts::live_measurements(entries))
            .into_iter()
            .filter(|d| (0..229).contains(&age_months(birth, d.date)))
            .collect();
        let Ok(table) = kbm(opts) else {
            return Vec::new();
        };
        let Ok(results) = kms_results(sex, birth, &days, table) else {
            return Vec::new();
        };
        // As in growth_points: each result goes to the first day of its date, a later one
        // of the same date replacing it.
        let mut by_day: Vec<Option<MonthResult>> = vec![None; days.len()];
        for r in results {
            if let Some(i) = days.iter().position(|d| d.date == r.date) {
                by_day[i] = Some(r);
            }
        }
        by_day.into_iter().flatten().collect()
    }

    /// The KMS result of every month with a weighing below 60 months, oldest first.
    pub(super) fn kms_results(
        sex: Sex,
        birth: chrono::NaiveDate,
        days: &[facts::Day],
        table: &KbmTable,
    ) -> std::result::Result<Vec<MonthResult>, kms::KmsError> {
        let weighings = facts::weighings(sex, birth, days);
        if weighings.is_empty() {
            return Ok(Vec::new());
        }
        kms::assess(birth, &weighings, table, RedLine::kms_2010())
    }

    /// Maps a recorded vaccine name (`DPT-HB-Hib 4`, `MR1`, `Polio tetes (OPV) 1`) to a dose id
    /// ([`Schedule::dose_for_record`]).
    pub(super) fn dose_id(schedule: &Schedule, vaccine: &str) -> Option<String> {
        schedule.dose_for_record(vaccine).map(|d| d.id.clone())
    }

    /// The facts and pregnancies of a posyandu's persons, read once, handed out per person
    /// with the records merged into them.
    pub(super) struct PosyanduFacts {
        facts: HashMap<String, Vec<TimelineEntry>>,
        merges: HashMap<String, Vec<String>>,
        pregnancies: HashMap<String, Vec<Body>>,
    }

    impl PosyanduFacts {
        /// The facts (oldest first) and pregnancies of a person and of every record merged
        /// into them, through chains. Each person's facts are handed out once.
        pub(super) fn take(&mut self, person: &str) -> (Vec<TimelineEntry>, Vec<Body>) {
            let mut ids = vec![person.to_string()];
            let mut i = 0;
            while i < ids.len() {
                for m in self.merges.get(&ids[i]).into_iter().flatten() {
                    if !ids.contains(m) {
                        ids.push(m.clone());
                    }
                }
                i += 1;
            }
            let mut entries: Vec<TimelineEntry> = Vec::new();
            let mut pregs: Vec<Body> = Vec::new();
            for id in &ids {
                entries.extend(self.facts.remove(id).unwrap_or_default());
                pregs.extend(self.pregnancies.remove(id).unwrap_or_default());
            }
            entries.sort_by(|a, b| a.date.cmp(&b.date));
            (entries, pregs)
        }
    }

    impl Store {
        /// Today's due tasks in the logged-in user's area (every posyandu of their scope).
        pub fn due_tasks_in_scope(&self, opts: &RuleOptions) -> Result<Vec<PersonTasks>> {
            let mut out = Vec::new();
            for p in self.posyandu_in_scope()? {
                out.extend(self.due_tasks(&p, opts)?);
            }
            Ok(out)
        }

        /// Today's due tasks for every active person of a posyandu (the user's area), computed by
        /// health-rules from what this tablet holds. Persons with neither task nor data problem
        /// are left out. The posyandu's facts are read in one query; a person whose records
        /// health-rules cannot use gets `problems` (and "check the data" tasks), and the list
        /// goes on.
        pub fn due_tasks(&self, posyandu: &str, opts: &RuleOptions) -> Result<Vec<PersonTasks>> {
            let mut out = Vec::new();
            for (entry, due) in self.due_for_posyandu(posyandu, opts)? {
                out.push(PersonTasks {
                    person: entry.person,
                    tasks: due
                        .tasks
                        .iter()
                        .filter_map(|t| serde_json::to_value(t).ok())
                        .collect(),
                    problems: due
                        .problems
                        .iter()
                        .filter_map(|t| serde_json::to_value(t).ok())
                        .collect(),
                });
            }
            Ok(out)
        }

        /// The typed tasks behind [`Store::due_tasks`]: every roster person of the posyandu
        /// with at least one task or problem.
        pub(super) fn due_for_posyandu(
            &self,
            posyandu: &str,
            opts: &RuleOptions,
        ) -> Result<Vec<(RosterEntry, DueTasks)>> {
            let today = self.today()?;
            let schedule = Schedule::national_2024();
            let anc =
                health_rules::pregnancy::anc_schedule(&opts.anc_schedule).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown ANC schedule {}", opts.anc_schedule))
                })?;
            let ctx = TaskContext::new(
                today,
                schedule,
                anc,
                AreaOptions {
                    je_area: opts.je_area,
                },
            );
            let roster = self.roster(posyandu, &today.format("%Y-%m-%d").to_string())?;
            let mut all = self.posyandu_facts(posyandu)?;
            let registered = self.registration_days(posyandu)?;
            let mut out = Vec::new();
            for entry in roster {
                let p = &entry.person;
                let (Some(sx), Some(birth)) = (
                    sex(p.sex.as_deref()),
                    p.birth_date.as_deref().and_then(parse_date),
                ) else {
                    continue;
                };
                let (entries, pregs) = all.take(&p.id.to_string());
                let kms = growth_kms(sx, birth, &entries, opts);
                let mut h = history(birth, sx, kms, &entries, &pregs, schedule);
                h.registered_on = registered.get(&p.id.to_string()).copied();
                let due = tasks::due_tasks_and_problems(&h, &ctx);
                if !due.tasks.is_empty() || !due.problems.is_empty() {
                    out.push((entry, due));
                }
            }
            Ok(out)
        }

        /// The local day each person of the posyandu was first written (the earliest stamp of
        /// its fields), so that a person registered today is not "missed the posyandu".
        pub(super) fn registration_days(
            &self,
            posyandu: &str,
        ) -> Result<HashMap<String, chrono::NaiveDate>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT p.id, MIN(e.hlc) FROM persons p JOIN field_edits e ON e.record_id = p.id
                  WHERE p.posyandu = ?1 GROUP BY p.id",
            )?;
            let mut rows = stmt.query([posyandu])?;
            let mut out = HashMap::new();
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let hlc: Option<String> = r.get(1)?;
                if let Some(stamp) = hlc.and_then(|h| h.parse::<sync_protocol::Hlc>().ok()) {
                    out.insert(
                        id,
                        crate::clock::local_date_at(stamp.wall_ms, self.utc_offset_ms),
                    );
                }
            }
            Ok(out)
        }

        /// [`Store::posyandu_histories`] ready to hand out per person.
        pub(super) fn posyandu_facts(&self, posyandu: &str) -> Result<PosyanduFacts> {
            let (facts, merges, pregnancies) = self.posyandu_histories(posyandu)?;
            Ok(PosyanduFacts {
                facts,
                merges,
                pregnancies,
            })
        }

        /// The facts health-rules uses for every person of a posyandu (and the records merged
        /// into them), grouped by person; the merges (kept → merged); the live pregnancies per
        /// person (with their `id`). Three queries for the whole posyandu.
        #[allow(clippy::type_complexity)]
        pub(super) fn posyandu_histories(
            &self,
            posyandu: &str,
        ) -> Result<(
            HashMap<String, Vec<TimelineEntry>>,
            HashMap<String, Vec<String>>,
            HashMap<String, Vec<Body>>,
        )> {
            let people = "SELECT id FROM persons WHERE posyandu = ?1
                 UNION SELECT m.subject FROM facts m WHERE m.kind = 'person_merge'
                   AND m.deleted = 0 AND m.posyandu = ?1 AND m.subject IS NOT NULL";
            let mut facts: HashMap<String, Vec<TimelineEntry>> = HashMap::new();
            {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person,
                         (SELECT c.id FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0
                          LIMIT 1)
                     FROM facts f WHERE f.person IN ({people}) AND f.deleted = 0
                       AND f.kind IN ('measurement', 'immunisation', 'visit', 'anc_contact',
                                      'supplement', 'screening')"
                ))?;
                let mut rows = stmt.query([posyandu])?;
                while let Some(r) = rows.next()? {
                    let person: Option<String> = r.get(5)?;
                    let Some(person) = person else { continue };
                    let id: String = r.get(0)?;
                    let kind: String = r.get(1)?;
                    let body: String = r.get(3)?;
                    let sup: Option<String> = r.get(4)?;
                    let sup_by: Option<String> = r.get(6)?;
                    let parse = |s: &str| {
                        s.parse()
                            .map_err(|_| StoreError::Corrupt(format!("record id {s:?}")))
                    };
                    facts
                        .entry(person.clone())
                        .or_default()
                        .push(TimelineEntry {
                            id: parse(&id)?,
                            kind: serde_json::from_value(Value::String(kind))?,
                            date: r.get(2)?,
                            body: serde_json::from_str(&body)?,
                            supersedes: sup.as_deref().map(parse).transpose()?,
                            superseded_by: sup_by.as_deref().map(parse).transpose()?,
                            person: Some(person),
                        });
                }
            }
            let mut merges: HashMap<String, Vec<String>> = HashMap::new();
            {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT person, subject FROM facts WHERE kind = 'person_merge' AND deleted = 0
                       AND person IS NOT NULL AND subject IS NOT NULL",
                )?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    merges.entry(r.get(0)?).or_default().push(r.get(1)?);
                }
            }
            let mut pregnancies: HashMap<String, Vec<Body>> = HashMap::new();
            {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT person, id, values_json FROM pregnancies
                     WHERE person IN ({people}) AND deleted = 0"
                ))?;
                let mut rows = stmt.query([posyandu])?;
                while let Some(r) = rows.next()? {
                    let person: String = r.get(0)?;
                    let id: String = r.get(1)?;
                    let json: String = r.get(2)?;
                    let mut body: Body = serde_json::from_str(&json)?;
                    body.insert("id".into(), Value::String(id));
                    pregnancies.entry(person).or_default().push(body);
                }
            }
            Ok((facts, merges, pregnancies))
        }
    }

    /// What health-rules needs to know of one person, from their facts and pregnancies.
    ///
    /// The schema has no visit type for KN/KF yet: any visit (posyandu or home) of a baby in
    /// its first 28 days counts as a newborn visit, and any visit of a woman in the 42 days
    /// after her delivery as a postpartum visit. The danger signs of a pregnancy are those
    /// of its latest `danger_signs` screening (answers named like
    /// `health_rules::pregnancy::DangerSign`, e.g. `{"bleeding": true}`) when no ANC contact
    /// came after it. `kms`: the person's KMS results (`growth_kms`).
    pub(super) fn history(
        birth: chrono::NaiveDate,
        sx: Sex,
        kms: Vec<MonthResult>,
        entries: &[TimelineEntry],
        pregnancies: &[Body],
        schedule: &Schedule,
    ) -> PersonHistory {
        let mut h = PersonHistory {
            birth_date: birth,
            sex: sx,
            kms,
            immunisations: Vec::new(),
            pregnancy: None,
            delivery_date: None,
            newborn_visits: Vec::new(),
            postpartum_visits: Vec::new(),
            tb: None,
            last_posyandu: None,
            registered_on: None,
        };
        let mut visits = Vec::new();
        let mut danger_screenings: Vec<(chrono::NaiveDate, &Body)> = Vec::new();
        for e in entries {
            if e.superseded_by.is_some() {
                continue;
            }
            let Some(date) = parse_date(&e.date) else {
                continue;
            };
            if e.kind == EntityKind::Visit {
                visits.push(date);
            }
            if e.kind == EntityKind::Screening
                && e.body.get("instrument").and_then(Value::as_str) == Some("danger_signs")
                && let Some(Value::Object(answers)) = e.body.get("answers")
            {
                danger_screenings.push((date, answers));
            }
            match e.kind {
                EntityKind::Immunisation => {
                    if let Some(id) = e
                        .body
                        .get("vaccine")
                        .and_then(Value::as_str)
                        .and_then(|v| dose_id(schedule, v))
                    {
                        h.immunisations.push(GivenDose { dose_id: id, date });
                    }
                }
                EntityKind::Visit
                    if e.body.get("type").and_then(Value::as_str) == Some("posyandu") =>
                {
                    h.last_posyandu = h.last_posyandu.max(Some(date));
                }
                _ => {}
            }
        }
        for preg in pregnancies {
            let status = preg.get("status").and_then(Value::as_str);
            let pid = preg.get("id").and_then(Value::as_str).unwrap_or_default();
            if status == Some("ongoing")
                && let Some(hpht) = preg
                    .get("hpht")
                    .and_then(Value::as_str)
                    .and_then(parse_date)
            {
                let anc_contacts: Vec<chrono::NaiveDate> = entries
                    .iter()
                    .filter(|e| {
                        e.kind == EntityKind::AncContact
                            && e.superseded_by.is_none()
                            && e.body.get("pregnancy").and_then(Value::as_str) == Some(pid)
                    })
                    .filter_map(|e| parse_date(&e.date))
                    .collect();
                let last_contact = anc_contacts.iter().max().copied();
                let open_danger_signs = danger_screenings
                    .iter()
                    .filter(|(d, _)| *d >= hpht && last_contact.is_none_or(|c| c <= *d))
                    .max_by_key(|(d, _)| *d)
                    .map(|(_, answers)| danger_signs(answers))
                    .unwrap_or_default();
                h.pregnancy = Some(PregnancyEpisode {
                    hpht,
                    anc_contacts,
                    open_danger_signs,
                });
            }
            if let Some(d) = preg
                .get("delivery_date")
                .and_then(Value::as_str)
                .and_then(parse_date)
            {
                h.delivery_date = h.delivery_date.max(Some(d));
            }
        }
        let within = |from: chrono::NaiveDate, days: u64, d: &chrono::NaiveDate| {
            *d >= from
                && from
                    .checked_add_days(chrono::Days::new(days))
                    .is_some_and(|end| *d <= end)
        };
        h.newborn_visits = visits
            .iter()
            .filter(|d| within(birth, 28, d))
            .copied()
            .collect();
        if let Some(delivery) = h.delivery_date {
            h.postpartum_visits = visits
                .iter()
                .filter(|d| within(delivery, 42, d))
                .copied()
                .collect();
        }
        h
    }

    /// The danger signs ticked in a `danger_signs` screening's answers.
    pub(super) fn danger_signs(
        answers: &serde_json::Map<String, Value>,
    ) -> Vec<health_rules::pregnancy::DangerSign> {
        let mut out: Vec<health_rules::pregnancy::DangerSign> = answers
            .iter()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .filter_map(|(k, _)| serde_json::from_value(Value::String(k.clone())).ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

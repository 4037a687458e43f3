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
mod due_read;
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
pub use due::{DueEntry, DueFilter};
#[cfg(feature = "health")]
pub use pregnancy::{Dated, PregnancyView};
/// Moved to the pure `records` crate (shared with the district server); re-exported under
/// their old names.
pub use records::{
    AttendanceCounts, DueForm, DueGroup, DueTask, HealthProblem, MonthActivity, PosyanduReport,
    ReportChildProblem, RuleOptions, Skdn,
};
#[cfg(feature = "health")]
pub use report::SessionSummary;
#[cfg(feature = "health")]
pub use td::{TdFact, TdView};

/// Today's tasks for one person, typed to the boundary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonTasks {
    pub person: PersonSummary,
    /// health-rules' tasks (kind, priority, due, reason, params) with the form that does
    /// them (`records::DueTask`, serialised flat), most pressing first.
    pub tasks: Vec<DueTask>,
    /// Records set aside because health-rules could not use them (key, label, params);
    /// each also has a "check the data" task. The other tasks were planned without them.
    pub problems: Vec<health_rules::tasks::DataProblem>,
}

impl PersonTasks {
    /// The most pressing priority of the person's tasks (`None` without tasks).
    pub fn top_priority(&self) -> Option<health_rules::tasks::Priority> {
        self.tasks.iter().map(DueTask::priority).min()
    }
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
    use super::{PersonTasks, RuleOptions};
    use crate::error::{Result, StoreError};
    use crate::reads::{GrowthPoint, PersonSummary, RosterEntry, TimelineEntry};
    use crate::store::Store;
    use crate::validate::parse_date;
    use chrono::Datelike;
    use health_rules::kms::KbmTable;
    use health_rules::tasks::{DueTasks, TaskContext};
    use records::PersonFacts;
    use records::facts::sex;
    use serde_json::Value;
    use std::collections::{HashMap, HashSet};
    use sync_protocol::Body;

    /// The KBM table of the settings, or the store's error.
    pub(super) fn kbm(opts: &RuleOptions) -> Result<&'static KbmTable> {
        opts.kbm().map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Growth results per measurement day, for persons under 229 months (WHO tables' end):
    /// `records::growth::growth_points` for the person's sex and birth date.
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
        records::growth::growth_points(sex, birth, entries, opts.kbm().ok())
    }

    /// What every posyandu of a due list shares: today, the task context, the stamp before
    /// which the registration day does not matter, and the merges (kept → merged).
    pub(crate) struct DueDay {
        today: String,
        date: chrono::NaiveDate,
        ctx: TaskContext<'static>,
        since: String,
        merges: HashMap<String, Vec<String>>,
        /// The persons merged into another (the subjects of live merges): not on a roster.
        merged: HashSet<String>,
        /// Every live pregnancy of the store: person → (id, values), in the order written;
        /// read once a list instead of once a posyandu (decoded for the persons planned).
        pregnancies: HashMap<String, Vec<(String, String)>>,
        /// Every corrected fact → its live correction (the first written): read once a list
        /// instead of looked up for every fact read.
        corrected: HashMap<String, String>,
    }

    /// One person of a due list with their plan (tasks or data problems, at least one of
    /// them).
    pub(crate) struct PersonDue {
        pub person: crate::reads::PersonSummary,
        pub due: DueTasks,
    }

    impl PersonDue {
        fn typed(self) -> PersonTasks {
            let typed = records::TypedDue::of(self.due, false);
            PersonTasks {
                person: self.person,
                tasks: typed.tasks,
                problems: typed.problems,
            }
        }
    }

    impl Store {
        /// Today's due tasks in the logged-in user's area (every posyandu of their scope),
        /// posyandu by posyandu, each in roster order (youngest first). See
        /// [`Store::for_each_due_in_scope`] to handle them without holding them all.
        pub fn due_tasks_in_scope(&self, opts: &RuleOptions) -> Result<Vec<PersonTasks>> {
            let mut out = Vec::new();
            self.for_each_due_in_scope(opts, |t| {
                out.push(t);
                Ok(())
            })?;
            Ok(out)
        }

        /// [`Store::due_tasks_in_scope`] handed to `f` one person at a time, in the same
        /// order: only one posyandu's plans are held at once (a whole kecamatan's answer is
        /// tens of MiB).
        pub fn for_each_due_in_scope(
            &self,
            opts: &RuleOptions,
            mut f: impl FnMut(PersonTasks) -> Result<()>,
        ) -> Result<()> {
            let day = self.due_day(opts)?;
            for p in self.posyandu_in_scope()? {
                for d in self.due_for_posyandu_on(&p, opts, &day)? {
                    f(d.typed())?;
                }
            }
            Ok(())
        }

        /// [`Store::due_tasks_in_scope`] computed the way it was before the due list read
        /// only what it uses (the day's roster, every fact whole): kept to check that both
        /// give the same answer (tests, the store bench). Not for the app.
        #[doc(hidden)]
        pub fn due_tasks_in_scope_reference(&self, opts: &RuleOptions) -> Result<Vec<PersonTasks>> {
            let day = self.due_day(opts)?;
            let mut out = Vec::new();
            for p in self.posyandu_in_scope()? {
                for (entry, due) in self.reference_due_for_posyandu(&p, opts, &day)? {
                    out.push(
                        PersonDue {
                            person: entry.person,
                            due,
                        }
                        .typed(),
                    );
                }
            }
            Ok(out)
        }

        /// Today's due tasks for every active person of a posyandu (the user's area), computed by
        /// health-rules from what this tablet holds. Persons with neither task nor data problem
        /// are left out. The posyandu's facts are read in one query; a person whose records
        /// health-rules cannot use gets `problems` (and "check the data" tasks), and the list
        /// goes on.
        pub fn due_tasks(&self, posyandu: &str, opts: &RuleOptions) -> Result<Vec<PersonTasks>> {
            let day = self.due_day(opts)?;
            Ok(self
                .due_for_posyandu_on(posyandu, opts, &day)?
                .into_iter()
                .map(PersonDue::typed)
                .collect())
        }

        /// Today, its task context, the stamp before which a person's first edit no
        /// longer matters, and the merges: computed once for every posyandu of a list.
        pub(super) fn due_day(&self, opts: &RuleOptions) -> Result<DueDay> {
            let today = self.today()?;
            let ctx = records::tasks::task_context(today, opts)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // health-rules uses the registration day only to spare a person registered this
            // month or last month the "missed the posyandu" task; a person whose newest edit
            // is older than that (a day's margin for the zone) was registered earlier still,
            // which counts as not knowing the day.
            let last_month = today
                .with_day(1)
                .and_then(|d| d.pred_opt())
                .and_then(|d| d.with_day(1))
                .unwrap_or(today);
            let from_ms = last_month
                .and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis())
                - self.utc_offset_ms
                - 86_400_000;
            let since = sync_protocol::Hlc {
                wall_ms: u64::try_from(from_ms).unwrap_or(0),
                counter: 0,
            }
            .to_string();
            Ok(DueDay {
                today: records::facts::ymd(today),
                date: today,
                ctx,
                since,
                merges: self.person_merges()?,
                merged: self.merged_persons()?,
                pregnancies: self.all_pregnancies()?,
                corrected: self.corrections()?,
            })
        }

        /// Every fact with a live correction → that correction's id; of several, the first in
        /// the corrections index's order (`supersedes`, then rowid), the one a
        /// `(SELECT c.id … WHERE c.supersedes = f.id AND c.deleted = 0 LIMIT 1)` finds.
        fn corrections(&self) -> Result<HashMap<String, String>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT supersedes, id FROM facts
                  WHERE supersedes IS NOT NULL AND deleted = 0 ORDER BY supersedes, rowid",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = HashMap::new();
            while let Some(r) = rows.next()? {
                out.entry(r.get(0)?).or_insert(r.get(1)?);
            }
            Ok(out)
        }

        /// Every live pregnancy: person → (id, values JSON), in rowid order (a person's in the
        /// order [`Store::posyandu_pregnancies`] gives them).
        fn all_pregnancies(&self) -> Result<HashMap<String, Vec<(String, String)>>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT person, id, values_json FROM pregnancies
                  WHERE deleted = 0 AND person IS NOT NULL ORDER BY rowid",
            )?;
            let mut rows = stmt.query([])?;
            let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
            while let Some(r) = rows.next()? {
                out.entry(r.get(0)?)
                    .or_default()
                    .push((r.get(1)?, r.get(2)?));
            }
            Ok(out)
        }

        /// The subjects of every live merge (the records merged into another person).
        fn merged_persons(&self) -> Result<HashSet<String>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT subject FROM facts WHERE kind = 'person_merge' AND deleted = 0
                   AND subject IS NOT NULL",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = HashSet::new();
            while let Some(r) = rows.next()? {
                out.insert(r.get(0)?);
            }
            Ok(out)
        }

        /// Every live merge: the kept person → the persons merged into it.
        fn person_merges(&self) -> Result<HashMap<String, Vec<String>>> {
            let mut merges: HashMap<String, Vec<String>> = HashMap::new();
            let mut stmt = self.conn.prepare_cached(
                "SELECT person, subject FROM facts WHERE kind = 'person_merge' AND deleted = 0
                   AND person IS NOT NULL AND subject IS NOT NULL",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                merges.entry(r.get(0)?).or_default().push(r.get(1)?);
            }
            Ok(merges)
        }

        /// The plans of a posyandu's active persons with at least one task or problem, in
        /// roster order: its persons and pregnancies (one query each), the registration days
        /// of the recently edited, and the facts (kinds and fields the plan reads) only of
        /// persons who may have a task (`records::tasks::may_have_tasks`), in one query;
        /// field values decoded only for the persons kept.
        ///
        /// The same answer as [`Store::due_tasks_in_scope_reference`]'s read: the records
        /// merged into a person (through chains, [`PersonFacts::take`]'s order) are handed
        /// out once, to the first roster person who reaches them, whether or not their facts
        /// are read.
        pub(super) fn due_for_posyandu_on(
            &self,
            posyandu: &str,
            opts: &RuleOptions,
            day: &DueDay,
        ) -> Result<Vec<PersonDue>> {
            let pregnancies = &day.pregnancies;
            // Only who may have a task is read whole (under-fives, persons with a pregnancy
            // and persons with records merged into them, whose pregnancies may be there);
            // `may_have_tasks` decides below with the merged records' pregnancies.
            let roster =
                self.due_roster(posyandu, day.date, &day.since, &day.merged, |id, birth| {
                    records::age::is_under_five(birth, day.date)
                        || pregnancies.contains_key(id)
                        || day.merges.contains_key(id)
                })?;
            let people = self.due_people(posyandu, roster.all)?;
            let registered = self.registration_days_of(&roster.recent)?;
            let roster = roster.persons;
            let mut taken: HashSet<String> = HashSet::new();
            // First who may have a task, and the records whose facts they need.
            let mut plans = Vec::new();
            for entry in roster {
                let p = &entry.person;
                let (Some(sx), Some(birth)) = (
                    sex(p.sex.as_deref()),
                    p.birth_date.as_deref().and_then(parse_date),
                ) else {
                    continue;
                };
                let id = p.id.to_string();
                // The person and the records merged into them, as `PersonFacts::take`.
                let mut ids = vec![id.clone()];
                let mut i = 0;
                while i < ids.len() {
                    for m in day.merges.get(&ids[i]).into_iter().flatten() {
                        if !ids.contains(m) {
                            ids.push(m.clone());
                        }
                    }
                    i += 1;
                }
                ids.retain(|x| taken.insert(x.clone()));
                // The pregnancies of the records that count here (as `posyandu_pregnancies`).
                let mut pregs: Vec<Body> = Vec::new();
                for x in ids.iter().filter(|x| people.contains(*x)) {
                    for (pid, json) in pregnancies.get(x).into_iter().flatten() {
                        let mut body: Body = serde_json::from_str(json)?;
                        body.insert("id".into(), Value::String(pid.clone()));
                        pregs.push(body);
                    }
                }
                if records::tasks::may_have_tasks(birth, &pregs, day.date) {
                    ids.retain(|x| people.contains(x));
                    plans.push((entry, sx, birth, id, ids, pregs));
                }
            }
            let wanted: Vec<&str> = plans
                .iter()
                .flat_map(|(.., ids, _)| ids.iter().map(String::as_str))
                .collect();
            let mut facts = self.due_facts_of(&wanted, &day.corrected)?;
            drop(wanted);
            let mut out = Vec::new();
            for (entry, sx, birth, id, ids, pregs) in plans {
                let mut entries = Vec::new();
                for x in &ids {
                    entries.extend(facts.remove(x).unwrap_or_default());
                }
                entries.sort_by(|a, b| a.date.cmp(&b.date));
                let due = records::tasks::person_due(
                    sx,
                    birth,
                    &entries,
                    &pregs,
                    registered.get(&id).copied(),
                    opts,
                    &day.ctx,
                );
                if !due.tasks.is_empty() || !due.problems.is_empty() {
                    out.push(PersonDue {
                        person: entry.finish(),
                        due,
                    });
                }
            }
            Ok(out)
        }

        /// The plans of a posyandu as they were computed before [`Store::due_for_posyandu_on`]
        /// (the day's roster; every fact whole): the reference the new path is checked
        /// against.
        fn reference_due_for_posyandu(
            &self,
            posyandu: &str,
            opts: &RuleOptions,
            day: &DueDay,
        ) -> Result<Vec<(RosterEntry, DueTasks)>> {
            let ctx = &day.ctx;
            let roster = self.roster(posyandu, &day.today)?;
            let mut all = self.posyandu_facts(posyandu)?;
            let registered = self.registration_days(posyandu, &day.since)?;
            let mut out = Vec::new();
            for entry in roster {
                let p = &entry.person;
                let (Some(sx), Some(birth)) = (
                    sex(p.sex.as_deref()),
                    p.birth_date.as_deref().and_then(parse_date),
                ) else {
                    continue;
                };
                let id = p.id.to_string();
                let (entries, pregs) = all.take(&id);
                let due = records::tasks::person_due(
                    sx,
                    birth,
                    &entries,
                    &pregs,
                    registered.get(&id).copied(),
                    opts,
                    ctx,
                );
                if !due.tasks.is_empty() || !due.problems.is_empty() {
                    out.push((entry, due));
                }
            }
            Ok(out)
        }

        /// The local day each person of the posyandu was first written (the earliest stamp of
        /// its fields), so that a person registered today is not "missed the posyandu"; only
        /// for persons edited at or after the stamp `since` (the others were written before).
        pub(super) fn registration_days(
            &self,
            posyandu: &str,
            since: &str,
        ) -> Result<HashMap<String, chrono::NaiveDate>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT p.id, MIN(e.hlc) FROM persons p JOIN field_edits e ON e.record_id = p.id
                  WHERE p.posyandu = ?1 AND p.updated_hlc >= ?2 GROUP BY p.id",
            )?;
            let mut rows = stmt.query([posyandu, since])?;
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
        pub(super) fn posyandu_facts(&self, posyandu: &str) -> Result<PersonFacts> {
            let (facts, merges, pregnancies) = self.posyandu_histories(posyandu)?;
            Ok(PersonFacts {
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
            // `+f.kind` keeps SQLite on the person index: without `ANALYZE` (a tablet never
            // runs it) it took the (kind, posyandu, date) index and read every fact of those
            // kinds for each posyandu (a kecamatan of 889 persons: 2 s of CPU).
            {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person,
                         (SELECT c.id FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0
                          LIMIT 1)
                     FROM facts f WHERE f.person IN ({people}) AND f.deleted = 0
                       AND +f.kind IN ('measurement', 'immunisation', 'visit', 'anc_contact',
                                       'supplement', 'screening')
                     ORDER BY f.person, f.date, f.rowid"
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
            let merges = self.person_merges()?;
            let pregnancies = self.posyandu_pregnancies(posyandu)?;
            Ok((facts, merges, pregnancies))
        }

        /// The live pregnancies of a posyandu's persons (and of the records merged into
        /// them), per person: their current values with their `id`.
        fn posyandu_pregnancies(&self, posyandu: &str) -> Result<HashMap<String, Vec<Body>>> {
            let mut pregnancies: HashMap<String, Vec<Body>> = HashMap::new();
            let mut stmt = self.conn.prepare_cached(
                "SELECT person, id, values_json FROM pregnancies
                 WHERE person IN (SELECT id FROM persons WHERE posyandu = ?1
                   UNION SELECT m.subject FROM facts m WHERE m.kind = 'person_merge'
                     AND m.deleted = 0 AND m.posyandu = ?1 AND m.subject IS NOT NULL)
                   AND deleted = 0",
            )?;
            let mut rows = stmt.query([posyandu])?;
            while let Some(r) = rows.next()? {
                let person: String = r.get(0)?;
                let id: String = r.get(1)?;
                let json: String = r.get(2)?;
                let mut body: Body = serde_json::from_str(&json)?;
                body.insert("id".into(), Value::String(id));
                pregnancies.entry(person).or_default().push(body);
            }
            Ok(pregnancies)
        }
    }
}

//! The bridge to health-rules: growth results for the timeline, and due tasks.

//!
//! Behind the default feature `health`; without it the timeline has no growth results and
//! [`Store::due_tasks`] is absent.

use crate::reads::PersonSummary;
use serde::Serialize;

/// Which versioned rule tables to use (district settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleOptions {
    /// KBM table id (minimum weight gain), e.g. `kbm-buku-kia-v1`.
    pub kbm_table: String,
    /// ANC schedule id, e.g. `anc-2-1-3-buku-kia-v1`.
    pub anc_schedule: String,
    /// The district gives JE.
    pub je_area: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        Self {
            kbm_table: "kbm-buku-kia-v1".into(),
            anc_schedule: "anc-2-1-3-buku-kia-v1".into(),
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
    use super::{PersonTasks, RuleOptions};
    use crate::error::{Result, StoreError};
    use crate::reads::{GrowthPoint, PersonSummary, TimelineEntry};
    use crate::store::Store;
    use crate::validate::{age_months, parse_date};
    use health_rules::Sex;
    use health_rules::growth::{self, Measurement, Measures, Position};
    use health_rules::immunisation::{AreaOptions, GivenDose, Schedule};
    use health_rules::kms::{self, KbmTable, RedLine, Weighing};
    use health_rules::tasks::{self, PersonHistory, PregnancyEpisode, TaskContext};
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap};
    use sync_protocol::{Body, EntityKind};

    fn sex(s: Option<&str>) -> Option<Sex> {
        match s {
            Some("male") => Some(Sex::Male),
            Some("female") => Some(Sex::Female),
            _ => None,
        }
    }

    fn kbm(opts: &RuleOptions) -> Result<&'static KbmTable> {
        kms::kbm_table(&opts.kbm_table)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown KBM table {}", opts.kbm_table)))
    }

    /// Live, uncorrected measurements per date: `(type, value, position)`.
    fn measurements_by_date(
        entries: &[TimelineEntry],
    ) -> BTreeMap<String, Vec<(String, f64, Option<String>)>> {
        let mut by_date: BTreeMap<String, Vec<(String, f64, Option<String>)>> = BTreeMap::new();
        for e in entries {
            if e.kind != EntityKind::Measurement || e.superseded_by.is_some() {
                continue;
            }
            let (Some(ty), Some(v)) = (
                e.body.get("type").and_then(Value::as_str),
                e.body.get("value").and_then(Value::as_f64),
            ) else {
                continue;
            };
            let pos = e
                .body
                .get("position")
                .and_then(Value::as_str)
                .map(str::to_string);
            by_date
                .entry(e.date.clone())
                .or_default()
                .push((ty.to_string(), v, pos));
        }
        by_date
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
        let mut points = Vec::new();
        let mut weighings = Vec::new();
        for (date, ms) in measurements_by_date(entries) {
            let Some(on) = parse_date(&date) else {
                continue;
            };
            let months = age_months(birth, on);
            if !(0..229).contains(&months) {
                continue;
            }
            let mut measures = Measures::default();
            for (ty, v, pos) in &ms {
                match ty.as_str() {
                    "weight" => measures.weight_kg = Some(*v),
                    "length_height" => {
                        measures.length_height_cm = Some(*v);
                        measures.position = match pos.as_deref() {
                            Some("lying") => Some(Position::Lying),
                            Some("standing") => Some(Position::Standing),
                            _ => None,
                        };
                    }
                    "head" => measures.head_cm = Some(*v),
                    "muac" => measures.muac_cm = Some(*v),
                    _ => {}
                }
            }
            if measures == Measures::default() {
                continue;
            }
            let m = Measurement {
                sex,
                birth_date: birth,
                measure_date: on,
                measures: measures.clone(),
            };
            // Kept as JSON: the shape of health-rules' results is still moving.
            let (assessment, error_key) = match growth::assess(&m) {
                Ok(a) => (serde_json::to_value(&a).ok(), None),
                Err(e) => (None, Some(e.key().to_string())),
            };
            if let Some(w) = measures.weight_kg
                && months < 60
            {
                weighings.push(Weighing {
                    date: on,
                    weight_g: (w * 1000.0).round() as u32,
                    wfa_z: assessment
                        .as_ref()
                        .and_then(|a| a.pointer("/wfa/z"))
                        .and_then(Value::as_f64),
                });
            }
            points.push(GrowthPoint {
                date,
                age_months: months,
                weight_kg: measures.weight_kg,
                length_height_cm: measures.length_height_cm,
                assessment,
                kms: None,
                error_key,
            });
        }
        if !weighings.is_empty()
            && let Ok(table) = kbm(opts)
            && let Ok(results) = kms::assess(birth, &weighings, table, RedLine::kms_2010())
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

    /// Maps a recorded vaccine name (`DPT-HB-Hib 4`, `MR1`, `Polio tetes (OPV) 1`) to a dose id.
    fn dose_id(schedule: &Schedule, vaccine: &str) -> Option<String> {
        let norm = |s: &str| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_uppercase()
        };
        let v = norm(vaccine);
        schedule
            .doses
            .iter()
            .find(|d| norm(&d.id) == v || norm(&d.name) == v)
            .map(|d| d.id.clone())
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
            let (mut facts, merges, mut pregnancies) = self.posyandu_histories(posyandu)?;
            let mut out = Vec::new();
            for entry in roster {
                let p = entry.person;
                let (Some(sx), Some(birth)) = (
                    sex(p.sex.as_deref()),
                    p.birth_date.as_deref().and_then(parse_date),
                ) else {
                    continue;
                };
                // The person and every record merged into them, through chains.
                let mut ids = vec![p.id.to_string()];
                let mut i = 0;
                while i < ids.len() {
                    for m in merges.get(&ids[i]).into_iter().flatten() {
                        if !ids.contains(m) {
                            ids.push(m.clone());
                        }
                    }
                    i += 1;
                }
                let mut entries: Vec<TimelineEntry> = Vec::new();
                let mut pregs: Vec<Body> = Vec::new();
                for id in &ids {
                    entries.extend(facts.remove(id).unwrap_or_default());
                    pregs.extend(pregnancies.remove(id).unwrap_or_default());
                }
                entries.sort_by(|a, b| a.date.cmp(&b.date));
                let growth = growth_points(&p, &entries, opts);
                let h = history(birth, sx, &growth, &entries, &pregs, schedule);
                let due = tasks::due_tasks_and_problems(&h, &ctx);
                if !due.tasks.is_empty() || !due.problems.is_empty() {
                    out.push(PersonTasks {
                        person: p,
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
            }
            Ok(out)
        }

        /// The facts health-rules uses for every person of a posyandu (and the records merged
        /// into them), grouped by person; the merges (kept → merged); the live pregnancies per
        /// person (with their `id`). Three queries for the whole posyandu.
        #[allow(clippy::type_complexity)]
        fn posyandu_histories(
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
                       AND f.kind IN ('measurement', 'immunisation', 'visit', 'anc_contact')"
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
    fn history(
        birth: chrono::NaiveDate,
        sx: Sex,
        growth: &[GrowthPoint],
        entries: &[TimelineEntry],
        pregnancies: &[Body],
        schedule: &Schedule,
    ) -> PersonHistory {
        let mut h = PersonHistory {
            birth_date: birth,
            sex: sx,
            kms: growth
                .iter()
                .filter_map(|g| g.kms.clone())
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            immunisations: Vec::new(),
            pregnancy: None,
            delivery_date: None,
            newborn_visits: Vec::new(),
            postpartum_visits: Vec::new(),
            tb: None,
            last_posyandu: None,
        };
        for e in entries {
            if e.superseded_by.is_some() {
                continue;
            }
            let Some(date) = parse_date(&e.date) else {
                continue;
            };
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
                let anc_contacts = entries
                    .iter()
                    .filter(|e| {
                        e.kind == EntityKind::AncContact
                            && e.superseded_by.is_none()
                            && e.body.get("pregnancy").and_then(Value::as_str) == Some(pid)
                    })
                    .filter_map(|e| parse_date(&e.date))
                    .collect();
                h.pregnancy = Some(PregnancyEpisode {
                    hpht,
                    anc_contacts,
                    open_danger_signs: Vec::new(),
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
        h
    }
}

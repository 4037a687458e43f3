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
    use std::collections::BTreeMap;
    use sync_protocol::EntityKind;

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
        /// health-rules from what this tablet holds. Persons with no task are left out.
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
            let mut out = Vec::new();
            for entry in self.roster(posyandu, &today.format("%Y-%m-%d").to_string())? {
                let p = entry.person;
                let (Some(sx), Some(birth)) = (
                    sex(p.sex.as_deref()),
                    p.birth_date.as_deref().and_then(parse_date),
                ) else {
                    continue;
                };
                let timeline = self.person_timeline(p.id)?;
                let mut h = PersonHistory {
                    birth_date: birth,
                    sex: sx,
                    kms: timeline
                        .growth
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
                for e in &timeline.entries {
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
                for preg in &timeline.pregnancies {
                    let status = preg.get("status").and_then(Value::as_str);
                    let pid = preg.get("id").and_then(Value::as_str).unwrap_or_default();
                    if status == Some("ongoing")
                        && let Some(hpht) = preg
                            .get("hpht")
                            .and_then(Value::as_str)
                            .and_then(parse_date)
                    {
                        let anc_contacts = timeline
                            .entries
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
                match tasks::due_tasks(&h, &ctx) {
                    Ok(t) if !t.is_empty() => out.push(PersonTasks {
                        person: p,
                        tasks: t
                            .iter()
                            .filter_map(|t| serde_json::to_value(t).ok())
                            .collect(),
                    }),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(StoreError::Corrupt(format!(
                            "health-rules could not plan tasks for {}: {} ({})",
                            p.id,
                            e,
                            e.key()
                        )));
                    }
                }
            }
            Ok(out)
        }
    }
}

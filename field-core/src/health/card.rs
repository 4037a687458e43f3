//! The immunisation card (the Buku KIA page): every dose of the schedule with its state on
//! a day, and the recorded vaccines that name no dose.

use super::facts::{self, HealthProblem};
use crate::error::Result;
use crate::store::Store;
use health_rules::Label;
use health_rules::immunisation::{self, AreaOptions, DoseState, GivenDose, Offset, Schedule};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{EntityKind, RecordId};

/// The state of a dose in one word, for the card's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    Given,
    /// Due now, on time.
    Due,
    /// Past its on-time window; catch-up (*kejar*) still allowed.
    Overdue,
    /// Not yet due.
    Upcoming,
    /// Past the age limit: can no longer be given.
    NoLongerAllowed,
    /// Selected-area vaccine (JE) outside those areas.
    NotApplicable,
}

impl CardStatus {
    fn of(state: &DoseState) -> Self {
        match state {
            DoseState::Given { .. } => Self::Given,
            DoseState::Due { .. } => Self::Due,
            DoseState::Overdue { .. } => Self::Overdue,
            DoseState::NotYetDue { .. } => Self::Upcoming,
            DoseState::NoLongerAllowed { .. } => Self::NoLongerAllowed,
            DoseState::NotApplicable => Self::NotApplicable,
        }
    }
}

/// A recorded immunisation fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardRecord {
    pub fact: RecordId,
    /// As recorded (free text), e.g. `DPT-HB-Hib 1`.
    pub vaccine: String,
    pub date: String,
}

/// One dose on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardDose {
    pub dose_id: String,
    pub series: String,
    /// As printed in the Buku KIA.
    pub name: String,
    /// The age at which the schedule recommends it (the card groups doses by it).
    pub due_age: Option<Offset>,
    pub status: CardStatus,
    /// The state in words (e.g. "Terlambat: berikan imunisasi kejar").
    pub label: Label,
    /// The state with its dates: given (date, timing), due (due date, on time until),
    /// overdue (allowed until), not yet due (due date), no longer allowed (last day).
    pub state: DoseState,
    /// The record that counts (the earliest).
    pub given: Option<CardRecord>,
    /// The same dose recorded again (later records of a dose given once).
    pub also_recorded: Vec<CardRecord>,
}

/// The immunisation card of one child on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImmunisationCard {
    pub person: RecordId,
    pub name: String,
    pub birth_date: String,
    /// The day the states are for.
    pub on: String,
    pub schedule_id: String,
    pub je_area: bool,
    /// Every dose of the schedule, in schedule order.
    pub doses: Vec<CardDose>,
    /// Recorded vaccines that name no dose of the schedule (e.g. `Polio` without a number).
    pub unmatched: Vec<CardRecord>,
    /// Records set aside (before the birth date, dated after `on`): check them.
    pub problems: Vec<HealthProblem>,
}

impl Store {
    /// The immunisation card of a person on `on` (`YYYY-MM-DD`, usually today): every dose of
    /// the national schedule with its state (given with the date and timing, due, overdue,
    /// upcoming, no longer allowed, not for this area), from the live immunisation facts
    /// (corrections applied, merged records included). A recorded vaccine is matched to a
    /// dose by its id or printed name (`Schedule::dose_for_record`); the others are listed
    /// in `unmatched`, and records that cannot be used in `problems`.
    pub fn immunisation_card(&self, person: RecordId, on: &str) -> Result<ImmunisationCard> {
        let on_date = facts::date_arg("on", on)?;
        let timeline = self.person_timeline(person)?;
        let p = &timeline.person;
        let (_, birth) = facts::sex_and_birth(p)?;
        let schedule = Schedule::national_2024();
        let mut records: Vec<(String, GivenDose, CardRecord)> = Vec::new();
        let mut unmatched = Vec::new();
        let mut problems = Vec::new();
        for e in &timeline.entries {
            if e.kind != EntityKind::Immunisation || e.superseded_by.is_some() {
                continue;
            }
            let vaccine = e
                .body
                .get("vaccine")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let record = CardRecord {
                fact: e.id,
                vaccine: vaccine.clone(),
                date: e.date.clone(),
            };
            let Some(dose) = schedule.dose_for_record(&vaccine) else {
                unmatched.push(record);
                continue;
            };
            let Some(date) = crate::validate::parse_date(&e.date) else {
                let err = immunisation::ImmunisationError::DateOutOfRange(vaccine.clone());
                problems.push(HealthProblem::new(Some(e.id), err.key(), err.params()));
                continue;
            };
            let given = GivenDose {
                dose_id: dose.id.clone(),
                date,
            };
            let (_, bad) =
                immunisation::check_given(schedule, birth, std::slice::from_ref(&given), on_date);
            if let Some(err) = bad.first() {
                problems.push(HealthProblem::new(Some(e.id), err.key(), err.params()));
                continue;
            }
            records.push((dose.id.clone(), given, record));
        }
        let given: Vec<GivenDose> = records.iter().map(|(_, g, _)| g.clone()).collect();
        let je_area = self.rules.je_area;
        let list =
            immunisation::due_list(schedule, birth, &given, on_date, AreaOptions { je_area })
                .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))?;
        let doses = list
            .into_iter()
            .map(|d| {
                let mut mine: Vec<&(String, GivenDose, CardRecord)> =
                    records.iter().filter(|(id, ..)| *id == d.dose_id).collect();
                mine.sort_by_key(|(_, g, _)| g.date);
                let mut recs: Vec<CardRecord> =
                    mine.into_iter().map(|(_, _, r)| r.clone()).collect();
                // A dose shown as given counts its earliest record; a dose not for this area
                // keeps its records as "also recorded".
                let given = (matches!(d.state, DoseState::Given { .. }) && !recs.is_empty())
                    .then(|| recs.remove(0));
                CardDose {
                    due_age: schedule.dose(&d.dose_id).map(|x| x.recommended),
                    status: CardStatus::of(&d.state),
                    label: d.state.label(),
                    given,
                    also_recorded: recs,
                    dose_id: d.dose_id,
                    series: d.series,
                    name: d.name,
                    state: d.state,
                }
            })
            .collect();
        Ok(ImmunisationCard {
            person,
            name: p.name.clone(),
            birth_date: birth.format("%Y-%m-%d").to_string(),
            on: on_date.format("%Y-%m-%d").to_string(),
            schedule_id: schedule.id.clone(),
            je_area,
            doses,
            unmatched,
            problems,
        })
    }
}

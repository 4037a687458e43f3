//! The immunisation card (the Buku KIA page): every dose of the schedule with its state on
//! a day, and the recorded vaccines that name no dose.

use crate::facts::{Fact, HealthProblem, parse_date, ymd};
use chrono::NaiveDate;
use health_rules::Label;
use health_rules::immunisation::{
    self, AreaOptions, DoseState, GivenDose, ImmunisationError, Offset, Schedule,
};
use serde::Serialize;
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
    pub fn of(state: &DoseState) -> Self {
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

/// Doses recommended before this age (months) make up the complete basic immunisation
/// (*Imunisasi Dasar Lengkap*, IDL): HB0, BCG, polio 1–4, DPT-HB-Hib 1–3, PCV 1–2, RV 1–3,
/// IPV 1–2 and MR1 in the national schedule of 2024 (JE too where the area gives it).
pub const BASIC_BEFORE_MONTHS: u32 = 12;

impl ImmunisationCard {
    /// The doses of the basic immunisation for this child's area (recommended before
    /// [`BASIC_BEFORE_MONTHS`], not a vaccine the area does not give).
    pub fn basic_doses(&self) -> impl Iterator<Item = &CardDose> {
        self.doses.iter().filter(|d| {
            d.due_age.is_some_and(|a| a.months < BASIC_BEFORE_MONTHS)
                && d.status != CardStatus::NotApplicable
        })
    }

    /// Complete basic immunisation (IDL): every basic dose given by the card's day.
    pub fn complete_basic(&self) -> bool {
        self.basic_doses().all(|d| d.status == CardStatus::Given)
    }
}

/// The immunisation card of a person born on `birth` on day `on`: every dose of the
/// national schedule with its state (given with the date and timing, due, overdue,
/// upcoming, no longer allowed, not for this area), from the live immunisation facts
/// (corrections applied; with those of merged records). A recorded vaccine is matched to a
/// dose by its id or printed name (`Schedule::dose_for_record`); the others are listed in
/// `unmatched`, and records that cannot be used in `problems`.
pub fn immunisation_card(
    person: RecordId,
    name: &str,
    birth: NaiveDate,
    entries: &[Fact],
    on_date: NaiveDate,
    je_area: bool,
) -> Result<ImmunisationCard, ImmunisationError> {
    let schedule = Schedule::national_2024();
    let mut records: Vec<(String, GivenDose, CardRecord)> = Vec::new();
    let mut unmatched = Vec::new();
    let mut problems = Vec::new();
    for e in entries {
        if e.kind != EntityKind::Immunisation || e.superseded_by.is_some() {
            continue;
        }
        let vaccine = e.text("vaccine").unwrap_or_default().to_string();
        let record = CardRecord {
            fact: e.id,
            vaccine: vaccine.clone(),
            date: e.date.clone(),
        };
        let Some(dose) = schedule.dose_for_record(&vaccine) else {
            unmatched.push(record);
            continue;
        };
        let Some(date) = parse_date(&e.date) else {
            let err = ImmunisationError::DateOutOfRange(vaccine.clone());
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
    let list = immunisation::due_list(schedule, birth, &given, on_date, AreaOptions { je_area })?;
    let doses = list
        .into_iter()
        .map(|d| {
            let mut mine: Vec<&(String, GivenDose, CardRecord)> =
                records.iter().filter(|(id, ..)| *id == d.dose_id).collect();
            mine.sort_by_key(|(_, g, _)| g.date);
            let mut recs: Vec<CardRecord> = mine.into_iter().map(|(_, _, r)| r.clone()).collect();
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
        name: name.to_string(),
        birth_date: ymd(birth),
        on: ymd(on_date),
        schedule_id: schedule.id.clone(),
        je_area,
        doses,
        unmatched,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::{fact, rid};
    use serde_json::json;

    #[test]
    fn doses_records_and_problems() {
        let birth = parse_date("2025-01-01").expect("date");
        let mut corrected = fact(
            3,
            EntityKind::Immunisation,
            "2025-01-02",
            json!({"vaccine": "HB0"}),
        );
        corrected.superseded_by = Some(rid(9));
        let entries = vec![
            fact(
                1,
                EntityKind::Immunisation,
                "2025-01-01",
                json!({"vaccine": "HB0"}),
            ),
            fact(
                2,
                EntityKind::Immunisation,
                "2025-01-05",
                json!({"vaccine": "HB0"}),
            ),
            corrected,
            fact(
                4,
                EntityKind::Immunisation,
                "2025-01-10",
                json!({"vaccine": "Polio"}),
            ),
            fact(
                5,
                EntityKind::Immunisation,
                "2024-12-01",
                json!({"vaccine": "BCG"}),
            ),
        ];
        let on = parse_date("2025-03-01").expect("date");
        let card = immunisation_card(rid(100), "Ani", birth, &entries, on, false).expect("card");
        assert_eq!(card.name, "Ani");
        assert_eq!(card.on, "2025-03-01");
        let hb0 = card.doses.iter().find(|d| d.dose_id == "HB0").expect("HB0");
        assert_eq!(hb0.status, CardStatus::Given);
        assert_eq!(
            hb0.given.as_ref().map(|r| r.fact),
            Some(rid(1)),
            "the earliest counts"
        );
        assert_eq!(hb0.also_recorded.len(), 1, "the corrected one is left out");
        assert_eq!(
            card.unmatched.len(),
            1,
            "Polio without a number names no dose"
        );
        assert_eq!(card.problems.len(), 1, "BCG before the birth");
        assert_eq!(card.problems[0].fact, Some(rid(5)));
        let bcg = card.doses.iter().find(|d| d.dose_id == "BCG").expect("BCG");
        assert_ne!(bcg.status, CardStatus::Given);
    }

    #[test]
    fn complete_basic_needs_every_dose_before_twelve_months() {
        let birth = parse_date("2024-01-01").expect("date");
        let basic = [
            ("HB0", "2024-01-01"),
            ("BCG", "2024-02-01"),
            ("OPV1", "2024-02-01"),
            ("OPV2", "2024-03-01"),
            ("OPV3", "2024-04-01"),
            ("OPV4", "2024-05-01"),
            ("DPT-HB-Hib1", "2024-03-01"),
            ("DPT-HB-Hib2", "2024-04-01"),
            ("DPT-HB-Hib3", "2024-05-01"),
            ("PCV1", "2024-03-01"),
            ("PCV2", "2024-04-01"),
            ("RV1", "2024-03-01"),
            ("RV2", "2024-04-01"),
            ("RV3", "2024-05-01"),
            ("IPV1", "2024-05-01"),
            ("IPV2", "2024-10-01"),
            ("MR1", "2024-10-01"),
        ];
        let entries: Vec<Fact> = basic
            .iter()
            .enumerate()
            .map(|(i, (v, d))| {
                fact(
                    u64::try_from(i + 1).expect("few"),
                    EntityKind::Immunisation,
                    d,
                    json!({"vaccine": v}),
                )
            })
            .collect();
        let on = parse_date("2025-06-01").expect("date");
        let card = immunisation_card(rid(100), "Ani", birth, &entries, on, false).expect("card");
        let ids: Vec<&str> = card.basic_doses().map(|d| d.dose_id.as_str()).collect();
        assert_eq!(ids.len(), basic.len(), "{ids:?}");
        assert!(!ids.contains(&"JE"), "JE outside its areas");
        assert!(card.complete_basic(), "{:?}", card.doses);
        // Without MR1: not complete.
        let card =
            immunisation_card(rid(100), "Ani", birth, &entries[..16], on, false).expect("card");
        assert!(!card.complete_basic());
    }
}

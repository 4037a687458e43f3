//! Immunisation due list from the national routine schedule.
//!
//! Rule (`shared/domain/ILP.md`, "Immunisation", schedule as of 2024; windows are this
//! project's reading of Permenkes 12/2017 and Kemenkes guidance, to be confirmed by the
//! Dinas Kesehatan): every dose has an earliest age, a recommended age, an end of the
//! on-time window, an optional catch-up limit, and optionally the previous dose of its
//! series with a minimum interval. For each child each dose is:
//! - **given** (on time, *kejar* = late catch-up, too early, or after its cut-off),
//! - **not yet due** (with its date), **due**, **overdue** (catch-up still allowed), or
//! - **no longer allowed** (e.g. rotavirus after 6 months 29 days);
//! - **not applicable** for doses limited to selected areas (JE) outside them.
//!
//! A later dose of a series is never due before the previous dose plus its minimum
//! interval (IPV2 at least 4 months after IPV1). The schedule is data:
//! `data/immunisation/nasional-2024.json` (id `imunisasi-nasional-2024-v1`); a district
//! loads its own with [`Schedule::from_json`].

use std::sync::OnceLock;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::Label;

/// A dose dated up to this many days after "today" is accepted as given on that date:
/// tablets' clocks are often wrong by a day or two. Later dates are an error.
pub const CLOCK_SKEW_DAYS: u64 = 3;

/// Id of the built-in national schedule.
pub const DEFAULT_SCHEDULE_ID: &str = "imunisasi-nasional-2024-v1";
const BUILTIN_SCHEDULE: &str = include_str!("../data/immunisation/nasional-2024.json");

/// Errors from the immunisation rules. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImmunisationError {
    #[error("unknown vaccine dose `{0}` (not in the schedule)")]
    UnknownDose(String),
    #[error("dose {dose_id} recorded on {date}, before the birth date")]
    GivenBeforeBirth { dose_id: String, date: NaiveDate },
    #[error(
        "dose {dose_id} recorded on {date}, which is after today (more than {CLOCK_SKEW_DAYS} days)"
    )]
    GivenInFuture { dose_id: String, date: NaiveDate },
    #[error("a date for dose {0} is outside the supported calendar")]
    DateOutOfRange(String),
    #[error("immunisation schedule could not be read: {0}")]
    TableParse(String),
    #[error("immunisation schedule is invalid: {0}")]
    TableInvalid(String),
}

impl ImmunisationError {
    /// Stable message key for the app's translation files.
    pub fn key(&self) -> &'static str {
        match self {
            Self::UnknownDose(_) => "immunisation.unknown_dose",
            Self::GivenBeforeBirth { .. } => "immunisation.given_before_birth",
            Self::GivenInFuture { .. } => "immunisation.given_in_future",
            Self::DateOutOfRange(_) => "immunisation.date_out_of_range",
            Self::TableParse(_) => "immunisation.table_parse",
            Self::TableInvalid(_) => "immunisation.table_invalid",
        }
    }

    /// The values of [`Self::key`]'s text (`dose`, `date`).
    pub fn params(&self) -> crate::Params {
        use crate::common::params;
        match self {
            Self::UnknownDose(d) | Self::DateOutOfRange(d) => params([("dose", d.clone())]),
            Self::GivenBeforeBirth { dose_id, date } | Self::GivenInFuture { dose_id, date } => {
                params([("dose", dose_id.clone()), ("date", date.to_string())])
            }
            Self::TableParse(_) | Self::TableInvalid(_) => crate::Params::new(),
        }
    }
}

/// An age or interval: `months` are added first, then `days`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    #[serde(default)]
    pub months: u32,
    #[serde(default)]
    pub days: u32,
}

impl Offset {
    /// `date` moved forward by this offset (`None` outside chrono's range).
    pub fn from(self, date: NaiveDate) -> Option<NaiveDate> {
        date.checked_add_months(Months::new(self.months))?
            .checked_add_days(Days::new(u64::from(self.days)))
    }
}

/// The vaccines of the national schedule, by series, with their KFA product code (Kamus
/// Farmasi dan Alat Kesehatan: the product terminology of SATUSEHAT, system
/// `http://sys-ids.kemkes.go.id/kfa`). A code is listed only when a source in this
/// repository gives it; none does yet, so every code is `None` and a dose is recorded
/// without one (its FHIR `Immunization` then carries the CVX code only: `docs/fhir.md`).
/// A district sets the codes of the products it receives on the server's dashboard
/// (Administrasi; the FHIR mapping uses them for doses without a code of their own:
/// `docs/fhir.md`, "KFA product codes"), without a new app build.
pub const KFA_PRODUCTS: [(&str, Option<&str>); 10] = [
    ("HB0", None),
    ("BCG", None),
    ("OPV", None),
    ("DPT-HB-Hib", None),
    ("PCV", None),
    ("RV", None),
    ("IPV", None),
    ("MR", None),
    ("JE", None),
    ("Td", None),
];

/// The KFA product code of a recorded vaccine (by its dose's series; a woman's Td by its
/// prefix), when it is known ([`KFA_PRODUCTS`]).
pub fn kfa_code_for(vaccine: &str) -> Option<&'static str> {
    let series = kfa_series(vaccine)?;
    KFA_PRODUCTS
        .iter()
        .find(|(s, _)| *s == series)
        .and_then(|(_, code)| *code)
}

/// The series of [`KFA_PRODUCTS`] a recorded vaccine belongs to (by its dose's series; a
/// woman's Td by its prefix): the key of a district's own table of KFA codes.
pub fn kfa_series(vaccine: &str) -> Option<&'static str> {
    let series = match Schedule::national_2024().dose_for_record(vaccine) {
        Some(d) => d.series.as_str(),
        None if vaccine.trim_start().starts_with("Td") => "Td",
        None => return None,
    };
    KFA_PRODUCTS
        .iter()
        .find(|(s, _)| *s == series)
        .map(|(s, _)| *s)
}

/// One dose of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dose {
    /// e.g. `RV3`, `IPV2`, `DPT-HB-Hib1`.
    pub id: String,
    /// e.g. `RV`, `IPV`.
    pub series: String,
    /// Name as printed on the Buku KIA.
    pub name: String,
    /// Youngest age at which the dose counts.
    pub earliest: Offset,
    /// Age at which the dose is due.
    pub recommended: Offset,
    /// Given on or after this age the dose is catch-up (*kejar*); not given, it is overdue.
    pub on_time_before: Offset,
    /// From this age the dose is no longer allowed (`None`: no limit).
    #[serde(default)]
    pub allowed_before: Option<Offset>,
    /// The previous dose of the series, which must come first.
    #[serde(default)]
    pub after: Option<String>,
    /// Minimum interval after `after`.
    #[serde(default)]
    pub min_interval: Offset,
    /// Only in selected areas (JE).
    #[serde(default)]
    pub selected_areas_only: bool,
}

/// A versioned immunisation schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub source: String,
    #[serde(default)]
    pub notes: String,
    /// In an order where every `after` dose comes before its follower.
    pub doses: Vec<Dose>,
}

impl Schedule {
    /// Parse and check a schedule (unique ids; `after` names an earlier dose;
    /// `earliest ≤ recommended < on_time_before ≤ allowed_before` for every birth date).
    pub fn from_json(json: &str) -> Result<Self, ImmunisationError> {
        let s: Self =
            serde_json::from_str(json).map_err(|e| ImmunisationError::TableParse(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// The checks of [`Schedule::from_json`], for a schedule built in code.
    pub fn validate(&self) -> Result<(), ImmunisationError> {
        let s = self;
        for dose in &s.doses {
            if !offsets_in_order(dose) {
                return Err(ImmunisationError::TableInvalid(format!(
                    "{}: {} must have earliest <= recommended < on_time_before <= allowed_before",
                    s.id, dose.id
                )));
            }
        }
        for (i, dose) in s.doses.iter().enumerate() {
            let earlier = s.doses.get(..i).unwrap_or_default();
            if earlier.iter().any(|d| d.id == dose.id) {
                return Err(ImmunisationError::TableInvalid(format!(
                    "{}: dose {} twice",
                    s.id, dose.id
                )));
            }
            if let Some(prev) = &dose.after
                && !earlier.iter().any(|d| &d.id == prev)
            {
                return Err(ImmunisationError::TableInvalid(format!(
                    "{}: {} follows {prev}, which is not listed before it",
                    s.id, dose.id
                )));
            }
        }
        Ok(())
    }

    /// The built-in national schedule (2024).
    pub fn national_2024() -> &'static Schedule {
        static S: OnceLock<Schedule> = OnceLock::new();
        S.get_or_init(|| {
            Schedule::from_json(BUILTIN_SCHEDULE)
                .expect("embedded schedule parses (checked by test builtin_schedule_parses)")
        })
    }

    /// A built-in schedule by version id.
    pub fn builtin(id: &str) -> Option<&'static Schedule> {
        Some(Self::national_2024()).filter(|s| s.id == id)
    }

    pub fn dose(&self, id: &str) -> Option<&Dose> {
        self.doses.iter().find(|d| d.id == id)
    }

    /// The dose a recorded vaccine text names: its id or its printed name, ignoring case,
    /// spaces and punctuation (`DPT-HB-Hib 1`, `dpt hb hib1`, `Polio tetes (OPV) 1`, `MR1`).
    /// `None` when the text names no dose of this schedule (e.g. `Polio` without a number).
    pub fn dose_for_record(&self, vaccine: &str) -> Option<&Dose> {
        // Compared char by char, without building strings: this runs for every immunisation
        // record of every person when the due list is made.
        fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_uppercase)
        }
        /// Whether `s` normalised is `v` (normalised already); an ASCII `s` byte by byte,
        /// which is what `norm` does to ASCII (letters and digits kept, letters upper-cased).
        fn norm_eq(s: &str, v: &str) -> bool {
            if s.is_ascii() {
                s.bytes()
                    .filter(u8::is_ascii_alphanumeric)
                    .map(|b| b.to_ascii_uppercase())
                    .eq(v.bytes())
            } else {
                norm(s).eq(v.chars())
            }
        }
        let v: String = norm(vaccine).collect();
        if v.is_empty() {
            return None;
        }
        self.doses
            .iter()
            .find(|d| norm_eq(&d.id, &v) || norm_eq(&d.name, &v))
    }
}

/// Offsets are calendar arithmetic (months, then days), so their order can depend on the
/// birth date (1 month vs 30 days): check it on birth dates at every month end and a
/// leap day.
fn offsets_in_order(dose: &Dose) -> bool {
    const BIRTHS: [(i32, u32, u32); 8] = [
        (2023, 1, 31),
        (2024, 1, 31),
        (2024, 2, 29),
        (2023, 3, 31),
        (2023, 4, 30),
        (2023, 8, 31),
        (2023, 12, 31),
        (2023, 6, 15),
    ];
    BIRTHS.iter().all(|&(y, m, d)| {
        let Some(birth) = NaiveDate::from_ymd_opt(y, m, d) else {
            return false;
        };
        let at = |o: Offset| o.from(birth);
        let (Some(e), Some(r), Some(t)) = (
            at(dose.earliest),
            at(dose.recommended),
            at(dose.on_time_before),
        ) else {
            return false;
        };
        let allowed_ok = match dose.allowed_before.map(at) {
            None => true,
            Some(Some(a)) => t <= a,
            Some(None) => false,
        };
        e <= r && r < t && allowed_ok
    })
}

/// A dose recorded as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenDose {
    pub dose_id: String,
    pub date: NaiveDate,
}

/// How a given dose relates to its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    OnTime,
    /// Given late but within the catch-up limit (*imunisasi kejar*).
    Kejar,
    /// Before the earliest age or before the minimum interval: ask the bidan.
    TooEarly,
    /// After the age limit.
    AfterCutoff,
}

/// The state of one dose for one child on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DoseState {
    Given {
        date: NaiveDate,
        timing: Timing,
    },
    /// Not yet due (upcoming) on `due_date`.
    NotYetDue {
        due_date: NaiveDate,
    },
    /// Due now; on time until `on_time_until` (inclusive).
    Due {
        due_date: NaiveDate,
        on_time_until: NaiveDate,
    },
    /// Past the on-time window; catch-up allowed until `allowed_until` (inclusive).
    Overdue {
        due_date: NaiveDate,
        allowed_until: Option<NaiveDate>,
    },
    /// Can no longer be given; `last_day` was the last allowed day.
    NoLongerAllowed {
        last_day: NaiveDate,
    },
    /// Selected-area vaccine (JE) outside those areas.
    NotApplicable,
}

impl DoseState {
    pub fn label(&self) -> Label {
        match self {
            Self::Given {
                timing: Timing::Kejar,
                ..
            } => Label {
                key: "immunisation.state.given_kejar",
                id: "Sudah diberikan (imunisasi kejar)",
                en: "Given (catch-up)",
            },
            Self::Given {
                timing: Timing::TooEarly,
                ..
            } => Label {
                key: "immunisation.state.given_too_early",
                id: "Sudah diberikan, tetapi terlalu cepat: tanyakan bidan",
                en: "Given too early: ask the bidan",
            },
            Self::Given {
                timing: Timing::AfterCutoff,
                ..
            } => Label {
                key: "immunisation.state.given_after_cutoff",
                id: "Sudah diberikan, tetapi melewati batas umur",
                en: "Given after the age limit",
            },
            Self::Given { .. } => Label {
                key: "immunisation.state.given",
                id: "Sudah diberikan",
                en: "Given",
            },
            Self::NotYetDue { .. } => Label {
                key: "immunisation.state.not_yet_due",
                id: "Belum waktunya",
                en: "Not yet due",
            },
            Self::Due { .. } => Label {
                key: "immunisation.state.due",
                id: "Sudah waktunya diberikan",
                en: "Due",
            },
            Self::Overdue { .. } => Label {
                key: "immunisation.state.overdue",
                id: "Terlambat: berikan imunisasi kejar",
                en: "Overdue: give as catch-up",
            },
            Self::NoLongerAllowed { .. } => Label {
                key: "immunisation.state.no_longer_allowed",
                id: "Tidak boleh diberikan lagi (lewat batas umur)",
                en: "No longer allowed (past the age limit)",
            },
            Self::NotApplicable => Label {
                key: "immunisation.state.not_applicable",
                id: "Tidak untuk wilayah ini",
                en: "Not for this area",
            },
        }
    }
}

/// One row of a child's due list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseStatus {
    pub dose_id: String,
    pub series: String,
    pub name: String,
    pub state: DoseState,
}

/// Where the child lives, for selected-area vaccines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaOptions {
    /// The district gives JE (Japanese Encephalitis).
    pub je_area: bool,
}

/// Split recorded doses into the usable ones and one error per bad record (unknown
/// dose, before the birth date, more than [`CLOCK_SKEW_DAYS`] after `today`). The due
/// list of the usable ones can then be built with [`due_list`]; the app shows the
/// errors as "check this record".
pub fn check_given(
    schedule: &Schedule,
    birth: NaiveDate,
    given: &[GivenDose],
    today: NaiveDate,
) -> (Vec<GivenDose>, Vec<ImmunisationError>) {
    let mut ok = Vec::with_capacity(given.len());
    let mut bad = Vec::new();
    for g in given {
        match check_one(schedule, birth, g, today) {
            Ok(()) => ok.push(g.clone()),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

fn check_one(
    schedule: &Schedule,
    birth: NaiveDate,
    g: &GivenDose,
    today: NaiveDate,
) -> Result<(), ImmunisationError> {
    if schedule.dose(&g.dose_id).is_none() {
        return Err(ImmunisationError::UnknownDose(g.dose_id.clone()));
    }
    if g.date < birth {
        return Err(ImmunisationError::GivenBeforeBirth {
            dose_id: g.dose_id.clone(),
            date: g.date,
        });
    }
    let latest = today
        .checked_add_days(Days::new(CLOCK_SKEW_DAYS))
        .unwrap_or(today);
    if g.date > latest {
        return Err(ImmunisationError::GivenInFuture {
            dose_id: g.dose_id.clone(),
            date: g.date,
        });
    }
    Ok(())
}

/// The state of every dose of `schedule` for a child on `today`, in schedule order.
/// A dose recorded twice counts once, at its first date. A dose dated up to
/// [`CLOCK_SKEW_DAYS`] after `today` counts as given (clock skew). Any bad record fails
/// the whole list: use [`check_given`] first to set bad records aside.
pub fn due_list(
    schedule: &Schedule,
    birth: NaiveDate,
    given: &[GivenDose],
    today: NaiveDate,
    area: AreaOptions,
) -> Result<Vec<DoseStatus>, ImmunisationError> {
    Ok(dose_states(schedule, birth, given, today, area)?
        .into_iter()
        .map(|(dose, state)| DoseStatus {
            dose_id: dose.id.clone(),
            series: dose.series.clone(),
            name: dose.name.clone(),
            state,
        })
        .collect())
}

/// [`due_list`] with each dose borrowed from the schedule: the due tasks read a state for
/// every dose of every child planned, and need the names of the few they list only.
///
/// The doses given and the projected dates are kept in short vectors searched in order
/// (a child has a few doses given, a schedule a few dozen doses): the same answers as maps
/// keyed by dose id, a later entry of an id replacing an earlier one.
pub(crate) fn dose_states<'s>(
    schedule: &'s Schedule,
    birth: NaiveDate,
    given: &[GivenDose],
    today: NaiveDate,
    area: AreaOptions,
) -> Result<Vec<(&'s Dose, DoseState)>, ImmunisationError> {
    let mut given_on: Vec<(&str, NaiveDate)> = Vec::with_capacity(given.len());
    for g in given {
        check_one(schedule, birth, g, today)?;
        let dose = schedule
            .dose(&g.dose_id)
            .ok_or_else(|| ImmunisationError::UnknownDose(g.dose_id.clone()))?;
        match given_on.iter_mut().find(|(id, _)| *id == dose.id.as_str()) {
            Some((_, slot)) => *slot = (*slot).min(g.date),
            None => given_on.push((dose.id.as_str(), g.date)),
        }
    }
    let given_at = |id: &str| {
        given_on
            .iter()
            .find(|(g, _)| *g == id)
            .map(|(_, date)| *date)
    };

    // For each dose: the date it was (or at the soonest can be) given, for its follower.
    let mut projected: Vec<(&str, Option<NaiveDate>)> = Vec::with_capacity(schedule.doses.len());
    let mut out = Vec::with_capacity(schedule.doses.len());
    for dose in &schedule.doses {
        let oor = || ImmunisationError::DateOutOfRange(dose.id.clone());
        let at = |o: Offset| o.from(birth).ok_or_else(oor);
        let cutoff = dose.allowed_before.map(at).transpose()?;
        let earliest_age = at(dose.earliest)?;
        // Earliest valid date given the previous dose's (actual or projected) date.
        let earliest_after = |prev: Option<NaiveDate>| match prev {
            Some(p) => Ok(earliest_age.max(dose.min_interval.from(p).ok_or_else(oor)?)),
            None => Ok(earliest_age),
        };
        let on_time_before = at(dose.on_time_before)?;
        let day_before = |d: NaiveDate| d.pred_opt().ok_or_else(oor);

        let state = if dose.selected_areas_only && !area.je_area {
            DoseState::NotApplicable
        } else if let Some(date) = given_at(dose.id.as_str()) {
            // Only a previous dose actually given sets an interval for a given dose.
            let prev_given = dose.after.as_ref().and_then(|p| given_at(p.as_str()));
            let earliest_ok = earliest_after(prev_given)?;
            let timing = if cutoff.is_some_and(|c| date >= c) {
                Timing::AfterCutoff
            } else if date < earliest_ok {
                Timing::TooEarly
            } else if date >= on_time_before {
                Timing::Kejar
            } else {
                Timing::OnTime
            };
            DoseState::Given { date, timing }
        } else {
            // `Some(None)`: the previous dose can never be given, so neither can this one.
            let prev: Option<Option<NaiveDate>> = dose.after.as_ref().map(|p| {
                projected
                    .iter()
                    .find(|(id, _)| *id == p.as_str())
                    .and_then(|(_, date)| *date)
            });
            let earliest_ok = earliest_after(prev.flatten())?;
            let due_date = at(dose.recommended)?.max(earliest_ok);
            let soonest = earliest_ok.max(today);
            match cutoff {
                Some(c) if prev == Some(None) || soonest >= c => DoseState::NoLongerAllowed {
                    last_day: day_before(c)?,
                },
                _ if today < due_date => DoseState::NotYetDue { due_date },
                _ if today < on_time_before => DoseState::Due {
                    due_date,
                    on_time_until: day_before(on_time_before)?,
                },
                _ => DoseState::Overdue {
                    due_date,
                    allowed_until: cutoff.map(day_before).transpose()?,
                },
            }
        };
        let soonest_given = match &state {
            DoseState::Given { date, .. } => Some(*date),
            DoseState::NotYetDue { due_date } => Some(*due_date),
            DoseState::Due { .. } | DoseState::Overdue { .. } => Some(today),
            DoseState::NoLongerAllowed { .. } | DoseState::NotApplicable => None,
        };
        match projected.iter_mut().find(|(id, _)| *id == dose.id.as_str()) {
            Some((_, slot)) => *slot = soonest_given,
            None => projected.push((dose.id.as_str(), soonest_given)),
        }
        out.push((dose, state));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_of_the_schedule_has_a_kfa_row_and_no_code_is_invented() {
        for d in &Schedule::national_2024().doses {
            assert!(
                KFA_PRODUCTS.iter().any(|(s, _)| *s == d.series),
                "{} has no row",
                d.series
            );
        }
        // No source in the repository gives a KFA product code yet: none is made up.
        assert!(KFA_PRODUCTS.iter().all(|(_, c)| c.is_none()));
        assert_eq!(kfa_code_for("HB0"), None);
        assert_eq!(kfa_code_for("nope"), None);
        assert_eq!(kfa_series("DPT-HB-Hib 1"), Some("DPT-HB-Hib"));
        assert_eq!(kfa_series("Td2"), Some("Td"));
        assert_eq!(kfa_series("nope"), None);
    }

    #[test]
    fn a_recorded_vaccine_names_its_dose_ignoring_case_spaces_and_punctuation() {
        let s = Schedule::national_2024();
        let id = |v: &str| s.dose_for_record(v).map(|d| d.id.as_str());
        let mr1 = id("MR1");
        assert!(mr1.is_some());
        for v in ["mr1", " M-R 1 ", "m.r.1"] {
            assert_eq!(id(v), mr1, "{v}");
        }
        for d in &s.doses {
            assert_eq!(id(&d.id), Some(d.id.as_str()));
            assert_eq!(
                id(&d.name.to_lowercase()),
                Some(d.id.as_str()),
                "{}",
                d.name
            );
        }
        // Non-ASCII text is compared char by char: a full-width digit is not a `1`, an
        // accented letter not its plain one, and letters and digits alone say nothing.
        assert_eq!(id("MR\u{ff11}"), None);
        assert_eq!(id("BCG\u{e9}"), None);
        assert_eq!(id("\u{e9}-- "), None);
        assert_eq!(id(""), None);
        assert_eq!(id("Polio"), None);
    }

    #[test]
    fn builtin_schedule_parses() {
        let s = Schedule::national_2024();
        assert_eq!(s.id, DEFAULT_SCHEDULE_ID);
        assert_eq!(s.doses.len(), 21);
        assert!(Schedule::builtin(DEFAULT_SCHEDULE_ID).is_some());
        assert!(Schedule::builtin("nope").is_none());
    }

    #[test]
    fn bad_schedules_are_rejected() {
        let bad = r#"{"id":"x","name":"x","source":"x","doses":[
            {"id":"A2","series":"A","name":"A2","earliest":{},"recommended":{},
             "on_time_before":{"months":1},"after":"A1"}]}"#;
        assert_eq!(
            Schedule::from_json(bad).map_err(|e| e.key()),
            Err("immunisation.table_invalid")
        );
        assert_eq!(
            Schedule::from_json("[]").map_err(|e| e.key()),
            Err("immunisation.table_parse")
        );
    }

    #[test]
    fn offsets_out_of_order_are_rejected() {
        let dose = |earliest: &str, recommended: &str, on_time: &str, allowed: &str| {
            format!(
                r#"{{"id":"x","name":"x","source":"x","doses":[
                {{"id":"A1","series":"A","name":"A1","earliest":{earliest},
                 "recommended":{recommended},"on_time_before":{on_time},"allowed_before":{allowed}}}]}}"#
            )
        };
        // (earliest, recommended, on_time_before, allowed_before, valid)
        let cases = [
            (r#"{}"#, r#"{"months":1}"#, r#"{"months":2}"#, "null", true),
            (
                r#"{"days":42}"#,
                r#"{"months":2}"#,
                r#"{"months":3}"#,
                r#"{"months":3}"#,
                true,
            ),
            (
                r#"{"months":2}"#,
                r#"{"months":1}"#,
                r#"{"months":3}"#,
                "null",
                false,
            ),
            (r#"{}"#, r#"{"months":2}"#, r#"{"months":2}"#, "null", false),
            (
                r#"{}"#,
                r#"{"months":1}"#,
                r#"{"months":3}"#,
                r#"{"months":2}"#,
                false,
            ),
            // 1 month is 28-31 days: 30 days is not always before it.
            (
                r#"{"days":30}"#,
                r#"{"months":1}"#,
                r#"{"months":2}"#,
                "null",
                false,
            ),
        ];
        for (e, r, t, a, valid) in cases {
            let got = Schedule::from_json(&dose(e, r, t, a)).map(|_| ());
            assert_eq!(got.is_ok(), valid, "{e} {r} {t} {a}: {got:?}");
            if !valid {
                assert_eq!(got.map_err(|e| e.key()), Err("immunisation.table_invalid"));
            }
        }
    }
}

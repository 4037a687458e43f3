//! The stored facts as health-rules wants them: live measurements per day, weighings for the
//! KMS, and the person's sex and birth date.

use crate::error::{Result, StoreError, ValidationError};
use crate::messages::{Key, invalid};
use crate::reads::{PersonSummary, TimelineEntry};
use crate::validate::parse_date;
use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::growth::{self, Measures, Position};
use health_rules::kms::Weighing;
use serde_json::Value;
use sync_protocol::{EntityKind, RecordId};

/// A record (or part of a record) health-rules could not use, and why. The rest of the
/// answer was built without it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HealthProblem {
    /// The fact to check, when one is to blame.
    pub fact: Option<RecordId>,
    /// Message key, e.g. `immunisation.given_before_birth`.
    pub key: String,
    /// The values of the key's text (`date`, `dose`, `birth` …): ISO dates, dot decimals.
    pub params: health_rules::Params,
}

impl HealthProblem {
    pub(super) fn new(fact: Option<RecordId>, key: &str, params: health_rules::Params) -> Self {
        Self {
            fact,
            key: key.to_string(),
            params,
        }
    }
}

/// One live measurement (not corrected by a later fact, not retracted).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LiveMeasurement {
    pub id: RecordId,
    pub date: NaiveDate,
    /// Schema type: `weight`, `length_height`, `head`, `muac`, `waist`, `bp_systolic`, …
    pub kind: String,
    pub value: f64,
    pub position: Option<Position>,
    /// The visit it was recorded in.
    pub visit: Option<String>,
}

pub(super) fn position(s: Option<&str>) -> Option<Position> {
    match s {
        Some("lying") => Some(Position::Lying),
        Some("standing") => Some(Position::Standing),
        _ => None,
    }
}

/// The live measurements of a timeline, oldest first (the order of `entries` within a day).
pub(super) fn live_measurements(entries: &[TimelineEntry]) -> Vec<LiveMeasurement> {
    entries
        .iter()
        .filter(|e| e.kind == EntityKind::Measurement && e.superseded_by.is_none())
        .filter_map(|e| {
            Some(LiveMeasurement {
                id: e.id,
                date: parse_date(&e.date)?,
                kind: e.body.get("type")?.as_str()?.to_string(),
                value: e.body.get("value")?.as_f64()?,
                position: position(e.body.get("position").and_then(Value::as_str)),
                visit: e
                    .body
                    .get("visit")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect()
}

/// The growth measurements of one day (the latest recorded value of each type wins).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Day {
    pub date: NaiveDate,
    pub measures: Measures,
    /// The fact behind the weight and the length/height.
    pub weight_fact: Option<RecordId>,
    pub length_fact: Option<RecordId>,
}

/// Growth measurements grouped by day, oldest first; days without weight, length/height,
/// head or arm circumference are left out.
pub(super) fn days(measurements: &[LiveMeasurement]) -> Vec<Day> {
    let mut out: Vec<Day> = Vec::new();
    for m in measurements {
        if out.last().is_none_or(|d| d.date != m.date) {
            out.push(Day {
                date: m.date,
                measures: Measures::default(),
                weight_fact: None,
                length_fact: None,
            });
        }
        let Some(day) = out.last_mut() else { continue };
        match m.kind.as_str() {
            "weight" => {
                day.measures.weight_kg = Some(m.value);
                day.weight_fact = Some(m.id);
            }
            "length_height" => {
                day.measures.length_height_cm = Some(m.value);
                day.measures.position = m.position;
                day.length_fact = Some(m.id);
            }
            "head" => day.measures.head_cm = Some(m.value),
            "muac" => day.measures.muac_cm = Some(m.value),
            _ => {}
        }
    }
    out.retain(|d| d.measures != Measures::default());
    out
}

/// Weighings below 60 months for the KMS, with their weight-for-age z (for BGM).
pub(super) fn weighings(sex: Sex, birth: NaiveDate, days: &[Day]) -> Vec<Weighing> {
    days.iter()
        .filter(|d| (0..60).contains(&crate::validate::age_months(birth, d.date)))
        .filter_map(|d| {
            let w = d.measures.weight_kg?;
            let wfa_z = growth::age_in_days(birth, d.date)
                .ok()
                .and_then(|age| growth::weight_for_age_z(sex, age, w).ok());
            Some(Weighing {
                date: d.date,
                weight_g: kg_to_g(w),
                wfa_z,
            })
        })
        .collect()
}

/// Kilograms to whole grams (0 for nonsense, which the KMS rules refuse).
pub(super) fn kg_to_g(kg: f64) -> u32 {
    let g = (kg * 1000.0).round();
    if g.is_finite() && g >= 0.0 && g <= f64::from(u32::MAX) {
        g as u32
    } else {
        0
    }
}

/// The sex and birth date health-rules needs, or a validation error naming what is missing.
pub(super) fn sex_and_birth(p: &PersonSummary) -> Result<(Sex, NaiveDate)> {
    let sex = super::with_rules::sex(p.sex.as_deref());
    let birth = p.birth_date.as_deref().and_then(parse_date);
    match (sex, birth) {
        (Some(s), Some(b)) => Ok((s, b)),
        (None, _) => Err(invalid("sex", Key::Required, &[]).into()),
        (_, None) => Err(invalid("birth_date", Key::Required, &[]).into()),
    }
}

/// A `YYYY-MM-DD` argument.
pub(super) fn date_arg(field: &str, s: &str) -> Result<NaiveDate> {
    parse_date(s).ok_or_else(|| StoreError::Invalid(invalid(field, Key::DateFormat, &[])))
}

/// A validation error for an argument that names no record of the right kind.
pub(super) fn not_a(field: &str, kind: &str) -> ValidationError {
    invalid(field, Key::WrongRecordKind, &[("kind", kind.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_never_overflow() {
        assert_eq!(kg_to_g(10.25), 10_250);
        assert_eq!(kg_to_g(f64::NAN), 0);
        assert_eq!(kg_to_g(-1.0), 0);
        assert_eq!(kg_to_g(1e300), 0);
    }
}

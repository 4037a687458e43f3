//! The stored facts as health-rules wants them: `records` reads them (live measurements
//! per day, weighings for the KMS); what is left here turns a missing sex or birth date
//! and a bad argument into the store's typed errors.

use crate::error::{Result, StoreError, ValidationError};
use crate::messages::{Key, invalid};
use crate::reads::PersonSummary;
use crate::validate::parse_date;
use chrono::NaiveDate;
use health_rules::Sex;

pub(super) use records::facts::{
    Day, HealthProblem, LiveMeasurement, days, live_measurements, position, weighings,
};

/// The sex and birth date health-rules needs, or a validation error naming what is missing.
pub(super) fn sex_and_birth(p: &PersonSummary) -> Result<(Sex, NaiveDate)> {
    let sex = records::facts::sex(p.sex.as_deref());
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

//! Input checks on top of `sync_protocol::schema::validate`: turning its rejections into typed
//! errors with message keys, required links, dates against the birth date, and plausibility
//! of measurements by life stage.

use crate::error::{Result, StoreError, ValidationError};
use crate::messages::{Key, invalid};
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use sync_protocol::schema::{FieldType, fields};
use sync_protocol::{Change, RecordId, Rejection};

/// Turns a schema rejection into a validation error with a specific message key.
pub(crate) fn from_rejection(change: &Change, r: &Rejection, today: &str) -> ValidationError {
    let field = r.field.clone().unwrap_or_else(|| "body".into());
    let detail = || vec![("detail", r.message.clone())];
    use sync_protocol::RejectCode as C;
    if matches!(
        r.code,
        C::InvalidEnvelope | C::UnsupportedSchema | C::TooLarge
    ) {
        return invalid(&field, Key::Envelope, &detail());
    }
    let Some(spec) = fields(change.kind).iter().find(|s| s.name == field) else {
        return invalid(&field, Key::UnknownField, &[]);
    };
    if field == "position" && change.kind == sync_protocol::EntityKind::Measurement {
        return invalid(&field, Key::PositionRequired, &[]);
    }
    let value = change.body.get(&field);
    let Some(value) = value else {
        return invalid(&field, Key::Required, &[]);
    };
    if field == "unit" && change.kind == sync_protocol::EntityKind::Measurement {
        let ty = change
            .body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let unit = sync_protocol::schema::MEASUREMENT_RANGES
            .iter()
            .find(|(t, ..)| *t == ty)
            .map_or("", |(_, u, ..)| *u);
        return invalid(
            &field,
            Key::UnitMismatch,
            &[("type", ty.to_string()), ("unit", unit.to_string())],
        );
    }
    if field == "value" && change.kind == sync_protocol::EntityKind::Measurement {
        let ty = change
            .body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some((_, _, min, max)) = sync_protocol::schema::MEASUREMENT_RANGES
            .iter()
            .find(|(t, ..)| *t == ty)
        {
            return invalid(
                &field,
                Key::OutOfRange,
                &[("min", min.to_string()), ("max", max.to_string())],
            );
        }
    }
    if field == "expiry"
        && change.kind == sync_protocol::EntityKind::Immunisation
        && let (Some(expiry), Some(date)) = (
            value.as_str(),
            change.body.get("date").and_then(Value::as_str),
        )
        && sync_protocol::schema::is_valid_date(expiry)
        && expiry < date
    {
        return invalid(
            &field,
            Key::VialExpired,
            &[("expiry", expiry.to_string()), ("date", date.to_string())],
        );
    }
    match spec.ty {
        FieldType::Text { max } => {
            if value.as_str().is_some_and(|s| s.trim().is_empty()) {
                invalid(&field, Key::Empty, &[])
            } else if value.is_string() {
                invalid(&field, Key::TextTooLong, &[("max", max.to_string())])
            } else {
                invalid(&field, Key::WrongType, &[])
            }
        }
        FieldType::Digits { len } => invalid(&field, Key::Digits, &[("len", len.to_string())]),
        FieldType::DigitCode { min, max } => {
            invalid(&field, Key::Digits, &[("len", format!("{min}–{max}"))])
        }
        FieldType::Time => invalid(&field, Key::TimeFormat, &[]),
        FieldType::PlaceCode => invalid(
            &field,
            Key::PlaceCode,
            &[("value", value.as_str().unwrap_or_default().to_string())],
        ),
        FieldType::Ref => invalid(&field, Key::RecordRef, &[]),
        FieldType::Date | FieldType::PlannedDate => match value.as_str() {
            Some(s) if sync_protocol::schema::is_valid_date(s) && s > today => {
                invalid(&field, Key::DateInFuture, &[("today", today.to_string())])
            }
            Some(s) if sync_protocol::schema::is_valid_date(s) => {
                invalid(&field, Key::DateTooOld, &[])
            }
            _ => invalid(&field, Key::DateFormat, &[]),
        },
        FieldType::Int { min, max } => invalid(
            &field,
            Key::OutOfRange,
            &[("min", min.to_string()), ("max", max.to_string())],
        ),
        FieldType::Number { min, max } => invalid(
            &field,
            Key::OutOfRange,
            &[("min", min.to_string()), ("max", max.to_string())],
        ),
        FieldType::Enum(_) => invalid(&field, Key::Choice, &[]),
        FieldType::Bool => invalid(&field, Key::WrongType, &[]),
        FieldType::Answers { .. } => invalid(&field, Key::Answers, &[]),
        FieldType::StampRef => invalid(&field, Key::RecordRef, &[]),
    }
}

/// What the store knows of a person, for checks.
#[derive(Debug, Clone)]
pub(crate) struct PersonFacts {
    pub posyandu: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    pub status: String,
}

/// Requires `id` to be a live record of `kind` (table `table`).
pub(crate) fn require_live(
    conn: &Connection,
    field: &str,
    id: &RecordId,
    kind: &str,
) -> Result<()> {
    let row: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT r.kind, COALESCE(
                 (SELECT deleted FROM facts WHERE id = r.id),
                 (SELECT deleted FROM persons WHERE id = r.id),
                 (SELECT deleted FROM households WHERE id = r.id),
                 (SELECT deleted FROM pregnancies WHERE id = r.id),
                 (SELECT deleted FROM referrals WHERE id = r.id), 1)
             FROM records r WHERE r.id = ?1",
        )?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Err(invalid(field, Key::UnknownRecord, &[]).into()),
        Some((k, _)) if k != kind => {
            Err(invalid(field, Key::WrongRecordKind, &[("kind", kind.to_string())]).into())
        }
        Some((_, d)) if d != 0 => Err(invalid(field, Key::RecordDeleted, &[]).into()),
        Some(_) => Ok(()),
    }
}

pub(crate) fn person(conn: &Connection, field: &str, id: &RecordId) -> Result<PersonFacts> {
    require_live(conn, field, id, "person")?;
    let (posyandu, sex, birth, status): (Option<String>, Option<String>, Option<String>, String) =
        conn.prepare_cached("SELECT posyandu, sex, birth_date, status FROM persons WHERE id = ?1")?
            .query_row([id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
    Ok(PersonFacts {
        posyandu: posyandu.unwrap_or_default(),
        sex: sex.unwrap_or_default(),
        birth_date: birth.as_deref().and_then(parse_date),
        status,
    })
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    records::facts::parse_date(s)
}

/// Completed months between two dates: the workspace's one rule
/// ([`records::age_in_months`], from health-rules), as a signed number for the device's
/// range checks: `-1` when `on` is before `birth`.
pub fn age_months(birth: NaiveDate, on: NaiveDate) -> i64 {
    records::age_in_months(birth, on).map_or(-1, i64::from)
}

/// A date field must not be before the person's birth.
pub(crate) fn not_before_birth(field: &str, date: Option<&str>, p: &PersonFacts) -> Result<()> {
    if let (Some(d), Some(b)) = (date.and_then(parse_date), p.birth_date)
        && d < b
    {
        return Err(invalid(
            field,
            Key::DateBeforeBirth,
            &[("birth_date", b.format("%d/%m/%Y").to_string())],
        )
        .into());
    }
    Ok(())
}

/// Plausible range of a measurement for an age in months: health-rules' table (one table
/// for the check before saving and the refusal on save), for every measurement type.
pub fn plausible_range(ty: &str, age_months: i64) -> Option<(f64, f64)> {
    let months = u32::try_from(age_months.max(0)).unwrap_or(u32::MAX);
    health_rules::checks::plausible_range(ty, months)
}

/// Checks a measurement body against the person's age.
pub(crate) fn measurement_for_age(body: &sync_protocol::Body, p: &PersonFacts) -> Result<()> {
    let date = body.get("date").and_then(Value::as_str);
    not_before_birth("date", date, p)?;
    let (Some(ty), Some(value), Some(birth), Some(on)) = (
        body.get("type").and_then(Value::as_str),
        body.get("value").and_then(Value::as_f64),
        p.birth_date,
        date.and_then(parse_date),
    ) else {
        return Ok(());
    };
    // Outside the schema's absolute range: the schema's own message is clearer.
    let absolute = sync_protocol::schema::MEASUREMENT_RANGES
        .iter()
        .find(|(t, ..)| *t == ty)
        .is_some_and(|(_, _, lo, hi)| (*lo..=*hi).contains(&value));
    if !absolute {
        return Ok(());
    }
    let months = age_months(birth, on);
    if let Some((lo, hi)) = plausible_range(ty, months)
        && !(lo..=hi).contains(&value)
    {
        let unit = body.get("unit").and_then(Value::as_str).unwrap_or_default();
        // The age in each language's own words (one set of arguments fills both sentences).
        let (age_id, age_en) = if months < 24 {
            (format!("{months} bulan"), format!("{months} months"))
        } else {
            let y = months / 12;
            (format!("{y} tahun"), format!("{y} years"))
        };
        return Err(StoreError::Invalid(invalid(
            "value",
            Key::ImplausibleForAge,
            &[
                ("type", ty.to_string()),
                ("type_id", measurement_name(ty).0.to_string()),
                ("type_en", measurement_name(ty).1.to_string()),
                ("value", value.to_string()),
                ("unit", unit.to_string()),
                ("age_id", age_id),
                ("age_en", age_en),
                ("age_months", months.to_string()),
            ],
        )));
    }
    Ok(())
}

/// NIK cross-check (digits 7–12 are the birth date DDMMYY, with 40 added to the day for
/// women). Returns a warning, not an error: registers are sometimes wrong, and the kader
/// decides.
pub fn nik_warning(nik: &str, sex: &str, birth: &str) -> Option<ValidationError> {
    let d = |r: std::ops::Range<usize>| nik.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(day), Some(month), Some(yy), Some(b)) =
        (d(6..8), d(8..10), d(10..12), parse_date(birth))
    else {
        return None;
    };
    use chrono::Datelike;
    let (day, female) = if day > 40 {
        (day - 40, true)
    } else {
        (day, false)
    };
    let sex_ok = female == (sex == "female");
    let date_ok = day == b.day() && month == b.month() && yy == (b.year() as u32) % 100;
    (!sex_ok || !date_ok).then(|| invalid("nik", Key::NikMismatch, &[]))
}

/// A measurement type in words (Bahasa Indonesia, English), for messages.
fn measurement_name(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "weight" => ("Berat badan", "weight"),
        "length_height" => ("Panjang/tinggi badan", "length/height"),
        "head" => ("Lingkar kepala", "head circumference"),
        "muac" => ("LiLA", "LiLA (arm circumference)"),
        "waist" => ("Lingkar perut", "waist circumference"),
        "bp_systolic" => ("Tekanan darah sistolik", "systolic blood pressure"),
        "bp_diastolic" => ("Tekanan darah diastolik", "diastolic blood pressure"),
        "blood_sugar" => ("Gula darah", "blood sugar"),
        "hb" => ("Hb", "Hb"),
        "temperature" => ("Suhu badan", "temperature"),
        _ => ("Nilai", "value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_completed_months() {
        let d = |s| parse_date(s).unwrap_or_default();
        // One rule with health-rules' KMS (issue 13): born 31 January, one month old on the
        // last day of February.
        assert_eq!(age_months(d("2025-01-31"), d("2025-02-28")), 1);
        assert_eq!(age_months(d("2024-01-31"), d("2024-02-29")), 1);
        assert_eq!(age_months(d("2024-01-31"), d("2024-02-28")), 0);
        assert_eq!(age_months(d("2025-01-15"), d("2025-02-15")), 1);
        assert_eq!(age_months(d("2020-06-01"), d("2025-05-31")), 59);
        assert_eq!(age_months(d("2025-06-02"), d("2025-06-01")), -1);
    }

    #[test]
    fn nik_cross_check() {
        // 53.04.05 + 410320 (female, 1 March 2020) + 0001
        assert!(nik_warning("5304054103200001", "female", "2020-03-01").is_none());
        assert!(nik_warning("5304054103200001", "male", "2020-03-01").is_some());
        assert!(nik_warning("5304050103200001", "male", "2020-03-02").is_some());
    }

    #[test]
    fn plausible_ranges_by_age() {
        assert_eq!(plausible_range("weight", 0), Some((0.5, 8.0)));
        assert!(plausible_range("weight", 30).is_some_and(|(lo, hi)| lo <= 12.0 && 12.0 <= hi));
        assert!(plausible_range("weight", 30).is_some_and(|(_, hi)| hi < 105.0));
        // Every measure has one (issue 16: LiLA 225 cm was judged "normal").
        assert_eq!(plausible_range("muac", 400), Some((10.0, 50.0)));
        assert_eq!(plausible_range("bp_systolic", 400), Some((50.0, 260.0)));
        assert_eq!(plausible_range("unknown", 400), None);
    }
}

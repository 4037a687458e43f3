//! Errors of the growth module.

use chrono::NaiveDate;
use thiserror::Error;

use super::Indicator;

/// Why a growth computation could not be done.
///
/// Every variant has a stable message key ([`GrowthError::key`]) for the app's
/// translation files; the `Display` text is the English sentence.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GrowthError {
    /// The measurement date is before the birth date.
    #[error("the measurement date {measure_date} is before the birth date {birth_date}")]
    MeasureBeforeBirth {
        birth_date: NaiveDate,
        measure_date: NaiveDate,
    },
    /// The child is older than every WHO table covers (the WHO 2007 reference ends at 19 years).
    #[error(
        "the child is {age_days} days old; WHO growth references cover birth to 19 years (below 229 months)"
    )]
    AgeOutOfRange { age_days: u32 },
    /// The indicator has no WHO table at this age (e.g. arm circumference before 91 days or after 1856 days,
    /// weight-for-age after 120 months).
    #[error("{indicator} has no WHO reference at {age_days} days of age")]
    IndicatorAgeOutOfRange { indicator: Indicator, age_days: u32 },
    /// The length or height is outside the WHO weight-for-length (45–110 cm) or weight-for-height (65–120 cm) table.
    #[error("{indicator} is defined for {min}–{max} cm; the child measures {} cm", Num(*.length_cm))]
    LengthOutOfRange {
        indicator: Indicator,
        length_cm: f64,
        min: f64,
        max: f64,
    },
    /// A measurement is not a number or outside its plausibility bounds (e.g. weight
    /// 0.2–250 kg, length/height 20–250 cm, head 15–70 cm, MUAC 5–60 cm): a typing error.
    #[error("the {what} must be a number from {min} to {max}; got {}", Num(*.value))]
    InvalidValue {
        what: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
    /// `zscore` was asked for weight-for-length/height, which is indexed by length, not age.
    #[error("{indicator} is indexed by length or height, not age: use zscore_for_length")]
    NotAgeBased { indicator: Indicator },
    /// `zscore_for_length` was asked for an age-based indicator.
    #[error("{indicator} is indexed by age, not length: use zscore")]
    NotLengthBased { indicator: Indicator },
    /// Weight-for-length/height is computed only for weights of 0.9–58 kg (WHO anthro).
    #[error(
        "{indicator} is computed for weights of {min}–{max} kg; the child weighs {} kg",
        Num(*.weight_kg)
    )]
    WeightOutOfRange {
        indicator: Indicator,
        weight_kg: f64,
        min: f64,
        max: f64,
    },
    /// With bilateral pitting oedema WHO computes no weight-based z-score (weight-for-age,
    /// weight-for-length/height, BMI-for-age); the child counts as below −3 SD for them.
    #[error(
        "weight-based z-scores are not computed for a child with oedema (counts as below -3 SD)"
    )]
    Oedema,
    /// No measurement at all was given (weight, length/height, head or arm circumference).
    #[error(
        "no measurement was given: enter at least one of weight, length/height, head or arm circumference"
    )]
    NoMeasurement,
}

impl GrowthError {
    /// Stable message key, e.g. `growth.age_out_of_range`.
    pub fn key(&self) -> &'static str {
        match self {
            GrowthError::MeasureBeforeBirth { .. } => "growth.measure_before_birth",
            GrowthError::AgeOutOfRange { .. } => "growth.age_out_of_range",
            GrowthError::IndicatorAgeOutOfRange { .. } => "growth.indicator_age_out_of_range",
            GrowthError::LengthOutOfRange { .. } => "growth.length_out_of_range",
            GrowthError::InvalidValue { .. } => "growth.invalid_value",
            GrowthError::NotAgeBased { .. } => "growth.not_age_based",
            GrowthError::NotLengthBased { .. } => "growth.not_length_based",
            GrowthError::WeightOutOfRange { .. } => "growth.weight_out_of_range",
            GrowthError::Oedema => "growth.oedema",
            GrowthError::NoMeasurement => "growth.no_measurement",
        }
    }

    /// The values of [`Self::key`]'s text: `date`, `birth`, `age_days`, `indicator` (its
    /// key, e.g. `wfl`), `measure` (`weight`, `length_height`, …), `value`, `min`, `max`.
    pub fn params(&self) -> crate::Params {
        use crate::common::params;
        match self {
            GrowthError::MeasureBeforeBirth {
                birth_date,
                measure_date,
            } => params([
                ("date", measure_date.to_string()),
                ("birth", birth_date.to_string()),
            ]),
            GrowthError::AgeOutOfRange { age_days } => params([("age_days", age_days.to_string())]),
            GrowthError::IndicatorAgeOutOfRange {
                indicator,
                age_days,
            } => params([
                ("indicator", indicator.code().to_string()),
                ("age_days", age_days.to_string()),
            ]),
            GrowthError::LengthOutOfRange {
                indicator,
                length_cm: value,
                min,
                max,
            }
            | GrowthError::WeightOutOfRange {
                indicator,
                weight_kg: value,
                min,
                max,
            } => params([
                ("indicator", indicator.code().to_string()),
                ("value", value.to_string()),
                ("min", min.to_string()),
                ("max", max.to_string()),
            ]),
            GrowthError::InvalidValue {
                what,
                value,
                min,
                max,
            } => params([
                ("measure", what_code(what).to_string()),
                ("value", value.to_string()),
                ("min", min.to_string()),
                ("max", max.to_string()),
            ]),
            GrowthError::NotAgeBased { indicator } | GrowthError::NotLengthBased { indicator } => {
                params([("indicator", indicator.code().to_string())])
            }
            GrowthError::Oedema | GrowthError::NoMeasurement => crate::Params::new(),
        }
    }

    /// The message in Bahasa Indonesia (the `Display` text is English).
    pub fn message_id(&self) -> String {
        match self {
            GrowthError::MeasureBeforeBirth {
                birth_date,
                measure_date,
            } => format!(
                "tanggal pengukuran {measure_date} sebelum tanggal lahir {birth_date}"
            ),
            GrowthError::AgeOutOfRange { age_days } => format!(
                "umur anak {age_days} hari; rujukan pertumbuhan WHO hanya sampai umur 19 tahun (di bawah 229 bulan)"
            ),
            GrowthError::IndicatorAgeOutOfRange {
                indicator,
                age_days,
            } => format!(
                "{} tidak punya rujukan WHO pada umur {age_days} hari",
                indicator.label().id
            ),
            GrowthError::LengthOutOfRange {
                indicator,
                length_cm,
                min,
                max,
            } => format!(
                "{} hanya untuk panjang/tinggi {min}–{max} cm; anak ini {} cm",
                indicator.label().id,
                Num(*length_cm)
            ),
            GrowthError::InvalidValue {
                what,
                value,
                min,
                max,
            } => format!(
                "{} harus angka dari {min} sampai {max}; tertulis {}",
                what_id(what),
                Num(*value)
            ),
            GrowthError::NotAgeBased { indicator } => format!(
                "{} dihitung menurut panjang/tinggi badan, bukan umur",
                indicator.label().id
            ),
            GrowthError::NotLengthBased { indicator } => format!(
                "{} dihitung menurut umur, bukan panjang/tinggi badan",
                indicator.label().id
            ),
            GrowthError::WeightOutOfRange {
                indicator,
                weight_kg,
                min,
                max,
            } => format!(
                "{} hanya dihitung untuk berat {min}–{max} kg; anak ini {} kg",
                indicator.label().id,
                Num(*weight_kg)
            ),
            GrowthError::Oedema => "z-skor berbasis berat badan tidak dihitung bila ada edema (dihitung sebagai di bawah -3 SD)".to_string(),
            GrowthError::NoMeasurement => "tidak ada pengukuran: isi minimal salah satu dari berat, panjang/tinggi, lingkar kepala atau LiLA".to_string(),
        }
    }
}

/// A number in a message: one decimal, scientific notation from a million on, so an
/// absurd input (1e308) never prints 300 digits.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.is_finite() && v.abs() < 1e6 {
            write!(f, "{v:.1}")
        } else if v.is_finite() {
            write!(f, "{v:.1e}")
        } else {
            write!(f, "{v}")
        }
    }
}

/// The schema's measurement type of a quantity named in [`GrowthError::InvalidValue`].
fn what_code(what: &str) -> &'static str {
    match what {
        "weight (kg)" => "weight",
        "length/height (cm)" => "length_height",
        "head circumference (cm)" => "head",
        "arm circumference (cm)" => "muac",
        "BMI (kg/m²)" => "bmi",
        _ => "value",
    }
}

/// Indonesian name of a measured quantity named in [`GrowthError::InvalidValue`].
fn what_id(what: &str) -> &'static str {
    match what {
        "weight (kg)" => "berat badan (kg)",
        "length/height (cm)" => "panjang/tinggi badan (cm)",
        "head circumference (cm)" => "lingkar kepala (cm)",
        "arm circumference (cm)" => "lingkar lengan atas (cm)",
        "BMI (kg/m²)" => "IMT (kg/m²)",
        _ => "nilai pengukuran",
    }
}

//! WHO growth z-scores and Permenkes 2/2020 nutritional-status categories.
//!
//! * 0–1856 days: WHO Child Growth Standards 2006, day-indexed LMS tables for
//!   weight-for-age, length/height-for-age, weight-for-length (45–110 cm),
//!   weight-for-height (65–120 cm), BMI-for-age, head-circumference-for-age and
//!   arm-circumference-for-age (from 91 days).
//! * 61 to < 229 months: WHO Growth Reference 2007, month-indexed, interpolated linearly
//!   between whole months as WHO's `who2007` macro does: height-for-age, BMI-for-age,
//!   and weight-for-age up to 120 months.
//!
//! The rules follow WHO's igrowup/anthro code (see `docs/health-rules-growth.md`):
//! age in whole days, length below 731 days and height from 731 days with a 0.7 cm
//! correction when the measured position does not match, the restricted z-score
//! beyond ±3 SD for weight-for-age, weight-for-length/height, BMI-for-age and
//! arm-circumference-for-age (not length/height or head circumference), linear
//! interpolation of L, M and S between 0.1 cm rows for weight-for-length/height,
//! no weight-based z-scores with oedema (weight-for-length/height then carries the
//! category gizi buruk without a z), and WHO's plausibility flags. Raw measurements
//! outside plausibility bounds ([`WEIGHT_KG_BOUNDS`], [`LENGTH_CM_BOUNDS`],
//! [`HEAD_CM_BOUNDS`], [`MUAC_CM_BOUNDS`]) are rejected as typing errors.
//!
//! Low-level functions ([`zscore`], [`weight_for_age_z`], …) return the unrounded
//! z-score. [`assess`] rounds to 2 decimals ([`round_z`]), as WHO reports z-scores,
//! and applies the flags and categories to the rounded value; the KMS red and orange
//! lines use the same rounding, so BGM and the BB/U category always agree.

mod assess;
mod categories;
pub mod chart;
mod error;
mod lms;
mod tables;

use serde::{Deserialize, Serialize};

use crate::common::{Label, Sex};
pub use assess::{
    Assessment, IndicatorResult, Measurement, Measures, Skipped, age_days_from_months, age_in_days,
    assess, assess_at_age, corrected_length,
};
pub use categories::Category;
pub use error::GrowthError;
use tables::{Lms, LmsTable, tables};

/// Days per month in WHO's conversion (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;
/// Last day of the WHO 2006 standards (the tables run 0..=1856 days).
pub const WHO2006_MAX_AGE_DAYS: u32 = 1856;
/// First day on which length is expected to be measured standing (height): 731 days.
pub const STANDING_FROM_DAY: u32 = 731;
/// Last age covered at all: WHO's `who2007` macro scores ages below 229 months
/// (its tables end at 228 months); 6970 days = 228.99 months.
pub const MAX_AGE_DAYS: u32 = 6970;
/// Correction between lying length and standing height, in cm.
pub const LENGTH_HEIGHT_CORRECTION_CM: f64 = 0.7;

/// A WHO growth indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Weight-for-age (BB/U).
    WeightForAge,
    /// Length/height-for-age (PB/U, TB/U).
    LengthHeightForAge,
    /// Weight-for-length (BB/PB), children under 731 days.
    WeightForLength,
    /// Weight-for-height (BB/TB), children from 731 days.
    WeightForHeight,
    /// BMI-for-age (IMT/U).
    BmiForAge,
    /// Head-circumference-for-age (LK/U).
    HeadCircumferenceForAge,
    /// Mid-upper-arm-circumference-for-age (LiLA/U).
    ArmCircumferenceForAge,
}

impl Indicator {
    /// All indicators, in report order.
    pub const ALL: [Indicator; 7] = [
        Indicator::WeightForAge,
        Indicator::LengthHeightForAge,
        Indicator::WeightForLength,
        Indicator::WeightForHeight,
        Indicator::BmiForAge,
        Indicator::HeadCircumferenceForAge,
        Indicator::ArmCircumferenceForAge,
    ];

    /// WHO's short code: `wfa`, `lhfa`, `wfl`, `wfh`, `bfa`, `hcfa`, `acfa`.
    pub fn code(self) -> &'static str {
        match self {
            Indicator::WeightForAge => "wfa",
            Indicator::LengthHeightForAge => "lhfa",
            Indicator::WeightForLength => "wfl",
            Indicator::WeightForHeight => "wfh",
            Indicator::BmiForAge => "bfa",
            Indicator::HeadCircumferenceForAge => "hcfa",
            Indicator::ArmCircumferenceForAge => "acfa",
        }
    }

    /// Name for people, Indonesian (with the KMS abbreviation) and English.
    pub fn label(self) -> Label {
        let (key, id, en) = match self {
            Indicator::WeightForAge => (
                "growth.indicator.wfa",
                "Berat badan menurut umur (BB/U)",
                "Weight-for-age",
            ),
            Indicator::LengthHeightForAge => (
                "growth.indicator.lhfa",
                "Panjang/tinggi badan menurut umur (PB/U, TB/U)",
                "Length/height-for-age",
            ),
            Indicator::WeightForLength => (
                "growth.indicator.wfl",
                "Berat badan menurut panjang badan (BB/PB)",
                "Weight-for-length",
            ),
            Indicator::WeightForHeight => (
                "growth.indicator.wfh",
                "Berat badan menurut tinggi badan (BB/TB)",
                "Weight-for-height",
            ),
            Indicator::BmiForAge => (
                "growth.indicator.bfa",
                "Indeks massa tubuh menurut umur (IMT/U)",
                "BMI-for-age",
            ),
            Indicator::HeadCircumferenceForAge => (
                "growth.indicator.hcfa",
                "Lingkar kepala menurut umur (LK/U)",
                "Head-circumference-for-age",
            ),
            Indicator::ArmCircumferenceForAge => (
                "growth.indicator.acfa",
                "Lingkar lengan atas menurut umur (LiLA/U)",
                "Arm-circumference-for-age",
            ),
        };
        Label { key, id, en }
    }

    /// Does WHO use the restricted computation beyond ±3 SD for this indicator?
    /// Yes for the weight-based ones and arm circumference; no for length/height and head circumference.
    pub fn uses_restricted_tail(self) -> bool {
        !matches!(
            self,
            Indicator::LengthHeightForAge | Indicator::HeadCircumferenceForAge
        )
    }

    /// WHO's plausibility flag for a (rounded) z-score: weight-for-age below −6 or
    /// above +5; length/height-for-age beyond ±6; all others beyond ±5.
    pub fn is_implausible(self, z: f64) -> bool {
        match self {
            Indicator::WeightForAge => !(-6.0..=5.0).contains(&z),
            Indicator::LengthHeightForAge => z.abs() > 6.0,
            _ => z.abs() > 5.0,
        }
    }

    /// Weight-for-length and weight-for-height are indexed by length, the rest by age.
    pub fn is_length_based(self) -> bool {
        matches!(
            self,
            Indicator::WeightForLength | Indicator::WeightForHeight
        )
    }
}

impl std::fmt::Display for Indicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // English name as used in sentences: "weight-for-age", "BMI-for-age".
        let en = self.label().en;
        match en.strip_prefix("BMI") {
            Some(_) => f.write_str(en),
            None => f.write_str(&en.to_lowercase()),
        }
    }
}

/// Which WHO reference a z-score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// WHO Child Growth Standards 2006 (0–1856 days).
    Who2006,
    /// WHO Growth Reference 2007 (61 to < 229 months).
    Who2007,
}

/// How length/height was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Recumbent length (lying down), expected below 731 days.
    Lying,
    /// Standing height, expected from 731 days.
    Standing,
}

impl Position {
    /// The position WHO expects at this age: lying below 731 days, standing from 731 days.
    pub fn expected_at(age_days: u32) -> Position {
        if age_days < STANDING_FROM_DAY {
            Position::Lying
        } else {
            Position::Standing
        }
    }
}

/// Plausible range of a raw weight in kg. Anything outside is a typing error, not a child.
pub const WEIGHT_KG_BOUNDS: (f64, f64) = (0.2, 250.0);
/// Plausible range of a raw length or height in cm.
pub const LENGTH_CM_BOUNDS: (f64, f64) = (20.0, 250.0);
/// Plausible range of a raw head circumference in cm.
pub const HEAD_CM_BOUNDS: (f64, f64) = (15.0, 70.0);
/// Plausible range of a raw mid-upper-arm circumference in cm.
pub const MUAC_CM_BOUNDS: (f64, f64) = (5.0, 60.0);
/// Plausible range of a BMI in kg/m² passed to [`zscore`] directly.
pub const BMI_BOUNDS: (f64, f64) = (1.0, 200.0);

/// `value` if it is a finite number within `bounds` (inclusive), else
/// [`GrowthError::InvalidValue`]. Keeps absurd inputs (1e308 kg) from producing
/// infinite z-scores.
fn check_range(what: &'static str, value: f64, bounds: (f64, f64)) -> Result<f64, GrowthError> {
    if value.is_finite() && (bounds.0..=bounds.1).contains(&value) {
        Ok(value)
    } else {
        Err(GrowthError::InvalidValue {
            what,
            value,
            min: bounds.0,
            max: bounds.1,
        })
    }
}

/// The plausibility bounds of the measurement an age-based indicator scores.
fn bounds_of(indicator: Indicator) -> (&'static str, (f64, f64)) {
    match indicator {
        Indicator::WeightForAge | Indicator::WeightForLength | Indicator::WeightForHeight => {
            ("weight (kg)", WEIGHT_KG_BOUNDS)
        }
        Indicator::LengthHeightForAge => ("length/height (cm)", LENGTH_CM_BOUNDS),
        Indicator::BmiForAge => ("BMI (kg/m²)", BMI_BOUNDS),
        Indicator::HeadCircumferenceForAge => ("head circumference (cm)", HEAD_CM_BOUNDS),
        Indicator::ArmCircumferenceForAge => ("arm circumference (cm)", MUAC_CM_BOUNDS),
    }
}

/// A z-score rounded to 2 decimals, as WHO reports it. [`assess`] uses it for the
/// categories and flags, and [`crate::kms`] for BGM, so both always agree.
/// A non-finite z stays non-finite.
pub fn round_z(z: f64) -> f64 {
    (z * 100.0).round() / 100.0
}

/// L, M and S for an age-based indicator at `age_days`, and the reference used.
fn age_lms(indicator: Indicator, sex: Sex, age_days: u32) -> Result<(Lms, Reference), GrowthError> {
    let t = tables();
    let out_of_range = GrowthError::IndicatorAgeOutOfRange {
        indicator,
        age_days,
    };
    if age_days > MAX_AGE_DAYS {
        return Err(GrowthError::AgeOutOfRange { age_days });
    }
    if age_days <= WHO2006_MAX_AGE_DAYS {
        let table: &LmsTable = match indicator {
            Indicator::WeightForAge => &t.wfa,
            Indicator::LengthHeightForAge => &t.lhfa,
            Indicator::BmiForAge => &t.bfa,
            Indicator::HeadCircumferenceForAge => &t.hcfa,
            Indicator::ArmCircumferenceForAge => &t.acfa,
            Indicator::WeightForLength | Indicator::WeightForHeight => {
                return Err(GrowthError::NotAgeBased { indicator });
            }
        };
        let lms = table.get(sex, i64::from(age_days)).ok_or(out_of_range)?;
        return Ok((lms, Reference::Who2006));
    }
    let table: &LmsTable = match indicator {
        Indicator::WeightForAge => &t.who2007_wfa,
        Indicator::LengthHeightForAge => &t.who2007_hfa,
        Indicator::BmiForAge => &t.who2007_bfa,
        Indicator::WeightForLength | Indicator::WeightForHeight => {
            return Err(GrowthError::NotAgeBased { indicator });
        }
        Indicator::HeadCircumferenceForAge | Indicator::ArmCircumferenceForAge => {
            return Err(out_of_range);
        }
    };
    // who2007: exact age in months, L/M/S interpolated between the whole months around it.
    // WHO scores up to (not including) the month after the last row (121 months for
    // weight-for-age, 229 for the others); there the last row is used as it is, which
    // reproduces WHO's output (e.g. 228.31 months in WHO's sample survey).
    let months = f64::from(age_days) / DAYS_PER_MONTH;
    let low = months.trunc();
    let frac = months - low;
    let low_row = table.get(sex, low as i64).ok_or(out_of_range)?;
    let lms = match table.get(sex, low as i64 + 1) {
        Some(high_row) if frac > 0.0 => low_row.lerp(high_row, frac),
        _ => low_row,
    };
    Ok((lms, Reference::Who2007))
}

/// Range of the weight-for-length (45–110 cm) or weight-for-height (65–120 cm) table.
fn length_range(indicator: Indicator) -> Result<(&'static LmsTable, f64, f64), GrowthError> {
    let t = tables();
    match indicator {
        Indicator::WeightForLength => Ok((&t.wfl, 45.0, 110.0)),
        Indicator::WeightForHeight => Ok((&t.wfh, 65.0, 120.0)),
        _ => Err(GrowthError::NotLengthBased { indicator }),
    }
}

/// L, M and S at `length_cm`, interpolated between the 0.1 cm rows as WHO does:
/// `low = trunc(x·10)/10`, `frac = (x − low)/0.1`.
fn length_lms(indicator: Indicator, sex: Sex, length_cm: f64) -> Result<Lms, GrowthError> {
    let (table, min, max) = length_range(indicator)?;
    if !(min..=max).contains(&length_cm) {
        return Err(GrowthError::LengthOutOfRange {
            indicator,
            length_cm,
            min,
            max,
        });
    }
    let tenths = length_cm * 10.0;
    let low = tenths.trunc();
    let frac = tenths - low;
    let out = GrowthError::LengthOutOfRange {
        indicator,
        length_cm,
        min,
        max,
    };
    let low_row = table.get(sex, low as i64).ok_or(out.clone())?;
    if frac > 0.0 {
        let high_row = table.get(sex, low as i64 + 1).ok_or(out)?;
        Ok(low_row.lerp(high_row, frac))
    } else {
        Ok(low_row)
    }
}

fn z_for(indicator: Indicator, y: f64, p: Lms) -> f64 {
    if indicator.uses_restricted_tail() {
        lms::z_restricted(y, p)
    } else {
        lms::z_plain(y, p)
    }
}

/// Unrounded z-score of an age-based indicator (everything but weight-for-length/height).
///
/// `age_days` up to 1856 uses the WHO 2006 standards; beyond, the WHO 2007 reference
/// (height-for-age and BMI-for-age below 229 months, weight-for-age below 121 months).
/// `value` is kg, cm (already corrected for position, see [`corrected_length`]) or kg/m².
pub fn zscore(
    indicator: Indicator,
    sex: Sex,
    age_days: u32,
    value: f64,
) -> Result<f64, GrowthError> {
    let (what, bounds) = bounds_of(indicator);
    let y = check_range(what, value, bounds)?;
    let (p, _) = age_lms(indicator, sex, age_days)?;
    Ok(z_for(indicator, y, p))
}

/// Unrounded weight-for-length or weight-for-height z-score.
pub fn zscore_for_length(
    indicator: Indicator,
    sex: Sex,
    length_cm: f64,
    weight_kg: f64,
) -> Result<f64, GrowthError> {
    let y = check_range("weight (kg)", weight_kg, WEIGHT_KG_BOUNDS)?;
    check_range("length/height (cm)", length_cm, LENGTH_CM_BOUNDS)?;
    let p = length_lms(indicator, sex, length_cm)?;
    Ok(z_for(indicator, y, p))
}

/// Weight-for-age z-score (BB/U), unrounded. The KMS red line (BGM) may be given
/// this value: [`crate::kms`] rounds it with [`round_z`] before comparing, as
/// [`assess`] does for the categories.
pub fn weight_for_age_z(sex: Sex, age_days: u32, weight_kg: f64) -> Result<f64, GrowthError> {
    zscore(Indicator::WeightForAge, sex, age_days, weight_kg)
}

/// Length/height-for-age z-score, unrounded. `length_cm` must already match the
/// age's position (see [`corrected_length`]).
pub fn length_height_for_age_z(
    sex: Sex,
    age_days: u32,
    length_cm: f64,
) -> Result<f64, GrowthError> {
    zscore(Indicator::LengthHeightForAge, sex, age_days, length_cm)
}

/// Weight-for-length z-score (45–110 cm), unrounded.
pub fn weight_for_length_z(sex: Sex, length_cm: f64, weight_kg: f64) -> Result<f64, GrowthError> {
    zscore_for_length(Indicator::WeightForLength, sex, length_cm, weight_kg)
}

/// Weight-for-height z-score (65–120 cm), unrounded.
pub fn weight_for_height_z(sex: Sex, height_cm: f64, weight_kg: f64) -> Result<f64, GrowthError> {
    zscore_for_length(Indicator::WeightForHeight, sex, height_cm, weight_kg)
}

/// BMI-for-age z-score, unrounded.
pub fn bmi_for_age_z(sex: Sex, age_days: u32, bmi: f64) -> Result<f64, GrowthError> {
    zscore(Indicator::BmiForAge, sex, age_days, bmi)
}

/// Head-circumference-for-age z-score, unrounded.
pub fn head_circumference_for_age_z(
    sex: Sex,
    age_days: u32,
    head_cm: f64,
) -> Result<f64, GrowthError> {
    zscore(Indicator::HeadCircumferenceForAge, sex, age_days, head_cm)
}

/// Arm-circumference-for-age (MUAC) z-score, 91–1856 days, unrounded.
pub fn arm_circumference_for_age_z(
    sex: Sex,
    age_days: u32,
    muac_cm: f64,
) -> Result<f64, GrowthError> {
    zscore(Indicator::ArmCircumferenceForAge, sex, age_days, muac_cm)
}

fn curve(p: Lms) -> [f64; 7] {
    [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0].map(|z| lms::value_at(z, p))
}

/// The measurement at −3, −2, −1, 0, +1, +2, +3 SD for an age-based indicator at
/// `age_days` (for drawing a KMS chart). `None` where WHO has no table.
pub fn sd_curve(indicator: Indicator, sex: Sex, age_days: u32) -> Option<[f64; 7]> {
    age_lms(indicator, sex, age_days)
        .ok()
        .map(|(p, _)| curve(p))
}

/// The weight at −3..+3 SD for weight-for-length/height at `length_cm`.
pub fn sd_curve_for_length(indicator: Indicator, sex: Sex, length_cm: f64) -> Option<[f64; 7]> {
    length_lms(indicator, sex, length_cm).ok().map(curve)
}

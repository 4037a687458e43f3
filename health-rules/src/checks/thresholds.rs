//! The thresholds of the measurement checks as versioned data
//! (`data/checks/ambang-pengukuran.json`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::common::Sex;

/// Id of the built-in thresholds.
pub const DEFAULT_THRESHOLDS_ID: &str = "ambang-pengukuran-v1";
pub(super) const BUILTIN_THRESHOLDS: &str =
    include_str!("../../data/checks/ambang-pengukuran.json");

/// Errors of the threshold table. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksError {
    #[error("measurement thresholds could not be read: {0}")]
    TableParse(String),
    #[error("measurement thresholds are invalid: {0}")]
    TableInvalid(String),
}

impl ChecksError {
    pub fn key(&self) -> &'static str {
        match self {
            Self::TableParse(_) => "checks.table_parse",
            Self::TableInvalid(_) => "checks.table_invalid",
        }
    }

    /// The values of [`Self::key`]'s text (none: the table's detail is for the log).
    pub fn params(&self) -> crate::Params {
        crate::Params::new()
    }
}

/// An "are you sure?" range for one measurement type from an age.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmRange {
    /// Measurement type as in the schema (`weight`, `bp_systolic`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub from_months: u32,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmRanges {
    pub source: String,
    pub ranges: Vec<ConfirmRange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jumps {
    pub source: String,
    pub child_wfa_z_change: f64,
    pub child_max_days: u32,
    pub length_decrease_cm: f64,
    pub head_decrease_cm: f64,
    pub adult_weight_change_pct: f64,
    pub adult_max_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BloodPressure {
    pub source: String,
    pub from_months: u32,
    pub elevated_systolic: f64,
    pub elevated_diastolic: f64,
    pub high_systolic: f64,
    pub high_diastolic: f64,
    pub crisis_systolic: f64,
    pub crisis_diastolic: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BloodSugar {
    pub source: String,
    pub high_mg_dl: f64,
    pub low_mg_dl: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waist {
    pub source: String,
    pub from_months: u32,
    pub male_cm: f64,
    pub female_cm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lila {
    pub source: String,
    pub kek_cm: f64,
    pub child_severe_cm: f64,
    pub child_moderate_cm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HbRow {
    pub from_months: u32,
    /// Exclusive; `None`: no upper age.
    pub to_months: Option<u32>,
    /// `None`: both sexes.
    pub sex: Option<Sex>,
    /// Anaemia below this (g/dL).
    pub below: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hb {
    pub source: String,
    pub rows: Vec<HbRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    pub source: String,
    pub fever_c: f64,
    pub high_fever_c: f64,
    pub young_infant_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdultBmi {
    pub source: String,
    pub from_months: u32,
    pub severe_thin_below: f64,
    pub thin_below: f64,
    pub overweight_above: f64,
    pub obese_above: f64,
}

/// The versioned thresholds of the measurement checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub id: String,
    pub name: String,
    pub source: String,
    pub confirm: ConfirmRanges,
    pub jumps: Jumps,
    pub blood_pressure: BloodPressure,
    pub blood_sugar: BloodSugar,
    pub waist: Waist,
    pub lila: Lila,
    pub hb: Hb,
    pub temperature: Temperature,
    pub adult_bmi: AdultBmi,
}

impl Thresholds {
    /// Parse and check a table (every range `min < max`, the BP and BMI cut-offs in order).
    pub fn from_json(json: &str) -> Result<Self, ChecksError> {
        let t: Self =
            serde_json::from_str(json).map_err(|e| ChecksError::TableParse(e.to_string()))?;
        let bad = |m: &str| Err(ChecksError::TableInvalid(format!("{}: {m}", t.id)));
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite() && *x > 0.0);
        if !t
            .confirm
            .ranges
            .iter()
            .all(|r| finite(&[r.min, r.max]) && r.min < r.max)
        {
            return bad("every confirm range needs 0 < min < max");
        }
        let bp = &t.blood_pressure;
        if !(finite(&[bp.elevated_systolic, bp.elevated_diastolic])
            && bp.elevated_systolic < bp.high_systolic
            && bp.high_systolic < bp.crisis_systolic
            && bp.elevated_diastolic < bp.high_diastolic
            && bp.high_diastolic < bp.crisis_diastolic)
        {
            return bad("blood pressure cut-offs must rise: elevated < high < crisis");
        }
        let b = &t.adult_bmi;
        if !(finite(&[b.severe_thin_below])
            && b.severe_thin_below < b.thin_below
            && b.thin_below < b.overweight_above
            && b.overweight_above < b.obese_above)
        {
            return bad("adult BMI cut-offs must rise");
        }
        let l = &t.lila;
        if !(finite(&[l.kek_cm, l.child_severe_cm]) && l.child_severe_cm < l.child_moderate_cm) {
            return bad("LiLA cut-offs");
        }
        let s = &t.blood_sugar;
        if !(finite(&[s.low_mg_dl]) && s.low_mg_dl < s.high_mg_dl) {
            return bad("blood sugar: low < high");
        }
        let tp = &t.temperature;
        if !(finite(&[tp.fever_c]) && tp.fever_c <= tp.high_fever_c) {
            return bad("temperature: fever <= high fever");
        }
        if !t.hb.rows.iter().all(|r| finite(&[r.below])) {
            return bad("Hb thresholds must be positive");
        }
        Ok(t)
    }

    /// The built-in thresholds (`ambang-pengukuran-v1`).
    pub fn builtin() -> &'static Thresholds {
        static T: OnceLock<Thresholds> = OnceLock::new();
        T.get_or_init(|| {
            Thresholds::from_json(BUILTIN_THRESHOLDS)
                .expect("embedded thresholds parse (checked by test builtin_thresholds_parse)")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pregnancy;

    #[test]
    fn builtin_thresholds_parse() {
        let t = Thresholds::builtin();
        assert_eq!(t.id, DEFAULT_THRESHOLDS_ID);
        assert_eq!(t.blood_pressure.high_systolic, 140.0);
        assert_eq!(t.lila.kek_cm, pregnancy::KEK_LILA_CM);
        assert!(!t.source.is_empty() && !t.blood_sugar.source.is_empty());
    }

    #[test]
    fn bad_thresholds_are_refused() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN_THRESHOLDS).unwrap_or_default();
        v["blood_pressure"]["high_systolic"] = serde_json::json!(200.0);
        assert_eq!(
            Thresholds::from_json(&v.to_string()).map_err(|e| e.key()),
            Err("checks.table_invalid")
        );
        assert_eq!(
            Thresholds::from_json("{}").map_err(|e| e.key()),
            Err("checks.table_parse")
        );
    }
}

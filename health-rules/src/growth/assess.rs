//! One visit's measurements in, every applicable z-score with its category and flag out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    Category, DAYS_PER_MONTH, GrowthError, HEAD_CM_BOUNDS, Indicator, LENGTH_CM_BOUNDS,
    LENGTH_HEIGHT_CORRECTION_CM, MAX_AGE_DAYS, MUAC_CM_BOUNDS, Position, Reference,
    STANDING_FROM_DAY, WEIGHT_KG_BOUNDS, WHO2006_MAX_AGE_DAYS, check_range, round_z, zscore,
    zscore_for_length,
};
use crate::common::Sex;

/// What was measured at one visit. Every field is optional except `oedema`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    /// Weight in kg.
    pub weight_kg: Option<f64>,
    /// Length (lying) or height (standing) in cm, as measured.
    pub length_height_cm: Option<f64>,
    /// How length/height was measured; `None` means "as expected for the age"
    /// (lying below 731 days, standing from 731 days), so no correction.
    pub position: Option<Position>,
    /// Head circumference in cm.
    pub head_cm: Option<f64>,
    /// Mid-upper-arm circumference (LiLA) in cm.
    pub muac_cm: Option<f64>,
    /// Bilateral pitting oedema: WHO computes no weight-based z-score then, and the
    /// child is severely wasted (gizi buruk) whatever the weight.
    #[serde(default)]
    pub oedema: bool,
}

/// A child's measurement at one visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub measure_date: NaiveDate,
    #[serde(flatten)]
    pub measures: Measures,
}

/// One indicator's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorResult {
    /// z-score rounded to 2 decimals, as WHO reports it. `None` only for
    /// weight-for-length/height with bilateral pitting oedema: WHO computes no z-score
    /// then, but the category is [`Category::SeverelyWasted`] (gizi buruk).
    pub z: Option<f64>,
    /// Permenkes 2/2020 category, where the regulation defines one for this indicator and age
    /// (none for head and arm circumference, none for height- and weight-for-age after 60 months).
    pub category: Option<Category>,
    /// WHO plausibility flag: the value is probably a measuring or recording error; check it.
    pub flagged: bool,
    /// The WHO reference used.
    pub reference: Reference,
}

/// An indicator that was measured for but could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub indicator: Indicator,
    /// Message key, e.g. `growth.oedema`.
    pub key: &'static str,
    /// English sentence.
    pub reason: String,
    /// The same sentence in Bahasa Indonesia.
    pub reason_id: String,
}

/// Everything [`assess`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub sex: Sex,
    /// Age in completed days.
    pub age_days: u32,
    /// Age in months (days / 30.4375).
    pub age_months: f64,
    /// Length/height after WHO's 0.7 cm position correction: a length below 731 days,
    /// a height from 731 days.
    pub length_height_cm: Option<f64>,
    /// BMI in kg/m² from weight and the corrected length/height.
    pub bmi: Option<f64>,
    pub wfa: Option<IndicatorResult>,
    pub lhfa: Option<IndicatorResult>,
    /// Weight-for-length, below 731 days.
    pub wfl: Option<IndicatorResult>,
    /// Weight-for-height, 731–1856 days.
    pub wfh: Option<IndicatorResult>,
    pub bfa: Option<IndicatorResult>,
    pub hcfa: Option<IndicatorResult>,
    pub acfa: Option<IndicatorResult>,
    /// Measured indicators that could not be computed.
    pub skipped: Vec<Skipped>,
}

impl Assessment {
    /// The result for one indicator.
    pub fn get(&self, indicator: Indicator) -> Option<&IndicatorResult> {
        match indicator {
            Indicator::WeightForAge => self.wfa.as_ref(),
            Indicator::LengthHeightForAge => self.lhfa.as_ref(),
            Indicator::WeightForLength => self.wfl.as_ref(),
            Indicator::WeightForHeight => self.wfh.as_ref(),
            Indicator::BmiForAge => self.bfa.as_ref(),
            Indicator::HeadCircumferenceForAge => self.hcfa.as_ref(),
            Indicator::ArmCircumferenceForAge => self.acfa.as_ref(),
        }
    }

    fn slot(&mut self, indicator: Indicator) -> &mut Option<IndicatorResult> {
        match indicator {
            Indicator::WeightForAge => &mut self.wfa,
            Indicator::LengthHeightForAge => &mut self.lhfa,
            Indicator::WeightForLength => &mut self.wfl,
            Indicator::WeightForHeight => &mut self.wfh,
            Indicator::BmiForAge => &mut self.bfa,
            Indicator::HeadCircumferenceForAge => &mut self.hcfa,
            Indicator::ArmCircumferenceForAge => &mut self.acfa,
        }
    }

    /// Is any computed z-score flagged as implausible?
    pub fn any_flagged(&self) -> bool {
        Indicator::ALL
            .iter()
            .filter_map(|i| self.get(*i))
            .any(|r| r.flagged)
    }

    fn record(&mut self, indicator: Indicator, outcome: Result<f64, GrowthError>) {
        match outcome {
            Ok(z) => {
                let reference = if self.age_days <= WHO2006_MAX_AGE_DAYS {
                    Reference::Who2006
                } else {
                    Reference::Who2007
                };
                *self.slot(indicator) = Some(result(indicator, reference, z));
            }
            Err(e) => self.skip(indicator, &e),
        }
    }

    fn skip(&mut self, indicator: Indicator, e: &GrowthError) {
        self.skipped.push(Skipped {
            indicator,
            key: e.key(),
            reason: e.to_string(),
            reason_id: e.message_id(),
        });
    }
}

fn result(indicator: Indicator, reference: Reference, z: f64) -> IndicatorResult {
    let z = round_z(z);
    let category = match (indicator, reference) {
        (Indicator::WeightForAge, Reference::Who2006) => Some(Category::weight_for_age(z)),
        (Indicator::LengthHeightForAge, Reference::Who2006) => {
            Some(Category::length_height_for_age(z))
        }
        (Indicator::WeightForLength | Indicator::WeightForHeight, _)
        | (Indicator::BmiForAge, Reference::Who2006) => {
            Some(Category::weight_for_length_or_bmi_under_five(z))
        }
        (Indicator::BmiForAge, Reference::Who2007) => Some(Category::bmi_for_age_5_to_18(z)),
        _ => None,
    };
    IndicatorResult {
        z: Some(z),
        category,
        flagged: indicator.is_implausible(z),
        reference,
    }
}

/// Age in completed days between birth and measurement.
pub fn age_in_days(birth_date: NaiveDate, measure_date: NaiveDate) -> Result<u32, GrowthError> {
    let days = (measure_date - birth_date).num_days();
    u32::try_from(days).map_err(|_| GrowthError::MeasureBeforeBirth {
        birth_date,
        measure_date,
    })
}

/// WHO's conversion when only the age in months is known: `round(months × 30.4375)`
/// (R's `round`, ties to even). `None` for a negative or non-finite age.
pub fn age_days_from_months(months: f64) -> Option<u32> {
    let days = (months * DAYS_PER_MONTH).round_ties_even();
    if days.is_finite() && days >= 0.0 && days <= f64::from(u32::MAX) {
        Some(days as u32)
    } else {
        None
    }
}

/// WHO's position correction: +0.7 cm for a standing height below 731 days,
/// −0.7 cm for a lying length from 731 days; unchanged otherwise (also when the
/// position is unknown).
pub fn corrected_length(age_days: u32, length_height_cm: f64, position: Option<Position>) -> f64 {
    match (position, age_days < STANDING_FROM_DAY) {
        (Some(Position::Standing), true) => length_height_cm + LENGTH_HEIGHT_CORRECTION_CM,
        (Some(Position::Lying), false) => length_height_cm - LENGTH_HEIGHT_CORRECTION_CM,
        _ => length_height_cm,
    }
}

/// Assess one measurement: age from the two dates, then [`assess_at_age`].
pub fn assess(m: &Measurement) -> Result<Assessment, GrowthError> {
    let age_days = age_in_days(m.birth_date, m.measure_date)?;
    assess_at_age(m.sex, age_days, &m.measures)
}

/// Weight-for-length/height accepts weights of 0.9–58 kg only (WHO anthro).
const WFL_WEIGHT_RANGE: (f64, f64) = (0.9, 58.0);

/// Assess measurements taken at `age_days` (use [`age_days_from_months`] when only
/// months are known).
///
/// Errors only for input that makes the whole visit meaningless (a value that is not a
/// number or outside its plausibility bounds — weight 0.2–250 kg, length/height
/// 20–250 cm, head 15–70 cm, MUAC 5–60 cm —, no measurement, age of 229 months or
/// more). An indicator that was measured for but cannot be computed (e.g. MUAC before
/// 91 days, weight-for-age and BMI with oedema, a length outside the weight-for-length
/// table) is left `None` and listed in [`Assessment::skipped`]. Weight-for-height after
/// 1856 days does not exist and is neither computed nor listed.
///
/// With oedema (below 1857 days) weight-for-length/height is
/// `Some(IndicatorResult { z: None, category: Some(SeverelyWasted), .. })`: gizi buruk.
pub fn assess_at_age(
    sex: Sex,
    age_days: u32,
    measures: &Measures,
) -> Result<Assessment, GrowthError> {
    let weight = measures
        .weight_kg
        .map(|v| check_range("weight (kg)", v, WEIGHT_KG_BOUNDS))
        .transpose()?;
    let raw_length = measures
        .length_height_cm
        .map(|v| check_range("length/height (cm)", v, LENGTH_CM_BOUNDS))
        .transpose()?;
    let head = measures
        .head_cm
        .map(|v| check_range("head circumference (cm)", v, HEAD_CM_BOUNDS))
        .transpose()?;
    let muac = measures
        .muac_cm
        .map(|v| check_range("arm circumference (cm)", v, MUAC_CM_BOUNDS))
        .transpose()?;
    if weight.is_none() && raw_length.is_none() && head.is_none() && muac.is_none() {
        return Err(GrowthError::NoMeasurement);
    }
    if age_days > MAX_AGE_DAYS {
        return Err(GrowthError::AgeOutOfRange { age_days });
    }

    let length = raw_length.map(|l| corrected_length(age_days, l, measures.position));
    let bmi = match (weight, length) {
        (Some(w), Some(l)) => Some(w / (l / 100.0).powi(2)),
        _ => None,
    };
    let mut a = Assessment {
        sex,
        age_days,
        age_months: f64::from(age_days) / DAYS_PER_MONTH,
        length_height_cm: length,
        bmi,
        wfa: None,
        lhfa: None,
        wfl: None,
        wfh: None,
        bfa: None,
        hcfa: None,
        acfa: None,
        skipped: Vec::new(),
    };

    let wfl_indicator = if age_days < STANDING_FROM_DAY {
        Indicator::WeightForLength
    } else {
        Indicator::WeightForHeight
    };
    if measures.oedema {
        let oedema = GrowthError::Oedema;
        if weight.is_some() {
            a.skip(Indicator::WeightForAge, &oedema);
        }
        if weight.is_some() && length.is_some() {
            a.skip(Indicator::BmiForAge, &oedema);
        }
        // Bilateral pitting oedema is gizi buruk (severe acute malnutrition) whatever
        // the weight: weight-for-length/height gets that category without a z-score.
        if age_days <= WHO2006_MAX_AGE_DAYS {
            *a.slot(wfl_indicator) = Some(IndicatorResult {
                z: None,
                category: Some(Category::SeverelyWasted),
                flagged: false,
                reference: Reference::Who2006,
            });
        }
    } else {
        if let Some(w) = weight {
            a.record(
                Indicator::WeightForAge,
                zscore(Indicator::WeightForAge, sex, age_days, w),
            );
        }
        // Above 1856 days weight-for-height does not exist (WHO 2007 has no such
        // table): it is not applicable, so it is not listed as skipped either.
        if let (Some(w), Some(l)) = (weight, length)
            && age_days <= WHO2006_MAX_AGE_DAYS
        {
            if !(WFL_WEIGHT_RANGE.0..=WFL_WEIGHT_RANGE.1).contains(&w) {
                let e = GrowthError::WeightOutOfRange {
                    indicator: wfl_indicator,
                    weight_kg: w,
                    min: WFL_WEIGHT_RANGE.0,
                    max: WFL_WEIGHT_RANGE.1,
                };
                a.skip(wfl_indicator, &e);
            } else {
                a.record(wfl_indicator, zscore_for_length(wfl_indicator, sex, l, w));
            }
        }
        if let Some(b) = bmi {
            a.record(
                Indicator::BmiForAge,
                zscore(Indicator::BmiForAge, sex, age_days, b),
            );
        }
    }
    if let Some(l) = length {
        a.record(
            Indicator::LengthHeightForAge,
            zscore(Indicator::LengthHeightForAge, sex, age_days, l),
        );
    }
    if let Some(h) = head {
        a.record(
            Indicator::HeadCircumferenceForAge,
            zscore(Indicator::HeadCircumferenceForAge, sex, age_days, h),
        );
    }
    if let Some(c) = muac {
        a.record(
            Indicator::ArmCircumferenceForAge,
            zscore(Indicator::ArmCircumferenceForAge, sex, age_days, c),
        );
    }
    Ok(a)
}

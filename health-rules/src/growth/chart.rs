//! Data for drawing a growth chart (KMS): the WHO curves at −3 … +3 SD, the Permenkes
//! category bands, the KMS red and orange lines, and a child's points with their z-scores.
//!
//! The curves come from the same daily LMS tables as the z-scores (`data/who/*.tsv`), so a
//! point drawn on a curve has exactly that curve's z-score. The default resolution is every
//! half month from birth to 6 months, then every month to 60 months (ages in days are
//! `round(months × 30.4375)`, WHO's conversion). Length/height-for-age has two points at
//! 24 months: the last length (day 730, lying) and the first height (day 731, standing);
//! the chart breaks its lines where [`CurvePoint::position`] changes, as the WHO charts do.
//!
//! Colours are the app's business: health-rules gives each band a [`Level`], the same
//! scale as every other finding. The KMS lines are data ([`RedLine`], [`OrangeLine`]).

use serde::{Deserialize, Serialize};

use super::{
    Category, DAYS_PER_MONTH, GrowthError, Indicator, Position, STANDING_FROM_DAY,
    WHO2006_MAX_AGE_DAYS, age_days_from_months, age_lms, corrected_length, lms, round_z, zscore,
};
use crate::advice::{Level, category_level_and_action};
use crate::common::{Label, Sex};
use crate::kms::{OrangeLine, RedLine};

/// The SD levels of [`CurvePoint::sd`], in order.
pub const SD_LEVELS: [i8; 7] = [-3, -2, -1, 0, 1, 2, 3];

/// Last age of the default chart: 60 months (1826 days).
pub const CHART_MAX_MONTHS: u32 = crate::age::UNDER_FIVE_MONTHS;

/// The curves at one age.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub age_days: u32,
    /// `age_days / 30.4375`, for the x axis.
    pub age_months: f64,
    /// Length/height-for-age only: lying (length) below 731 days, standing (height) from 731.
    pub position: Option<Position>,
    /// The measurement at −3, −2, −1, 0 (median), +1, +2, +3 SD ([`SD_LEVELS`]).
    pub sd: [f64; 7],
}

/// A Permenkes 2/2020 category as a band between two z-scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Lower bound (`None`: no lower bound).
    pub from_z: Option<f64>,
    /// Upper bound (`None`: no upper bound).
    pub to_z: Option<f64>,
    /// Serialises as its label.
    pub category: Category,
    pub level: Level,
}

/// One point of a reference line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinePoint {
    pub age_days: u32,
    pub age_months: f64,
    pub value: f64,
}

/// A KMS line (red line, orange line) drawn at a weight-for-age z-score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceLine {
    /// `red_line` or `orange_line`.
    pub kind: &'static str,
    pub label: Label,
    /// Version id of the line's table, e.g. `red-line-kms-2010`.
    pub table_id: String,
    pub z: f64,
    pub points: Vec<LinePoint>,
}

/// Everything to draw one indicator's chart for one sex.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub indicator: Indicator,
    /// The indicator's name (BB/U, PB/U-TB/U, …).
    pub label: Label,
    pub sex: Sex,
    /// `kg` or `cm`.
    pub unit: &'static str,
    pub sd_levels: [i8; 7],
    pub curves: Vec<CurvePoint>,
    pub bands: Vec<Band>,
    /// The KMS red and orange lines (weight-for-age only).
    pub lines: Vec<ReferenceLine>,
}

/// One measurement to place on a chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChartInput {
    pub age_days: u32,
    /// As measured (kg or cm).
    pub value: f64,
    /// How length/height was measured (`None`: as expected for the age).
    #[serde(default)]
    pub position: Option<Position>,
}

/// A measurement placed on a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacedPoint {
    pub age_days: u32,
    pub age_months: f64,
    /// As measured.
    pub value: f64,
    /// Where to draw it: for length/height after WHO's 0.7 cm position correction.
    pub plotted: f64,
    /// z-score rounded to 2 decimals (`None` when it cannot be computed, see `error_key`).
    pub z: Option<f64>,
    /// Permenkes 2/2020 category (0–1856 days; none for head/arm circumference).
    pub category: Option<Category>,
    /// WHO plausibility flag: probably a measuring or typing error.
    pub flagged: bool,
    /// `GrowthError::key()` when no z-score could be computed.
    pub error_key: Option<&'static str>,
}

fn unit(indicator: Indicator) -> &'static str {
    match indicator {
        Indicator::WeightForAge | Indicator::WeightForLength | Indicator::WeightForHeight => "kg",
        Indicator::BmiForAge => "kg/m²",
        _ => "cm",
    }
}

/// The ages (days) of the default chart: every half month to 6 months, then every month
/// to 60 months; for length/height-for-age also day 731 (the first height).
pub fn default_ages(indicator: Indicator) -> Vec<u32> {
    let half_months = (0..12).map(|h| f64::from(h) / 2.0);
    let months = (6..=CHART_MAX_MONTHS).map(f64::from);
    let mut ages: Vec<u32> = half_months
        .chain(months)
        .filter_map(age_days_from_months)
        .collect();
    if indicator == Indicator::LengthHeightForAge
        && let Some(i) = ages.iter().position(|&d| d >= STANDING_FROM_DAY)
        && ages.get(i) != Some(&STANDING_FROM_DAY)
    {
        ages.insert(i, STANDING_FROM_DAY);
    }
    ages
}

/// The measurement at `z` for the LMS row `p`, the inverse of the z-score WHO computes for
/// this indicator (linear beyond ±3 SD for the restricted indicators).
fn value_at_z(indicator: Indicator, p: super::tables::Lms, z: f64) -> f64 {
    if indicator.uses_restricted_tail() && z.abs() > 3.0 {
        let sd3 = lms::value_at(3.0_f64.copysign(z), p);
        let sd2 = lms::value_at(2.0_f64.copysign(z), p);
        sd3 + (z.abs() - 3.0) * (sd3 - sd2)
    } else {
        lms::value_at(z, p)
    }
}

fn months(age_days: u32) -> f64 {
    f64::from(age_days) / DAYS_PER_MONTH
}

/// The −3 … +3 SD curves of an age-based indicator at the given ages (days). Ages where
/// WHO has no table (arm circumference before 91 days, beyond the references) are left out.
pub fn curves_at(
    indicator: Indicator,
    sex: Sex,
    ages: &[u32],
) -> Result<Vec<CurvePoint>, GrowthError> {
    if indicator.is_length_based() {
        return Err(GrowthError::NotAgeBased { indicator });
    }
    Ok(ages
        .iter()
        .filter_map(|&age_days| {
            let (p, _) = age_lms(indicator, sex, age_days).ok()?;
            Some(CurvePoint {
                age_days,
                age_months: months(age_days),
                position: (indicator == Indicator::LengthHeightForAge)
                    .then(|| Position::expected_at(age_days)),
                sd: SD_LEVELS.map(|k| value_at_z(indicator, p, f64::from(k))),
            })
        })
        .collect())
}

/// The Permenkes 2/2020 bands of an indicator for 0–60 months (none for head and arm
/// circumference). Boundaries apply to the z rounded to 2 decimals, as in
/// [`Category`]: a band's `to_z` belongs to it when the category says "to +1", etc.
pub fn bands(indicator: Indicator) -> Vec<Band> {
    use Category::*;
    let rows: &[(Option<f64>, Option<f64>, Category)] = match indicator {
        Indicator::WeightForAge => &[
            (None, Some(-3.0), SeverelyUnderweight),
            (Some(-3.0), Some(-2.0), Underweight),
            (Some(-2.0), Some(1.0), NormalWeight),
            (Some(1.0), None, RiskOfOverweight),
        ],
        Indicator::LengthHeightForAge => &[
            (None, Some(-3.0), SeverelyStunted),
            (Some(-3.0), Some(-2.0), Stunted),
            (Some(-2.0), Some(3.0), NormalHeight),
            (Some(3.0), None, Tall),
        ],
        Indicator::WeightForLength | Indicator::WeightForHeight | Indicator::BmiForAge => &[
            (None, Some(-3.0), SeverelyWasted),
            (Some(-3.0), Some(-2.0), Wasted),
            (Some(-2.0), Some(1.0), NormalNutrition),
            (Some(1.0), Some(2.0), PossibleRiskOfOverweight),
            (Some(2.0), Some(3.0), Overweight),
            (Some(3.0), None, Obese),
        ],
        Indicator::HeadCircumferenceForAge | Indicator::ArmCircumferenceForAge => &[],
    };
    rows.iter()
        .map(|&(from_z, to_z, category)| Band {
            from_z,
            to_z,
            category,
            level: category_level_and_action(category).0,
        })
        .collect()
}

/// The KMS red and orange lines as weight-for-age curves at the given ages.
pub fn kms_lines(sex: Sex, ages: &[u32], red: &RedLine, orange: &OrangeLine) -> Vec<ReferenceLine> {
    let line = |kind, label, table_id: &str, z: f64| ReferenceLine {
        kind,
        label,
        table_id: table_id.to_string(),
        z,
        points: ages
            .iter()
            .filter_map(|&age_days| {
                let (p, _) = age_lms(Indicator::WeightForAge, sex, age_days).ok()?;
                Some(LinePoint {
                    age_days,
                    age_months: months(age_days),
                    value: value_at_z(Indicator::WeightForAge, p, z),
                })
            })
            .collect(),
    };
    vec![
        line(
            "red_line",
            Label {
                key: "chart.line.red",
                id: "Garis merah (BGM di bawahnya)",
                en: "Red line (BGM below it)",
            },
            &red.id,
            red.wfa_z,
        ),
        line(
            "orange_line",
            Label {
                key: "chart.line.orange",
                id: "Garis oranye",
                en: "Orange line",
            },
            &orange.id,
            orange.wfa_z,
        ),
    ]
}

/// The chart of an age-based indicator from birth to 60 months at the default resolution,
/// with the built-in KMS lines for weight-for-age. See [`chart_with`].
pub fn chart(indicator: Indicator, sex: Sex) -> Result<Chart, GrowthError> {
    chart_with(
        indicator,
        sex,
        RedLine::kms_2010(),
        OrangeLine::buku_kia_2020(),
    )
}

/// The chart of an age-based indicator (weight-for-age, length/height-for-age, BMI-,
/// head- or arm-circumference-for-age) from birth to 60 months, with the given KMS lines
/// on the weight-for-age chart.
pub fn chart_with(
    indicator: Indicator,
    sex: Sex,
    red: &RedLine,
    orange: &OrangeLine,
) -> Result<Chart, GrowthError> {
    let ages = default_ages(indicator);
    let curves = curves_at(indicator, sex, &ages)?;
    let lines = if indicator == Indicator::WeightForAge {
        kms_lines(sex, &ages, red, orange)
    } else {
        Vec::new()
    };
    Ok(Chart {
        indicator,
        label: indicator.label(),
        sex,
        unit: unit(indicator),
        sd_levels: SD_LEVELS,
        curves,
        bands: bands(indicator),
        lines,
    })
}

/// Place measurements on an age-based chart: each with its z-score (rounded), Permenkes
/// category and WHO flag. Length/height is corrected for the position first (`plotted`).
/// A value that cannot be scored keeps `z: None` and says why (`error_key`).
pub fn place_points(indicator: Indicator, sex: Sex, points: &[ChartInput]) -> Vec<PlacedPoint> {
    points
        .iter()
        .map(|p| {
            let plotted = if indicator == Indicator::LengthHeightForAge {
                corrected_length(p.age_days, p.value, p.position)
            } else {
                p.value
            };
            let (z, error_key) = match zscore(indicator, sex, p.age_days, plotted) {
                Ok(z) => (Some(round_z(z)), None),
                Err(e) => (None, Some(e.key())),
            };
            let under_five = p.age_days <= WHO2006_MAX_AGE_DAYS;
            let category = z.filter(|_| under_five).and_then(|z| match indicator {
                Indicator::WeightForAge => Some(Category::weight_for_age(z)),
                Indicator::LengthHeightForAge => Some(Category::length_height_for_age(z)),
                Indicator::BmiForAge => Some(Category::weight_for_length_or_bmi_under_five(z)),
                _ => None,
            });
            PlacedPoint {
                age_days: p.age_days,
                age_months: months(p.age_days),
                value: p.value,
                plotted,
                z,
                category,
                flagged: z.is_some_and(|z| indicator.is_implausible(z)),
                error_key,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_ages_cover_birth_to_five_years() {
        let ages = default_ages(Indicator::WeightForAge);
        assert_eq!(ages.first(), Some(&0));
        assert_eq!(ages.last(), Some(&1826));
        assert_eq!(ages.len(), 12 + 55);
        assert!(ages.windows(2).all(|w| w[0] < w[1]));
        let l = default_ages(Indicator::LengthHeightForAge);
        assert!(l.contains(&730) && l.contains(&731));
        assert!(l.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn restricted_value_inverts_the_restricted_z() {
        let (p, _) = age_lms(Indicator::WeightForAge, Sex::Female, 400).unwrap();
        for z in [-4.5, -3.2, 3.7, 5.0] {
            let y = value_at_z(Indicator::WeightForAge, p, z);
            assert!((lms::z_restricted(y, p) - z).abs() < 1e-9, "{z}");
        }
    }

    #[test]
    fn length_based_indicators_have_no_age_chart() {
        assert!(chart(Indicator::WeightForLength, Sex::Male).is_err());
        assert!(chart(Indicator::HeadCircumferenceForAge, Sex::Male).is_ok());
        let acfa = chart(Indicator::ArmCircumferenceForAge, Sex::Male).unwrap();
        assert!(acfa.curves.iter().all(|c| c.age_days >= 91));
    }
}

//! The growth chart of one child: the WHO curves for their sex, their weighings and
//! lengths placed on them (corrections applied), the KMS results, and the latest result in
//! words with the next action.

use super::facts::{self, Day, HealthProblem};
use super::with_rules::kbm;
use crate::error::Result;
use crate::store::Store;
use crate::validate::age_months;
use health_rules::Sex;
use health_rules::advice::{self, Finding, most_pressing};
use health_rules::growth::chart::{self, Chart, ChartInput, PlacedPoint};
use health_rules::growth::{self, Indicator, WHO2006_MAX_AGE_DAYS};
use health_rules::kms::{GrowthActions, KmsResult, MonthResult, YearMonth};
use records::growth::kms_results;
use serde::Serialize;
use sync_protocol::RecordId;

/// One measurement on the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartPoint {
    pub date: String,
    /// The measurement fact (to open or correct it).
    pub fact: RecordId,
    /// Age, value as measured, value drawn (length/height after the position correction),
    /// z-score, Permenkes category, WHO flag.
    #[serde(flatten)]
    pub point: PlacedPoint,
    /// Weight-for-age only: the KMS result of the month when this weighing is the one that
    /// counts for it.
    pub kms: Option<KmsResult>,
}

/// One indicator's chart with the child's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorChart {
    /// Curves (−3 … +3 SD), Permenkes bands and, for weight-for-age, the KMS lines.
    #[serde(flatten)]
    pub chart: Chart,
    pub points: Vec<ChartPoint>,
}

/// The latest measurement day in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestGrowth {
    pub date: String,
    pub age_months: i64,
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    /// The KMS result of that weighing (N, T, O, B, 2T, BGM, above the orange line).
    pub kms: Option<MonthResult>,
    /// KMS result and z-score categories in words, each with what to do.
    pub findings: Vec<Finding>,
    /// Measured this month or last month (else the result is old news).
    pub current: bool,
}

/// Everything the growth chart screen shows for one child.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthChart {
    pub person: RecordId,
    pub name: String,
    pub sex: Sex,
    pub birth_date: String,
    /// Completed months today.
    pub age_months: Option<i64>,
    /// KBM table of the KMS results, e.g. `kbm-buku-kia-v1`.
    pub kbm_table: String,
    /// Weight-for-age (BB/U), with the KMS red and orange lines.
    pub wfa: IndicatorChart,
    /// Length/height-for-age (PB/U, TB/U); the curves switch from length to height at 24
    /// months.
    pub lhfa: IndicatorChart,
    /// KMS result of every month with a weighing below 60 months, oldest first.
    pub kms: Vec<MonthResult>,
    pub latest: Option<LatestGrowth>,
    /// The most pressing finding that has an action.
    pub next_action: Option<Finding>,
    /// Records that could not be used (e.g. a weighing dated before the birth).
    pub problems: Vec<HealthProblem>,
}

fn points(
    indicator: Indicator,
    sex: Sex,
    birth: chrono::NaiveDate,
    days: &[Day],
    kms: &[MonthResult],
) -> Vec<ChartPoint> {
    let mut out = Vec::new();
    for d in days {
        let (value, fact) = match indicator {
            Indicator::WeightForAge => (d.measures.weight_kg, d.weight_fact),
            _ => (d.measures.length_height_cm, d.length_fact),
        };
        let (Some(value), Some(fact), Ok(age_days)) =
            (value, fact, growth::age_in_days(birth, d.date))
        else {
            continue;
        };
        if age_days > WHO2006_MAX_AGE_DAYS {
            continue;
        }
        let input = ChartInput {
            age_days,
            value,
            position: d.measures.position,
        };
        let Some(point) = chart::place_points(indicator, sex, &[input]).pop() else {
            continue;
        };
        let kms = (indicator == Indicator::WeightForAge)
            .then(|| kms.iter().find(|r| r.date == d.date).map(|r| r.result))
            .flatten();
        out.push(ChartPoint {
            date: d.date.format("%Y-%m-%d").to_string(),
            fact,
            point,
            kms,
        });
    }
    out
}

impl Store {
    /// The growth chart of a person (under-fives; older persons get the curves and their
    /// points from before 61 months): WHO weight-for-age and length/height-for-age curves
    /// for their sex, their live measurements (corrected values, retracted ones left out,
    /// those of merged records included) with z-scores and categories, the KMS result of
    /// every month, and the latest result in words with the next action (from the
    /// district's growth actions). Refused when the person has no sex or birth date.
    pub fn growth_chart(&self, person: RecordId) -> Result<GrowthChart> {
        let timeline = self.person_timeline(person)?;
        let p = &timeline.person;
        let (sex, birth) = facts::sex_and_birth(p)?;
        let today = self.today()?;
        let days = facts::days(&facts::live_measurements(&timeline.entries));
        let mut problems = Vec::new();
        let table = kbm(&self.rules)?;
        let kms = match kms_results(sex, birth, &days, table) {
            Ok(k) => k,
            Err(e) => {
                problems.push(HealthProblem::new(None, e.key(), e.params()));
                Vec::new()
            }
        };
        let wfa = IndicatorChart {
            chart: chart::chart(Indicator::WeightForAge, sex)
                .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))?,
            points: points(Indicator::WeightForAge, sex, birth, &days, &kms),
        };
        let lhfa = IndicatorChart {
            chart: chart::chart(Indicator::LengthHeightForAge, sex)
                .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))?,
            points: points(Indicator::LengthHeightForAge, sex, birth, &days, &kms),
        };
        for d in &days {
            if d.date < birth {
                let err = growth::GrowthError::MeasureBeforeBirth {
                    birth_date: birth,
                    measure_date: d.date,
                };
                problems.push(HealthProblem::new(
                    d.weight_fact.or(d.length_fact),
                    err.key(),
                    err.params(),
                ));
            }
        }
        let actions = GrowthActions::buku_kia();
        let latest = days
            .iter()
            .rev()
            .find(|d| growth::age_in_days(birth, d.date).is_ok_and(|a| a <= WHO2006_MAX_AGE_DAYS))
            .map(|d| {
                let month_result = kms.iter().find(|r| r.date == d.date).cloned();
                let assessment = growth::age_in_days(birth, d.date)
                    .and_then(|age| growth::assess_at_age(sex, age, &d.measures))
                    .ok();
                let mut findings =
                    advice::growth_findings(month_result.as_ref(), assessment.as_ref(), actions);
                let current = YearMonth::of(d.date) >= YearMonth::of(today).prev();
                if !current && records::is_under_five(birth, today) {
                    findings.insert(0, advice::not_weighed_recently(d.date));
                }
                LatestGrowth {
                    date: d.date.format("%Y-%m-%d").to_string(),
                    age_months: age_months(birth, d.date),
                    weight_kg: d.measures.weight_kg,
                    length_height_cm: d.measures.length_height_cm,
                    kms: month_result,
                    findings,
                    current,
                }
            });
        let next_action = latest.as_ref().and_then(|l| {
            let with_action: Vec<Finding> = l
                .findings
                .iter()
                .filter(|f| f.action.is_some())
                .cloned()
                .collect();
            most_pressing(&with_action).cloned()
        });
        Ok(GrowthChart {
            person,
            name: p.name.clone(),
            sex,
            birth_date: birth.format("%Y-%m-%d").to_string(),
            age_months: p.age_months,
            kbm_table: table.id.clone(),
            wfa,
            lhfa,
            kms,
            latest,
            next_action,
            problems,
        })
    }
}

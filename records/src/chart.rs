//! The growth chart of one child: the WHO curves for their sex, their weighings and
//! lengths placed on them (corrections applied), the KMS results, and the latest result in
//! words with the next action.

use crate::facts::{self, Day, Fact, HealthProblem};
use crate::growth::kms_results;
use health_rules::Sex;
use health_rules::advice::{self, Finding, most_pressing};
use health_rules::growth::chart::{self, Chart, ChartInput, PlacedPoint};
use health_rules::growth::{self, GrowthError, Indicator, WHO2006_MAX_AGE_DAYS};
use health_rules::kms::{GrowthActions, KbmTable, KmsResult, MonthResult, YearMonth};
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

/// The growth chart of a person (under-fives; older persons get the curves and their
/// points from before 61 months) on `today`: WHO weight-for-age and length/height-for-age
/// curves for their sex, their live measurements (corrected values, retracted ones left
/// out; with those of merged records) with z-scores and categories, the KMS result of every
/// month, and the latest result in words with the next action (Buku KIA growth actions).
/// `age_months`: the person's age today as lists show it.
#[allow(clippy::too_many_arguments)]
pub fn growth_chart(
    person: RecordId,
    name: &str,
    sex: Sex,
    birth: chrono::NaiveDate,
    age_months: Option<i64>,
    entries: &[Fact],
    table: &KbmTable,
    today: chrono::NaiveDate,
) -> Result<GrowthChart, GrowthError> {
    let days = facts::days(&facts::live_measurements(entries));
    let mut problems = Vec::new();
    let kms = match kms_results(sex, birth, &days, table) {
        Ok(k) => k,
        Err(e) => {
            problems.push(HealthProblem::new(None, e.key(), e.params()));
            Vec::new()
        }
    };
    let wfa = IndicatorChart {
        chart: chart::chart(Indicator::WeightForAge, sex)?,
        points: points(Indicator::WeightForAge, sex, birth, &days, &kms),
    };
    let lhfa = IndicatorChart {
        chart: chart::chart(Indicator::LengthHeightForAge, sex)?,
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
            if !current && crate::is_under_five(birth, today) {
                findings.insert(0, advice::not_weighed_recently(d.date));
            }
            LatestGrowth {
                date: d.date.format("%Y-%m-%d").to_string(),
                age_months: crate::age_in_months(birth, d.date).map_or(-1, i64::from),
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
        name: name.to_string(),
        sex,
        birth_date: birth.format("%Y-%m-%d").to_string(),
        age_months,
        kbm_table: table.id.clone(),
        wfa,
        lhfa,
        kms,
        latest,
        next_action,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::parse_date;
    use crate::facts::tests::{fact, rid};
    use serde_json::json;
    use sync_protocol::EntityKind;

    #[test]
    fn points_kms_and_the_latest_result() {
        let birth = parse_date("2024-06-15").expect("date");
        let w = |n, date: &str, kg: f64| {
            fact(
                n,
                EntityKind::Measurement,
                date,
                json!({"type": "weight", "value": kg}),
            )
        };
        let entries = vec![
            w(1, "2025-01-15", 8.0),
            w(2, "2025-02-15", 7.9),
            w(3, "2024-06-01", 3.0),
        ];
        let table = health_rules::kms::kbm_table(health_rules::kms::DEFAULT_KBM_ID).expect("kbm");
        let today = parse_date("2025-02-20").expect("date");
        let c = growth_chart(
            rid(9),
            "Ani",
            Sex::Female,
            birth,
            Some(8),
            &entries,
            table,
            today,
        )
        .expect("chart");
        assert_eq!(
            c.wfa.points.len(),
            2,
            "the one before the birth is not drawn"
        );
        assert_eq!(c.problems.len(), 1, "weighed before the birth");
        assert_eq!(c.problems[0].fact, Some(rid(3)));
        let latest = c.latest.expect("latest");
        assert_eq!(latest.date, "2025-02-15");
        assert_eq!(latest.age_months, 8);
        assert!(latest.current);
        assert_eq!(latest.kms.as_ref().map(|k| k.result), Some(KmsResult::T));
        assert!(c.next_action.is_some(), "a T has something to do");
    }
}

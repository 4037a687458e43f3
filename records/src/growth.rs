//! Growth results per measurement day (WHO z-scores with Permenkes categories, KMS), typed
//! all the way to the screen.

use crate::facts::{self, Day, Fact};
use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::growth::{self, Assessment, Measurement};
use health_rules::kms::{self, KbmTable, KmsError, MonthResult, RedLine};
use serde::Serialize;

/// The WHO tables end at 229 months: no growth result from that age.
pub const WHO_MAX_MONTHS: u32 = 229;

/// The growth result of one day's measurements, from health-rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthPoint {
    pub date: String,
    pub age_months: i64,
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    /// WHO z-scores with Permenkes categories and plausibility flags (`None` when
    /// health-rules could not assess, see `error_key`).
    pub assessment: Option<Assessment>,
    /// The KMS result of the month (N/T/O/B, 2T, BGM) for a weighing under five years.
    pub kms: Option<MonthResult>,
    /// health-rules' message key when the assessment failed (e.g. too old for WHO tables).
    pub error_key: Option<String>,
}

/// The measurement days of a person within the WHO tables' ages, oldest first.
pub fn growth_days(birth: NaiveDate, entries: &[Fact]) -> Vec<Day> {
    facts::days(&facts::live_measurements(entries))
        .into_iter()
        .filter(|d| crate::age_in_months(birth, d.date).is_some_and(|m| m < WHO_MAX_MONTHS))
        .collect()
}

/// The KMS result of every month with an under-five weighing, oldest first.
pub fn kms_results(
    sex: Sex,
    birth: NaiveDate,
    days: &[Day],
    table: &KbmTable,
) -> Result<Vec<MonthResult>, KmsError> {
    let weighings = facts::weighings(sex, birth, days);
    if weighings.is_empty() {
        return Ok(Vec::new());
    }
    kms::assess(birth, &weighings, table, RedLine::kms_2010())
}

/// Growth results per measurement day, for persons under [`WHO_MAX_MONTHS`]: the WHO
/// assessment of the day and, for a weighing of an under-five, the month's KMS result (a
/// KMS error, or no KBM table, leaves every `kms` empty).
pub fn growth_points(
    sex: Sex,
    birth: NaiveDate,
    entries: &[Fact],
    table: Option<&KbmTable>,
) -> Vec<GrowthPoint> {
    let days = growth_days(birth, entries);
    let mut points = Vec::with_capacity(days.len());
    for day in &days {
        let m = Measurement {
            sex,
            birth_date: birth,
            measure_date: day.date,
            measures: day.measures.clone(),
        };
        let (assessment, error_key) = match growth::assess(&m) {
            Ok(a) => (Some(a), None),
            Err(e) => (None, Some(e.key().to_string())),
        };
        points.push(GrowthPoint {
            date: facts::ymd(day.date),
            age_months: crate::age_in_months(birth, day.date).map_or(-1, i64::from),
            weight_kg: day.measures.weight_kg,
            length_height_cm: day.measures.length_height_cm,
            assessment,
            kms: None,
            error_key,
        });
    }
    if let Some(table) = table
        && let Ok(results) = kms_results(sex, birth, &days, table)
    {
        for r in results {
            let d = facts::ymd(r.date);
            if let Some(p) = points.iter_mut().find(|p| p.date == d) {
                p.kms = Some(r);
            }
        }
    }
    points
}

/// The KMS results [`growth_points`] attaches to its points, in their order, without the
/// WHO assessment of every day: all the due tasks need.
pub fn growth_kms(
    sex: Sex,
    birth: NaiveDate,
    entries: &[Fact],
    table: &KbmTable,
) -> Vec<MonthResult> {
    let days = growth_days(birth, entries);
    let Ok(results) = kms_results(sex, birth, &days, table) else {
        return Vec::new();
    };
    // As in growth_points: each result goes to the first day of its date, a later one
    // of the same date replacing it.
    let mut by_day: Vec<Option<MonthResult>> = vec![None; days.len()];
    for r in results {
        if let Some(i) = days.iter().position(|d| d.date == r.date) {
            by_day[i] = Some(r);
        }
    }
    by_day.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::fact;
    use serde_json::json;
    use sync_protocol::EntityKind;

    fn weight(n: u64, date: &str, kg: f64) -> Fact {
        fact(
            n,
            EntityKind::Measurement,
            date,
            json!({"type": "weight", "value": kg, "unit": "kg"}),
        )
    }

    #[test]
    fn points_are_typed_and_kms_matches_the_due_tasks_view() {
        let birth = facts::parse_date("2024-01-31").expect("date");
        let entries = vec![
            weight(1, "2024-02-29", 4.5),
            weight(2, "2024-03-31", 5.4),
            weight(3, "2024-04-30", 5.5),
        ];
        let table = kms::kbm_table(kms::DEFAULT_KBM_ID).expect("table");
        let points = growth_points(Sex::Male, birth, &entries, Some(table));
        assert_eq!(points.len(), 3);
        // Born 31 January: one month old on 29 February (the workspace's one age rule).
        assert_eq!(points[0].age_months, 1);
        assert_eq!(points[2].age_months, 3);
        assert!(
            points
                .iter()
                .all(|p| p.assessment.as_ref().is_some_and(|a| a.wfa.is_some()))
        );
        let kms: Vec<MonthResult> = points.iter().filter_map(|p| p.kms.clone()).collect();
        assert_eq!(kms.len(), 3);
        assert_eq!(kms, growth_kms(Sex::Male, birth, &entries, table));
        assert_eq!(kms[0].age_months, 1, "KMS and the point agree on the age");
        // The JSON the screens read: the assessment is an object with its indicators.
        let v = serde_json::to_value(&points[0]).expect("json");
        assert!(v["assessment"]["wfa"]["z"].is_number(), "{v}");
        assert_eq!(v["kms"]["result"], "B");
    }

    #[test]
    fn no_points_from_the_who_tables_end() {
        let birth = facts::parse_date("2000-01-01").expect("date");
        let entries = vec![weight(1, "2019-01-31", 50.0), weight(2, "2019-02-01", 50.0)];
        let table = kms::kbm_table(kms::DEFAULT_KBM_ID).expect("table");
        let points = growth_points(Sex::Female, birth, &entries, Some(table));
        assert_eq!(points.len(), 1, "228 months in, 229 out");
        assert!(points[0].kms.is_none());
    }
}

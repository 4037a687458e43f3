//! Ages and life stages. The months rule itself is `health-rules`' ([`age_in_months`]: one
//! rule for the whole workspace), re-exported so that callers of `records` need no second
//! import; [`LifeStage`] is ILP's grouping of a person by age.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use health_rules::age::{UNDER_FIVE_MONTHS, age_in_months, is_under_five};

/// School age and adolescence end at 18 years.
pub const ADULT_FROM_MONTHS: u32 = 18 * 12;
/// Lansia (older persons) from 60 years.
pub const LANSIA_FROM_MONTHS: u32 = 60 * 12;

/// Life stages of ILP (one posyandu for all ages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeStage {
    /// Balita: 0–59 months ([`UNDER_FIVE_MONTHS`]).
    Balita,
    /// 5–17 years.
    SchoolAdolescent,
    /// 18–59 years.
    Adult,
    /// 60 years and over.
    Lansia,
}

impl LifeStage {
    pub const ALL: [LifeStage; 4] = [
        Self::Balita,
        Self::SchoolAdolescent,
        Self::Adult,
        Self::Lansia,
    ];

    /// The stage of an age in completed months.
    pub fn at(months: u32) -> Self {
        match months {
            m if m < UNDER_FIVE_MONTHS => Self::Balita,
            m if m < ADULT_FROM_MONTHS => Self::SchoolAdolescent,
            m if m < LANSIA_FROM_MONTHS => Self::Adult,
            _ => Self::Lansia,
        }
    }

    /// The stage of a person born on `birth`, on day `on`; `None` before the birth.
    pub fn of(birth: NaiveDate, on: NaiveDate) -> Option<Self> {
        age_in_months(birth, on).map(Self::at)
    }

    /// The stage's name in snake case, as serialised (`balita`, `school_adolescent`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Balita => "balita",
            Self::SchoolAdolescent => "school_adolescent",
            Self::Adult => "adult",
            Self::Lansia => "lansia",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn stage_boundaries_in_months() {
        assert_eq!(LifeStage::at(0), LifeStage::Balita);
        assert_eq!(LifeStage::at(UNDER_FIVE_MONTHS - 1), LifeStage::Balita);
        assert_eq!(
            LifeStage::at(UNDER_FIVE_MONTHS),
            LifeStage::SchoolAdolescent
        );
        assert_eq!(LifeStage::at(18 * 12 - 1), LifeStage::SchoolAdolescent);
        assert_eq!(LifeStage::at(18 * 12), LifeStage::Adult);
        assert_eq!(LifeStage::at(60 * 12 - 1), LifeStage::Adult);
        assert_eq!(LifeStage::at(60 * 12), LifeStage::Lansia);
        assert_eq!(LifeStage::at(u32::MAX), LifeStage::Lansia);
    }

    #[test]
    fn stage_on_a_day_follows_the_birthdays() {
        let birth = d(2020, 6, 1);
        assert_eq!(LifeStage::of(birth, d(2020, 5, 31)), None, "not born yet");
        assert_eq!(LifeStage::of(birth, birth), Some(LifeStage::Balita));
        assert_eq!(
            LifeStage::of(birth, d(2025, 5, 31)),
            Some(LifeStage::Balita)
        );
        assert_eq!(
            LifeStage::of(birth, d(2025, 6, 1)),
            Some(LifeStage::SchoolAdolescent)
        );
        assert_eq!(
            LifeStage::of(birth, d(2038, 5, 31)),
            Some(LifeStage::SchoolAdolescent)
        );
        assert_eq!(LifeStage::of(birth, d(2038, 6, 1)), Some(LifeStage::Adult));
        assert_eq!(LifeStage::of(birth, d(2080, 5, 31)), Some(LifeStage::Adult));
        assert_eq!(LifeStage::of(birth, d(2080, 6, 1)), Some(LifeStage::Lansia));
        // Born on 29 February: the fifth birthday is 28 February of a common year.
        assert_eq!(
            LifeStage::of(d(2020, 2, 29), d(2025, 2, 28)),
            Some(LifeStage::SchoolAdolescent)
        );
        assert_eq!(
            LifeStage::of(d(2020, 2, 29), d(2025, 2, 27)),
            Some(LifeStage::Balita)
        );
    }

    #[test]
    fn the_under_five_limit_is_five_years_and_matches_the_stage() {
        assert_eq!(UNDER_FIVE_MONTHS, 60);
        let birth = d(2021, 1, 31);
        for on in [
            d(2025, 12, 31),
            d(2026, 1, 30),
            d(2026, 1, 31),
            d(2026, 2, 1),
        ] {
            assert_eq!(
                is_under_five(birth, on),
                LifeStage::of(birth, on) == Some(LifeStage::Balita),
                "{on}"
            );
        }
        assert!(is_under_five(birth, d(2026, 1, 30)));
        assert!(!is_under_five(birth, d(2026, 1, 31)));
    }

    #[test]
    fn one_month_rule_for_the_end_of_the_month() {
        // Born 31 January, seen 29 February: one completed month (the month's anniversary
        // falls on the last day of a shorter month).
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 2, 29)), Some(1));
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 2, 28)), Some(0));
    }

    #[test]
    fn serialised_names() {
        for s in LifeStage::ALL {
            assert_eq!(
                serde_json::to_value(s).expect("serialise"),
                serde_json::Value::String(s.as_str().into())
            );
        }
    }
}

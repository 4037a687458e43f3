//! Age in completed months, and the under-five limit: the one rule for the whole workspace
//! (field-core's person ages and life stages, the KMS, the due tasks, the reports and the
//! checks before saving all count months with [`age_in_months`]).
//!
//! **The rule.** A child has completed `n` months on day `on` when `birth + n months` (the
//! same day of the month, or the last day of a shorter month) is not after `on`. A child
//! born on 31 January is one month old on 29 February in a leap year (28 February
//! otherwise), on the last day of the month that has no 31st: the month's anniversary falls
//! on the month's last day, as for any period counted in months, so the age goes up once in
//! every calendar month. (A rule that waits for the day of the month to reach the birth's
//! would keep that child at 0 months until 1 March and at 2 months on 30 April, three
//! calendar months after the birth.)

use chrono::{Datelike, Months, NaiveDate};

/// Under five (*balita*): younger than this many completed months. Used for the KMS, the
/// SKDN and monthly report, due tasks, checks and the life stage [`crate`] callers show.
pub const UNDER_FIVE_MONTHS: u32 = 60;

/// Age in completed months on `on` (see the module's rule: 31 Jan + 1 month = 28/29 Feb).
/// `None` when `on` is before `birth`.
pub fn age_in_months(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth {
        return None;
    }
    let rough = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32;
    let mut months = u32::try_from(rough.max(0)).ok()?;
    while months > 0
        && birth
            .checked_add_months(Months::new(months))
            .is_none_or(|d| d > on)
    {
        months -= 1;
    }
    Some(months)
}

/// Born by `on` and younger than [`UNDER_FIVE_MONTHS`] on it.
pub fn is_under_five(birth: NaiveDate, on: NaiveDate) -> bool {
    age_in_months(birth, on).is_some_and(|m| m < UNDER_FIVE_MONTHS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn born_31_january_is_one_month_old_on_the_last_day_of_february() {
        // The case field-core and the KMS used to disagree on.
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 2, 29)), Some(1));
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 2, 28)), Some(0));
        assert_eq!(age_in_months(d(2025, 1, 31), d(2025, 2, 28)), Some(1));
        assert_eq!(age_in_months(d(2025, 1, 31), d(2025, 2, 27)), Some(0));
        // Three calendar months later, on the last day of April.
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 4, 30)), Some(3));
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 4, 29)), Some(2));
    }

    #[test]
    fn completed_months_count_whole_months_only() {
        assert_eq!(age_in_months(d(2024, 1, 15), d(2024, 1, 14)), None);
        assert_eq!(age_in_months(d(2024, 1, 15), d(2024, 1, 15)), Some(0));
        assert_eq!(age_in_months(d(2025, 1, 15), d(2025, 2, 15)), Some(1));
        assert_eq!(age_in_months(d(2024, 1, 15), d(2025, 1, 14)), Some(11));
        assert_eq!(age_in_months(d(2024, 1, 15), d(2025, 1, 15)), Some(12));
        assert_eq!(age_in_months(d(2020, 6, 1), d(2025, 5, 31)), Some(59));
        assert_eq!(age_in_months(d(2020, 2, 29), d(2021, 2, 28)), Some(12));
    }

    #[test]
    fn under_five_ends_on_the_fifth_birthday() {
        assert_eq!(UNDER_FIVE_MONTHS, 5 * 12);
        assert!(is_under_five(d(2020, 6, 1), d(2025, 5, 31)));
        assert!(!is_under_five(d(2020, 6, 1), d(2025, 6, 1)));
        assert!(is_under_five(d(2025, 6, 1), d(2025, 6, 1)));
        assert!(!is_under_five(d(2025, 6, 2), d(2025, 6, 1)), "not born yet");
    }
}

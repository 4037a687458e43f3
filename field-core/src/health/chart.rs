//! The growth chart of one child (`records::chart`): this reads the person's timeline, the
//! settings' KBM table and today.

use super::facts;
use super::with_rules::kbm;
use crate::error::Result;
use crate::store::Store;
pub use records::chart::{ChartPoint, GrowthChart, IndicatorChart, LatestGrowth};
use sync_protocol::RecordId;

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
        let table = kbm(&self.rules)?;
        records::chart::growth_chart(
            person,
            &p.name,
            sex,
            birth,
            p.age_months,
            &timeline.entries,
            table,
            today,
        )
        .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))
    }
}

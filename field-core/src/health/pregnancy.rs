//! The bidan's view of an ongoing pregnancy (`records::pregnancy`): this reads the person's
//! timeline and the settings' ANC schedule.

use crate::error::{Result, StoreError};
use crate::store::Store;
use health_rules::pregnancy;
pub use records::pregnancy::{Dated, PregnancyView};
use sync_protocol::RecordId;

impl Store {
    /// The ongoing pregnancy of `person` as the bidan reads it; `None` when there is none
    /// (or its HPHT is not known).
    pub fn pregnancy_view(&self, person: RecordId) -> Result<Option<PregnancyView>> {
        let timeline = self.person_timeline(person)?;
        if records::pregnancy::ongoing_hpht(&timeline.pregnancies).is_none() {
            return Ok(None);
        }
        let anc = pregnancy::anc_schedule(&self.rules.anc_schedule).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown ANC schedule {}", self.rules.anc_schedule))
        })?;
        let today = self.today()?;
        records::pregnancy::pregnancy_view(&timeline.pregnancies, &timeline.entries, anc, today)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

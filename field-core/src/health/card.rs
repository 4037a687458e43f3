//! The immunisation card (the Buku KIA page): `records::card` computes it from the
//! person's timeline; this reads the timeline and checks the arguments.

use super::facts;
use crate::error::Result;
use crate::store::Store;
pub use records::card::{CardDose, CardRecord, CardStatus, ImmunisationCard};
use sync_protocol::RecordId;

impl Store {
    /// The immunisation card of a person on `on` (`YYYY-MM-DD`, usually today): every dose of
    /// the national schedule with its state (given with the date and timing, due, overdue,
    /// upcoming, no longer allowed, not for this area), from the live immunisation facts
    /// (corrections applied, merged records included). A recorded vaccine is matched to a
    /// dose by its id or printed name (`Schedule::dose_for_record`); the others are listed
    /// in `unmatched`, and records that cannot be used in `problems`.
    pub fn immunisation_card(&self, person: RecordId, on: &str) -> Result<ImmunisationCard> {
        let on_date = facts::date_arg("on", on)?;
        let timeline = self.person_timeline(person)?;
        let p = &timeline.person;
        let (_, birth) = facts::sex_and_birth(p)?;
        records::card::immunisation_card(
            person,
            &p.name,
            birth,
            &timeline.entries,
            on_date,
            self.rules.je_area,
        )
        .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))
    }
}

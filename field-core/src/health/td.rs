//! A woman's Td immunisation status (status T1 … T5) from her immunisation facts, and the
//! next dose to offer. The rule and its table are health-rules' (`td.rs`); this only reads
//! her records. A Td status is an immunisation fact whose vaccine text is `Td T<n>` (given
//! by the team), `Td T<n> (Buku KIA)` (copied with its date) or `Td T<n> (kata ibu)` (her
//! own answer), see [`health_rules::td::td_vaccine`].

use crate::error::Result;
use crate::messages::{Key, invalid};
use crate::store::Store;
use crate::validate::parse_date;
use health_rules::Label;
use health_rules::td::{self, TdRecord, TdSource, TdStatus, TdTable};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{EntityKind, RecordId};

/// One recorded Td status, as the profile lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdFact {
    pub fact: RecordId,
    pub status: u8,
    pub date: String,
    pub source: TdSource,
}

/// A woman's Td status on a day, with the vaccine text of the dose to give and the records
/// it was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdView {
    #[serde(flatten)]
    pub status: TdStatus,
    /// The state in words.
    pub label: Label,
    /// The vaccine text to save for the next dose when it is due today (`Td T3`).
    pub offer: Option<String>,
    /// The vaccine text to save for the earlier status asked about (`Td T2 (kata ibu)`).
    pub earlier_vaccine: Option<String>,
    /// Her Td records, oldest first.
    pub records: Vec<TdFact>,
    /// Where the table comes from.
    pub source_text: String,
}

impl Store {
    /// The Td status of `person` on `on` (`YYYY-MM-DD`, e.g. the posyandu day's date), with
    /// `earlier` (a status from the Buku KIA or her answer, not saved yet) counted as if it
    /// were recorded: the form shows what saving it would offer. An earlier status must be
    /// from the Buku KIA or her answer, dated not after `on`.
    pub fn td_status(
        &self,
        person: RecordId,
        on: &str,
        earlier: Option<TdRecord>,
    ) -> Result<TdView> {
        let on = super::facts::date_arg("on", on)?;
        if let Some(e) = earlier {
            if e.source == TdSource::Given || !(1..=td::T_MAX).contains(&e.status) {
                return Err(invalid("earlier", Key::Choice, &[]).into());
            }
            if e.date > on {
                return Err(invalid("earlier.date", Key::DateInFuture, &[]).into());
            }
        }
        let timeline = self.person_timeline(person)?;
        let records: Vec<TdFact> = timeline
            .entries
            .iter()
            .filter(|e| e.kind == EntityKind::Immunisation && e.superseded_by.is_none())
            .filter_map(|e| {
                let vaccine = e.body.get("vaccine").and_then(Value::as_str)?;
                let (status, source) = td::parse_td_vaccine(vaccine)?;
                parse_date(&e.date)?;
                Some(TdFact {
                    fact: e.id,
                    status,
                    date: e.date.clone(),
                    source,
                })
            })
            .collect();
        let rule_records: Vec<TdRecord> = records
            .iter()
            .filter_map(|r| {
                Some(TdRecord {
                    status: r.status,
                    date: parse_date(&r.date)?,
                    source: r.source,
                })
            })
            .chain(earlier)
            .collect();
        let table = TdTable::builtin();
        let status = td::td_status(table, &rule_records, on)
            .map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))?;
        let offer = match status.next {
            td::TdNext::Due { next } => Some(td::td_vaccine(next, TdSource::Given)),
            _ => None,
        };
        Ok(TdView {
            label: status.label(),
            status,
            offer,
            earlier_vaccine: earlier.map(|e| td::td_vaccine(e.status, e.source)),
            records,
            source_text: table.source.clone(),
        })
    }
}

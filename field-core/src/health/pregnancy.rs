//! The bidan's view of an ongoing pregnancy: gestational age, HPL, trimester, the ANC
//! contacts done and due (K1 is the first contact whenever it happened; the per-trimester
//! minimum is a separate check), KEK from the latest LiLA and anaemia from the latest Hb.
//! Every rule is health-rules'; this only gathers the facts.

use super::facts;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::validate::parse_date;
use chrono::NaiveDate;
use health_rules::pregnancy::{self, AncContactStatus, AncTrimesterCheck, Trimester};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{EntityKind, RecordId};

/// One measured value with its day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dated {
    pub date: NaiveDate,
    pub value: f64,
}

/// What the pregnancy card shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PregnancyView {
    pub hpht: NaiveDate,
    /// HPL (hari perkiraan lahir) by the schedule's rule (Naegele's by default).
    pub hpl: NaiveDate,
    /// Gestational age today, in completed weeks and days.
    pub weeks: u32,
    pub days: u32,
    pub trimester: Trimester,
    /// Past the HPL without a delivery recorded.
    pub past_hpl: bool,
    /// K1… in order: done (with the day) or planned (due by, not yet due).
    pub contacts: Vec<AncContactStatus>,
    /// Contacts done.
    pub done: u32,
    /// The schedule's minimum number of contacts.
    pub minimum: u32,
    /// Each trimester against its minimum.
    pub trimesters: Vec<AncTrimesterCheck>,
    /// The ANC schedule used (id).
    pub schedule: String,
    /// The latest LiLA of this pregnancy and whether it means KEK (< 23.5 cm).
    pub lila: Option<Dated>,
    pub kek: Option<bool>,
    /// The latest Hb of this pregnancy and whether it means anaemia.
    pub hb: Option<Dated>,
    pub anaemia: Option<bool>,
    /// Where the anaemia cut-off comes from.
    pub anaemia_source: String,
}

impl Store {
    /// The ongoing pregnancy of `person` as the bidan reads it; `None` when there is none
    /// (or its HPHT is not known).
    pub fn pregnancy_view(&self, person: RecordId) -> Result<Option<PregnancyView>> {
        let timeline = self.person_timeline(person)?;
        let Some(hpht) = timeline
            .pregnancies
            .iter()
            .find(|p| p.get("status").and_then(Value::as_str) == Some("ongoing"))
            .and_then(|p| p.get("hpht").and_then(Value::as_str).and_then(parse_date))
        else {
            return Ok(None);
        };
        let anc = pregnancy::anc_schedule(&self.rules.anc_schedule).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown ANC schedule {}", self.rules.anc_schedule))
        })?;
        let today = self.today()?;
        let corrupt = |e: pregnancy::PregnancyError| StoreError::Corrupt(e.to_string());
        let on = today.max(hpht);
        let ga = pregnancy::gestational_age(hpht, on).map_err(corrupt)?;
        let hpl = anc.hpl(hpht).map_err(corrupt)?;
        // Contacts on or after the HPHT (one before it is a typing error the due list flags).
        let contacts: Vec<NaiveDate> = timeline
            .entries
            .iter()
            .filter(|e| e.kind == EntityKind::AncContact && e.superseded_by.is_none())
            .filter_map(|e| parse_date(&e.date))
            .filter(|d| *d >= hpht)
            .collect();
        let statuses = pregnancy::anc_status(anc, hpht, &contacts, today).map_err(corrupt)?;
        let trimesters =
            pregnancy::anc_trimester_checks(anc, hpht, &contacts, today).map_err(corrupt)?;
        let latest = |kind: &str| {
            facts::live_measurements(&timeline.entries)
                .into_iter()
                .filter(|m| m.kind == kind && m.date >= hpht)
                .max_by_key(|m| m.date)
                .map(|m| Dated {
                    date: m.date,
                    value: m.value,
                })
        };
        let lila = latest("muac");
        let hb = latest("hb");
        let kek = lila.and_then(|l| pregnancy::kek_risk(l.value).ok());
        let anaemia = hb.and_then(|h| {
            let t = pregnancy::gestational_age(hpht, h.date)
                .map(|g| anc.trimester(g))
                .unwrap_or(Trimester::First);
            anc.anaemia(h.value, t).ok()
        });
        Ok(Some(PregnancyView {
            hpht,
            hpl,
            weeks: ga.weeks,
            days: ga.days,
            trimester: anc.trimester(ga),
            past_hpl: today > hpl,
            done: u32::try_from(contacts.len()).unwrap_or(u32::MAX),
            minimum: u32::try_from(anc.contacts.len()).unwrap_or(u32::MAX),
            contacts: statuses,
            trimesters,
            schedule: anc.id.clone(),
            lila,
            kek,
            hb,
            anaemia,
            anaemia_source: anc.anaemia.source.clone(),
        }))
    }
}

//! The bidan's view of an ongoing pregnancy: gestational age, HPL, trimester, the ANC
//! contacts done and due (K1 is the first contact whenever it happened; the per-trimester
//! minimum is a separate check), KEK from the latest LiLA and anaemia from the latest Hb.
//! Every rule is health-rules'; this only gathers the facts.

use crate::facts::{self, Fact, parse_date};
use chrono::NaiveDate;
use health_rules::pregnancy::{
    self, AncContactStatus, AncSchedule, AncTrimesterCheck, PregnancyError, Trimester,
};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{Body, EntityKind};

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

/// The HPHT of the person's ongoing pregnancy (the first one with `status: ongoing` and a
/// date), from the pregnancies' current values.
pub fn ongoing_hpht(pregnancies: &[Body]) -> Option<NaiveDate> {
    pregnancies
        .iter()
        .find(|p| p.get("status").and_then(Value::as_str) == Some("ongoing"))
        .and_then(|p| p.get("hpht").and_then(Value::as_str).and_then(parse_date))
}

/// The ongoing pregnancy as the bidan reads it on `today`, from the person's pregnancies
/// (current values) and facts (with those of merged records); `None` when there is none
/// (or its HPHT is not known).
pub fn pregnancy_view(
    pregnancies: &[Body],
    entries: &[Fact],
    anc: &AncSchedule,
    today: NaiveDate,
) -> Result<Option<PregnancyView>, PregnancyError> {
    let Some(hpht) = ongoing_hpht(pregnancies) else {
        return Ok(None);
    };
    let on = today.max(hpht);
    let ga = pregnancy::gestational_age(hpht, on)?;
    let hpl = anc.hpl(hpht)?;
    // Contacts on or after the HPHT (one before it is a typing error the due list flags).
    let contacts: Vec<NaiveDate> = entries
        .iter()
        .filter(|e| e.kind == EntityKind::AncContact && e.is_live())
        .filter_map(Fact::day)
        .filter(|d| *d >= hpht)
        .collect();
    let statuses = pregnancy::anc_status(anc, hpht, &contacts, today)?;
    let trimesters = pregnancy::anc_trimester_checks(anc, hpht, &contacts, today)?;
    let live = facts::live_measurements(entries);
    let latest = |kind: &str| {
        live.iter()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::fact;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).expect("date")
    }

    #[test]
    fn the_ongoing_pregnancy_with_its_contacts_lila_and_hb() {
        let anc = pregnancy::anc_schedule(pregnancy::DEFAULT_ANC_ID).expect("anc");
        let preg: Body = json!({"id": "g1", "status": "ongoing", "hpht": "2025-01-01"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let ended: Body = json!({"id": "g0", "status": "ended", "hpht": "2023-01-01"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let entries = vec![
            fact(1, EntityKind::AncContact, "2024-12-20", json!({})),
            fact(2, EntityKind::AncContact, "2025-02-10", json!({})),
            fact(
                3,
                EntityKind::Measurement,
                "2024-12-01",
                json!({"type": "muac", "value": 25.0}),
            ),
            fact(
                4,
                EntityKind::Measurement,
                "2025-02-10",
                json!({"type": "muac", "value": 22.0}),
            ),
            fact(
                5,
                EntityKind::Measurement,
                "2025-02-10",
                json!({"type": "hb", "value": 12.5}),
            ),
        ];
        let v = pregnancy_view(&[ended.clone(), preg], &entries, anc, d("2025-03-01"))
            .expect("rules")
            .expect("ongoing");
        assert_eq!(v.hpht, d("2025-01-01"));
        assert_eq!((v.weeks, v.days), (8, 3));
        assert_eq!(v.trimester, Trimester::First);
        assert_eq!(v.done, 1, "the contact before the HPHT is not counted");
        assert_eq!(
            v.lila.map(|l| l.value),
            Some(22.0),
            "this pregnancy's latest"
        );
        assert_eq!(v.kek, Some(true));
        assert_eq!(v.anaemia, Some(false));
        assert!(!v.past_hpl);
        assert!(
            pregnancy_view(&[ended], &entries, anc, d("2025-03-01"))
                .expect("rules")
                .is_none()
        );
    }
}

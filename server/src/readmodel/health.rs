//! A person's health results on the server, computed by `records` from the read tables as the
//! tablet computes them from its own (field-core's `person_timeline`, `growth_points` and
//! `pregnancy_view`): the person's facts and those of person records merged into them, their
//! pregnancies, the default rule tables.

use super::Param;
use super::monthly::{MonthlyError, history_fact};
use super::text;
use crate::Storage;
use chrono::NaiveDate;
use records::{Fact, GrowthPoint, PregnancyView, RuleOptions};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::Body;

/// What the person's card shows of their health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonHealth {
    /// Growth results per measurement day (WHO z-scores, Permenkes categories, KMS), as the
    /// tablet's timeline `growth`; empty without sex or birth date.
    pub growth: Vec<GrowthPoint>,
    /// The ongoing pregnancy with its ANC contacts due and made, as the tablet's
    /// `pregnancy_view`.
    pub pregnancy: Option<PregnancyView>,
}

/// The person and every person record merged into them, through chains.
const MERGED_INTO: &str = "WITH RECURSIVE merged(id) AS (
        SELECT CAST(?1 AS TEXT)
        UNION
        SELECT f.subject FROM facts f JOIN merged m ON f.person = m.id
         WHERE f.kind = 'person_merge' AND f.deleted = 0 AND f.subject IS NOT NULL)
    SELECT id FROM merged";

/// The health of person `id` (sex and birth date as stored) on `today`.
pub async fn person_health(
    store: &dyn Storage,
    id: &str,
    sex: Option<&str>,
    birth: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<PersonHealth, MonthlyError> {
    let mut ids = vec![id.to_string()];
    for r in store
        .read_rows(MERGED_INTO.into(), vec![Param::Text(id.into())])
        .await?
    {
        if let Some(m) = text(&r, 0).filter(|m| m != id) {
            ids.push(m);
        }
    }
    let mut entries: Vec<Fact> = Vec::new();
    let mut pregnancies: Vec<Body> = Vec::new();
    for pid in &ids {
        for r in store
            .read_rows(
                "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person,
                     (SELECT MIN(c.id) FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)
                 FROM facts f WHERE f.person = ?1 AND f.deleted = 0 AND f.kind <> 'person_merge'
                 ORDER BY f.date, f.made_hlc"
                    .into(),
                vec![Param::Text(pid.clone())],
            )
            .await?
        {
            if let Some(fact) = history_fact(&r)? {
                entries.push(fact);
            }
        }
        for r in store
            .read_rows(
                "SELECT id, values_json FROM pregnancies WHERE person = ?1 AND deleted = 0
                 ORDER BY id"
                    .into(),
                vec![Param::Text(pid.clone())],
            )
            .await?
        {
            let Some(gid) = text(&r, 0) else { continue };
            let mut body: Body = text(&r, 1)
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
            body.insert("id".into(), Value::String(gid));
            pregnancies.push(body);
        }
    }
    entries.sort_by(|a, b| a.date.cmp(&b.date));
    let rules = RuleOptions::default();
    let growth = match (records::facts::sex(sex), birth) {
        (Some(sex), Some(birth)) => {
            records::growth::growth_points(sex, birth, &entries, rules.kbm().ok())
        }
        _ => Vec::new(),
    };
    let anc = rules
        .anc()
        .map_err(|e| MonthlyError::Rules(e.to_string()))?;
    let pregnancy = records::pregnancy::pregnancy_view(&pregnancies, &entries, anc, today)
        .map_err(|e| MonthlyError::Row(e.to_string()))?;
    Ok(PersonHealth { growth, pregnancy })
}

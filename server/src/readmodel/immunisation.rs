//! `GET /v1/reports/immunisation`: coverage of each dose and of complete basic immunisation
//! (IDL) among the children of a birth cohort at or below a place, per desa and per
//! posyandu. Each child's doses are their immunisation card (`records::card`), exactly as the
//! tablet shows it; IDL is `ImmunisationCard::complete_basic`.

use super::monthly::MonthlyError;
use super::nutrition::{desa_of, parents, persons_with_facts};
use super::overdue::OverdueChild;
use super::reports::in_scope;
use crate::Storage;
use chrono::NaiveDate;
use records::card::{CardStatus, immunisation_card};
use serde::Serialize;
use std::collections::BTreeMap;

/// Coverage among the cohort's children of one posyandu or desa.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    pub code: String,
    pub name: String,
    /// Children of the cohort (active, not merged away).
    pub children: u64,
    /// Children given each dose (by dose id, every dose of the schedule), by the day asked.
    pub given: BTreeMap<String, u64>,
    /// `given / children` per dose (`None` with no children).
    pub coverage: BTreeMap<String, Option<f64>>,
    /// Children with complete basic immunisation (IDL).
    pub idl: u64,
    pub idl_coverage: Option<f64>,
}

impl Coverage {
    fn merge(&mut self, o: &Coverage) {
        self.children += o.children;
        self.idl += o.idl;
        for (k, v) in &o.given {
            *self.given.entry(k.clone()).or_default() += v;
        }
    }
    fn finish(&mut self) {
        let n = self.children;
        let r = |x: u64| (n > 0).then(|| x as f64 / n as f64);
        self.coverage = self.given.iter().map(|(k, v)| (k.clone(), r(*v))).collect();
        self.idl_coverage = r(self.idl);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub place: String,
    /// Children born `born_from..=born_to`.
    pub born_from: String,
    pub born_to: String,
    /// The day the cards are read on.
    pub on: String,
    pub desa: Vec<Coverage>,
    pub posyandu: Vec<Coverage>,
    pub total: Coverage,
}

/// Coverage among children born `from..=to` at or below `place`, their cards read on `on`;
/// `None` outside `scope`.
pub async fn coverage(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<Option<CoverageReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = coverage_parts(store, place.to_string(), from, to, on).await?;
    coverage_assemble(store, place, from, to, on, parts)
        .await
        .map(Some)
}

/// The coverage among the cohort's children of each posyandu at or below `place` (every
/// posyandu there has one), read in one pass.
pub async fn coverage_parts(
    store: &dyn Storage,
    place: String,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<BTreeMap<String, Coverage>, MonthlyError> {
    Ok(cohort_parts(store, place, from, to, on)
        .await?
        .into_iter()
        .map(|(code, part)| (code, part.coverage))
        .collect())
}

/// One posyandu's part of a cohort: its coverage and its children with doses overdue (the
/// same cards: the dashboard's Imunisasi page shows both from one read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortPart {
    pub coverage: Coverage,
    /// As [`super::overdue::overdue`] lists them (by name within the posyandu).
    pub overdue: Vec<OverdueChild>,
}

/// The [`CohortPart`] of each posyandu at or below `place` (every posyandu there has one),
/// read in one pass.
pub async fn cohort_parts(
    store: &dyn Storage,
    place: String,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<BTreeMap<String, CohortPart>, MonthlyError> {
    let place = place.as_str();
    let mut per: BTreeMap<String, CohortPart> = super::parts::posyandu_under(store, place)
        .await?
        .into_iter()
        .map(|code| {
            (
                code.clone(),
                CohortPart {
                    coverage: Coverage {
                        code,
                        ..Default::default()
                    },
                    overdue: Vec::new(),
                },
            )
        })
        .collect();
    let before = from.pred_opt().unwrap_or(from);
    for c in persons_with_facts(store, place, before, to, "immunisation").await? {
        let id =
            c.id.parse()
                .map_err(|_| MonthlyError::Row(format!("person id {:?}", c.id)))?;
        let card = immunisation_card(id, &c.name, c.birth, &c.facts, on.max(c.birth), false)
            .map_err(|e| MonthlyError::Row(e.to_string()))?;
        let part = per.entry(c.posyandu.clone()).or_default();
        let cov = &mut part.coverage;
        cov.children += 1;
        for d in &card.doses {
            *cov.given.entry(d.dose_id.clone()).or_default() +=
                u64::from(d.status == CardStatus::Given);
        }
        cov.idl += u64::from(card.complete_basic());
        let doses: Vec<String> = card
            .doses
            .iter()
            .filter(|d| d.status == CardStatus::Overdue)
            .map(|d| d.name.clone())
            .collect();
        if !doses.is_empty() {
            part.overdue.push(OverdueChild {
                person: c.id.clone(),
                name: c.name.clone(),
                posyandu: c.posyandu.clone(),
                birth_date: records::facts::ymd(c.birth),
                doses,
            });
        }
    }
    for c in per.values_mut() {
        c.coverage.finish();
    }
    Ok(per)
}

/// The coverage report of `place` from the parts of its posyandu ([`coverage_parts`], maybe
/// kept: [`super::parts`]), summed per desa and in total, places named as now.
pub async fn coverage_assemble(
    store: &dyn Storage,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
    mut per: BTreeMap<String, Coverage>,
) -> Result<CoverageReport, MonthlyError> {
    let places = parents(store, place).await?;
    let desa_of = desa_of(store, place).await?;
    let mut posyandu = Vec::new();
    let mut desa: BTreeMap<String, Coverage> = BTreeMap::new();
    let mut total = Coverage {
        code: place.to_string(),
        name: places.get(place).map(|p| p.0.clone()).unwrap_or_default(),
        ..Default::default()
    };
    for (code, (name, _, level)) in &places {
        if level != "posyandu" {
            continue;
        }
        let mut c = per.remove(code).unwrap_or_default();
        c.code = code.clone();
        c.name = name.clone();
        if let Some((d, dname)) = desa_of.get(code) {
            desa.entry(d.clone())
                .or_insert_with(|| Coverage {
                    code: d.clone(),
                    name: dname.clone(),
                    ..Default::default()
                })
                .merge(&c);
        }
        total.merge(&c);
        c.finish();
        posyandu.push(c);
    }
    let mut desa: Vec<Coverage> = desa.into_values().collect();
    for d in &mut desa {
        d.finish();
    }
    total.finish();
    Ok(CoverageReport {
        place: place.to_string(),
        born_from: records::facts::ymd(from),
        born_to: records::facts::ymd(to),
        on: records::facts::ymd(on),
        desa,
        posyandu,
        total,
    })
}

//! `GET /v1/reports/pregnancies`: the pregnant women of a month at or below a place, per
//! posyandu and desa — K1, K4 and K6 (at least 1, 4, 6 ANC contacts from the HPHT to the
//! month's end) and their coverage, KEK and anaemia, and expected deliveries (HPL) by month.
//! Who is pregnant in the month and who is KEK is `records::report`'s (the F1's own counts);
//! the HPL, trimester and anaemia thresholds are the ANC schedule's (health-rules).

use super::Param;
use super::monthly::{HB, MUAC, MonthlyError, corrections, month_fact};
use super::reports::in_scope;
use super::text;
use crate::Storage;
use chrono::NaiveDate;
use health_rules::immunisation::Schedule;
use health_rules::kms::YearMonth;
use records::facts::ymd;
use records::report::{MonthActivity, PREGNANCY_MAX_DAYS, PregnancyRow};
use records::{Fact, RuleOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

fn date(s: Option<&str>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// The pregnancies of one posyandu or desa in the month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PregnancyCounts {
    pub code: String,
    pub name: String,
    /// Women pregnant during the month (as the F1's activity).
    pub pregnant_women: u64,
    /// Of them, with at least 1, 4 and 6 ANC contacts since the HPHT by the month's end.
    pub k1: u64,
    pub k4: u64,
    pub k6: u64,
    /// `kN / pregnant_women` (`None` with nobody pregnant).
    pub k1_coverage: Option<f64>,
    pub k4_coverage: Option<f64>,
    pub k6_coverage: Option<f64>,
    /// With a LiLA below 23.5 cm measured this month (as the F1's activity).
    pub kek: u64,
    /// With an Hb this month below the schedule's threshold for her trimester.
    pub anaemia: u64,
    /// Ongoing pregnancies by the month of their HPL (`YYYY-MM`).
    pub expected_deliveries: BTreeMap<String, u64>,
}

impl PregnancyCounts {
    fn merge(&mut self, o: &PregnancyCounts) {
        self.pregnant_women += o.pregnant_women;
        self.k1 += o.k1;
        self.k4 += o.k4;
        self.k6 += o.k6;
        self.kek += o.kek;
        self.anaemia += o.anaemia;
        for (m, n) in &o.expected_deliveries {
            *self.expected_deliveries.entry(m.clone()).or_default() += n;
        }
    }
    fn finish(&mut self) {
        let r = |n: u64| (self.pregnant_women > 0).then(|| n as f64 / self.pregnant_women as f64);
        self.k1_coverage = r(self.k1);
        self.k4_coverage = r(self.k4);
        self.k6_coverage = r(self.k6);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PregnancyReport {
    pub place: String,
    pub month: YearMonth,
    pub posyandu: Vec<PregnancyCounts>,
    pub desa: Vec<PregnancyCounts>,
    pub total: PregnancyCounts,
}

struct Row {
    id: String,
    posyandu: String,
    row: PregnancyRow,
}

/// The pregnancy report of `place` for `month`; `None` outside `scope`.
pub async fn pregnancies(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<PregnancyReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = pregnancies_parts(store, place.to_string(), month).await?;
    pregnancies_assemble(store, place, month, parts)
        .await
        .map(Some)
}

/// The posyandu at or below `place`: name and desa (code, name), by code.
type PosyanduDesa = BTreeMap<String, (String, Option<(String, String)>)>;

async fn posyandu_desa(store: &dyn Storage, place: &str) -> Result<PosyanduDesa, MonthlyError> {
    // Two joins (not a correlated subquery per posyandu: 3.9 s for a kabupaten's 1,000
    // posyandu on PostgreSQL, against 16 ms; docs/BENCHMARKS.md).
    let desa = super::nutrition::desa_of(store, place).await?;
    let mut posyandu = PosyanduDesa::new();
    for r in store
        .read_rows(
            "SELECT p.code, p.name FROM place_tree t JOIN places p ON p.code = t.code
             WHERE t.ancestor = ?1 AND p.level = 'posyandu'"
                .into(),
            vec![Param::Text(place.to_string())],
        )
        .await?
    {
        if let Some(code) = text(&r, 0) {
            let d = desa.get(&code).cloned();
            posyandu.insert(code, (text(&r, 1).unwrap_or_default(), d));
        }
    }
    Ok(posyandu)
}

/// The report of `place` from the counts of its posyandu ([`pregnancies_parts`], maybe kept:
/// [`super::parts`]), summed per desa and in total, places named as now.
pub async fn pregnancies_assemble(
    store: &dyn Storage,
    place: &str,
    month: YearMonth,
    mut parts: BTreeMap<String, PregnancyCounts>,
) -> Result<PregnancyReport, MonthlyError> {
    let mut out = Vec::new();
    let mut desa: BTreeMap<String, PregnancyCounts> = BTreeMap::new();
    let mut total = PregnancyCounts {
        code: place.to_string(),
        ..Default::default()
    };
    for (code, (name, desa_of)) in posyandu_desa(store, place).await? {
        let mut c = parts.remove(&code).unwrap_or_default();
        c.code = code;
        c.name = name;
        if let Some((d, dname)) = desa_of {
            desa.entry(d.clone())
                .or_insert_with(|| PregnancyCounts {
                    code: d,
                    name: dname,
                    ..Default::default()
                })
                .merge(&c);
        }
        total.merge(&c);
        c.finish();
        out.push(c);
    }
    let mut desa: Vec<PregnancyCounts> = desa.into_values().collect();
    for d in &mut desa {
        d.finish();
    }
    total.finish();
    Ok(PregnancyReport {
        place: place.to_string(),
        month,
        posyandu: out,
        desa,
        total,
    })
}

/// The pregnancy counts of each posyandu at or below `place` for `month` (every posyandu
/// there has one), read in one pass.
pub async fn pregnancies_parts(
    store: &dyn Storage,
    place: String,
    month: YearMonth,
) -> Result<BTreeMap<String, PregnancyCounts>, MonthlyError> {
    let place = place.as_str();
    let (start, end) = records::report::month_bounds(month)
        .ok_or_else(|| MonthlyError::Month(month.to_string()))?;
    let (a, b) = (ymd(start), ymd(end));
    let p = |s: &str| Param::Text(s.to_string());
    let anc = RuleOptions::default()
        .anc()
        .map_err(|e| MonthlyError::Rules(e.to_string()))?;
    let posyandu = super::parts::posyandu_under(store, place).await?;

    let earliest = ymd(end - chrono::Days::new(PREGNANCY_MAX_DAYS));
    let mut rows = Vec::new();
    for r in store
        .read_rows(
            "SELECT g.id, g.posyandu, g.person, g.hpht, g.status, g.values_json
             FROM pregnancies g JOIN place_tree t ON t.code = g.posyandu
             WHERE t.ancestor = ?1 AND g.deleted = 0 AND g.hpht IS NOT NULL
               AND g.hpht <= ?2 AND g.hpht >= ?3"
                .into(),
            vec![p(place), p(&b), p(&earliest)],
        )
        .await?
    {
        let (Some(id), Some(posyandu)) = (text(&r, 0), text(&r, 1)) else {
            continue;
        };
        let values: serde_json::Value = text(&r, 5)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        rows.push(Row {
            id,
            posyandu,
            row: PregnancyRow {
                person: text(&r, 2),
                hpht: date(text(&r, 3).as_deref()),
                status: text(&r, 4),
                delivery_date: date(values.get("delivery_date").and_then(|v| v.as_str())),
            },
        });
    }

    // Facts corrected by a live one are left out (one pass, not a probe per fact).
    let corrected = corrections(store).await?;
    // ANC contacts per pregnancy (dates), live.
    let mut contacts: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for r in store
        .read_rows(
            "SELECT f.subject, f.date, f.id FROM facts f JOIN place_tree t ON t.code = f.posyandu
             WHERE t.ancestor = ?1 AND f.kind = 'anc_contact' AND f.deleted = 0
               AND f.subject IS NOT NULL AND f.date <= ?2"
                .into(),
            vec![p(place), p(&b)],
        )
        .await?
    {
        if text(&r, 2).is_some_and(|id| corrected.contains_key(&id)) {
            continue;
        }
        if let (Some(g), Some(d)) = (text(&r, 0), date(text(&r, 1).as_deref())) {
            contacts.entry(g).or_default().push(d);
        }
    }

    // The month's measurements of LiLA (KEK) and Hb (anaemia), live, per posyandu.
    let mut measurements: HashMap<String, Vec<Fact>> = HashMap::new();
    for r in store
        .read_rows(
            "SELECT f.id, f.kind, f.date, f.body_json, f.person, f.posyandu
             FROM facts f JOIN place_tree t ON t.code = f.posyandu
             WHERE t.ancestor = ?1 AND f.kind = 'measurement' AND f.date BETWEEN ?2 AND ?3
               AND f.deleted = 0 AND (f.body_json LIKE ?4 OR f.body_json LIKE ?5)"
                .into(),
            vec![p(place), p(&a), p(&b), p(MUAC), p(HB)],
        )
        .await?
    {
        if text(&r, 0).is_some_and(|id| corrected.contains_key(&id)) {
            continue;
        }
        let Some((posyandu, fact)) = month_fact(&r)? else {
            continue;
        };
        measurements.entry(posyandu).or_default().push(fact);
    }

    let mut by_posyandu: HashMap<String, Vec<Row>> = HashMap::new();
    for r in rows {
        by_posyandu.entry(r.posyandu.clone()).or_default().push(r);
    }
    let mut out = BTreeMap::new();
    for code in posyandu {
        let mine = by_posyandu.remove(&code).unwrap_or_default();
        let facts = measurements.remove(&code).unwrap_or_default();
        let pregnancy_rows: Vec<PregnancyRow> = mine.iter().map(|r| r.row.clone()).collect();
        let act = MonthActivity::of(
            &facts,
            &pregnancy_rows,
            start,
            end,
            Schedule::national_2024(),
        );
        let mut c = PregnancyCounts {
            code: code.clone(),
            pregnant_women: u64::from(act.pregnant_women),
            kek: u64::from(act.pregnant_kek),
            ..Default::default()
        };
        for g in mine.iter().filter(|g| g.row.pregnant_in(start, end)) {
            let Some(hpht) = g.row.hpht else { continue };
            let n = contacts
                .get(&g.id)
                .map_or(0, |d| d.iter().filter(|d| **d >= hpht).count());
            c.k1 += u64::from(n >= 1);
            c.k4 += u64::from(n >= 4);
            c.k6 += u64::from(n >= 6);
            let anaemic = facts.iter().any(|f| {
                f.person == g.row.person
                    && f.text("type") == Some("hb")
                    && f.day().is_some_and(|d| {
                        let hb = f.body.get("value").and_then(|v| v.as_f64());
                        match (hb, health_rules::pregnancy::gestational_age(hpht, d)) {
                            (Some(hb), Ok(ga)) => anc.anaemia(hb, anc.trimester(ga)) == Ok(true),
                            _ => false,
                        }
                    })
            });
            c.anaemia += u64::from(anaemic);
            if g.row.delivery_date.is_none()
                && g.row.status.as_deref() != Some("ended")
                && let Ok(hpl) = anc.hpl(hpht)
            {
                *c.expected_deliveries
                    .entry(hpl.format("%Y-%m").to_string())
                    .or_default() += 1;
            }
        }
        c.finish();
        out.insert(code, c);
    }
    Ok(out)
}

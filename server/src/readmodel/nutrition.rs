//! `GET /v1/reports/nutrition` and `GET /v1/reports/followup`: the under-fives of a place
//! read through `records::growth` (WHO z-scores, Permenkes 2/2020 categories, the KMS result)
//! exactly as a child's card on the tablet, then counted (nutrition status of the latest
//! measurement in a period, per posyandu and desa) or listed (children who need follow-up).
//! No health rule lives here: the categories and the KMS result are health-rules'.

use super::Param;
use super::monthly::{MonthlyError, merged_away, place_histories};
use super::reports::in_scope;
use super::text;
use crate::Storage;
use chrono::NaiveDate;
use health_rules::growth::Category;
use records::{Fact, GrowthPoint, RuleOptions};
use serde::Serialize;
use std::collections::BTreeMap;

/// A child of the place with their growth results (every measurement day).
struct Child {
    id: String,
    name: String,
    posyandu: String,
    birth: NaiveDate,
    growth: Vec<GrowthPoint>,
}

/// A person of the place with their facts of one kind (and those of records merged into them).
pub(super) struct PersonWithFacts {
    pub id: String,
    pub name: String,
    pub posyandu: String,
    pub sex: health_rules::Sex,
    pub birth: NaiveDate,
    pub facts: Vec<Fact>,
}

/// Active persons at or below `place` (not merged away) with a sex and a birth date in
/// `born_after < birth <= born_by`, with their live-or-corrected facts of `kind`.
pub(super) async fn persons_with_facts(
    store: &dyn Storage,
    place: &str,
    born_after: NaiveDate,
    born_by: NaiveDate,
    kind: &str,
) -> Result<Vec<PersonWithFacts>, MonthlyError> {
    let p = |s: &str| Param::Text(s.to_string());
    let (after, by) = (
        records::facts::ymd(born_after),
        records::facts::ymd(born_by),
    );
    let persons = store
        .read_rows(
            "SELECT p.id, p.name, p.posyandu, p.sex, p.birth_date FROM persons p
             JOIN place_tree t ON t.code = p.posyandu
             WHERE t.ancestor = ?1 AND p.deleted = 0 AND p.status = 'active'
               AND p.birth_date > ?2 AND p.birth_date <= ?3
             ORDER BY p.posyandu, p.name, p.id"
                .into(),
            vec![p(place), p(&after), p(&by)],
        )
        .await?;
    let away = merged_away(store).await?;
    let mut history = place_histories(store, place, &after, &by, &[kind]).await?;
    let mut out = Vec::new();
    for r in &persons {
        let (Some(id), Some(posyandu)) = (text(r, 0), text(r, 2)) else {
            continue;
        };
        if away.contains(&id) {
            continue;
        }
        let sex = records::facts::sex(text(r, 3).as_deref());
        let birth = text(r, 4).and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok());
        let (Some(sex), Some(birth)) = (sex, birth) else {
            continue;
        };
        let (facts, _) = history.take(&id);
        out.push(PersonWithFacts {
            id,
            name: text(r, 1).unwrap_or_default(),
            posyandu,
            sex,
            birth,
            facts,
        });
    }
    Ok(out)
}

/// The under-fives born after `born_after` with their growth results (every measurement
/// day), as the tablet's card computes them.
async fn children(
    store: &dyn Storage,
    place: &str,
    born_after: NaiveDate,
    today_or_to: NaiveDate,
) -> Result<Vec<Child>, MonthlyError> {
    let kbm = RuleOptions::default().kbm().ok();
    Ok(
        persons_with_facts(store, place, born_after, today_or_to, "measurement")
            .await?
            .into_iter()
            .map(|p| Child {
                growth: records::growth::growth_points(p.sex, p.birth, &p.facts, kbm),
                id: p.id,
                name: p.name,
                posyandu: p.posyandu,
                birth: p.birth,
            })
            .collect(),
    )
}

/// The day five years before `day` (a child born after it is under five on `day`).
fn five_years_before(day: NaiveDate) -> NaiveDate {
    day.checked_sub_months(chrono::Months::new(records::UNDER_FIVE_MONTHS))
        .unwrap_or(day)
}

fn date_of(p: &GrowthPoint) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&p.date, "%Y-%m-%d").ok()
}

/// Every place at or below `place`: name, parent and level.
pub(super) async fn parents(
    store: &dyn Storage,
    place: &str,
) -> Result<BTreeMap<String, (String, Option<String>, String)>, MonthlyError> {
    let mut out = BTreeMap::new();
    for r in store
        .read_rows(
            "SELECT p.code, p.name, p.parent, p.level FROM place_tree t
             JOIN places p ON p.code = t.code
             WHERE t.ancestor = ?1"
                .into(),
            vec![Param::Text(place.into())],
        )
        .await?
    {
        if let Some(code) = text(&r, 0) {
            out.insert(
                code,
                (
                    text(&r, 1).unwrap_or_default(),
                    text(&r, 2),
                    text(&r, 3).unwrap_or_default(),
                ),
            );
        }
    }
    Ok(out)
}

/// The desa (code, name) of each posyandu at or below `place` (the desa may lie above it).
pub(super) async fn desa_of(
    store: &dyn Storage,
    place: &str,
) -> Result<BTreeMap<String, (String, String)>, MonthlyError> {
    let mut out = BTreeMap::new();
    for r in store
        .read_rows(
            "SELECT t.code, a.code, a.name FROM place_tree t
             JOIN places a ON a.code = t.ancestor
             JOIN place_tree u ON u.code = t.code
             WHERE u.ancestor = ?1 AND a.level = 'desa'"
                .into(),
            vec![Param::Text(place.into())],
        )
        .await?
    {
        if let (Some(p), Some(d)) = (text(&r, 0), text(&r, 1)) {
            out.insert(p, (d, text(&r, 2).unwrap_or_default()));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Nutrition status.

/// Counts of one indicator: children with a category, by category key, and the prevalences.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndicatorCounts {
    /// Children whose latest measurement has a category for this indicator.
    pub assessed: u64,
    /// By Permenkes 2/2020 category key (`growth.wfa.underweight`, …).
    pub by_category: BTreeMap<String, u64>,
    /// The problem categories (moderate and severe) and the severe one.
    pub problem: u64,
    pub severe: u64,
    /// `problem / assessed` and `severe / assessed` (`None` with nobody assessed).
    pub prevalence: Option<f64>,
    pub severe_prevalence: Option<f64>,
}

impl IndicatorCounts {
    fn add(&mut self, c: Category, problem: bool, severe: bool) {
        self.assessed += 1;
        *self
            .by_category
            .entry(c.label().key.to_string())
            .or_default() += 1;
        self.problem += u64::from(problem || severe);
        self.severe += u64::from(severe);
    }
    fn merge(&mut self, o: &IndicatorCounts) {
        self.assessed += o.assessed;
        self.problem += o.problem;
        self.severe += o.severe;
        for (k, v) in &o.by_category {
            *self.by_category.entry(k.clone()).or_default() += v;
        }
    }
    fn finish(&mut self) {
        let r = |n: u64| (self.assessed > 0).then(|| n as f64 / self.assessed as f64);
        self.prevalence = r(self.problem);
        self.severe_prevalence = r(self.severe);
    }
}

/// Nutrition status of the under-fives of one posyandu or desa.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NutritionCounts {
    pub code: String,
    pub name: String,
    /// Under-fives with a measurement in the period.
    pub measured: u64,
    /// BB/U: underweight (problem) and severely underweight (severe).
    pub weight_for_age: IndicatorCounts,
    /// PB/U or TB/U: stunting and severe stunting.
    pub height_for_age: IndicatorCounts,
    /// BB/PB or BB/TB: wasting (gizi kurang) and severe wasting (gizi buruk).
    pub weight_for_height: IndicatorCounts,
}

impl NutritionCounts {
    fn merge(&mut self, o: &NutritionCounts) {
        self.measured += o.measured;
        self.weight_for_age.merge(&o.weight_for_age);
        self.height_for_age.merge(&o.height_for_age);
        self.weight_for_height.merge(&o.weight_for_height);
    }
    fn finish(&mut self) {
        self.weight_for_age.finish();
        self.height_for_age.finish();
        self.weight_for_height.finish();
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NutritionReport {
    pub place: String,
    pub from: String,
    pub to: String,
    pub posyandu: Vec<NutritionCounts>,
    pub desa: Vec<NutritionCounts>,
    pub total: NutritionCounts,
}

/// The nutrition status of the under-fives at or below `place`, each by their latest
/// measurement day in `from..=to` (under five on that day); `None` outside `scope`.
pub async fn nutrition(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<NutritionReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = nutrition_parts(store, place.to_string(), from, to).await?;
    nutrition_assemble(store, place, from, to, parts)
        .await
        .map(Some)
}

/// The nutrition status of the under-fives of each posyandu at or below `place` (the parts
/// of [`nutrition_assemble`]; every posyandu there has one), read in one pass.
pub async fn nutrition_parts(
    store: &dyn Storage,
    place: String,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, NutritionCounts>, MonthlyError> {
    let place = place.as_str();
    let mut per: BTreeMap<String, NutritionCounts> = BTreeMap::new();
    for code in super::parts::posyandu_under(store, place).await? {
        per.insert(
            code.clone(),
            NutritionCounts {
                code,
                ..Default::default()
            },
        );
    }
    for c in children(store, place, five_years_before(from), to).await? {
        let latest = c.growth.iter().rev().find(|p| {
            date_of(p).is_some_and(|d| d >= from && d <= to && records::is_under_five(c.birth, d))
        });
        let Some(point) = latest else { continue };
        let n = per.entry(c.posyandu.clone()).or_default();
        n.measured += 1;
        let Some(a) = &point.assessment else { continue };
        if let Some(cat) = a.wfa.as_ref().and_then(|r| r.category) {
            n.weight_for_age.add(
                cat,
                cat == Category::Underweight,
                cat == Category::SeverelyUnderweight,
            );
        }
        if let Some(cat) = a.lhfa.as_ref().and_then(|r| r.category) {
            n.height_for_age.add(
                cat,
                cat == Category::Stunted,
                cat == Category::SeverelyStunted,
            );
        }
        if let Some(cat) = a.wfl.as_ref().or(a.wfh.as_ref()).and_then(|r| r.category) {
            n.weight_for_height.add(
                cat,
                cat == Category::Wasted,
                cat == Category::SeverelyWasted,
            );
        }
    }
    for n in per.values_mut() {
        n.finish();
    }
    Ok(per)
}

/// The nutrition report of `place` from the parts of its posyandu ([`nutrition_parts`],
/// maybe kept: [`super::parts`]), summed per desa and in total, places named as now.
pub async fn nutrition_assemble(
    store: &dyn Storage,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    mut per: BTreeMap<String, NutritionCounts>,
) -> Result<NutritionReport, MonthlyError> {
    let places = parents(store, place).await?;
    let desa_of = desa_of(store, place).await?;
    let mut posyandu = Vec::new();
    let mut desa: BTreeMap<String, NutritionCounts> = BTreeMap::new();
    let mut total = NutritionCounts {
        code: place.to_string(),
        name: places.get(place).map(|p| p.0.clone()).unwrap_or_default(),
        ..Default::default()
    };
    for (code, (name, _, level)) in &places {
        if level != "posyandu" {
            continue;
        }
        let mut n = per.remove(code).unwrap_or_default();
        n.code = code.clone();
        n.name = name.clone();
        if let Some((d, dname)) = desa_of.get(code) {
            let entry = desa.entry(d.clone()).or_insert_with(|| NutritionCounts {
                code: d.clone(),
                name: dname.clone(),
                ..Default::default()
            });
            entry.merge(&n);
        }
        total.merge(&n);
        n.finish();
        posyandu.push(n);
    }
    let mut desa: Vec<NutritionCounts> = desa.into_values().collect();
    for d in &mut desa {
        d.finish();
    }
    total.finish();
    Ok(NutritionReport {
        place: place.to_string(),
        from: records::facts::ymd(from),
        to: records::facts::ymd(to),
        posyandu,
        desa,
        total,
    })
}

// ---------------------------------------------------------------------------------------------
// Follow-up.

/// An under-five whose latest measurement calls for follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUpChild {
    pub person: String,
    pub name: String,
    pub posyandu: String,
    pub birth_date: String,
    /// The latest measurement day.
    pub date: String,
    pub age_months: i64,
    pub weight_kg: Option<f64>,
    /// `bgm` (below the KMS red line), `2t` (not gaining two months running), `gizi_buruk`
    /// (BB/PB or BB/TB < −3 SD), `gizi_kurang` (−3 to < −2 SD).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUpReport {
    pub place: String,
    pub as_of: String,
    pub children: Vec<FollowUpChild>,
}

/// Under-fives at or below `place` whose latest measurement (by `today`) shows BGM, 2T,
/// gizi buruk or gizi kurang; `None` outside `scope`.
pub async fn followup(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    today: NaiveDate,
) -> Result<Option<FollowUpReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = followup_parts(store, place.to_string(), today).await?;
    Ok(Some(followup_assemble(place, today, parts)))
}

/// The follow-up report of `place`: the lists of its posyandu ([`followup_parts`], maybe
/// kept: [`super::parts`]) one after the other, by posyandu code.
pub fn followup_assemble(
    place: &str,
    today: NaiveDate,
    parts: BTreeMap<String, Vec<FollowUpChild>>,
) -> FollowUpReport {
    FollowUpReport {
        place: place.to_string(),
        as_of: records::facts::ymd(today),
        children: parts.into_values().flatten().collect(),
    }
}

/// The children to follow up of each posyandu at or below `place` (by name, then id), every
/// posyandu there with its list (maybe empty), read in one pass.
pub async fn followup_parts(
    store: &dyn Storage,
    place: String,
    today: NaiveDate,
) -> Result<BTreeMap<String, Vec<FollowUpChild>>, MonthlyError> {
    let place = place.as_str();
    let mut out: BTreeMap<String, Vec<FollowUpChild>> = super::parts::posyandu_under(store, place)
        .await?
        .into_iter()
        .map(|p| (p, Vec::new()))
        .collect();
    for c in children(store, place, five_years_before(today), today).await? {
        let Some(point) = c
            .growth
            .iter()
            .rev()
            .find(|p| date_of(p).is_some_and(|d| d <= today))
        else {
            continue;
        };
        let mut reasons = Vec::new();
        if let Some(k) = &point.kms {
            if k.bgm == Some(true) {
                reasons.push("bgm".to_string());
            }
            if k.two_t {
                reasons.push("2t".to_string());
            }
        }
        let wfh = point
            .assessment
            .as_ref()
            .and_then(|a| a.wfl.as_ref().or(a.wfh.as_ref()))
            .and_then(|r| r.category);
        match wfh {
            Some(Category::SeverelyWasted) => reasons.push("gizi_buruk".into()),
            Some(Category::Wasted) => reasons.push("gizi_kurang".into()),
            _ => {}
        }
        if reasons.is_empty() {
            continue;
        }
        out.entry(c.posyandu.clone())
            .or_default()
            .push(FollowUpChild {
                person: c.id,
                name: c.name,
                posyandu: c.posyandu,
                birth_date: records::facts::ymd(c.birth),
                date: point.date.clone(),
                age_months: point.age_months,
                weight_kg: point.weight_kg,
                reasons,
            });
    }
    Ok(out)
}

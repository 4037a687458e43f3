//! `GET /v1/reports/skdn`: SKDN and the monthly posyandu report (F1) of every posyandu at or
//! below a place, and their roll-up, computed by `records::report` from the read tables
//! exactly as a tablet computes its Laporan (field-core/src/health/report.rs): the same rows
//! (persons born by the month's end and not merged away, their facts and those of records
//! merged into them, the month's facts and pregnancies of the posyandu) handed to the same
//! functions. No health rule lives here.

use super::reports::in_scope;
use super::text;
use super::{Cell, Param};
use crate::Storage;
use crate::storage::StorageError;
use chrono::NaiveDate;
use health_rules::immunisation::Schedule;
use health_rules::kms::YearMonth;
use health_rules::report::{Counts, MonthlyReport, Ratios, ReportChild, ReportOptions};
use records::facts::ymd;
use records::report::{
    ChildRecords, MonthActivity, PosyanduReport, PregnancyRow, Skdn, in_report_month,
    named_problems, present_at,
};
use records::{Fact, PersonFacts, RuleOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use sync_protocol::{Body, RecordId};

/// Why a monthly report could not be computed from stored rows.
#[derive(Debug, thiserror::Error)]
pub enum MonthlyError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("month {0} has no bounds")]
    Month(String),
    #[error("rule tables: {0}")]
    Rules(String),
    #[error("stored row: {0}")]
    Row(String),
}

/// One posyandu's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PosyanduMonth {
    pub code: String,
    pub name: String,
    /// SKDN of all under-fives (as the tablet's `skdn`).
    pub skdn: Skdn,
    /// F1 by age band and sex, the month's activity and the named problems (as the tablet's
    /// `monthly_report`).
    pub f1: PosyanduReport,
}

/// One cell of the roll-up: an age band (`None`: all ages) and a sex (`None`: both).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollupRow {
    pub band: Option<health_rules::report::AgeBand>,
    pub sex: Option<health_rules::Sex>,
    pub counts: Counts,
    pub ratios: Ratios,
}

/// The answer of `/v1/reports/skdn`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkdnReport {
    pub place: String,
    pub month: YearMonth,
    /// Every posyandu at or below `place`, by code.
    pub posyandu: Vec<PosyanduMonth>,
    /// The posyandu's F1 cells summed cell by cell (ratios of the sums); the last row is
    /// all ages, both sexes.
    pub rollup: Vec<RollupRow>,
    /// All ages, both sexes, summed.
    pub total: Counts,
    pub ratios: Ratios,
}

fn date(row: &[Cell], i: usize) -> Option<NaiveDate> {
    row.get(i)
        .and_then(Cell::text)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn body(row: &[Cell], i: usize) -> Result<Body, MonthlyError> {
    let s = row.get(i).and_then(Cell::text).unwrap_or("{}");
    serde_json::from_str(s).map_err(|e| MonthlyError::Row(e.to_string()))
}

/// A stored person of a posyandu.
struct PersonRow {
    id: RecordId,
    posyandu: String,
    name: String,
    sex: Option<String>,
    birth: Option<NaiveDate>,
    status: String,
    values: Body,
}

/// Everything of the place's posyandu the month needs, grouped by posyandu.
#[derive(Default)]
struct PosyanduRows {
    persons: Vec<PersonRow>,
    month_facts: Vec<Fact>,
    pregnancies: Vec<PregnancyRow>,
    deaths: u32,
}

/// Persons of the posyandu at or below `place` born from `?3` (a bound before which nobody is
/// under five at the month's end) to `?2` (the month's end). Those merged away are left out
/// in Rust ([`merged_away`]), not by a correlated subquery.
const PERSONS: &str = "SELECT p.id, p.posyandu, p.name, p.sex, p.birth_date, p.status,
        p.values_json
    FROM persons p JOIN place_tree t ON t.code = p.posyandu
    WHERE t.ancestor = ?1 AND p.deleted = 0 AND p.birth_date <= ?2 AND p.birth_date >= ?3";

/// A row `(id, kind, date, body_json, supersedes, person, superseded_by)` — the columns of
/// [`place_histories`]' query and the correction — as a fact; `None` when its id, kind or date is missing.
pub(super) fn history_fact(r: &[Cell]) -> Result<Option<Fact>, MonthlyError> {
    let (Some(id), Some(kind), Some(day)) = (text(r, 0), text(r, 1), text(r, 2)) else {
        return Ok(None);
    };
    Fact::from_columns(
        &id,
        &kind,
        day,
        &text(r, 3).unwrap_or_else(|| "{}".into()),
        text(r, 4).as_deref(),
        text(r, 6).as_deref(),
        text(r, 5),
    )
    .map(Some)
    .map_err(|e| MonthlyError::Row(e.to_string()))
}

/// A row `(id, kind, date, body_json, person, posyandu)` — the columns of `MONTH_FACTS` —
/// as its posyandu and the fact; `None` when a key column is missing.
pub(super) fn month_fact(r: &[Cell]) -> Result<Option<(String, Fact)>, MonthlyError> {
    let (Some(id), Some(kind), Some(day), Some(posyandu)) =
        (text(r, 0), text(r, 1), text(r, 2), text(r, 5))
    else {
        return Ok(None);
    };
    let fact = Fact::from_columns(
        &id,
        &kind,
        day,
        &text(r, 3).unwrap_or_else(|| "{}".into()),
        None,
        None,
        text(r, 4),
    )
    .map_err(|e| MonthlyError::Row(e.to_string()))?;
    Ok(Some((posyandu, fact)))
}

/// Live corrections: each corrected fact's id and the smallest id of a live fact that
/// supersedes it. One pass over the (few) correcting facts, instead of a correlated
/// `(SELECT MIN(c.id) FROM facts c WHERE c.supersedes = f.id …)` probe for every fact read,
/// whose cost and plan depend on the planner's statistics.
pub(super) async fn corrections(
    store: &dyn Storage,
) -> Result<HashMap<String, String>, MonthlyError> {
    let mut out = HashMap::new();
    for r in store
        .read_rows(
            "SELECT supersedes, MIN(id) FROM facts
             WHERE supersedes IS NOT NULL AND deleted = 0 GROUP BY supersedes"
                .into(),
            vec![],
        )
        .await?
    {
        if let (Some(target), Some(by)) = (text(&r, 0), text(&r, 1)) {
            out.insert(target, by);
        }
    }
    Ok(out)
}

/// Persons merged into another (by a live `person_merge` anywhere): never counted themselves.
pub(super) async fn merged_away(store: &dyn Storage) -> Result<HashSet<String>, MonthlyError> {
    let mut out = HashSet::new();
    for r in store
        .read_rows(
            "SELECT subject FROM facts
             WHERE kind = 'person_merge' AND deleted = 0 AND subject IS NOT NULL"
                .into(),
            vec![],
        )
        .await?
    {
        if let Some(s) = text(&r, 0) {
            out.insert(s);
        }
    }
    Ok(out)
}

/// The live facts of `kinds` of the persons at or below `place` born `born_from..=born_to`
/// (`YYYY-MM-DD`; a superset of those the caller reads is fine) and of every person merged
/// into a person there, each with the live fact that corrects it, and the merges made there
/// (as field-core's `posyandu_histories`). Two joins that an index serves whatever the
/// planner's estimates (`place_tree` → `persons (posyandu, birth_date)` → `facts (person,
/// date)`), instead of `person IN (… UNION …)`.
pub(super) async fn place_histories(
    store: &dyn Storage,
    place: &str,
    born_from: &str,
    born_to: &str,
    kinds: &[&str],
) -> Result<PersonFacts, MonthlyError> {
    let corrected = corrections(store).await?;
    // `?first, ?first+1, …`: one parameter per kind after the query's own.
    let marks = |first: usize| -> String {
        (0..kinds.len())
            .map(|i| format!("?{}", i + first))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let params = |first: Vec<Param>| -> Vec<Param> {
        first
            .into_iter()
            .chain(kinds.iter().map(|k| Param::Text((*k).to_string())))
            .collect()
    };
    let with_correction = |mut r: Vec<Cell>| -> Vec<Cell> {
        let by = text(&r, 0)
            .and_then(|id| corrected.get(&id).cloned())
            .map_or(Cell::Null, Cell::Text);
        r.truncate(6);
        r.push(by);
        r
    };
    let mut history = PersonFacts::default();
    let own = format!(
        "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person
         FROM place_tree t JOIN persons p ON p.posyandu = t.code
         JOIN facts f ON f.person = p.id
         WHERE t.ancestor = ?1 AND p.birth_date >= ?2 AND p.birth_date <= ?3
           AND f.deleted = 0 AND f.kind IN ({})",
        marks(4)
    );
    let t = |s: &str| Param::Text(s.to_string());
    for r in store
        .read_rows(own, params(vec![t(place), t(born_from), t(born_to)]))
        .await?
    {
        let Some(fact) = history_fact(&with_correction(r))? else {
            continue;
        };
        let Some(person) = fact.person.clone() else {
            continue;
        };
        history.facts.entry(person).or_default().push(fact);
    }
    // Persons merged into someone here: their facts, unless read above already.
    let merged = format!(
        "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person
         FROM place_tree t JOIN facts m ON m.posyandu = t.code
         JOIN facts f ON f.person = m.subject
         WHERE t.ancestor = ?1 AND m.kind = 'person_merge' AND m.deleted = 0
           AND m.subject IS NOT NULL
           AND f.deleted = 0 AND f.kind IN ({})",
        marks(2)
    );
    let mut subjects: HashSet<String> = HashSet::new();
    let mut seen: HashSet<RecordId> = HashSet::new();
    for r in store.read_rows(merged, params(vec![t(place)])).await? {
        let Some(fact) = history_fact(&with_correction(r))? else {
            continue;
        };
        let Some(person) = fact.person.clone() else {
            continue;
        };
        if !subjects.contains(&person) && history.facts.contains_key(&person) {
            continue;
        }
        subjects.insert(person.clone());
        if seen.insert(fact.id) {
            history.facts.entry(person).or_default().push(fact);
        }
    }
    for r in store.read_rows(MERGES.into(), vec![t(place)]).await? {
        if let (Some(kept), Some(merged)) = (text(&r, 0), text(&r, 1)) {
            history.merges.entry(kept).or_default().push(merged);
        }
    }
    Ok(history)
}

const MERGES: &str = "SELECT m.person, m.subject FROM facts m
    JOIN place_tree t ON t.code = m.posyandu
    WHERE t.ancestor = ?1 AND m.kind = 'person_merge' AND m.deleted = 0
      AND m.person IS NOT NULL AND m.subject IS NOT NULL";

/// The facts of the month at the posyandu (as field-core's `month_activity`); of the
/// measurements only the LiLA (`muac`, for KEK: the only measurement the activity reads).
const MONTH_FACTS: &str = "SELECT f.id, f.kind, f.date, f.body_json, f.person, f.posyandu
    FROM facts f JOIN place_tree t ON t.code = f.posyandu
    WHERE t.ancestor = ?1 AND f.date BETWEEN ?2 AND ?3 AND f.deleted = 0
      AND f.kind IN ('posyandu_session', 'visit', 'immunisation', 'anc_contact',
                     'referral_event', 'measurement')
      AND (f.kind <> 'measurement' OR f.body_json LIKE ?4)
    ORDER BY f.date, f.id";

/// `LIKE` patterns that keep the measurements of one type (a superset: `MonthActivity::of`
/// and the callers still read the type). A stored body is compact JSON
/// (`serde_json::to_string`, merge.rs), so a body of type `muac` holds `"type":"muac"`; the
/// month's other measurements (every weighing) are not read for nothing.
pub(super) const MUAC: &str = "%\"type\":\"muac\"%";
pub(super) const HB: &str = "%\"type\":\"hb\"%";

const PREGNANCIES: &str = "SELECT g.posyandu, g.person, g.hpht, g.status, g.values_json
    FROM pregnancies g JOIN place_tree t ON t.code = g.posyandu
    WHERE t.ancestor = ?1 AND g.deleted = 0 AND g.hpht IS NOT NULL
      AND g.hpht <= ?2 AND g.hpht >= ?3";

const DIED: &str = "SELECT p.posyandu, p.values_json FROM persons p
    JOIN place_tree t ON t.code = p.posyandu
    WHERE t.ancestor = ?1 AND p.deleted = 0 AND p.status = 'died'";

/// SKDN and F1 of every posyandu at or below `place` for `month`, and their roll-up; `None`
/// when `place` is not `scope` or below it.
pub async fn skdn(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<SkdnReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = skdn_parts(store, place.to_string(), month).await?;
    skdn_assemble(store, place, month, parts).await.map(Some)
}

/// The posyandu at or below `place` with their names, by code.
async fn posyandu_names(
    store: &dyn Storage,
    place: &str,
) -> Result<BTreeMap<String, String>, MonthlyError> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
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
            names.insert(code, text(&r, 1).unwrap_or_default());
        }
    }
    Ok(names)
}

/// The SKDN report of `place` from the parts of its posyandu ([`skdn_parts`], maybe kept:
/// [`super::parts`]): each posyandu named as now, the roll-up summed cell by cell in code
/// order. A posyandu without a part counts nothing.
pub async fn skdn_assemble(
    store: &dyn Storage,
    place: &str,
    month: YearMonth,
    mut parts: BTreeMap<String, PosyanduMonth>,
) -> Result<SkdnReport, MonthlyError> {
    let mut out = Vec::new();
    let mut cells: Vec<RollupRow> = Vec::new();
    for (code, name) in posyandu_names(store, place).await? {
        let Some(mut part) = parts.remove(&code) else {
            continue;
        };
        part.name = name;
        for row in &part.f1.report.rows {
            match cells
                .iter_mut()
                .find(|c| c.band == row.band && c.sex == row.sex)
            {
                Some(c) => c.counts = c.counts + row.counts,
                None => cells.push(RollupRow {
                    band: row.band,
                    sex: row.sex,
                    counts: row.counts,
                    ratios: row.ratios,
                }),
            }
        }
        out.push(part);
    }
    for c in &mut cells {
        c.ratios = c.counts.ratios();
    }
    let total = cells
        .iter()
        .find(|c| c.band.is_none() && c.sex.is_none())
        .map(|c| c.counts)
        .unwrap_or_default();
    Ok(SkdnReport {
        place: place.to_string(),
        month,
        posyandu: out,
        rollup: cells,
        ratios: total.ratios(),
        total,
    })
}

/// The `total` of [`skdn_assemble`]'s report from the same parts (all ages, both sexes,
/// summed), without naming or assembling anything.
pub fn skdn_total_of(parts: &BTreeMap<String, PosyanduMonth>) -> Counts {
    let mut total = Counts::default();
    for part in parts.values() {
        if let Some(row) = part
            .f1
            .report
            .rows
            .iter()
            .find(|r| r.band.is_none() && r.sex.is_none())
        {
            total = total + row.counts;
        }
    }
    total
}

/// The SKDN and F1 of every posyandu at or below `place` for `month`, by code (the parts of
/// [`skdn_assemble`]), read in one pass over the place's rows.
pub async fn skdn_parts(
    store: &dyn Storage,
    place: String,
    month: YearMonth,
) -> Result<BTreeMap<String, PosyanduMonth>, MonthlyError> {
    let place = place.as_str();
    let (start, end) = records::report::month_bounds(month)
        .ok_or_else(|| MonthlyError::Month(month.to_string()))?;
    let (a, b) = (ymd(start), ymd(end));
    let p = |s: &str| Param::Text(s.to_string());
    let kbm = RuleOptions::default()
        .kbm()
        .map_err(|e| MonthlyError::Rules(e.to_string()))?;

    let names = posyandu_names(store, place).await?;
    let mut rows: HashMap<String, PosyanduRows> = HashMap::new();
    let away = merged_away(store).await?;
    // Nobody born before this is under five at the month's end (`in_report_month` decides).
    let oldest = ymd(end
        .checked_sub_months(chrono::Months::new(records::UNDER_FIVE_MONTHS + 2))
        .unwrap_or(end));
    for r in store
        .read_rows(PERSONS.into(), vec![p(place), p(&b), p(&oldest)])
        .await?
    {
        let (Some(id), Some(posyandu)) = (text(&r, 0), text(&r, 1)) else {
            continue;
        };
        if away.contains(&id) {
            continue;
        }
        let id: RecordId = id
            .parse()
            .map_err(|_| MonthlyError::Row(format!("person id {id:?}")))?;
        rows.entry(posyandu.clone())
            .or_default()
            .persons
            .push(PersonRow {
                id,
                posyandu,
                name: text(&r, 2).unwrap_or_default(),
                sex: text(&r, 3),
                birth: date(&r, 4),
                status: text(&r, 5).unwrap_or_else(|| "active".into()),
                values: body(&r, 6)?,
            });
    }

    let mut history = place_histories(
        store,
        place,
        &oldest,
        &b,
        &[
            "measurement",
            "immunisation",
            "visit",
            "anc_contact",
            "supplement",
            "screening",
        ],
    )
    .await?;

    let corrected = corrections(store).await?;
    for r in store
        .read_rows(MONTH_FACTS.into(), vec![p(place), p(&a), p(&b), p(MUAC)])
        .await?
    {
        if text(&r, 0).is_some_and(|id| corrected.contains_key(&id)) {
            continue;
        }
        let Some((posyandu, fact)) = month_fact(&r)? else {
            continue;
        };
        rows.entry(posyandu).or_default().month_facts.push(fact);
    }

    let earliest_hpht = ymd(end - chrono::Days::new(records::report::PREGNANCY_MAX_DAYS));
    for r in store
        .read_rows(PREGNANCIES.into(), vec![p(place), p(&b), p(&earliest_hpht)])
        .await?
    {
        let Some(posyandu) = text(&r, 0) else {
            continue;
        };
        let values = body(&r, 4)?;
        let delivery_date = values
            .get("delivery_date")
            .and_then(|v| v.as_str())
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        rows.entry(posyandu)
            .or_default()
            .pregnancies
            .push(PregnancyRow {
                person: text(&r, 1),
                hpht: date(&r, 2),
                status: text(&r, 3),
                delivery_date,
            });
    }

    for r in store.read_rows(DIED.into(), vec![p(place)]).await? {
        let Some(posyandu) = text(&r, 0) else {
            continue;
        };
        let values = body(&r, 1)?;
        let died_in_month = values
            .get("status_date")
            .and_then(|v| v.as_str())
            .is_some_and(|d| d >= a.as_str() && d <= b.as_str());
        if died_in_month {
            rows.entry(posyandu).or_default().deaths += 1;
        }
    }

    let mut out = BTreeMap::new();
    for (code, name) in names {
        let mut mine = rows.remove(&code).unwrap_or_default();
        let f1 = posyandu_month(&code, month, start, end, &mut mine, &mut history, kbm)?;
        out.insert(
            code.clone(),
            PosyanduMonth {
                code,
                name,
                skdn: f1.1,
                f1: f1.0,
            },
        );
    }
    Ok(out)
}

/// One posyandu's F1 and SKDN from its rows: the tablet's `monthly_report` and `skdn`.
fn posyandu_month(
    code: &str,
    month: YearMonth,
    start: NaiveDate,
    end: NaiveDate,
    rows: &mut PosyanduRows,
    history: &mut PersonFacts,
    kbm: &health_rules::kms::KbmTable,
) -> Result<(PosyanduReport, Skdn), MonthlyError> {
    // As the tablet: newest birth first, then name (byte order, SQLite's default).
    rows.persons
        .sort_by(|x, y| y.birth.cmp(&x.birth).then_with(|| x.name.cmp(&y.name)));
    let births = rows
        .persons
        .iter()
        .filter(|p| p.birth.is_some_and(|d| d >= start && d <= end))
        .count();
    let mut children: Vec<(RecordId, String)> = Vec::new();
    let mut list: Vec<ReportChild> = Vec::new();
    for person in &rows.persons {
        debug_assert_eq!(person.posyandu, code);
        if !present_at(&person.status, &person.values, end) {
            continue;
        }
        let (Some(sex), Some(birth)) = (records::facts::sex(person.sex.as_deref()), person.birth)
        else {
            continue;
        };
        if !in_report_month(birth, end) {
            continue;
        }
        let (entries, _) = history.take(&person.id.to_string());
        let has_kms = person.values.get("has_kms").and_then(|v| v.as_bool());
        let records = ChildRecords::of(sex, birth, has_kms, end, &entries);
        children.push((person.id, person.name.clone()));
        list.push(records.report);
    }
    let mut activity = MonthActivity::of(
        &rows.month_facts,
        &rows.pregnancies,
        start,
        end,
        Schedule::national_2024(),
    );
    activity.births = u32::try_from(births).unwrap_or(u32::MAX);
    activity.deaths = rows.deaths;
    let report = |options: &ReportOptions| -> Result<MonthlyReport, MonthlyError> {
        records::report::build_report(code, month, &list, kbm, options)
            .map_err(|e| MonthlyError::Month(e.to_string()))
    };
    let f1 = report(&ReportOptions {
        posyandu_day: activity
            .sessions
            .first()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
    })?;
    let skdn = records::report::skdn(code, month, &report(&ReportOptions::default())?, &children);
    let problems = named_problems(&f1, &children);
    Ok((
        PosyanduReport {
            report: f1,
            activity,
            problems,
        },
        skdn,
    ))
}

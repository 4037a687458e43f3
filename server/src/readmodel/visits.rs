//! Postpartum (KF1–KF4) and newborn (KN1–KN3) visits of a month at or below a place, per
//! desa: the windows closing in the month (due), those with a visit in the window (done),
//! and those closed without one (overdue), with the overdue mothers and babies by name.
//!
//! The windows are health-rules' own (`tasks::due_tasks`, as the tablet lists them): each
//! delivery's and birth's windows are read off the tasks of a history without visits.
//! A visit is any live `visit` fact of the person (as `records::history` counts KN/KF) and
//! counts for the window its date falls in. Deliveries are the pregnancies' `delivery_date`;
//! newborns are the persons born in the 28 days before the month's end.

use super::Param;
use super::monthly::MonthlyError;
use super::reports::in_scope;
use super::text;
use crate::Storage;
use chrono::{Days, NaiveDate};
use health_rules::common::Sex;
use health_rules::kms::YearMonth;
use health_rules::tasks::{PersonHistory, TaskKind, due_tasks};
use records::RuleOptions;
use records::facts::ymd;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// KF (postpartum, of the mother) or KN (newborn, of the baby).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum VisitKind {
    #[serde(rename = "KF")]
    Postpartum,
    #[serde(rename = "KN")]
    Newborn,
}

/// One visit window as the rules give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// `KF1` … `KF4`, `KN1` … `KN3`.
    pub visit: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

/// Due, done and overdue windows of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Windows closing in the month.
    pub due: u64,
    /// Of them, with a visit in the window.
    pub done: u64,
    /// Of them, closed (before today) without a visit.
    pub overdue: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.due += o.due;
        self.done += o.done;
        self.overdue += o.overdue;
    }
}

/// The visits of one desa (or the total).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VisitCounts {
    pub code: String,
    pub name: String,
    pub kf: Tally,
    pub kn: Tally,
}

/// A window closed without a visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueVisit {
    pub kind: VisitKind,
    pub visit: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// The mother (KF) or the baby (KN).
    pub name: String,
    pub posyandu: String,
    pub desa: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitReport {
    pub place: String,
    pub month: YearMonth,
    pub desa: Vec<VisitCounts>,
    pub total: VisitCounts,
    /// Sorted by desa, posyandu, window end, name.
    pub overdue: Vec<OverdueVisit>,
}

/// The KF or KN windows after `base` (a delivery or a birth), from the rules' tasks of a
/// history with no visits: each evaluation lists the open window and the next one; the
/// next evaluation is the day after the latest window found closes.
pub fn windows(base: NaiveDate, kind: VisitKind) -> Vec<Window> {
    let (due_kind, missed_kind) = match kind {
        VisitKind::Postpartum => (TaskKind::PostpartumVisit, TaskKind::PostpartumVisitMissed),
        VisitKind::Newborn => (TaskKind::NewbornVisit, TaskKind::NewbornVisitMissed),
    };
    let history = PersonHistory {
        // A mother is an adult (no newborn tasks of her own); a baby was born on `base`.
        birth_date: match kind {
            VisitKind::Postpartum => base.checked_sub_days(Days::new(365 * 30)).unwrap_or(base),
            VisitKind::Newborn => base,
        },
        sex: Sex::Female,
        kms: Vec::new(),
        immunisations: Vec::new(),
        pregnancy: None,
        delivery_date: (kind == VisitKind::Postpartum).then_some(base),
        newborn_visits: Vec::new(),
        postpartum_visits: Vec::new(),
        tb: None,
        last_posyandu: None,
        registered_on: None,
    };
    let rules = RuleOptions::default();
    let mut found: BTreeMap<NaiveDate, Window> = BTreeMap::new();
    let mut today = base;
    while let Ok(ctx) = records::tasks::task_context(today, &rules) {
        let Ok(tasks) = due_tasks(&history, &ctx) else {
            break;
        };
        let mut latest = None;
        for t in tasks
            .iter()
            .filter(|t| t.kind == due_kind || t.kind == missed_kind)
        {
            let p = |k: &str| t.params.get(k).cloned();
            let day = |k: &str| p(k).and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
            if let (Some(visit), Some(from), Some(until)) = (p("visit"), day("from"), day("until"))
            {
                latest = latest.max(Some(until));
                found.insert(from, Window { visit, from, until });
            }
        }
        match latest.and_then(|d| d.checked_add_days(Days::new(1))) {
            Some(next) if next > today => today = next,
            _ => break,
        }
    }
    found.into_values().collect()
}

/// One delivery or birth in scope.
struct Subject {
    kind: VisitKind,
    person: String,
    base: NaiveDate,
    name: String,
    posyandu: String,
}

/// The KF/KN report of `place` for `month` on `today`; `None` outside `scope`.
pub async fn visits(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
    today: NaiveDate,
) -> Result<Option<VisitReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let (start, end) = records::report::month_bounds(month)
        .ok_or_else(|| MonthlyError::Month(month.to_string()))?;
    let p = |s: &str| Param::Text(s.to_string());
    // Windows end at most 42 (KF) or 28 (KN) days after the base; a margin for the rules.
    let earliest = start - Days::new(60);

    // posyandu → (name, desa code, desa name)
    let mut posyandu: HashMap<String, (String, String, String)> = HashMap::new();
    for r in store
        .read_rows(
            "SELECT p.code, p.name, a.code, a.name
             FROM place_tree t JOIN places p ON p.code = t.code
             JOIN place_tree x ON x.code = p.code
             JOIN places a ON a.code = x.ancestor AND a.level = 'desa'
             WHERE t.ancestor = ?1 AND p.level = 'posyandu'"
                .into(),
            vec![p(place)],
        )
        .await?
    {
        if let (Some(code), Some(desa)) = (text(&r, 0), text(&r, 2)) {
            posyandu.insert(
                code,
                (
                    text(&r, 1).unwrap_or_default(),
                    desa,
                    text(&r, 3).unwrap_or_default(),
                ),
            );
        }
    }

    let mut subjects = Vec::new();
    for r in store
        .read_rows(
            "SELECT g.person, g.posyandu, g.values_json, COALESCE(m.name, '')
             FROM pregnancies g JOIN place_tree t ON t.code = g.posyandu
             LEFT JOIN persons m ON m.id = g.person
             WHERE t.ancestor = ?1 AND g.deleted = 0 AND g.person IS NOT NULL"
                .into(),
            vec![p(place)],
        )
        .await?
    {
        let (Some(person), Some(posyandu)) = (text(&r, 0), text(&r, 1)) else {
            continue;
        };
        let values: serde_json::Value = text(&r, 2)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let Some(base) = values
            .get("delivery_date")
            .and_then(|v| v.as_str())
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        else {
            continue;
        };
        if base < earliest || base > end {
            continue;
        }
        subjects.push(Subject {
            kind: VisitKind::Postpartum,
            person,
            base,
            name: text(&r, 3).unwrap_or_default(),
            posyandu,
        });
    }
    for r in store
        .read_rows(
            "SELECT b.id, b.posyandu, b.birth_date, COALESCE(b.name, '')
             FROM persons b JOIN place_tree t ON t.code = b.posyandu
             WHERE t.ancestor = ?1 AND b.deleted = 0
               AND b.birth_date >= ?2 AND b.birth_date <= ?3"
                .into(),
            vec![p(place), p(&ymd(earliest)), p(&ymd(end))],
        )
        .await?
    {
        let (Some(person), Some(posyandu), Some(base)) = (
            text(&r, 0),
            text(&r, 1),
            text(&r, 2).and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
        ) else {
            continue;
        };
        subjects.push(Subject {
            kind: VisitKind::Newborn,
            person,
            base,
            name: text(&r, 3).unwrap_or_default(),
            posyandu,
        });
    }

    // Visits of those people, live, from the earliest base on.
    let mut visits: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for r in store
        .read_rows(
            "SELECT f.person, f.date FROM facts f JOIN place_tree t ON t.code = f.posyandu
             WHERE t.ancestor = ?1 AND f.kind = 'visit' AND f.deleted = 0
               AND f.person IS NOT NULL AND f.date >= ?2
               AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)"
                .into(),
            vec![p(place), p(&ymd(earliest))],
        )
        .await?
    {
        if let (Some(person), Some(d)) = (
            text(&r, 0),
            text(&r, 1).and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
        ) {
            visits.entry(person).or_default().push(d);
        }
    }

    let mut desa: BTreeMap<String, VisitCounts> = BTreeMap::new();
    let mut total = VisitCounts {
        code: place.to_string(),
        ..Default::default()
    };
    let mut overdue = Vec::new();
    let none = Vec::new();
    for s in &subjects {
        let Some((pname, dcode, dname)) = posyandu.get(&s.posyandu) else {
            continue;
        };
        let seen = visits.get(&s.person).unwrap_or(&none);
        let mut tally = Tally::default();
        for w in windows(s.base, s.kind) {
            if w.until < start || w.until > end {
                continue;
            }
            tally.due += 1;
            if seen.iter().any(|v| (w.from..=w.until).contains(v)) {
                tally.done += 1;
            } else if w.until < today {
                tally.overdue += 1;
                overdue.push(OverdueVisit {
                    kind: s.kind,
                    visit: w.visit,
                    from: w.from,
                    until: w.until,
                    name: s.name.clone(),
                    posyandu: pname.clone(),
                    desa: dname.clone(),
                });
            }
        }
        let d = desa.entry(dcode.clone()).or_insert_with(|| VisitCounts {
            code: dcode.clone(),
            name: dname.clone(),
            ..Default::default()
        });
        let (dt, tt) = match s.kind {
            VisitKind::Postpartum => (&mut d.kf, &mut total.kf),
            VisitKind::Newborn => (&mut d.kn, &mut total.kn),
        };
        dt.add(&tally);
        tt.add(&tally);
    }
    overdue.sort_by(|a, b| {
        (&a.desa, &a.posyandu, a.until, &a.name, &a.visit).cmp(&(
            &b.desa,
            &b.posyandu,
            b.until,
            &b.name,
            &b.visit,
        ))
    });
    Ok(Some(VisitReport {
        place: place.to_string(),
        month,
        desa: desa.into_values().collect(),
        total,
        overdue,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn the_rules_windows_are_read_off_the_tasks() {
        let kf: Vec<_> = windows(d("2021-03-01"), VisitKind::Postpartum)
            .into_iter()
            .map(|w| (w.visit, w.from, w.until))
            .collect();
        assert_eq!(
            kf,
            vec![
                ("KF1".into(), d("2021-03-01"), d("2021-03-03")),
                ("KF2".into(), d("2021-03-04"), d("2021-03-08")),
                ("KF3".into(), d("2021-03-09"), d("2021-03-29")),
                ("KF4".into(), d("2021-03-30"), d("2021-04-12")),
            ]
        );
        let kn: Vec<_> = windows(d("2021-03-01"), VisitKind::Newborn)
            .into_iter()
            .map(|w| w.visit)
            .collect();
        assert_eq!(kn, vec!["KN1", "KN2", "KN3"]);
    }
}

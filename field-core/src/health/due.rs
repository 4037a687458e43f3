//! The due list: every task of a posyandu (or of the user's area) as one list, filtered by
//! dusun, RT and kind of work, most urgent first, each saying which form opens it.

use crate::error::Result;
use crate::reads::PersonSummary;
use crate::store::Store;
use chrono::NaiveDate;
use health_rules::Label;
use health_rules::tasks::{Priority, TaskKind};
use records::{DueForm, DueGroup};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Which entries to list. The default lists everything in the user's area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueFilter {
    /// One posyandu; `None`: every posyandu of the user's scope.
    #[serde(default)]
    pub posyandu: Option<String>,
    /// The household's dusun (any case).
    #[serde(default)]
    pub dusun: Option<String>,
    /// The RT (the person's own, else the household's; leading zeros ignored: `1` = `001`).
    #[serde(default)]
    pub rt: Option<String>,
    /// Only these kinds of work (empty: all).
    #[serde(default)]
    pub groups: Vec<DueGroup>,
    /// The list is for a posyandu day: growth visits and missed posyandu open the
    /// measurement form instead of a home visit.
    #[serde(default)]
    pub on_posyandu_day: bool,
}

/// One thing to do for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueEntry {
    pub person: PersonSummary,
    pub household_head: Option<String>,
    pub dusun: Option<String>,
    pub rt: Option<String>,
    pub group: DueGroup,
    pub kind: TaskKind,
    pub priority: Priority,
    /// By when (for missed or overdue items: when it was due).
    pub due: NaiveDate,
    /// Days past `due` (0 when not late).
    pub days_late: i64,
    /// Why, in words (parameters in `params`).
    pub reason: Label,
    pub params: BTreeMap<&'static str, String>,
    /// The form that does it.
    pub form: DueForm,
}

fn norm_rt(s: &str) -> String {
    let t = s.trim().trim_start_matches('0');
    if t.is_empty() && !s.trim().is_empty() {
        "0".into()
    } else {
        t.to_string()
    }
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Store {
    /// The due list: the tasks of every active person of one posyandu (or of every posyandu
    /// in the user's area), computed by health-rules with this store's rule tables, narrowed
    /// to a dusun, an RT and kinds of work, sorted by urgency (urgent, high, normal), then
    /// due date, then name. Each entry names the form that does it.
    pub fn due_list(&self, filter: &DueFilter) -> Result<Vec<DueEntry>> {
        let today = self.today()?;
        let posyandu = match blank(&filter.posyandu) {
            Some(p) => vec![p.to_string()],
            None => self.posyandu_in_scope()?,
        };
        let dusun = blank(&filter.dusun).map(str::to_lowercase);
        let rt = blank(&filter.rt).map(norm_rt);
        let mut out = Vec::new();
        let day = self.due_day(&self.rules)?;
        for p in &posyandu {
            let households = self.household_places(p)?;
            for d in self.due_for_posyandu_on(p, &self.rules, &day)? {
                let (person, due) = (d.person, d.due);
                // A household not among the posyandu's live ones (deleted, or of another
                // posyandu) still names its head.
                let (head, hh_dusun, hh_rt) = match person.household.as_deref() {
                    None => Default::default(),
                    Some(h) => match households.get(h) {
                        Some(place) => place.clone(),
                        None => (self.household_head(h)?, None, None),
                    },
                };
                let own_rt = person
                    .values
                    .get("rt")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string);
                let person_rt = own_rt.or(hh_rt);
                if let Some(d) = &dusun
                    && hh_dusun
                        .as_deref()
                        .map(|x| x.trim().to_lowercase())
                        .as_ref()
                        != Some(d)
                {
                    continue;
                }
                if let Some(r) = &rt
                    && person_rt.as_deref().map(norm_rt).as_ref() != Some(r)
                {
                    continue;
                }
                for t in due.tasks {
                    let group = DueGroup::of(t.kind);
                    if !filter.groups.is_empty() && !filter.groups.contains(&group) {
                        continue;
                    }
                    out.push(DueEntry {
                        person: person.clone(),
                        household_head: head.clone(),
                        dusun: hh_dusun.clone(),
                        rt: person_rt.clone(),
                        group,
                        kind: t.kind,
                        priority: t.priority,
                        due: t.due,
                        days_late: (today - t.due).num_days().max(0),
                        reason: t.reason,
                        params: t.params,
                        form: DueForm::of(t.kind, filter.on_posyandu_day),
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (a.priority, a.due, &a.person.name, a.kind).cmp(&(
                b.priority,
                b.due,
                &b.person.name,
                b.kind,
            ))
        });
        Ok(out)
    }

    /// Households of a posyandu: id → (head name, dusun, RT).
    #[allow(clippy::type_complexity)]
    fn household_places(
        &self,
        posyandu: &str,
    ) -> Result<HashMap<String, (Option<String>, Option<String>, Option<String>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, head_name, dusun, rt FROM households WHERE posyandu = ?1 AND deleted = 0",
        )?;
        let rows = stmt.query_map([posyandu], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, head, dusun, rt) = row?;
            out.insert(id, (head, dusun, rt));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_ignores_leading_zeros() {
        assert_eq!(norm_rt("001"), "1");
        assert_eq!(norm_rt(" 1 "), "1");
        assert_eq!(norm_rt("000"), "0");
        assert_eq!(norm_rt("010"), "10");
    }
}

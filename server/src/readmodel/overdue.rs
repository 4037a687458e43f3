//! The children of a birth cohort with immunisation doses overdue (past their on-time window,
//! catch-up still allowed) on a day, by the same immunisation card as the coverage report
//! (`records::card::immunisation_card`) over the same rows (`nutrition::persons_with_facts`).
//! Used by the web dashboard's Imunisasi page.

use super::monthly::MonthlyError;
use super::nutrition::persons_with_facts;
use super::reports::in_scope;
use crate::Storage;
use chrono::NaiveDate;
use records::card::{CardStatus, immunisation_card};

/// A child with doses overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueChild {
    pub person: String,
    pub name: String,
    pub posyandu: String,
    pub birth_date: String,
    /// The overdue doses as printed in the Buku KIA, in schedule order.
    pub doses: Vec<String>,
}

/// Children born `from..=to` at or below `place` with a dose overdue on `on`; `None` outside
/// `scope`.
pub async fn overdue(
    store: &dyn Storage,
    scope: &str,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<Option<Vec<OverdueChild>>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let before = from.pred_opt().unwrap_or(from);
    let mut out = Vec::new();
    for c in persons_with_facts(store, place, before, to, "immunisation").await? {
        let id =
            c.id.parse()
                .map_err(|_| MonthlyError::Row(format!("person id {:?}", c.id)))?;
        let card = immunisation_card(id, &c.name, c.birth, &c.facts, on.max(c.birth), false)
            .map_err(|e| MonthlyError::Row(e.to_string()))?;
        let doses: Vec<String> = card
            .doses
            .iter()
            .filter(|d| d.status == CardStatus::Overdue)
            .map(|d| d.name.clone())
            .collect();
        if !doses.is_empty() {
            out.push(OverdueChild {
                person: c.id.clone(),
                name: c.name.clone(),
                posyandu: c.posyandu.clone(),
                birth_date: records::facts::ymd(c.birth),
                doses,
            });
        }
    }
    Ok(Some(out))
}

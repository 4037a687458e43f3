//! The SKDN page's 12-month trend: each month's SKDN total from the same per-posyandu parts
//! as `/v1/reports/skdn` (`readmodel::parts`, so the same numbers), summed without
//! assembling the month's report. After a push only the pushed posyandu's part of each month
//! is computed again; after a restart the months asked before are computed in the background
//! (`readmodel::warm`).

use crate::Storage;
use crate::http::AppState;
use crate::readmodel::parts::{self, PartCache};
use health_rules::kms::YearMonth;
use health_rules::report::Counts;

use super::WebError;

/// The SKDN totals of `months` for `place` as seen from `scope`, in order.
pub async fn totals(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    months: &[YearMonth],
) -> Result<Vec<Counts>, WebError> {
    let mut out = Vec::with_capacity(months.len());
    for m in months {
        out.push(
            parts::skdn_total(cache, store, scope, place, *m)
                .await?
                .ok_or(WebError::NotFound)?,
        );
    }
    Ok(out)
}

/// The SKDN totals of `months` as [`totals`], but a month whose parts would have to be
/// computed for more than a few posyandu (a cold month of a kabupaten: seconds) is `None` and
/// computed in the background; the next view has it.
pub async fn totals_or_later(
    st: &AppState,
    scope: &str,
    place: &str,
    months: &[YearMonth],
) -> Result<Vec<Option<Counts>>, WebError> {
    if !parts::enabled() {
        // Measuring the whole-place computation (as before the parts): every month computed.
        let all = totals(&st.reports.parts, st.store.as_ref(), scope, place, months).await?;
        return Ok(all.into_iter().map(Some).collect());
    }
    // Side by side: after a push each month has the pushed posyandu to compute (its reads
    // are round trips to the database as much as work).
    let mut set = tokio::task::JoinSet::new();
    for (i, m) in months.iter().copied().enumerate() {
        let (reports, store) = (st.reports.clone(), st.store.clone());
        let (scope, place) = (scope.to_string(), place.to_string());
        set.spawn(async move {
            let got =
                parts::skdn_total_if_cheap(&reports.parts, store.as_ref(), &scope, &place, m).await;
            (i, m, got)
        });
    }
    let mut out = vec![None; months.len()];
    while let Some(j) = set.join_next().await {
        let (i, m, got) = j.map_err(|e| WebError::Report(e.to_string()))?;
        let got = got?.ok_or(WebError::NotFound)?;
        if got.is_none() {
            parts::skdn_total_later(st.reports.clone(), st.store.clone(), place.to_string(), m);
        }
        if let Some(slot) = out.get_mut(i) {
            *slot = got;
        }
    }
    Ok(out)
}

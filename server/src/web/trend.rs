//! The SKDN page's 12-month trend, cheap: each month's totals (the same
//! `readmodel::monthly::skdn` as the month's own report, so the same numbers) are kept in an
//! in-process cache keyed by (store, scope, place, month) and valid for one generation of the
//! store (`readmodel::cache::generation`: the log's last push, the read model's state, the
//! quarantine actions and the places). Any push, rebuild, quarantine or release, or places import gives a new generation
//! and empties the store's cache; one cheap read per page view checks it. A page view then
//! computes only the months it has not seen in this generation (the page's own month is
//! always computed, for its tables).

use crate::Storage;
use crate::readmodel::cache::{self, Generation};
use crate::readmodel::monthly;
use health_rules::kms::YearMonth;
use health_rules::report::Counts;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use super::WebError;

/// Months kept per store before the cache is emptied (a bound on memory).
const MAX_ENTRIES: usize = 20_000;

type Key = (String, String, YearMonth);

struct StoreCache {
    /// Held weakly: while it is here the store's address is not reused by another store.
    store: Weak<dyn Storage>,
    generation: Generation,
    totals: HashMap<Key, Counts>,
}

static CACHE: LazyLock<Mutex<HashMap<usize, StoreCache>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn addr(store: &Arc<dyn Storage>) -> usize {
    Arc::as_ptr(store).cast::<()>() as usize
}

/// The store's current generation: the report cache's (`readmodel::cache`), so the trend
/// and the `/v1/reports` answers go stale on the same changes.
async fn generation(store: &dyn Storage) -> Result<Generation, WebError> {
    Ok(cache::generation(store)
        .await
        .map_err(monthly::MonthlyError::from)?)
}

/// The SKDN totals of `months` for `place` as seen from `scope`, in order: from the cache
/// when this generation has them, else from `monthly::skdn` (then kept).
pub async fn totals(
    store: &Arc<dyn Storage>,
    scope: &str,
    place: &str,
    months: &[YearMonth],
) -> Result<Vec<Counts>, WebError> {
    let generation = generation(store.as_ref()).await?;
    let key = addr(store);
    let mut known: HashMap<YearMonth, Counts> = HashMap::new();
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, c| c.store.strong_count() > 0);
        let c = cache.entry(key).or_insert_with(|| StoreCache {
            store: Arc::downgrade(store),
            generation: generation.clone(),
            totals: HashMap::new(),
        });
        if c.generation != generation {
            c.generation = generation.clone();
            c.totals.clear();
        }
        for m in months {
            if let Some(t) = c.totals.get(&(scope.to_string(), place.to_string(), *m)) {
                known.insert(*m, *t);
            }
        }
    }
    // The months not known in this generation, side by side.
    let mut set = tokio::task::JoinSet::new();
    for m in months.iter().filter(|m| !known.contains_key(m)) {
        let (store, scope, place, m) = (store.clone(), scope.to_string(), place.to_string(), *m);
        set.spawn(async move { (m, monthly::skdn(store.as_ref(), &scope, &place, m).await) });
    }
    let mut fresh = Vec::new();
    while let Some(j) = set.join_next().await {
        let (m, r) = j.map_err(|e| WebError::Report(e.to_string()))?;
        let total = r?.ok_or(WebError::NotFound)?.total;
        known.insert(m, total);
        fresh.push((m, total));
    }
    let out = months
        .iter()
        .map(|m| known.get(m).copied().unwrap_or_default())
        .collect();
    if !fresh.is_empty() {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get_mut(&key)
            && c.generation == generation
        {
            if c.totals.len() + fresh.len() > MAX_ENTRIES {
                c.totals.clear();
            }
            for (m, t) in fresh {
                c.totals
                    .insert((scope.to_string(), place.to_string(), m), t);
            }
        }
    }
    Ok(out)
}

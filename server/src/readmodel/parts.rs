//! Per-posyandu parts of the health reports, kept in memory and recomputed only for the
//! posyandu a change touched (docs/read-model.md, "Answers kept").
//!
//! Every health report of a place is made of one part per posyandu at or below it (SKDN and
//! F1, nutrition counts, the follow-up list, pregnancy counts, immunisation coverage) that
//! depends only on that posyandu's rows; the answer sums or lists the parts (and names the
//! places) in [`super::monthly`], [`super::nutrition`], [`super::pregnancies`] and
//! [`super::immunisation`]. A part is kept with the log's last `sseq` read *before* it was
//! computed (`at`), and served while no change logged after `at` touched its posyandu.
//!
//! **What a change touches** is found from the log itself, when a report is asked (a push
//! pays nothing): the changes after the last `sseq` looked at are read, and a posyandu is
//! stale from that `sseq` on when one of them is logged under it (`changes.posyandu`, the
//! record's posyandu, which never changes), or when one of them names (its record, the record
//! it supersedes, any record id in its body), directly or through the facts and merges of the
//! read model (a fact's person and subject, the person a merged person was merged into), a
//! record of that posyandu (`records.posyandu`). So a weighing recorded at one posyandu for a
//! child of another makes both stale.
//!
//! **Everything is recomputed** when the read model's structure moves (a quarantine or a
//! release, a rebuild, a place added, moved or renamed: [`super::cache::Generation::structure`]),
//! when more than [`MAX_DELTA`] changes were logged since the last look, a change cannot
//! be read, or a change is a `person_merge` or its tombstone (it may change which other
//! merges are in effect, `records::merges::effective`, and so whose facts count where,
//! along chains of merges the look would have to follow). During a rebuild nothing is kept.
//!
//! **Concurrent pushes**: log order is commit order on both backends (and on SQLite a read
//! waits for the follower to have merged every committed push), so a push that was answered
//! before a report is asked is at or below the `sseq` read at the start of that report, and its
//! posyandu is stale for every part computed before it. A part computed while a push
//! commits may already hold that push: it is kept with the older `at` and recomputed next
//! time, never served older than its `at`.
//!
//! **In memory, not persisted**: a part is a few kilobytes of computed Rust values that the
//! read tables fully determine; a restarted server has none and computes each report of a
//! place once, in one pass (as before this cache), then keeps its parts.

use super::immunisation::{self, CoverageReport};
use super::monthly::{self, MonthlyError, PosyanduMonth, SkdnReport};
use super::nutrition::{self, FollowUpReport, NutritionReport};
use super::pregnancies::{self, PregnancyReport};
use super::reports::in_scope;
use super::{Cell, Param, cache, text};
use crate::Storage;
use chrono::NaiveDate;
use health_rules::kms::YearMonth;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use sync_protocol::{Change, RecordId};

/// At most this many logged changes are read to find the stale posyandu; more since the last
/// look (a server whose reports nobody asked for a long day): every part is recomputed.
pub const MAX_DELTA: i64 = 50_000;
/// More stale posyandu than this in one place: the place is computed in one pass (its queries
/// read the whole place at once) instead of posyandu by posyandu.
pub const MAX_ONE_BY_ONE: usize = 24;
/// Report keys (a report kind and its parameters) whose parts are kept; the least recently
/// asked beyond this are dropped.
pub const MAX_KEYS: usize = 64;
/// Ids looked up per query.
const CHUNK: usize = 400;

/// Off: every report is computed for the whole place in one pass, as before the parts were
/// kept (the whole-answer cache of [`cache`] still serves a question asked again). **For
/// measuring only** (`sync_load` compares both in one run on the same data).
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns keeping parts on or off, for the whole process (measuring only: see [`ENABLED`]).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, std::sync::atomic::Ordering::SeqCst);
}

struct Part {
    /// The log's last `sseq` read before the part was computed.
    at: i64,
    epoch: u64,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct State {
    /// The structure the parts were computed under ([`cache::Generation::structure`]).
    structure: Option<Vec<cell_key::Key>>,
    /// Moves whenever every part is dropped.
    epoch: u64,
    /// Every change up to this `sseq` is accounted for in `stale`.
    scanned: i64,
    /// Per posyandu: the last `sseq` of a look that found a change touching it.
    stale: HashMap<String, i64>,
    /// Parts by (report key, posyandu).
    parts: HashMap<String, HashMap<String, Part>>,
    /// When each report key was last asked.
    used: HashMap<String, Instant>,
}

/// A comparable copy of a generation cell (the structure is compared, not interpreted).
mod cell_key {
    use super::Cell;
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Key {
        Null,
        Int(i64),
        Text(String),
    }
    pub fn of(c: &Cell) -> Key {
        match c {
            Cell::Null => Key::Null,
            Cell::Int(n) => Key::Int(*n),
            Cell::Text(s) => Key::Text(s.clone()),
        }
    }
}

/// What one report request may use: the parts valid at `at` of `epoch`.
#[derive(Debug, Clone, Copy)]
struct View {
    at: i64,
    epoch: u64,
    /// `false` during a rebuild: nothing is kept or served.
    keep: bool,
}

/// The per-posyandu parts of every report asked, per process.
#[derive(Default)]
pub struct PartCache {
    state: Mutex<State>,
    /// Parts computed so far (for tests and measuring).
    computed: std::sync::atomic::AtomicU64,
}

impl PartCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many parts were computed (kept or not) since the cache was made.
    pub fn computed(&self) -> u64 {
        self.computed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many parts are kept (all keys).
    pub fn len(&self) -> usize {
        self.lock().parts.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the generation and brings `stale` up to the log's end.
    async fn view(&self, store: &dyn Storage) -> Result<View, MonthlyError> {
        let g = cache::generation(store).await?;
        let end = g.log_end();
        let structure: Vec<cell_key::Key> = g.structure().iter().map(cell_key::of).collect();
        let (from, epoch) = {
            let mut s = self.lock();
            if g.rebuilding() {
                s.reset(end);
                s.structure = None;
                return Ok(View {
                    at: end,
                    epoch: s.epoch,
                    keep: false,
                });
            }
            if s.structure.as_ref() != Some(&structure) {
                s.reset(end);
                s.structure = Some(structure);
            }
            if end <= s.scanned {
                return Ok(View {
                    at: end,
                    epoch: s.epoch,
                    keep: true,
                });
            }
            if end - s.scanned > MAX_DELTA {
                s.reset(end);
                return Ok(View {
                    at: end,
                    epoch: s.epoch,
                    keep: true,
                });
            }
            (s.scanned, s.epoch)
        };
        let touched = touched_posyandu(store, from, end).await?;
        let mut s = self.lock();
        if s.epoch != epoch {
            // Everything was dropped meanwhile (from a newer generation): compute, keep nothing.
            return Ok(View {
                at: end,
                epoch: s.epoch,
                keep: false,
            });
        }
        match touched {
            Some(set) => {
                for p in set {
                    let e = s.stale.entry(p).or_insert(end);
                    *e = (*e).max(end);
                }
                s.scanned = s.scanned.max(end);
            }
            None => s.reset(end),
        }
        Ok(View {
            at: end,
            epoch: s.epoch,
            keep: true,
        })
    }

    /// The parts of every posyandu at or below `place` for the report `key`: those kept and
    /// still valid, the others computed by `compute` (given a place: one posyandu, or
    /// `place` itself when many are stale; it returns a part for every posyandu at or below
    /// the place it is given) and kept.
    pub async fn parts<P, F, Fut>(
        &self,
        store: &dyn Storage,
        place: &str,
        key: &str,
        compute: F,
    ) -> Result<BTreeMap<String, P>, MonthlyError>
    where
        P: Clone + Send + Sync + 'static,
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<BTreeMap<String, P>, MonthlyError>>,
    {
        if !ENABLED.load(std::sync::atomic::Ordering::SeqCst) {
            return compute(place.to_string()).await;
        }
        let view = self.view(store).await?;
        if !view.keep {
            return compute(place.to_string()).await;
        }
        let posyandu = posyandu_under(store, place).await?;
        let mut out = BTreeMap::new();
        let mut missing = Vec::new();
        {
            let mut s = self.lock();
            s.used.insert(key.to_string(), Instant::now());
            let kept = s.parts.get(key);
            for p in &posyandu {
                let valid = kept.and_then(|k| k.get(p)).filter(|part| {
                    part.epoch == s.epoch && part.at >= s.stale.get(p).copied().unwrap_or(0)
                });
                match valid.and_then(|part| part.value.downcast_ref::<P>()) {
                    Some(v) => {
                        out.insert(p.clone(), v.clone());
                    }
                    None => missing.push(p.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let mut fresh = BTreeMap::new();
        if missing.len() > MAX_ONE_BY_ONE {
            fresh = compute(place.to_string()).await?;
        } else {
            for p in &missing {
                fresh.extend(compute(p.clone()).await?);
            }
        }
        self.computed.fetch_add(
            u64::try_from(fresh.len()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        {
            let mut s = self.lock();
            if s.epoch == view.epoch {
                let kept = s.parts.entry(key.to_string()).or_default();
                for (p, v) in &fresh {
                    kept.insert(
                        p.clone(),
                        Part {
                            at: view.at,
                            epoch: view.epoch,
                            value: Arc::new(v.clone()),
                        },
                    );
                }
                s.forget_unused();
            }
        }
        for p in missing {
            if let Some(v) = fresh.remove(&p) {
                out.insert(p, v);
            }
        }
        Ok(out)
    }
}

impl State {
    /// Drops every part: the next computations start from the log's `end`.
    fn reset(&mut self, end: i64) {
        self.epoch += 1;
        self.parts.clear();
        self.stale.clear();
        self.scanned = self.scanned.max(end);
    }

    /// Drops the parts of the least recently asked keys beyond [`MAX_KEYS`].
    fn forget_unused(&mut self) {
        while self.used.len() > MAX_KEYS {
            let Some(oldest) = self
                .used
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.used.remove(&oldest);
            self.parts.remove(&oldest);
        }
    }
}

/// The posyandu at or below `place`, by code.
pub(super) async fn posyandu_under(
    store: &dyn Storage,
    place: &str,
) -> Result<Vec<String>, MonthlyError> {
    Ok(store
        .read_rows(
            "SELECT p.code FROM place_tree t JOIN places p ON p.code = t.code
             WHERE t.ancestor = ?1 AND p.level = 'posyandu' ORDER BY p.code"
                .into(),
            vec![Param::Text(place.into())],
        )
        .await?
        .iter()
        .filter_map(|r| text(r, 0))
        .collect())
}

/// `?first, ?first+1, …` for `n` parameters.
fn marks(first: usize, n: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The posyandu touched by the changes logged after `from` up to `to` (module docs); `None`
/// when a logged change cannot be read (then everything is recomputed).
async fn touched_posyandu(
    store: &dyn Storage,
    from: i64,
    to: i64,
) -> Result<Option<HashSet<String>>, MonthlyError> {
    let mut out = HashSet::new();
    let mut ids: HashSet<String> = HashSet::new();
    for r in store
        .read_rows(
            "SELECT posyandu, payload FROM changes WHERE sseq > ?1 AND sseq <= ?2".into(),
            vec![Param::Int(from), Param::Int(to)],
        )
        .await?
    {
        if let Some(p) = text(&r, 0) {
            out.insert(p);
        }
        let Some(payload) = r.get(1).and_then(Cell::text) else {
            return Ok(None);
        };
        let Ok(change) = serde_json::from_str::<Change>(payload) else {
            return Ok(None);
        };
        if change.kind == sync_protocol::EntityKind::PersonMerge {
            // A merge (or its tombstone) may change which other merges are in effect
            // (`records::merges::effective`), anywhere along chains of merges: recompute
            // everything (merges are rare: a bidan's decisions).
            return Ok(None);
        }
        ids.insert(change.id.to_string());
        if let Some(s) = change.supersedes {
            ids.insert(s.to_string());
        }
        for v in change.body.values() {
            if let Some(id) = v.as_str().filter(|s| s.parse::<RecordId>().is_ok()) {
                ids.insert(id.to_string());
            }
        }
    }
    // The records named, then the persons and subjects of the facts among them and the
    // persons those were merged into (a merged person's facts count for the kept one).
    let mut seen: HashSet<String> = HashSet::new();
    for _ in 0..4 {
        let todo: Vec<String> = ids.drain().filter(|i| seen.insert(i.clone())).collect();
        if todo.is_empty() {
            break;
        }
        for chunk in todo.chunks(CHUNK) {
            let params: Vec<Param> = chunk.iter().map(|i| Param::Text(i.clone())).collect();
            let m = marks(1, chunk.len());
            for r in store
                .read_rows(
                    format!("SELECT posyandu FROM records WHERE id IN ({m})"),
                    params.clone(),
                )
                .await?
            {
                out.extend(text(&r, 0));
            }
            for r in store
                .read_rows(
                    format!("SELECT person, subject FROM facts WHERE id IN ({m})"),
                    params.clone(),
                )
                .await?
            {
                ids.extend(text(&r, 0));
                ids.extend(text(&r, 1));
            }
            for r in store
                .read_rows(
                    format!(
                        "SELECT posyandu, person FROM facts
                         WHERE kind = 'person_merge' AND subject IS NOT NULL AND subject IN ({m})"
                    ),
                    params,
                )
                .await?
            {
                out.extend(text(&r, 0));
                ids.extend(text(&r, 1));
            }
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// The health reports from kept parts: the same answers as `monthly::skdn`,
// `nutrition::nutrition`, `nutrition::followup`, `pregnancies::pregnancies` and
// `immunisation::coverage` (tests: `server/tests/readmodel/parts.rs`).

/// [`monthly::skdn`] from kept parts.
pub async fn skdn(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<SkdnReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts: BTreeMap<String, PosyanduMonth> = cache
        .parts(store, place, &format!("skdn {month}"), |p| {
            monthly::skdn_parts(store, p, month)
        })
        .await?;
    monthly::skdn_assemble(store, place, month, parts)
        .await
        .map(Some)
}

/// [`nutrition::nutrition`] from kept parts.
pub async fn nutrition(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Option<NutritionReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = cache
        .parts(store, place, &format!("nutrition {from} {to}"), |p| {
            nutrition::nutrition_parts(store, p, from, to)
        })
        .await?;
    nutrition::nutrition_assemble(store, place, from, to, parts)
        .await
        .map(Some)
}

/// [`nutrition::followup`] from kept parts.
pub async fn followup(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    today: NaiveDate,
) -> Result<Option<FollowUpReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = cache
        .parts(store, place, &format!("followup {today}"), |p| {
            nutrition::followup_parts(store, p, today)
        })
        .await?;
    Ok(Some(nutrition::followup_assemble(place, today, parts)))
}

/// [`pregnancies::pregnancies`] from kept parts.
pub async fn pregnancies(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<PregnancyReport>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    let parts = cache
        .parts(store, place, &format!("pregnancies {month}"), |p| {
            pregnancies::pregnancies_parts(store, p, month)
        })
        .await?;
    pregnancies::pregnancies_assemble(store, place, month, parts)
        .await
        .map(Some)
}

/// [`immunisation::coverage`] from kept parts.
pub async fn coverage(
    cache: &PartCache,
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
    let parts = cache
        .parts(
            store,
            place,
            &format!("immunisation {from} {to} {on}"),
            |p| immunisation::coverage_parts(store, p, from, to, on),
        )
        .await?;
    immunisation::coverage_assemble(store, place, from, to, on, parts)
        .await
        .map(Some)
}

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
//! **A merge** (`person_merge`, its tombstone) may change which *other* merges are in effect
//! (`records::merges::effective` settles contradicting ones): every person connected to it
//! through `person_merge` facts is followed ([`merge_component`]) and the posyandu of those
//! persons, of their facts and of the merges between them are stale. **A quarantine or a
//! release** (a new row of `change_quarantine_log`; it re-merges the change's record) makes the
//! posyandu its change touches stale, found as for a logged change; it does not move the log's
//! end, so it is ordered by *looks* (a counter of [`PartCache::view`]s): a part computed after
//! an earlier look than the one that saw the quarantine is stale.
//!
//! **Everything is recomputed** when the read model's structure moves (a rebuild, a place
//! added, moved or renamed: [`super::cache::Generation::structure`]), when more than
//! [`MAX_DELTA`] changes were logged since the last look, a change cannot be read, or a merge
//! reaches more than [`MAX_MERGE_PERSONS`] persons. During a rebuild nothing is kept.
//!
//! **Only what the read model has merged**: the log is read up to the smaller of its end and
//! the read model's cursor ([`super::cache::Generation::merged_end`]), so a read model merged
//! after the push (a follower) never has a part claim a change it has not merged.
//!
//! **Concurrent pushes**: log order is commit order on both backends (and on SQLite a read
//! waits for the follower to have merged every committed push), so a push that was answered
//! before a report is asked is at or below the `sseq` read at the start of that report, and its
//! posyandu is stale for every part computed before it. A part computed while a push
//! commits may already hold that push: it is kept with the older `at` and recomputed next
//! time, never served older than its `at`. **One computation per report key at a time**: a
//! second request for a key being computed waits, then finds the parts the first kept.
//!
//! **In memory, warmed, not persisted**: a part is computed Rust values that the read tables
//! fully determine. What is kept across a restart is the list of questions asked
//! (`report_questions`, [`super::warm`]): a started server computes their parts in the
//! background, and so does a running one after every part was dropped.

use super::immunisation::{self, CoverageReport};
use super::monthly::{self, MonthlyError, PosyanduMonth, SkdnReport};
use super::nutrition::{self, FollowUpReport, NutritionReport};
use super::overdue::OverdueChild;
use super::pregnancies::{self, PregnancyReport};
use super::reports::in_scope;
use super::warm::Question;
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

/// Whether parts are kept ([`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Turns keeping parts on or off, for the whole process (measuring only: see [`ENABLED`]).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, std::sync::atomic::Ordering::SeqCst);
}

struct Part {
    /// The log's last `sseq` read before the part was computed.
    at: i64,
    /// The look ([`View::look`]) the part was computed after.
    look: u64,
    epoch: u64,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct State {
    /// The structure the parts were computed under ([`cache::Generation::structure`]).
    structure: Option<Vec<cell_key::Key>>,
    /// Moves whenever every part is dropped.
    epoch: u64,
    /// Counts the looks ([`PartCache::view`]).
    look: u64,
    /// Every change up to this `sseq` is accounted for in `stale`.
    scanned: i64,
    /// Per posyandu: the last `sseq` of a look that found a change touching it.
    stale: HashMap<String, i64>,
    /// Per posyandu: the last look that found a quarantine or release touching it (these do
    /// not move the log's end, so they are ordered by looks, not `sseq`).
    requarantined: HashMap<String, u64>,
    /// Parts by (report key, posyandu).
    parts: HashMap<String, HashMap<String, Part>>,
    /// When each report key was last asked.
    used: HashMap<String, Instant>,
    /// The quarantine log's rows accounted for (`(at, sseq, action)`, with their count):
    /// a new row makes the posyandu its change touches stale, not everything.
    quarantine: Option<HashMap<(i64, i64, String), usize>>,
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

/// What one report request may use: the parts valid at `at` and `look` of `epoch`.
#[derive(Debug, Clone, Copy)]
struct View {
    at: i64,
    look: u64,
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
    /// One computation per report key at a time: a request for a key being computed (by
    /// another request or the warmer, [`super::warm`]) waits for it, then finds its parts.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Questions asked, with when ([`super::warm`] keeps them in `report_questions` and
    /// computes them again after a restart or a reset).
    asked: Mutex<HashMap<super::warm::Question, Instant>>,
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

    /// Moves whenever every part is dropped (a rebuild, a place changed, too many changes
    /// since the last look).
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Notes that `q` was asked now (for [`super::warm`]).
    pub(super) fn note_asked(&self, q: super::warm::Question) {
        let mut a = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        a.insert(q, Instant::now());
        if a.len() > 4 * MAX_KEYS {
            let mut v: Vec<(super::warm::Question, Instant)> = a.drain().collect();
            v.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
            v.truncate(MAX_KEYS);
            a.extend(v);
        }
    }

    /// The questions asked in this process, most recent first, with when.
    pub fn asked(&self) -> Vec<(super::warm::Question, Instant)> {
        let a = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = a.iter().map(|(q, t)| (q.clone(), *t)).collect();
        v.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        v
    }

    /// The lock of one report key's computation.
    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut f = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if f.len() > 4 * MAX_KEYS {
            f.retain(|_, m| Arc::strong_count(m) > 1);
        }
        f.entry(key.to_string()).or_default().clone()
    }

    /// Brings the staleness marks up to the read model now (what [`Self::parts`] does first);
    /// the warmer calls it so that a rebuild or a place change is seen without a request.
    pub async fn look(&self, store: &dyn Storage) -> Result<(), MonthlyError> {
        self.view(store).await.map(|_| ())
    }

    /// Reads the generation and brings `stale` up to the log's end and the quarantine log.
    async fn view(&self, store: &dyn Storage) -> Result<View, MonthlyError> {
        let g = cache::generation(store).await?;
        // Never past what the read model has merged (a follower merges after the push).
        let end = g.merged_end();
        let structure: Vec<cell_key::Key> = g.structure().iter().map(cell_key::of).collect();
        let actions = g.quarantine_actions();
        let (from, epoch, read_quarantine) = {
            let mut s = self.lock();
            if g.rebuilding() {
                s.reset(end);
                s.structure = None;
                s.look += 1;
                return Ok(View {
                    at: end,
                    look: s.look,
                    epoch: s.epoch,
                    keep: false,
                });
            }
            if s.structure.as_ref() != Some(&structure) {
                s.reset(end);
                s.structure = Some(structure);
            }
            let seen = s
                .quarantine
                .as_ref()
                .map(|q| i64::try_from(q.values().sum::<usize>()).unwrap_or(i64::MAX));
            let read_quarantine = seen != Some(actions);
            if end <= s.scanned && !read_quarantine {
                s.look += 1;
                return Ok(View {
                    at: end,
                    look: s.look,
                    epoch: s.epoch,
                    keep: true,
                });
            }
            if end - s.scanned > MAX_DELTA {
                s.reset(end);
            }
            (s.scanned, s.epoch, read_quarantine)
        };
        let touched = if from < end {
            touched_posyandu(store, Logged::After(from, end)).await?
        } else {
            Some(HashSet::new())
        };
        let quarantine = if read_quarantine {
            Some(quarantine_rows(store).await?)
        } else {
            None
        };
        // The changes of the quarantine log's new rows (quarantined or released since).
        let mut requarantined: Option<HashSet<String>> = Some(HashSet::new());
        let mut baseline = false;
        if let Some(rows) = &quarantine {
            let seen = self.lock().quarantine.clone();
            match seen {
                None => baseline = true,
                Some(seen) => {
                    let mut fresh = Vec::new();
                    for (row, n) in rows {
                        let before = seen.get(row).copied().unwrap_or(0);
                        if *n > before {
                            fresh.push(row.1);
                        }
                    }
                    if seen
                        .iter()
                        .any(|(r, n)| rows.get(r).copied().unwrap_or(0) < *n)
                    {
                        // Rows went away (not something the server does): start afresh.
                        requarantined = None;
                    } else if !fresh.is_empty() {
                        requarantined = touched_posyandu(store, Logged::Sseqs(fresh)).await?;
                    }
                }
            }
        }
        let mut s = self.lock();
        s.look += 1;
        let look = s.look;
        if s.epoch != epoch {
            // Everything was dropped meanwhile (from a newer generation): compute, keep nothing.
            return Ok(View {
                at: end,
                look,
                epoch: s.epoch,
                keep: false,
            });
        }
        if let Some(rows) = quarantine {
            s.quarantine = Some(rows);
        }
        match (touched, requarantined) {
            (Some(set), Some(q)) => {
                for p in set {
                    let e = s.stale.entry(p).or_insert(end);
                    *e = (*e).max(end);
                }
                s.scanned = s.scanned.max(end);
                for p in q {
                    s.requarantined.insert(p, look);
                }
            }
            _ => s.reset(end),
        }
        if baseline && !s.parts.is_empty() {
            // The quarantine log was not read before while parts were kept: start afresh.
            s.reset(end);
        }
        Ok(View {
            at: end,
            look,
            epoch: s.epoch,
            keep: true,
        })
    }

    /// The parts of every posyandu at or below `place` for the report `key`: those kept and
    /// still valid, the others computed by `compute` (given a place: one posyandu, or
    /// `place` itself when many are stale; it returns a part for every posyandu at or below
    /// the place it is given) and kept. One computation per key at a time: a second request
    /// waits for the first and then finds its parts.
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
        let got = self
            .parts_within(store, place, key, usize::MAX, compute)
            .await?;
        got.ok_or_else(|| MonthlyError::Row("report parts: nothing computed".into()))
    }

    /// Whether the parts of `key` are being computed right now (by a request or the warmer).
    pub fn computing(&self, key: &str) -> bool {
        self.flight(key).try_lock().is_err()
    }

    /// As [`Self::parts`], but `None` (nothing computed, nothing waited for) when more than
    /// `most` posyandu would have to be computed, or the key is being computed: for answers
    /// that can say "not yet" (the dashboard's trend) instead of computing a whole place.
    pub async fn parts_within<P, F, Fut>(
        &self,
        store: &dyn Storage,
        place: &str,
        key: &str,
        most: usize,
        compute: F,
    ) -> Result<Option<BTreeMap<String, P>>, MonthlyError>
    where
        P: Clone + Send + Sync + 'static,
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<BTreeMap<String, P>, MonthlyError>>,
    {
        let whole = most == usize::MAX;
        if !ENABLED.load(std::sync::atomic::Ordering::SeqCst) {
            if !whole {
                return Ok(None);
            }
            return compute(place.to_string()).await.map(Some);
        }
        let flight = self.flight(key);
        let _one = if whole {
            flight.lock().await
        } else {
            match flight.try_lock() {
                Ok(g) => g,
                Err(_) => return Ok(None),
            }
        };
        let view = self.view(store).await?;
        if !view.keep {
            if !whole {
                return Ok(None);
            }
            return compute(place.to_string()).await.map(Some);
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
                    part.epoch == s.epoch
                        && part.at >= s.stale.get(p).copied().unwrap_or(0)
                        && part.look >= s.requarantined.get(p).copied().unwrap_or(0)
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
            return Ok(Some(out));
        }
        if missing.len() > most {
            return Ok(None);
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
                            look: view.look,
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
        Ok(Some(out))
    }
}

impl State {
    /// Drops every part: the next computations start from the log's `end`.
    fn reset(&mut self, end: i64) {
        self.epoch += 1;
        self.parts.clear();
        self.stale.clear();
        self.requarantined.clear();
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

/// Which logged changes [`touched_posyandu`] looks at.
enum Logged {
    /// Those after the first `sseq` up to the second.
    After(i64, i64),
    /// These (a quarantine or release re-merged their records).
    Sseqs(Vec<i64>),
}

/// The quarantine log's rows, `(at, sseq, action)` with how many times each is there.
async fn quarantine_rows(
    store: &dyn Storage,
) -> Result<HashMap<(i64, i64, String), usize>, MonthlyError> {
    let mut out = HashMap::new();
    for r in store
        .read_rows(
            "SELECT at, sseq, action FROM change_quarantine_log".into(),
            Vec::new(),
        )
        .await?
    {
        let key = (
            r.first().and_then(Cell::int).unwrap_or(0),
            r.get(1).and_then(Cell::int).unwrap_or(0),
            text(&r, 2).unwrap_or_default(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    Ok(out)
}

/// At most this many persons in the merges connected to a logged `person_merge`; more, and
/// every part is recomputed.
const MAX_MERGE_PERSONS: usize = 10_000;

/// The posyandu touched by the `logged` changes (module docs); `None` when a logged change
/// cannot be read or a merge reaches too far (then everything is recomputed).
async fn touched_posyandu(
    store: &dyn Storage,
    logged: Logged,
) -> Result<Option<HashSet<String>>, MonthlyError> {
    let mut out = HashSet::new();
    let mut ids: HashSet<String> = HashSet::new();
    // Persons named by a `person_merge` (or its tombstone, or a quarantined one).
    let mut merged: HashSet<String> = HashSet::new();
    let rows = match logged {
        Logged::After(from, to) => {
            store
                .read_rows(
                    "SELECT posyandu, payload FROM changes WHERE sseq > ?1 AND sseq <= ?2".into(),
                    vec![Param::Int(from), Param::Int(to)],
                )
                .await?
        }
        Logged::Sseqs(sseqs) => {
            let mut rows = Vec::new();
            for chunk in sseqs.chunks(CHUNK) {
                let params: Vec<Param> = chunk.iter().map(|n| Param::Int(*n)).collect();
                rows.extend(
                    store
                        .read_rows(
                            format!(
                                "SELECT posyandu, payload FROM changes WHERE sseq IN ({})",
                                marks(1, chunk.len())
                            ),
                            params,
                        )
                        .await?,
                );
            }
            rows
        }
    };
    for r in rows {
        if let Some(p) = text(&r, 0) {
            out.insert(p);
        }
        let Some(payload) = r.get(1).and_then(Cell::text) else {
            return Ok(None);
        };
        let Ok(change) = serde_json::from_str::<Change>(payload) else {
            return Ok(None);
        };
        let merge = change.kind == sync_protocol::EntityKind::PersonMerge;
        ids.insert(change.id.to_string());
        if merge {
            merged.insert(change.id.to_string());
        }
        if let Some(s) = change.supersedes {
            ids.insert(s.to_string());
        }
        for v in change.body.values() {
            if let Some(id) = v.as_str().filter(|s| s.parse::<RecordId>().is_ok()) {
                ids.insert(id.to_string());
                if merge {
                    merged.insert(id.to_string());
                }
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
    if !merged.is_empty() {
        match merge_component(store, merged).await? {
            Some(p) => out.extend(p),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The posyandu a `person_merge` naming `seeds` may change: a merge (its tombstone, its
/// quarantine) may change which *other* merges are in effect (`records::merges::effective`
/// settles contradicting ones), so every person connected to the seeds through `person_merge`
/// facts (live or not) counts: their posyandu, and the posyandu of their facts and of the
/// merges between them. `None` past [`MAX_MERGE_PERSONS`].
async fn merge_component(
    store: &dyn Storage,
    seeds: HashSet<String>,
) -> Result<Option<HashSet<String>>, MonthlyError> {
    let mut persons: HashSet<String> = HashSet::new();
    let mut todo: Vec<String> = seeds.into_iter().collect();
    let mut out = HashSet::new();
    while !todo.is_empty() {
        let round: Vec<String> = todo
            .drain(..)
            .filter(|i| persons.insert(i.clone()))
            .collect();
        if persons.len() > MAX_MERGE_PERSONS {
            return Ok(None);
        }
        for chunk in round.chunks(CHUNK) {
            let params: Vec<Param> = chunk.iter().map(|i| Param::Text(i.clone())).collect();
            let m = marks(1, chunk.len());
            for sql in [
                format!(
                    "SELECT posyandu, person, subject FROM facts
                     WHERE kind = 'person_merge' AND person IS NOT NULL AND person IN ({m})"
                ),
                format!(
                    "SELECT posyandu, person, subject FROM facts
                     WHERE kind = 'person_merge' AND subject IS NOT NULL AND subject IN ({m})"
                ),
                format!("SELECT posyandu, person, subject FROM facts WHERE id IN ({m})"),
            ] {
                for r in store.read_rows(sql, params.clone()).await? {
                    out.extend(text(&r, 0));
                    for i in [1, 2] {
                        if let Some(p) = text(&r, i).filter(|p| !persons.contains(p)) {
                            todo.push(p);
                        }
                    }
                }
            }
        }
    }
    // Where the persons belong, and where their facts were recorded.
    let all: Vec<String> = persons.into_iter().collect();
    for chunk in all.chunks(CHUNK) {
        let params: Vec<Param> = chunk.iter().map(|i| Param::Text(i.clone())).collect();
        let m = marks(1, chunk.len());
        for sql in [
            format!("SELECT posyandu FROM records WHERE id IN ({m})"),
            format!(
                "SELECT DISTINCT posyandu FROM facts WHERE person IS NOT NULL AND person IN ({m})"
            ),
            format!(
                "SELECT DISTINCT posyandu FROM facts WHERE subject IS NOT NULL AND subject IN ({m})"
            ),
        ] {
            for r in store.read_rows(sql, params.clone()).await? {
                out.extend(text(&r, 0));
            }
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// The health reports from kept parts: the same answers as `monthly::skdn`,
// `nutrition::nutrition`, `nutrition::followup`, `pregnancies::pregnancies` and
// `immunisation::coverage` (tests: `server/tests/readmodel/parts.rs`).

/// The cache key of a month's SKDN parts: the same for the report, the dashboard's trend and
/// its background computation, so they share one set of parts.
fn skdn_key(month: YearMonth) -> String {
    format!("skdn {month}")
}

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
    cache.note_asked(Question::Skdn {
        place: place.into(),
        month,
    });
    let parts = skdn_kept(cache, store, place, month).await?;
    monthly::skdn_assemble(store, place, month, parts)
        .await
        .map(Some)
}

/// The SKDN parts of every posyandu at or below `place` (kept or computed now).
pub async fn skdn_kept(
    cache: &PartCache,
    store: &dyn Storage,
    place: &str,
    month: YearMonth,
) -> Result<BTreeMap<String, PosyanduMonth>, MonthlyError> {
    cache
        .parts(store, place, &skdn_key(month), |p| {
            monthly::skdn_parts(store, p, month)
        })
        .await
}

/// The SKDN total of `place` for `month` (all ages, both sexes): the `total` of
/// [`monthly::skdn`], summed from the kept parts without assembling the report (the
/// dashboard's 12-month trend).
pub async fn skdn_total(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<health_rules::report::Counts>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    cache.note_asked(Question::Skdn {
        place: place.into(),
        month,
    });
    let parts = skdn_kept(cache, store, place, month).await?;
    Ok(Some(monthly::skdn_total_of(&parts)))
}

/// [`skdn_total`] when at most [`MAX_ONE_BY_ONE`] posyandu have to be computed for it;
/// `Some(None)` when more (or it is being computed): then nothing is computed (the caller may
/// have it computed in the background, [`skdn_total_later`]). `None` outside `scope`.
pub async fn skdn_total_if_cheap(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    month: YearMonth,
) -> Result<Option<Option<health_rules::report::Counts>>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    cache.note_asked(Question::Skdn {
        place: place.into(),
        month,
    });
    let parts = cache
        .parts_within(store, place, &skdn_key(month), MAX_ONE_BY_ONE, |p| {
            monthly::skdn_parts(store, p, month)
        })
        .await?;
    Ok(Some(parts.as_ref().map(monthly::skdn_total_of)))
}

/// Computes the SKDN parts of `place` for `month` in the background (unless they are being
/// computed already); what [`skdn_total_if_cheap`] did not.
pub fn skdn_total_later(
    reports: Arc<cache::ReportCache>,
    store: Arc<dyn Storage>,
    place: String,
    month: YearMonth,
) {
    if reports.parts.computing(&skdn_key(month)) {
        return;
    }
    // One month at a time (a kabupaten's month is seconds of work; the page's other months
    // wait their turn rather than all computing at once).
    static LATER: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    tokio::spawn(async move {
        let Ok(_turn) = LATER.acquire().await else {
            return;
        };
        if let Err(e) = skdn_kept(&reports.parts, store.as_ref(), &place, month).await {
            tracing::warn!(error = %e, %place, %month, "SKDN parts not computed");
        }
    });
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
    cache.note_asked(Question::Nutrition {
        place: place.into(),
        from,
        to,
    });
    let parts = nutrition_kept(cache, store, place, from, to).await?;
    nutrition::nutrition_assemble(store, place, from, to, parts)
        .await
        .map(Some)
}

/// The nutrition parts of every posyandu at or below `place`.
pub async fn nutrition_kept(
    cache: &PartCache,
    store: &dyn Storage,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, nutrition::NutritionCounts>, MonthlyError> {
    cache
        .parts(store, place, &format!("nutrition {from} {to}"), |p| {
            nutrition::nutrition_parts(store, p, from, to)
        })
        .await
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
    cache.note_asked(Question::Followup {
        place: place.into(),
    });
    let parts = followup_kept(cache, store, place, today).await?;
    Ok(Some(nutrition::followup_assemble(place, today, parts)))
}

/// The follow-up lists of every posyandu at or below `place`.
pub async fn followup_kept(
    cache: &PartCache,
    store: &dyn Storage,
    place: &str,
    today: NaiveDate,
) -> Result<BTreeMap<String, Vec<nutrition::FollowUpChild>>, MonthlyError> {
    cache
        .parts(store, place, &format!("followup {today}"), |p| {
            nutrition::followup_parts(store, p, today)
        })
        .await
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
    cache.note_asked(Question::Pregnancies {
        place: place.into(),
        month,
    });
    let parts = pregnancies_kept(cache, store, place, month).await?;
    pregnancies::pregnancies_assemble(store, place, month, parts)
        .await
        .map(Some)
}

/// The pregnancy parts of every posyandu at or below `place`.
pub async fn pregnancies_kept(
    cache: &PartCache,
    store: &dyn Storage,
    place: &str,
    month: YearMonth,
) -> Result<BTreeMap<String, pregnancies::PregnancyCounts>, MonthlyError> {
    cache
        .parts(store, place, &format!("pregnancies {month}"), |p| {
            pregnancies::pregnancies_parts(store, p, month)
        })
        .await
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
    Ok(cohort(cache, store, scope, place, from, to, on)
        .await?
        .map(|(report, _)| report))
}

/// [`immunisation::coverage`] and [`super::overdue::overdue`] from the same kept parts (one
/// read of the cohort: the dashboard's Imunisasi page).
pub async fn cohort(
    cache: &PartCache,
    store: &dyn Storage,
    scope: &str,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<Option<(CoverageReport, Vec<OverdueChild>)>, MonthlyError> {
    if !in_scope(store, scope, place).await? {
        return Ok(None);
    }
    cache.note_asked(Question::Coverage {
        place: place.into(),
        from,
        to,
    });
    let parts = coverage_kept(cache, store, place, from, to, on).await?;
    let mut overdue = Vec::new();
    let mut coverage = BTreeMap::new();
    for (code, part) in parts {
        overdue.extend(part.overdue);
        coverage.insert(code, part.coverage);
    }
    let report = immunisation::coverage_assemble(store, place, from, to, on, coverage).await?;
    Ok(Some((report, overdue)))
}

/// The cohort parts (coverage and overdue children) of every posyandu at or below `place`.
pub async fn coverage_kept(
    cache: &PartCache,
    store: &dyn Storage,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
    on: NaiveDate,
) -> Result<BTreeMap<String, immunisation::CohortPart>, MonthlyError> {
    cache
        .parts(
            store,
            place,
            &format!("immunisation {from} {to} {on}"),
            |p| immunisation::cohort_parts(store, p, from, to, on),
        )
        .await
}

//! Report parts computed before anyone asks (docs/read-model.md, "Answers kept"): the
//! questions asked of the health reports (a report kind, a place and its period) are kept in
//! `report_questions` (migration 0012); a server that starts computes the parts of the
//! recently asked ones in the background, and so does a running server after every part was
//! dropped (a rebuild, a place changed). A request that arrives while its question is being
//! computed waits for that computation ([`super::parts::PartCache`] computes one key at a
//! time) and then assembles the kept parts; one that arrives before it is computed computes
//! it itself, as without the warmer. Either way the answer is the same as a fresh one.

use super::cache::ReportCache;
use super::monthly::MonthlyError;
use super::parts::PartCache;
use super::{Cell, Param, parts, text};
use crate::Storage;
use crate::model::now_ms;
use chrono::NaiveDate;
use health_rules::kms::YearMonth;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the warmer looks at the read model (and writes the questions asked).
pub const TICK: Duration = Duration::from_secs(5);
/// Questions asked within this long are computed again after every part was dropped.
pub const RECENT: Duration = Duration::from_secs(3600);
/// Questions asked within this many days are computed at start.
pub const KEPT_DAYS: i64 = 31;
/// At most this many questions are computed at start or after a reset (the most recently
/// asked first), and kept in `report_questions`.
pub const MAX_WARM: usize = 48;

/// A question asked of a health report: what its parts depend on (follow-up and
/// immunisation are read on the day they are computed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Question {
    Skdn {
        place: String,
        month: YearMonth,
    },
    Nutrition {
        place: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    Followup {
        place: String,
    },
    Pregnancies {
        place: String,
        month: YearMonth,
    },
    Coverage {
        place: String,
        from: NaiveDate,
        to: NaiveDate,
    },
}

impl std::fmt::Display for Question {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Question::Skdn { place, month } => write!(f, "skdn {place} {month}"),
            Question::Nutrition { place, from, to } => write!(f, "nutrition {place} {from} {to}"),
            Question::Followup { place } => write!(f, "followup {place}"),
            Question::Pregnancies { place, month } => write!(f, "pregnancies {place} {month}"),
            Question::Coverage { place, from, to } => {
                write!(f, "immunisation {place} {from} {to}")
            }
        }
    }
}

impl std::str::FromStr for Question {
    type Err = ();

    /// The form [`Question`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self, ()> {
        let w: Vec<&str> = s.split(' ').collect();
        let date = |i: usize| -> Result<NaiveDate, ()> {
            NaiveDate::parse_from_str(w.get(i).ok_or(())?, "%Y-%m-%d").map_err(|_| ())
        };
        let month =
            |i: usize| -> Result<YearMonth, ()> { w.get(i).ok_or(())?.parse().map_err(|_| ()) };
        let place = w.get(1).filter(|p| !p.is_empty()).ok_or(())?.to_string();
        match (w.first().copied(), w.len()) {
            (Some("skdn"), 3) => Ok(Question::Skdn {
                place,
                month: month(2).map_err(|_| ())?,
            }),
            (Some("nutrition"), 4) => Ok(Question::Nutrition {
                place,
                from: date(2)?,
                to: date(3)?,
            }),
            (Some("followup"), 2) => Ok(Question::Followup { place }),
            (Some("pregnancies"), 3) => Ok(Question::Pregnancies {
                place,
                month: month(2).map_err(|_| ())?,
            }),
            (Some("immunisation"), 4) => Ok(Question::Coverage {
                place,
                from: date(2)?,
                to: date(3)?,
            }),
            _ => Err(()),
        }
    }
}

/// Computes the parts of `q` (not noted as asked): its place as its own scope.
pub async fn compute(c: &PartCache, store: &dyn Storage, q: &Question) -> Result<(), MonthlyError> {
    let today = super::reports::today(now_ms());
    match q {
        Question::Skdn { place, month } => {
            parts::skdn_kept(c, store, place, *month).await?;
        }
        Question::Nutrition { place, from, to } => {
            parts::nutrition_kept(c, store, place, *from, *to).await?;
        }
        Question::Followup { place } => {
            parts::followup_kept(c, store, place, today).await?;
        }
        Question::Pregnancies { place, month } => {
            parts::pregnancies_kept(c, store, place, *month).await?;
        }
        Question::Coverage { place, from, to } => {
            parts::coverage_kept(c, store, place, *from, *to, today).await?;
        }
    }
    Ok(())
}

/// The questions kept in `report_questions` asked within [`KEPT_DAYS`], most recent first.
pub async fn stored(store: &dyn Storage) -> Result<Vec<Question>, MonthlyError> {
    let since = i64::try_from(now_ms()).unwrap_or(i64::MAX) - KEPT_DAYS * 86_400_000;
    let rows = store
        .read_rows(
            "SELECT question FROM report_questions WHERE asked_at >= ?1
             ORDER BY asked_at DESC, question"
                .into(),
            vec![Param::Int(since)],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| text(r, 0))
        .filter_map(|q| q.parse().ok())
        .take(MAX_WARM)
        .collect())
}

/// Computes the parts of `questions` in turn; a question that fails is logged and skipped.
/// Returns how many were computed.
pub async fn warm(cache: &PartCache, store: &dyn Storage, questions: &[Question]) -> usize {
    let mut done = 0;
    for q in questions.iter().take(MAX_WARM) {
        let t = Instant::now();
        match compute(cache, store, q).await {
            Ok(()) => {
                done += 1;
                tracing::debug!(question = %q, ms = t.elapsed().as_millis(), "report parts warmed");
            }
            Err(e) => tracing::warn!(question = %q, error = %e, "report parts not warmed"),
        }
    }
    done
}

/// Writes the questions asked since the last write to `report_questions` (`written`: when
/// each was asked as last written).
async fn persist(
    cache: &PartCache,
    store: &dyn Storage,
    written: &mut HashMap<Question, Instant>,
) -> Result<(), MonthlyError> {
    let now = i64::try_from(now_ms()).unwrap_or(i64::MAX);
    let asked: Vec<(Question, Instant)> = cache
        .asked()
        .into_iter()
        .filter(|(q, t)| written.get(q) != Some(t))
        .take(MAX_WARM)
        .collect();
    if asked.is_empty() {
        return Ok(());
    }
    let rows = asked
        .iter()
        .map(|(q, t)| {
            let ago = i64::try_from(t.elapsed().as_millis()).unwrap_or(0);
            (q.to_string(), now - ago)
        })
        .collect();
    store
        .note_report_questions(rows, now - KEPT_DAYS * 2 * 86_400_000)
        .await?;
    written.extend(asked);
    Ok(())
}

/// Starts the warmer: the stored questions first, then every [`TICK`] it writes the
/// questions asked and looks at the read model; after every part was dropped it computes the
/// questions asked within [`RECENT`] again.
pub fn spawn(store: Arc<dyn Storage>, cache: Arc<ReportCache>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let t = Instant::now();
        match stored(store.as_ref()).await {
            Ok(qs) => {
                let n = warm(&cache.parts, store.as_ref(), &qs).await;
                tracing::info!(
                    questions = n,
                    secs = t.elapsed().as_secs_f64(),
                    "report parts warmed at start"
                );
            }
            Err(e) => tracing::warn!(error = %e, "stored report questions not read"),
        }
        let mut epoch = cache.parts.epoch();
        let mut written: HashMap<Question, Instant> = HashMap::new();
        loop {
            tokio::time::sleep(TICK).await;
            if let Err(e) = persist(&cache.parts, store.as_ref(), &mut written).await {
                tracing::warn!(error = %e, "report questions not written");
            }
            if let Err(e) = cache.parts.look(store.as_ref()).await {
                tracing::warn!(error = %e, "report parts: the read model not read");
                continue;
            }
            let now = cache.parts.epoch();
            if now != epoch {
                let recent: Vec<Question> = cache
                    .parts
                    .asked()
                    .into_iter()
                    .filter(|(_, t)| t.elapsed() < RECENT)
                    .map(|(q, _)| q)
                    .collect();
                let t = Instant::now();
                let n = warm(&cache.parts, store.as_ref(), &recent).await;
                tracing::info!(
                    questions = n,
                    secs = t.elapsed().as_secs_f64(),
                    "report parts warmed after a reset"
                );
                epoch = cache.parts.epoch();
            }
        }
    })
}

/// `report_questions` rows, for tests: (question, asked_at).
pub async fn stored_rows(store: &dyn Storage) -> Result<Vec<(String, i64)>, MonthlyError> {
    Ok(store
        .read_rows(
            "SELECT question, asked_at FROM report_questions ORDER BY question".into(),
            Vec::new(),
        )
        .await?
        .iter()
        .filter_map(|r| Some((text(r, 0)?, r.get(1).and_then(Cell::int)?)))
        .collect())
}

/// Writes what was asked now (tests and the bench: the warmer does it every [`TICK`]).
pub async fn persist_now(cache: &PartCache, store: &dyn Storage) -> Result<(), MonthlyError> {
    persist(cache, store, &mut HashMap::new()).await
}

//! The person name search ([`crate::Store::search_persons`]): spelling-tolerant, best first,
//! and its cost bounded by the limit, not by the number of persons whose names match.
//!
//! Ranking every match of a common name (`ORDER BY rank` over FTS5) reads and sorts all the
//! namesakes, and their number grows with the data. Instead the search reads at most a
//! limit's worth of candidates from each of four sources, in an order an index gives without
//! sorting, best source first, and stops as soon as it has a limit's worth:
//!
//! 1. the whole name equal to the query, by spelling key (`persons_dup`, one probe);
//! 2. the name beginning with the query (`persons_dup`, a key range in key order);
//! 3. every query word a whole word of the name (FTS5, exact terms, in row order);
//! 4. every query word the beginning of a word of the name (FTS5, prefixes, in row order).
//!
//! A source stops early only when it alone fills the limit, and every candidate of a later
//! source is no closer than one of an earlier source, so the hits are the closest matches
//! by [`closeness`]; within one closeness, names with fewer words come first, then by key.
//! Deleted and merged-away persons and, when asked, other posyandu are left out in the SQL.

use super::household::PersonHit;
use crate::error::Result;
use crate::names;
use crate::reads::{PERSON_COLS, PERSON_NCOLS, PersonSummary};
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use std::collections::HashSet;

/// Where a source's candidates come from (`?1` its key or FTS query, `?2` the posyandu or
/// NULL, `?3` the limit, `?4` the end of the key range).
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The whole name equal, by key.
    Equal,
    /// The name beginning with the query's key.
    Begins,
    /// FTS5 over whole words.
    Words,
    /// FTS5 over word beginnings.
    Prefixes,
}

const SOURCES: [Source; 4] = [
    Source::Equal,
    Source::Begins,
    Source::Words,
    Source::Prefixes,
];

/// The SQL of one source: the person's columns, the household head, the key and the row id.
fn sql(source: Source) -> String {
    let filters = "p.deleted = 0 AND (?2 IS NULL OR p.posyandu = ?2)
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)";
    let select = format!("SELECT {PERSON_COLS}, h.head_name, p.name_key, p.rowid");
    match source {
        Source::Equal => format!(
            "{select} FROM persons p LEFT JOIN households h ON h.id = p.household
             WHERE p.name_key = ?1 AND {filters} ORDER BY p.name_key LIMIT ?3"
        ),
        Source::Begins => format!(
            "{select} FROM persons p LEFT JOIN households h ON h.id = p.household
             WHERE p.name_key > ?1 AND p.name_key < ?4 AND {filters}
             ORDER BY p.name_key LIMIT ?3"
        ),
        Source::Words | Source::Prefixes => format!(
            "{select} FROM person_fts f JOIN persons p ON p.rowid = f.rowid
             LEFT JOIN households h ON h.id = p.household
             WHERE person_fts MATCH ?1 AND {filters} ORDER BY f.rowid LIMIT ?3"
        ),
    }
}

/// How close a name is to the query, by spelling keys: 0 the whole name, 1 the name begins
/// with the query, 2 every query word is a whole word of the name, 3 the query's words only
/// begin words of the name.
fn closeness(name_key: &str, key: &str, words: &[&str]) -> u8 {
    if name_key == key {
        0
    } else if name_key.starts_with(key) {
        1
    } else if words.iter().all(|w| name_key.split(' ').any(|n| n == *w)) {
        2
    } else {
        3
    }
}

struct Candidate {
    hit: PersonHit,
    key: String,
    rowid: i64,
}

/// At most `limit` live, unmerged persons whose names match `query`, closest first.
pub(crate) fn search_persons(
    conn: &Connection,
    today: NaiveDate,
    query: &str,
    posyandu: Option<&str>,
    limit: usize,
) -> Result<Vec<PersonHit>> {
    let key = names::name_key(query);
    let (Some(prefixes), Some(words_fts)) =
        (names::fts_query(query), names::fts_words_query(query))
    else {
        return Ok(Vec::new());
    };
    if limit == 0 {
        return Ok(Vec::new());
    }
    // The first string after every string that begins with `key`.
    let end = format!("{key}\u{10FFFF}");
    let words: Vec<&str> = key.split(' ').collect();
    let mut found: Vec<Candidate> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for source in SOURCES {
        let arg = match source {
            Source::Equal | Source::Begins => key.as_str(),
            Source::Words => words_fts.as_str(),
            Source::Prefixes => prefixes.as_str(),
        };
        // Up to `found.len()` of a source's rows may be persons found already.
        let take = i64::try_from(limit.saturating_add(found.len())).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(&sql(source))?;
        let end_arg = match source {
            Source::Begins => Some(end.as_str()),
            _ => None,
        };
        let mut rows = match end_arg {
            Some(e) => stmt.query(params![arg, posyandu, take, e])?,
            None => stmt.query(params![arg, posyandu, take])?,
        };
        while let Some(r) = rows.next()? {
            let hit = PersonHit {
                person: PersonSummary::from_row(r, today)?,
                household_head: r.get(PERSON_NCOLS)?,
            };
            if !seen.insert(hit.person.id.to_string()) {
                continue;
            }
            found.push(Candidate {
                hit,
                key: r
                    .get::<_, Option<String>>(PERSON_NCOLS + 1)?
                    .unwrap_or_default(),
                rowid: r.get(PERSON_NCOLS + 2)?,
            });
        }
        if found.len() >= limit {
            break;
        }
    }
    found.sort_by_cached_key(|c| {
        (
            closeness(&c.key, &key, &words),
            c.key.split(' ').count(),
            c.key.clone(),
            c.rowid,
        )
    });
    found.truncate(limit);
    Ok(found.into_iter().map(|c| c.hit).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn closeness_orders_whole_name_beginning_words_prefixes() {
        let words = ["ioanes", "bria"];
        assert_eq!(closeness("ioanes bria", "ioanes bria", &words), 0);
        assert_eq!(closeness("ioanes bria seran", "ioanes bria", &words), 1);
        assert_eq!(closeness("ioanes briana", "ioanes bria", &words), 1);
        assert_eq!(closeness("ioanes seran bria", "ioanes bria", &words), 2);
        assert_eq!(closeness("bria ioanes", "ioanes bria", &words), 2);
        assert_eq!(closeness("ioanesa briana", "ioanes bria", &words), 3);
    }

    /// Every source reads an index in the order it returns rows: no sort of all matches, so
    /// its cost is bounded by its limit (and the rows the filters skip), not by the matches.
    #[test]
    fn no_source_sorts_its_matches() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        for source in SOURCES {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", sql(source)))
                .unwrap();
            let all = params!["\"ioanes\"", "P01", 20, "ioanes\u{10FFFF}"];
            let plan: Vec<String> = stmt
                .query_map(&all[..source_params(source)], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("\n");
            assert!(!plan.contains("TEMP B-TREE"), "{source:?}:\n{plan}");
            match source {
                Source::Equal | Source::Begins => {
                    assert!(
                        plan.contains("USING INDEX persons_dup"),
                        "{source:?}:\n{plan}"
                    )
                }
                Source::Words | Source::Prefixes => {
                    assert!(plan.contains("VIRTUAL TABLE INDEX"), "{source:?}:\n{plan}")
                }
            }
        }
    }

    fn source_params(source: Source) -> usize {
        match source {
            Source::Begins => 4,
            _ => 3,
        }
    }
}

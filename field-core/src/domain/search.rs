//! The name searches ([`crate::Store::search_persons`], and the households of the persons
//! found, [`crate::Store::search_households`]): spelling-tolerant, best first, and their cost
//! bounded by the limit, not by the number of persons whose names match.
//!
//! Ranking every match of a common name (`ORDER BY rank` over FTS5) reads and sorts all the
//! namesakes, and their number grows with the data. Instead the search reads at most a
//! limit's worth of candidates from each of five sources, in an order an index gives without
//! sorting, best source first, and stops as soon as it has a limit's worth:
//!
//! 1. the whole name equal to the query, by spelling key (`persons_dup`, one probe);
//! 2. the name beginning with the query's words as whole words (`persons_dup`, a key range
//!    in key order): "Ani Susanti" for "ani";
//! 3. every query word a whole word of the name (FTS5, exact terms, in row order): "Budi Ani";
//! 4. the name beginning with the query, its last word the beginning of a longer word (a key
//!    range): "Anisa";
//! 5. every query word the beginning of a word of the name (FTS5, prefixes, in row order).
//!
//! A source stops early only when it alone fills the limit, and every candidate of a later
//! source is no closer than one of an earlier source, so the hits are the closest matches
//! by [`Query::closeness`]; within one closeness, names with fewer words come first, then by
//! key.
//! Deleted and merged-away persons and, when asked, other posyandu are left out in the SQL.

use super::household::PersonHit;
use crate::error::Result;
use crate::names;
use crate::reads::{PERSON_COLS, PERSON_NCOLS, PersonSummary};
use chrono::NaiveDate;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use std::collections::{HashMap, HashSet};

/// Where a source's candidates come from (`:arg` its key or FTS query, `:lo` and `:hi` the
/// ends of its key range, `:take` the most rows it reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The whole name equal, by key.
    Equal,
    /// The name beginning with the query's words as whole words (the key then a space).
    BeginsWords,
    /// FTS5 over whole words.
    Words,
    /// The name beginning with the query, its last word the beginning of a longer word.
    BeginsPartial,
    /// FTS5 over word beginnings.
    Prefixes,
}

/// Best first: [`Query::closeness`] of a source's candidates never falls below an earlier one's.
const SOURCES: [Source; 5] = [
    Source::Equal,
    Source::BeginsWords,
    Source::Words,
    Source::BeginsPartial,
    Source::Prefixes,
];

/// The highest code point: `key` then it is after every string that begins with `key`
/// (spelling keys hold words of letters and digits joined by single spaces).
const LAST: char = '\u{10FFFF}';

/// What one query asks of the sources.
struct Query {
    key: String,
    words_fts: String,
    prefixes: String,
    /// `key` then a space, and the end of the names beginning with it.
    words_lo: String,
    words_hi: String,
    /// The end of the names beginning with `key`.
    hi: String,
}

impl Query {
    fn new(query: &str) -> Option<Query> {
        let key = names::name_key(query);
        let (Some(prefixes), Some(words_fts)) =
            (names::fts_query(query), names::fts_words_query(query))
        else {
            return None;
        };
        Some(Query {
            words_lo: format!("{key} "),
            words_hi: format!("{key} {LAST}"),
            hi: format!("{key}{LAST}"),
            key,
            words_fts,
            prefixes,
        })
    }

    /// The source's own parameters (`:arg`, or `:lo` and `:hi`).
    fn args(&self, source: Source) -> Vec<(&'static str, &dyn ToSql)> {
        match source {
            Source::Equal => vec![(":arg", &self.key)],
            Source::BeginsWords => vec![(":lo", &self.words_lo), (":hi", &self.words_hi)],
            // After the names beginning with `key ` (the whole-word ones) up to the end.
            Source::BeginsPartial => vec![(":lo", &self.words_hi), (":hi", &self.hi)],
            Source::Words => vec![(":arg", &self.words_fts)],
            Source::Prefixes => vec![(":arg", &self.prefixes)],
        }
    }

    /// How close a name is to the query: 0 the whole name; 1 the name begins with the
    /// query's words, whole; 2 every query word is a whole word of the name; 3 the name
    /// begins with the query, its last word only the beginning of a longer word; 4 the
    /// query's words only begin words of the name.
    fn closeness(&self, name_key: &str) -> u8 {
        let key = self.key.as_str();
        if name_key == key {
            0
        } else if name_key.starts_with(self.words_lo.as_str()) {
            1
        } else if key.split(' ').all(|w| name_key.split(' ').any(|n| n == w)) {
            2
        } else if name_key.starts_with(key) {
            3
        } else {
            4
        }
    }

    /// The order of hits: closeness, then fewer words, then key, then row.
    fn rank(&self, name_key: &str, rowid: i64) -> (u8, usize, String, i64) {
        (
            self.closeness(name_key),
            name_key.split(' ').count(),
            name_key.to_string(),
            rowid,
        )
    }
}

/// The table a source reads first, its condition and the order its index gives.
fn source_parts(source: Source) -> (&'static str, &'static str, &'static str) {
    match source {
        Source::Equal => ("persons p", "p.name_key = :arg", "p.name_key"),
        Source::BeginsWords | Source::BeginsPartial => (
            "persons p",
            "p.name_key > :lo AND p.name_key < :hi",
            "p.name_key",
        ),
        Source::Words | Source::Prefixes => (
            "person_fts f CROSS JOIN persons p ON p.rowid = f.rowid",
            "person_fts MATCH :arg",
            "f.rowid",
        ),
    }
}

/// Live, unmerged persons.
const LIVE: &str = "p.deleted = 0
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)";

/// The SQL of one person source: the person's columns, the household head, the key and the
/// row id (`:posyandu` the posyandu or NULL).
fn sql(source: Source) -> String {
    let (from, cond, order) = source_parts(source);
    format!(
        "SELECT {PERSON_COLS}, h.head_name, p.name_key, p.rowid
         FROM {from} LEFT JOIN households h ON h.id = p.household
         WHERE {cond} AND {LIVE} AND (:posyandu IS NULL OR p.posyandu = :posyandu)
         ORDER BY {order} LIMIT :take"
    )
}

/// The SQL of one source of the household search: the household, the member's name, key and
/// row id, for members of households that `place` (a condition on `h`) keeps.
fn household_sql(source: Source, place: &str) -> String {
    let (from, cond, order) = source_parts(source);
    format!(
        "SELECT h.id, p.name, p.name_key, p.rowid
         FROM {from} CROSS JOIN households h ON h.id = p.household
         WHERE {cond} AND {LIVE} AND {place}
         ORDER BY {order} LIMIT :take"
    )
}

/// A row count as SQL's `LIMIT`.
fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

struct Candidate {
    hit: PersonHit,
    key: String,
    rowid: i64,
}

/// At most `limit` live, unmerged persons whose names match `query`, closest first.
///
/// A source stops early only when it alone fills the limit, and every candidate of a later
/// source is no closer than one of an earlier source, so the hits are the closest matches
/// by closeness; within one closeness, names with fewer words come first, then by key.
pub(crate) fn search_persons(
    conn: &Connection,
    today: NaiveDate,
    query: &str,
    posyandu: Option<&str>,
    limit: usize,
) -> Result<Vec<PersonHit>> {
    let Some(q) = Query::new(query) else {
        return Ok(Vec::new());
    };
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut found: Vec<Candidate> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for source in SOURCES {
        // Up to `found.len()` of a source's rows may be persons found already.
        let take = sql_count(limit.saturating_add(found.len()));
        let mut args = q.args(source);
        args.push((":posyandu", &posyandu));
        args.push((":take", &take));
        let mut stmt = conn.prepare_cached(&sql(source))?;
        let mut rows = stmt.query(&args[..])?;
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
    found.sort_by_cached_key(|c| q.rank(&c.key, c.rowid));
    found.truncate(limit);
    Ok(found.into_iter().map(|c| c.hit).collect())
}

/// A household the search found: its id and the names of its members that matched, best
/// first (none when only its head's name matched).
pub(crate) type HouseholdMatch = (String, Vec<String>);

/// At most `limit` households that `place` keeps (a condition on `h`, its parameters in
/// `place_args`) with a live, unmerged member whose name matches `query` (the person
/// search's sources, closest first) or whose head's name holds `query` (a substring, any
/// case: after every member match). Every source reads in its index's order and stops once
/// the households reach the limit; the head's name is read only when the members did not.
pub(crate) fn search_households(
    conn: &Connection,
    query: &str,
    place: &str,
    place_args: &[(&'static str, &dyn ToSql)],
    limit: usize,
) -> Result<Vec<HouseholdMatch>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // Household id -> (its rank, the names of its members that matched).
    type Rank = (u8, usize, String, i64);
    let mut found: HashMap<String, (Rank, Vec<String>)> = HashMap::new();
    if let Some(q) = Query::new(query) {
        'sources: for source in SOURCES {
            let mut args = q.args(source);
            args.extend_from_slice(place_args);
            // Several members of one household may match: the source stops when the
            // households reach the limit, not at a number of rows.
            args.push((":take", &i64::MAX));
            let mut stmt = conn.prepare_cached(&household_sql(source, place))?;
            let mut rows = stmt.query(&args[..])?;
            while let Some(r) = rows.next()? {
                let (hh, name, key, rowid) = member_row(r)?;
                match found.get_mut(&hh) {
                    Some((rank, names)) => {
                        // A household ranks by its closest member, whichever came first.
                        let this = q.rank(&key, rowid);
                        if this < *rank {
                            *rank = this;
                        }
                        if let Some(n) = name
                            && !names.contains(&n)
                        {
                            names.push(n);
                        }
                    }
                    None => {
                        if found.len() >= limit {
                            break 'sources;
                        }
                        found.insert(hh, (q.rank(&key, rowid), name.into_iter().collect()));
                    }
                }
            }
            if found.len() >= limit {
                break;
            }
        }
    }
    if found.len() < limit {
        // The head's name as written, households in row order (no sort of all matches).
        let mut stmt = conn.prepare_cached(&head_sql(place))?;
        // Up to `found.len()` of them may be households found already.
        let take = sql_count(limit);
        let mut args: Vec<(&str, &dyn ToSql)> = vec![(":query", &query), (":take", &take)];
        args.extend_from_slice(place_args);
        let mut rows = stmt.query(&args[..])?;
        while let Some(r) = rows.next()? {
            let hh: String = r.get(0)?;
            let head: Option<String> = r.get(1)?;
            if found.len() >= limit {
                break;
            }
            found
                .entry(hh)
                .or_insert_with(|| ((5, 0, head.unwrap_or_default(), 0), Vec::new()));
        }
    }
    let mut out: Vec<(Rank, HouseholdMatch)> = found
        .into_iter()
        .map(|(hh, (rank, names))| (rank, (hh, names)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.0.cmp(&b.1.0)));
    Ok(out.into_iter().map(|(_, m)| m).collect())
}

/// The households whose head's name holds `:query` (any case), in row order.
fn head_sql(place: &str) -> String {
    format!(
        "SELECT h.id, h.head_name FROM households h
         WHERE instr(lower(h.head_name), lower(:query)) > 0 AND {place} LIMIT :take"
    )
}

fn member_row(r: &Row<'_>) -> rusqlite::Result<(String, Option<String>, String, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        r.get(3)?,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn closeness_orders_whole_name_beginning_words_partial_beginning_prefixes() {
        let q = Query::new("Yohanes Bria").unwrap();
        assert_eq!(q.closeness("ioanes bria"), 0);
        assert_eq!(q.closeness("ioanes bria seran"), 1);
        assert_eq!(q.closeness("ioanes seran bria"), 2);
        assert_eq!(q.closeness("bria ioanes"), 2);
        assert_eq!(q.closeness("ioanes briana"), 3);
        assert_eq!(q.closeness("ioanesa briana"), 4);
        // A whole word of the query before a longer word that begins with it.
        let ani = Query::new("ani").unwrap();
        assert_eq!(ani.closeness("ani susanti"), 1);
        assert_eq!(ani.closeness("budi ani"), 2);
        assert_eq!(ani.closeness("anisa"), 3);
        assert!(ani.rank("ani susanti", 9) < ani.rank("anisa", 1));
        // The sources come in that order.
        let classes: Vec<u8> = [
            "ioanes bria",
            "ioanes bria seran",
            "bria ioanes",
            "ioanes briana",
        ]
        .iter()
        .map(|k| q.closeness(k))
        .collect();
        assert_eq!(classes, [0, 1, 2, 3]);
    }

    /// The whole-word range and the partial one split the names beginning with the key.
    #[test]
    fn the_two_beginning_ranges_split_the_names_beginning_with_the_key() {
        let q = Query::new("ani").unwrap();
        let in_range = |k: &str, lo: &str, hi: &str| k > lo && k < hi;
        for (k, words, partial) in [
            ("ani", false, false),
            ("ani susanti", true, false),
            ("ani a", true, false),
            ("anisa", false, true),
            ("ania", false, true),
            ("anita b", false, true),
            ("anj", false, false),
            ("an", false, false),
        ] {
            assert_eq!(in_range(k, &q.words_lo, &q.words_hi), words, "{k}");
            assert_eq!(in_range(k, &q.words_hi, &q.hi), partial, "{k}");
        }
    }

    fn plan(conn: &Connection, sql: &str, args: &[(&str, &dyn ToSql)]) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows: Vec<String> = stmt
            .query_map(args, |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        rows.join("\n")
    }

    fn assert_streams(source: Source, plan: &str) {
        assert!(!plan.contains("TEMP B-TREE"), "{source:?}:\n{plan}");
        match source {
            Source::Equal | Source::BeginsWords | Source::BeginsPartial => {
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

    /// Every source reads an index in the order it returns rows: no sort of all matches, so
    /// its cost is bounded by its limit (and the rows the filters skip), not by the matches.
    #[test]
    fn no_source_sorts_its_matches() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let q = Query::new("ioanes").unwrap();
        for source in SOURCES {
            let mut args = q.args(source);
            args.push((":posyandu", &"P01"));
            args.push((":take", &20));
            assert_streams(source, &plan(&conn, &sql(source), &args));
        }
    }

    /// The household search's sources too, with the place filters and a user's scope, and
    /// its head-name source reads households in row order, no sort.
    #[test]
    fn no_household_source_sorts_its_matches() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let q = Query::new("ioanes").unwrap();
        let place = "h.deleted = 0 AND (:dusun IS NULL OR h.dusun = :dusun COLLATE NOCASE)
            AND (:rt IS NULL OR ltrim(h.rt, '0') = ltrim(:rt, '0'))
            AND h.posyandu IN (SELECT value FROM json_each('[\"P01\",\"P02\"]'))";
        for source in SOURCES {
            let mut args = q.args(source);
            args.push((":dusun", &"Dusun 1"));
            args.push((":rt", &"001"));
            args.push((":take", &i64::MAX));
            assert_streams(source, &plan(&conn, &household_sql(source, place), &args));
        }
        let head = plan(
            &conn,
            &head_sql(place),
            &[
                (":query", &"ioanes"),
                (":dusun", &"Dusun 1"),
                (":rt", &"001"),
                (":take", &100),
            ],
        );
        assert!(!head.contains("TEMP B-TREE"), "{head}");
    }
}

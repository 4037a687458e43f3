//! A first sync in bulk: the read tables' secondary indexes and the name index are built once
//! at the end instead of entry by entry.
//!
//! A fresh tablet's first sync brings every record of its scope (130,000 for a puskesmas).
//! Applied page by page into indexed tables, each change inserts an entry into up to six
//! indexes of `facts` (and five of `persons`, plus the FTS name index) at scattered places;
//! every page's commit then writes each touched index page again, encrypted (issue #19's
//! profile: the work is SQLite's B-tree and SQLCipher's per-page cost, not field-core's).
//! `CREATE INDEX` over the finished table sorts its keys once and writes each page once.
//!
//! So when a pulled page is large, more pages follow, and the store holds next to nothing yet
//! ([`should_begin`]), the page's transaction first drops those indexes, keeping each one's
//! `CREATE INDEX` statement in `deferred_indexes` (migration V5). Later pages see the rows
//! there and skip the name index and merge settling (both rebuilt whole at the end). The last
//! page of the pull ([`finish`], in that page's transaction) re-creates every kept index,
//! refills `person_fts` from `persons`, settles `person_merge` facts and empties the table.
//! The field edits of records that an earlier page brought (a known child's `has_kms`, `rt`)
//! are appended to `bulk_edits` (migration V8) instead of `field_edits`, whose leaves they
//! would land on anywhere in the table, and those records' read rows are not rewritten per
//! page: [`finish`] moves the edits into `field_edits` in key order and refreshes each such
//! record once (`apply::finish_bulk_edits`; reads of a record during the bulk see both tables,
//! `apply::load_mutable`). On the fresh tablet these were 58 % of a page's commit frames
//! (issue 19, ninth pass).
//! The due lists' `due_facts` (migration V6) is written by the apply with each fact
//! (`due_rows.rs`, since V7); during a bulk sync the pages write the same rows to `bulk_due`
//! (migration V10, a rowid table keyed by the fact's rowid, so each page's rows land at its
//! end), and [`finish`] moves them into `due_facts` ([`move_due_rows`]) instead of reading
//! and decoding all of `facts` again to fill it (half the end's CPU on the fresh tablet:
//! issue 19, thirteenth pass). A bulk cut under V9 (its pages wrote no due rows) is finished
//! before the migrations, without the table: that end fills `due_facts` from `facts`.
//! (Under V6 it was kept by triggers, dropped here and kept in `deferred_indexes` like the
//! indexes; `begin` still defers any trigger on those tables.)
//!
//! Durability is unchanged: each pulled page is still one transaction with its cursor, and
//! dropping or re-creating the indexes is part of a page's transaction. A cut (SIGKILL, a dead
//! battery) in between leaves rows in `deferred_indexes`: [`Store::unlock`] finishes the bulk
//! before anything reads the store, and a sync that stops on an error finishes it too
//! ([`Store::finish_bulk_sync`]), so no screen ever reads a store without its indexes for
//! longer than a running first sync. Reads during that sync (the app's other connection) are
//! slower, and the name search finds only what was there before it began. A record that an
//! earlier page brought shows its state as of that page until the bulk ends (its later edits,
//! a tombstone, its conflicts wait in `bulk_edits`): the screens lag the pages applied, as
//! they lag the pages not yet pulled. A save during the bulk still merges with every edit
//! (`apply::load_mutable` reads both tables), but scans `bulk_edits`, which has no index.
//!
//! The primary keys and `UNIQUE` constraints (SQLite's automatic indexes) are kept: the apply
//! itself looks records up by id.

use crate::error::Result;
use rusqlite::{Connection, params};

/// Tables whose secondary indexes a bulk sync defers. Not `outbox`, `conflicts` or
/// `future_changes`: the apply reads or writes them by those indexes.
const TABLES: [&str; 5] = ["facts", "persons", "households", "pregnancies", "referrals"];

/// Partial indexes over columns that few rows fill (corrections, session and household links,
/// ANC and referral subjects, NIK, KK): kept and written entry by entry during a bulk sync,
/// where they cost next to nothing, instead of being built at its end, where each would read
/// and decrypt its whole table once more (the `facts` table four more times: issue 19, fourth
/// pass).
const SPARSE: [&str; 6] = [
    "facts_supersedes",
    "facts_session",
    "facts_subject",
    "facts_household",
    "persons_nik",
    "households_kk",
];

/// A page smaller than this is applied normally (not worth dropping indexes for).
pub(crate) const MIN_PAGE: usize = 100;

/// A store that already knows this many records applies its pulls normally: re-creating
/// indexes over what it holds would cost more than it saves.
pub(crate) const MAX_KNOWN: i64 = 1_000;

/// Whether a bulk sync is under way (or was cut) in this database.
pub(crate) fn active(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM deferred_indexes)")?
        .query_row([], |r| r.get(0))?)
}

/// Whether a page of `len` changes, with more to follow, should begin a bulk sync.
pub(crate) fn should_begin(conn: &Connection, len: usize, more: bool) -> Result<bool> {
    if !more || len < MIN_PAGE {
        return Ok(false);
    }
    let known: i64 = conn
        .prepare_cached("SELECT count(*) FROM (SELECT 1 FROM records LIMIT ?1)")?
        .query_row([MAX_KNOWN], |r| r.get(0))?;
    Ok(known < MAX_KNOWN)
}

/// Drops the deferred tables' secondary indexes, keeping their statements. Call inside the
/// page's transaction. Returns false (and changes nothing) when there was none to drop.
pub(crate) fn begin(conn: &Connection) -> Result<bool> {
    let found: Vec<(String, String)> = {
        // Triggers too (none since V7, which dropped the due lists' of V6): idle during a
        // bulk, each would still run once per row written.
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
               AND tbl_name IN (?1, ?2, ?3, ?4, ?5)
             ORDER BY name",
        )?;
        stmt.query_map(
            params![TABLES[0], TABLES[1], TABLES[2], TABLES[3], TABLES[4]],
            |r| Ok((r.get::<_, String>(0)?, r.get(1)?)),
        )?
        .filter(|r| {
            r.as_ref()
                .map_or(true, |(name, _)| !SPARSE.contains(&name.as_str()))
        })
        .collect::<rusqlite::Result<_>>()?
    };
    for (name, sql) in &found {
        conn.prepare_cached("INSERT INTO deferred_indexes (name, sql) VALUES (?1, ?2)")?
            .execute(params![name, sql])?;
        let what = if sql
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE TRIGGER")
        {
            "TRIGGER"
        } else {
            "INDEX"
        };
        conn.execute_batch(&format!("DROP {what} {}", quote(name)))?;
    }
    Ok(!found.is_empty())
}

/// Re-creates every deferred index, refills the name index from `persons` and settles merges;
/// nothing when no bulk sync is under way. Call inside a transaction.
pub(crate) fn finish(conn: &Connection) -> Result<bool> {
    let kept: Vec<(String, String)> = {
        let mut stmt = conn.prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    if kept.is_empty() {
        return Ok(false);
    }
    let mut t = timing::Steps::new();
    let first = std::env::var("JANGKAU_BULK_DUE_FIRST").is_ok();
    if first {
        move_due_rows(conn)?;
        t.step("due_rows");
    }
    // The known records' deferred edits and read rows (migration V8), before the indexes
    // are built over the read tables they rewrite (and the name index refilled from them).
    crate::apply::finish_bulk_edits(conn, true)?;
    t.step("finish_bulk_edits");
    for (name, sql) in &kept {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                             WHERE type IN ('index', 'trigger') AND name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            conn.execute_batch(sql)?;
            t.step(name);
        }
    }
    // The name index holds exactly the live named persons (as `write_mutable` keeps it).
    conn.execute_batch(
        "DELETE FROM person_fts;
         INSERT INTO person_fts (rowid, name, name_key)
             SELECT rowid, name, name_key FROM persons WHERE deleted = 0 AND name IS NOT NULL;
         DELETE FROM deferred_indexes;",
    )?;
    t.step("person_fts");
    // The due lists' rows the bulk's pages wrote aside (`due_rows.rs`).
    if !first {
        move_due_rows(conn)?;
        t.step("due_rows");
    }
    crate::apply::settle_merges(conn)?;
    t.step("settle_merges");
    t.total();
    Ok(true)
}

/// Moves the due rows a bulk's pages wrote to `bulk_due` into `due_facts` and empties it.
/// On a database older than that table (a bulk cut under V9, finished before the
/// migrations), whose pages wrote no due rows: fills `due_facts` from `facts`.
fn move_due_rows(conn: &Connection) -> Result<()> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bulk_due')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return crate::migrations::refill_due_facts(conn);
    }
    // The bulk's pages write a fact's row without looking for a retraction that came
    // before it (`apply.rs`): the rows of retracted facts go first (a fact of a kind with a
    // due row is `deleted` only by a retraction, kept in `fact_tombstones`).
    conn.execute_batch(
        "DELETE FROM bulk_due WHERE seq IN (
             SELECT f.rowid FROM fact_tombstones t JOIN facts f ON f.id = t.record_id
             WHERE f.deleted = 1)",
    )?;
    // `OR REPLACE`: a row is in one table only (`due_rows.rs`), so nothing is replaced.
    let keyed = std::env::var("JANGKAU_BULK_DUE_ORDER").is_ok_and(|v| v == "key");
    if std::env::var("JANGKAU_BULK_DUE_ORDER").is_ok_and(|v| v == "refill" || v == "off") {
        conn.execute_batch("DELETE FROM bulk_due")?;
        return crate::migrations::refill_due_facts(conn);
    }
    conn.execute_batch(if keyed {
        "INSERT OR REPLACE INTO due_facts (person, date, seq, kind, id, supersedes, body)
             SELECT person, date, seq, kind, id, supersedes, body FROM bulk_due
             ORDER BY person, date, seq;
         DELETE FROM bulk_due;"
    } else {
        "INSERT OR REPLACE INTO due_facts (person, date, seq, kind, id, supersedes, body)
             SELECT person, date, seq, kind, id, supersedes, body FROM bulk_due;
         DELETE FROM bulk_due;"
    })?;
    Ok(())
}

/// Finishes a bulk sync that a cut left behind, on a connection just opened (before the
/// migrations: a later one may change the indexes kept here). Nothing on a database older
/// than the table.
pub(crate) fn finish_if_cut(conn: &mut Connection) -> Result<bool> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deferred_indexes')",
        [],
        |r| r.get(0),
    )?;
    if !has_table || !active(conn)? {
        return Ok(false);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done = finish(&tx)?;
    tx.commit()?;
    Ok(done)
}

/// An identifier as an SQL quoted name.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl super::Store {
    /// Ends a bulk first sync that stopped before its last page (a lost connection, a
    /// refused page): re-creates the indexes and the name index in one transaction. Nothing
    /// when none is under way. The sync engine calls it when a pull stops on an error;
    /// [`super::Store::unlock`] calls it for a sync that was cut.
    pub fn finish_bulk_sync(&mut self) -> Result<bool> {
        if !active(&self.conn)? {
            super::set_foreign_keys(&self.conn, true)?;
            return Ok(false);
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done = finish(&tx)?;
        tx.commit()?;
        // Left off between the bulk's pages (`apply.rs`).
        super::set_foreign_keys(&self.conn, true)?;
        Ok(done)
    }

    /// Whether a bulk first sync is under way (or was cut and not yet finished).
    pub fn bulk_sync_active(&self) -> Result<bool> {
        active(&self.conn)
    }
}

/// TEMPORARY instrumentation (issue 19, fourteenth pass): each step's wall, thread CPU and
/// VmHWM appended to `$JANGKAU_BULK_TIMING`.
pub(crate) mod timing {
    use std::io::Write;
    use std::time::Instant;

    pub(crate) fn due_off() -> bool {
        std::env::var("JANGKAU_BULK_DUE_ORDER").is_ok_and(|v| v == "off")
    }

    /// One bulk page's apply and commit CPU.
    pub(crate) fn page(apply: u64, commit: u64) {
        let Ok(p) = std::env::var("JANGKAU_BULK_TIMING") else {
            return;
        };
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p) {
            let _ = writeln!(
                f,
                "page apply {:.2} commit {:.2}",
                apply as f64 / 1e6,
                commit as f64 / 1e6
            );
        }
    }

    pub(crate) fn cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    }

    fn hwm() -> String {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
                    .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
                    .reduce(|a, b| format!("{a}/{b}"))
            })
            .unwrap_or_default()
    }

    pub(super) struct Steps {
        file: Option<std::fs::File>,
        start: (Instant, u64),
        last: (Instant, u64),
    }

    impl Steps {
        pub(super) fn new() -> Self {
            let file = std::env::var("JANGKAU_BULK_TIMING").ok().and_then(|p| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .ok()
            });
            let now = (Instant::now(), cpu_ns());
            Steps {
                file,
                start: now,
                last: now,
            }
        }

        pub(super) fn step(&mut self, name: &str) {
            if self.file.is_none() {
                return;
            }
            let now = (Instant::now(), cpu_ns());
            let line = format!(
                "{name} wall {:.1} ms cpu {:.1} ms kB {}\n",
                (now.0 - self.last.0).as_secs_f64() * 1e3,
                now.1.saturating_sub(self.last.1) as f64 / 1e6,
                hwm()
            );
            self.last = now;
            if let Some(f) = self.file.as_mut() {
                let _ = f.write_all(line.as_bytes());
            }
        }

        pub(super) fn total(&mut self) {
            if self.file.is_none() {
                return;
            }
            let now = (Instant::now(), cpu_ns());
            let line = format!(
                "finish wall {:.1} ms cpu {:.1} ms kB {}\n",
                (now.0 - self.start.0).as_secs_f64() * 1e3,
                now.1.saturating_sub(self.start.1) as f64 / 1e6,
                hwm()
            );
            if let Some(f) = self.file.as_mut() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

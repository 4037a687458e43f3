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
//! (`due_rows.rs`, since V7) except during a bulk sync: [`finish`] fills it in one pass over
//! `facts`. (Under V6 it was kept by triggers, dropped here and kept in `deferred_indexes`
//! like the indexes; `begin` still defers any trigger on those tables.)
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
    // The known records' deferred edits and read rows (migration V8), before the indexes
    // are built over the read tables they rewrite (and the name index refilled from them).
    crate::apply::finish_bulk_edits(conn, true)?;
    for (name, sql) in &kept {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                             WHERE type IN ('index', 'trigger') AND name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            conn.execute_batch(sql)?;
        }
    }
    // The name index holds exactly the live named persons (as `write_mutable` keeps it).
    conn.execute_batch(
        "DELETE FROM person_fts;
         INSERT INTO person_fts (rowid, name, name_key)
             SELECT rowid, name, name_key FROM persons WHERE deleted = 0 AND name IS NOT NULL;
         DELETE FROM deferred_indexes;",
    )?;
    // The due lists' table, whose rows the bulk's pages did not write (`due_rows.rs`).
    crate::migrations::refill_due_facts(conn)?;
    crate::apply::settle_merges(conn)?;
    Ok(true)
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

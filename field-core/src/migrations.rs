//! Numbered schema migrations. Each is applied in its own transaction together with the new
//! `PRAGMA user_version`, so a power cut leaves the database at one version or the next.
//! Migrations are only ever added, never edited.

use crate::error::{Result, StoreError};
use rusqlite::Connection;

/// Migration `i + 1` is `MIGRATIONS[i]`.
///
/// A bulk first sync cut by a kill is finished at unlock *before* the migrations run
/// (`store/open.rs`: `bulk::finish_if_cut`), and finishing it writes read rows with this
/// code's statements (`apply::finish_bulk_edits`, `write_mutable`; the `due_facts` fill): a
/// migration that changes the columns those statements write must make that finish work on
/// the version before it too.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9];

/// The schema version this code writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

pub fn current_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to the latest version.
pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, latest())
}

/// Brings the database up to `target` (tests use this to build every earlier version).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    let found = current_version(conn)?;
    if found > latest() {
        return Err(StoreError::SchemaTooNew {
            found,
            known: latest(),
        });
    }
    for v in found..target.min(latest()) {
        let sql = MIGRATIONS[v as usize];
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process (the app and a background sync worker) may have applied this
        // migration between our first read and this transaction's write lock: read the
        // version again under the lock and skip what is already there.
        let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > latest() {
            return Err(StoreError::SchemaTooNew {
                found: now,
                known: latest(),
            });
        }
        if now > v {
            tx.commit()?;
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    current_version(conn)
}

/// Version 1: the record tables, the merge state, the outbox and the device state.
const V1: &str = r#"
CREATE TABLE device_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    device_id     TEXT NOT NULL,
    next_seq      INTEGER NOT NULL CHECK (next_seq >= 1),
    hlc_last      TEXT NOT NULL,
    hlc_max_observed TEXT NOT NULL DEFAULT '0000000000000000',
    hlc_offset_ms INTEGER NOT NULL DEFAULT 0,
    pull_cursor   TEXT,
    last_pull_ms  INTEGER,
    last_push_ms  INTEGER
);

-- Reference data, pulled only.
CREATE TABLE places (
    code   TEXT PRIMARY KEY,
    level  TEXT NOT NULL,
    name   TEXT NOT NULL,
    parent TEXT
);
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    place        TEXT
);

-- Every record id this device knows, with its kind.
CREATE TABLE records (
    id   TEXT PRIMARY KEY,
    kind TEXT NOT NULL
) WITHOUT ROWID;

-- Mutable records: every edit of every field, merged by sync_protocol::merge::MutableRecord.
CREATE TABLE field_edits (
    record_id  TEXT NOT NULL REFERENCES records(id),
    field      TEXT NOT NULL,
    value_json TEXT NOT NULL,
    hlc        TEXT NOT NULL,
    device     TEXT NOT NULL,
    author     TEXT NOT NULL,
    -- The stamp of the value the author saw and replaced (sync_protocol's `base`), as text.
    base       TEXT,
    PRIMARY KEY (record_id, field, hlc, device)
) WITHOUT ROWID;
CREATE TABLE mutable_tombstones (
    record_id TEXT NOT NULL REFERENCES records(id),
    hlc       TEXT NOT NULL,
    device    TEXT NOT NULL,
    author    TEXT NOT NULL,
    seen_json TEXT NOT NULL,
    PRIMARY KEY (record_id, hlc, device)
) WITHOUT ROWID;

-- Current (merged) values of mutable records, for reads.
CREATE TABLE households (
    id          TEXT PRIMARY KEY REFERENCES records(id),
    posyandu    TEXT,
    kk_number   TEXT,
    head_name   TEXT,
    dusun       TEXT,
    rt          TEXT,
    rw          TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX households_posyandu ON households(posyandu);
CREATE INDEX households_kk ON households(kk_number) WHERE kk_number IS NOT NULL;

CREATE TABLE persons (
    id             TEXT PRIMARY KEY REFERENCES records(id),
    posyandu       TEXT,
    household      TEXT,
    name           TEXT,
    name_key       TEXT,
    sex            TEXT,
    birth_date     TEXT,
    birth_date_estimated INTEGER NOT NULL DEFAULT 0,
    nik            TEXT,
    mother         TEXT,
    status         TEXT NOT NULL DEFAULT 'active',
    deleted        INTEGER NOT NULL DEFAULT 0,
    values_json    TEXT NOT NULL,
    updated_hlc    TEXT NOT NULL
);
CREATE INDEX persons_household ON persons(household);
CREATE INDEX persons_posyandu ON persons(posyandu, birth_date);
CREATE INDEX persons_nik ON persons(nik) WHERE nik IS NOT NULL;
CREATE INDEX persons_dup ON persons(name_key, birth_date);
CREATE INDEX persons_mother ON persons(mother) WHERE mother IS NOT NULL;

CREATE TABLE pregnancies (
    id          TEXT PRIMARY KEY REFERENCES records(id),
    posyandu    TEXT,
    person      TEXT,
    hpht        TEXT,
    status      TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX pregnancies_person ON pregnancies(person);

CREATE TABLE referrals (
    id          TEXT PRIMARY KEY REFERENCES records(id),
    posyandu    TEXT,
    person      TEXT,
    status      TEXT,
    visit       TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX referrals_person ON referrals(person);

-- Facts, append-only: stored once per id (the smallest (hlc, device) body wins, as in
-- sync_protocol::merge::FactRecord), hidden by tombstones, corrected by `supersedes`.
-- `subject` is the kind's other link: the pregnancy of an ANC contact, the referral of a
-- referral event, the merged person of a person merge, the record of a conflict review.
CREATE TABLE facts (
    id          TEXT PRIMARY KEY REFERENCES records(id),
    kind        TEXT NOT NULL,
    posyandu    TEXT NOT NULL,
    person      TEXT,
    household   TEXT,
    visit       TEXT,
    session     TEXT,
    subject     TEXT,
    date        TEXT NOT NULL,
    body_json   TEXT NOT NULL,
    made_hlc    TEXT NOT NULL,
    made_device TEXT NOT NULL,
    author      TEXT NOT NULL,
    supersedes  TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX facts_person ON facts(person, date) WHERE person IS NOT NULL;
CREATE INDEX facts_kind_place ON facts(kind, posyandu, date);
CREATE INDEX facts_supersedes ON facts(supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX facts_session ON facts(session) WHERE session IS NOT NULL;
CREATE INDEX facts_subject ON facts(subject) WHERE subject IS NOT NULL;
CREATE INDEX facts_household ON facts(household) WHERE household IS NOT NULL;

CREATE TABLE fact_tombstones (
    record_id TEXT NOT NULL REFERENCES records(id),
    hlc       TEXT NOT NULL,
    device    TEXT NOT NULL,
    PRIMARY KEY (record_id, hlc, device)
) WITHOUT ROWID;

-- Losing edits kept for review (sync_protocol::merge::MutableRecord::conflicts).
CREATE TABLE conflicts (
    id            INTEGER PRIMARY KEY,
    record_id     TEXT NOT NULL REFERENCES records(id),
    kind          TEXT NOT NULL,
    field         TEXT NOT NULL,
    winner_hlc    TEXT,
    loser_hlc     TEXT NOT NULL,
    loser_device  TEXT NOT NULL,
    conflict_json TEXT NOT NULL,
    UNIQUE (record_id, field, loser_hlc, loser_device)
);

-- Every local change, in device sequence order, until the server has it.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY,
    record_id      TEXT NOT NULL REFERENCES records(id),
    kind           TEXT NOT NULL,
    hlc            TEXT NOT NULL,
    change_json    TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    rejection_json TEXT,
    created_ms     INTEGER NOT NULL
);
CREATE INDEX outbox_state ON outbox(state, seq);
CREATE INDEX outbox_record ON outbox(record_id);
"#;

/// Version 2: name search (FTS5 over the name and its spelling-tolerant key) and one view
/// per fact kind with its typed columns.
const V2: &str = r#"
CREATE VIRTUAL TABLE person_fts USING fts5(
    name, name_key, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO person_fts(rowid, name, name_key) SELECT rowid, name, name_key FROM persons;

CREATE VIEW posyandu_sessions AS
    SELECT id, posyandu, date, json_extract(body_json, '$.service_order') AS service_order,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'posyandu_session';
CREATE VIEW visits AS
    SELECT id, posyandu, person, household, session, date,
           json_extract(body_json, '$.type') AS type,
           json_extract(body_json, '$.findings') AS findings,
           json_extract(body_json, '$.education') AS education,
           json_extract(body_json, '$.counselling') AS counselling,
           json_extract(body_json, '$.follow_up_date') AS follow_up_date,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'visit';
CREATE VIEW measurements AS
    SELECT id, posyandu, person, visit, date,
           json_extract(body_json, '$.type') AS type,
           json_extract(body_json, '$.value') AS value,
           json_extract(body_json, '$.unit') AS unit,
           json_extract(body_json, '$.position') AS position,
           json_extract(body_json, '$.measured_by') AS measured_by,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'measurement';
CREATE VIEW immunisations AS
    SELECT id, posyandu, person, visit, date,
           json_extract(body_json, '$.vaccine') AS vaccine,
           json_extract(body_json, '$.catch_up') AS catch_up,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'immunisation';
CREATE VIEW supplements AS
    SELECT id, posyandu, person, visit, date,
           json_extract(body_json, '$.supplement') AS supplement,
           json_extract(body_json, '$.quantity') AS quantity,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'supplement';
CREATE VIEW screenings AS
    SELECT id, posyandu, person, visit, date,
           json_extract(body_json, '$.instrument') AS instrument,
           json_extract(body_json, '$.answers') AS answers,
           json_extract(body_json, '$.result') AS result,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'screening';
CREATE VIEW anc_contacts AS
    SELECT id, posyandu, person, subject AS pregnancy, date,
           json_extract(body_json, '$.contact') AS contact,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'anc_contact';
CREATE VIEW referral_events AS
    SELECT id, posyandu, subject AS referral, date,
           json_extract(body_json, '$.status') AS status,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'referral_event';
CREATE VIEW notes AS
    SELECT id, posyandu, person, household, date,
           json_extract(body_json, '$.text') AS text,
           made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'note';
CREATE VIEW person_merges AS
    SELECT id, posyandu, person AS kept, subject AS merged, date, made_hlc, deleted
    FROM facts WHERE kind = 'person_merge';
"#;

/// Version 3: one pull cursor per scope, pulled changes of a newer body schema kept as
/// received, pulled changes refused for a kind mismatch, and device settings.
const V3: &str = r#"
CREATE TABLE pull_cursors (
    scope        TEXT PRIMARY KEY,
    cursor       TEXT NOT NULL,
    last_pull_ms INTEGER
) WITHOUT ROWID;
-- The one device-wide cursor of version 2 is kept only when every user with a known scope
-- shares one scope (then it was issued under it); otherwise each scope pulls again from the
-- start once (merging is idempotent), rather than a cursor of one scope skipping another's
-- changes.
INSERT INTO pull_cursors (scope, cursor, last_pull_ms)
SELECT json_extract(u.place, '$.level') || ':' || json_extract(u.place, '$.place'),
       d.pull_cursor, d.last_pull_ms
FROM device_state d,
     (SELECT DISTINCT place FROM users WHERE place IS NOT NULL AND json_valid(place)) u
WHERE d.pull_cursor IS NOT NULL
  AND json_extract(u.place, '$.level') IS NOT NULL
  AND json_extract(u.place, '$.place') IS NOT NULL
  AND (SELECT count(DISTINCT place) FROM users WHERE place IS NOT NULL) = 1;

-- Pulled changes whose body schema is newer than this app: stored as received, never merged
-- or re-written; their records show "update the app" and refuse local edits.
CREATE TABLE future_changes (
    device      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    record_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    schema      INTEGER NOT NULL,
    change_json TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (device, seq)
) WITHOUT ROWID;
CREATE INDEX future_changes_record ON future_changes(record_id);

-- Pulled changes this device could not apply (e.g. the record id is known with another
-- kind): kept for support, while the cursor moves on.
CREATE TABLE refused_pulls (
    device      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    record_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    change_json TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (device, seq)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// Version 4 (Tinjauan, issue #17): the likely-duplicate pairs the district server found
/// across posyandu (`GET /v1/records/duplicates`), kept as the last answer per place, and a
/// view of the `duplicate_dismissal` facts (stored with person = first, subject = second).
const V4: &str = r#"
CREATE TABLE server_duplicates (
    place           TEXT NOT NULL,
    first           TEXT NOT NULL,
    second          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    first_posyandu  TEXT,
    second_posyandu TEXT,
    found_at        INTEGER NOT NULL,
    fetched_ms      INTEGER NOT NULL,
    PRIMARY KEY (place, first, second)
) WITHOUT ROWID;

CREATE VIEW duplicate_dismissals AS
    SELECT id, posyandu, person AS first, subject AS second, date,
           json_extract(body_json, '$.note') AS note, made_hlc, author, deleted
    FROM facts WHERE kind = 'duplicate_dismissal';
"#;

/// Version 5 (issue #19): a first sync in bulk (`store/bulk.rs`). While a fresh tablet
/// applies its first pulled pages, the read tables' secondary indexes are dropped and each
/// is kept here with the statement that makes it again; the last page (or the next unlock,
/// after a cut) re-creates them in one pass, refills the name index and settles merges.
/// A row here means a bulk sync is under way or was cut.
const V5: &str = r#"
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// The fact kinds a due list reads, as `due_facts.kind` codes (`health/due_read.rs` maps them
/// back), and the body fields it keeps of each, as a JSON array in this order:
/// - 1 `measurement`: `type`, `value`, `position`, `oedema`;
/// - 2 `immunisation`: `vaccine`;
/// - 3 `visit`: `type`;
/// - 4 `anc_contact`: `pregnancy`;
/// - 5 `screening`: `instrument`, `answers`.
///
/// `$p` is the row's prefix (`NEW.` in a trigger, nothing in a fill). The values are the
/// body's JSON (`->`), so that `8.50`, `true` and objects come back as written; a field the
/// body lacks is `null`. A body that is not a JSON object gives NULL (the due read then
/// reads the fact's whole body, which fails as it always did).
macro_rules! due_columns {
    ($p:literal) => {
        concat!(
            $p,
            "person, ",
            $p,
            "date, ",
            $p,
            "rowid, ",
            "CASE ",
            $p,
            "kind WHEN 'measurement' THEN 1 WHEN 'immunisation' THEN 2
                 WHEN 'visit' THEN 3 WHEN 'anc_contact' THEN 4 ELSE 5 END, ",
            $p,
            "id, ",
            $p,
            "supersedes, ",
            "CASE WHEN json_valid(",
            $p,
            "body_json) AND json_type(",
            $p,
            "body_json) = 'object'
             THEN CASE ",
            $p,
            "kind
                WHEN 'measurement' THEN json_array(",
            $p,
            "body_json -> '$.type', ",
            $p,
            "body_json -> '$.value', ",
            $p,
            "body_json -> '$.position', ",
            $p,
            "body_json -> '$.oedema')
                WHEN 'immunisation' THEN json_array(",
            $p,
            "body_json -> '$.vaccine')
                WHEN 'visit' THEN json_array(",
            $p,
            "body_json -> '$.type')
                WHEN 'anc_contact' THEN json_array(",
            $p,
            "body_json -> '$.pregnancy')
                ELSE json_array(",
            $p,
            "body_json -> '$.instrument', ",
            $p,
            "body_json -> '$.answers')
             END END"
        )
    };
}

/// Whether a `facts` row (prefix `$p`) has a row in `due_facts`: a live fact of a due kind
/// saved under a person.
macro_rules! due_fact_where {
    ($p:literal) => {
        concat!(
            $p,
            "person IS NOT NULL AND ",
            $p,
            "deleted = 0 AND ",
            $p,
            "kind IN ('measurement', 'immunisation', 'visit', 'anc_contact', 'screening')"
        )
    };
}

/// Fills `due_facts` again from `facts` (one pass over the table in its own order, no sort:
/// the memory stays the page cache's). Also what a bulk first sync runs at its end
/// ([`refill_due_facts`]), the triggers being idle while it is under way.
macro_rules! due_facts_fill {
    () => {
        concat!(
            "DELETE FROM due_facts;
             INSERT INTO due_facts (person, date, seq, kind, id, supersedes, body)
             SELECT ",
            due_columns!(""),
            " FROM facts NOT INDEXED WHERE ",
            due_fact_where!(""),
            ";"
        )
    };
}

/// Fills `due_facts` again from `facts` when the table exists (a bulk first sync's end, which
/// may also run on a store not yet upgraded to it: `store/bulk.rs` `finish_if_cut`). Call
/// inside a transaction.
pub(crate) fn refill_due_facts(conn: &Connection) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'due_facts')",
        [],
        |r| r.get(0),
    )?;
    if exists {
        conn.execute_batch(due_facts_fill!())?;
    }
    Ok(())
}

/// Version 6 (issue 19, the due lists): what a due list reads of each fact, kept in
/// `due_facts` next to the person. A desa's due list read each planned child's facts from
/// the person index and the `facts` table, a table page (decrypted by SQLCipher) for a few
/// facts each, whole bodies and all; here a person's due facts are a few short rows together
/// (the kind as a code, only the body fields the plan reads: [`due_columns`]).
///
/// Kept by triggers in the transaction that writes the fact, whatever writes it (a pull, a
/// save, a re-stamp, an undo). A bulk first sync drops them with the indexes
/// (`store/bulk.rs`; while `deferred_indexes` has rows they would do nothing anyway), and its
/// end re-creates them and fills the table in one pass ([`refill_due_facts`]): written row
/// by row at scattered places, the table would cost a first sync what the dropped indexes
/// save.
///
/// `seq` is the fact's rowid when written: a day's facts in the order they were written.
///
/// Since V7 the rows are written by the code that writes the fact (`due_rows.rs`), not by
/// these triggers.
const V6: &str = concat!(
    "CREATE TABLE due_facts (
        person     TEXT NOT NULL,
        date       TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        kind       INTEGER NOT NULL,
        id         TEXT NOT NULL,
        supersedes TEXT,
        body       TEXT,
        PRIMARY KEY (person, date, seq)
    ) WITHOUT ROWID;
    CREATE TRIGGER due_facts_insert AFTER INSERT ON facts
    WHEN ",
    due_fact_where!("NEW."),
    " AND NOT EXISTS (SELECT 1 FROM deferred_indexes)
    BEGIN
        INSERT INTO due_facts (person, date, seq, kind, id, supersedes, body)
        VALUES (",
    due_columns!("NEW."),
    ");
    END;
    CREATE TRIGGER due_facts_update
    AFTER UPDATE OF id, kind, person, date, body_json, supersedes, deleted ON facts
    WHEN NOT EXISTS (SELECT 1 FROM deferred_indexes)
    BEGIN
        DELETE FROM due_facts WHERE person = OLD.person AND id = OLD.id;
        INSERT INTO due_facts (person, date, seq, kind, id, supersedes, body)
        SELECT ",
    due_columns!("NEW."),
    " WHERE ",
    due_fact_where!("NEW."),
    ";
    END;
    CREATE TRIGGER due_facts_delete AFTER DELETE ON facts
    WHEN OLD.person IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deferred_indexes)
    BEGIN
        DELETE FROM due_facts WHERE person = OLD.person AND id = OLD.id;
    END;
    ",
    due_facts_fill!()
);

/// Version 7 (issue 19): `due_facts` written by the code, not by triggers. The code that
/// writes a fact writes its `due_facts` row in the same transaction, from the body it has
/// already decoded (`due_rows.rs`); the triggers of V6 ran a sub-program and JSON functions
/// per written fact (a pull into a filled store cost 30 % more). The table and its rows stay.
/// A bulk first sync cut under V6 kept the triggers in `deferred_indexes`; the unlock
/// finishes it before the migrations (re-creating them, dropped here), and rows left there
/// are removed so that no later end of a bulk re-creates them.
const V7: &str = "
DROP TRIGGER IF EXISTS due_facts_insert;
DROP TRIGGER IF EXISTS due_facts_update;
DROP TRIGGER IF EXISTS due_facts_delete;
DELETE FROM deferred_indexes
    WHERE name IN ('due_facts_insert', 'due_facts_update', 'due_facts_delete');
";

/// Version 8: the field edits of known records that a bulk first sync defers
/// (`store/bulk.rs`). During a bulk, an edit of a record that an earlier page brought is
/// appended here (a rowid table: each page writes a leaf or two at its end) instead of being
/// inserted into `field_edits` under the record's key anywhere in that table, and the
/// record's read row is left as it is; the bulk's end (`bulk::finish`, in the last page's
/// transaction, or at the next unlock after a cut) inserts them into `field_edits` in key
/// order, refreshes each such record's read row once and empties the table. A row without a
/// `field` only marks its record for that refresh (a tombstone, stored in
/// `mutable_tombstones` as usual). Empty outside a bulk first sync.
const V8: &str = "
CREATE TABLE bulk_edits (
    record_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    field      TEXT,
    value_json TEXT,
    hlc        TEXT,
    device     TEXT,
    author     TEXT,
    base       TEXT
);
";

/// Version 9: the outbox's "sent through" mark. An outbox row numbered at or below
/// `device_state.sent_through` whose `state` is still `pending` was sent (accepted, or a
/// duplicate the server had): recording a push's answer moves the mark over the answered
/// run instead of rewriting each row (`outbox.rs`, `PENDING`). Rows rejected or marked
/// `sent` keep their state wherever they are.
const V9: &str = "
ALTER TABLE device_state ADD COLUMN sent_through INTEGER NOT NULL DEFAULT 0;
";

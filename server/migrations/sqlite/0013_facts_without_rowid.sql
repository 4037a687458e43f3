-- 0013: the read model's `facts` keyed by its id alone (`WITHOUT ROWID`). As a rowid table
-- keyed by a text id it was two B-trees (the rows by rowid, and the id's index) besides its
-- indexes: every fact a push merges wrote one more B-tree entry than it needs. No query
-- uses the rowid of `facts`. Rows, indexes and the view on it are kept as they were.
DROP VIEW posyandu_sessions;
CREATE TABLE facts_0013 (
    id          TEXT PRIMARY KEY,
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
) WITHOUT ROWID;
INSERT INTO facts_0013 (id, kind, posyandu, person, household, visit, session, subject, date,
        body_json, made_hlc, made_device, author, supersedes, deleted)
    SELECT id, kind, posyandu, person, household, visit, session, subject, date, body_json,
        made_hlc, made_device, author, supersedes, deleted
    FROM facts ORDER BY id;
DROP TABLE facts;
ALTER TABLE facts_0013 RENAME TO facts;
CREATE INDEX facts_person ON facts (person, date) WHERE person IS NOT NULL;
CREATE INDEX facts_kind_place ON facts (kind, posyandu, date);
CREATE INDEX facts_supersedes ON facts (supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX facts_subject ON facts (subject) WHERE subject IS NOT NULL;
CREATE VIEW posyandu_sessions AS
    SELECT id, posyandu, date, made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'posyandu_session';

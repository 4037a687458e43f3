-- 0005: the read model (docs/read-model.md). Every accepted change of the log merged by
-- sync_protocol::merge, as the tablets merge it, into read tables whose columns mirror the
-- device's (field-core/src/migrations.rs). Kept in the push's own transaction; rebuilt from
-- the log by `jangkau-server reindex`.

-- Where the read model stands: every change of the log with sseq <= applied_through (and not
-- quarantined) is merged in. `rebuilding` = 1 while a rebuild has not reached the end of the
-- log (a server starting with it set finishes the rebuild before answering). A database that
-- gets this migration with a log starts behind and is built at the next start.
CREATE TABLE read_model_state (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    applied_through BIGINT NOT NULL DEFAULT 0,
    rebuilding      BIGINT NOT NULL DEFAULT 1,
    updated_at      BIGINT
);
INSERT INTO read_model_state (id, applied_through, rebuilding)
VALUES (1, 0, CASE WHEN EXISTS (SELECT 1 FROM changes) THEN 1 ELSE 0 END);

-- The merge state of every record: sync_protocol's MutableRecord (every field edit with its
-- HLC, device, author and base; every tombstone) or FactRecord (the kept body and stamp, its
-- tombstones), as JSON. The read tables below are projections of it.
CREATE TABLE merged_records (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    state_json TEXT NOT NULL
);

CREATE TABLE households (
    id          TEXT PRIMARY KEY,
    posyandu    TEXT,
    kk_number   TEXT,
    head_name   TEXT,
    dusun       TEXT,
    rt          TEXT,
    rw          TEXT,
    deleted     BIGINT NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX households_posyandu ON households (posyandu);

CREATE TABLE persons (
    id                   TEXT PRIMARY KEY,
    posyandu             TEXT,
    household            TEXT,
    name                 TEXT,
    sex                  TEXT,
    birth_date           TEXT,
    birth_date_estimated BIGINT NOT NULL DEFAULT 0,
    nik                  TEXT,
    mother               TEXT,
    status               TEXT NOT NULL DEFAULT 'active',
    deleted              BIGINT NOT NULL DEFAULT 0,
    values_json          TEXT NOT NULL,
    updated_hlc          TEXT NOT NULL
);
CREATE INDEX persons_posyandu ON persons (posyandu, birth_date);
CREATE INDEX persons_household ON persons (household) WHERE household IS NOT NULL;

CREATE TABLE pregnancies (
    id          TEXT PRIMARY KEY,
    posyandu    TEXT,
    person      TEXT,
    hpht        TEXT,
    status      TEXT,
    deleted     BIGINT NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX pregnancies_person ON pregnancies (person);
CREATE INDEX pregnancies_posyandu ON pregnancies (posyandu);

-- `made_hlc`: the earliest edit of the referral (when it was made), for its age.
CREATE TABLE referrals (
    id          TEXT PRIMARY KEY,
    posyandu    TEXT,
    person      TEXT,
    status      TEXT,
    visit       TEXT,
    deleted     BIGINT NOT NULL DEFAULT 0,
    values_json TEXT NOT NULL,
    updated_hlc TEXT NOT NULL,
    made_hlc    TEXT NOT NULL
);
CREATE INDEX referrals_posyandu ON referrals (posyandu, status);
CREATE INDEX referrals_person ON referrals (person);

-- Facts: the body every replica keeps (the smallest (hlc, device)), hidden by tombstones,
-- corrected by `supersedes`. `subject` as on the device: the pregnancy of an ANC contact,
-- the referral of a referral event, the merged person of a person merge, the record of a
-- conflict review. `date`: the body's date, else the WITA date of the stamp.
CREATE TABLE facts (
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
    deleted     BIGINT NOT NULL DEFAULT 0
);
-- Partial where the column is often empty: a push writes fewer index entries.
CREATE INDEX facts_person ON facts (person, date) WHERE person IS NOT NULL;
CREATE INDEX facts_kind_place ON facts (kind, posyandu, date);
CREATE INDEX facts_supersedes ON facts (supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX facts_subject ON facts (subject) WHERE subject IS NOT NULL;

CREATE VIEW posyandu_sessions AS
    SELECT id, posyandu, date, made_hlc, supersedes, deleted
    FROM facts WHERE kind = 'posyandu_session';

-- Losing edits kept for review (MutableRecord::conflicts), per record.
CREATE TABLE conflicts (
    record_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    field         TEXT NOT NULL,
    winner_hlc    TEXT,
    loser_hlc     TEXT NOT NULL,
    loser_device  TEXT NOT NULL,
    conflict_json TEXT NOT NULL,
    PRIMARY KEY (record_id, field, loser_hlc, loser_device)
);

-- What each device told of itself beyond `devices` (last push = devices.last_sync_at, last
-- contact = devices.last_seen_at, app version = devices.app_version): the last outbox
-- sequence number it reported at a status with changes waiting (waiting = reported_seq -
-- acked_seq), and its last completed pull.
CREATE TABLE device_sync (
    device_id    TEXT PRIMARY KEY,
    reported_seq BIGINT NOT NULL DEFAULT 0,
    reported_at  BIGINT,
    last_pull_at BIGINT
);

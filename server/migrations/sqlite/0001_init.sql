-- 0001: places, accounts, devices, sessions, the change log.
CREATE TABLE places (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    level  TEXT NOT NULL,
    parent TEXT
);
-- Closure of the hierarchy: every (ancestor, descendant) pair, including (p, p).
CREATE TABLE place_tree (
    ancestor TEXT NOT NULL,
    code     TEXT NOT NULL,
    PRIMARY KEY (ancestor, code)
) WITHOUT ROWID;
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    scope_level  TEXT NOT NULL,
    scope_place  TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    disabled_at  INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE TABLE enrol_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  TEXT
);
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    enrolled_at  INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_seen_at INTEGER,
    last_sync_at INTEGER,
    app_version  TEXT NOT NULL,
    acked_seq    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL REFERENCES devices (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
-- Every settled (device, seq): the hash of its content and, when refused, the rejection.
CREATE TABLE settled (
    device_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    rejection TEXT,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
-- What the server knows of each record: kind, posyandu, and a fact's content hash.
CREATE TABLE records (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    posyandu  TEXT NOT NULL,
    fact_hash BLOB
) WITHOUT ROWID;
-- The change log; sseq is the pull cursor.
CREATE TABLE changes (
    sseq        INTEGER PRIMARY KEY AUTOINCREMENT,
    posyandu    TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX changes_by_posyandu ON changes (posyandu, sseq);

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
);
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    scope_level  TEXT NOT NULL,
    scope_place  TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    disabled_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE TABLE enrol_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    device_id  TEXT
);
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    enrolled_at  BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_seen_at BIGINT,
    last_sync_at BIGINT,
    app_version  TEXT NOT NULL,
    acked_seq    BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    device_id  TEXT NOT NULL REFERENCES devices (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Every settled (device, seq): the hash of its content and, when refused, the rejection.
CREATE TABLE settled (
    device_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL,
    rejection TEXT,
    PRIMARY KEY (device_id, seq)
);
-- What the server knows of each record: kind, posyandu, and a fact's content hash.
CREATE TABLE records (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    posyandu  TEXT NOT NULL,
    fact_hash BYTEA
);
-- The change log; sseq is the pull cursor.
CREATE TABLE changes (
    sseq        BIGSERIAL PRIMARY KEY,
    posyandu    TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX changes_by_posyandu ON changes (posyandu, sseq);

-- 0007: the web dashboard (Dasbor, server/src/web/): browser sessions, the audit log of
-- admin actions taken on the web, and since when a puskesmas runs ILP.
-- A browser session: the cookie's token only as its SHA-256, the CSRF token every form
-- carries, and when it ends. A session belongs to a user, not a device.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
-- Every admin action taken in the dashboard: who, what, on which object, in which place.
CREATE TABLE audit_log (
    at        BIGINT NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    place     TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
-- The ILP rollout: since when a puskesmas (or any place) runs ILP (YYYY-MM-DD); a place
-- without a row does not run it yet. Written by the places CSV's optional ilp_since column.
CREATE TABLE place_ilp (
    code  TEXT PRIMARY KEY,
    since TEXT NOT NULL
);

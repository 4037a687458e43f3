-- 0006: titip (sync through another tablet or a file, docs/sync-protocol.md section 10).
-- The server's titip key pair (X25519 secret and Ed25519 seed, 64 bytes), made at the first
-- start and kept in the database: every server process of the district opens the same
-- bundles, and a backup keeps it (a lost key would make every carried bundle unreadable).
CREATE TABLE titip_server_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
-- Each device's titip public keys, registered at enrolment (unpadded base64url), and when a
-- bundle of it last reached the server through a carrier.
ALTER TABLE devices ADD COLUMN titip_box TEXT;
ALTER TABLE devices ADD COLUMN titip_sign TEXT;
ALTER TABLE devices ADD COLUMN last_relay_at INTEGER;
-- Every refused bundle: which device it named, which device carried it, and why.
CREATE TABLE titip_refusals (
    at             INTEGER NOT NULL,
    device_id      TEXT,
    carrier_device TEXT NOT NULL,
    reason         TEXT NOT NULL
);

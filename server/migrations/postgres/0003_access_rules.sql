-- 0003: what the access rules need (docs/sync-protocol.md §5).
-- Each login of a user on a device, with the device's HLC at that login (16 hex digits, so
-- text order is time order): on a shared tablet, a change of another author is accepted
-- only when stamped while that author was the one logged in.
CREATE TABLE device_logins (
    n         BIGSERIAL PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    hlc       TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX device_logins_by_device ON device_logins (device_id, n);
-- Logins before this migration: their sessions, with the server's clock for the HLC.
INSERT INTO device_logins (device_id, user_id, hlc, at)
SELECT device_id, user_id, lpad(to_hex(created_at), 12, '0') || '0000', created_at
FROM sessions ORDER BY created_at;
-- The deletion rules: who created a record (its role), and a referral's furthest status.
ALTER TABLE records ADD COLUMN creator_role TEXT;
ALTER TABLE records ADD COLUMN status TEXT;
CREATE TEMP TABLE first_change ON COMMIT DROP AS
SELECT payload::json ->> 'id' AS id, MIN(sseq) AS sseq FROM changes GROUP BY 1;
CREATE INDEX ON first_change (id);
UPDATE records SET creator_role = u.role
FROM first_change f
JOIN changes c ON c.sseq = f.sseq
JOIN users u ON u.id = c.payload::json ->> 'author'
WHERE f.id = records.id;
CREATE TEMP TABLE referral_rank ON COMMIT DROP AS
SELECT payload::json ->> 'id' AS id,
       MAX(CASE payload::json -> 'body' ->> 'status'
           WHEN 'made' THEN 1 WHEN 'received' THEN 2 WHEN 'done' THEN 3 END) AS r
FROM changes
WHERE payload::json ->> 'kind' IN ('referral', 'referral_event')
GROUP BY 1;
UPDATE records SET status = CASE q.r WHEN 1 THEN 'made' WHEN 2 THEN 'received' WHEN 3 THEN 'done' END
FROM referral_rank q
WHERE q.id = records.id AND records.kind IN ('referral', 'referral_event');

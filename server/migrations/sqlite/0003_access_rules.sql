-- 0003: what the access rules need (docs/sync-protocol.md §5).
-- Each login of a user on a device, with the device's HLC at that login (16 hex digits, so
-- text order is time order): on a shared tablet, a change of another author is accepted
-- only when stamped while that author was the one logged in.
CREATE TABLE device_logins (
    n         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES devices (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    hlc       TEXT NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX device_logins_by_device ON device_logins (device_id, n);
-- Logins before this migration: their sessions, with the server's clock for the HLC.
INSERT INTO device_logins (device_id, user_id, hlc, at)
SELECT device_id, user_id, printf('%012x0000', created_at), created_at FROM sessions
ORDER BY created_at;
-- The deletion rules: who created a record (its role), and a referral's furthest status.
ALTER TABLE records ADD COLUMN creator_role TEXT;
ALTER TABLE records ADD COLUMN status TEXT;
CREATE TEMP TABLE first_change AS
SELECT json_extract(payload, '$.id') AS id, MIN(sseq) AS sseq FROM changes GROUP BY 1;
CREATE INDEX temp.first_change_by_id ON first_change (id);
UPDATE records SET creator_role = (
    SELECT u.role FROM first_change f
    JOIN changes c ON c.sseq = f.sseq
    JOIN users u ON u.id = json_extract(c.payload, '$.author')
    WHERE f.id = records.id
);
CREATE TEMP TABLE referral_rank AS
SELECT json_extract(payload, '$.id') AS id,
       MAX(CASE json_extract(payload, '$.body.status')
           WHEN 'made' THEN 1 WHEN 'received' THEN 2 WHEN 'done' THEN 3 END) AS r
FROM changes
WHERE json_extract(payload, '$.kind') IN ('referral', 'referral_event')
GROUP BY 1;
UPDATE records SET status = (
    SELECT CASE r WHEN 1 THEN 'made' WHEN 2 THEN 'received' WHEN 3 THEN 'done' END
    FROM referral_rank WHERE referral_rank.id = records.id
) WHERE kind IN ('referral', 'referral_event');
DROP TABLE first_change;
DROP TABLE referral_rank;

-- 0004: quarantined changes. A quarantined change stays in the log (and settled for its
-- device) but is no longer served by pull or counted by status; an admin sets and clears
-- it (`jangkau-server change quarantine|release`), and every such action is kept below.
ALTER TABLE changes ADD COLUMN quarantined_at BIGINT;
ALTER TABLE changes ADD COLUMN quarantine_reason TEXT;
CREATE TABLE change_quarantine_log (
    at     BIGINT NOT NULL,
    sseq   BIGINT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT
);

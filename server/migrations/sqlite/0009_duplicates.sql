-- 0009: the server's duplicate finder (issue 17, docs/read-model.md "Likely duplicates").
-- When a person was first recorded: the earliest stamp (HLC) of the person's edits, as
-- `referrals.made_hlc` is for a referral. A pair of likely duplicates is dated by the later
-- of its two persons' `made_hlc` (`found_at`): when the pair first existed, the same on
-- every server and after every rebuild.
ALTER TABLE persons ADD COLUMN made_hlc TEXT;
-- The duplicate finder's blocking reads (NIK; birth date) within a place.
CREATE INDEX persons_nik ON persons (nik) WHERE nik IS NOT NULL;
-- Persons merged before this migration have no `made_hlc`: merge the log again (the
-- rebuild `serve` runs before answering; merging is idempotent, so the rows are rewritten
-- in place). A database without persons has nothing to redo.
UPDATE read_model_state SET applied_through = 0, rebuilding = 1
WHERE id = 1 AND EXISTS (SELECT 1 FROM persons);

-- 0012: the health-report questions asked (a report kind, a place, its period), with when
-- they were last asked. A server that starts computes the per-posyandu parts of the recent
-- ones in the background (`readmodel/warm.rs`), so the first request after a restart does
-- not compute the whole kabupaten. Computed values are not stored: only the questions.
CREATE TABLE report_questions (
    question TEXT PRIMARY KEY,
    asked_at BIGINT NOT NULL
);

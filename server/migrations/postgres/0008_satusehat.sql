-- 0008: SATUSEHAT submission (issue 15; server/src/satusehat/, docs/fhir.md "Submission
-- worker").
-- A health worker's NIK (16 digits, health_rules::identity) for a user account: the worker
-- looks the Practitioner up by it and names them as the performer. Nullable: unknown.
ALTER TABLE users ADD COLUMN nik TEXT;
-- One row per resource the worker sends (or looked up): keyed by the local record id (the
-- first record of a correction chain, so a correction updates the resource sent before; a
-- person id for a Patient, a user id for a Practitioner) and the resource type. remote_id is
-- the platform's id (the IHS number of a Patient); content_hash the SHA-256 of the content
-- last sent or tried; status 'sent', 'waiting' (a retry at next_attempt_at, ms) or
-- 'refused' (outcome: the platform's OperationOutcome JSON; tried again only when the
-- content changes).
CREATE TABLE satusehat_resources (
    record_id       TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    posyandu        TEXT NOT NULL,
    remote_id       TEXT,
    version_id      TEXT,
    content_hash    TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    outcome         TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (record_id, resource_type)
);
CREATE INDEX satusehat_resources_status ON satusehat_resources (status, posyandu);

-- One durable job queue for everything slow that happens after a request: mail today, document
-- batches next. A job is written in the transaction of the change that asks for it, claimed by
-- one worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the one writer), retried
-- with back-off, and taken up again when the worker holding it died (its lease ran out).
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    -- What runs it, e.g. 'mail'.
    kind            TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 50),
    -- The job's input as JSON. A handler may replace it when done (mail erases its body).
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
    -- Tries so far (a try that was taken up again after a crash counts too).
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    INTEGER NOT NULL CHECK (max_attempts >= 1),
    -- Not before this instant (the first run, or the next try after a failure).
    run_after       TEXT NOT NULL,
    -- A RUNNING job whose lease has run out belongs to a worker that died.
    lease_until     TEXT,
    worker          TEXT,
    -- Progress for the people waiting (pages rendered of pages to render).
    progress_done   BIGINT NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    progress_total  BIGINT CHECK (progress_total IS NULL OR progress_total >= 0),
    last_error      TEXT,
    -- What the job produced, as JSON (e.g. the id of a generated file).
    result          TEXT,
    -- What the job concerns, for lookups: a mail's recipient, a document job's organisation.
    reference       TEXT,
    organization_id TEXT REFERENCES organizations (id),
    created_by      TEXT REFERENCES users (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
-- The claim: due queued jobs and expired leases, oldest first.
CREATE INDEX jobs_due ON jobs (status, run_after);
CREATE INDEX jobs_reference ON jobs (kind, reference, created_at);
CREATE INDEX jobs_organization ON jobs (organization_id, created_at);

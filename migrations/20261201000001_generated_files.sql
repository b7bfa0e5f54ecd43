-- Files the server generates (questionnaire batches; billing summaries next), kept in the
-- database so that every instance can serve them behind a signed, expiring link.
-- BYTEA: PostgreSQL's byte string; SQLite stores the blob as given.
CREATE TABLE generated_files (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    -- The job that made it, and its place among that job's files (1, 2, …).
    job_id           TEXT REFERENCES jobs (id),
    part             INTEGER NOT NULL DEFAULT 1 CHECK (part >= 1),
    file_name        TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type     TEXT NOT NULL,
    byte_size        BIGINT NOT NULL CHECK (byte_size >= 0),
    -- Hex SHA-256 of the content, shown so that a download can be checked.
    sha256           TEXT NOT NULL,
    -- How many pages or rows it holds (a questionnaire batch: one page per person).
    items            INTEGER NOT NULL DEFAULT 0 CHECK (items >= 0),
    content          BYTEA NOT NULL,
    created_at       TEXT NOT NULL,
    -- Documents with personal data (questionnaires, claims) are deleted after this instant;
    -- NULL keeps the file (a knowledge attachment).
    delete_after     TEXT,
    UNIQUE (job_id, part)
);
CREATE INDEX generated_files_organization ON generated_files (organization_id, created_at);
CREATE INDEX generated_files_delete_after ON generated_files (delete_after);

-- The coupon ledger (接種券): the numbers a municipality issued, to whom, and what became of
-- them. A questionnaire printed with a coupon draws its number here.
CREATE TABLE coupons (
    id               TEXT PRIMARY KEY,
    municipality_id  TEXT NOT NULL REFERENCES organizations (id),
    -- 10 digits, unique within the municipality.
    number           TEXT NOT NULL CHECK (length(number) = 10),
    -- Who holds it: a questionnaire recipient, or the municipality's own resident reference.
    resident_reference TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('ISSUED', 'USED', 'INVALIDATED')),
    issued_at        TEXT NOT NULL,
    invalidated_at   TEXT,
    UNIQUE (municipality_id, number)
);
CREATE INDEX coupons_resident ON coupons (resident_reference);

-- The last coupon number handed out per municipality: reserving a run of numbers is one
-- upsert, safe under concurrent requests on both databases.
CREATE TABLE coupon_sequences (
    municipality_id  TEXT PRIMARY KEY REFERENCES organizations (id),
    last_number      BIGINT NOT NULL CHECK (last_number >= 0)
);

-- Which questionnaire job prints a person, the coupon on the sheet and the file it went into.
ALTER TABLE questionnaire_recipients ADD COLUMN job_id TEXT REFERENCES jobs (id);
ALTER TABLE questionnaire_recipients ADD COLUMN coupon_id TEXT REFERENCES coupons (id);
ALTER TABLE questionnaire_recipients ADD COLUMN file_id TEXT REFERENCES generated_files (id);
CREATE INDEX questionnaire_recipients_job ON questionnaire_recipients (job_id, printed_at);

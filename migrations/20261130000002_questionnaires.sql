-- People to be vaccinated first (healthcare workers), for whom a pre-screening questionnaire
-- with its coupon is printed (接種券付き予診票, seed pp. 17–21). A facility, medical association,
-- prefecture or municipality imports them from a CSV of at most 1,000 people; every import is
-- kept with its counts.
CREATE TABLE questionnaire_imports (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id),
    file_name           TEXT,
    imported            INTEGER NOT NULL CHECK (imported BETWEEN 1 AND 1000),
    skipped_empty_rows  INTEGER NOT NULL CHECK (skipped_empty_rows >= 0),
    created_by          TEXT NOT NULL REFERENCES users (id),
    created_at          TEXT NOT NULL
);
CREATE INDEX questionnaire_imports_organization ON questionnaire_imports (organization_id, created_at);

CREATE TABLE questionnaire_recipients (
    id               TEXT PRIMARY KEY,
    import_id        TEXT NOT NULL REFERENCES questionnaire_imports (id),
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    -- The line of the file it came from.
    line             INTEGER NOT NULL CHECK (line >= 2),
    -- As written in the file: printed literally, never interpreted (no formula, no markup).
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_kana        TEXT NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 100),
    birth_date       TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('MALE', 'FEMALE')),
    -- The address as on the resident register: the prefecture, then the municipality.
    prefecture_id    TEXT NOT NULL REFERENCES organizations (id),
    municipality_id  TEXT NOT NULL REFERENCES organizations (id),
    worker_category  TEXT NOT NULL CHECK (length(worker_category) BETWEEN 1 AND 50),
    workplace        TEXT NOT NULL CHECK (length(workplace) BETWEEN 1 AND 200),
    -- When its questionnaire was first printed (NULL: not yet).
    printed_at       TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX questionnaire_recipients_organization ON questionnaire_recipients (organization_id, printed_at);
CREATE INDEX questionnaire_recipients_import ON questionnaire_recipients (import_id, line);

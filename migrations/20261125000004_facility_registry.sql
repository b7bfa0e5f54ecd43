-- Facility registry (functions 1 and 2): facility details, vaccination contracts, doctors, and
-- change requests that the facility's municipality approves (seed pp. 27–28).

ALTER TABLE facilities ADD COLUMN representative_name TEXT CHECK (representative_name IS NULL OR length(representative_name) <= 100);
-- JSON array of vaccine product codes, e.g. ["PFIZER"].
ALTER TABLE facilities ADD COLUMN vaccines_handled TEXT NOT NULL DEFAULT '[]';
ALTER TABLE facilities ADD COLUMN general_acceptance INTEGER NOT NULL DEFAULT 0 CHECK (general_acceptance IN (0, 1));
ALTER TABLE facilities ADD COLUMN proxy_input INTEGER NOT NULL DEFAULT 0 CHECK (proxy_input IN (0, 1));
ALTER TABLE facilities ADD COLUMN weekly_capacity BIGINT CHECK (weekly_capacity IS NULL OR weekly_capacity BETWEEN 0 AND 1000000);
ALTER TABLE facilities ADD COLUMN opening_hours TEXT CHECK (opening_hours IS NULL OR length(opening_hours) <= 500);
ALTER TABLE facilities ADD COLUMN parking_notes TEXT CHECK (parking_notes IS NULL OR length(parking_notes) <= 500);
ALTER TABLE facilities ADD COLUMN access_notes TEXT CHECK (access_notes IS NULL OR length(access_notes) <= 500);
ALTER TABLE facilities ADD COLUMN basic_facility_name TEXT CHECK (basic_facility_name IS NULL OR length(basic_facility_name) <= 200);

-- A facility's vaccination contract: individual, or collective through an aggregator.
CREATE TABLE contracts (
    id              TEXT PRIMARY KEY,
    facility_id     TEXT NOT NULL REFERENCES organizations (id),
    kind            TEXT NOT NULL CHECK (kind IN ('INDIVIDUAL', 'COLLECTIVE')),
    aggregator_id   TEXT REFERENCES organizations (id),
    join_date       TEXT NOT NULL CHECK (length(join_date) = 10),
    withdrawal_date TEXT CHECK (withdrawal_date IS NULL OR length(withdrawal_date) = 10),
    created_by      TEXT REFERENCES users (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (kind = 'INDIVIDUAL' OR aggregator_id IS NOT NULL),
    CHECK (withdrawal_date IS NULL OR withdrawal_date >= join_date)
);
CREATE INDEX contracts_facility ON contracts (facility_id);
CREATE INDEX contracts_aggregator ON contracts (aggregator_id);

-- Doctors of a facility; one person may be both responsible and vaccinating.
CREATE TABLE doctors (
    id             TEXT PRIMARY KEY,
    facility_id    TEXT NOT NULL REFERENCES organizations (id),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    licence_number TEXT NOT NULL CHECK (length(licence_number) = 6),
    is_responsible INTEGER NOT NULL CHECK (is_responsible IN (0, 1)),
    is_vaccinating INTEGER NOT NULL CHECK (is_vaccinating IN (0, 1)),
    created_at     TEXT NOT NULL,
    UNIQUE (facility_id, licence_number),
    CHECK (is_responsible = 1 OR is_vaccinating = 1)
);

-- Changes to the approval fields wait here for the municipality's decision.
CREATE TABLE facility_change_requests (
    id               TEXT PRIMARY KEY,
    facility_id      TEXT NOT NULL REFERENCES organizations (id),
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    -- JSON objects keyed by field: the values before and the requested values after.
    before_values    TEXT NOT NULL,
    after_values     TEXT NOT NULL,
    requested_by     TEXT NOT NULL REFERENCES users (id),
    -- Every user who filed or amended the request (JSON array): none of them may decide it.
    contributors     TEXT NOT NULL DEFAULT '[]',
    -- Set when a municipality entered the change for the facility (代行入力).
    proxy_organization_id TEXT REFERENCES organizations (id),
    requested_at     TEXT NOT NULL,
    decided_by       TEXT REFERENCES users (id),
    decided_at       TEXT,
    rejection_reason TEXT,
    version          BIGINT NOT NULL DEFAULT 1,
    CHECK (status <> 'REJECTED' OR (rejection_reason IS NOT NULL AND length(rejection_reason) > 0)),
    CHECK (status = 'PENDING' OR decided_by IS NOT NULL)
);
-- One open request per facility.
CREATE UNIQUE INDEX facility_change_requests_one_open ON facility_change_requests (facility_id) WHERE status = 'PENDING';
CREATE INDEX facility_change_requests_facility ON facility_change_requests (facility_id, requested_at);

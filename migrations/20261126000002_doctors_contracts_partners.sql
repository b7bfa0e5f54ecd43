-- Doctors corrected and withdrawn, contracts with their counterpart, the powers of attorney an
-- aggregator receives, and the wholesaler that delivers to a facility (issue 7, slice B).

-- A doctor stays on record after withdrawal (the audit log and past eligibility refer to it);
-- from this date on (YYYY-MM-DD) the doctor no longer counts for eligibility.
ALTER TABLE doctors ADD COLUMN withdrawal_date TEXT CHECK (withdrawal_date IS NULL OR length(withdrawal_date) = 10);
ALTER TABLE doctors ADD COLUMN updated_at TEXT;

-- An individual contract is made with one municipality (its counterpart); a collective one
-- through the aggregator, so it names none.
ALTER TABLE contracts ADD COLUMN counterpart_municipality_id TEXT REFERENCES organizations (id);
CREATE INDEX contracts_counterpart ON contracts (counterpart_municipality_id);

-- Powers of attorney (委任状) that an aggregator received from member facilities (seed p. 46,
-- 委任状受領管理): one record per aggregator and facility, its status kept current.
CREATE TABLE powers_of_attorney (
    id             TEXT PRIMARY KEY,
    aggregator_id  TEXT NOT NULL REFERENCES organizations (id),
    facility_id    TEXT NOT NULL REFERENCES organizations (id),
    received_date  TEXT NOT NULL CHECK (length(received_date) = 10),
    status         TEXT NOT NULL CHECK (status IN ('RECEIVED', 'DEFICIENT', 'REVOKED')),
    note           TEXT CHECK (note IS NULL OR length(note) <= 500),
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    UNIQUE (aggregator_id, facility_id)
);

-- The wholesaler delivering to a facility (an approval-free field).
ALTER TABLE facilities ADD COLUMN delivering_wholesaler_id TEXT REFERENCES organizations (id);
CREATE INDEX facilities_delivering_wholesaler ON facilities (delivering_wholesaler_id);

-- Vaccination and stock reports (domain.md §7, seed p. 42). A facility reports cumulative
-- figures; every report is kept as a history row and the latest per key is the current one.
-- Stock on hand = delivered − administered − wasted ± transfers: the stock ledger V-SYS lacked.

CREATE TABLE vaccination_reports (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    dose_number INTEGER NOT NULL CHECK (dose_number BETWEEN 1 AND 10),
    recipient_category TEXT NOT NULL CHECK (recipient_category IN (
        'HEALTHCARE_WORKER', 'ELDERLY', 'UNDERLYING_CONDITION', 'GENERAL', 'CHILD')),
    -- Cumulative doses administered up to reported_on.
    administered BIGINT NOT NULL CHECK (administered >= 0),
    reported_on TEXT NOT NULL,
    -- 1 when the figure is lower than the previous one, entered as an explicit correction.
    correction INTEGER NOT NULL DEFAULT 0 CHECK (correction IN (0, 1)),
    reported_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX vaccination_reports_key ON vaccination_reports
    (facility_id, product_id, dose_number, recipient_category, created_at);

CREATE TABLE waste_reports (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    -- Cumulative doses wasted up to reported_on, and why the latest ones were.
    wasted BIGINT NOT NULL CHECK (wasted >= 0),
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 500),
    reported_on TEXT NOT NULL,
    correction INTEGER NOT NULL DEFAULT 0 CHECK (correction IN (0, 1)),
    reported_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX waste_reports_key ON waste_reports (facility_id, product_id, created_at);

-- Doses moved between facilities, e.g. from a basic-type facility to its satellite.
CREATE TABLE stock_transfers (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    from_facility_id TEXT NOT NULL REFERENCES organizations (id),
    to_facility_id TEXT NOT NULL REFERENCES organizations (id),
    doses BIGINT NOT NULL CHECK (doses > 0),
    transferred_on TEXT NOT NULL,
    note TEXT CHECK (note IS NULL OR length(note) <= 500),
    recorded_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    CHECK (from_facility_id <> to_facility_id)
);
CREATE INDEX stock_transfers_from ON stock_transfers (from_facility_id, product_id);
CREATE INDEX stock_transfers_to ON stock_transfers (to_facility_id, product_id);

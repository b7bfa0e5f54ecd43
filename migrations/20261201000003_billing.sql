-- Billing (function 7, 費用請求): what a facility claims for the vaccinations it performed, per
-- month, from the municipality that pays — the recipient's home, as printed on the coupon.

-- Whether a booked resident came (recordAttendance, by the facility): vaccinated, screened but
-- not vaccinated (予診のみ), or did not come; with the fee add-ons that applied.
ALTER TABLE reservations ADD COLUMN attendance TEXT
    CHECK (attendance IS NULL OR attendance IN ('VACCINATED', 'SCREENED_ONLY', 'NOT_ATTENDED'));
ALTER TABLE reservations ADD COLUMN attended_at TEXT;
ALTER TABLE reservations ADD COLUMN recipient_category TEXT;
ALTER TABLE reservations ADD COLUMN out_of_hours INTEGER NOT NULL DEFAULT 0 CHECK (out_of_hours IN (0, 1));
ALTER TABLE reservations ADD COLUMN on_holiday INTEGER NOT NULL DEFAULT 0 CHECK (on_holiday IN (0, 1));

-- The fee table, per period: the row with the latest valid_from on or before a month's first
-- day applies to that month. Yen, tax excluded.
CREATE TABLE billing_fee_tables (
    valid_from       TEXT PRIMARY KEY,
    vaccination      BIGINT NOT NULL CHECK (vaccination >= 0),
    screening_only   BIGINT NOT NULL CHECK (screening_only >= 0),
    under_six        BIGINT NOT NULL CHECK (under_six >= 0),
    out_of_hours     BIGINT NOT NULL CHECK (out_of_hours >= 0),
    holiday          BIGINT NOT NULL CHECK (holiday >= 0),
    created_by       TEXT REFERENCES users (id),
    created_at       TEXT NOT NULL
);
-- The 2021 fees (domain.md §10): vaccination 2,070, pre-screening only 1,540, under six 660,
-- out of hours 730, holidays 2,130; from the start of vaccination, 17 February 2021.
INSERT INTO billing_fee_tables (valid_from, vaccination, screening_only, under_six, out_of_hours,
    holiday, created_at)
VALUES ('2021-02-17', 2070, 1540, 660, 730, 2130, '2021-02-17T00:00:00.000Z');

-- A municipality that entrusts its in-area claims to the prefecture's national health
-- insurance federation (国保連) instead of receiving them directly.
ALTER TABLE organizations ADD COLUMN claims_via_federation INTEGER NOT NULL DEFAULT 0
    CHECK (claims_via_federation IN (0, 1));

-- A facility's claim for one month: a draft until submitted; due by the 10th of the next month.
CREATE TABLE billing_claims (
    id            TEXT PRIMARY KEY,
    facility_id   TEXT NOT NULL REFERENCES organizations (id),
    month         TEXT NOT NULL CHECK (length(month) = 7),
    status        TEXT NOT NULL CHECK (status IN ('DRAFT', 'SUBMITTED')),
    submitted_at  TEXT,
    submitted_by  TEXT REFERENCES users (id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    UNIQUE (facility_id, month)
);

-- Its lines: counts per paying municipality and recipient category.
CREATE TABLE billing_claim_lines (
    claim_id               TEXT NOT NULL REFERENCES billing_claims (id),
    paying_municipality_id TEXT NOT NULL REFERENCES organizations (id),
    category               TEXT NOT NULL,
    vaccinations           BIGINT NOT NULL CHECK (vaccinations >= 0),
    screenings_only        BIGINT NOT NULL CHECK (screenings_only >= 0),
    under_six              BIGINT NOT NULL CHECK (under_six >= 0),
    out_of_hours           BIGINT NOT NULL CHECK (out_of_hours >= 0),
    holidays               BIGINT NOT NULL CHECK (holidays >= 0),
    PRIMARY KEY (claim_id, paying_municipality_id, category)
);

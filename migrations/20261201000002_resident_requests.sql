-- Residents' requests to a municipality (function 8): out-of-area vaccination notifications
-- (住所地外接種の届出) and coupon reissue requests (クーポン券再発行依頼). Submitted by the
-- resident without an account, or by a facility for them; decided by the municipality.
CREATE TABLE resident_requests (
    id                       TEXT PRIMARY KEY,
    kind                     TEXT NOT NULL CHECK (kind IN ('OUT_OF_AREA', 'COUPON_REISSUE')),
    status                   TEXT NOT NULL CHECK (status IN ('SUBMITTED', 'ACCEPTED', 'RETURNED')),
    -- Who decides: where the vaccination will take place (out-of-area), or the coupon's
    -- municipality (reissue).
    municipality_id          TEXT NOT NULL REFERENCES organizations (id),
    -- The coupon the request concerns: its municipality (the resident's home) and number.
    coupon_municipality_id   TEXT NOT NULL REFERENCES organizations (id),
    coupon_number            TEXT NOT NULL CHECK (length(coupon_number) = 10),
    name                     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_kana                TEXT NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 100),
    birth_date               TEXT NOT NULL,
    phone                    TEXT NOT NULL,
    -- Why: a stay away from home, a hospital stay, a lost coupon …
    reason                   TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    -- A facility that submitted it for the resident, and the user who did.
    submitted_by_facility_id TEXT REFERENCES organizations (id),
    submitted_by             TEXT REFERENCES users (id),
    -- The decision; a returned request says why.
    decision_reason          TEXT,
    decided_by               TEXT REFERENCES users (id),
    decided_at               TEXT,
    -- An approved reissue: the coupon issued in place of the old one.
    new_coupon_id            TEXT REFERENCES coupons (id),
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    version                  BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1)
);
-- The municipality's queue, and the requests of one coupon.
CREATE INDEX resident_requests_queue ON resident_requests (municipality_id, status, created_at);
CREATE INDEX resident_requests_coupon ON resident_requests (coupon_municipality_id, coupon_number, kind, status);

-- Municipalities that keep a coupon ledger: they registered the coupons they issued, and a
-- booking with a number not in it is refused. (Coupons drawn by a questionnaire print run or a
-- reissue do not make a ledger complete, so they do not switch this on.)
CREATE TABLE coupon_ledgers (
    municipality_id  TEXT PRIMARY KEY REFERENCES organizations (id),
    since            TEXT NOT NULL
);

-- Reservations (domain.md §6, seed pp. 39–40): a municipality's booking call centre, how each
-- venue takes bookings, reservation slots, bookings by coupon, and idempotent retries.
-- Portable SQL (SQLite and PostgreSQL).

-- A new role, the municipality's booking call centre (市町村（予約受付コールセンター）). SQLite
-- cannot alter a CHECK constraint and PostgreSQL names it differently, so the role column is
-- replaced portably: renamed, added again with the extended check, copied, and the old one
-- dropped (its check goes with it). SQLite tests a new column's CHECK on the existing rows, so
-- the column cannot be NOT NULL with a default that no role should have; the check refuses
-- anything but a known role, and every insert names one.
ALTER TABLE users RENAME COLUMN role TO role_before_reservations;
ALTER TABLE users ADD COLUMN role TEXT CHECK (role IN (
    'NATION', 'PREFECTURE', 'MUNICIPALITY', 'MEDICAL_INSTITUTION', 'AGGREGATOR',
    'MEDICAL_ASSOCIATION', 'MANUFACTURER', 'WHOLESALER', 'DRY_ICE_SUPPLIER', 'SUPPLY_WAREHOUSE',
    'SYSTEM_ADMIN', 'RESERVATION_OPERATOR'));
UPDATE users SET role = role_before_reservations;
ALTER TABLE users DROP COLUMN role_before_reservations;

-- How a venue takes bookings: VSYS (slots and bookings here), EXTERNAL (elsewhere; the venue
-- declares its status), NOT_REQUIRED. Existing facilities book elsewhere until they say.
ALTER TABLE facilities ADD COLUMN reservation_mode TEXT NOT NULL DEFAULT 'EXTERNAL'
    CHECK (reservation_mode IN ('VSYS', 'EXTERNAL', 'NOT_REQUIRED'));

-- A slot: a venue's places for one vaccine at one time, in Japan's local time (no daylight
-- saving, so 'YYYY-MM-DDTHH:MM' strings order as the times do). `booked` moves only by a
-- conditional update; the check is the backstop that no concurrency can pass.
CREATE TABLE reservation_slots (
    id              TEXT PRIMARY KEY,
    facility_id     TEXT NOT NULL REFERENCES organizations (id),
    municipality_id TEXT NOT NULL REFERENCES organizations (id),
    product_id      TEXT NOT NULL REFERENCES products (id),
    slot_date       TEXT NOT NULL CHECK (length(slot_date) = 10),
    starts_at       TEXT NOT NULL CHECK (length(starts_at) = 16),
    ends_at         TEXT NOT NULL CHECK (length(ends_at) = 16),
    capacity        BIGINT NOT NULL CHECK (capacity BETWEEN 1 AND 1000),
    booked          BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT REFERENCES users (id),
    created_at      TEXT NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (booked >= 0 AND booked <= capacity),
    UNIQUE (facility_id, product_id, starts_at)
);
CREATE INDEX reservation_slots_area ON reservation_slots (municipality_id, slot_date);
CREATE INDEX reservation_slots_venue ON reservation_slots (facility_id, slot_date);

-- A booking: the resident as printed on the coupon (接種券: the municipality and its 10-digit
-- number) and as told to the call centre. Personal data: every read is audited.
CREATE TABLE reservations (
    id                     TEXT PRIMARY KEY,
    slot_id                TEXT NOT NULL REFERENCES reservation_slots (id),
    facility_id            TEXT NOT NULL REFERENCES organizations (id),
    product_id             TEXT NOT NULL REFERENCES products (id),
    coupon_municipality_id TEXT NOT NULL REFERENCES organizations (id),
    coupon_number          TEXT NOT NULL CHECK (length(coupon_number) = 10),
    dose_number            INTEGER NOT NULL CHECK (dose_number BETWEEN 1 AND 10),
    name                   TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    name_kana              TEXT NOT NULL CHECK (length(name_kana) BETWEEN 1 AND 100),
    birth_date             TEXT NOT NULL CHECK (length(birth_date) = 10),
    phone                  TEXT NOT NULL CHECK (length(phone) BETWEEN 10 AND 13),
    status                 TEXT NOT NULL CHECK (status IN ('BOOKED', 'CANCELLED')),
    booked_by              TEXT NOT NULL REFERENCES users (id),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    cancelled_at           TEXT,
    cancelled_by           TEXT REFERENCES users (id),
    cancel_reason          TEXT CHECK (cancel_reason IS NULL OR length(cancel_reason) <= 500),
    version                BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (status = 'BOOKED' OR cancelled_at IS NOT NULL)
);
-- One active booking per coupon and dose.
CREATE UNIQUE INDEX reservations_one_active_dose
    ON reservations (coupon_municipality_id, coupon_number, dose_number) WHERE status = 'BOOKED';
CREATE INDEX reservations_slot ON reservations (slot_id);
CREATE INDEX reservations_facility ON reservations (facility_id, created_at);
CREATE INDEX reservations_coupon ON reservations (coupon_municipality_id, coupon_number);

-- The first answer to a mutation sent with an Idempotency-Key, per user, so that a retried
-- request returns it instead of booking twice. Written in the mutation's own transaction.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    operation    TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

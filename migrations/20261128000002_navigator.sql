-- The public navigator (コロナワクチンナビ, domain.md §6, seed p. 40): which facilities agreed to
-- appear, what EXTERNAL venues declare, and each venue's status with when it last changed.
-- Portable SQL (SQLite and PostgreSQL).

-- A facility appears on the navigator only once it (or its municipality) agreed.
ALTER TABLE facilities ADD COLUMN navigator_published INTEGER NOT NULL DEFAULT 0
    CHECK (navigator_published IN (0, 1));

-- An EXTERNAL venue's own declaration of its booking status (setReservationStatus); older than
-- the configured age it shows as unconfirmed ("call to confirm").
ALTER TABLE facilities ADD COLUMN declared_status TEXT CHECK (declared_status IS NULL OR
    declared_status IN ('BOOKABLE', 'FEW_LEFT', 'NOT_BOOKABLE', 'PREPARING'));
ALTER TABLE facilities ADD COLUMN declared_next_date TEXT
    CHECK (declared_next_date IS NULL OR length(declared_next_date) = 10);
ALTER TABLE facilities ADD COLUMN declared_at TEXT;

-- Each venue's status as last computed in the transaction that changed it (a booking, a
-- cancellation, new slots, a declaration, a mode), and when it last changed: the navigator
-- shows it, so a resident sees how fresh the status is.
CREATE TABLE navigator_statuses (
    facility_id    TEXT PRIMARY KEY REFERENCES organizations (id),
    status         TEXT NOT NULL CHECK (status IN
                       ('BOOKABLE', 'FEW_LEFT', 'NOT_BOOKABLE', 'NO_BOOKING_NEEDED', 'PREPARING')),
    next_free_date TEXT,
    free_places    BIGINT NOT NULL DEFAULT 0 CHECK (free_places >= 0),
    changed_at     TEXT NOT NULL,
    computed_at    TEXT NOT NULL
);

-- Searches near a point narrow by latitude first.
CREATE INDEX facilities_position ON facilities (latitude, longitude);

-- Desired quantities (希望量, domain.md §5 stage 2, seed p. 23): the boxes a facility would like
-- in a cool, entered by the facility (or its municipality for it). One row per cool and
-- facility; entering again replaces the figure.
CREATE TABLE desired_quantities (
    id TEXT PRIMARY KEY,
    cool_id TEXT NOT NULL REFERENCES cools (id),
    facility_id TEXT NOT NULL REFERENCES organizations (id),
    boxes BIGINT NOT NULL CHECK (boxes >= 0),
    registered_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (cool_id, facility_id)
);

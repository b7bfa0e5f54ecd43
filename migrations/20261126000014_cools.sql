-- Cools (クール, domain.md §5): one allocation cycle of one vaccine, about three weeks, with a
-- deadline per stage. Dates are Japanese calendar days (YYYY-MM-DD); a deadline is the last
-- day of its stage.
CREATE TABLE cools (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL CHECK (number > 0),
    product_id TEXT NOT NULL REFERENCES products (id),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    desired_quantity_deadline TEXT NOT NULL,
    nation_allocation_deadline TEXT NOT NULL,
    prefecture_allocation_deadline TEXT NOT NULL,
    municipality_allocation_deadline TEXT NOT NULL,
    data_lock_deadline TEXT NOT NULL,
    opened_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (product_id, number),
    CHECK (starts_on <= desired_quantity_deadline),
    CHECK (desired_quantity_deadline <= nation_allocation_deadline),
    CHECK (nation_allocation_deadline <= prefecture_allocation_deadline),
    CHECK (prefecture_allocation_deadline <= municipality_allocation_deadline),
    CHECK (municipality_allocation_deadline <= data_lock_deadline),
    CHECK (data_lock_deadline <= ends_on)
);

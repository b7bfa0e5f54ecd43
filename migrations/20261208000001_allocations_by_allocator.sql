-- Allocation lines kept in the order they are written: by cool, then by the organisation that
-- gives them. A proposal writes all its lines at once, so they now land side by side in one
-- key (cool, allocator, recipient, product), instead of being scattered over two keys led by
-- the recipient (random ids): the national cool's 1,789 proposals wrote about four times the
-- pages they needed (docs/performance.md, allocation). A recipient's lines are found through
-- the organisation that allocates to it (its parent), which is always known where they are
-- read. The surrogate id stays: deliveries and the audit refer to it.
--
-- SQLite cannot drop a table constraint, so both tables are rebuilt: the new lines first,
-- then deliveries pointing at them, the old tables dropped and the new ones renamed (renaming
-- follows the reference on both databases). Written once for SQLite and PostgreSQL.
CREATE TABLE allocation_lines (
    id TEXT NOT NULL UNIQUE,
    cool_id TEXT NOT NULL REFERENCES cools (id),
    -- Who gives (the nation, a prefecture, a municipality) and who receives.
    allocator_id TEXT NOT NULL REFERENCES organizations (id),
    recipient_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    boxes BIGINT NOT NULL CHECK (boxes >= 0),
    updated_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (cool_id, allocator_id, recipient_id, product_id),
    CHECK (allocator_id <> recipient_id)
);
INSERT INTO allocation_lines (id, cool_id, allocator_id, recipient_id, product_id, boxes,
    updated_by, created_at, updated_at, version)
SELECT id, cool_id, allocator_id, recipient_id, product_id, boxes, updated_by, created_at,
    updated_at, version
FROM allocations;

CREATE TABLE delivery_records (
    id TEXT PRIMARY KEY,
    allocation_id TEXT NOT NULL UNIQUE REFERENCES allocation_lines (id),
    deliverer_id TEXT NOT NULL REFERENCES organizations (id),
    scheduled_on TEXT NOT NULL,
    delivered_on TEXT,
    delivered_boxes BIGINT CHECK (delivered_boxes IS NULL OR delivered_boxes > 0),
    -- JSON array of {"lotNumber", "boxes"}.
    lots TEXT,
    updated_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK ((delivered_on IS NULL) = (delivered_boxes IS NULL))
);
INSERT INTO delivery_records (id, allocation_id, deliverer_id, scheduled_on, delivered_on,
    delivered_boxes, lots, updated_by, created_at, updated_at, version)
SELECT id, allocation_id, deliverer_id, scheduled_on, delivered_on, delivered_boxes, lots,
    updated_by, created_at, updated_at, version
FROM deliveries;

DROP TABLE deliveries;
DROP TABLE allocations;
ALTER TABLE allocation_lines RENAME TO allocations;
ALTER TABLE delivery_records RENAME TO deliveries;
CREATE INDEX deliveries_deliverer ON deliveries (deliverer_id);

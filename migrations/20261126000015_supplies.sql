-- Supply per cool (domain.md §5, stage 1): the boxes a manufacturer makes available of the
-- cool's vaccine, and the needles and syringes the warehouse makes available. One row per
-- cool, product and supplier; registering again replaces the figure.
CREATE TABLE supplies (
    id TEXT PRIMARY KEY,
    cool_id TEXT NOT NULL REFERENCES cools (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    supplier_id TEXT NOT NULL REFERENCES organizations (id),
    boxes BIGINT NOT NULL CHECK (boxes >= 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (cool_id, product_id, supplier_id)
);
CREATE INDEX supplies_cool ON supplies (cool_id);

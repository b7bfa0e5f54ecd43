-- Deliveries (domain.md §5 stage 8, seed p. 43). The data lock hands each facility's amounts to
-- its deliverer: the facility's delivering wholesaler, or the manufacturer (vaccines) or the
-- warehouse (needles, syringes) delivering themselves. What to deliver is read from the locked
-- allocation lines; a row here records the deliverer's scheduled date (納入予定日) and the actual
-- delivery with its lots (納入実績), one per facility line.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    allocation_id TEXT NOT NULL UNIQUE REFERENCES allocations (id),
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
CREATE INDEX deliveries_deliverer ON deliveries (deliverer_id);

-- Shipments to wholesalers (入荷): vaccines from the manufacturer, needles and syringes from the
-- warehouse to the wholesalers' logistics warehouses. The sender records the shipment, the
-- wholesaler its receipt; a wholesaler's stock is what it received less what it delivered.
CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    cool_id TEXT NOT NULL REFERENCES cools (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    sender_id TEXT NOT NULL REFERENCES organizations (id),
    wholesaler_id TEXT NOT NULL REFERENCES organizations (id),
    boxes BIGINT NOT NULL CHECK (boxes > 0),
    shipped_on TEXT NOT NULL,
    received_on TEXT,
    created_by TEXT REFERENCES users (id),
    received_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (received_on IS NULL OR received_on >= shipped_on)
);
CREATE INDEX shipments_wholesaler ON shipments (wholesaler_id, cool_id);
CREATE INDEX shipments_sender ON shipments (sender_id, cool_id);

-- How often a vaccine's thermal shipping box needs fresh dry ice (Pfizer 2021: every 5 days,
-- for up to 30 days); null for products shipped without dry ice.
ALTER TABLE products ADD COLUMN dry_ice_refill_days BIGINT CHECK (dry_ice_refill_days IS NULL OR dry_ice_refill_days BETWEEN 1 AND 30);

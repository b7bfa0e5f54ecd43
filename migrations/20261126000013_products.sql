-- Products (domain.md §5, seed p. 30): the vaccines, needles and syringes that are allocated.
-- Allocation counts boxes; doses are derived (units per box × doses per unit) and never stored
-- twice. A vaccine names its manufacturer; needles and syringes name none.
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('VACCINE', 'NEEDLE', 'SYRINGE')),
    name TEXT NOT NULL,
    manufacturer_id TEXT REFERENCES organizations (id),
    units_per_box INTEGER NOT NULL CHECK (units_per_box > 0),
    doses_per_unit INTEGER NOT NULL CHECK (doses_per_unit > 0),
    storage TEXT,
    minimum_interval_days INTEGER CHECK (minimum_interval_days >= 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    CHECK ((kind = 'VACCINE') = (manufacturer_id IS NOT NULL)),
    CHECK (kind = 'VACCINE' OR doses_per_unit = 1)
);

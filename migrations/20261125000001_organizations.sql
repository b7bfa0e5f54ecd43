-- The organisation hierarchy: nation → prefecture → municipality → facility, and the partner
-- organisations (manufacturers, wholesalers, suppliers, aggregators, associations).
-- Portable SQL: runs unchanged on SQLite and PostgreSQL.

CREATE TABLE organizations (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN (
                        'NATION', 'PREFECTURE', 'MUNICIPALITY', 'FACILITY', 'AGGREGATOR',
                        'MEDICAL_ASSOCIATION', 'MANUFACTURER', 'WHOLESALER', 'DRY_ICE_SUPPLIER',
                        'SUPPLY_WAREHOUSE', 'SERVICE_DESK')),
    -- JIS X 0401 code for a prefecture (2 digits), local-government code for a municipality
    -- (6 digits with check digit), the registry's own code for the others.
    code            TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_kana       TEXT CHECK (name_kana IS NULL OR length(name_kana) <= 200),
    name_romaji     TEXT CHECK (name_romaji IS NULL OR length(name_romaji) <= 200),
    parent_id       TEXT REFERENCES organizations (id),
    -- The area an organisation lies in; a prefecture's and a municipality's point to themselves,
    -- so "everything in this area" is one equality for every kind.
    prefecture_id   TEXT REFERENCES organizations (id),
    municipality_id TEXT REFERENCES organizations (id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    UNIQUE (kind, code),
    CHECK (kind <> 'NATION' OR parent_id IS NULL),
    CHECK (kind <> 'PREFECTURE' OR (length(code) = 2 AND prefecture_id = id)),
    CHECK (kind <> 'MUNICIPALITY' OR (length(code) = 6 AND municipality_id = id AND prefecture_id IS NOT NULL)),
    CHECK (kind <> 'FACILITY' OR (municipality_id IS NOT NULL AND prefecture_id IS NOT NULL))
);

CREATE INDEX organizations_parent ON organizations (parent_id);
CREATE INDEX organizations_prefecture ON organizations (prefecture_id, kind);
CREATE INDEX organizations_municipality ON organizations (municipality_id, kind);
CREATE INDEX organizations_kind_code ON organizations (kind, code);

-- What a facility (clinic, hospital, venue) has beyond the common organisation columns.
CREATE TABLE facilities (
    organization_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    facility_type   TEXT NOT NULL CHECK (facility_type IN (
                        'CLINIC', 'HOSPITAL', 'SPECIAL_VENUE', 'BASIC_TYPE_FACILITY',
                        'SATELLITE_FACILITY')),
    postal_code     TEXT CHECK (postal_code IS NULL OR length(postal_code) = 8),
    address         TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 300),
    -- Japan's extent: Okinotorishima (20.4°N) to Benten-jima (45.5°N),
    -- Yonaguni (122.9°E) to Minamitorishima (153.9°E).
    latitude        DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN 20.0 AND 46.0),
    longitude       DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN 122.0 AND 154.0),
    phone           TEXT CHECK (phone IS NULL OR length(phone) <= 20)
);

CREATE INDEX facilities_type ON facilities (facility_type);

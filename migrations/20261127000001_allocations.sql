-- Allocations (domain.md §5 stages 3–7, seed pp. 22–37): the boxes of each product line (the
-- cool's vaccine, needles, syringes) an organisation gives to each organisation below it, the
-- nation to prefectures, prefectures to municipalities, municipalities to facilities. Doses are
-- derived from the product, never stored.

-- Population weighs the nation's and the prefectures' proposals (2020 census for the demo).
ALTER TABLE organizations ADD COLUMN population BIGINT CHECK (population IS NULL OR population >= 0);

CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    cool_id TEXT NOT NULL REFERENCES cools (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    -- Who gives (the nation, a prefecture, a municipality) and who receives.
    allocator_id TEXT NOT NULL REFERENCES organizations (id),
    recipient_id TEXT NOT NULL REFERENCES organizations (id),
    boxes BIGINT NOT NULL CHECK (boxes >= 0),
    updated_by TEXT REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    UNIQUE (cool_id, product_id, recipient_id),
    CHECK (allocator_id <> recipient_id)
);
CREATE INDEX allocations_allocator ON allocations (cool_id, allocator_id, product_id);

-- Where each organisation stands in a cool: when it confirmed what it received (確認済), when
-- it completed its allocation down (分配作業完了), and for a prefecture when it locked (データ
-- ロック). A change to what an organisation received clears its confirmation; a change to what
-- it gave clears its completion; nothing changes after the lock.
CREATE TABLE allocation_progress (
    cool_id TEXT NOT NULL REFERENCES cools (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    confirmed_at TEXT,
    confirmed_by TEXT REFERENCES users (id),
    completed_at TEXT,
    completed_by TEXT REFERENCES users (id),
    locked_at TEXT,
    locked_by TEXT REFERENCES users (id),
    PRIMARY KEY (cool_id, organization_id)
);

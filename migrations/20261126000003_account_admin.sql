-- Account administration: the privacy-policy version a user accepted, and set-up links that a
-- reissue (or a disabled account) revokes. Portable SQL (SQLite and PostgreSQL).

-- The version of the personal-information policy the user last accepted; a newer version asks
-- again. Acceptances recorded before versions existed were of the first version.
ALTER TABLE users ADD COLUMN privacy_policy_version TEXT
    CHECK (privacy_policy_version IS NULL OR length(privacy_policy_version) BETWEEN 1 AND 32);
UPDATE users SET privacy_policy_version = '2021-02-17' WHERE privacy_accepted_at IS NOT NULL;

-- A link stops working when a newer one is sent or the account is disabled.
ALTER TABLE setup_links ADD COLUMN revoked_at TEXT;
CREATE INDEX setup_links_user ON setup_links (user_id);

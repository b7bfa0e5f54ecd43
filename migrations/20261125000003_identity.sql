-- Identity and access: accounts, sign-in challenges, sessions, set-up links, password resets,
-- the mail outbox and the audit log. Portable SQL (SQLite and PostgreSQL).

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    username             TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 3 AND 64),
    email                TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name         TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    role                 TEXT NOT NULL CHECK (role IN (
                             'NATION', 'PREFECTURE', 'MUNICIPALITY', 'MEDICAL_INSTITUTION',
                             'AGGREGATOR', 'MEDICAL_ASSOCIATION', 'MANUFACTURER', 'WHOLESALER',
                             'DRY_ICE_SUPPLIER', 'SUPPLY_WAREHOUSE', 'SYSTEM_ADMIN')),
    is_org_admin         INTEGER NOT NULL DEFAULT 0 CHECK (is_org_admin IN (0, 1)),
    -- INVITED until the first login is completed.
    status               TEXT NOT NULL CHECK (status IN ('INVITED', 'ACTIVE', 'DISABLED')),
    password_hash        TEXT,
    password_changed_at  TEXT,
    security_question    TEXT CHECK (security_question IS NULL OR length(security_question) BETWEEN 1 AND 200),
    security_answer_hash TEXT,
    second_factor        TEXT NOT NULL DEFAULT 'EMAIL' CHECK (second_factor IN ('EMAIL', 'TOTP')),
    totp_secret          TEXT,
    -- A TOTP secret being enrolled, until a code proves the app has it.
    totp_pending_secret  TEXT,
    -- The last time step whose code was accepted: a code is accepted once.
    totp_last_step       BIGINT,
    privacy_accepted_at  TEXT,
    failed_attempts      INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until         TEXT,
    last_sign_in_at      TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    CHECK (status = 'INVITED' OR password_hash IS NOT NULL),
    CHECK (second_factor = 'EMAIL' OR totp_secret IS NOT NULL)
);
CREATE INDEX users_organization ON users (organization_id);

-- The second step of a sign-in (or of a first login): an e-mailed code or a TOTP code.
CREATE TABLE challenges (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('SIGN_IN', 'FIRST_LOGIN')),
    method       TEXT NOT NULL CHECK (method IN ('EMAIL', 'TOTP')),
    code_hash    TEXT,
    expires_at   TEXT NOT NULL,
    consumed_at  TEXT,
    created_at   TEXT NOT NULL,
    CHECK (method = 'TOTP' OR code_hash IS NOT NULL)
);
CREATE INDEX challenges_user ON challenges (user_id, purpose);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    ip           TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The invitation's set-up link (24 hours, single use).
CREATE TABLE setup_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL
);

-- Self-service password reset through the security question.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL
);

-- Mail goes out through this durable outbox: written in the transaction of the action that
-- causes it, sent (and retried with back-off) by a worker; a failed send never rolls back the
-- action and is never lost.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- FAILED: undeliverable for good (e.g. an address the mail library refuses).
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'FAILED')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at      TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);

-- Append-only: the API offers no way to change or delete an entry.
CREATE TABLE audit_log (
    id                    TEXT PRIMARY KEY,
    occurred_at           TEXT NOT NULL,
    actor_user_id         TEXT REFERENCES users (id),
    actor_username        TEXT,
    actor_role            TEXT,
    actor_organization_id TEXT REFERENCES organizations (id),
    operation             TEXT NOT NULL,
    outcome               TEXT NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE', 'DENIED')),
    object_type           TEXT,
    object_id             TEXT,
    organization_id       TEXT REFERENCES organizations (id),
    before_state          TEXT,
    after_state           TEXT,
    detail                TEXT,
    ip                    TEXT,
    request_id            TEXT
);
CREATE INDEX audit_log_time ON audit_log (occurred_at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, occurred_at);
CREATE INDEX audit_log_object ON audit_log (object_id, occurred_at);

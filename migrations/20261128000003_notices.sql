-- Public notices and the FAQ (domain.md §6: the navigator's お知らせ and よくある質問), written
-- by the nation in Japanese and English. Portable SQL (SQLite and PostgreSQL).

CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    title_ja     TEXT NOT NULL CHECK (length(title_ja) BETWEEN 1 AND 200),
    title_en     TEXT NOT NULL CHECK (length(title_en) BETWEEN 1 AND 200),
    body_ja      TEXT NOT NULL CHECK (length(body_ja) BETWEEN 1 AND 5000),
    body_en      TEXT NOT NULL CHECK (length(body_en) BETWEEN 1 AND 5000),
    -- The last day it is shown (Japan's date); none: until withdrawn.
    expires_on   TEXT CHECK (expires_on IS NULL OR length(expires_on) = 10),
    published_by TEXT NOT NULL REFERENCES users (id),
    published_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_by TEXT REFERENCES users (id)
);
CREATE INDEX notices_published ON notices (published_at);

CREATE TABLE faqs (
    id          TEXT PRIMARY KEY,
    category    TEXT NOT NULL CHECK (length(category) BETWEEN 1 AND 50),
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 10000),
    question_ja TEXT NOT NULL CHECK (length(question_ja) BETWEEN 1 AND 500),
    question_en TEXT NOT NULL CHECK (length(question_en) BETWEEN 1 AND 500),
    answer_ja   TEXT NOT NULL CHECK (length(answer_ja) BETWEEN 1 AND 5000),
    answer_en   TEXT NOT NULL CHECK (length(answer_en) BETWEEN 1 AND 5000),
    updated_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1)
);
CREATE INDEX faqs_order ON faqs (category, position);

-- The users' knowledge base (ナレッジ, seed p. 45): manuals and FAQ articles the nation writes
-- per role, in Markdown, in Japanese and English, with the screen they help with. Searched by
-- words on both databases through an index of character n-grams (Japanese has no spaces to
-- split words at).
CREATE TABLE knowledge_articles (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('MANUAL', 'FAQ')),
    title_ja    TEXT NOT NULL CHECK (length(title_ja) BETWEEN 1 AND 200),
    title_en    TEXT NOT NULL CHECK (length(title_en) BETWEEN 1 AND 200),
    body_ja     TEXT NOT NULL,
    body_en     TEXT NOT NULL,
    -- The roles it is written for, as ',NATION,PREFECTURE,'; '' for every role.
    roles       TEXT NOT NULL,
    -- The screen whose help it is (pageHelp), e.g. 'allocation.municipality'.
    page_key    TEXT CHECK (page_key IS NULL OR length(page_key) BETWEEN 1 AND 100),
    version     BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_by  TEXT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX knowledge_articles_page ON knowledge_articles (page_key);

-- Every one- and two-character gram of an article's titles and bodies (normalised: NFKC,
-- lower case), for searching by words in Japanese and English alike.
CREATE TABLE knowledge_grams (
    article_id TEXT NOT NULL REFERENCES knowledge_articles (id) ON DELETE CASCADE,
    gram       TEXT NOT NULL,
    PRIMARY KEY (gram, article_id)
);
CREATE INDEX knowledge_grams_article ON knowledge_grams (article_id);

-- Attachments of knowledge articles (seed p. 45: manuals as PDF, explanatory videos), kept with
-- the generated files so that every instance serves them through signed links, for download or
-- for preview in the browser.
CREATE TABLE knowledge_attachments (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES knowledge_articles (id),
    file_id     TEXT NOT NULL REFERENCES generated_files (id),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    position    INTEGER NOT NULL CHECK (position >= 1),
    created_at  TEXT NOT NULL
);
CREATE INDEX knowledge_attachments_article ON knowledge_attachments (article_id, position);

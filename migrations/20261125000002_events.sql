-- The event outbox. An event is written in the same transaction as the change it describes and
-- published after commit; subscribers catch up from it by sequence number.

-- One row holding the last sequence number. Taking the next number locks this row until the
-- transaction ends, so numbers become visible in commit order and a reader that has seen N has
-- seen everything below N: catch-up by "seq > N" never skips an event.
CREATE TABLE event_sequence (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_value BIGINT NOT NULL CHECK (last_value >= 0)
);
INSERT INTO event_sequence (id, last_value) VALUES (1, 0);

CREATE TABLE events (
    seq             BIGINT PRIMARY KEY CHECK (seq >= 1),
    topic           TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 100),
    -- PUBLIC events reach anonymous subscribers; RESTRICTED ones only users whose area
    -- includes organization_id; INTERNAL ones (e.g. a session ended) only reach the server's
    -- own listeners, never a GraphQL subscriber.
    visibility      TEXT NOT NULL CHECK (visibility IN ('PUBLIC', 'RESTRICTED', 'INTERNAL')),
    organization_id TEXT REFERENCES organizations (id),
    payload         TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    CHECK (visibility = 'PUBLIC' OR organization_id IS NOT NULL)
);

CREATE INDEX events_topic ON events (topic, seq);

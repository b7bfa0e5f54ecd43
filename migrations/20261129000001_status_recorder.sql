-- The navigator's stored statuses (navigator_statuses) are recorded after the fact, from the
-- availability events, by one task (reservations::status_recorder): a booking's transaction
-- only appends its event. This row is how far the task has got; it moves in the transaction
-- that records the statuses, so a restart resumes where the task stopped.
CREATE TABLE navigator_status_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL CHECK (last_seq >= 0)
);
-- Until now every change recorded its status in its own transaction: start after them.
INSERT INTO navigator_status_cursor (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;

-- Events carry what a visibility decision needs, so that a subscription decides from the event
-- alone, in memory, without reading the database per subscriber: the prefecture and
-- municipality of the organisation the event concerns, and the topic's audience.

ALTER TABLE events ADD COLUMN prefecture_id TEXT;
ALTER TABLE events ADD COLUMN municipality_id TEXT;
-- AREA: everyone whose area includes the organisation (the organisation itself, its
-- municipality, prefecture, the nation). ADMINISTRATION: only the administrative chain
-- (municipality, prefecture, nation), not the organisation itself; e.g. an allocation before
-- the data lock, which a facility may not see yet.
ALTER TABLE events ADD COLUMN audience TEXT NOT NULL DEFAULT 'AREA'
    CHECK (audience IN ('AREA', 'ADMINISTRATION'));

UPDATE events SET
    prefecture_id = (SELECT o.prefecture_id FROM organizations o WHERE o.id = events.organization_id),
    municipality_id = (SELECT o.municipality_id FROM organizations o WHERE o.id = events.organization_id)
WHERE organization_id IS NOT NULL;

-- Deadline reminders (domain.md §5): one day before a stage's deadline, the organisations whose
-- work in it is not done get an e-mail. A row per cool, stage and organisation makes each
-- reminder go out once, whichever instance runs the check.
CREATE TABLE deadline_reminders (
    cool_id TEXT NOT NULL REFERENCES cools (id),
    stage TEXT NOT NULL CHECK (stage IN (
        'NATION_ALLOCATION', 'PREFECTURE_ALLOCATION', 'MUNICIPALITY_ALLOCATION', 'DATA_LOCK')),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    sent_at TEXT NOT NULL,
    PRIMARY KEY (cool_id, stage, organization_id)
);

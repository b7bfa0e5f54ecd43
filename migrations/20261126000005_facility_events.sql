-- The facility's approval status (seed p. 27: facilities whose status is 申請中): the state of
-- its latest change request, kept beside the facility so that the municipality's queue
-- (`facilities(approvalStatus: PENDING)`) is an indexed filter, not a subquery per row.
-- NONE: no request, or the latest was approved; PENDING: one is open; REJECTED: the latest was
-- rejected and not yet revised. Written in the transaction of every filing and decision.

ALTER TABLE facilities ADD COLUMN approval_status TEXT NOT NULL DEFAULT 'NONE'
    CHECK (approval_status IN ('NONE', 'PENDING', 'REJECTED'));

UPDATE facilities SET approval_status = COALESCE((
    SELECT CASE r.status WHEN 'APPROVED' THEN 'NONE' ELSE r.status END
    FROM facility_change_requests r
    WHERE r.facility_id = facilities.organization_id
    ORDER BY CASE r.status WHEN 'PENDING' THEN 0 ELSE 1 END, r.requested_at DESC, r.id DESC
    LIMIT 1), 'NONE');

CREATE INDEX facilities_approval_status ON facilities (approval_status);

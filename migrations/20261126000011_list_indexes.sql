-- Every list's filter and order is served by an index.
--
-- Facilities (and municipalities) of an area are listed in (kind, code) order, the cursor's
-- key: with the area first and the order after it, a page is an index range scan that stops
-- at the page size, instead of a walk of organizations_kind_code filtered row by row.
CREATE INDEX organizations_prefecture_order ON organizations (prefecture_id, kind, code);
CREATE INDEX organizations_municipality_order ON organizations (municipality_id, kind, code);
-- Prefixes of the two above.
DROP INDEX organizations_prefecture;
DROP INDEX organizations_municipality;
-- Facilities of one type, joined to their organisation row.
CREATE INDEX facilities_type_organization ON facilities (facility_type, organization_id);
DROP INDEX facilities_type;

-- Change requests newest first, by status (the municipality's queue) and overall.
CREATE INDEX facility_change_requests_status_time ON facility_change_requests (status, requested_at, id);
CREATE INDEX facility_change_requests_time ON facility_change_requests (requested_at, id);

-- The audit log newest first, with the id that breaks ties in the cursor.
CREATE INDEX audit_log_time_id ON audit_log (occurred_at, id);
DROP INDEX audit_log_time;

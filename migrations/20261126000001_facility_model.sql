-- What a facility is (facility_type: clinic, hospital, special venue) is separated from how it is
-- supplied (supply_type: a basic-type facility receiving vaccine directly, or a satellite
-- supplied through one). The basic-type facility becomes a reference, so allocation can follow
-- it; a special venue records the municipality that runs it.

ALTER TABLE facilities ADD COLUMN supply_type TEXT NOT NULL DEFAULT 'BASIC' CHECK (supply_type IN ('BASIC', 'SATELLITE'));
-- Only a satellite names the basic-type facility it is supplied through.
ALTER TABLE facilities ADD COLUMN basic_facility_id TEXT REFERENCES organizations (id) CHECK (basic_facility_id IS NULL OR supply_type = 'SATELLITE');
-- The municipality running a special venue (特設会場); it edits the venue without the proxy flag.
ALTER TABLE facilities ADD COLUMN operating_municipality_id TEXT REFERENCES organizations (id);

CREATE INDEX facilities_basic_facility ON facilities (basic_facility_id);

-- Backfill. The old types BASIC_TYPE_FACILITY / SATELLITE_FACILITY described the supply, not
-- the place; the CHECK on facility_type cannot be changed on SQLite, so the API stops offering
-- them and the rows move to the closest kind of place (basic-type facilities were mostly
-- hospitals, satellites mostly clinics; the service desk corrects the exceptions).
UPDATE facilities SET supply_type = 'SATELLITE'
 WHERE facility_type = 'SATELLITE_FACILITY' OR basic_facility_name IS NOT NULL;
-- The free-text basic-facility name becomes a reference where it names exactly one basic-type
-- facility of the same prefecture; otherwise the satellite stays unlinked until it is set.
UPDATE facilities SET basic_facility_id = (
    SELECT b.organization_id FROM facilities b
      JOIN organizations bo ON bo.id = b.organization_id
      JOIN organizations so ON so.id = facilities.organization_id
     WHERE bo.name = facilities.basic_facility_name AND bo.prefecture_id = so.prefecture_id
       AND b.supply_type = 'BASIC' AND b.organization_id <> facilities.organization_id)
 WHERE supply_type = 'SATELLITE' AND basic_facility_name IS NOT NULL
   AND (SELECT COUNT(*) FROM facilities b
          JOIN organizations bo ON bo.id = b.organization_id
          JOIN organizations so ON so.id = facilities.organization_id
         WHERE bo.name = facilities.basic_facility_name AND bo.prefecture_id = so.prefecture_id
           AND b.supply_type = 'BASIC' AND b.organization_id <> facilities.organization_id) = 1;
UPDATE facilities SET facility_type = 'HOSPITAL' WHERE facility_type = 'BASIC_TYPE_FACILITY';
UPDATE facilities SET facility_type = 'CLINIC' WHERE facility_type = 'SATELLITE_FACILITY';
-- Special venues are run by the municipality they lie in.
UPDATE facilities SET operating_municipality_id = (
    SELECT o.municipality_id FROM organizations o WHERE o.id = facilities.organization_id)
 WHERE facility_type = 'SPECIAL_VENUE';
-- basic_facility_name is no longer read; it is dropped in a later migration (expand, backfill,
-- contract).

-- The demo data loaded before this migration carried codes whose check digit was computed over
-- six digits only; give those eight demo rows their valid codes (matched by code and name, so
-- nothing else is touched).
UPDATE organizations SET code = '1311000010' WHERE kind = 'FACILITY' AND code = '1311000017' AND name = '目黒区病院01';
UPDATE organizations SET code = '1311000028' WHERE kind = 'FACILITY' AND code = '1311000025' AND name = '目黒区診療所01';
UPDATE organizations SET code = '1319000012' WHERE kind = 'FACILITY' AND code = '1319000019' AND name = '目黒区特設会場01';
UPDATE organizations SET code = '1311000036' WHERE kind = 'FACILITY' AND code = '1311000033' AND name = '世田谷区病院01';
UPDATE organizations SET code = '1311000044' WHERE kind = 'FACILITY' AND code = '1311000041' AND name = '港区診療所01';
UPDATE organizations SET code = '1411000019' WHERE kind = 'FACILITY' AND code = '1411000017' AND name = '横浜病院01';
UPDATE organizations SET code = '1411000027' WHERE kind = 'FACILITY' AND code = '1411000025' AND name = '横浜診療所01';
UPDATE organizations SET code = '1419000011' WHERE kind = 'FACILITY' AND code = '1419000019' AND name = '横浜特設会場01';
-- The demo's "special venue" in Yokohama was stored as a basic-type facility: it is a special
-- venue, supplied directly, run by Yokohama.
UPDATE facilities SET facility_type = 'SPECIAL_VENUE',
       operating_municipality_id = (SELECT o.municipality_id FROM organizations o WHERE o.id = facilities.organization_id)
 WHERE organization_id IN (SELECT id FROM organizations WHERE kind = 'FACILITY' AND code = '1419000011' AND name = '横浜特設会場01');

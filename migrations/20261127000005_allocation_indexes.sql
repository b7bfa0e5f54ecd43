-- Reads by recipient (what an organisation received, its prefecture's check, a facility's
-- allocations) and by facility (desired quantities of an area) without scanning a whole cool.
CREATE INDEX allocations_recipient ON allocations (recipient_id, cool_id);
CREATE INDEX desired_quantities_facility ON desired_quantities (facility_id, cool_id);

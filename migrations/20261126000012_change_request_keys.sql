-- Change requests store their values under the service's own field names
-- (`representative_name`), not the API's (`representativeName`): the API may rename a field
-- without touching stored requests. A key is always `"name":` with unescaped quotes, which no
-- JSON string value can contain, so a plain text replacement renames keys only. Portable:
-- REPLACE exists on SQLite and PostgreSQL alike.
UPDATE facility_change_requests SET
    before_values = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(before_values, '"medicalInstitutionCode":', '"medical_institution_code":'), '"representativeName":', '"representative_name":'), '"collectiveJoinDate":', '"collective_join_date":'), '"collectiveWithdrawalDate":', '"collective_withdrawal_date":'), '"proxyInput":', '"proxy_input":'), '"vaccinesHandled":', '"vaccines_handled":'), '"supplyType":', '"supply_type":'), '"basicFacility":', '"basic_facility":'), '"generalAcceptance":', '"general_acceptance":'),
    after_values = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(after_values, '"medicalInstitutionCode":', '"medical_institution_code":'), '"representativeName":', '"representative_name":'), '"collectiveJoinDate":', '"collective_join_date":'), '"collectiveWithdrawalDate":', '"collective_withdrawal_date":'), '"proxyInput":', '"proxy_input":'), '"vaccinesHandled":', '"vaccines_handled":'), '"supplyType":', '"supply_type":'), '"basicFacility":', '"basic_facility":'), '"generalAcceptance":', '"general_acceptance":');

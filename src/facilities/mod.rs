//! The facility registry (domain.md §2 functions 1–2, §4): facility details, vaccination
//! contracts, doctors, eligibility, and the municipality's approval of changes to the fields
//! that need it.

mod access;
mod approval;
mod change_requests;
pub mod codes;
mod contracts;
mod doctors;
mod eligibility;
mod events;
mod facility_type;
mod graphql;
mod loader;
mod partners;
mod partners_api;
mod registration;
mod update;

pub use crate::organizations::ApprovalStatus;
pub use access::{Acting, decide_on, may_edit, may_see, scope_of};
pub use change_requests::ChangeRequestStatus;
pub use contracts::ContractKind;
pub use eligibility::{Eligibility, EligibilityReason, eligibility_in, eligibility_of};
pub use events::{
    CHANGED_TOPIC as FACILITY_CHANGED_TOPIC, UPDATED_TOPIC as FACILITY_UPDATED_TOPIC,
};
pub use graphql::{
    Contract, Doctor, FacilityChangeRequest, FacilityMutation, FacilityQuery, FacilitySubscription,
    RegistryNode, load_registry_node, private_approval_status, private_contracts, private_doctors,
    private_eligibility, private_pending_change_request, private_representative_name,
};
pub use loader::PendingRequestLoader;
pub use partners::DeliveringWholesalerLoader;
pub use partners_api::{
    PartnerMutation, PartnerQuery, PowerOfAttorney, delivering_wholesaler,
    load_power_of_attorney_node,
};
pub use registration::RegistrationMutation;

/// Topic prefix of change-request events.
pub const CHANGE_REQUEST_TOPIC: &str = "facility.change_request";

/// What the audit log keeps of a facility.
pub fn audit_view(record: &crate::organizations::OrganizationRecord) -> serde_json::Value {
    serde_json::json!({
        "code": record.code, "name": record.name, "nameKana": record.name_kana, "nameRomaji": record.name_romaji,
        "address": record.address, "postalCode": record.postal_code, "latitude": record.latitude,
        "longitude": record.longitude, "phone": record.phone, "weeklyCapacity": record.weekly_capacity,
        "openingHours": record.opening_hours, "parkingNotes": record.parking_notes, "accessNotes": record.access_notes,
        "representativeName": record.representative_name, "vaccinesHandled": record.vaccines_handled,
        "generalAcceptance": record.general_acceptance, "proxyInput": record.proxy_input,
        "supplyType": record.supply_type, "basicFacilityId": record.basic_facility_id,
        "operatingMunicipalityId": record.operating_municipality_id,
    })
}

//! The facility registry (domain.md §2 functions 1–2, §4): facility details, vaccination
//! contracts, doctors, eligibility, and the municipality's approval of changes to the fields
//! that need it.

mod access;
mod change_requests;
pub mod codes;
mod contracts;
mod doctors;
mod eligibility;
mod graphql;
mod partners;
mod partners_api;
mod update;

pub use eligibility::{Eligibility, EligibilityReason, eligibility_of, today_in_japan};
pub use graphql::{
    Contract, Doctor, FacilityChangeRequest, FacilityMutation, FacilityQuery, FacilitySubscription,
    RegistryNode, load_registry_node, private_contracts, private_doctors, private_eligibility,
};
pub use partners::DeliveringWholesalerLoader;
pub use partners_api::{
    PartnerMutation, PartnerQuery, PowerOfAttorney, delivering_wholesaler,
    load_power_of_attorney_node,
};

/// Topic prefix of change-request events.
pub const CHANGE_REQUEST_TOPIC: &str = "facility.change_request";

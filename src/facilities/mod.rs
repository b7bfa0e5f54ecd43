//! The facility registry (domain.md §2 functions 1–2, §4): facility details, vaccination
//! contracts, doctors, eligibility, and the municipality's approval of changes to the fields
//! that need it.

mod access;
mod change_requests;
pub mod codes;
mod contracts;
mod doctors;
mod eligibility;
mod events;
mod graphql;
mod loader;
mod update;

pub use eligibility::{Eligibility, EligibilityReason, eligibility_of};
pub use events::{
    CHANGED_TOPIC as FACILITY_CHANGED_TOPIC, UPDATED_TOPIC as FACILITY_UPDATED_TOPIC,
};
pub use graphql::{
    ApprovalStatus, Contract, Doctor, FacilityChangeRequest, FacilityMutation, FacilityQuery,
    FacilitySubscription, RegistryNode, load_registry_node, private_approval_status,
    private_contracts, private_doctors, private_eligibility, private_pending_change_request,
};
pub use loader::PendingRequestLoader;

/// Topic prefix of change-request events.
pub const CHANGE_REQUEST_TOPIC: &str = "facility.change_request";

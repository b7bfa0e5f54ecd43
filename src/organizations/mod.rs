//! The organisation hierarchy (domain.md §1): nation → prefecture → municipality → facility,
//! and the partners beside it.

pub mod codes;
mod loader;
pub mod model;
pub mod prefectures;
mod query;
pub mod store;
mod types;

pub use loader::{OrganizationLoader, RequestOrganizationLoader, load_organization};
pub use model::{
    ApprovalStatus, FacilityType, NewFacility, NewOrganization, OrganizationKind,
    OrganizationRecord, ReservationMode, SupplyType, VaccineCodes,
};
pub use query::OrganizationQuery;
pub use types::{
    Facility, Municipality, Nation, OrganizationNode, PartnerOrganization, Prefecture,
    load_required,
};

//! Delivery (domain.md §5 stage 8, seed p. 43): from the data lock on, each facility's amounts
//! are its deliverer's to bring. The deliverer registers the scheduled date and then the
//! delivery with its lots; manufacturers and the warehouse ship to wholesalers, which record
//! their receipts; the dry-ice supplier checks destinations and refill dates; the facility
//! sees its allocation and delivery live.

pub mod dry_ice;
mod graphql;
pub mod record;
pub mod shipments;
pub mod store;

pub use graphql::{
    Delivery, DeliveryMutation, DeliveryQuery, DeliverySubscription, FacilityAllocation,
    facility_allocations,
};

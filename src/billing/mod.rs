//! Billing (function 7, 費用請求): attendance on reservations, a facility's monthly claim
//! pre-filled from it, the fee table per period, and the summary per paying municipality with
//! its route (directly, or through the 国保連), as PDF and CSV.

mod assemble;
pub mod claims;
pub mod fees;
mod graphql;
pub mod summary;

pub use graphql::{BillingMutation, BillingQuery};

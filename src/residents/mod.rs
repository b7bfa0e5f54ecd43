//! Residents and their coupons (function 8): the coupon ledger each municipality may keep,
//! and the requests residents send their municipality — out-of-area vaccination notifications
//! and coupon reissues — with the municipality's queue, live.

pub mod coupons;
mod graphql;
pub mod requests;
pub(crate) mod text;

pub use graphql::{ResidentMutation, ResidentQuery, ResidentSubscription};

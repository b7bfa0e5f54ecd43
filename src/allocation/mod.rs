//! Allocation (domain.md §5, seed pp. 22–37): how many boxes of vaccine, needles and syringes
//! go where, cool by cool, from the nation down to each facility.
//!
//! This area is being built (issue #9). What stands so far: its arithmetic, which everything
//! else will call — apportioning whole boxes by weights ([`apportion`]) and deriving the needle
//! and syringe lines from the vaccine line ([`follow_on_boxes`]) — and the product master
//! (`products`, `upsertProduct`).

mod apportion;
mod graphql;
pub mod products;

pub use apportion::{apportion, boxes_for_doses, follow_on_boxes};
pub use graphql::{AllocationMutation, AllocationQuery, Product, load_product_node};
pub use products::{ProductKind, ProductRecord};

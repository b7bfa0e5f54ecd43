//! Allocation (domain.md §5, seed pp. 22–37): how many boxes of vaccine, needles and syringes
//! go where, cool by cool, from the nation down to each facility.
//!
//! This area is being built (issue #9). What stands so far: its arithmetic, which everything
//! else will call — apportioning whole boxes by weights ([`apportion`]) and deriving the needle
//! and syringe lines from the vaccine line ([`follow_on_boxes`]) — the product master
//! (`products`, `upsertProduct`) and the cools with their stage deadlines (`cools`, `openCool`).

mod apportion;
pub mod cools;
pub mod desired;
mod graphql;
pub mod products;
pub mod supply;

pub use apportion::{apportion, boxes_for_doses, follow_on_boxes};
pub use graphql::{
    AllocationMutation, AllocationQuery, Cool, Product, load_cool_node, load_product_node,
};
pub use products::{ProductKind, ProductRecord};

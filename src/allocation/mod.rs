//! Allocation (domain.md §5, seed pp. 22–37): how many boxes of vaccine, needles and syringes
//! go where, cool by cool, from the nation down to each facility.
//!
//! - masters: the products (`products`), the cools with their stage deadlines (`cools`), the
//!   supply per cool (`supply`) and the facilities' desired quantities (`desired`);
//! - the arithmetic: whole boxes by weights ([`apportion`]), needles and syringes following the
//!   vaccine ([`follow_on_boxes`]);
//! - the cycle: lines and progress as stored (`lines`), proposals and the simulation
//!   (`proposal`), setting, confirming and completing (`cycle`), the check and the data lock
//!   (`lock`).

mod apportion;
pub mod board;
mod board_api;
pub mod cools;
pub mod cycle;
mod cycle_api;
pub mod deadlines;
pub mod desired;
mod feed;
mod graphql;
pub mod lines;
pub mod lock;
pub mod priority;
pub mod products;
pub mod proposal;
pub mod stock;
pub mod supply;

pub use apportion::{apportion, boxes_for_doses, follow_on_boxes};
pub use cycle_api::{Allocation, AllocationCycleMutation, AllocationCycleQuery};
pub use feed::AllocationSubscription;
pub use graphql::{
    AllocationMutation, AllocationQuery, Cool, Product, cool_row, load_cool_node, load_product_node,
};
pub use products::{ProductKind, ProductRecord};

//! Allocation (domain.md §5, seed pp. 22–37): how many boxes of vaccine, needles and syringes
//! go where, cool by cool, from the nation down to each facility.
//!
//! This area is being built (issue #9). What stands so far is its arithmetic, which everything
//! else will call: apportioning whole boxes by weights ([`apportion`]) and deriving the needle
//! and syringe lines from the vaccine line ([`follow_on_boxes`]).

mod apportion;

pub use apportion::{apportion, boxes_for_doses, follow_on_boxes};

//! The public navigator (function 4, コロナワクチンナビ): finding venues and their availability
//! without signing in, live. Built on the reservations area, whose slots and declarations the
//! statuses come from; nothing below imports it.

mod graphql;
pub mod search;
mod service;
pub mod smart;

pub use graphql::{
    NavigatorMutation, NavigatorQuery, NavigatorSubscription, NavigatorVenue, VenueView, load_view,
};
pub use service::Navigator;

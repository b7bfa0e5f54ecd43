//! Reservations (function 5, domain.md §6, seed pp. 39–40): how each venue takes bookings,
//! slots created in bulk from a schedule, and the call centre's booking, changing and
//! cancelling for residents by their coupon, with slots that never overfill.

pub mod availability;
mod booking;
mod declaration;
mod graphql;
mod mode;
pub mod resident;
pub mod schedule;
pub mod slots;
pub mod status_recorder;
pub mod store;

pub use availability::AVAILABILITY_TOPIC;
pub use booking::{BOOKED_TOPIC, CANCELLED_TOPIC, CHANGED_TOPIC};
pub use graphql::{Reservation, ReservationMutation, ReservationQuery, ReservationSlot};

//! Public statistics (function 6): doses administered by area, day, dose and recipient
//! category, coverage of the population, live counters and open data. They come from the
//! facilities' vaccination reports.

pub mod figures;
mod graphql;
pub mod open_data;

pub use graphql::{StatisticsQuery, StatisticsSubscription, coverage_now};

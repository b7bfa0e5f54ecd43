//! Vaccination and stock reports (domain.md §7, seed p. 42): cumulative doses administered and
//! wasted, kept as history, and the stock ledger (delivered − administered − wasted ±
//! transfers) that V-SYS did not keep.

mod graphql;
/// The stock ledger lives with allocation, whose proposals weigh by it.
pub use crate::allocation::stock as ledger;
pub mod transfers;
pub mod vaccinations;

pub use graphql::{
    ReportMutation, StockOnHand, VaccinationReport, facility_reports, facility_stock,
};

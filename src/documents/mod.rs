//! Documents (functions 7 and 8): the pre-screening questionnaires with coupons printed for
//! healthcare workers (接種券付き予診票, seed pp. 17–21): the import of the people from a CSV
//! upload, their questionnaires printed as PDF by a job on `crate::jobs`, and the generated
//! files behind signed, expiring download links.

pub mod csv_text;
pub mod files;
pub mod fonts;
mod graphql;
pub mod pdf;
pub mod questionnaire_sheet;
pub mod questionnaires;
pub mod recipients;

pub use graphql::{DocumentMutation, DocumentQuery, DocumentSubscription};

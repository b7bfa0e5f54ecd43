//! Documents (functions 7 and 8): the pre-screening questionnaires with coupons printed for
//! healthcare workers (接種券付き予診票, seed pp. 17–21). This session: the import of the people
//! from a CSV upload. Generation (a job on `crate::jobs`) comes next.

pub mod csv_text;
mod graphql;
pub mod pdf;
pub mod questionnaire_sheet;
pub mod recipients;

pub use graphql::{DocumentMutation, DocumentQuery};

//! The GraphQL machinery every area uses: errors and their policy, global ids, pagination,
//! request parameters, scalars and query limits. The schema itself is assembled above the
//! areas, in `crate::schema`.

pub mod documents;
pub mod errors;
pub mod idempotency;
pub mod ids;
pub mod pagination;
pub mod params;
pub mod rate_limit;
pub mod scalars;
pub mod uploads;

pub use params::RequestParams;

/// Query limits; the defaults suit every operation in `playground/` with room to spare.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 30,
            introspection: true,
        }
    }
}

/// True when nothing was executed: the document did not parse or validate, or its variables
/// did not coerce. Errors raised during execution always carry a path.
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

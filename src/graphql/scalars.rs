//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::db::parse_timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTime(pub String);

/// An instant in RFC 3339 format, always UTC, e.g. "2021-02-17T09:00:00.000Z".
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) if parse_timestamp(text).is_some() => Ok(DateTime(text.clone())),
            _ => Err(InputValueError::custom(
                "expected an RFC 3339 date-time, e.g. 2021-02-17T09:00:00Z",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

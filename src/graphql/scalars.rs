//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::clock::Timestamp;

/// An instant in RFC 3339 format, always UTC with milliseconds, e.g.
/// "2021-02-17T09:00:00.000Z". Input may use any offset ("2021-02-17T18:00:00+09:00").
#[Scalar(name = "DateTime")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => Timestamp::parse(text).ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}

fn invalid() -> InputValueError<Timestamp> {
    InputValueError::custom("expected an RFC 3339 date-time, e.g. 2021-02-17T09:00:00Z")
}

//! Enums stored as text, decoded once at the database edge.
//!
//! `db_enum!` gives an enum with `as_db` / `from_db` the `Any` driver's `Type`, `Encode` and
//! `Decode`, so a row struct holds the enum itself. A value the enum does not know is a decode
//! error (the row fails to load, and the failure is logged as internal), never a default.

/// Implements `sqlx::Type<Any>`, `Encode` and `Decode` for an enum with
/// `fn as_db(self) -> &'static str` and `fn from_db(&str) -> Option<Self>`.
#[macro_export]
macro_rules! db_enum {
    ($name:ty) => {
        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode(self.as_db(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(
                value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                <$name>::from_db(text).ok_or_else(|| {
                    format!("unknown {} in the database: {text:?}", stringify!($name)).into()
                })
            }
        }
    };
}

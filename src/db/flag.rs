//! Flags (yes/no columns) at the database edge.
//!
//! Flags are stored as INTEGER 0/1 on both databases, because the `Any` driver cannot decode
//! SQLite booleans. [`Flag`] is that column: it decodes 0 and 1 and refuses anything else (an
//! error, never a default), encodes as 0/1, and converts to `bool`, so a row struct holds a
//! `bool` with `#[sqlx(try_from = "Flag")]`.

/// A stored 0/1 flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl From<bool> for Flag {
    fn from(value: bool) -> Flag {
        Flag(value)
    }
}

/// Serialised as a JSON boolean (audit snapshots, event payloads).
impl serde::Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(self.0)
    }
}

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i32 as sqlx::Type<sqlx::Any>>::type_info()
    }

    // Any integer column: SQLite reports expressions as BIGINT, PostgreSQL INTEGER as int4.
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i32 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Flag {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <i32 as sqlx::Encode<'q, sqlx::Any>>::encode(i32::from(self.0), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        match <i32 as sqlx::Decode<'r, sqlx::Any>>::decode(value)? {
            0 => Ok(Flag(false)),
            1 => Ok(Flag(true)),
            other => Err(format!("a flag is 0 or 1, the database holds {other}").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn decode(sql: &str) -> Result<Flag, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect("sqlite::memory:").await.unwrap();
        sqlx::query_scalar::<_, Flag>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
    }

    #[tokio::test]
    async fn zero_and_one_are_flags_and_anything_else_is_an_error() {
        assert_eq!(decode("SELECT 0").await.unwrap(), Flag(false));
        assert_eq!(decode("SELECT 1").await.unwrap(), Flag(true));
        assert!(decode("SELECT 2").await.is_err());
        assert!(decode("SELECT -1").await.is_err());
    }
}

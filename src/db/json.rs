//! JSON stored as TEXT (portable across both databases), decoded at the database edge: a
//! value that is not the expected JSON is a decode error, never a default.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A column holding `T` as JSON text, e.g. `JsonText<Vec<String>>` for a list of codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JsonText<T>(pub T);

impl<T> sqlx::Type<sqlx::Any> for JsonText<T> {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <str as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'q, T: Serialize> sqlx::Encode<'q, sqlx::Any> for JsonText<T> {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        let text = serde_json::to_string(&self.0)?;
        <String as sqlx::Encode<'q, sqlx::Any>>::encode(text, buf)
    }
}

impl<'r, T: DeserializeOwned> sqlx::Decode<'r, sqlx::Any> for JsonText<T> {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        Ok(JsonText(serde_json::from_str(text)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn json_of_the_wrong_shape_is_an_error() {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect("sqlite::memory:").await.unwrap();
        let read = |sql: &'static str| {
            sqlx::query_scalar::<_, JsonText<Vec<String>>>(sql).fetch_one(&pool)
        };
        assert_eq!(
            read("SELECT '[\"PFIZER\"]'").await.unwrap(),
            JsonText(vec!["PFIZER".to_owned()])
        );
        assert!(read("SELECT '{}'").await.is_err());
        assert!(read("SELECT 'not json'").await.is_err());
    }
}

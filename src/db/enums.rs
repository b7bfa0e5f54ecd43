//! Enums stored as text, decoded once at the database edge.
//!
//! The text of each value comes from `strum` (`IntoStaticStr` and `EnumString`, usually
//! `serialize_all = "SCREAMING_SNAKE_CASE"`, the same spelling as the GraphQL enum). `db_enum!`
//! adds `as_db` / `from_db` and the `Any` driver's `Type`, `Encode` and `Decode`, so a row
//! struct holds the enum itself. A value the enum does not know is a decode error (the row
//! fails to load, and the failure is logged as internal), never a default.

/// Implements `as_db`, `from_db`, `sqlx::Type<Any>`, `Encode` and `Decode` for an enum that
/// derives `strum::IntoStaticStr` and `strum::EnumString`.
#[macro_export]
macro_rules! db_enum {
    ($name:ty) => {
        impl $name {
            /// The stored text.
            pub fn as_db(self) -> &'static str {
                self.into()
            }

            /// The value of stored text; `None` for text this enum does not know.
            pub fn from_db(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_db())
            }
        }

        /// Serialised as the stored text (audit snapshots, event payloads).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_db())
            }
        }

        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Any>>::compatible(ty)
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

#[cfg(test)]
mod tests {
    use crate::actor::Role;
    use crate::organizations::{ApprovalStatus, OrganizationKind};

    // The stored text is the contract with every existing database: renaming a variant must
    // not silently change it.
    #[test]
    fn stored_texts_do_not_change() {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_db()).collect();
        assert_eq!(
            roles,
            [
                "NATION",
                "PREFECTURE",
                "MUNICIPALITY",
                "MEDICAL_INSTITUTION",
                "AGGREGATOR",
                "MEDICAL_ASSOCIATION",
                "MANUFACTURER",
                "WHOLESALER",
                "DRY_ICE_SUPPLIER",
                "SUPPLY_WAREHOUSE",
                "SYSTEM_ADMIN",
                "RESERVATION_OPERATOR"
            ]
        );
        let kinds: Vec<&str> = OrganizationKind::ALL.iter().map(|k| k.as_db()).collect();
        assert_eq!(
            kinds,
            [
                "NATION",
                "PREFECTURE",
                "MUNICIPALITY",
                "FACILITY",
                "AGGREGATOR",
                "MEDICAL_ASSOCIATION",
                "MANUFACTURER",
                "WHOLESALER",
                "DRY_ICE_SUPPLIER",
                "SUPPLY_WAREHOUSE",
                "SERVICE_DESK"
            ]
        );
        assert_eq!(ApprovalStatus::Settled.as_db(), "NONE");
    }

    #[test]
    fn unknown_text_is_no_value_and_texts_round_trip() {
        assert_eq!(Role::from_db("nation"), None);
        assert_eq!(Role::from_db("SUPERUSER"), None);
        for role in Role::ALL {
            assert_eq!(Role::from_db(role.as_db()), Some(role));
        }
        assert_eq!(ApprovalStatus::from_db("SETTLED"), None);
        assert_eq!(
            ApprovalStatus::from_db("NONE"),
            Some(ApprovalStatus::Settled)
        );
    }
}

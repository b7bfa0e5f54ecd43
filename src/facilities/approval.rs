//! The approval fields (domain.md §4, seed p. 27): what a facility cannot change on its own.
//! A change request stores their values before and after, keyed by the service's own field
//! names (`representative_name`); the API shows them under its names (`representativeName`).

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde_json::{Map, Value, json};

use crate::graphql::ids::{global_id, row_of};
use crate::organizations::OrganizationRecord;

/// One approval field. The order is the order a municipality reads them in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum ApprovalField {
    /// 医療機関コード.
    MedicalInstitutionCode,
    /// 代表者名.
    RepresentativeName,
    /// The collective contract's join date.
    CollectiveJoinDate,
    /// The collective contract's withdrawal date.
    CollectiveWithdrawalDate,
    /// 代行入力.
    ProxyInput,
    /// Vaccines handled.
    VaccinesHandled,
    /// Basic-type or satellite.
    SupplyType,
    /// The basic-type facility supplying a satellite.
    BasicFacility,
    /// 一般受入.
    GeneralAcceptance,
}

impl ApprovalField {
    /// The key a change request stores the field under.
    pub fn storage_key(self) -> &'static str {
        self.into()
    }

    /// The field's name in the API (`FieldChange.field`, the `updateFacility` input).
    pub fn api_name(self) -> &'static str {
        match self {
            ApprovalField::MedicalInstitutionCode => "medicalInstitutionCode",
            ApprovalField::RepresentativeName => "representativeName",
            ApprovalField::CollectiveJoinDate => "collectiveJoinDate",
            ApprovalField::CollectiveWithdrawalDate => "collectiveWithdrawalDate",
            ApprovalField::ProxyInput => "proxyInput",
            ApprovalField::VaccinesHandled => "vaccinesHandled",
            ApprovalField::SupplyType => "supplyType",
            ApprovalField::BasicFacility => "basicFacility",
            ApprovalField::GeneralAcceptance => "generalAcceptance",
        }
    }
}

/// Values of approval fields, by field: all of them for a facility's current state, only the
/// changed ones in a request. A value is JSON because the fields differ in type and the API
/// shows them side by side as JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalValues(BTreeMap<ApprovalField, Value>);

impl ApprovalValues {
    pub fn get(&self, field: ApprovalField) -> Option<&Value> {
        self.0.get(&field)
    }

    /// The value as text (codes, names, dates, the supply type); `None` when absent or null.
    pub fn text(&self, field: ApprovalField) -> Option<&str> {
        self.get(field).and_then(Value::as_str)
    }

    /// Whether the field is present with a non-null value.
    pub fn has_value(&self, field: ApprovalField) -> bool {
        self.get(field).is_some_and(|v| !v.is_null())
    }

    pub fn contains(&self, field: ApprovalField) -> bool {
        self.0.contains_key(&field)
    }

    pub fn insert(&mut self, field: ApprovalField, value: Value) {
        self.0.insert(field, value);
    }

    pub fn remove(&mut self, field: ApprovalField) {
        self.0.remove(&field);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> impl Iterator<Item = ApprovalField> + '_ {
        self.0.keys().copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (ApprovalField, &Value)> {
        self.0.iter().map(|(field, value)| (*field, value))
    }

    /// As people read it (the audit log): a JSON object keyed by the API's names.
    pub fn to_api_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(field, value)| (field.api_name().to_owned(), value.clone()))
                .collect(),
        )
    }

    /// Stored form: a JSON object keyed by storage keys.
    pub fn to_storage(&self) -> String {
        serde_json::to_string(self).expect("JSON values always serialise")
    }

    /// Reads the stored form; a key the service does not know is an error, never dropped.
    pub fn from_storage(text: &str) -> Result<ApprovalValues, String> {
        let map: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("approval values: {e}"))?;
        let mut values = ApprovalValues::default();
        for (key, value) in map {
            let field: ApprovalField = key
                .parse()
                .map_err(|_| format!("unknown approval field {key:?}"))?;
            values.insert(field, value);
        }
        Ok(values)
    }
}

/// Serialised keyed by storage keys (the stored form).
impl serde::Serialize for ApprovalValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, value) in &self.0 {
            map.serialize_entry(field.storage_key(), value)?;
        }
        map.end()
    }
}

impl sqlx::Type<sqlx::Any> for ApprovalValues {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <str as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for ApprovalValues {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Any>>::encode(self.to_storage(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for ApprovalValues {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        ApprovalValues::from_storage(text).map_err(Into::into)
    }
}

/// How a change request shows a basic-type facility: its global id, code and name, so the
/// municipality reads who it is side by side; null for none.
pub fn basic_facility_value(basic: Option<&OrganizationRecord>) -> Value {
    match basic {
        Some(b) => {
            json!({ "id": global_id("Facility", &b.id).to_string(), "code": b.code, "name": b.name })
        }
        None => Value::Null,
    }
}

/// The row id inside a change request's basic-facility value.
pub fn basic_facility_row(value: &Value) -> Option<String> {
    let id = value.get("id")?.as_str()?;
    row_of(id, &["Facility"], "facility").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use strum::VariantArray;

    #[test]
    fn values_are_stored_under_the_services_names_and_read_back() {
        let mut values = ApprovalValues::default();
        values.insert(ApprovalField::RepresentativeName, json!("院長 花子"));
        values.insert(ApprovalField::ProxyInput, json!(true));
        let stored = values.to_storage();
        assert_eq!(
            stored,
            r#"{"representative_name":"院長 花子","proxy_input":true}"#
        );
        assert_eq!(ApprovalValues::from_storage(&stored), Ok(values));
    }

    #[test]
    fn an_unknown_stored_key_is_an_error() {
        assert!(ApprovalValues::from_storage(r#"{"representativeName":"x"}"#).is_err());
        assert!(ApprovalValues::from_storage("[1]").is_err());
    }

    #[test]
    fn every_field_has_an_api_name_in_camel_case() {
        for field in ApprovalField::VARIANTS {
            let key = field.storage_key();
            let camel: String = key
                .split('_')
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        part.to_owned()
                    } else {
                        part[..1].to_uppercase() + &part[1..]
                    }
                })
                .collect();
            assert_eq!(field.api_name(), camel);
        }
    }
}

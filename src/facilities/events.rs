//! Facility changes as events, for the navigator and the facility's area:
//!
//! - `facility.updated`, PUBLIC: the fields the public may see (name, location, phone, hours,
//!   access, parking, vaccines handled, general acceptance). It is built from the facility's
//!   row, which holds approved values only: a value waiting in a change request never reaches
//!   it, and it is announced when the municipality approves it.
//! - `facility.changed`, RESTRICTED to the facility's area: every other field that changed
//!   (code, representative, capacity, proxy flag, basic-type facility, contract dates).
//!
//! Each event carries the facility's whole view of its field set (so a consumer never has to
//! merge) and `changedFields` (sorted); it is emitted only when one of its fields changed. Both are
//! appended in the transaction of the change.

use serde_json::{Map, Value, json};

use crate::events::{NewEvent, Visibility};
use crate::graphql::ids::global_id;
use crate::organizations::OrganizationRecord;

/// Public facility data changed.
pub const UPDATED_TOPIC: &str = "facility.updated";
/// Restricted facility data changed.
pub const CHANGED_TOPIC: &str = "facility.changed";

/// The fields anyone may see, as the navigator shows them.
fn public_view(record: &OrganizationRecord) -> Map<String, Value> {
    let vaccines = record.vaccines();
    let fields = json!({
        "name": record.name,
        "nameKana": record.name_kana,
        "nameRomaji": record.name_romaji,
        "postalCode": record.postal_code,
        "address": record.address,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "phone": record.phone,
        "openingHours": record.opening_hours,
        "accessNotes": record.access_notes,
        "parkingNotes": record.parking_notes,
        "vaccinesHandled": vaccines,
        "generalAcceptance": record.general_acceptance(),
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The facility's other fields, for its area only.
fn restricted_view(record: &OrganizationRecord) -> Map<String, Value> {
    let fields = json!({
        "medicalInstitutionCode": record.code,
        "representativeName": record.representative_name,
        "weeklyCapacity": record.weekly_capacity,
        "proxyInput": record.proxy_input(),
        "supplyType": record.supply_type,
        "basicFacilityId": record
            .basic_facility_id
            .as_deref()
            .map(|id| crate::graphql::ids::global_id("Facility", id).to_string()),
        "operatingMunicipalityId": record
            .operating_municipality_id
            .as_deref()
            .map(|id| crate::graphql::ids::global_id("Municipality", id).to_string()),
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn changed_fields(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    let mut changed: Vec<String> = after
        .iter()
        .filter(|(field, value)| before.get(*field) != Some(value))
        .map(|(field, _)| field.clone())
        .collect();
    changed.sort_unstable();
    changed
}

/// The events describing the change from `before` to `after` (the facility's row read in the
/// transaction before and after the change). `contract` holds approved contract dates, which
/// live beside the facility's row (restricted).
pub fn facility_events(
    before: &OrganizationRecord,
    after: &OrganizationRecord,
    contract: &Map<String, Value>,
) -> Vec<NewEvent> {
    let facility_id = global_id("Facility", &after.id).to_string();
    let municipality_id = after
        .municipality_id
        .as_deref()
        .map(|id| global_id("Municipality", id).to_string());
    let mut events = Vec::new();

    let public = public_view(after);
    let changed = changed_fields(&public_view(before), &public);
    if !changed.is_empty() {
        events.push(NewEvent {
            topic: UPDATED_TOPIC.into(),
            visibility: Visibility::Public,
            organization_id: Some(after.id.clone()),
            payload: json!({
                "facilityId": facility_id,
                "municipalityId": municipality_id,
                "changedFields": changed,
                "facility": public,
            }),
        });
    }

    let mut restricted = restricted_view(after);
    let mut changed = changed_fields(&restricted_view(before), &restricted);
    for (field, value) in contract {
        restricted.insert(field.clone(), value.clone());
        changed.push(field.clone());
    }
    changed.sort_unstable();
    if !changed.is_empty() {
        events.push(NewEvent {
            topic: CHANGED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(after.id.clone()),
            payload: json!({
                "facilityId": facility_id,
                "municipalityId": municipality_id,
                "changedFields": changed,
                "facility": restricted,
            }),
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> OrganizationRecord {
        OrganizationRecord {
            id: "f".into(),
            kind: crate::organizations::OrganizationKind::Facility,
            code: "1311000010".into(),
            name: "病院".into(),
            municipality_id: Some("m".into()),
            address: Some("東京都".into()),
            vaccines_handled: Some(Default::default()),
            general_acceptance: Some(crate::db::Flag(false)),
            proxy_input: Some(crate::db::Flag(false)),
            ..Default::default()
        }
    }

    #[test]
    fn a_public_change_is_a_public_event_without_any_restricted_field() {
        let before = record();
        let mut after = record();
        after.opening_hours = Some("9-17".into());
        let events = facility_events(&before, &after, &Map::new());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].topic, UPDATED_TOPIC);
        assert_eq!(events[0].visibility, Visibility::Public);
        assert_eq!(events[0].payload["changedFields"], json!(["openingHours"]));
        for private in [
            "representativeName",
            "weeklyCapacity",
            "proxyInput",
            "medicalInstitutionCode",
        ] {
            assert!(
                events[0].payload["facility"].get(private).is_none(),
                "{private}"
            );
        }
    }

    #[test]
    fn a_restricted_change_is_only_a_restricted_event() {
        let before = record();
        let mut after = record();
        after.weekly_capacity = Some(100);
        let contract = Map::from_iter([("collectiveJoinDate".to_owned(), json!("2021-03-01"))]);
        let events = facility_events(&before, &after, &contract);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].topic, CHANGED_TOPIC);
        assert_eq!(events[0].visibility, Visibility::Restricted);
        assert_eq!(
            events[0].payload["changedFields"],
            json!(["collectiveJoinDate", "weeklyCapacity"])
        );
        assert!(facility_events(&before, &record(), &Map::new()).is_empty());
    }
}

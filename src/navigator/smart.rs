//! Availability in the SMART Scheduling Links format (the open standard US aggregators such as
//! vaccines.gov read; specification: github.com/smart-on-fhir/smart-scheduling-links,
//! `specification.md`): a `$bulk-publish` manifest pointing at NDJSON files of FHIR
//! `Location`, `Schedule` and `Slot` resources, so that third parties can build on the
//! navigator's data.
//!
//! Published venues appear as Locations; a venue booking in vsys has one Schedule per vaccine
//! it has slots for, and its coming slots (the navigator's four weeks) as Slots, free or busy,
//! with the free places as capacity. Slots are split into one file per prefecture, as the
//! specification allows for regional clients.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::{OrganizationKind, store};
use crate::reservations::availability::HORIZON_DAYS;
use crate::reservations::slots::japan_minute_at;

const IMMUNIZATION: &str = "http://terminology.hl7.org/CodeSystem/service-type";
const COVID_SERVICE: &str = "http://fhir-registry.smarthealthit.org/CodeSystem/service-type";
const CAPACITY: &str = "http://fhir-registry.smarthealthit.org/StructureDefinition/slot-capacity";
const PRODUCT: &str = "http://fhir-registry.smarthealthit.org/StructureDefinition/vaccine-product";

/// The manifest: where the files are, at `base` (the server's public URL).
pub async fn manifest(db: &Db, base: &str) -> AppResult<Value> {
    let prefectures: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT o.code FROM reservation_slots s \
         JOIN organizations f ON f.id = s.facility_id \
         JOIN organizations o ON o.id = f.prefecture_id \
         JOIN facilities x ON x.organization_id = s.facility_id \
         WHERE x.navigator_published = 1 AND x.reservation_mode = 'VSYS' AND s.starts_at > $1 \
         ORDER BY o.code",
    )
    .bind(japan_minute_at(db.now()))
    .fetch_all(db.pool())
    .await?;
    let mut output = vec![
        json!({ "type": "Location", "url": format!("{base}/smart/locations.ndjson") }),
        json!({ "type": "Schedule", "url": format!("{base}/smart/schedules.ndjson") }),
    ];
    output.extend(prefectures.into_iter().map(|(code,)| {
        json!({ "type": "Slot", "url": format!("{base}/smart/slots/{code}.ndjson"),
            "extension": { "state": [format!("JP-{code}")] } })
    }));
    Ok(json!({
        "transactionTime": db.now(),
        "request": format!("{base}/smart/$bulk-publish"),
        "output": output,
        "error": [],
    }))
}

/// NDJSON: one minified resource per line.
fn ndjson(resources: impl IntoIterator<Item = Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for resource in resources {
        out.extend_from_slice(resource.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Every published venue as a FHIR Location.
pub async fn locations(db: &Db) -> AppResult<Vec<u8>> {
    let mut filter = crate::db::Filter::default();
    filter
        .and("o.kind = 'FACILITY'", [])
        .and("f.navigator_published = 1", []);
    let venues = store::matching(db, filter, "o.code", 1_000_000).await?;
    let areas: HashMap<String, String> = store::of_kind(db, OrganizationKind::Prefecture, None)
        .await?
        .into_iter()
        .chain(store::of_kind(db, OrganizationKind::Municipality, None).await?)
        .map(|o| (o.id, o.name))
        .collect();
    let name_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| areas.get(id))
            .cloned()
            .unwrap_or_default()
    };
    Ok(ndjson(venues.into_iter().map(|v| {
        let mut location = json!({
            "resourceType": "Location",
            "id": v.code,
            "name": v.name,
            "telecom": v.phone.iter().map(|p| json!({ "system": "phone", "value": p })).collect::<Vec<_>>(),
            "address": {
                "line": [v.address.clone().unwrap_or_default()],
                "city": name_of(&v.municipality_id),
                "state": name_of(&v.prefecture_id),
                "postalCode": v.postal_code.clone().unwrap_or_default(),
                "country": "JP",
            },
        });
        if let (Some(latitude), Some(longitude)) = (v.latitude, v.longitude) {
            location["position"] = json!({ "latitude": latitude, "longitude": longitude });
        }
        if let Some(access) = &v.access_notes {
            location["description"] = json!(access);
        }
        location
    })))
}

/// One Schedule per vsys venue and vaccine with coming slots.
pub async fn schedules(db: &Db) -> AppResult<Vec<u8>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT o.code, p.code, p.name FROM reservation_slots s \
         JOIN organizations o ON o.id = s.facility_id \
         JOIN facilities f ON f.organization_id = s.facility_id \
         JOIN products p ON p.id = s.product_id \
         WHERE f.navigator_published = 1 AND f.reservation_mode = 'VSYS' AND s.starts_at > $1 \
         ORDER BY o.code, p.code",
    )
    .bind(japan_minute_at(db.now()))
    .fetch_all(db.pool())
    .await?;
    Ok(ndjson(rows.into_iter().map(|(venue, product, name)| {
        json!({
            "resourceType": "Schedule",
            "id": schedule_id(&venue, &product),
            "serviceType": [{ "coding": [
                { "system": IMMUNIZATION, "code": "57", "display": "Immunization" },
                { "system": COVID_SERVICE, "code": "covid19-immunization",
                  "display": "COVID-19 Immunization Appointment" },
            ] }],
            "actor": [{ "reference": format!("Location/{venue}") }],
            "extension": [{ "url": PRODUCT,
                "valueCoding": { "system": "urn:vsys:product", "code": product, "display": name } }],
        })
    })))
}

fn schedule_id(venue_code: &str, product_code: &str) -> String {
    format!("{venue_code}.{product_code}")
}

/// `YYYY-MM-DDTHH:MM` in Japan as an ISO 8601 instant with its offset.
fn instant(local: &str) -> String {
    format!("{local}:00+09:00")
}

/// The coming slots of a prefecture's published vsys venues.
pub async fn slots(db: &Db, prefecture_code: &str) -> AppResult<Option<Vec<u8>>> {
    let Some(prefecture) =
        store::find_by_code(db, OrganizationKind::Prefecture, prefecture_code).await?
    else {
        return Ok(None);
    };
    let now: Timestamp = db.now();
    let last = (now.instant().to_offset(crate::clock::JST).date()
        + time::Duration::days(HORIZON_DAYS))
    .to_string();
    let rows: Vec<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT s.id, o.code, p.code, s.starts_at, s.ends_at, s.capacity, s.booked \
         FROM reservation_slots s \
         JOIN organizations o ON o.id = s.facility_id \
         JOIN facilities f ON f.organization_id = s.facility_id \
         JOIN products p ON p.id = s.product_id \
         WHERE o.prefecture_id = $1 AND f.navigator_published = 1 \
         AND f.reservation_mode = 'VSYS' AND s.starts_at > $2 AND s.slot_date <= $3 \
         ORDER BY s.starts_at, o.code, s.id",
    )
    .bind(&prefecture.id)
    .bind(japan_minute_at(now))
    .bind(last)
    .fetch_all(db.pool())
    .await?;
    Ok(Some(ndjson(rows.into_iter().map(
        |(id, venue, product, starts, ends, capacity, booked)| {
            let free = capacity - booked;
            json!({
                "resourceType": "Slot",
                // Identifiers allow letters, digits, `_` and `.`: the UUID without hyphens.
                "id": id.replace('-', ""),
                "schedule": { "reference": format!("Schedule/{}", schedule_id(&venue, &product)) },
                "status": if free > 0 { "free" } else { "busy" },
                "start": instant(&starts),
                "end": instant(&ends),
                "extension": [{ "url": CAPACITY, "valueInteger": if free > 0 { free } else { capacity } }],
            })
        },
    ))))
}

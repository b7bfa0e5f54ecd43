//! Facilities created or re-supplied are changes like any other: the navigator's fields reach
//! everyone (`facility.updated`), the rest only the facility's area (`facility.changed`).

mod common;

use common::api::{facility_id, hospital};
use common::ws::{latest_seq, publish_marker};
use common::{TestServer, WsClient};
use serde_json::{Value, json};

const FEED: &str = "subscription($after: Int) { events(after: $after, topics: [\"facility.updated\", \"facility.changed\", \"marker\"]) { topic payload } }";

async fn subscribe(server: &TestServer, token: Option<&str>) -> WsClient {
    let after = latest_seq(server).await;
    let payload = json!({ "query": FEED, "variables": { "after": after } });
    common::ws::subscribe(server, token, "s", payload).await
}

/// The events a subscriber received up to the public marker published last.
async fn received(server: &TestServer, ws: &mut WsClient) -> Vec<Value> {
    publish_marker(server, "marker").await;
    let mut events = Vec::new();
    loop {
        let message = ws.next_json().await;
        let event = message["payload"]["data"]["events"].clone();
        if event["topic"] == "marker" {
            return events;
        }
        events.push(event);
    }
}

#[tokio::test]
async fn a_new_special_venue_is_announced_to_the_public_and_its_details_to_its_area() {
    let server = TestServer::start().await;
    let meguro = server.sign_in("meguro.staff").await;
    let yokohama = server.sign_in("yokohama.admin").await;
    let mut anonymous = subscribe(&server, None).await;
    let mut area = subscribe(&server, Some(&meguro)).await;
    let mut elsewhere = subscribe(&server, Some(&yokohama)).await;

    let response = server
        .graphql_as(
            &meguro,
            "mutation($i: RegisterSpecialVenueInput!) { registerSpecialVenue(input: $i) { id } }",
            json!({ "i": { "code": "1319000020", "name": "目黒区特設会場02", "address": "東京都目黒区八雲1-1-1",
                           "latitude": 35.62, "longitude": 139.67 } }),
        )
        .await;
    let venue = response["data"]["registerSpecialVenue"]["id"].clone();
    assert!(venue.is_string(), "{response}");

    let public = received(&server, &mut anonymous).await;
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(public[0]["topic"], "facility.updated");
    assert_eq!(public[0]["payload"]["facilityId"], venue);
    assert_eq!(public[0]["payload"]["facility"]["name"], "目黒区特設会場02");
    assert!(
        public[0]["payload"]["facility"]
            .get("medicalInstitutionCode")
            .is_none(),
        "the code is not a public field"
    );

    let topics: Vec<Value> = received(&server, &mut area)
        .await
        .into_iter()
        .map(|e| e["topic"].clone())
        .collect();
    assert_eq!(
        topics,
        [json!("facility.updated"), json!("facility.changed")]
    );
    let foreign: Vec<Value> = received(&server, &mut elsewhere)
        .await
        .into_iter()
        .map(|e| e["topic"].clone())
        .collect();
    assert_eq!(foreign, [json!("facility.updated")], "only the public part");
    server.stop().await;
}

#[tokio::test]
async fn naming_the_delivering_wholesaler_is_a_restricted_facility_change() {
    let server = TestServer::start().await;
    hospital(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let mut anonymous = subscribe(&server, None).await;
    let mut area = subscribe(&server, Some(&meguro)).await;

    // The demo names a wholesaler; clearing it is the change.
    let cleared = server
        .graphql_as(
            &meguro,
            "mutation($f: ID!) { setDeliveringWholesaler(facilityId: $f) { id } }",
            json!({ "f": facility }),
        )
        .await;
    assert!(cleared.get("errors").is_none(), "{cleared}");

    assert!(received(&server, &mut anonymous).await.is_empty());
    let changes = received(&server, &mut area).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["topic"], "facility.changed");
    assert_eq!(
        changes[0]["payload"]["changedFields"],
        json!(["deliveringWholesalerId"])
    );
    assert_eq!(
        changes[0]["payload"]["facility"]["deliveringWholesalerId"],
        Value::Null
    );
    server.stop().await;
}

//! Deliveries (issue #9, seed p. 43): from the data lock on, the wholesaler schedules and records
//! each facility's delivery, the clinic sees it live; shipments to wholesalers, their stock, and
//! the dry-ice supplier's check.

mod common;

use common::TestServer;
use common::allocation::*;
use common::api::{
    assert_error, assert_invalid, error_reason, facility_id, organization_id,
    sign_in_accepting_policy,
};
use common::db::audited;
use serde_json::{Value, json};

const DELIVERIES: &str = "query($c: ID) { deliveries(coolId: $c) { edges { node { id status boxes doses releasedOn scheduledOn deliveredOn deliveredBoxes lots { lotNumber boxes } product { code } facility { name } deliverer { code } } } } }";
const SCHEDULE: &str = "mutation($d: ID!, $on: String!) { scheduleDelivery(deliveryId: $d, scheduledOn: $on) { status scheduledOn } }";
const RECORD: &str = "mutation($d: ID!, $on: String!, $lots: [LotInput!]!) { recordDelivery(deliveryId: $d, deliveredOn: $on, lots: $lots) { status deliveredOn deliveredBoxes lots { lotNumber boxes } } }";
const ALLOCATIONS: &str = "query($f: ID!) { node(id: $f) { ... on Facility { allocations { productCode boxes doses locked delivery { scheduledOn deliveredOn lots { lotNumber } } } } } }";

/// The worked example up to Tokyo's lock; returns the cool.
async fn locked(server: &TestServer, c: &Cast) -> Value {
    let cool = up_to_meguro_complete(server, c).await;
    server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;
    cool
}

async fn deliveries(server: &TestServer, token: &str, cool: &Value) -> Vec<Value> {
    let data = server
        .data_as(token, DELIVERIES, json!({ "c": cool }))
        .await;
    common::api::nodes(&data["deliveries"])
}

fn of_product<'a>(lines: &'a [Value], code: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["product"]["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {lines:?}"))
}

fn day(server: &TestServer, offset: i64) -> String {
    (server
        .state
        .db
        .clock()
        .now()
        .instant()
        .to_offset(vsys::clock::JST)
        .date()
        + time::Duration::days(offset))
    .to_string()
}

#[tokio::test]
async fn the_wholesaler_schedules_and_delivers_and_the_clinic_sees_it_live() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let hospital_id = facility_id(&server, "Meguro Hospital 01").await;
    // Before the lock: the hospital sees no allocation, Meguro sees it unlocked.
    let cool = up_to_meguro_complete(&server, &c).await;
    let view = |token: &str| {
        let token = token.to_owned();
        let hospital_id = hospital_id.clone();
        let server = &server;
        async move {
            server
                .data_as(&token, ALLOCATIONS, json!({ "f": hospital_id }))
                .await["node"]["allocations"]
                .clone()
        }
    };
    assert_eq!(view(&c.hospital).await, json!([]));
    assert_eq!(view(&c.meguro).await[0]["locked"], false);
    let wholesaler = sign_in_accepting_policy(&server, "wholesaler.admin").await;
    assert_eq!(
        deliveries(&server, &wholesaler, &cool).await,
        Vec::<Value>::new()
    );

    server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;
    let after = common::ws::latest_seq(&server).await;
    let feed = json!({ "query": "subscription($a: Int) { deliveryEvents(after: $a) { kind facility { name } scheduledOn deliveredOn } }", "variables": { "a": after } });
    let mut live = common::ws::subscribe(&server, Some(&c.hospital), "d", feed.clone()).await;
    let yokohama = sign_in_accepting_policy(&server, "yokohama.admin").await;
    let mut elsewhere = common::ws::subscribe(&server, Some(&yokohama), "d", feed).await;

    // The wholesaler sees what to deliver where: Meguro Hospital 01's three lines (and the
    // special venue's, which kept the proposal's 2 boxes).
    let lines: Vec<Value> = deliveries(&server, &wholesaler, &cool)
        .await
        .into_iter()
        .filter(|l| l["facility"]["name"] == "目黒区病院01")
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let vaccine = of_product(&lines, "PFIZER").clone();
    assert_eq!(vaccine["facility"]["name"], "目黒区病院01");
    assert_eq!(
        (vaccine["boxes"].clone(), vaccine["doses"].clone()),
        (json!(1), json!(975))
    );
    assert_eq!(vaccine["status"], "UNSCHEDULED");
    assert_eq!(vaccine["deliverer"]["code"], "WS-KANTO-01");
    let id = vaccine["id"].clone();

    // A date before the lock is refused; three days on is registered and reaches the clinic.
    let early = server
        .graphql_as(
            &wholesaler,
            SCHEDULE,
            json!({ "d": id, "on": day(&server, -1) }),
        )
        .await;
    assert_invalid(&early, "scheduledOn");
    let on = day(&server, 3);
    let scheduled = server
        .data_as(&wholesaler, SCHEDULE, json!({ "d": id, "on": on }))
        .await;
    assert_eq!(scheduled["scheduleDelivery"]["status"], "SCHEDULED");
    let event = live.next_json().await;
    assert_eq!(
        event["payload"]["data"]["deliveryEvents"],
        json!({ "kind": "SCHEDULED", "facility": { "name": "目黒区病院01" }, "scheduledOn": on, "deliveredOn": null })
    );

    // Not ahead of today; never more than allocated; then delivered (earlier than planned)
    // with its lot.
    let lot = |boxes: i64| json!([{ "lotNumber": "EW0150", "boxes": boxes }]);
    let ahead = server
        .graphql_as(
            &wholesaler,
            RECORD,
            json!({ "d": id, "on": on, "lots": lot(1) }),
        )
        .await;
    assert_invalid(&ahead, "deliveredOn");
    let on = day(&server, 0);
    let more = server
        .graphql_as(
            &wholesaler,
            RECORD,
            json!({ "d": id, "on": on, "lots": lot(2) }),
        )
        .await;
    assert_invalid(&more, "lots");
    let delivered = server
        .data_as(
            &wholesaler,
            RECORD,
            json!({ "d": id, "on": on, "lots": lot(1) }),
        )
        .await;
    assert_eq!(delivered["recordDelivery"]["deliveredBoxes"], 1);
    let event = live.next_json().await;
    assert_eq!(
        event["payload"]["data"]["deliveryEvents"]["kind"],
        "DELIVERED"
    );
    let twice = server
        .graphql_as(
            &wholesaler,
            RECORD,
            json!({ "d": id, "on": on, "lots": lot(1) }),
        )
        .await;
    assert_eq!(error_reason(&twice), "ALREADY_DELIVERED");
    let moved = server
        .graphql_as(&wholesaler, SCHEDULE, json!({ "d": id, "on": on }))
        .await;
    assert_eq!(error_reason(&moved), "ALREADY_DELIVERED");

    // The clinic's view: its amount in boxes and doses, the date and the lot.
    let mine = view(&c.hospital).await;
    let vaccine = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["productCode"] == "PFIZER")
        .unwrap()
        .clone();
    assert_eq!(
        vaccine,
        json!({ "productCode": "PFIZER", "boxes": 1, "doses": 975, "locked": true, "delivery": { "scheduledOn": day(&server, 3), "deliveredOn": on, "lots": [{ "lotNumber": "EW0150" }] } })
    );
    assert_eq!(audited(&server, "recordDelivery", "SUCCESS").await, 1);
    assert_eq!(audited(&server, "recordDelivery", "FAILURE").await, 3);
    // Yokohama heard nothing of Meguro's deliveries: its first event is one of its own (a
    // marker published to its area last).
    server
        .state
        .events
        .publish(&vsys::events::NewEvent {
            topic: "delivery.scheduled".into(),
            visibility: vsys::events::Visibility::Restricted,
            organization_id: Some(
                sqlx::query_scalar("SELECT id FROM organizations WHERE code = '141003'")
                    .fetch_one(server.state.db.pool())
                    .await
                    .unwrap(),
            ),
            payload: json!({ "scheduledOn": "marker" }),
        })
        .await
        .unwrap();
    let first = elsewhere.next_json().await;
    assert_eq!(
        first["payload"]["data"]["deliveryEvents"]["scheduledOn"], "marker",
        "{first}"
    );
    server.stop().await;
}

#[tokio::test]
async fn only_the_deliverer_enters_and_each_party_sees_its_share() {
    let server = TestServer::start_signing_in_freely().await;
    let c = cast(&server).await;
    let cool = locked(&server, &c).await;
    let wholesaler = sign_in_accepting_policy(&server, "wholesaler.admin").await;
    let lines = deliveries(&server, &wholesaler, &cool).await;
    let id = of_product(&lines, "PFIZER")["id"].clone();
    let on = day(&server, 1);
    // Meguro Hospital 01 (1 / 10 / 10) and Meguro Special Venue 01 (2 / 20 / 20).
    // The clinic and its municipality see it but do not enter it; another area does not see it.
    for (user, code) in [
        ("meguro-hospital.admin", "FORBIDDEN"),
        ("meguro.admin", "FORBIDDEN"),
        ("yokohama.admin", "NOT_FOUND"),
        ("pfizer.admin", "NOT_FOUND"),
    ] {
        let token = sign_in_accepting_policy(&server, user).await;
        let response = server
            .graphql_as(&token, SCHEDULE, json!({ "d": id, "on": on }))
            .await;
        assert_error(&response, code, None);
    }
    for (user, count) in [
        ("nation.admin", 6),
        ("tokyo.admin", 6),
        ("meguro.admin", 6),
        ("meguro-hospital.admin", 3),
        ("yokohama.admin", 0),
        ("kanagawa.admin", 0),
        ("pfizer.admin", 2),
        ("dryice.admin", 2),
        ("meguro-ma.admin", 0),
    ] {
        let token = sign_in_accepting_policy(&server, user).await;
        assert_eq!(
            deliveries(&server, &token, &cool).await.len(),
            count,
            "{user}"
        );
    }
    // The manufacturer's totals per wholesaler for its vaccine.
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let totals = server
        .data_as(
            &pfizer,
            "query($c: ID!) { deliveryTotals(coolId: $c) { productCode deliveries boxes scheduledBoxes deliveredBoxes } }",
            json!({ "c": cool }),
        )
        .await;
    assert_eq!(
        totals["deliveryTotals"],
        json!([{ "productCode": "PFIZER", "deliveries": 2, "boxes": 3, "scheduledBoxes": 0, "deliveredBoxes": 0 }])
    );
    assert!(audited(&server, "scheduleDelivery", "DENIED").await >= 4);
    server.stop().await;
}

#[tokio::test]
async fn wholesalers_record_receipts_and_the_dry_ice_supplier_sees_refill_dates() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = locked(&server, &c).await;
    let wholesaler_id = organization_id(&server, "WHOLESALER").await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let warehouse = sign_in_accepting_policy(&server, "warehouse.admin").await;
    let wholesaler = sign_in_accepting_policy(&server, "wholesaler.admin").await;
    const SHIP: &str = "mutation($c: ID!, $p: String!, $w: ID!, $b: Int!, $on: String!) { recordShipment(input: { coolId: $c, productCode: $p, wholesalerId: $w, boxes: $b, shippedOn: $on }) { id boxes } }";
    const RECEIVE: &str = "mutation($s: ID!, $on: String!) { receiveShipment(shipmentId: $s, receivedOn: $on) { receivedOn } }";
    let today = day(&server, 0);
    let ship =
        |p: &str, b: i64| json!({ "c": cool, "p": p, "w": wholesaler_id, "b": b, "on": today });
    let vaccine =
        server.data_as(&pfizer, SHIP, ship("PFIZER", 1)).await["recordShipment"]["id"].clone();
    let needles =
        server.data_as(&warehouse, SHIP, ship("NEEDLE", 10)).await["recordShipment"]["id"].clone();
    // Senders ship only their own products.
    assert_error(
        &server.graphql_as(&pfizer, SHIP, ship("NEEDLE", 1)).await,
        "FORBIDDEN",
        None,
    );
    assert_error(
        &server
            .graphql_as(&wholesaler, SHIP, ship("PFIZER", 1))
            .await,
        "FORBIDDEN",
        None,
    );
    assert_invalid(
        &server.graphql_as(&pfizer, SHIP, ship("PFIZER", 0)).await,
        "boxes",
    );
    for shipment in [&vaccine, &needles] {
        server
            .data_as(&wholesaler, RECEIVE, json!({ "s": shipment, "on": today }))
            .await;
    }
    let again = server
        .graphql_as(&wholesaler, RECEIVE, json!({ "s": vaccine, "on": today }))
        .await;
    assert_eq!(error_reason(&again), "ALREADY_RECEIVED");
    assert_error(
        &server
            .graphql_as(&pfizer, RECEIVE, json!({ "s": vaccine, "on": today }))
            .await,
        "FORBIDDEN",
        None,
    );
    let stock = server
        .data_as(
            &wholesaler,
            "query($c: ID!) { wholesalerStock(coolId: $c) { productCode received delivered onHand } }",
            json!({ "c": cool }),
        )
        .await;
    assert_eq!(
        stock["wholesalerStock"],
        json!([
            { "productCode": "PFIZER", "received": 1, "delivered": 0, "onHand": 1 },
            { "productCode": "NEEDLE", "received": 10, "delivered": 0, "onHand": 10 }
        ])
        .as_array()
        .map(|rows| {
            let mut rows = rows.clone();
            rows.sort_by_key(|r| r["productCode"].as_str().unwrap().to_owned());
            let mut got = stock["wholesalerStock"].as_array().unwrap().clone();
            got.sort_by_key(|r| r["productCode"].as_str().unwrap().to_owned());
            assert_eq!(got, rows);
            stock["wholesalerStock"].clone()
        })
        .unwrap()
    );

    // The dry-ice supplier: the destination, and refills every 5 days for 30 days.
    let lines = deliveries(&server, &wholesaler, &cool).await;
    let id = of_product(&lines, "PFIZER")["id"].clone();
    let on = day(&server, 2);
    server
        .data_as(&wholesaler, SCHEDULE, json!({ "d": id, "on": on }))
        .await;
    let dryice = sign_in_accepting_policy(&server, "dryice.admin").await;
    let schedule = server
        .data_as(
            &dryice,
            "query($c: ID!) { dryIceSchedule(coolId: $c) { productCode arrivesOn delivered exchangeDates } }",
            json!({ "c": cool }),
        )
        .await["dryIceSchedule"]
        .clone();
    assert_eq!(schedule[0]["arrivesOn"], on);
    assert_eq!(schedule[0]["exchangeDates"].as_array().unwrap().len(), 6);
    assert_eq!(schedule[0]["exchangeDates"][0], day(&server, 7));
    let refused = server
        .graphql_as(
            &wholesaler,
            "query($c: ID!) { dryIceSchedule(coolId: $c) { arrivesOn } }",
            json!({ "c": cool }),
        )
        .await;
    assert_error(&refused, "FORBIDDEN", None);
    server.stop().await;
}

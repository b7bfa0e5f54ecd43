//! The allocation cycle's steps as the tests drive them: the seed's worked example up to
//! Meguro's completed allocation, and the queries each step uses.

use serde_json::{Value, json};

use super::TestServer;
use super::api::{facility_id, meguro_id, open_cool_one, sign_in_accepting_policy};

pub const SUPPLY: &str = "mutation($c: ID!, $p: String!, $b: Int!) { registerSupply(coolId: $c, productCode: $p, boxes: $b) { boxes } }";
pub const PROPOSE: &str = "mutation($i: ProposalInput!) { proposeAllocations(input: $i) { children { recipient { name } weight exclusions overridden amounts { productCode boxes doses } } totals { productCode received allocated remaining } warnings { code } } }";
pub const SIMULATE: &str = "query($i: ProposalInput!) { simulateAllocation(input: $i) { children { recipient { name } weight exclusions amounts { productCode boxes doses } } totals { productCode received allocated remaining } warnings { code } } }";
pub const SET: &str = "mutation($c: ID!, $r: ID!, $p: String, $b: Int!, $v: Int) { setAllocation(input: { coolId: $c, recipientId: $r, productCode: $p, boxes: $b, expectedVersion: $v }) { boxes doses version product { code } recipient { name } } }";
pub const STATUS: &str = "query($c: ID!, $o: ID) { allocationStatus(coolId: $c, organizationId: $o) { received { product { code } boxes doses version } given { recipient { name } product { code } boxes doses version } confirmedAt completedAt locked } }";
pub const CONFIRM: &str = "mutation($c: ID!) { confirmAllocation(coolId: $c) { confirmedAt received { product { code } boxes doses } } }";
pub const COMPLETE: &str = "mutation($c: ID!) { completeAllocation(coolId: $c) { completedAt } }";
pub const CHECK: &str = "query($c: ID!) { allocationCheck(coolId: $c) { prefectureCompleted locked canLock notCompleted municipalities { municipality { name } mark balanced blocksLock completedAt products { productCode received given } } } }";
pub const LOCK: &str = "mutation($c: ID!) { lockAllocations(coolId: $c) { locked canLock } }";

/// The users of the worked example, signed in.
pub struct Cast {
    pub nation: String,
    pub tokyo: String,
    pub meguro: String,
    pub hospital: String,
}

pub async fn cast(server: &TestServer) -> Cast {
    Cast {
        nation: sign_in_accepting_policy(server, "nation.admin").await,
        tokyo: sign_in_accepting_policy(server, "tokyo.admin").await,
        meguro: sign_in_accepting_policy(server, "meguro.admin").await,
        hospital: sign_in_accepting_policy(server, "meguro-hospital.admin").await,
    }
}

pub async fn tokyo_id(server: &TestServer) -> Value {
    server
        .data("{ prefecture(code: \"13\") { id } }", json!({}))
        .await["prefecture"]["id"]
        .clone()
}

/// Cool 1 with the seed's national supply: 2,000 vaccine boxes, 19,500 of needles and syringes.
pub async fn cool_with_supply(server: &TestServer) -> Value {
    let cool = open_cool_one(server).await;
    let pfizer = sign_in_accepting_policy(server, "pfizer.admin").await;
    let warehouse = sign_in_accepting_policy(server, "warehouse.admin").await;
    server
        .data_as(
            &pfizer,
            SUPPLY,
            json!({ "c": cool, "p": "PFIZER", "b": 2000 }),
        )
        .await;
    for product in ["NEEDLE", "SYRINGE"] {
        server
            .data_as(
                &warehouse,
                SUPPLY,
                json!({ "c": cool, "p": product, "b": 19500 }),
            )
            .await;
    }
    cool
}

pub async fn status(server: &TestServer, token: &str, cool: &Value) -> Value {
    server.data_as(token, STATUS, json!({ "c": cool })).await["allocationStatus"].clone()
}

/// The version of the line of `product` given to the recipient named `name`.
pub fn version_of(status: &Value, name: &str, product: &str) -> Option<i64> {
    status["given"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["recipient"]["name"] == name && l["product"]["code"] == product)
        .map(|l| l["version"].as_i64().unwrap())
}

/// Sets the vaccine, needle and syringe boxes of one recipient as `token`, with the versions
/// read just before.
pub async fn set_three(
    server: &TestServer,
    token: &str,
    cool: &Value,
    recipient: &Value,
    name: &str,
    boxes: [i64; 3],
) {
    let before = status(server, token, cool).await;
    for (product, boxes) in ["PFIZER", "NEEDLE", "SYRINGE"].into_iter().zip(boxes) {
        let version = version_of(&before, name, product);
        let set = server
            .data_as(
                token,
                SET,
                json!({ "c": cool, "r": recipient, "p": product, "b": boxes, "v": version }),
            )
            .await;
        assert_eq!(set["setAllocation"]["boxes"], boxes, "{product}");
    }
}

/// The received lines as (product, boxes, doses).
pub fn received(status: &Value) -> Vec<(String, i64, i64)> {
    status["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"]["code"].as_str().unwrap().to_owned(),
                l["boxes"].as_i64().unwrap(),
                l["doses"].as_i64().unwrap(),
            )
        })
        .collect()
}

pub fn lines(rows: [(&str, i64, i64); 3]) -> Vec<(String, i64, i64)> {
    rows.iter()
        .map(|(p, b, d)| ((*p).to_owned(), *b, *d))
        .collect()
}

/// Runs the example up to Meguro's completed allocation; returns the cool.
pub async fn up_to_meguro_complete(server: &TestServer, c: &Cast) -> Value {
    let cool = cool_with_supply(server).await;
    meguro_complete_in(server, c, cool).await
}

/// The worked example in an open cool with its supply, up to Meguro's completion.
pub async fn meguro_complete_in(server: &TestServer, c: &Cast, cool: Value) -> Value {
    let tokyo = tokyo_id(server).await;
    let meguro = meguro_id(server).await;
    let hospital = facility_id(server, "Meguro Hospital 01").await;

    // The nation proposes 80% by population, then sets Tokyo's 8% as the seed did.
    let proposal = server
        .data_as(
            &c.nation,
            PROPOSE,
            json!({ "i": { "coolId": cool, "weighting": "POPULATION", "adjustmentPercent": 20 } }),
        )
        .await["proposeAllocations"]
        .clone();
    assert_eq!(
        proposal["totals"][0],
        json!({ "productCode": "PFIZER", "received": 2000, "allocated": 1600, "remaining": 400 })
    );
    set_three(
        server,
        &c.nation,
        &cool,
        &tokyo,
        "東京都",
        [160, 1560, 1560],
    )
    .await;

    // Tokyo confirms 160 / 1,560 / 1,560 = 156,000 doses, gives Meguro 5 / 49 / 49, completes.
    let confirmed = server
        .data_as(&c.tokyo, CONFIRM, json!({ "c": cool }))
        .await["confirmAllocation"]
        .clone();
    let mut got = received(&confirmed);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 1560, 156_000),
            ("PFIZER", 160, 156_000),
            ("SYRINGE", 1560, 156_000)
        ])
    );
    set_three(server, &c.tokyo, &cool, &meguro, "目黒区", [5, 49, 49]).await;
    server
        .data_as(&c.tokyo, COMPLETE, json!({ "c": cool }))
        .await;

    // Meguro confirms 5 / 49 / 49 (4,875 and 4,900 doses), proposes, gives its hospital
    // 1 / 10 / 10 by hand and completes.
    let confirmed = server
        .data_as(&c.meguro, CONFIRM, json!({ "c": cool }))
        .await["confirmAllocation"]
        .clone();
    let mut got = received(&confirmed);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 49, 4_900),
            ("PFIZER", 5, 4_875),
            ("SYRINGE", 49, 4_900)
        ])
    );
    let proposal = server
        .data_as(
            &c.meguro,
            PROPOSE,
            json!({ "i": { "coolId": cool, "weighting": "EQUAL" } }),
        )
        .await["proposeAllocations"]
        .clone();
    let clinic = proposal["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["recipient"]["name"] == "目黒区診療所01")
        .unwrap();
    assert_eq!(
        clinic["exclusions"],
        json!(["SUPPLIED_THROUGH_BASIC_FACILITY"])
    );
    set_three(
        server,
        &c.meguro,
        &cool,
        &hospital,
        "目黒区病院01",
        [1, 10, 10],
    )
    .await;
    server
        .data_as(&c.meguro, COMPLETE, json!({ "c": cool }))
        .await;
    cool
}

/// The worked example locked, and Meguro Hospital 01's vaccine box delivered today.
pub async fn delivered(server: &TestServer, c: &Cast) -> Value {
    let cool = cool_with_supply(server).await;
    delivered_after(server, c, cool).await
}

/// The worked example in an open cool with its supply, locked, the hospital's box delivered.
pub async fn delivered_after(server: &TestServer, c: &Cast, cool: Value) -> Value {
    let cool = meguro_complete_in(server, c, cool).await;
    server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;
    let wholesaler = super::api::sign_in_accepting_policy(server, "wholesaler.admin").await;
    let lines = server
        .data_as(&wholesaler, "query($c: ID!) { deliveries(coolId: $c) { edges { node { id facility { name } product { code } } } } }", json!({ "c": cool }))
        .await;
    let id = super::api::nodes(&lines["deliveries"])
        .into_iter()
        .find(|d| d["facility"]["name"] == "目黒区病院01" && d["product"]["code"] == "PFIZER")
        .unwrap()["id"]
        .clone();
    let today = server.state.db.clock().today_in_japan();
    server
        .data_as(&wholesaler, "mutation($d: ID!, $on: String!) { recordDelivery(deliveryId: $d, deliveredOn: $on, lots: [{ lotNumber: \"EW0150\", boxes: 1 }]) { status } }", json!({ "d": id, "on": today }))
        .await;
    cool
}

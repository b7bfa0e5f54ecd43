//! Cools (issue #9): allocation cycles with a deadline per stage, opened by the nation.

mod common;

use common::TestServer;
use common::api::{assert_error, assert_invalid, sign_in_accepting_policy};
use common::db::audited;
use serde_json::{Value, json};

const OPEN: &str = "mutation($i: OpenCoolInput!) { openCool(input: $i) { id number startsOn endsOn product { code } stages { stage deadline pastDeadline } } }";
const COOLS: &str = "{ cools { number startsOn stages { stage pastDeadline } } }";

/// A cool of the demo vaccine starting `starts` (defaults for everything else).
fn cool(number: i64, starts: &str) -> Value {
    json!({ "i": { "number": number, "productCode": "PFIZER", "startsOn": starts } })
}

#[tokio::test]
async fn the_nation_opens_a_three_week_cool_with_default_deadlines() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let opened = server.data_as(&nation, OPEN, cool(1, "2021-05-10")).await;
    let cool = &opened["openCool"];
    assert_eq!(cool["endsOn"], "2021-05-30");
    assert_eq!(cool["product"]["code"], "PFIZER");
    let deadlines: Vec<&str> = cool["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["deadline"].as_str().unwrap())
        .collect();
    assert_eq!(
        deadlines,
        [
            "2021-05-12",
            "2021-05-14",
            "2021-05-16",
            "2021-05-21",
            "2021-05-23"
        ]
    );
    assert_eq!(audited(&server, "openCool", "SUCCESS").await, 1);
    let node = server
        .data_as(
            &nation,
            "query($id: ID!) { node(id: $id) { ... on Cool { number } } }",
            json!({ "id": cool["id"] }),
        )
        .await;
    assert_eq!(node["node"]["number"], 1);
    server.stop().await;
}

#[tokio::test]
async fn a_stage_shows_its_deadline_passed_as_the_clock_moves() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let today = server.state.db.clock().today_in_japan();
    server.data_as(&nation, OPEN, cool(1, &today)).await;
    let past = |cools: &Value| -> Vec<bool> {
        cools["cools"][0]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["pastDeadline"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(
        past(&server.data_as(&nation, COOLS, json!({})).await),
        [false; 5]
    );
    // Three days on, the desired quantities' deadline (the 2nd day after the start) has passed.
    server.advance_clock(time::Duration::days(3));
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    assert_eq!(
        past(&server.data_as(&nation, COOLS, json!({})).await),
        [true, false, false, false, false]
    );
    server.stop().await;
}

#[tokio::test]
async fn only_the_nation_opens_a_cool_and_only_users_see_them() {
    let server = TestServer::start().await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    assert_error(
        &server
            .graphql_as(&pfizer, OPEN, cool(1, "2021-05-10"))
            .await,
        "FORBIDDEN",
        None,
    );
    assert_eq!(audited(&server, "openCool", "DENIED").await, 1);
    assert_error(
        &server.graphql(COOLS, json!({})).await,
        "UNAUTHENTICATED",
        None,
    );
    assert_eq!(
        server.data_as(&pfizer, COOLS, json!({})).await["cools"],
        json!([])
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_cools_name_their_field_change_nothing_and_are_audited() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let cases = [
        (
            json!({ "number": 0, "productCode": "PFIZER", "startsOn": "2021-05-10" }),
            "number",
        ),
        (
            json!({ "number": 1, "productCode": "NEEDLE", "startsOn": "2021-05-10" }),
            "productCode",
        ),
        (
            json!({ "number": 1, "productCode": "PFIZER", "startsOn": "10/05/2021" }),
            "startsOn",
        ),
        (
            json!({ "number": 1, "productCode": "PFIZER", "startsOn": "2021-05-10", "endsOn": "2021-05-01" }),
            "endsOn",
        ),
        (
            json!({ "number": 1, "productCode": "PFIZER", "startsOn": "2021-05-10", "desiredQuantityDeadline": "2021-05-15", "nationAllocationDeadline": "2021-05-14" }),
            "nationAllocationDeadline",
        ),
        (
            json!({ "number": 1, "productCode": "PFIZER", "startsOn": "2021-05-10", "endsOn": "2021-05-22" }),
            "dataLockDeadline",
        ),
    ];
    for (input, field) in &cases {
        let response = server
            .graphql_as(&nation, OPEN, json!({ "i": input }))
            .await;
        assert_invalid(&response, field);
    }
    let unknown = server
        .graphql_as(
            &nation,
            OPEN,
            json!({ "i": { "number": 1, "productCode": "NOVAVAX", "startsOn": "2021-05-10" } }),
        )
        .await;
    assert_invalid(&unknown, "productCode");
    assert_eq!(
        server.data_as(&nation, COOLS, json!({})).await["cools"],
        json!([])
    );
    assert_eq!(
        audited(&server, "openCool", "FAILURE").await,
        cases.len() as i64 + 1
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cool_number_is_opened_once_per_vaccine() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    server.data_as(&nation, OPEN, cool(1, "2021-05-10")).await;
    let again = server
        .graphql_as(&nation, OPEN, cool(1, "2021-06-01"))
        .await;
    assert_error(&again, "CONFLICT", None);
    server.data_as(&nation, OPEN, cool(2, "2021-05-31")).await;
    let listed = server.data_as(&nation, COOLS, json!({})).await;
    let numbers: Vec<i64> = listed["cools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");
    server.stop().await;
}

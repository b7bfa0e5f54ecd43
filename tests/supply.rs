//! Supply per cool (issue #9): what manufacturers and the warehouse make available.

mod common;

use common::TestServer;
use common::api::{
    assert_error, assert_invalid, open_cool_one, organization_id, sign_in_accepting_policy,
};
use common::db::audited;
use serde_json::{Value, json};

const REGISTER: &str = "mutation($c: ID!, $p: String!, $b: Int!) { registerSupply(coolId: $c, productCode: $p, boxes: $b) { boxes doses product { code } supplier { code } } }";
const SUPPLY: &str =
    "query($c: ID!) { node(id: $c) { ... on Cool { supply { product { code } boxes doses } } } }";

async fn supply(server: &TestServer, token: &str, cool: &Value) -> Value {
    server.data_as(token, SUPPLY, json!({ "c": cool })).await["node"]["supply"].clone()
}

#[tokio::test]
async fn the_seeds_national_supply_is_registered_by_the_manufacturer_and_the_warehouse() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let warehouse = sign_in_accepting_policy(&server, "warehouse.admin").await;
    let vaccine = server
        .data_as(
            &pfizer,
            REGISTER,
            json!({ "c": cool, "p": "PFIZER", "b": 2000 }),
        )
        .await;
    assert_eq!(vaccine["registerSupply"]["doses"], 1_950_000);
    assert_eq!(vaccine["registerSupply"]["supplier"]["code"], "PFIZER");
    for product in ["NEEDLE", "SYRINGE"] {
        let registered = server
            .data_as(
                &warehouse,
                REGISTER,
                json!({ "c": cool, "p": product, "b": 19_500 }),
            )
            .await;
        assert_eq!(registered["registerSupply"]["doses"], 1_950_000);
    }
    assert_eq!(
        supply(&server, &pfizer, &cool)
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(audited(&server, "registerSupply", "SUCCESS").await, 3);
    server.stop().await;
}

#[tokio::test]
async fn registering_again_replaces_the_figure() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    server
        .data_as(
            &pfizer,
            REGISTER,
            json!({ "c": cool, "p": "PFIZER", "b": 2000 }),
        )
        .await;
    server
        .data_as(
            &pfizer,
            REGISTER,
            json!({ "c": cool, "p": "pfizer", "b": 1800 }),
        )
        .await;
    assert_eq!(
        supply(&server, &pfizer, &cool).await,
        json!([{ "product": { "code": "PFIZER" }, "boxes": 1800, "doses": 1_755_000 }])
    );
    server.stop().await;
}

#[tokio::test]
async fn each_supplier_registers_only_what_it_supplies() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    for (user, product) in [
        ("pfizer.admin", "NEEDLE"),
        ("warehouse.admin", "PFIZER"),
        ("nation.admin", "PFIZER"),
        ("meguro.admin", "SYRINGE"),
    ] {
        let token = sign_in_accepting_policy(&server, user).await;
        let refused = server
            .graphql_as(
                &token,
                REGISTER,
                json!({ "c": cool, "p": product, "b": 10 }),
            )
            .await;
        assert_error(&refused, "FORBIDDEN", None);
    }
    assert_eq!(audited(&server, "registerSupply", "DENIED").await, 4);
    server.stop().await;
}

#[tokio::test]
async fn bad_supply_changes_nothing_and_is_audited() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    // Another vaccine of the same manufacturer is not this cool's.
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let manufacturer = organization_id(&server, "MANUFACTURER").await;
    server
        .data_as(&nation, "mutation($m: ID!) { upsertProduct(input: { code: \"PFIZER-KIDS\", kind: VACCINE, name: \"小児用\", manufacturerId: $m, unitsPerBox: 195, dosesPerUnit: 10 }) { id } }", json!({ "m": manufacturer }))
        .await;
    assert_invalid(
        &server
            .graphql_as(
                &pfizer,
                REGISTER,
                json!({ "c": cool, "p": "PFIZER-KIDS", "b": 10 }),
            )
            .await,
        "productCode",
    );
    assert_invalid(
        &server
            .graphql_as(
                &pfizer,
                REGISTER,
                json!({ "c": cool, "p": "PFIZER", "b": -1 }),
            )
            .await,
        "boxes",
    );
    assert_error(
        &server
            .graphql_as(
                &pfizer,
                REGISTER,
                json!({ "c": manufacturer, "p": "PFIZER", "b": 1 }),
            )
            .await,
        "NOT_FOUND",
        None,
    );
    assert_eq!(supply(&server, &pfizer, &cool).await, json!([]));
    assert_eq!(audited(&server, "registerSupply", "FAILURE").await, 2);
    server.stop().await;
}

//! The product master (issue #9): what is allocated, in boxes, with doses derived.

mod common;

use common::TestServer;
use common::api::{assert_error, assert_invalid, organization_id, sign_in_accepting_policy};
use common::db::audited;
use serde_json::{Value, json};

const PRODUCTS: &str = "{ products { code kind name unitsPerBox dosesPerUnit dosesPerBox minimumIntervalDays manufacturer { code } } }";
const UPSERT: &str = "mutation($i: UpsertProductInput!) { upsertProduct(input: $i) { id code dosesPerUnit dosesPerBox version } }";

/// The demo vaccine with `doses` per vial, as Pfizer (or the nation) would send it.
fn pfizer_vaccine(manufacturer: &Value, doses: i64) -> Value {
    json!({ "code": "PFIZER", "kind": "VACCINE", "name": "ファイザー社製ワクチン", "manufacturerId": manufacturer, "unitsPerBox": 195, "dosesPerUnit": doses })
}

async fn products(server: &TestServer) -> Value {
    server.data(PRODUCTS, json!({})).await["products"].clone()
}

#[tokio::test]
async fn anyone_reads_the_product_master_with_doses_per_box_derived() {
    let server = TestServer::start().await;
    let products = products(&server).await;
    assert_eq!(
        products,
        json!([
            { "code": "MODERNA", "kind": "VACCINE", "name": "武田/モデルナ社製ワクチン / Moderna (Takeda)", "unitsPerBox": 10, "dosesPerUnit": 10, "dosesPerBox": 100, "minimumIntervalDays": 28, "manufacturer": { "code": "TAKEDA" } },
            { "code": "PFIZER", "kind": "VACCINE", "name": "ファイザー社製ワクチン / Pfizer-BioNTech", "unitsPerBox": 195, "dosesPerUnit": 5, "dosesPerBox": 975, "minimumIntervalDays": 21, "manufacturer": { "code": "PFIZER" } },
            { "code": "NEEDLE", "kind": "NEEDLE", "name": "注射針 / Needles", "unitsPerBox": 100, "dosesPerUnit": 1, "dosesPerBox": 100, "minimumIntervalDays": null, "manufacturer": null },
            { "code": "SYRINGE", "kind": "SYRINGE", "name": "シリンジ / Syringes", "unitsPerBox": 100, "dosesPerUnit": 1, "dosesPerBox": 100, "minimumIntervalDays": null, "manufacturer": null },
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn the_manufacturer_changes_its_vaccine_and_the_change_is_audited() {
    let server = TestServer::start().await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let manufacturer = organization_id(&server, "MANUFACTURER").await;
    // Six doses a vial (2021: a low-dead-volume syringe made the sixth dose usable).
    let changed = server
        .data_as(
            &pfizer,
            UPSERT,
            json!({ "i": pfizer_vaccine(&manufacturer, 6) }),
        )
        .await;
    assert_eq!(changed["upsertProduct"]["dosesPerBox"], 1170);
    assert_eq!(changed["upsertProduct"]["version"], 2);
    assert_eq!(audited(&server, "upsertProduct", "SUCCESS").await, 1);
    let node = server
        .data(
            "query($id: ID!) { node(id: $id) { ... on Product { code dosesPerBox } } }",
            json!({ "id": changed["upsertProduct"]["id"] }),
        )
        .await;
    assert_eq!(
        node["node"],
        json!({ "code": "PFIZER", "dosesPerBox": 1170 })
    );
    server.stop().await;
}

#[tokio::test]
async fn the_nation_adds_a_product_and_a_manufacturer_may_not() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let gauze = json!({ "i": { "code": "needle-25g", "kind": "NEEDLE", "name": "注射針 25G", "unitsPerBox": 100, "dosesPerUnit": 1 } });
    assert_error(
        &server.graphql_as(&pfizer, UPSERT, gauze.clone()).await,
        "FORBIDDEN",
        None,
    );
    let created = server.data_as(&nation, UPSERT, gauze).await;
    assert_eq!(created["upsertProduct"]["code"], "NEEDLE-25G");
    assert_eq!(products(&server).await.as_array().unwrap().len(), 5);
    assert_eq!(audited(&server, "upsertProduct", "DENIED").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_manufacturer_cannot_hand_its_vaccine_to_another_organisation() {
    let server = TestServer::start().await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let refused = server
        .graphql_as(
            &pfizer,
            UPSERT,
            json!({ "i": pfizer_vaccine(&wholesaler, 6) }),
        )
        .await;
    assert_error(&refused, "FORBIDDEN", None);
    // The nation may, but only to a manufacturer.
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let not_a_manufacturer = server
        .graphql_as(
            &nation,
            UPSERT,
            json!({ "i": pfizer_vaccine(&wholesaler, 6) }),
        )
        .await;
    assert_error(&not_a_manufacturer, "NOT_FOUND", None);
    assert_eq!(products(&server).await[1]["dosesPerUnit"], 5);
    server.stop().await;
}

#[tokio::test]
async fn bad_product_input_names_its_field_changes_nothing_and_is_audited() {
    let server = TestServer::start().await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let manufacturer = organization_id(&server, "MANUFACTURER").await;
    let before = products(&server).await;
    let cases = [
        (
            json!({ "code": "", "kind": "NEEDLE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 1 }),
            "code",
        ),
        (
            json!({ "code": "N 1", "kind": "NEEDLE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 1 }),
            "code",
        ),
        (
            json!({ "code": "N1", "kind": "NEEDLE", "name": " ", "unitsPerBox": 100, "dosesPerUnit": 1 }),
            "name",
        ),
        (
            json!({ "code": "N1", "kind": "NEEDLE", "name": "x", "unitsPerBox": 0, "dosesPerUnit": 1 }),
            "unitsPerBox",
        ),
        (
            json!({ "code": "N1", "kind": "NEEDLE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 2 }),
            "dosesPerUnit",
        ),
        (
            json!({ "code": "N1", "kind": "NEEDLE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 1, "manufacturerId": manufacturer }),
            "manufacturerId",
        ),
        (
            json!({ "code": "N1", "kind": "NEEDLE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 1, "minimumIntervalDays": 21 }),
            "minimumIntervalDays",
        ),
        (
            json!({ "code": "V1", "kind": "VACCINE", "name": "x", "unitsPerBox": 10, "dosesPerUnit": 5 }),
            "manufacturerId",
        ),
        (
            json!({ "code": "V1", "kind": "VACCINE", "name": "x", "unitsPerBox": 10, "dosesPerUnit": 101, "manufacturerId": manufacturer }),
            "dosesPerUnit",
        ),
        (
            json!({ "code": "PFIZER", "kind": "VACCINE", "name": "x", "unitsPerBox": 195, "dosesPerUnit": 5, "manufacturerId": manufacturer, "minimumIntervalDays": 400 }),
            "minimumIntervalDays",
        ),
        (
            json!({ "code": "NEEDLE", "kind": "SYRINGE", "name": "x", "unitsPerBox": 100, "dosesPerUnit": 1 }),
            "kind",
        ),
    ];
    for (input, field) in &cases {
        let response = server
            .graphql_as(&nation, UPSERT, json!({ "i": input }))
            .await;
        assert_invalid(&response, field);
    }
    assert_eq!(products(&server).await, before);
    assert_eq!(
        audited(&server, "upsertProduct", "FAILURE").await,
        cases.len() as i64
    );
    server.stop().await;
}

#[tokio::test]
async fn a_change_from_a_stale_version_is_a_conflict() {
    let server = TestServer::start().await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let manufacturer = organization_id(&server, "MANUFACTURER").await;
    let mut input = pfizer_vaccine(&manufacturer, 6);
    input["expectedVersion"] = json!(1);
    server.data_as(&pfizer, UPSERT, json!({ "i": input })).await;
    // A second clerk still holding version 1.
    let stale = server
        .graphql_as(&pfizer, UPSERT, json!({ "i": input }))
        .await;
    assert_error(&stale, "CONFLICT", None);
    assert_eq!(products(&server).await[1]["dosesPerUnit"], 6);
    server.stop().await;
}

//! Desired quantities (issue #9, seed p. 23): what each facility would like in a cool.

mod common;

use common::TestServer;
use common::api::{
    assert_error, assert_invalid, facility_id, open_cool_one, sign_in_accepting_policy,
};
use common::db::audited;
use serde_json::{Value, json};

const REGISTER: &str = "mutation($c: ID!, $f: ID!, $b: Int!) { registerDesiredQuantity(coolId: $c, facilityId: $f, boxes: $b) { boxes facility { name } } }";
const AREA: &str = "query($c: ID!) { node(id: $c) { ... on Cool { desiredQuantityTotal desiredQuantities { facility { name } boxes } } } }";

async fn area_view(server: &TestServer, user: &str, cool: &Value) -> Value {
    let token = sign_in_accepting_policy(server, user).await;
    server.data_as(&token, AREA, json!({ "c": cool })).await["node"].clone()
}

#[tokio::test]
async fn a_facility_enters_its_desired_boxes_and_entering_again_replaces_them() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    server
        .data_as(
            &hospital,
            REGISTER,
            json!({ "c": cool, "f": facility, "b": 3 }),
        )
        .await;
    let again = server
        .data_as(
            &hospital,
            REGISTER,
            json!({ "c": cool, "f": facility, "b": 2 }),
        )
        .await;
    assert_eq!(again["registerDesiredQuantity"]["boxes"], 2);
    assert_eq!(
        area_view(&server, "meguro-hospital.admin", &cool).await,
        json!({ "desiredQuantityTotal": 2, "desiredQuantities": [{ "facility": { "name": "目黒区病院01" }, "boxes": 2 }] })
    );
    assert_eq!(
        audited(&server, "registerDesiredQuantity", "SUCCESS").await,
        2
    );
    server.stop().await;
}

#[tokio::test]
async fn municipalities_and_prefectures_see_their_areas_totals_and_nobody_else_does() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    server
        .data_as(
            &hospital,
            REGISTER,
            json!({ "c": cool, "f": facility, "b": 4 }),
        )
        .await;
    for user in ["meguro.admin", "tokyo.admin", "nation.admin"] {
        assert_eq!(
            area_view(&server, user, &cool).await["desiredQuantityTotal"],
            4,
            "{user}"
        );
    }
    for user in ["yokohama.admin", "pfizer.admin"] {
        assert_eq!(
            area_view(&server, user, &cool).await,
            json!({ "desiredQuantityTotal": 0, "desiredQuantities": [] }),
            "{user}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_municipality_enters_for_the_special_venue_it_runs_but_not_for_another_facility() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let yokohama = sign_in_accepting_policy(&server, "yokohama.admin").await;
    let venue = facility_id(&server, "Yokohama Special Venue 01").await;
    let entered = server
        .data_as(
            &yokohama,
            REGISTER,
            json!({ "c": cool, "f": venue, "b": 5 }),
        )
        .await;
    assert_eq!(entered["registerDesiredQuantity"]["boxes"], 5);
    let meguro = sign_in_accepting_policy(&server, "meguro.admin").await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    // Meguro has not been granted proxy input for its hospital; Yokohama's is another area.
    assert_error(
        &server
            .graphql_as(
                &meguro,
                REGISTER,
                json!({ "c": cool, "f": hospital, "b": 1 }),
            )
            .await,
        "FORBIDDEN",
        None,
    );
    assert_error(
        &server
            .graphql_as(
                &yokohama,
                REGISTER,
                json!({ "c": cool, "f": hospital, "b": 1 }),
            )
            .await,
        "NOT_FOUND",
        None,
    );
    assert_eq!(
        audited(&server, "registerDesiredQuantity", "DENIED").await,
        2
    );
    server.stop().await;
}

#[tokio::test]
async fn a_bad_quantity_changes_nothing_and_is_audited() {
    let server = TestServer::start().await;
    let cool = open_cool_one(&server).await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    for boxes in [-1, 100_001] {
        assert_invalid(
            &server
                .graphql_as(
                    &hospital,
                    REGISTER,
                    json!({ "c": cool, "f": facility, "b": boxes }),
                )
                .await,
            "boxes",
        );
    }
    assert_eq!(
        area_view(&server, "meguro.admin", &cool).await["desiredQuantityTotal"],
        0
    );
    assert_eq!(
        audited(&server, "registerDesiredQuantity", "FAILURE").await,
        2
    );
    server.stop().await;
}

//! The priority phase (issue #9, seed p. 22): the service desk imports pre-decided amounts per
//! facility in bulk; the chain above is written as sums, locked, and delivery can start.

mod common;

use common::TestServer;
use common::allocation::*;
use common::api::{assert_error, error_reason, error_rows, sign_in_accepting_policy};
use common::db::{audited, count};
use serde_json::json;

const IMPORT: &str = "mutation($c: ID!, $csv: String!) { importPriorityAllocations(coolId: $c, csv: $csv) { facilities vaccineBoxes prefecturesLocked } }";

#[tokio::test]
async fn the_desk_imports_a_priority_cool_and_the_chain_is_locked_as_sums() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let desk = sign_in_accepting_policy(&server, "helpdesk.admin").await;
    // Meguro Hospital 01: 2 boxes; Meguro Special Venue 01: 1 box with its own needles;
    // Yokohama Hospital 01: 3 boxes.
    let csv =
        "facilityCode,vaccineBoxes,needleBoxes\n1311000010,2,\n1319000012,1,12\n\n1411000019,3,\n";
    let done = server
        .data_as(&desk, IMPORT, json!({ "c": cool, "csv": csv }))
        .await;
    assert_eq!(
        done["importPriorityAllocations"],
        json!({ "facilities": 3, "vaccineBoxes": 6, "prefecturesLocked": 2 })
    );
    // Meguro received 3 / 32 / 30 (syringes follow the vaccine: 20 + 10), confirmed and locked.
    let meguro = status(&server, &c.meguro, &cool).await;
    let mut got = received(&meguro);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 32, 3_200),
            ("PFIZER", 3, 2_925),
            ("SYRINGE", 30, 3_000)
        ])
    );
    assert_eq!(meguro["locked"], true);
    assert!(!meguro["confirmedAt"].is_null());
    // Tokyo's check is all 〇 and locked; the hospital sees its 2 boxes.
    let check =
        server.data_as(&c.tokyo, CHECK, json!({ "c": cool })).await["allocationCheck"].clone();
    assert_eq!(check["locked"], true);
    let hospital = status(&server, &c.hospital, &cool).await;
    assert!(received(&hospital).contains(&("PFIZER".to_owned(), 2, 1_950)));
    // The nation gave Tokyo 3 and Kanagawa 3.
    let nation = status(&server, &c.nation, &cool).await;
    let vaccine_total: i64 = nation["given"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["product"]["code"] == "PFIZER")
        .map(|l| l["boxes"].as_i64().unwrap())
        .sum();
    assert_eq!(vaccine_total, 6);
    // A second import into the same cool is refused.
    let again = server
        .graphql_as(&desk, IMPORT, json!({ "c": cool, "csv": csv }))
        .await;
    assert_eq!(error_reason(&again), "COOL_IN_USE");
    assert_eq!(
        audited(&server, "importPriorityAllocations", "SUCCESS").await,
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn every_bad_row_is_named_and_nothing_is_imported() {
    let server = TestServer::start().await;
    let cool = cool_with_supply(&server).await;
    let desk = sign_in_accepting_policy(&server, "helpdesk.admin").await;
    let csv = "facilityCode,vaccineBoxes\n1311000010,1\n9999999999,1\n1311000028,1\n1311000010,2\n1411000019,-1\n";
    let refused = server
        .graphql_as(&desk, IMPORT, json!({ "c": cool, "csv": csv }))
        .await;
    assert_eq!(
        error_rows(&refused),
        [
            (2, "facilityCode".to_owned()),
            (3, "facilityCode".to_owned()),
            (4, "facilityCode".to_owned()),
            (5, "vaccineBoxes".to_owned())
        ]
    );
    // More than the cool's 2,000 boxes.
    let over = server
        .graphql_as(
            &desk,
            IMPORT,
            json!({ "c": cool, "csv": "facilityCode,vaccineBoxes\n1311000010,2001\n" }),
        )
        .await;
    assert_error(&over, "INVALID_INPUT", Some("csv"));
    assert_eq!(count(&server, "SELECT COUNT(*) FROM allocations").await, 0);
    // Only the service desk imports.
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    assert_error(
        &server
            .graphql_as(
                &nation,
                IMPORT,
                json!({ "c": cool, "csv": "facilityCode,vaccineBoxes\n1311000010,1\n" }),
            )
            .await,
        "FORBIDDEN",
        None,
    );
    assert_eq!(
        audited(&server, "importPriorityAllocations", "FAILURE").await,
        2
    );
    server.stop().await;
}

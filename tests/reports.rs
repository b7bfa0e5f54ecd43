//! Vaccination and stock reports (issue #9, seed p. 42): cumulative figures kept as history,
//! corrections and confirmations, the stock ledger with transfers, and proposals weighed by
//! stock and usage.

mod common;

use common::TestServer;
use common::allocation::*;
use common::api::{assert_error, assert_invalid, error_reason, facility_id};
use common::db::{audited, count};
use serde_json::{Value, json};

const REPORT: &str = "mutation($i: VaccinationReportInput!) { reportVaccinations(input: $i) { productCode administered wasted wasteReason figures { doseNumber category administered } } }";
const STOCK: &str = "query($f: ID!) { node(id: $f) { ... on Facility { stock { productCode delivered administered wasted transferredIn transferredOut onHand recentUsage } vaccinationReports { productCode administered } } } }";
const TRANSFER: &str = "mutation($i: TransferStockInput!) { transferStock(input: $i) }";

fn report(facility: &Value, first_doses: i64, wasted: i64) -> Value {
    json!({ "i": {
        "facilityId": facility, "productCode": "PFIZER",
        "figures": [
            { "doseNumber": 1, "category": "HEALTHCARE_WORKER", "administered": first_doses },
            { "doseNumber": 2, "category": "HEALTHCARE_WORKER", "administered": 0 }
        ],
        "wasted": wasted, "wasteReason": "a vial dropped / バイアル破損"
    } })
}

async fn stock(server: &TestServer, token: &str, facility: &Value) -> Value {
    server.data_as(token, STOCK, json!({ "f": facility })).await["node"].clone()
}

#[tokio::test]
async fn cumulative_reports_keep_history_and_lower_or_unchanged_figures_must_be_meant() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    delivered(&server, &c).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let first = server
        .data_as(&c.hospital, REPORT, report(&hospital, 300, 5))
        .await;
    assert_eq!(first["reportVaccinations"]["administered"], 300);
    assert_eq!(
        stock(&server, &c.hospital, &hospital).await["stock"],
        json!([{ "productCode": "PFIZER", "delivered": 975, "administered": 300, "wasted": 5, "transferredIn": 0, "transferredOut": 0, "onHand": 670, "recentUsage": 300 }])
    );
    // The same figures again ask for confirmation; confirmed, they are kept as a new row.
    let same = server
        .graphql_as(&c.hospital, REPORT, report(&hospital, 300, 5))
        .await;
    assert_eq!(error_reason(&same), "UNCHANGED_NEEDS_CONFIRMATION");
    let mut confirmed = report(&hospital, 300, 5);
    confirmed["i"]["confirmUnchanged"] = json!(true);
    server.data_as(&c.hospital, REPORT, confirmed).await;
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM vaccination_reports").await,
        4
    );
    // Lower than before: refused with the previous figure, then accepted as a correction.
    let lower = server
        .graphql_as(&c.hospital, REPORT, report(&hospital, 290, 5))
        .await;
    assert_error(&lower, "CONFLICT", None);
    assert_eq!(error_reason(&lower), "LOWER_THAN_BEFORE");
    assert_eq!(
        lower["errors"][0]["extensions"]["current"]["lines"][0]["previous"],
        300
    );
    let mut correction = report(&hospital, 290, 5);
    correction["i"]["correction"] = json!(true);
    server.data_as(&c.hospital, REPORT, correction).await;
    assert_eq!(
        stock(&server, &c.hospital, &hospital).await["stock"][0]["onHand"],
        680
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM vaccination_reports WHERE correction = 1"
        )
        .await,
        1
    );
    assert_eq!(audited(&server, "reportVaccinations", "SUCCESS").await, 3);
    assert_eq!(audited(&server, "reportVaccinations", "FAILURE").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn a_report_for_another_facility_and_bad_figures_are_refused() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let yokohama = facility_id(&server, "Yokohama Hospital 01").await;
    let venue = facility_id(&server, "Meguro Special Venue 01").await;
    for (facility, code) in [(&yokohama, "NOT_FOUND"), (&venue, "NOT_FOUND")] {
        let response = server
            .graphql_as(&c.hospital, REPORT, report(facility, 1, 0))
            .await;
        assert_error(&response, code, None);
    }
    // Meguro enters data for its facilities only with the proxy flag; the hospital has none.
    assert_error(
        &server
            .graphql_as(&c.meguro, REPORT, report(&hospital, 1, 0))
            .await,
        "FORBIDDEN",
        None,
    );
    let mut bad = report(&hospital, -1, 0);
    assert_invalid(
        &server.graphql_as(&c.hospital, REPORT, bad.clone()).await,
        "lines",
    );
    bad = report(&hospital, 1, 0);
    bad["i"]["figures"][1]["doseNumber"] = json!(1);
    assert_invalid(&server.graphql_as(&c.hospital, REPORT, bad).await, "lines");
    let mut future = report(&hospital, 1, 0);
    future["i"]["reportedOn"] = json!("2099-01-01");
    assert_invalid(
        &server.graphql_as(&c.hospital, REPORT, future).await,
        "reportedOn",
    );
    let mut needles = report(&hospital, 1, 0);
    needles["i"]["productCode"] = json!("NEEDLE");
    assert_invalid(
        &server.graphql_as(&c.hospital, REPORT, needles).await,
        "productCode",
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM vaccination_reports").await,
        0
    );
    assert!(audited(&server, "reportVaccinations", "DENIED").await >= 3);
    server.stop().await;
}

#[tokio::test]
async fn a_basic_facility_hands_doses_to_its_satellite_within_its_stock() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    delivered(&server, &c).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let satellite = facility_id(&server, "Meguro Clinic 01").await;
    let yokohama = facility_id(&server, "Yokohama Hospital 01").await;
    let transfer = |to: &Value, doses: i64| json!({ "i": { "fromFacilityId": hospital, "toFacilityId": to, "productCode": "PFIZER", "doses": doses } });
    let left = server
        .data_as(&c.hospital, TRANSFER, transfer(&satellite, 100))
        .await;
    assert_eq!(left["transferStock"], 875);
    assert_invalid(
        &server
            .graphql_as(&c.hospital, TRANSFER, transfer(&satellite, 876))
            .await,
        "doses",
    );
    assert_error(
        &server
            .graphql_as(&c.hospital, TRANSFER, transfer(&yokohama, 1))
            .await,
        "NOT_FOUND",
        None,
    );
    assert_invalid(
        &server
            .graphql_as(&c.hospital, TRANSFER, transfer(&hospital, 1))
            .await,
        "toFacilityId",
    );
    // Meguro sees both ends of the ledger.
    let clinic = stock(&server, &c.meguro, &satellite).await;
    assert_eq!(clinic["stock"][0]["transferredIn"], 100);
    assert_eq!(clinic["stock"][0]["onHand"], 100);
    assert_eq!(
        stock(&server, &c.meguro, &hospital).await["stock"][0]["onHand"],
        875
    );
    server.stop().await;
}

#[tokio::test]
async fn a_proposal_by_stock_and_usage_gives_to_the_facility_that_will_run_short() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = delivered(&server, &c).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    // 900 of its 975 doses used in the last two weeks, 5 wasted: 70 left, 830 short.
    server
        .data_as(&c.hospital, REPORT, report(&hospital, 900, 5))
        .await;
    let simulated = server
        .data_as(
            &c.meguro,
            SIMULATE,
            json!({ "i": { "coolId": cool, "weighting": "STOCK_AND_USAGE" } }),
        )
        .await["simulateAllocation"]["children"]
        .clone();
    let of = |name: &str| {
        simulated
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["recipient"]["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(of("目黒区病院01")["weight"], 830);
    assert_eq!(of("目黒区病院01")["amounts"][0]["boxes"], 5);
    assert_eq!(of("目黒区特設会場01")["weight"], 0);
    server.stop().await;
}

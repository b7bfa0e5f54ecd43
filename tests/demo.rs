//! The demo data can allocate: what `serve --demo` loads is the product's specification (the
//! table in src/seed/demo_registry.rs), read back through the API.

mod common;

use common::TestServer;
use common::api::nodes;
use serde_json::{Value, json};

const FACILITIES: &str = "{ facilities(first: 100) { edges { node {
    code name basicFacility { name } vaccinesHandled weeklyCapacity
    deliveringWholesaler { code name }
    contracts { kind current joinDate withdrawalDate aggregator { name } counterpartMunicipality { name } }
    doctors { name licenceNumber roles active }
    eligibility { eligible reasons } } } } }";

/// An open contract since the demo's join date: collective through `aggregator`, or
/// individual with `counterpart`.
fn contract(kind: &str, aggregator: Option<&str>, counterpart: Option<&str>) -> Value {
    json!({
        "kind": kind, "current": true, "joinDate": "2021-02-15", "withdrawalDate": null,
        "aggregator": aggregator.map(|name| json!({ "name": name })),
        "counterpartMunicipality": counterpart.map(|name| json!({ "name": name })),
    })
}

/// (code, name, basic facility, weekly capacity, contracts, doctors, eligibility)
type Row = (
    &'static str,
    &'static str,
    Option<&'static str>,
    i64,
    Vec<Value>,
    Vec<Value>,
    Value,
);

/// The demo facilities as the nation sees them, by code.
async fn demo_facilities(server: &TestServer) -> Vec<Value> {
    let nation = server.sign_in("nation.admin").await;
    let mut facilities = nodes(&server.data_as(&nation, FACILITIES, json!({})).await["facilities"]);
    facilities.sort_by_key(|node| node["code"].as_str().unwrap().to_owned());
    facilities
}

/// The specification: every demo facility, by code.
fn specification() -> Vec<Value> {
    let individual = |municipality| vec![contract("INDIVIDUAL", None, Some(municipality))];
    let eligible = json!({ "eligible": true, "reasons": [] });
    let doctor = json!({ "name": "目黒 一郎", "licenceNumber": "123456",
                         "roles": ["RESPONSIBLE", "VACCINATING"], "active": true });
    let table: [Row; 8] = [
        (
            "1311000010",
            "目黒区病院01",
            None,
            600,
            vec![contract("COLLECTIVE", Some("目黒区医師会"), None)],
            vec![],
            eligible.clone(),
        ),
        (
            "1311000028",
            "目黒区診療所01",
            Some("目黒区病院01"),
            150,
            individual("目黒区"),
            vec![],
            eligible.clone(),
        ),
        (
            "1311000036",
            "世田谷区病院01",
            None,
            500,
            individual("世田谷区"),
            vec![],
            eligible.clone(),
        ),
        (
            "1311000044",
            "港区診療所01",
            None,
            100,
            vec![],
            vec![],
            json!({ "eligible": false, "reasons": ["NO_CURRENT_CONTRACT"] }),
        ),
        (
            "1319000012",
            "目黒区特設会場01",
            None,
            1200,
            individual("目黒区"),
            vec![doctor],
            eligible.clone(),
        ),
        (
            "1411000019",
            "横浜病院01",
            None,
            800,
            individual("横浜市"),
            vec![],
            eligible.clone(),
        ),
        (
            "1411000027",
            "横浜診療所01",
            None,
            200,
            individual("横浜市"),
            vec![],
            eligible.clone(),
        ),
        (
            "1419000011",
            "横浜特設会場01",
            None,
            1500,
            individual("横浜市"),
            vec![],
            json!({ "eligible": false, "reasons": ["NO_RESPONSIBLE_DOCTOR", "NO_VACCINATING_DOCTOR"] }),
        ),
    ];
    table
        .into_iter()
        .map(
            |(code, name, basic, capacity, contracts, doctors, eligibility)| {
                json!({
                    "code": code, "name": name,
                    "basicFacility": basic.map(|name| json!({ "name": name })),
                    "vaccinesHandled": ["PFIZER"], "weeklyCapacity": capacity,
                    "deliveringWholesaler": { "code": "WS-KANTO-01", "name": "関東医薬品卸株式会社" },
                    "contracts": contracts, "doctors": doctors, "eligibility": eligibility,
                })
            },
        )
        .collect()
}

#[tokio::test]
async fn every_demo_facility_is_as_the_specification_table_says() {
    let server = TestServer::start().await;
    let facilities = demo_facilities(&server).await;
    let expected = specification();
    assert_eq!(facilities.len(), expected.len(), "{facilities:?}");
    for (actual, expected) in facilities.iter().zip(&expected) {
        assert_eq!(actual, expected, "{}", expected["name"]);
    }
    server.stop().await;
}

#[tokio::test]
async fn six_demo_facilities_can_allocate_and_two_show_every_ineligibility_reason() {
    let server = TestServer::start().await;
    let facilities = demo_facilities(&server).await;
    let eligible = facilities
        .iter()
        .filter(|node| node["eligibility"]["eligible"] == true)
        .count();
    assert_eq!(eligible, 6);
    let mut reasons: Vec<&str> = facilities
        .iter()
        .flat_map(|node| node["eligibility"]["reasons"].as_array().unwrap())
        .map(|reason| reason.as_str().unwrap())
        .collect();
    reasons.sort_unstable();
    assert_eq!(
        reasons,
        [
            "NO_CURRENT_CONTRACT",
            "NO_RESPONSIBLE_DOCTOR",
            "NO_VACCINATING_DOCTOR"
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn meguro_hospital_01_is_collective_through_the_medical_association_and_handles_pfizer() {
    let server = TestServer::start().await;
    // Delivered to by WS-KANTO-01 too.
    let hospital = demo_facilities(&server).await[0].clone();
    assert_eq!(hospital["name"], "目黒区病院01");
    assert_eq!(hospital["contracts"][0]["kind"], "COLLECTIVE");
    assert_eq!(
        hospital["contracts"][0]["aggregator"]["name"],
        "目黒区医師会"
    );
    assert_eq!(hospital["deliveringWholesaler"]["code"], "WS-KANTO-01");
    assert_eq!(hospital["vaccinesHandled"], json!(["PFIZER"]));
    server.stop().await;
}

#[tokio::test]
async fn the_medical_association_received_meguro_hospital_01s_power_of_attorney() {
    let server = TestServer::start().await;
    let association = server.sign_in("meguro-ma.admin").await;
    let powers = server
        .data_as(
            &association,
            "{ powersOfAttorney { edges { node { status receivedDate facility { name } aggregator { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        nodes(&powers["powersOfAttorney"]),
        [json!({ "status": "RECEIVED", "receivedDate": "2021-02-15",
                 "facility": { "name": "目黒区病院01" }, "aggregator": { "name": "目黒区医師会" } })],
    );
    server.stop().await;
}

//! The facility model and creating facilities through the API: what a place is and how it is
//! supplied, the basic-type facility as an approval field, `registerFacilities` (the service
//! desk, list or CSV, all or none, errors by row) and `registerSpecialVenue` (a municipality,
//! in its own area; it then edits the venue without the proxy flag).

mod common;

use common::TestServer;
use common::api::{error_code, error_field, error_rows, facility_id};
use common::db::{audit_entries, count};
use serde_json::{Value, json};
use vsys::facilities::codes::MedicalInstitutionCode;

const FACILITIES: i64 = 8;
const COUNT_FACILITIES: &str = "SELECT COUNT(*) FROM organizations WHERE kind = 'FACILITY'";

const SUPPLY: &str =
    "query($f: ID!) { node(id: $f) { ... on Facility { name facilityType supplyType
    basicFacility { name } operatingMunicipality { name } } } }";

#[tokio::test]
async fn the_demo_separates_the_kind_of_place_from_how_it_is_supplied() {
    let server = TestServer::start().await;
    let clinic = facility_id(&server, "Meguro Clinic 01").await;
    let data = server.data(SUPPLY, json!({ "f": clinic })).await;
    assert_eq!(
        data["node"],
        json!({ "name": "目黒区診療所01", "facilityType": "CLINIC", "supplyType": "SATELLITE",
                "basicFacility": { "name": "目黒区病院01" }, "operatingMunicipality": null })
    );
    let venue = facility_id(&server, "Yokohama Special Venue 01").await;
    let data = server.data(SUPPLY, json!({ "f": venue })).await;
    assert_eq!(
        data["node"],
        json!({ "name": "横浜特設会場01", "facilityType": "SPECIAL_VENUE", "supplyType": "BASIC",
                "basicFacility": null, "operatingMunicipality": { "name": "横浜市" } })
    );
    // The old mixed values are no longer offered.
    let types = server
        .data(
            "{ __type(name: \"FacilityType\") { enumValues { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = types["__type"]["enumValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CLINIC", "HOSPITAL", "SPECIAL_VENUE"]);
    // Every demo code passes the real check digit.
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM organizations WHERE kind = 'FACILITY'")
            .fetch_all(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(codes.len() as i64, FACILITIES);
    for code in codes {
        MedicalInstitutionCode::parse(&code).unwrap_or_else(|e| panic!("{code}: {e}"));
    }
    server.stop().await;
}

const UPDATE: &str =
    "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) {
    facility { openingHours supplyType } changeRequest { id changes { field before after } } } }";
const APPROVE: &str = "mutation($r: ID!) { approveFacilityChange(requestId: $r) { status } }";

#[tokio::test]
async fn a_venues_operating_municipality_edits_it_without_the_proxy_flag_and_no_one_else_does() {
    let server = TestServer::start().await;
    let venue = facility_id(&server, "Meguro Special Venue 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    let edited = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": venue, "i": { "openingHours": "土日 9:00-17:00" } }),
        )
        .await;
    assert_eq!(
        edited["data"]["updateFacility"]["facility"]["openingHours"], "土日 9:00-17:00",
        "{edited}"
    );
    let proxy: i64 = count(
        &server,
        "SELECT proxy_input FROM facilities f JOIN organizations o ON o.id = f.organization_id WHERE o.code = '1319000012'",
    )
    .await;
    assert_eq!(proxy, 0, "without the proxy flag");
    let detail = &audit_entries(&server, "updateFacility").await[0];
    assert_eq!(detail.0, "SUCCESS");
    assert!(detail.1.contains("operating municipality"), "{detail:?}");
    // Its approval fields still go through a change request, decided by another user.
    let filed = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": venue, "i": { "generalAcceptance": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    assert!(request.is_string(), "{filed}");
    assert_eq!(
        server
            .code_as(&meguro, APPROVE, json!({ "r": request }))
            .await,
        "FORBIDDEN"
    );

    // Another municipality may not edit it, nor may Meguro edit Yokohama's venue or a clinic
    // it does not run.
    let yokohama = server.sign_in("yokohama.admin").await;
    let refused = server
        .graphql_as(
            &yokohama,
            UPDATE,
            json!({ "f": venue, "i": { "openingHours": "x" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "NOT_FOUND");
    let yokohama_venue = facility_id(&server, "Yokohama Special Venue 01").await;
    let refused = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": yokohama_venue, "i": { "openingHours": "x" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "NOT_FOUND");
    let clinic = facility_id(&server, "Meguro Clinic 01").await;
    let refused = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": clinic, "i": { "openingHours": "x" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let denied: Vec<_> = audit_entries(&server, "updateFacility")
        .await
        .into_iter()
        .filter(|(outcome, _)| outcome == "DENIED")
        .collect();
    assert_eq!(denied.len(), 3, "every refusal is audited: {denied:?}");
    server.stop().await;
}

/// Meguro files a change request making Meguro Special Venue 01 a satellite of Meguro
/// Hospital 01: (Meguro's session, the venue, the `updateFacility` answer).
async fn file_the_venue_as_the_hospitals_satellite(server: &TestServer) -> (String, Value, Value) {
    let venue = facility_id(server, "Meguro Special Venue 01").await;
    let hospital = facility_id(server, "Meguro Hospital 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    let filed = server
        .data_as(
            &meguro,
            UPDATE,
            json!({ "f": venue, "i": { "basicFacilityId": hospital } }),
        )
        .await;
    (meguro, venue, filed["updateFacility"].clone())
}

/// Meguro's staff approves the change request `request`; returns the answer's status.
async fn approve(server: &TestServer, staff: &str, request: &Value) -> Value {
    server
        .data_as(staff, APPROVE, json!({ "r": request }))
        .await["approveFacilityChange"]["status"]
        .clone()
}

/// The venue made a satellite of the hospital, approved: (Meguro's session, Meguro's staff's
/// session, the venue).
async fn make_the_venue_the_hospitals_satellite(server: &TestServer) -> (String, String, Value) {
    let (meguro, venue, payload) = file_the_venue_as_the_hospitals_satellite(server).await;
    let staff = server.sign_in("meguro.staff").await;
    assert_eq!(
        approve(server, &staff, &payload["changeRequest"]["id"]).await,
        "APPROVED"
    );
    (meguro, staff, venue)
}

#[tokio::test]
async fn naming_a_basic_facility_waits_for_approval_and_shows_the_reference_side_by_side() {
    let server = TestServer::start().await;
    let (_, _, payload) = file_the_venue_as_the_hospitals_satellite(&server).await;
    assert_eq!(
        payload["facility"]["supplyType"], "BASIC",
        "not before approval"
    );
    let changes = payload["changeRequest"]["changes"].as_array().unwrap();
    let basic = changes
        .iter()
        .find(|c| c["field"] == "basicFacility")
        .unwrap();
    assert_eq!(basic["before"], Value::Null);
    assert_eq!(
        basic["after"]["name"], "目黒区病院01",
        "shown side by side: {basic}"
    );
    assert_eq!(basic["after"]["code"], "1311000010");
    let supply = changes.iter().find(|c| c["field"] == "supplyType").unwrap();
    assert_eq!(
        (&supply["before"], &supply["after"]),
        (&json!("BASIC"), &json!("SATELLITE"))
    );
    server.stop().await;
}

#[tokio::test]
async fn an_approved_basic_facility_makes_the_venue_its_satellite() {
    let server = TestServer::start().await;
    let (_, _, venue) = make_the_venue_the_hospitals_satellite(&server).await;
    let now = server.data(SUPPLY, json!({ "f": venue })).await;
    assert_eq!(now["node"]["supplyType"], "SATELLITE");
    assert_eq!(now["node"]["basicFacility"]["name"], "目黒区病院01");
    server.stop().await;
}

#[tokio::test]
async fn a_satellite_special_venue_keeps_its_doctor_rule() {
    let server = TestServer::start().await;
    let (meguro, _, venue) = make_the_venue_the_hospitals_satellite(&server).await;
    // Once the demo venue's only doctor (both roles) has left, the satellite venue is not
    // eligible.
    let doctors = server
        .data_as(
            &meguro,
            "query($f: ID!) { node(id: $f) { ... on Facility { doctors { id } } } }",
            json!({ "f": venue }),
        )
        .await;
    let doctors = doctors["node"]["doctors"].as_array().unwrap().clone();
    assert_eq!(doctors.len(), 1, "the demo venue's one doctor");
    let left = server
        .data_as(
            &meguro,
            "mutation($d: ID!, $date: String!) { withdrawDoctor(doctorId: $d, withdrawalDate: $date) { active } }",
            json!({ "d": doctors[0]["id"], "date": server.state.db.clock().today_in_japan() }),
        )
        .await;
    assert_eq!(left["withdrawDoctor"]["active"], false);
    let eligibility = server
        .data_as(
            &meguro,
            "query($f: ID!) { node(id: $f) { ... on Facility { eligibility { reasons } } } }",
            json!({ "f": venue }),
        )
        .await;
    let reasons = eligibility["node"]["eligibility"]["reasons"].clone();
    assert!(
        reasons
            .as_array()
            .unwrap()
            .contains(&json!("NO_RESPONSIBLE_DOCTOR")),
        "{eligibility}"
    );
    server.stop().await;
}

#[tokio::test]
async fn going_back_to_basic_supply_clears_the_basic_facility_in_the_same_request() {
    let server = TestServer::start().await;
    let (meguro, staff, venue) = make_the_venue_the_hospitals_satellite(&server).await;
    let back = server
        .data_as(
            &meguro,
            UPDATE,
            json!({ "f": venue, "i": { "supplyType": "BASIC" } }),
        )
        .await;
    let request = &back["updateFacility"]["changeRequest"];
    assert_eq!(
        request["changes"].as_array().unwrap().len(),
        2,
        "both fields in one request: {back}"
    );
    assert_eq!(approve(&server, &staff, &request["id"]).await, "APPROVED");
    let now = server.data(SUPPLY, json!({ "f": venue })).await;
    assert_eq!(now["node"]["supplyType"], "BASIC");
    assert_eq!(now["node"]["basicFacility"], Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn a_basic_facility_that_is_a_satellite_itself_or_in_another_prefecture_is_refused_audited_and_changes_nothing()
 {
    let server = TestServer::start().await;
    let venue = facility_id(&server, "Meguro Special Venue 01").await;
    let satellite = facility_id(&server, "Meguro Clinic 01").await;
    let yokohama = facility_id(&server, "Yokohama Hospital 01").await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    for (mut input, why) in [
        (json!({ "basicFacilityId": satellite }), "a satellite"),
        (json!({ "basicFacilityId": venue }), "itself"),
        (json!({ "basicFacilityId": yokohama }), "another prefecture"),
        (
            json!({ "basicFacilityId": hospital, "supplyType": "BASIC" }),
            "contradicting supply type",
        ),
        (
            json!({ "supplyType": "SATELLITE" }),
            "a satellite without its basic facility",
        ),
    ] {
        // An ordinary field in the same edit is not applied either.
        input["openingHours"] = json!("changed");
        let response = server
            .graphql_as(&meguro, UPDATE, json!({ "f": venue, "i": input }))
            .await;
        assert_eq!(error_code(&response), "INVALID_INPUT", "{why}: {response}");
        assert_eq!(error_field(&response), "basicFacilityId", "{why}");
    }
    // A facility that supplies satellites cannot become one (Meguro Hospital 01 supplies
    // Meguro Clinic 01).
    let token = common::api::hospital(&server).await;
    let setagaya = facility_id(&server, "Setagaya Hospital 01").await;
    let response = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": hospital, "i": { "basicFacilityId": setagaya } }),
        )
        .await;
    assert_eq!(error_code(&response), "INVALID_INPUT", "{response}");
    // An unknown facility is not found.
    let unknown = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": venue, "i": { "basicFacilityId": "RmFjaWxpdHk6bm9uZQ" } }),
        )
        .await;
    assert_eq!(error_code(&unknown), "NOT_FOUND", "{unknown}");

    // Nothing changed, nothing was filed, every refusal is in the audit log.
    let now = server.data(SUPPLY, json!({ "f": venue })).await;
    assert_eq!(now["node"]["supplyType"], "BASIC");
    let opening: Option<String> = sqlx::query_scalar(
        "SELECT opening_hours FROM facilities f JOIN organizations o ON o.id = f.organization_id WHERE o.code = '1319000012'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(opening, None);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM facility_change_requests").await,
        0
    );
    let failures: Vec<_> = audit_entries(&server, "updateFacility")
        .await
        .into_iter()
        .filter(|(outcome, _)| outcome == "FAILURE")
        .collect();
    assert_eq!(failures.len(), 6, "{failures:?}");
    assert!(failures[0].1.contains("basicFacilityId"), "{failures:?}");
    server.stop().await;
}

const REGISTER: &str = "mutation($list: [RegisterFacilityInput!], $csv: String) {
    registerFacilities(facilities: $list, csv: $csv) { id code name facilityType supplyType
      basicFacility { code } operatingMunicipality { name } municipality { name } prefecture { code } } }";

fn clinic(code: &str, municipality: &str) -> Value {
    json!({ "code": code, "name": format!("新規診療所{code}"), "municipalityCode": municipality,
            "facilityType": "CLINIC", "address": "東京都目黒区", "latitude": 35.63, "longitude": 139.69 })
}

#[tokio::test]
async fn the_service_desk_registers_a_list_of_facilities_with_satellites_in_the_same_list() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let mut satellite = clinic("1311000051", "131105");
    satellite["supplyType"] = json!("SATELLITE");
    satellite["basicFacilityCode"] = json!("1311000069");
    let mut hospital = clinic("1311000069", "131105");
    hospital["facilityType"] = json!("HOSPITAL");
    let mut venue = clinic("1319000020", "131121");
    venue["facilityType"] = json!("SPECIAL_VENUE");
    let mut existing_basic = clinic("1311000077", "131032");
    existing_basic["supplyType"] = json!("SATELLITE");
    existing_basic["basicFacilityCode"] = json!("1311000036");
    for code in ["1311000051", "1311000069", "1319000020", "1311000077"] {
        MedicalInstitutionCode::parse(code).unwrap();
    }
    let response = server
        .graphql_as(
            &desk,
            REGISTER,
            json!({ "list": [satellite, hospital, venue, existing_basic] }),
        )
        .await;
    let registered = response["data"]["registerFacilities"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert_eq!(registered.len(), 4);
    assert_eq!(registered[0]["code"], "1311000051", "in the order given");
    assert_eq!(registered[0]["supplyType"], "SATELLITE");
    assert_eq!(registered[0]["basicFacility"]["code"], "1311000069");
    assert_eq!(registered[0]["municipality"]["name"], "目黒区");
    assert_eq!(registered[1]["facilityType"], "HOSPITAL");
    assert_eq!(registered[2]["operatingMunicipality"]["name"], "世田谷区");
    assert_eq!(registered[3]["basicFacility"]["code"], "1311000036");
    assert_eq!(count(&server, COUNT_FACILITIES).await, FACILITIES + 4);
    let audited = audit_entries(&server, "registerFacilities").await;
    assert_eq!(audited.len(), 4);
    assert!(audited.iter().all(|(outcome, _)| outcome == "SUCCESS"));
    server.stop().await;
}

#[tokio::test]
async fn a_facility_csv_is_registered_all_at_once() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    // A spreadsheet export: byte-order mark, columns in its own order, optional ones left
    // out, Japanese type names, a quoted address with a comma, an empty line.
    let csv = "\u{feff}name,code,facilityType,municipalityCode,address,latitude,longitude,phone\n\
               新規病院,1311000069,病院,131105,\"東京都目黒区1-1, 2階\",35.63,139.69,03-1111-2222\n\
               ,,,,,,,\n\
               新規会場,1419000029,特設会場,141003,神奈川県横浜市,35.45,139.63,\n";
    MedicalInstitutionCode::parse("1419000029").unwrap();
    let response = server
        .graphql_as(&desk, REGISTER, json!({ "csv": csv }))
        .await;
    let registered = response["data"]["registerFacilities"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert_eq!(registered.len(), 2);
    assert_eq!(registered[0]["name"], "新規病院");
    assert_eq!(registered[1]["facilityType"], "SPECIAL_VENUE");
    assert_eq!(registered[1]["prefecture"]["code"], "14");
    assert_eq!(registered[1]["operatingMunicipality"]["name"], "横浜市");
    let address = server
        .data(
            "query($f: ID!) { node(id: $f) { ... on Facility { address phone } } }",
            json!({ "f": registered[0]["id"] }),
        )
        .await;
    assert_eq!(address["node"]["address"], "東京都目黒区1-1, 2階");
    assert_eq!(address["node"]["phone"], "03-1111-2222");
    server.stop().await;
}

const HEADER: &str = "code,name,municipalityCode,facilityType,address,latitude,longitude\n";

fn csv_row(code: &str, municipality: &str) -> String {
    format!("{code},診療所{code},{municipality},CLINIC,東京都,35.6,139.7\n")
}

/// Sends a CSV that must be refused as a whole, and checks that nothing was registered and
/// that the refusal is audited.
async fn refused_csv(server: &TestServer, desk: &str, csv: &str) -> Value {
    let failures_before = audit_entries(server, "registerFacilities").await.len();
    let response = server
        .graphql_as(desk, REGISTER, json!({ "csv": csv }))
        .await;
    assert_eq!(error_code(&response), "INVALID_INPUT", "{response}");
    assert_eq!(response["data"], Value::Null);
    assert_eq!(
        count(server, COUNT_FACILITIES).await,
        FACILITIES,
        "all or none"
    );
    let audited = audit_entries(server, "registerFacilities").await;
    assert_eq!(audited.len(), failures_before + 1);
    assert_eq!(audited.last().unwrap().0, "FAILURE");
    response
}

#[tokio::test]
async fn a_facility_csv_with_a_bad_check_digit_is_refused_by_row_and_field() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    // The second row carries the code as the old six-digit rule computed it.
    let csv = format!(
        "{HEADER}{}{}",
        csv_row("1311000069", "131105"),
        csv_row("1311000017", "131105")
    );
    let response = refused_csv(&server, &desk, &csv).await;
    assert_eq!(error_rows(&response), [(2, "code".to_owned())]);
    assert_eq!(error_field(&response), "csv");
    let message = response["errors"][0]["extensions"]["rows"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("check digit"), "{message}");
    let detail = &audit_entries(&server, "registerFacilities").await[0].1;
    assert!(detail.contains("row 2 code"), "{detail}");
    server.stop().await;
}

#[tokio::test]
async fn a_facility_csv_with_a_duplicate_in_the_file_or_in_the_registry_is_refused() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let csv = format!(
        "{HEADER}{}{}{}",
        csv_row("1311000069", "131105"),
        csv_row("1311000010", "131105"),
        csv_row("1311000069", "131105")
    );
    let response = refused_csv(&server, &desk, &csv).await;
    assert_eq!(
        error_rows(&response),
        [(2, "code".to_owned()), (3, "code".to_owned())],
        "already registered (目黒区病院01), and the same as row 1"
    );
    let messages: Vec<&str> = response["errors"][0]["extensions"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("already registered"), "{messages:?}");
    assert!(messages[1].contains("row 1"), "{messages:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_facility_csv_with_an_unknown_municipality_is_refused() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    // Shibuya-ku's code is valid but not in the demo; 131131 fails its check digit.
    assert_eq!(
        server
            .data(r#"{ municipality(code: "131130") { id } }"#, json!({}))
            .await["municipality"],
        Value::Null
    );
    let csv = format!(
        "{HEADER}{}{}{}",
        csv_row("1311000069", "131130"),
        csv_row("1311000077", "131131"),
        csv_row("1311000051", "141003")
    );
    let response = refused_csv(&server, &desk, &csv).await;
    assert_eq!(
        error_rows(&response),
        [
            (1, "municipalityCode".to_owned()),
            (2, "municipalityCode".to_owned()),
            (3, "code".to_owned())
        ],
        "unknown, malformed, and a Tokyo code in Yokohama"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_facility_csv_of_more_than_1000_rows_is_refused_at_row_1001() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let mut csv = HEADER.to_owned();
    for n in 0..1001u32 {
        let code = MedicalInstitutionCode::from_parts("13", 1, 500_000 + n);
        csv.push_str(&csv_row(code.as_str(), "131105"));
    }
    let response = refused_csv(&server, &desk, &csv).await;
    assert_eq!(error_rows(&response), [(1001, "-".to_owned())]);
    // The same limit for a list.
    let list: Vec<Value> = (0..1001u32)
        .map(|n| {
            clinic(
                MedicalInstitutionCode::from_parts("13", 1, 600_000 + n).as_str(),
                "131105",
            )
        })
        .collect();
    let response = server
        .graphql_as(&desk, REGISTER, json!({ "list": list }))
        .await;
    assert_eq!(error_rows(&response), [(1001, "-".to_owned())]);
    assert_eq!(error_field(&response), "facilities");
    assert_eq!(count(&server, COUNT_FACILITIES).await, FACILITIES);
    server.stop().await;
}

#[tokio::test]
async fn every_bad_row_is_named_in_one_answer_and_bad_columns_refuse_the_file() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let csv = format!(
        "{HEADER}{}1311000077,x,131105,CASTLE,東京都,35.6,139.7\n\
         1311000051,x,131105,CLINIC,東京都,north,139.7\n\
         1311000085,x,131105,CLINIC,,35.6,139.7\n\
         1311000093,x,131105,CLINIC,London,51.5,-0.1\n",
        csv_row("1311000069", "131105"),
    );
    let response = refused_csv(&server, &desk, &csv).await;
    assert_eq!(
        error_rows(&response),
        [
            (2, "facilityType".to_owned()),
            (3, "latitude".to_owned()),
            (4, "address".to_owned()),
            (5, "latitude".to_owned())
        ]
    );
    // Satellites name a basic-type facility that is one, in the same prefecture.
    let csv = "code,name,municipalityCode,facilityType,supplyType,basicFacilityCode,address,latitude,longitude\n\
               1311000069,a,131105,CLINIC,SATELLITE,1311000028,東京都,35.6,139.7\n\
               1311000077,b,131105,CLINIC,SATELLITE,1411000019,東京都,35.6,139.7\n\
               1311000051,c,131105,CLINIC,SATELLITE,,東京都,35.6,139.7\n\
               1311000085,d,131105,CLINIC,BASIC,1311000010,東京都,35.6,139.7\n\
               1311000093,e,131105,CLINIC,SATELLITE,1311000093,東京都,35.6,139.7\n";
    let response = refused_csv(&server, &desk, csv).await;
    assert_eq!(
        error_rows(&response),
        (1..=5)
            .map(|r| (r, "basicFacilityCode".to_owned()))
            .collect::<Vec<_>>()
    );
    for (csv, what) in [
        ("code,name,colour\n", "an unknown column"),
        ("code,name\n1311000069,a\n", "a missing column"),
        (HEADER, "no rows"),
    ] {
        let response = refused_csv(&server, &desk, csv).await;
        assert_eq!(error_field(&response), "csv", "{what}");
    }
    server.stop().await;
}

#[tokio::test]
async fn only_the_service_desk_registers_facilities_and_a_refusal_is_audited() {
    let server = TestServer::start().await;
    for user in ["meguro.admin", "tokyo.admin", "nation.admin"] {
        let token = server.sign_in(user).await;
        let response = server
            .graphql_as(
                &token,
                REGISTER,
                json!({ "list": [clinic("1311000069", "131105")] }),
            )
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{user}");
    }
    assert_eq!(count(&server, COUNT_FACILITIES).await, FACILITIES);
    let audited = audit_entries(&server, "registerFacilities").await;
    assert_eq!(audited.len(), 3);
    assert!(audited.iter().all(|(outcome, _)| outcome == "DENIED"));
    server.stop().await;
}

const VENUE: &str = "mutation($i: RegisterSpecialVenueInput!) { registerSpecialVenue(input: $i) {
    id code facilityType operatingMunicipality { name } municipality { name } eligibility { reasons } } }";

fn venue_input(code: &str) -> Value {
    json!({ "code": code, "name": "目黒区特設会場02", "nameRomaji": "Meguro Special Venue 02",
            "address": "東京都目黒区八雲1-1-1", "latitude": 35.62, "longitude": 139.67 })
}

#[tokio::test]
async fn a_municipality_registers_a_special_venue_in_its_area_and_then_edits_it() {
    let server = TestServer::start().await;
    let meguro = server.sign_in("meguro.staff").await;
    let response = server
        .graphql_as(&meguro, VENUE, json!({ "i": venue_input("1319000020") }))
        .await;
    let venue = &response["data"]["registerSpecialVenue"];
    assert_eq!(venue["facilityType"], "SPECIAL_VENUE", "{response}");
    assert_eq!(venue["municipality"]["name"], "目黒区");
    assert_eq!(venue["operatingMunicipality"]["name"], "目黒区");
    assert_eq!(
        venue["eligibility"]["reasons"],
        json!([
            "NO_CURRENT_CONTRACT",
            "NO_RESPONSIBLE_DOCTOR",
            "NO_VACCINATING_DOCTOR"
        ]),
        "a special venue's doctor rule applies"
    );
    // Naming its own municipality explicitly is the same.
    let mut explicit = venue_input("1319000038");
    explicit["municipalityCode"] = json!("131105");
    MedicalInstitutionCode::parse("1319000038").unwrap();
    let response = server
        .graphql_as(&meguro, VENUE, json!({ "i": explicit }))
        .await;
    assert!(
        response["data"]["registerSpecialVenue"]["id"].is_string(),
        "{response}"
    );
    // It edits the venue without the proxy flag.
    let edited = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "f": venue["id"], "i": { "openingHours": "9:00-12:00" } }),
        )
        .await;
    assert_eq!(
        edited["data"]["updateFacility"]["facility"]["openingHours"], "9:00-12:00",
        "{edited}"
    );
    let audited = audit_entries(&server, "registerSpecialVenue").await;
    assert_eq!(audited.len(), 2);
    assert!(audited.iter().all(|(outcome, _)| outcome == "SUCCESS"));
    server.stop().await;
}

#[tokio::test]
async fn a_special_venue_outside_the_municipalitys_area_is_not_found_and_audited() {
    let server = TestServer::start().await;
    let meguro = server.sign_in("meguro.admin").await;
    let mut yokohama = venue_input("1419000029");
    yokohama["municipalityCode"] = json!("141003");
    let response = server
        .graphql_as(&meguro, VENUE, json!({ "i": yokohama }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    // A neighbouring ward of the same prefecture is outside its area too.
    let mut setagaya = venue_input("1319000020");
    setagaya["municipalityCode"] = json!("131121");
    let response = server
        .graphql_as(&meguro, VENUE, json!({ "i": setagaya }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    // The prefecture sees Meguro but does not run venues there; a clinic does not either.
    let tokyo = server.sign_in("tokyo.admin").await;
    let mut in_meguro = venue_input("1319000020");
    in_meguro["municipalityCode"] = json!("131105");
    let response = server
        .graphql_as(&tokyo, VENUE, json!({ "i": in_meguro }))
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
    let audited = audit_entries(&server, "registerSpecialVenue").await;
    assert_eq!(audited.len(), 3);
    assert!(
        audited.iter().all(|(outcome, _)| outcome == "DENIED"),
        "{audited:?}"
    );
    assert_eq!(count(&server, COUNT_FACILITIES).await, FACILITIES);
    server.stop().await;
}

#[tokio::test]
async fn a_special_venue_with_bad_input_is_refused_field_by_field_and_audited() {
    let server = TestServer::start().await;
    let meguro = server.sign_in("meguro.admin").await;
    let mut satellite_of_satellite = venue_input("1319000020");
    satellite_of_satellite["supplyType"] = json!("SATELLITE");
    satellite_of_satellite["basicFacilityCode"] = json!("1311000028");
    for (input, expected) in [
        (venue_input("1319000021"), "code"),
        (venue_input("1419000029"), "code"),
        (venue_input("1311000010"), "code"),
        (
            {
                let mut v = venue_input("1319000020");
                v["latitude"] = json!(10.0);
                v
            },
            "latitude",
        ),
        (
            {
                let mut v = venue_input("1319000020");
                v["municipalityCode"] = json!("13110");
                v
            },
            "municipalityCode",
        ),
        (satellite_of_satellite, "basicFacilityCode"),
    ] {
        let response = server
            .graphql_as(&meguro, VENUE, json!({ "i": input }))
            .await;
        assert_eq!(
            error_code(&response),
            "INVALID_INPUT",
            "{input}: {response}"
        );
        assert_eq!(error_field(&response), expected, "{input}");
    }
    assert_eq!(count(&server, COUNT_FACILITIES).await, FACILITIES);
    let audited = audit_entries(&server, "registerSpecialVenue").await;
    assert_eq!(audited.len(), 6);
    assert!(audited.iter().all(|(outcome, _)| outcome == "FAILURE"));
    server.stop().await;
}

/// A database from before the facility model: the old mixed types, a free-text basic-facility
/// name and the demo's old codes. The migration moves them to the new model.
#[tokio::test]
async fn the_facility_model_migration_moves_old_types_names_and_demo_codes() {
    let test_db = common::TestDb::new().await;
    let db = vsys::db::Db::connect(&test_db.url).await.unwrap();
    // Apply the migrations that existed before this one, from a folder holding only them.
    let earlier = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("migrations").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.as_str() < "20261126000001" {
            std::fs::copy(entry.path(), earlier.path().join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(earlier.path())
        .await
        .unwrap()
        .run(db.pool())
        .await
        .unwrap();
    for statement in [
        "INSERT INTO organizations (id, kind, code, name, prefecture_id, created_at, updated_at) VALUES ('p', 'PREFECTURE', '13', '東京都', NULL, 'x', 'x')",
        "UPDATE organizations SET prefecture_id = 'p' WHERE id = 'p'",
        "INSERT INTO organizations (id, kind, code, name, prefecture_id, municipality_id, parent_id, created_at, updated_at) VALUES ('m', 'MUNICIPALITY', '131105', '目黒区', 'p', NULL, 'p', 'x', 'x')",
        "UPDATE organizations SET municipality_id = 'm' WHERE id = 'm'",
        "INSERT INTO organizations (id, kind, code, name, prefecture_id, municipality_id, parent_id, created_at, updated_at) VALUES \
         ('a', 'FACILITY', '1311000017', '目黒区病院01', 'p', 'm', 'm', 'x', 'x'), \
         ('b', 'FACILITY', '1311000051', 'サテライト診療所', 'p', 'm', 'm', 'x', 'x'), \
         ('c', 'FACILITY', '1311000069', '名前の合わない診療所', 'p', 'm', 'm', 'x', 'x'), \
         ('d', 'FACILITY', '1319000019', '目黒区特設会場01', 'p', 'm', 'm', 'x', 'x')",
        "INSERT INTO facilities (organization_id, facility_type, address, latitude, longitude, basic_facility_name) VALUES \
         ('a', 'BASIC_TYPE_FACILITY', '東京都', 35.6, 139.7, NULL), \
         ('b', 'SATELLITE_FACILITY', '東京都', 35.6, 139.7, '目黒区病院01'), \
         ('c', 'CLINIC', '東京都', 35.6, 139.7, 'どこか'), \
         ('d', 'SPECIAL_VENUE', '東京都', 35.6, 139.7, NULL)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(db.pool())
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    db.migrate().await.unwrap();
    /// id, code, facility type, supply type, basic facility, operating municipality.
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> =
        sqlx::query_as(
            "SELECT o.id, o.code, f.facility_type, f.supply_type, f.basic_facility_id, f.operating_municipality_id \
             FROM facilities f JOIN organizations o ON o.id = f.organization_id ORDER BY o.id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
    let s = |v: &str| v.to_owned();
    assert_eq!(
        rows,
        [
            (
                s("a"),
                s("1311000010"),
                s("HOSPITAL"),
                s("BASIC"),
                None,
                None
            ),
            (
                s("b"),
                s("1311000051"),
                s("CLINIC"),
                s("SATELLITE"),
                Some(s("a")),
                None
            ),
            // A name that names no facility leaves the satellite unlinked.
            (
                s("c"),
                s("1311000069"),
                s("CLINIC"),
                s("SATELLITE"),
                None,
                None
            ),
            (
                s("d"),
                s("1319000012"),
                s("SPECIAL_VENUE"),
                s("BASIC"),
                None,
                Some(s("m"))
            ),
        ]
    );
    db.pool().close().await;
}

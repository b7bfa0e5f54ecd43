//! The facility registry through the API: immediate and approval fields, the change-request
//! state machine, concurrent decisions, proxy input, doctors, eligibility, contracts.

mod common;

use common::TestServer;
use common::api::{assert_invalid, data_or_panic, error_code, facility_id, hospital, nodes};
use common::db::count;
use serde_json::{Value, json};

const UPDATE: &str =
    "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) {
    facility { openingHours phone representativeName latitude }
    changeRequest { id status version changes { field before after } } } }";
const APPROVE: &str =
    "mutation($r: ID!) { approveFacilityChange(requestId: $r) { status decidedAt } }";
const REJECT: &str = "mutation($r: ID!, $why: String!) { rejectFacilityChange(requestId: $r, reason: $why) { status rejectionReason } }";
const FACILITY: &str = "query($f: ID!) { node(id: $f) { ... on Facility { representativeName generalAcceptance vaccinesHandled openingHours } } }";

/// Meguro Hospital 01 changes its opening hours (an ordinary field) and its representative's
/// name (an approval field): (the hospital's session, the facility, the `updateFacility`
/// answer).
async fn file_a_representative_name(server: &TestServer) -> (String, Value, Value) {
    let token = hospital(server).await;
    let facility = facility_id(server, "Meguro Hospital 01").await;
    let response = server
        .data_as(&token, UPDATE, json!({ "f": facility, "i": { "openingHours": "9:00-17:00", "representativeName": "院長 花子" } }))
        .await;
    (token, facility, response["updateFacility"].clone())
}

/// A second approval field while the request is pending; returns the amended request.
async fn amend_with_general_acceptance(
    server: &TestServer,
    token: &str,
    facility: &Value,
) -> Value {
    let amended = server
        .data_as(
            token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    amended["updateFacility"]["changeRequest"].clone()
}

/// The hospital's request for a representative name and general acceptance, approved by
/// Meguro: (the hospital's session, the facility, Meguro's session, the request's id).
async fn approved_request(server: &TestServer) -> (String, Value, String, Value) {
    let (token, facility, payload) = file_a_representative_name(server).await;
    amend_with_general_acceptance(server, &token, &facility).await;
    let request = payload["changeRequest"]["id"].clone();
    let meguro = server.sign_in("meguro.admin").await;
    let approved = server
        .data_as(&meguro, APPROVE, json!({ "r": request }))
        .await;
    assert_eq!(approved["approveFacilityChange"]["status"], "APPROVED");
    (token, facility, meguro, request)
}

#[tokio::test]
async fn ordinary_fields_apply_at_once_and_approval_fields_wait_in_a_pending_request() {
    let server = TestServer::start().await;
    let (_, _, payload) = file_a_representative_name(&server).await;
    assert_eq!(payload["facility"]["openingHours"], "9:00-17:00");
    assert_eq!(
        payload["facility"]["representativeName"],
        Value::Null,
        "not before approval"
    );
    let request = &payload["changeRequest"];
    assert_eq!(request["status"], "PENDING");
    assert_eq!(
        request["changes"],
        json!([{ "field": "representativeName", "before": null, "after": "院長 花子" }])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_second_edit_while_pending_amends_the_same_request() {
    let server = TestServer::start().await;
    let (token, facility, payload) = file_a_representative_name(&server).await;
    let request = &payload["changeRequest"];
    let amended = amend_with_general_acceptance(&server, &token, &facility).await;
    assert_eq!(amended["id"], request["id"]);
    assert_eq!(amended["changes"].as_array().unwrap().len(), 2);
    assert!(amended["version"].as_i64() > request["version"].as_i64());
    server.stop().await;
}

#[tokio::test]
async fn the_municipalitys_queue_shows_a_pending_request_with_its_facility() {
    let server = TestServer::start().await;
    let (_, _, payload) = file_a_representative_name(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let queue = server
        .data_as(&meguro, "{ facilityChangeRequests(filter: { status: PENDING }) { edges { node { id facility { name } changes { field before after } } } } }", json!({}))
        .await;
    let queued = &nodes(&queue["facilityChangeRequests"])[0];
    assert_eq!(queued["id"], payload["changeRequest"]["id"], "{queue}");
    assert_eq!(queued["facility"]["name"], "目黒区病院01");
    server.stop().await;
}

#[tokio::test]
async fn approval_applies_the_requested_values() {
    let server = TestServer::start().await;
    let (token, facility, _, _) = approved_request(&server).await;
    let now = server
        .data_as(&token, FACILITY, json!({ "f": facility }))
        .await;
    assert_eq!(now["node"]["representativeName"], "院長 花子");
    assert_eq!(now["node"]["generalAcceptance"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_representatives_name_is_read_in_the_facilitys_area_only() {
    let server = TestServer::start().await;
    let (_, facility, _, _) = approved_request(&server).await;
    // A person's name: the public must sign in, and another area may not read it.
    let public = server.graphql(FACILITY, json!({ "f": facility })).await;
    assert_eq!(error_code(&public), "UNAUTHENTICATED", "{public}");
    let yokohama = server.sign_in("yokohama.admin").await;
    let foreign = server
        .graphql_as(&yokohama, FACILITY, json!({ "f": facility }))
        .await;
    assert_eq!(error_code(&foreign), "FORBIDDEN", "{foreign}");
    server.stop().await;
}

#[tokio::test]
async fn deciding_an_approved_request_again_is_a_conflict() {
    let server = TestServer::start().await;
    let (token, facility, meguro, request) = approved_request(&server).await;
    assert_eq!(
        server
            .code_as(&meguro, APPROVE, json!({ "r": request }))
            .await,
        "CONFLICT"
    );
    assert_eq!(
        server
            .code_as(&meguro, REJECT, json!({ "r": request, "why": "x" }))
            .await,
        "CONFLICT"
    );
    let now = server
        .data_as(&token, FACILITY, json!({ "f": facility }))
        .await;
    assert_eq!(
        now["node"]["representativeName"], "院長 花子",
        "nothing changes"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_approval_is_audited_with_its_actor_and_the_values_after() {
    let server = TestServer::start().await;
    approved_request(&server).await;
    let nation = server.sign_in("nation.admin").await;
    let log = server
        .data_as(&nation, "{ auditLog(filter: { operation: \"approveFacilityChange\", outcome: SUCCESS }) { edges { node { actorUsername before after } } } }", json!({}))
        .await;
    let entry = &nodes(&log["auditLog"])[0];
    assert_eq!(entry["actorUsername"], "meguro.admin");
    assert_eq!(entry["after"]["representativeName"], "院長 花子");
    server.stop().await;
}

#[tokio::test]
async fn a_rejection_needs_a_reason_and_an_edit_revises_the_rejected_request() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            // The demo hospital handles ["PFIZER"]: asking for Moderna instead is a change.
            json!({ "f": facility, "i": { "vaccinesHandled": ["moderna"] } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let meguro = server.sign_in("meguro.admin").await;
    let no_reason = server
        .graphql_as(&meguro, REJECT, json!({ "r": request, "why": "   " }))
        .await;
    assert_eq!(error_code(&no_reason), "INVALID_INPUT");
    let rejected = server
        .graphql_as(
            &meguro,
            REJECT,
            json!({ "r": request, "why": "ワクチン名の確認が必要です" }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectFacilityChange"]["status"],
        "REJECTED"
    );
    assert_eq!(
        server
            .code_as(&meguro, APPROVE, json!({ "r": request }))
            .await,
        "CONFLICT",
        "a rejected request cannot be approved"
    );
    let revised = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "vaccinesHandled": ["PFIZER", "MODERNA"] } }),
        )
        .await;
    let revised = &revised["data"]["updateFacility"]["changeRequest"];
    assert_eq!(revised["id"], request);
    assert_eq!(revised["status"], "PENDING");
    assert_eq!(revised["changes"][0]["after"], json!(["MODERNA", "PFIZER"]));
    assert_eq!(
        server
            .data_as(&token, FACILITY, json!({ "f": facility }))
            .await["node"]["vaccinesHandled"],
        json!(["PFIZER"]),
        "the approved value stays until the revision is decided"
    );
    server.stop().await;
}

#[tokio::test]
async fn only_the_facilitys_municipality_decides() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    for (user, expected) in [
        ("yokohama.admin", "NOT_FOUND"),
        ("kanagawa.admin", "NOT_FOUND"),
        ("tokyo.admin", "FORBIDDEN"),
        ("pfizer.admin", "NOT_FOUND"),
    ] {
        let other = server.sign_in(user).await;
        assert_eq!(
            server
                .code_as(&other, APPROVE, json!({ "r": request }))
                .await,
            expected,
            "{user}"
        );
    }
    assert_eq!(
        server
            .code_as(&token, APPROVE, json!({ "r": request }))
            .await,
        "FORBIDDEN",
        "a clinic cannot approve"
    );
    assert_eq!(
        server
            .code_anonymously(APPROVE, json!({ "r": request }))
            .await,
        "UNAUTHENTICATED"
    );
    // Another municipality cannot edit the facility either.
    let yokohama = server.sign_in("yokohama.admin").await;
    let edit = server
        .graphql_as(
            &yokohama,
            UPDATE,
            json!({ "f": facility, "i": { "openingHours": "x" } }),
        )
        .await;
    assert_eq!(error_code(&edit), "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn two_approvals_at_once_one_wins_the_other_gets_conflict() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let admin = server.sign_in("meguro.admin").await;
    let staff = server.sign_in("meguro.staff").await;
    for round in 0..3 {
        let filed = server
            .graphql_as(
                &token,
                UPDATE,
                json!({ "f": facility, "i": { "representativeName": format!("院長 {round}") } }),
            )
            .await;
        let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
        let (a, b) = tokio::join!(
            server.graphql_as(&admin, APPROVE, json!({ "r": request })),
            server.graphql_as(&staff, APPROVE, json!({ "r": request })),
        );
        let wins = [&a, &b]
            .iter()
            .filter(|r| r["data"]["approveFacilityChange"]["status"] == "APPROVED")
            .count();
        let conflicts = [&a, &b]
            .iter()
            .filter(|r| error_code(r) == "CONFLICT")
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {round}: {a} {b}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_municipality_enters_data_but_never_approves_its_own_request() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let admin = server.sign_in("meguro.admin").await;
    // Without the approved proxy flag the municipality may not edit.
    let refused = server
        .graphql_as(
            &admin,
            UPDATE,
            json!({ "f": facility, "i": { "openingHours": "x" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "proxyInput": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    server
        .graphql_as(&admin, APPROVE, json!({ "r": request }))
        .await;

    let by_proxy = server
        .graphql_as(&admin, "mutation($f: ID!) { updateFacility(facilityId: $f, input: { representativeName: \"代理 入力\" }) { changeRequest { id proxyOrganization { name } } } }", json!({ "f": facility }))
        .await;
    let request = &by_proxy["data"]["updateFacility"]["changeRequest"];
    assert_eq!(request["proxyOrganization"]["name"], "目黒区", "{by_proxy}");
    assert_eq!(
        server
            .code_as(&admin, APPROVE, json!({ "r": request["id"] }))
            .await,
        "FORBIDDEN",
        "nobody approves their own request"
    );
    let staff = server.sign_in("meguro.staff").await;
    let approved = server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"],
        "APPROVED"
    );
    // The audit log names both the acting user and the facility.
    let nation = server.sign_in("nation.admin").await;
    let log = server
        .graphql_as(&nation, "{ auditLog(filter: { operation: \"updateFacility\", username: \"meguro.admin\" }) { edges { node { detail organizationId } } } }", json!({}))
        .await;
    let entry = &log["data"]["auditLog"]["edges"][0]["node"];
    assert!(entry["detail"].as_str().unwrap().contains("proxy"), "{log}");
    assert!(entry["organizationId"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn bad_facility_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    for (input, field) in [
        (
            json!({ "latitude": 51.5, "longitude": -0.12, "openingHours": "changed" }),
            "latitude",
        ),
        (
            json!({ "medicalInstitutionCode": "1311000018" }),
            "medicalInstitutionCode",
        ),
        (
            json!({ "medicalInstitutionCode": "13110000" }),
            "medicalInstitutionCode",
        ),
        (json!({ "postalCode": "1530061" }), "postalCode"),
        (json!({ "weeklyCapacity": -5 }), "weeklyCapacity"),
        (json!({ "name": "  " }), "name"),
    ] {
        let response = server
            .graphql_as(&token, UPDATE, json!({ "f": facility, "i": input }))
            .await;
        assert_eq!(
            error_code(&response),
            "INVALID_INPUT",
            "{input}: {response}"
        );
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(
        server
            .data_as(&token, FACILITY, json!({ "f": facility }))
            .await["node"]["openingHours"],
        Value::Null
    );
    let nothing = server
        .graphql_as(&token, UPDATE, json!({ "f": facility, "i": {} }))
        .await;
    assert_eq!(error_code(&nothing), "INVALID_INPUT");
    let requests: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facility_change_requests")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(requests, 0);
    server.stop().await;
}

const ELIGIBILITY: &str = "query($f: ID!) { node(id: $f) { ... on Facility { eligibility { eligible reasons } doctors { name licenceNumber roles } } } }";
const DOCTOR: &str = "mutation($f: ID!, $name: String!, $licence: String!, $roles: [DoctorRole!]!) { registerDoctor(facilityId: $f, name: $name, licenceNumber: $licence, roles: $roles) { id roles } }";

/// The demo's Yokohama venue, which has a contract but no doctors, letting Yokohama enter its
/// data (set directly: the approval flow is tested above): (Yokohama's session, the venue).
async fn yokohama_venue_by_proxy(server: &TestServer) -> (String, Value) {
    let venue = facility_id(server, "Yokohama Special Venue 01").await;
    sqlx::query("UPDATE facilities SET proxy_input = 1 WHERE organization_id = (SELECT id FROM organizations WHERE code = '1419000011')")
        .execute(server.state.db.pool())
        .await
        .unwrap();
    let yokohama = server.sign_in("yokohama.admin").await;
    (yokohama, venue)
}

/// The venue's eligibility as Yokohama sees it.
async fn venue_eligibility(server: &TestServer, yokohama: &str, venue: &Value) -> Value {
    server
        .data_as(yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await["node"]["eligibility"]
        .clone()
}

/// Registers one person in both roles at the venue; returns the answer.
async fn register_both_roles(server: &TestServer, yokohama: &str, venue: &Value) -> Value {
    server
        .graphql_as(yokohama, DOCTOR, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE", "VACCINATING"] }))
        .await
}

/// The venue with a doctor in both roles and its demo contract withdrawn today; returns today.
async fn venue_with_doctor_and_no_contract(
    server: &TestServer,
    yokohama: &str,
    venue: &Value,
) -> String {
    data_or_panic(&register_both_roles(server, yokohama, venue).await);
    let today = server.state.db.clock().today_in_japan();
    let contracts = server
        .data_as(
            yokohama,
            "query($f: ID!) { node(id: $f) { ... on Facility { contracts { id kind current } } } }",
            json!({ "f": venue }),
        )
        .await;
    let seeded = contracts["node"]["contracts"].as_array().unwrap();
    assert_eq!(seeded.len(), 1, "{contracts}");
    assert_eq!(seeded[0]["current"], true);
    let withdrawn = server
        .data_as(yokohama, "mutation($ids: [ID!]!, $d: String!) { withdrawContract(contractIds: $ids, withdrawalDate: $d) { current } }", json!({ "ids": [seeded[0]["id"]], "d": today }))
        .await;
    assert_eq!(withdrawn["withdrawContract"][0]["current"], false);
    today
}

#[tokio::test]
async fn a_special_venue_without_doctors_is_not_eligible() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": false, "reasons": ["NO_RESPONSIBLE_DOCTOR", "NO_VACCINATING_DOCTOR"] })
    );
    server.stop().await;
}

#[tokio::test]
async fn a_doctor_with_a_malformed_licence_number_is_invalid() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    let bad = server
        .graphql_as(&yokohama, DOCTOR, json!({ "f": venue, "name": "医師 一郎", "licence": "12-345", "roles": ["RESPONSIBLE"] }))
        .await;
    assert_invalid(&bad, "licenceNumber");
    server.stop().await;
}

#[tokio::test]
async fn one_person_in_both_roles_is_registered_once_and_makes_the_venue_eligible() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    let both = register_both_roles(&server, &yokohama, &venue).await;
    assert_eq!(
        data_or_panic(&both)["registerDoctor"]["roles"],
        json!(["RESPONSIBLE", "VACCINATING"])
    );
    let again = server
        .graphql_as(&yokohama, DOCTOR, json!({ "f": venue, "name": "医師 一郎", "licence": "098765", "roles": ["VACCINATING"] }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": true, "reasons": [] })
    );
    server.stop().await;
}

#[tokio::test]
async fn without_a_current_contract_the_doctors_are_not_enough() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    venue_with_doctor_and_no_contract(&server, &yokohama, &venue).await;
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": false, "reasons": ["NO_CURRENT_CONTRACT"] })
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_contract_makes_a_venue_with_doctors_eligible_again() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    let today = venue_with_doctor_and_no_contract(&server, &yokohama, &venue).await;
    let contract = server
        .data_as(&yokohama, r#"mutation($d: String!) { registerContract(contracts: [{ facilityCode: "1419000011", kind: INDIVIDUAL, joinDate: $d }]) { id current } }"#, json!({ "d": today }))
        .await;
    assert_eq!(contract["registerContract"][0]["current"], true);
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": true, "reasons": [] })
    );
    server.stop().await;
}

#[tokio::test]
async fn a_contract_withdrawn_from_a_later_day_counts_until_that_day() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    data_or_panic(&register_both_roles(&server, &yokohama, &venue).await);
    let contracts = server
        .data_as(
            &yokohama,
            "query($f: ID!) { node(id: $f) { ... on Facility { contracts { id } } } }",
            json!({ "f": venue }),
        )
        .await;
    let contract = contracts["node"]["contracts"][0]["id"].clone();
    let clock = server.state.db.clock().clone();
    let in_two_days = (clock.now().instant().to_offset(vsys::clock::JST).date()
        + time::Duration::days(2))
    .to_string();
    let withdrawn = server
        .data_as(
            &yokohama,
            BULK_WITHDRAW,
            json!({ "ids": [contract], "d": in_two_days }),
        )
        .await;
    assert_eq!(withdrawn["withdrawContract"][0]["current"], true);
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": true, "reasons": [] })
    );
    // Two days on, in Japan, the contract has ended (and the session has idled out).
    server.advance_clock(time::Duration::days(2));
    let yokohama = server.sign_in("yokohama.admin").await;
    assert_eq!(
        venue_eligibility(&server, &yokohama, &venue).await,
        json!({ "eligible": false, "reasons": ["NO_CURRENT_CONTRACT"] })
    );
    server.stop().await;
}

#[tokio::test]
async fn a_venues_doctors_are_not_shown_outside_its_area() {
    let server = TestServer::start().await;
    let (yokohama, venue) = yokohama_venue_by_proxy(&server).await;
    data_or_panic(&register_both_roles(&server, &yokohama, &venue).await);
    // Doctors are personal data.
    let meguro = server.sign_in("meguro.admin").await;
    assert_eq!(
        server
            .code_as(&meguro, ELIGIBILITY, json!({ "f": venue }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        server
            .code_anonymously(ELIGIBILITY, json!({ "f": venue }))
            .await,
        "UNAUTHENTICATED"
    );
    server.stop().await;
}

const BULK_REGISTER: &str = "mutation($csv: String) { registerContract(csv: $csv) { id kind joinDate withdrawalDate current aggregator { name } facility { name } } }";
const BULK_WITHDRAW: &str = "mutation($ids: [ID!]!, $d: String!) { withdrawContract(contractIds: $ids, withdrawalDate: $d) { withdrawalDate current } }";

/// How many contracts the holder of `token` lists.
async fn contracts_listed(server: &TestServer, token: &str) -> usize {
    nodes(
        &server
            .data_as(
                token,
                "{ contracts { edges { node { id withdrawalDate } } } }",
                json!({}),
            )
            .await["contracts"],
    )
    .len()
}

async fn contracts_on_record(server: &TestServer) -> i64 {
    count(server, "SELECT COUNT(*) FROM contracts").await
}

/// The Meguro medical association registers Meguro Clinic 01 and Meguro Special Venue 01
/// (individual contracts in the demo, no collective one; Meguro Hospital 01 is already a
/// member) from a CSV ending in an empty template row: (its session, the contracts).
async fn aggregator_registers_two_members(server: &TestServer) -> (String, Vec<Value>) {
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let csv = "facilityCode,kind,joinDate,withdrawalDate\n1311000028,COLLECTIVE,2021-02-15,\n1319000012,集合,2021-02-15,\n,,,\n";
    let created = server
        .data_as(&aggregator, BULK_REGISTER, json!({ "csv": csv }))
        .await;
    let contracts = created["registerContract"].as_array().unwrap().clone();
    (aggregator, contracts)
}

#[tokio::test]
async fn an_aggregator_registers_its_members_from_a_csv_ignoring_an_empty_template_row() {
    let server = TestServer::start().await;
    let (_, contracts) = aggregator_registers_two_members(&server).await;
    assert_eq!(contracts.len(), 2, "the empty template row is not an error");
    assert_eq!(contracts[0]["aggregator"]["name"], "目黒区医師会");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_contract_csv_row_is_refused_naming_its_row_and_field() {
    let server = TestServer::start().await;
    let (aggregator, _) = aggregator_registers_two_members(&server).await;
    let before = contracts_on_record(&server).await;
    for (csv, field) in [
        (
            "facilityCode,kind,joinDate,withdrawalDate\n1311000036,COLLECTIVE,2021-03-01,2021-02-01\n",
            "withdrawalDate",
        ),
        (
            "facilityCode,kind,joinDate\n1311000034,COLLECTIVE,2021-03-01\n",
            "medicalInstitutionCode",
        ),
        (
            "facilityCode,kind,joinDate\n1311000036,COLLECTIVE,2021-02-30\n",
            "joinDate",
        ),
    ] {
        let response = server
            .graphql_as(&aggregator, BULK_REGISTER, json!({ "csv": csv }))
            .await;
        assert_invalid(&response, field);
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("row 1")
        );
    }
    assert_eq!(contracts_on_record(&server).await, before);
    server.stop().await;
}

#[tokio::test]
async fn a_contract_csv_with_a_bad_second_row_registers_none_of_it() {
    let server = TestServer::start().await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let before = contracts_on_record(&server).await;
    let mixed = "facilityCode,kind,joinDate\n1311000036,COLLECTIVE,2021-03-01\n9911000017,COLLECTIVE,2021-03-01\n";
    assert_eq!(
        server
            .code_as(&aggregator, BULK_REGISTER, json!({ "csv": mixed }))
            .await,
        "INVALID_INPUT"
    );
    assert_eq!(contracts_on_record(&server).await, before);
    server.stop().await;
}

#[tokio::test]
async fn an_aggregator_may_not_register_a_facility_outside_its_prefecture() {
    let server = TestServer::start().await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let before = contracts_on_record(&server).await;
    let yokohama = "facilityCode,kind,joinDate\n1411000019,COLLECTIVE,2021-03-01\n";
    assert_eq!(
        server
            .code_as(&aggregator, BULK_REGISTER, json!({ "csv": yokohama }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(contracts_on_record(&server).await, before);
    server.stop().await;
}

#[tokio::test]
async fn members_cannot_be_withdrawn_before_they_joined() {
    let server = TestServer::start().await;
    let (aggregator, contracts) = aggregator_registers_two_members(&server).await;
    let ids: Vec<Value> = contracts.iter().map(|c| c["id"].clone()).collect();
    let early = server
        .graphql_as(
            &aggregator,
            BULK_WITHDRAW,
            json!({ "ids": ids, "d": "2021-01-01" }),
        )
        .await;
    assert_eq!(
        error_code(&early),
        "INVALID_INPUT",
        "withdrawal before join"
    );
    server.stop().await;
}

#[tokio::test]
async fn members_withdrawn_in_bulk_stay_listed_and_on_record() {
    let server = TestServer::start().await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let listed_before = contracts_listed(&server, &aggregator).await;
    let count_before = contracts_on_record(&server).await;
    let (aggregator, contracts) = aggregator_registers_two_members(&server).await;
    let ids: Vec<Value> = contracts.iter().map(|c| c["id"].clone()).collect();
    let done = server
        .data_as(
            &aggregator,
            BULK_WITHDRAW,
            json!({ "ids": ids, "d": "2021-09-30" }),
        )
        .await;
    assert_eq!(done["withdrawContract"][0]["current"], false);
    assert_eq!(
        contracts_listed(&server, &aggregator).await,
        listed_before + 2
    );
    assert_eq!(contracts_on_record(&server).await, count_before + 2);
    server.stop().await;
}

#[tokio::test]
async fn the_municipality_sees_requests_live_and_the_facility_sees_the_decision() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    // Replaying from the latest sequence number makes the hand-over to live delivery
    // deterministic: nothing committed after this point can be missed.
    let latest = vsys::events::latest_seq(&server.state.db).await.unwrap();
    let subscription = json!({ "id": "s", "type": "subscribe", "payload": {
        "query": "subscription($after: Int) { facilityChangeRequests(after: $after) { id status changes { field after } } }",
        "variables": { "after": latest } } });
    let mut municipality_ws = server.websocket(Some("graphql-transport-ws")).await;
    municipality_ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {meguro}") } })).await;
    assert_eq!(municipality_ws.next_json().await["type"], "connection_ack");
    municipality_ws.send(subscription.clone()).await;
    let mut facility_ws = server.websocket(Some("graphql-transport-ws")).await;
    facility_ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
    assert_eq!(facility_ws.next_json().await["type"], "connection_ack");
    facility_ws.send(subscription).await;

    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let seen = municipality_ws.next_json().await;
    assert_eq!(
        seen["payload"]["data"]["facilityChangeRequests"]["id"], request,
        "{seen}"
    );
    assert_eq!(
        seen["payload"]["data"]["facilityChangeRequests"]["status"],
        "PENDING"
    );
    server
        .graphql_as(&meguro, APPROVE, json!({ "r": request }))
        .await;
    let mut decided = false;
    for _ in 0..3 {
        let message = facility_ws.next_json().await;
        if message["payload"]["data"]["facilityChangeRequests"]["status"] == "APPROVED" {
            decided = true;
            break;
        }
    }
    assert!(decided, "the facility sees the decision");
    server.stop().await;
}

#[tokio::test]
async fn registry_objects_resolve_by_global_id_within_the_area_only() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let node = "query($id: ID!) { node(id: $id) { id ... on FacilityChangeRequest { status } } }";
    let meguro = server.sign_in("meguro.admin").await;
    let seen = server
        .graphql_as(&meguro, node, json!({ "id": request }))
        .await;
    assert_eq!(seen["data"]["node"]["status"], "PENDING", "{seen}");
    let yokohama = server.sign_in("yokohama.admin").await;
    assert_eq!(
        server
            .code_as(&yokohama, node, json!({ "id": request }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        server
            .code_anonymously(node, json!({ "id": request }))
            .await,
        "NOT_FOUND"
    );
    server.stop().await;
}

#[tokio::test]
async fn decisions_respect_the_reviewed_version_and_every_contributor_is_excluded() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    // Grant proxy input first.
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "proxyInput": true } }),
        )
        .await;
    let staff = server.sign_in("meguro.staff").await;
    server
        .graphql_as(
            &staff,
            APPROVE,
            json!({ "r": filed["data"]["updateFacility"]["changeRequest"]["id"] }),
        )
        .await;

    let admin = server.sign_in("meguro.admin").await;
    let by_proxy = server
        .graphql_as(
            &admin,
            UPDATE,
            json!({ "f": facility, "i": { "representativeName": "代理 入力" } }),
        )
        .await;
    let request = by_proxy["data"]["updateFacility"]["changeRequest"].clone();
    // The facility amends it afterwards: the municipality user who filed it still may not decide.
    let amended = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    let version = amended["data"]["updateFacility"]["changeRequest"]["version"].clone();
    assert_eq!(
        server
            .code_as(&admin, APPROVE, json!({ "r": request["id"] }))
            .await,
        "FORBIDDEN"
    );
    // A reviewer who saw an older version gets a conflict, not an unseen approval.
    let stale = "mutation($r: ID!, $v: Int) { approveFacilityChange(requestId: $r, expectedVersion: $v) { status } }";
    assert_eq!(
        server
            .code_as(
                &staff,
                stale,
                json!({ "r": request["id"], "v": request["version"] })
            )
            .await,
        "CONFLICT"
    );
    let fresh = server
        .graphql_as(&staff, stale, json!({ "r": request["id"], "v": version }))
        .await;
    assert_eq!(
        fresh["data"]["approveFacilityChange"]["status"], "APPROVED",
        "{fresh}"
    );
    server.stop().await;
}

#[tokio::test]
async fn setting_a_field_back_withdraws_it_and_an_emptied_request_disappears() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server.graphql_as(&token, UPDATE, json!({ "f": facility, "i": { "generalAcceptance": true, "vaccinesHandled": ["MODERNA"] } })).await;
    assert_eq!(
        filed["data"]["updateFacility"]["changeRequest"]["changes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let undo_one = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": false } }),
        )
        .await;
    let changes = &undo_one["data"]["updateFacility"]["changeRequest"]["changes"];
    assert_eq!(changes.as_array().unwrap().len(), 1, "{undo_one}");
    assert_eq!(changes[0]["field"], "vaccinesHandled");
    let undo_all = server
        .graphql_as(
            &token,
            UPDATE,
            // Back to the demo hospital's approved value.
            json!({ "f": facility, "i": { "vaccinesHandled": ["PFIZER"] } }),
        )
        .await;
    assert_eq!(
        undo_all["data"]["updateFacility"]["changeRequest"],
        Value::Null,
        "{undo_all}"
    );
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM facility_change_requests WHERE status = 'PENDING'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(open, 0);
    // Filing and withdrawing are in the audit log.
    let nation = server.sign_in("nation.admin").await;
    for operation in [
        "submitFacilityChange",
        "amendFacilityChange",
        "withdrawFacilityChange",
    ] {
        let log = server
            .graphql_as(&nation, "query($o: String) { auditLog(filter: { operation: $o }) { edges { node { outcome } } } }", json!({ "o": operation }))
            .await;
        assert!(
            !log["data"]["auditLog"]["edges"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{operation}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn codes_must_match_the_prefecture_and_be_unique_and_a_facility_cannot_withdraw_a_collective_contract()
 {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let kanagawa_code = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "medicalInstitutionCode": "1411000035" } }),
        )
        .await;
    assert_eq!(error_code(&kanagawa_code), "INVALID_INPUT");
    let taken = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "medicalInstitutionCode": "1311000028" } }),
        )
        .await;
    assert_eq!(error_code(&taken), "CONFLICT");

    // The demo hospital is in the Meguro medical association's collective contract.
    let contracts = server
        .graphql_as(
            &token,
            "query($f: ID!) { node(id: $f) { ... on Facility { contracts { id kind } } } }",
            json!({ "f": facility }),
        )
        .await;
    let collective: Vec<&Value> = contracts["data"]["node"]["contracts"]
        .as_array()
        .unwrap_or_else(|| panic!("{contracts}"))
        .iter()
        .filter(|c| c["kind"] == "COLLECTIVE")
        .collect();
    assert_eq!(collective.len(), 1, "{contracts}");
    let contract = collective[0]["id"].clone();
    let withdraw = "mutation($ids: [ID!]!) { withdrawContract(contractIds: $ids, withdrawalDate: \"2021-06-30\") { id } }";
    assert_eq!(
        server
            .code_as(&token, withdraw, json!({ "ids": [contract] }))
            .await,
        "FORBIDDEN"
    );
    // Through a change request instead, whose dates must stay in order.
    let backwards = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "collectiveWithdrawalDate": "2021-01-01" } }),
        )
        .await;
    assert_eq!(error_code(&backwards), "INVALID_INPUT");
    let join_later = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "collectiveWithdrawalDate": "2021-06-30" } }),
        )
        .await;
    assert!(
        join_later["data"]["updateFacility"]["changeRequest"]["id"].is_string(),
        "{join_later}"
    );
    let past_withdrawal = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "collectiveJoinDate": "2021-07-01" } }),
        )
        .await;
    assert_eq!(
        error_code(&past_withdrawal),
        "INVALID_INPUT",
        "the merged request would put the join after the withdrawal"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_old_rejection_is_not_revived_after_a_later_approval() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    let first = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "representativeName": "A" } }),
        )
        .await;
    let first_id = first["data"]["updateFacility"]["changeRequest"]["id"].clone();
    server
        .graphql_as(&meguro, REJECT, json!({ "r": first_id, "why": "名称不備" }))
        .await;
    let second = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "representativeName": "B" } }),
        )
        .await;
    let second_id = second["data"]["updateFacility"]["changeRequest"]["id"].clone();
    assert!(first_id.is_string(), "{first}");
    assert_eq!(second_id, first_id, "the latest rejection is revised");
    server
        .graphql_as(&meguro, APPROVE, json!({ "r": second_id }))
        .await;
    let third = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    assert_ne!(
        third["data"]["updateFacility"]["changeRequest"]["id"], first_id,
        "a new request, history untouched"
    );
    server.stop().await;
}

/// A decision refused for bad input or a conflict (stale version, empty reason, already
/// decided) changes nothing and is audited as a failure, like every refusal.
#[tokio::test]
async fn refused_decisions_are_audited_and_change_nothing() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server
        .graphql_as(
            &token,
            UPDATE,
            json!({ "f": facility, "i": { "generalAcceptance": true } }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let meguro = server.sign_in("meguro.admin").await;

    let stale = server
        .graphql_as(
            &meguro,
            "mutation($r: ID!) { approveFacilityChange(requestId: $r, expectedVersion: 99) { status } }",
            json!({ "r": request }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT", "{stale}");
    let empty = server
        .graphql_as(&meguro, REJECT, json!({ "r": request, "why": "  " }))
        .await;
    assert_eq!(error_code(&empty), "INVALID_INPUT", "{empty}");
    assert_eq!(
        common::db::audited(&server, "approveFacilityChange", "FAILURE").await,
        1
    );
    assert_eq!(
        common::db::audited(&server, "rejectFacilityChange", "FAILURE").await,
        1
    );

    // Still pending: the refusals changed nothing. Deciding it twice is a conflict, audited.
    let approved = server
        .graphql_as(&meguro, APPROVE, json!({ "r": request }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"],
        "APPROVED"
    );
    let again = server
        .graphql_as(&meguro, APPROVE, json!({ "r": request }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    assert_eq!(
        common::db::audited(&server, "approveFacilityChange", "FAILURE").await,
        2
    );
    server.stop().await;
}

#[tokio::test]
async fn vaccines_handled_must_name_vaccines_of_the_product_master() {
    let server = TestServer::start().await;
    let token = common::api::hospital(&server).await;
    let facility = common::api::facility_id(&server, "Meguro Hospital 01").await;
    for codes in [json!(["NOVAVAX"]), json!(["PFIZER", "NEEDLE"])] {
        let refused = server
            .graphql_as(
                &token,
                "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) { changeRequest { id } } }",
                json!({ "f": facility, "i": { "vaccinesHandled": codes } }),
            )
            .await;
        common::api::assert_invalid(&refused, "vaccinesHandled");
    }
    server.stop().await;
}

//! Doctors through the API: the same person in both roles, corrections, dated withdrawal and
//! what it does to eligibility; bad input is refused, changes nothing and is audited.

mod common;

use common::TestServer;
use common::api::{assert_error, assert_invalid, data_or_panic, error_code, facility, hospital};
use common::db::{count, last_audit};
use serde_json::{Value, json};

/// Yokohama's special venue has a contract and no doctors in the demo, so doctors decide its
/// eligibility. Yokohama enters the venue's data (its proxy flag set directly: the approval
/// flow is tested elsewhere).
async fn venue_with_contract(server: &TestServer) -> (String, Value) {
    let (venue, venue_code) = facility(server, "Yokohama Special Venue 01").await;
    sqlx::query("UPDATE facilities SET proxy_input = 1 WHERE organization_id = (SELECT id FROM organizations WHERE code = $1)")
        .bind(&venue_code)
        .execute(server.state.db.pool())
        .await
        .unwrap();
    let yokohama = server.sign_in("yokohama.admin").await;
    let before = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        before["data"]["node"]["eligibility"],
        json!({ "eligible": false, "reasons": ["NO_RESPONSIBLE_DOCTOR", "NO_VACCINATING_DOCTOR"] }),
        "the demo venue has a contract and no doctors: {before}"
    );
    (yokohama, venue)
}

const REGISTER: &str = "mutation($f: ID!, $name: String!, $licence: String!, $roles: [DoctorRole!]!) { registerDoctor(facilityId: $f, name: $name, licenceNumber: $licence, roles: $roles) { id name roles active withdrawalDate } }";
const UPDATE: &str = "mutation($d: ID!, $i: UpdateDoctorInput!) { updateDoctor(doctorId: $d, input: $i) { id name licenceNumber roles } }";
const WITHDRAW: &str = "mutation($d: ID!, $date: String!) { withdrawDoctor(doctorId: $d, withdrawalDate: $date) { id active withdrawalDate } }";
const ELIGIBILITY: &str = "query($f: ID!) { node(id: $f) { ... on Facility { eligibility { eligible reasons } doctors { id name licenceNumber roles active withdrawalDate } } } }";

/// Doctors on record anywhere (the demo's included).
async fn doctors_row_count(server: &TestServer) -> i64 {
    count(server, "SELECT COUNT(*) FROM doctors").await
}

#[tokio::test]
async fn the_same_person_registered_for_the_second_role_holds_both_and_the_venue_becomes_eligible()
{
    let server = TestServer::start().await;
    let seeded_doctors = doctors_row_count(&server).await;
    let (yokohama, venue) = venue_with_contract(&server).await;
    let first = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE"] }))
        .await;
    let doctor = first["data"]["registerDoctor"].clone();
    assert_eq!(doctor["roles"], json!(["RESPONSIBLE"]), "{first}");
    let not_yet = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        not_yet["data"]["node"]["eligibility"]["reasons"],
        json!(["NO_VACCINATING_DOCTOR"])
    );
    // Seed p. 28: register both even when it is the same person.
    let second = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "098765", "roles": ["VACCINATING"] }))
        .await;
    assert_eq!(
        second["data"]["registerDoctor"]["id"], doctor["id"],
        "{second}"
    );
    assert_eq!(
        second["data"]["registerDoctor"]["roles"],
        json!(["RESPONSIBLE", "VACCINATING"])
    );
    let after = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        after["data"]["node"]["eligibility"],
        json!({ "eligible": true, "reasons": [] })
    );
    assert_eq!(
        after["data"]["node"]["doctors"].as_array().unwrap().len(),
        1
    );
    assert_eq!(doctors_row_count(&server).await, seeded_doctors + 1);

    // The same licence under another name is a different person's record: corrected with
    // updateDoctor, never silently merged.
    let other_name = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 二郎", "licence": "98765", "roles": ["VACCINATING"] }))
        .await;
    assert_eq!(error_code(&other_name), "CONFLICT", "{other_name}");
    let again = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE", "VACCINATING"] }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(last_audit(&server, "registerDoctor").await.0, "FAILURE");
    let unchanged = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        unchanged["data"]["node"]["doctors"][0]["name"], "医師 一郎",
        "nothing changed"
    );
    server.stop().await;
}

/// Registers a doctor as the holder of `token` and returns its global id.
async fn register_doctor(
    server: &TestServer,
    token: &str,
    facility: &Value,
    name: &str,
    licence: &str,
    roles: Value,
) -> Value {
    let response = server
        .graphql_as(
            token,
            REGISTER,
            json!({ "f": facility, "name": name, "licence": licence, "roles": roles }),
        )
        .await;
    data_or_panic(&response)["registerDoctor"]["id"].clone()
}

/// Withdraws `doctor` on `date` as the holder of `token`; returns the whole response.
async fn withdraw(server: &TestServer, token: &str, doctor: &Value, date: &str) -> Value {
    server
        .graphql_as(token, WITHDRAW, json!({ "d": doctor, "date": date }))
        .await
}

/// The venue's eligibility and doctors, as Yokohama sees them.
async fn venue_node(server: &TestServer, yokohama: &str, venue: &Value) -> Value {
    server
        .data_as(yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await["node"]
        .clone()
}

/// The venue of [`venue_with_contract`] with a doctor in both roles and a spare vaccinating
/// one: (Yokohama's session, the venue, the doctor, the spare).
async fn venue_with_two_doctors(server: &TestServer) -> (String, Value, Value, Value) {
    let (yokohama, venue) = venue_with_contract(server).await;
    let doctor = register_doctor(
        server,
        &yokohama,
        &venue,
        "医師 一郎",
        "98765",
        json!(["RESPONSIBLE", "VACCINATING"]),
    )
    .await;
    let spare = register_doctor(
        server,
        &yokohama,
        &venue,
        "医師 三郎",
        "111111",
        json!(["VACCINATING"]),
    )
    .await;
    (yokohama, venue, doctor, spare)
}

#[tokio::test]
async fn a_doctor_withdrawn_at_a_future_date_stays_active_until_then() {
    let server = TestServer::start().await;
    let (yokohama, _, _, spare) = venue_with_two_doctors(&server).await;
    let later = withdraw(&server, &yokohama, &spare, "2999-12-31").await;
    assert_eq!(
        data_or_panic(&later)["withdrawDoctor"],
        json!({ "id": spare, "active": true, "withdrawalDate": "2999-12-31" })
    );
    server.stop().await;
}

/// Withdraws the spare at a future date and the doctor today; returns today.
async fn withdraw_the_spare_later_and_the_doctor_today(
    server: &TestServer,
    yokohama: &str,
    doctor: &Value,
    spare: &Value,
) -> String {
    data_or_panic(&withdraw(server, yokohama, spare, "2999-12-31").await);
    let today = server.state.db.clock().today_in_japan();
    let withdrawn = withdraw(server, yokohama, doctor, &today).await;
    assert_eq!(
        data_or_panic(&withdrawn)["withdrawDoctor"],
        json!({ "id": doctor, "active": false, "withdrawalDate": today })
    );
    today
}

#[tokio::test]
async fn a_doctor_withdrawn_today_no_longer_counts_but_stays_on_record() {
    let server = TestServer::start().await;
    let (yokohama, venue, doctor, spare) = venue_with_two_doctors(&server).await;
    withdraw_the_spare_later_and_the_doctor_today(&server, &yokohama, &doctor, &spare).await;
    let node = venue_node(&server, &yokohama, &venue).await;
    assert_eq!(
        node["eligibility"],
        json!({ "eligible": false, "reasons": ["NO_RESPONSIBLE_DOCTOR"] }),
        "the withdrawn doctor no longer counts; the one leaving later still does"
    );
    assert_eq!(node["doctors"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_second_withdrawal_is_a_conflict_that_changes_nothing_and_is_audited() {
    let server = TestServer::start().await;
    let (yokohama, _, doctor, spare) = venue_with_two_doctors(&server).await;
    let today =
        withdraw_the_spare_later_and_the_doctor_today(&server, &yokohama, &doctor, &spare).await;
    let twice = withdraw(&server, &yokohama, &doctor, "2021-12-31").await;
    assert_eq!(error_code(&twice), "CONFLICT", "{twice}");
    assert!(
        twice["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already withdrawn")
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT withdrawal_date FROM doctors WHERE licence_number = '098765'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some(today.as_str()));
    let (outcome, detail) = last_audit(&server, "withdrawDoctor").await;
    assert_eq!(outcome, "FAILURE");
    assert!(detail.starts_with("CONFLICT"), "{detail}");
    server.stop().await;
}

#[tokio::test]
async fn a_withdrawal_on_an_impossible_date_is_invalid() {
    let server = TestServer::start().await;
    let (yokohama, _, _, spare) = venue_with_two_doctors(&server).await;
    let bad_date = withdraw(&server, &yokohama, &spare, "2021-02-30").await;
    assert_invalid(&bad_date, "withdrawalDate");
    server.stop().await;
}

#[tokio::test]
async fn outside_its_area_a_doctor_is_not_found_and_the_withdrawal_is_denied() {
    let server = TestServer::start().await;
    let (_, _, _, spare) = venue_with_two_doctors(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let foreign = withdraw(&server, &meguro, &spare, "2021-12-31").await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    assert_eq!(last_audit(&server, "withdrawDoctor").await.0, "DENIED");
    server.stop().await;
}

#[tokio::test]
async fn registering_a_withdrawn_doctor_again_reinstates_the_record() {
    let server = TestServer::start().await;
    let (yokohama, venue, doctor, spare) = venue_with_two_doctors(&server).await;
    withdraw_the_spare_later_and_the_doctor_today(&server, &yokohama, &doctor, &spare).await;
    let back = server
        .data_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE"] }))
        .await;
    assert_eq!(back["registerDoctor"]["id"], doctor);
    assert_eq!(back["registerDoctor"]["active"], true);
    assert_eq!(back["registerDoctor"]["withdrawalDate"], Value::Null);
    let node = venue_node(&server, &yokohama, &venue).await;
    assert_eq!(node["eligibility"]["eligible"], true, "{node}");
    server.stop().await;
}

/// Meguro Hospital 01 with two vaccinating doctors: (the hospital's session, 医師 一朗
/// licence 222222, 医師 五郎 licence 333333).
async fn hospital_with_two_doctors(server: &TestServer) -> (String, Value, Value) {
    let hospital = hospital(server).await;
    let (facility, _) = facility(server, "Meguro Hospital 01").await;
    let doctor = register_doctor(
        server,
        &hospital,
        &facility,
        "医師 一朗",
        "222222",
        json!(["VACCINATING"]),
    )
    .await;
    let other = register_doctor(
        server,
        &hospital,
        &facility,
        "医師 五郎",
        "333333",
        json!(["VACCINATING"]),
    )
    .await;
    (hospital, doctor, other)
}

/// Every doctor on record: (name, licence, responsible, vaccinating), by licence.
async fn doctors_snapshot(server: &TestServer) -> Vec<(String, String, i32, i32)> {
    sqlx::query_as::<_, (String, String, i32, i32)>(
        "SELECT name, licence_number, is_responsible, is_vaccinating FROM doctors ORDER BY licence_number",
    )
    .fetch_all(server.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_doctor_is_corrected_in_place_and_the_audit_keeps_both_states() {
    let server = TestServer::start().await;
    let (hospital, doctor, _) = hospital_with_two_doctors(&server).await;
    let corrected = server
        .data_as(&hospital, UPDATE, json!({ "d": doctor, "i": { "name": "医師 一郎", "licenceNumber": "222223", "roles": ["RESPONSIBLE", "VACCINATING"] } }))
        .await;
    assert_eq!(
        corrected["updateDoctor"],
        json!({ "id": doctor, "name": "医師 一郎", "licenceNumber": "222223", "roles": ["RESPONSIBLE", "VACCINATING"] }),
    );
    let (before, after): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT before_state, after_state FROM audit_log WHERE operation = 'updateDoctor' AND outcome = 'SUCCESS'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert!(before.unwrap().contains("医師 一朗"));
    assert!(after.unwrap().contains("医師 一郎"));
    server.stop().await;
}

#[tokio::test]
async fn a_bad_correction_is_refused_audited_and_changes_nothing() {
    let server = TestServer::start().await;
    let (hospital, doctor, _) = hospital_with_two_doctors(&server).await;
    let before_bad = doctors_snapshot(&server).await;
    for (input, expected, field) in [
        (json!({ "licenceNumber": "333333" }), "CONFLICT", None),
        (json!({ "roles": [] }), "INVALID_INPUT", Some("roles")),
        (json!({ "name": " " }), "INVALID_INPUT", Some("name")),
        (
            json!({ "licenceNumber": "12-34" }),
            "INVALID_INPUT",
            Some("licenceNumber"),
        ),
        (json!({}), "INVALID_INPUT", None),
    ] {
        let response = server
            .graphql_as(&hospital, UPDATE, json!({ "d": doctor, "i": input }))
            .await;
        assert_error(&response, expected, field);
        assert_eq!(last_audit(&server, "updateDoctor").await.0, "FAILURE");
    }
    assert_eq!(
        doctors_snapshot(&server).await,
        before_bad,
        "nothing changed"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_municipality_without_the_proxy_flag_may_not_correct_a_facilitys_doctor() {
    let server = TestServer::start().await;
    let (_, doctor, _) = hospital_with_two_doctors(&server).await;
    let before = doctors_snapshot(&server).await;
    // Meguro has no proxy flag for the hospital: inside its area, but not its data.
    let meguro = server.sign_in("meguro.admin").await;
    let proxy = server
        .graphql_as(
            &meguro,
            UPDATE,
            json!({ "d": doctor, "i": { "name": "医師 四郎" } }),
        )
        .await;
    assert_eq!(error_code(&proxy), "FORBIDDEN");
    assert_eq!(last_audit(&server, "updateDoctor").await.0, "DENIED");
    assert_eq!(doctors_snapshot(&server).await, before, "nothing changed");
    server.stop().await;
}

#[tokio::test]
async fn a_withdrawn_doctor_is_not_corrected() {
    let server = TestServer::start().await;
    let (hospital, _, other) = hospital_with_two_doctors(&server).await;
    // Registering again would reinstate it.
    withdraw(&server, &hospital, &other, "2021-06-30").await;
    let withdrawn = server
        .graphql_as(
            &hospital,
            UPDATE,
            json!({ "d": other, "i": { "name": "医師 六郎" } }),
        )
        .await;
    assert_eq!(error_code(&withdrawn), "CONFLICT");
    server.stop().await;
}

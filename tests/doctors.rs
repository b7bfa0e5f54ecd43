//! Doctors through the API: the same person in both roles, corrections, dated withdrawal and
//! what it does to eligibility; bad input is refused, changes nothing and is audited.

mod common;

use common::TestServer;
use common::api::{error_code, facility, hospital};
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

#[tokio::test]
async fn a_withdrawn_doctor_no_longer_counts_and_a_second_withdrawal_is_refused_and_audited() {
    let server = TestServer::start().await;
    let (yokohama, venue) = venue_with_contract(&server).await;
    let registered = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE", "VACCINATING"] }))
        .await;
    let doctor = registered["data"]["registerDoctor"]["id"].clone();
    let spare = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 三郎", "licence": "111111", "roles": ["VACCINATING"] }))
        .await;
    let spare = spare["data"]["registerDoctor"]["id"].clone();

    // A withdrawal dated in the future: the doctor still counts until then.
    let later = server
        .graphql_as(
            &yokohama,
            WITHDRAW,
            json!({ "d": spare, "date": "2999-12-31" }),
        )
        .await;
    assert_eq!(
        later["data"]["withdrawDoctor"],
        json!({ "id": spare, "active": true, "withdrawalDate": "2999-12-31" })
    );

    let today = server.state.db.clock().today_in_japan();
    let withdrawn = server
        .graphql_as(&yokohama, WITHDRAW, json!({ "d": doctor, "date": today }))
        .await;
    assert_eq!(
        withdrawn["data"]["withdrawDoctor"],
        json!({ "id": doctor, "active": false, "withdrawalDate": today }),
        "{withdrawn}"
    );
    let eligibility = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        eligibility["data"]["node"]["eligibility"],
        json!({ "eligible": false, "reasons": ["NO_RESPONSIBLE_DOCTOR"] }),
        "the withdrawn doctor no longer counts; the one leaving later still does"
    );
    // Still on record.
    assert_eq!(
        eligibility["data"]["node"]["doctors"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Withdrawn twice: a clear error, nothing changes, and the attempt is audited.
    let twice = server
        .graphql_as(
            &yokohama,
            WITHDRAW,
            json!({ "d": doctor, "date": "2021-12-31" }),
        )
        .await;
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

    let bad_date = server
        .graphql_as(
            &yokohama,
            WITHDRAW,
            json!({ "d": spare, "date": "2021-02-30" }),
        )
        .await;
    assert_eq!(error_code(&bad_date), "INVALID_INPUT");
    assert_eq!(
        bad_date["errors"][0]["extensions"]["field"],
        "withdrawalDate"
    );

    // Outside the area the doctor does not exist; inside without the right it is forbidden.
    let meguro = server.sign_in("meguro.admin").await;
    let foreign = server
        .graphql_as(
            &meguro,
            WITHDRAW,
            json!({ "d": spare, "date": "2021-12-31" }),
        )
        .await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    assert_eq!(last_audit(&server, "withdrawDoctor").await.0, "DENIED");

    // Registering the withdrawn doctor again reinstates the record.
    let back = server
        .graphql_as(&yokohama, REGISTER, json!({ "f": venue, "name": "医師 一郎", "licence": "98765", "roles": ["RESPONSIBLE"] }))
        .await;
    assert_eq!(back["data"]["registerDoctor"]["id"], doctor, "{back}");
    assert_eq!(back["data"]["registerDoctor"]["active"], true);
    assert_eq!(
        back["data"]["registerDoctor"]["withdrawalDate"],
        Value::Null
    );
    let eligible = server
        .graphql_as(&yokohama, ELIGIBILITY, json!({ "f": venue }))
        .await;
    assert_eq!(
        eligible["data"]["node"]["eligibility"]["eligible"], true,
        "{eligible}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_doctor_is_corrected_in_place_and_bad_corrections_change_nothing() {
    let server = TestServer::start().await;
    let hospital = hospital(&server).await;
    let (facility, _) = facility(&server, "Meguro Hospital 01").await;
    let first = server
        .graphql_as(&hospital, REGISTER, json!({ "f": facility, "name": "医師 一朗", "licence": "222222", "roles": ["VACCINATING"] }))
        .await;
    let doctor = first["data"]["registerDoctor"]["id"].clone();
    let other = server
        .graphql_as(&hospital, REGISTER, json!({ "f": facility, "name": "医師 五郎", "licence": "333333", "roles": ["VACCINATING"] }))
        .await;
    let other = other["data"]["registerDoctor"]["id"].clone();

    let corrected = server
        .graphql_as(&hospital, UPDATE, json!({ "d": doctor, "i": { "name": "医師 一郎", "licenceNumber": "222223", "roles": ["RESPONSIBLE", "VACCINATING"] } }))
        .await;
    assert_eq!(
        corrected["data"]["updateDoctor"],
        json!({ "id": doctor, "name": "医師 一郎", "licenceNumber": "222223", "roles": ["RESPONSIBLE", "VACCINATING"] }),
        "{corrected}"
    );
    let (before, after): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT before_state, after_state FROM audit_log WHERE operation = 'updateDoctor' AND outcome = 'SUCCESS'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert!(before.unwrap().contains("医師 一朗"));
    assert!(after.unwrap().contains("医師 一郎"));

    let snapshot = || async {
        sqlx::query_as::<_, (String, String, i32, i32)>(
            "SELECT name, licence_number, is_responsible, is_vaccinating FROM doctors ORDER BY licence_number",
        )
        .fetch_all(server.state.db.pool())
        .await
        .unwrap()
    };
    let before_bad = snapshot().await;
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
        assert_eq!(error_code(&response), expected, "{input}: {response}");
        if let Some(field) = field {
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
        assert_eq!(last_audit(&server, "updateDoctor").await.0, "FAILURE");
    }
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
    assert_eq!(snapshot().await, before_bad, "nothing changed");

    // A withdrawn doctor is not corrected (registering again reinstates it).
    server
        .graphql_as(
            &hospital,
            WITHDRAW,
            json!({ "d": other, "date": "2021-06-30" }),
        )
        .await;
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

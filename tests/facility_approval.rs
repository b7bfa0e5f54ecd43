//! The facility's approval status and queue, facility changes as events, and who may decide a
//! revised request.

mod common;

use common::api::{error_code, facility_id, hospital, nodes};
use common::ws::{latest_seq, next_event, publish_marker};
use common::{TestServer, WsClient};
use serde_json::{Value, json};

const UPDATE: &str =
    "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) {
    changeRequest { id status version changes { field before after } } } }";
const APPROVE: &str =
    "mutation($r: ID!) { approveFacilityChange(requestId: $r) { status decidedAt } }";
const REJECT: &str = "mutation($r: ID!, $why: String!) { rejectFacilityChange(requestId: $r, reason: $why) { status } }";
const STATUS: &str = "query($f: ID!) { node(id: $f) { ... on Facility { approvalStatus pendingChangeRequest { id status } } } }";
const QUEUE: &str = "query($s: ApprovalStatus) { facilities(approvalStatus: $s, first: 100) { edges { node { name approvalStatus pendingChangeRequest { id } } } } }";

async fn update(server: &TestServer, token: &str, facility: &Value, input: Value) -> Value {
    server
        .data_as(token, UPDATE, json!({ "f": facility, "i": input }))
        .await["updateFacility"]["changeRequest"]
        .clone()
}

async fn status_of(server: &TestServer, token: &str, facility: &Value) -> Value {
    server
        .data_as(token, STATUS, json!({ "f": facility }))
        .await["node"]
        .clone()
}

/// The names in the caller's queue of facilities with this approval status.
async fn queue(server: &TestServer, token: &str, status: &str) -> Vec<String> {
    let response = server
        .graphql_as(token, QUEUE, json!({ "s": status }))
        .await;
    response["data"]["facilities"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|edge| edge["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Meguro Hospital 01 as its own user and as Meguro see it.
struct Hospital {
    token: String,
    meguro: String,
    facility: Value,
    name: String,
}

async fn meguro_hospital(server: &TestServer) -> Hospital {
    Hospital {
        token: hospital(server).await,
        meguro: server.sign_in("meguro.admin").await,
        facility: facility_id(server, "Meguro Hospital 01").await,
        name: "目黒区病院01".to_owned(),
    }
}

/// The hospital files a request for general acceptance; returns it.
async fn file(server: &TestServer, h: &Hospital) -> Value {
    update(
        server,
        &h.token,
        &h.facility,
        json!({ "generalAcceptance": true }),
    )
    .await
}

/// The hospital files a request and Meguro rejects it; returns it.
async fn file_and_reject(server: &TestServer, h: &Hospital) -> Value {
    let request = file(server, h).await;
    server
        .data_as(
            &h.meguro,
            REJECT,
            json!({ "r": request["id"], "why": "確認が必要です" }),
        )
        .await;
    request
}

/// The hospital revises the rejected request; returns the revision.
async fn revise(server: &TestServer, h: &Hospital) -> Value {
    update(
        server,
        &h.token,
        &h.facility,
        json!({ "phone": "03-0000-0000", "generalAcceptance": true }),
    )
    .await
}

#[tokio::test]
async fn without_a_request_the_approval_status_is_none() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await,
        json!({ "approvalStatus": "NONE", "pendingChangeRequest": null })
    );
    assert!(queue(&server, &h.meguro, "PENDING").await.is_empty());
    assert!(queue(&server, &h.meguro, "NONE").await.contains(&h.name));
    server.stop().await;
}

#[tokio::test]
async fn a_filed_request_is_pending_and_queued_with_its_facility() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    let request = file(&server, &h).await;
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await,
        json!({ "approvalStatus": "PENDING", "pendingChangeRequest": { "id": request["id"], "status": "PENDING" } })
    );
    // The municipality's queue: exactly the facilities waiting, each with its request.
    let pending = server
        .data_as(&h.meguro, QUEUE, json!({ "s": "PENDING" }))
        .await;
    assert_eq!(
        nodes(&pending["facilities"]),
        [
            json!({ "name": h.name, "approvalStatus": "PENDING", "pendingChangeRequest": { "id": request["id"] } })
        ],
    );
    assert!(!queue(&server, &h.meguro, "NONE").await.contains(&h.name));
    server.stop().await;
}

#[tokio::test]
async fn a_rejected_request_leaves_the_facility_rejected_and_nothing_pending() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    file_and_reject(&server, &h).await;
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await,
        json!({ "approvalStatus": "REJECTED", "pendingChangeRequest": null })
    );
    assert_eq!(
        queue(&server, &h.meguro, "REJECTED").await,
        vec![h.name.clone()]
    );
    assert!(queue(&server, &h.meguro, "PENDING").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn revising_a_rejected_request_queues_the_same_request_again() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    let request = file_and_reject(&server, &h).await;
    let revised = revise(&server, &h).await;
    assert_eq!(revised["id"], request["id"]);
    assert_eq!(
        queue(&server, &h.meguro, "PENDING").await,
        vec![h.name.clone()]
    );
    server.stop().await;
}

#[tokio::test]
async fn approving_the_revision_settles_the_status_as_none() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    let request = file_and_reject(&server, &h).await;
    revise(&server, &h).await;
    server
        .data_as(&h.meguro, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await,
        json!({ "approvalStatus": "NONE", "pendingChangeRequest": null })
    );
    assert!(queue(&server, &h.meguro, "REJECTED").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_new_request_withdrawn_by_setting_its_field_back_leaves_nothing_waiting() {
    let server = TestServer::start().await;
    let h = meguro_hospital(&server).await;
    // After a request approved, general acceptance is on.
    let request = file_and_reject(&server, &h).await;
    revise(&server, &h).await;
    server
        .data_as(&h.meguro, APPROVE, json!({ "r": request["id"] }))
        .await;
    update(
        &server,
        &h.token,
        &h.facility,
        json!({ "generalAcceptance": false }),
    )
    .await;
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await["approvalStatus"],
        "PENDING"
    );
    let withdrawn = update(
        &server,
        &h.token,
        &h.facility,
        json!({ "generalAcceptance": true }),
    )
    .await;
    assert_eq!(withdrawn, Value::Null);
    assert_eq!(
        status_of(&server, &h.meguro, &h.facility).await,
        json!({ "approvalStatus": "NONE", "pendingChangeRequest": null })
    );
    server.stop().await;
}

#[tokio::test]
async fn the_approval_status_and_its_filter_are_for_the_facilitys_area_only() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    update(
        &server,
        &token,
        &facility,
        json!({ "generalAcceptance": true }),
    )
    .await;
    let name = "目黒区病院01".to_owned();

    // Anonymous callers get neither the field nor the filter.
    for field in ["approvalStatus", "pendingChangeRequest { id }"] {
        let query =
            format!("query($f: ID!) {{ node(id: $f) {{ ... on Facility {{ {field} }} }} }}");
        assert_eq!(
            server
                .code_anonymously(&query, json!({ "f": facility }))
                .await,
            "UNAUTHENTICATED",
            "{field}"
        );
    }
    assert_eq!(
        server
            .code_anonymously(QUEUE, json!({ "s": "PENDING" }))
            .await,
        "UNAUTHENTICATED"
    );
    // Another prefecture's municipality, a partner: the filter finds nothing, the field is
    // refused.
    for user in [
        "yokohama.admin",
        "kanagawa.admin",
        "wholesaler.admin",
        "meguro-ma.admin",
    ] {
        let other = server.sign_in(user).await;
        assert!(queue(&server, &other, "PENDING").await.is_empty(), "{user}");
        let response = server
            .graphql_as(&other, STATUS, json!({ "f": facility }))
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{user}: {response}");
    }
    // The area sees it: the facility itself, its municipality, its prefecture, the nation.
    for user in [
        "meguro-hospital.admin",
        "meguro.staff",
        "tokyo.admin",
        "nation.admin",
    ] {
        let reader = if user == "meguro-hospital.admin" {
            token.clone()
        } else {
            server.sign_in(user).await
        };
        assert_eq!(
            queue(&server, &reader, "PENDING").await,
            vec![name.clone()],
            "{user}"
        );
        assert_eq!(
            status_of(&server, &reader, &facility).await["approvalStatus"],
            "PENDING",
            "{user}"
        );
    }
    server.stop().await;
}

const EVENTS: &str = "subscription($after: Int, $topics: [String!]) { events(after: $after, topics: $topics) { topic payload } }";

/// Subscribes to the events of `topics` from now on.
async fn subscribe(server: &TestServer, token: Option<&str>, topics: Value) -> WsClient {
    let after = latest_seq(server).await;
    let payload = json!({ "query": EVENTS, "variables": { "after": after, "topics": topics } });
    common::ws::subscribe(server, token, "e", payload).await
}

/// Publishes a public marker event: whatever a subscriber receives before it, it received.
async fn marker(server: &TestServer) {
    publish_marker(server, "test.marker").await;
}

const PUBLIC_FIELDS: [&str; 13] = [
    "accessNotes",
    "address",
    "generalAcceptance",
    "latitude",
    "longitude",
    "name",
    "nameKana",
    "nameRomaji",
    "openingHours",
    "parkingNotes",
    "phone",
    "postalCode",
    "vaccinesHandled",
];

#[tokio::test]
async fn an_anonymous_subscriber_sees_public_facility_fields_and_approved_values_only() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let mut public = subscribe(&server, None, Value::Null).await;

    // Immediate and approval fields at once: only the immediate public one is announced.
    let request = update(
        &server,
        &token,
        &facility,
        json!({ "openingHours": "9:00-17:00", "weeklyCapacity": 500, "generalAcceptance": true,
                "vaccinesHandled": ["MODERNA"], "representativeName": "院長 花子" }),
    )
    .await;
    let event = next_event(&mut public).await;
    assert_eq!(event["topic"], "facility.updated", "{event}");
    assert_eq!(event["payload"]["facilityId"], facility);
    assert_eq!(event["payload"]["changedFields"], json!(["openingHours"]));
    let shown = &event["payload"]["facility"];
    let mut keys: Vec<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, PUBLIC_FIELDS, "only public fields");
    assert_eq!(shown["openingHours"], "9:00-17:00");
    assert_eq!(shown["generalAcceptance"], false, "not the pending value");
    assert_eq!(
        shown["vaccinesHandled"],
        json!(["PFIZER"]),
        "the demo's approved value, not the pending one"
    );
    assert_eq!(shown["name"], "目黒区病院01");

    // A rejected request is never announced.
    server
        .graphql_as(
            &meguro,
            REJECT,
            json!({ "r": request["id"], "why": "確認が必要です" }),
        )
        .await;
    marker(&server).await;
    assert_eq!(next_event(&mut public).await["topic"], "test.marker");

    // The revision, once approved, is.
    update(
        &server,
        &token,
        &facility,
        json!({ "generalAcceptance": true, "vaccinesHandled": ["PFIZER", "MODERNA"], "representativeName": "院長 花子" }),
    )
    .await;
    let staff = server.sign_in("meguro.staff").await;
    let approved = server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"], "APPROVED",
        "{approved}"
    );
    let event = next_event(&mut public).await;
    assert_eq!(event["topic"], "facility.updated", "{event}");
    assert_eq!(
        event["payload"]["changedFields"],
        json!(["generalAcceptance", "vaccinesHandled"])
    );
    assert_eq!(event["payload"]["facility"]["generalAcceptance"], true);
    assert_eq!(
        event["payload"]["facility"]["vaccinesHandled"],
        json!(["MODERNA", "PFIZER"])
    );
    assert!(
        event["payload"]["facility"]
            .get("representativeName")
            .is_none()
    );
    // Nothing restricted reached the anonymous subscriber in between.
    marker(&server).await;
    assert_eq!(next_event(&mut public).await["topic"], "test.marker");
    server.stop().await;
}

#[tokio::test]
async fn restricted_facility_changes_reach_the_facilitys_area_and_nobody_else() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let yokohama = server.sign_in("yokohama.admin").await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let topics = json!(["facility.changed", "facility.updated", "test.marker"]);
    let mut area = subscribe(&server, Some(&meguro), topics.clone()).await;
    let mut outside = subscribe(&server, Some(&yokohama), topics).await;

    let request = update(
        &server,
        &token,
        &facility,
        json!({ "weeklyCapacity": 500, "representativeName": "院長 花子" }),
    )
    .await;
    let event = next_event(&mut area).await;
    assert_eq!(event["topic"], "facility.changed", "{event}");
    assert_eq!(event["payload"]["changedFields"], json!(["weeklyCapacity"]));
    assert_eq!(event["payload"]["facility"]["weeklyCapacity"], 500);
    assert_eq!(
        event["payload"]["facility"]["representativeName"],
        Value::Null,
        "not the pending value"
    );

    let staff = server.sign_in("meguro.staff").await;
    server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    let event = next_event(&mut area).await;
    assert_eq!(event["topic"], "facility.changed", "{event}");
    assert_eq!(
        event["payload"]["changedFields"],
        json!(["representativeName"])
    );
    assert_eq!(
        event["payload"]["facility"]["representativeName"],
        "院長 花子"
    );

    marker(&server).await;
    assert_eq!(next_event(&mut area).await["topic"], "test.marker");
    assert_eq!(
        next_event(&mut outside).await["topic"],
        "test.marker",
        "another prefecture's municipality sees none of it"
    );
    server.stop().await;
}

/// Grants Meguro proxy input for the hospital (filed by the hospital, approved by the staff).
async fn grant_proxy(server: &TestServer, token: &str, facility: &Value) {
    let request = update(server, token, facility, json!({ "proxyInput": true })).await;
    let staff = server.sign_in("meguro.staff").await;
    let approved = server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"],
        "APPROVED"
    );
}

#[tokio::test]
async fn whoever_filed_an_earlier_version_cannot_decide_the_revision_but_its_reviewer_may() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    grant_proxy(&server, &token, &facility).await;
    let admin = server.sign_in("meguro.admin").await;
    let staff = server.sign_in("meguro.staff").await;

    // The municipality's admin files a version for the facility; the staff rejects it.
    let request = update(
        &server,
        &admin,
        &facility,
        json!({ "representativeName": "代理 入力" }),
    )
    .await;
    server
        .graphql_as(
            &staff,
            REJECT,
            json!({ "r": request["id"], "why": "氏名の誤り" }),
        )
        .await;
    // The facility revises it with values of its own.
    let revised = update(
        &server,
        &token,
        &facility,
        json!({ "generalAcceptance": true }),
    )
    .await;
    assert_eq!(revised["id"], request["id"]);
    assert_eq!(
        revised["changes"],
        json!([{ "field": "generalAcceptance", "before": false, "after": true }]),
        "a revision starts from the new edit"
    );
    // The earlier version's author is still a contributor: neither approval nor rejection.
    assert_eq!(
        server
            .code_as(&admin, APPROVE, json!({ "r": request["id"] }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        server
            .code_as(&admin, REJECT, json!({ "r": request["id"], "why": "x" }))
            .await,
        "FORBIDDEN"
    );
    // The refusals are audited; the request is untouched.
    let nation = server.sign_in("nation.admin").await;
    let log = server
        .graphql_as(&nation, "{ auditLog(filter: { outcome: DENIED, username: \"meguro.admin\" }) { edges { node { operation detail } } } }", json!({}))
        .await;
    let denials = log["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(denials.len(), 2, "{log}");
    assert!(
        denials[0]["node"]["detail"]
            .as_str()
            .unwrap()
            .contains("contributor")
    );
    assert_eq!(
        status_of(&server, &staff, &facility).await["pendingChangeRequest"]["status"],
        "PENDING"
    );
    // The reviewer who rejected the earlier version decides the revision.
    let approved = server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"], "APPROVED",
        "{approved}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_reviewer_who_revises_a_request_becomes_a_contributor_and_cannot_decide_it() {
    let server = TestServer::start().await;
    let token = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    grant_proxy(&server, &token, &facility).await;
    let admin = server.sign_in("meguro.admin").await;
    let staff = server.sign_in("meguro.staff").await;

    // The facility files; the admin rejects, then revises it by proxy input.
    let request = update(
        &server,
        &token,
        &facility,
        json!({ "representativeName": "院長" }),
    )
    .await;
    server
        .graphql_as(
            &admin,
            REJECT,
            json!({ "r": request["id"], "why": "氏名の誤り" }),
        )
        .await;
    let revised = update(
        &server,
        &admin,
        &facility,
        json!({ "representativeName": "院長 花子" }),
    )
    .await;
    assert_eq!(revised["id"], request["id"]);
    assert_eq!(
        server
            .code_as(&admin, APPROVE, json!({ "r": request["id"] }))
            .await,
        "FORBIDDEN",
        "its own revision"
    );
    // The facility, which filed the first version, never decides anyway; the staff does.
    assert_eq!(
        server
            .code_as(&token, APPROVE, json!({ "r": request["id"] }))
            .await,
        "FORBIDDEN"
    );
    let approved = server
        .graphql_as(&staff, APPROVE, json!({ "r": request["id"] }))
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"], "APPROVED",
        "{approved}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_queue_with_each_facilitys_pending_request_costs_the_same_statements_however_long() {
    // No safety-net polling during the count.
    let server = TestServer::start_with(&["--event-poll-secs", "3600"]).await;
    let meguro = server.sign_in("meguro.admin").await;
    let db = &server.state.db;
    let facilities: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM organizations WHERE kind = 'FACILITY' AND municipality_id = \
         (SELECT id FROM organizations WHERE kind = 'MUNICIPALITY' AND code = '131105') ORDER BY code",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(facilities.len() >= 3, "{facilities:?}");
    let requester: String =
        sqlx::query_scalar("SELECT id FROM users WHERE username = 'meguro-hospital.admin'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    // Requests filed directly (filing through the API is tested above).
    let file = |facility: String| {
        let requester = requester.clone();
        async move {
            sqlx::query(
                "INSERT INTO facility_change_requests (id, facility_id, status, before_values, after_values, \
                 requested_by, contributors, requested_at) VALUES ($1, $2, 'PENDING', '{}', '{}', $3, '[]', $4)",
            )
            .bind(vsys::db::new_id())
            .bind(&facility)
            .bind(&requester)
            .bind(db.now())
            .execute(db.pool())
            .await
            .unwrap();
            sqlx::query(
                "UPDATE facilities SET approval_status = 'PENDING' WHERE organization_id = $1",
            )
            .bind(&facility)
            .execute(db.pool())
            .await
            .unwrap();
        }
    };
    let count = |expected: usize| {
        let meguro = meguro.clone();
        let server = &server;
        async move {
            let before = db.statements_executed();
            let response = server
                .graphql_as(&meguro, QUEUE, json!({ "s": "PENDING" }))
                .await;
            let edges = response["data"]["facilities"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{response}"))
                .clone();
            assert_eq!(edges.len(), expected, "{response}");
            assert!(
                edges
                    .iter()
                    .all(|e| e["node"]["pendingChangeRequest"]["id"].is_string())
            );
            db.statements_executed() - before
        }
    };
    file(facilities[0].clone()).await;
    count(1).await;
    let one = count(1).await;
    for facility in &facilities[1..] {
        file(facility.clone()).await;
    }
    let all = count(facilities.len()).await;
    assert_eq!(
        one, all,
        "one statement loads every pending request of the page"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_migration_sets_each_facilitys_status_from_its_existing_requests() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    let facilities: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM organizations WHERE kind = 'FACILITY' ORDER BY code LIMIT 4",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let requester: String =
        sqlx::query_scalar("SELECT id FROM users WHERE username = 'meguro-hospital.admin'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    // Histories as a database from before the column would hold them: (facility, status,
    // filed at). The first facility has an old rejection superseded by an approval, the second
    // a rejection after an approval, the third an open request, the fourth none.
    let histories = [
        (0, "REJECTED", "2021-03-01T00:00:00.000Z"),
        (0, "APPROVED", "2021-03-02T00:00:00.000Z"),
        (1, "APPROVED", "2021-03-01T00:00:00.000Z"),
        (1, "REJECTED", "2021-03-02T00:00:00.000Z"),
        (2, "REJECTED", "2021-03-01T00:00:00.000Z"),
        (2, "PENDING", "2021-03-02T00:00:00.000Z"),
    ];
    for (facility, status, at) in histories {
        sqlx::query(
            "INSERT INTO facility_change_requests (id, facility_id, status, before_values, after_values, \
             requested_by, contributors, requested_at, decided_by, rejection_reason) \
             VALUES ($1, $2, $3, '{}', '{}', $4, '[]', $5, $6, $7)",
        )
        .bind(vsys::db::new_id())
        .bind(&facilities[facility])
        .bind(status)
        .bind(&requester)
        .bind(at)
        .bind((status != "PENDING").then(|| requester.clone()))
        .bind((status == "REJECTED").then_some("理由"))
        .execute(db.pool())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE facilities SET approval_status = 'NONE'")
        .execute(db.pool())
        .await
        .unwrap();
    // The migration's backfill statement, as it is in the file.
    let migration = include_str!("../migrations/20261126000005_facility_events.sql");
    let start = migration.find("UPDATE facilities").unwrap();
    let end = start + migration[start..].find(';').unwrap();
    sqlx::query(sqlx::AssertSqlSafe(migration[start..end].to_owned()))
        .execute(db.pool())
        .await
        .unwrap();
    for (facility, expected) in ["NONE", "REJECTED", "PENDING", "NONE"].iter().enumerate() {
        let status: String =
            sqlx::query_scalar("SELECT approval_status FROM facilities WHERE organization_id = $1")
                .bind(&facilities[facility])
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(&status, expected, "facility {facility}");
    }
    server.stop().await;
}

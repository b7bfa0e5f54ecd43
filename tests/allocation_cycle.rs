//! The allocation cycle (issue #9, domain.md §5): the seed's worked example run through the API
//! stage by stage by the users of each role, and the rules of every stage.

mod common;

use common::TestServer;
use common::allocation::*;
use common::api::{
    assert_error, assert_invalid, error_reason, facility_id, meguro_id, sign_in_accepting_policy,
};
use common::db::audited;
use serde_json::{Value, json};
use vsys::allocation::lines;

#[tokio::test]
async fn the_seeds_worked_example_from_the_nation_to_meguro_hospital_01() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = up_to_meguro_complete(&server, &c).await;

    // Before the lock the hospital sees nothing of its amount.
    assert_eq!(
        status(&server, &c.hospital, &cool).await["received"],
        json!([])
    );

    // Tokyo's check: Meguro 〇 and complete; the lock is allowed and taken.
    let check =
        server.data_as(&c.tokyo, CHECK, json!({ "c": cool })).await["allocationCheck"].clone();
    assert_eq!(check["canLock"], true, "{check}");
    let meguro = check["municipalities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["municipality"]["name"] == "目黒区")
        .unwrap()
        .clone();
    assert_eq!(meguro["mark"], "〇");
    let locked = server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;
    assert_eq!(locked["lockAllocations"]["locked"], true);

    // From the lock on, Meguro Hospital 01 sees 1 / 10 / 10 = 975 and 1,000 doses.
    let mut got = received(&status(&server, &c.hospital, &cool).await);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 10, 1_000),
            ("PFIZER", 1, 975),
            ("SYRINGE", 10, 1_000)
        ])
    );
    assert_eq!(audited(&server, "lockAllocations", "SUCCESS").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn bad_amounts_are_refused_audited_and_change_nothing() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    let set = |boxes: Value| json!({ "c": cool, "r": tokyo, "p": null, "b": boxes });
    // More than the 2,000 boxes received, negative, fractional.
    assert_invalid(
        &server.graphql_as(&c.nation, SET, set(json!(2001))).await,
        "boxes",
    );
    assert_invalid(
        &server.graphql_as(&c.nation, SET, set(json!(-1))).await,
        "boxes",
    );
    let fractional = server.graphql_as(&c.nation, SET, set(json!(1.5))).await;
    assert!(
        fractional["errors"][0]["extensions"]["code"].is_string(),
        "{fractional}"
    );
    assert!(fractional["data"].is_null(), "{fractional}");
    // Needles beyond the 19,500 received, and a product that is no line of this cool.
    let needles = json!({ "c": cool, "r": tokyo, "p": "NEEDLE", "b": 19501 });
    assert_invalid(&server.graphql_as(&c.nation, SET, needles).await, "boxes");
    let unknown = json!({ "c": cool, "r": tokyo, "p": "NOPE", "b": 1 });
    assert_invalid(
        &server.graphql_as(&c.nation, SET, unknown).await,
        "productCode",
    );
    assert_eq!(status(&server, &c.nation, &cool).await["given"], json!([]));
    assert_eq!(audited(&server, "setAllocation", "FAILURE").await, 4);
    server.stop().await;
}

#[tokio::test]
async fn each_level_allocates_only_to_the_level_below_in_its_area_after_confirming() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    let meguro = meguro_id(&server).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let yokohama_hospital = facility_id(&server, "Yokohama Hospital 01").await;
    let satellite = facility_id(&server, "Meguro Clinic 01").await;
    let one = |r: &Value| json!({ "c": cool, "r": r, "p": null, "b": 1 });
    server
        .data_as(
            &c.nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 160 }),
        )
        .await;
    // Tokyo has not confirmed yet.
    let early = server.graphql_as(&c.tokyo, SET, one(&meguro)).await;
    assert_error(&early, "CONFLICT", None);
    assert_eq!(error_reason(&early), "NOT_CONFIRMED");
    server
        .data_as(&c.tokyo, CONFIRM, json!({ "c": cool }))
        .await;
    // Tokyo gives to its municipalities only: not to a facility (Meguro's job), not to
    // another prefecture's, not to itself.
    assert_error(
        &server.graphql_as(&c.tokyo, SET, one(&hospital)).await,
        "FORBIDDEN",
        None,
    );
    assert_error(
        &server
            .graphql_as(&c.tokyo, SET, one(&yokohama_hospital))
            .await,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &server.graphql_as(&c.tokyo, SET, one(&tokyo)).await,
        "FORBIDDEN",
        None,
    );
    server.data_as(&c.tokyo, SET, one(&meguro)).await;
    server
        .data_as(&c.meguro, CONFIRM, json!({ "c": cool }))
        .await;
    // Meguro: not another municipality's facility, not a satellite, and a facility never
    // allocates.
    assert_error(
        &server
            .graphql_as(&c.meguro, SET, one(&yokohama_hospital))
            .await,
        "NOT_FOUND",
        None,
    );
    assert_invalid(
        &server.graphql_as(&c.meguro, SET, one(&satellite)).await,
        "recipientId",
    );
    assert_error(
        &server.graphql_as(&c.hospital, SET, one(&hospital)).await,
        "FORBIDDEN",
        None,
    );
    server.data_as(&c.meguro, SET, one(&hospital)).await;
    // A well-formed id of no organisation: not found, and the refusal is still audited.
    let nobody = json!(
        vsys::graphql::ids::global_id("Prefecture", "00000000-0000-0000-0000-000000000000")
            .to_string()
    );
    assert_error(
        &server.graphql_as(&c.nation, SET, one(&nobody)).await,
        "NOT_FOUND",
        None,
    );
    assert!(audited(&server, "setAllocation", "DENIED").await >= 5);
    server.stop().await;
}

#[tokio::test]
async fn a_stale_version_loses_with_the_current_value_and_twice_is_a_conflict() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    let first = server
        .data_as(
            &c.nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 100 }),
        )
        .await;
    assert_eq!(first["setAllocation"]["version"], 1);
    // Two clerks read version 1; the first write wins, the second gets the current value.
    let win = json!({ "c": cool, "r": tokyo, "p": null, "b": 160, "v": 1 });
    server.data_as(&c.nation, SET, win).await;
    let lose = json!({ "c": cool, "r": tokyo, "p": null, "b": 150, "v": 1 });
    let lost = server.graphql_as(&c.nation, SET, lose).await;
    assert_error(&lost, "CONFLICT", None);
    assert_eq!(error_reason(&lost), "STALE_VERSION");
    assert_eq!(
        lost["errors"][0]["extensions"]["current"],
        json!({ "boxes": 160, "version": 2 })
    );
    // Without a version an existing line is not overwritten either.
    let blind = json!({ "c": cool, "r": tokyo, "p": null, "b": 150 });
    assert_eq!(
        error_reason(&server.graphql_as(&c.nation, SET, blind).await),
        "STALE_VERSION"
    );
    // Confirming twice, completing twice.
    server
        .data_as(&c.tokyo, CONFIRM, json!({ "c": cool }))
        .await;
    let again = server
        .graphql_as(&c.tokyo, CONFIRM, json!({ "c": cool }))
        .await;
    assert_eq!(error_reason(&again), "ALREADY_CONFIRMED");
    server
        .data_as(&c.tokyo, COMPLETE, json!({ "c": cool }))
        .await;
    let again = server
        .graphql_as(&c.tokyo, COMPLETE, json!({ "c": cool }))
        .await;
    assert_eq!(error_reason(&again), "ALREADY_COMPLETED");
    // Meguro received nothing: nothing to confirm.
    let nothing = server
        .graphql_as(&c.meguro, CONFIRM, json!({ "c": cool }))
        .await;
    assert_eq!(error_reason(&nothing), "NOTHING_RECEIVED");
    assert_eq!(audited(&server, "confirmAllocation", "FAILURE").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn a_changed_amount_withdraws_the_confirmation_and_an_x_blocks_the_lock() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = up_to_meguro_complete(&server, &c).await;
    let meguro = meguro_id(&server).await;
    // Tokyo takes Meguro's vaccine back after Meguro gave its hospital a box: X.
    let version = version_of(&status(&server, &c.tokyo, &cool).await, "目黒区", "PFIZER");
    server
        .data_as(
            &c.tokyo,
            SET,
            json!({ "c": cool, "r": meguro, "p": null, "b": 0, "v": version }),
        )
        .await;
    let meguro_status = status(&server, &c.meguro, &cool).await;
    assert!(meguro_status["confirmedAt"].is_null());
    assert!(meguro_status["completedAt"].is_null());
    server
        .data_as(&c.tokyo, COMPLETE, json!({ "c": cool }))
        .await;
    let check =
        server.data_as(&c.tokyo, CHECK, json!({ "c": cool })).await["allocationCheck"].clone();
    let row = check["municipalities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["municipality"]["name"] == "目黒区")
        .unwrap()
        .clone();
    assert_eq!(row["mark"], "X", "{row}");
    assert_eq!(check["canLock"], false);
    let refused = server
        .graphql_as(&c.tokyo, LOCK, json!({ "c": cool }))
        .await;
    assert_error(&refused, "CONFLICT", None);
    assert_eq!(error_reason(&refused), "CHECK_FAILED");
    assert_eq!(
        refused["errors"][0]["extensions"]["current"]["municipalities"][0]["mark"],
        "X"
    );
    assert_eq!(audited(&server, "lockAllocations", "FAILURE").await, 1);
    assert_eq!(
        server.data_as(&c.tokyo, CHECK, json!({ "c": cool })).await["allocationCheck"]["locked"],
        false
    );
    server.stop().await;
}

#[tokio::test]
async fn after_the_lock_every_allocation_mutation_is_refused_as_data_locked() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = up_to_meguro_complete(&server, &c).await;
    server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;
    let tokyo = tokyo_id(&server).await;
    let meguro = meguro_id(&server).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    let before = (
        status(&server, &c.nation, &cool).await,
        status(&server, &c.tokyo, &cool).await,
        status(&server, &c.meguro, &cool).await,
    );
    let mut attempts = vec![
        (
            &c.nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 1, "v": 2 }),
        ),
        (
            &c.tokyo,
            SET,
            json!({ "c": cool, "r": meguro, "p": null, "b": 1, "v": 2 }),
        ),
        (
            &c.meguro,
            SET,
            json!({ "c": cool, "r": hospital, "p": null, "b": 2, "v": 2 }),
        ),
        (&c.tokyo, CONFIRM, json!({ "c": cool })),
        (&c.meguro, COMPLETE, json!({ "c": cool })),
        (&c.tokyo, COMPLETE, json!({ "c": cool })),
        (&c.tokyo, LOCK, json!({ "c": cool })),
    ];
    for token in [&c.nation, &c.tokyo, &c.meguro] {
        let weighting = if token == &c.meguro {
            "EQUAL"
        } else {
            "POPULATION"
        };
        attempts.push((
            token,
            PROPOSE,
            json!({ "i": { "coolId": cool, "weighting": weighting } }),
        ));
    }
    for (token, query, variables) in attempts {
        let refused = server.graphql_as(token, query, variables.clone()).await;
        assert_error(&refused, "CONFLICT", None);
        assert_eq!(error_reason(&refused), "DATA_LOCKED", "{query} {variables}");
    }
    let after = (
        status(&server, &c.nation, &cool).await,
        status(&server, &c.tokyo, &cool).await,
        status(&server, &c.meguro, &cool).await,
    );
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test]
async fn the_simulation_shows_weights_exclusions_and_warnings_and_writes_nothing() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let simulated = server
        .data_as(
            &c.nation,
            SIMULATE,
            json!({ "i": { "coolId": cool, "weighting": "POPULATION", "adjustmentPercent": 20 } }),
        )
        .await["simulateAllocation"]
        .clone();
    let children = simulated["children"].as_array().unwrap();
    assert_eq!(children.len(), 47);
    let total: i64 = children
        .iter()
        .map(|c| c["amounts"][0]["boxes"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1600);
    // Tokyo: 14,047,594 of 126,146,099 residents → 178.17… of 1,600 boxes.
    let tokyo = children
        .iter()
        .find(|c| c["recipient"]["name"] == "東京都")
        .unwrap();
    assert!(
        [178, 179].contains(&tokyo["amounts"][0]["boxes"].as_i64().unwrap()),
        "{tokyo}"
    );
    let codes: Vec<&str> = simulated["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ADJUSTMENT_HELD"), "{codes:?}");
    assert_eq!(status(&server, &c.nation, &cool).await["given"], json!([]));
    // A municipality may not weigh facilities by population; overrides name its own children.
    let yokohama_hospital = facility_id(&server, "Yokohama Hospital 01").await;
    let wrong = server
        .graphql_as(
            &c.meguro,
            SIMULATE,
            json!({ "i": { "coolId": cool, "weighting": "POPULATION" } }),
        )
        .await;
    assert_invalid(&wrong, "weighting");
    let foreign = server
        .graphql_as(
            &c.meguro,
            SIMULATE,
            json!({ "i": { "coolId": cool, "weighting": "EQUAL", "overrides": [{ "recipientId": yokohama_hospital, "boxes": 1 }] } }),
        )
        .await;
    assert_invalid(&foreign, "overrides");
    // Meguro's facilities: the satellite is supplied through its hospital.
    let meguro = server
        .data_as(
            &c.meguro,
            SIMULATE,
            json!({ "i": { "coolId": cool, "weighting": "CAPACITY" } }),
        )
        .await["simulateAllocation"]
        .clone();
    let exclusions: Vec<(String, Value)> = meguro["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["recipient"]["name"].as_str().unwrap().to_owned(),
                c["exclusions"].clone(),
            )
        })
        .collect();
    assert!(
        exclusions.contains(&(
            "目黒区診療所01".into(),
            json!(["SUPPLIED_THROUGH_BASIC_FACILITY"])
        )),
        "{exclusions:?}"
    );
    assert!(
        meguro["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "NOTHING_RECEIVED")
    );
    server.stop().await;
}

const FEED: &str =
    "subscription($a: Int) { allocationEvents(after: $a) { kind organization { name } payload } }";

async fn feed(server: &TestServer, token: &str) -> common::WsClient {
    let after = common::ws::latest_seq(server).await;
    let payload = json!({ "query": FEED, "variables": { "a": after } });
    common::ws::subscribe(server, Some(token), "a", payload).await
}

/// The row id of the organisation with `code`.
async fn row_id(server: &TestServer, code: &str) -> String {
    sqlx::query_scalar("SELECT id FROM organizations WHERE code = $1")
        .bind(code)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap()
}

/// The allocation events a subscriber received, as (kind, organisation name), up to a marker
/// published last in the subscriber's own organisation (so that it is sure to arrive).
async fn received_events(
    server: &TestServer,
    ws: &mut common::WsClient,
    topic: &str,
    own_code: &str,
) -> Vec<(String, String)> {
    server
        .state
        .events
        .publish(&vsys::events::NewEvent {
            topic: topic.into(),
            visibility: vsys::events::Visibility::Restricted,
            organization_id: Some(row_id(server, own_code).await),
            payload: json!({ "marker": true }),
        })
        .await
        .unwrap();
    let mut events = Vec::new();
    loop {
        let message = ws.next_json().await;
        let event = message["payload"]["data"]["allocationEvents"].clone();
        assert!(!event.is_null(), "{message}");
        if event["payload"]["marker"] == true {
            return events;
        }
        events.push((
            event["kind"].as_str().unwrap().to_owned(),
            event["organization"]["name"].as_str().unwrap().to_owned(),
        ));
    }
}

fn has(events: &[(String, String)], kind: &str, name: &str) -> bool {
    events.iter().any(|(k, n)| k == kind && n == name)
}

#[tokio::test]
async fn municipalities_see_their_cycle_live_and_facilities_only_the_lock() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let yokohama = sign_in_accepting_policy(&server, "yokohama.admin").await;
    let mut nation = feed(&server, &c.nation).await;
    let mut tokyo = feed(&server, &c.tokyo).await;
    let mut meguro = feed(&server, &c.meguro).await;
    let mut hospital = feed(&server, &c.hospital).await;
    let mut elsewhere = feed(&server, &yokohama).await;

    let cool = up_to_meguro_complete(&server, &c).await;
    server.data_as(&c.tokyo, LOCK, json!({ "c": cool })).await;

    let seen = received_events(&server, &mut meguro, "allocation.changed", "131105").await;
    for (kind, name) in [
        ("CHANGED", "目黒区"),
        ("CONFIRMED", "目黒区"),
        ("PROPOSED", "目黒区"),
        ("CHANGED", "目黒区病院01"),
        ("COMPLETED", "目黒区"),
        ("LOCKED", "目黒区"),
    ] {
        assert!(has(&seen, kind, name), "Meguro: {kind} {name} in {seen:?}");
    }
    let seen = received_events(&server, &mut tokyo, "allocation.changed", "13").await;
    assert!(has(&seen, "CONFIRMED", "東京都"), "{seen:?}");
    assert!(has(&seen, "CONFIRMED", "目黒区"), "{seen:?}");
    assert!(has(&seen, "COMPLETED", "目黒区"), "{seen:?}");
    let seen = received_events(&server, &mut nation, "allocation.changed", "JP").await;
    assert!(has(&seen, "PROPOSED", "神奈川県"), "{seen:?}");
    assert!(has(&seen, "CONFIRMED", "東京都"), "{seen:?}");
    // The hospital hears nothing before the lock, then its own amounts.
    let seen = received_events(&server, &mut hospital, "allocation.locked", "1311000010").await;
    assert_eq!(seen, [("LOCKED".to_owned(), "目黒区病院01".to_owned())]);
    // Another area hears nothing at all.
    let seen = received_events(&server, &mut elsewhere, "allocation.changed", "141003").await;
    assert_eq!(seen, []);
    server.stop().await;
}

#[tokio::test]
async fn a_late_stage_shows_and_a_reminder_goes_out_once_the_day_before() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    // A cool starting today: the nation's stage ends in 4 days, the municipalities' in 11.
    let nation = &c.nation;
    let today = server.state.db.clock().today_in_japan();
    let cool = server
        .data_as(
            nation,
            "mutation($s: String!) { openCool(input: { number: 7, productCode: \"PFIZER\", startsOn: $s }) { id } }",
            json!({ "s": today }),
        )
        .await["openCool"]["id"]
        .clone();
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    server
        .data_as(
            &pfizer,
            SUPPLY,
            json!({ "c": cool, "p": "PFIZER", "b": 100 }),
        )
        .await;
    let tokyo = tokyo_id(&server).await;
    server
        .data_as(
            nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 10 }),
        )
        .await;
    let reminders = || vsys::allocation::deadlines::send_due_reminders(&server.state.db);
    // Three days on, the nation's stage ends tomorrow: the nation (not complete) and Tokyo
    // (not confirmed) are reminded, once.
    server.advance_clock(time::Duration::days(3));
    assert_eq!(reminders().await.unwrap(), 2);
    assert_eq!(reminders().await.unwrap(), 0);
    let mail = server.last_mail_to("tokyo.admin@demo.vsys.invalid").await;
    assert!(mail.contains("締切"), "{mail}");
    // Two days later the stage is late for Tokyo, which has not confirmed.
    server.advance_clock(time::Duration::days(2));
    let tokyo_token = sign_in_accepting_policy(&server, "tokyo.admin").await;
    let stages = server
        .data_as(
            &tokyo_token,
            "query($c: ID!) { node(id: $c) { ... on Cool { stages { stage pastDeadline late } } } }",
            json!({ "c": cool }),
        )
        .await["node"]["stages"]
        .clone();
    assert_eq!(
        stages[1],
        json!({ "stage": "NATION_ALLOCATION", "pastDeadline": true, "late": true })
    );
    assert_eq!(stages[2]["late"], false);
    server.stop().await;
}

#[tokio::test]
async fn two_clerks_saving_the_same_amount_at_once_one_wins_and_one_gets_the_current_value() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    server
        .data_as(
            &c.nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 100 }),
        )
        .await;
    let second = sign_in_accepting_policy(&server, "nation.admin").await;
    for round in 0..5 {
        let version = 1 + round;
        let a = json!({ "c": cool, "r": tokyo, "p": null, "b": 150 + round, "v": version });
        let b = json!({ "c": cool, "r": tokyo, "p": null, "b": 170 + round, "v": version });
        let (first, other) = tokio::join!(
            server.graphql_as(&c.nation, SET, a),
            server.graphql_as(&second, SET, b)
        );
        let outcomes = [&first, &other].map(|r| r["errors"].is_null());
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "{first} {other}"
        );
        let loser = if outcomes[0] { &other } else { &first };
        let winner = if outcomes[0] { &first } else { &other };
        assert_eq!(error_reason(loser), "STALE_VERSION");
        assert_eq!(
            loser["errors"][0]["extensions"]["current"]["boxes"],
            winner["data"]["setAllocation"]["boxes"]
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_supply_cannot_shrink_below_what_the_nation_gave() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    server
        .data_as(
            &c.nation,
            SET,
            json!({ "c": cool, "r": tokyo, "p": null, "b": 160 }),
        )
        .await;
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    assert_invalid(
        &server
            .graphql_as(
                &pfizer,
                SUPPLY,
                json!({ "c": cool, "p": "PFIZER", "b": 159 }),
            )
            .await,
        "boxes",
    );
    server
        .data_as(
            &pfizer,
            SUPPLY,
            json!({ "c": cool, "p": "PFIZER", "b": 160 }),
        )
        .await;
    server.stop().await;
}

#[tokio::test]
async fn the_worked_example_holds_for_kanagawa_and_yokohama_too() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let kanagawa = sign_in_accepting_policy(&server, "kanagawa.admin").await;
    let yokohama = sign_in_accepting_policy(&server, "yokohama.admin").await;
    let kanagawa_id = server
        .data("{ prefecture(code: \"14\") { id } }", json!({}))
        .await["prefecture"]["id"]
        .clone();
    let yokohama_id = common::api::municipality_id(&server, "141003").await;
    let hospital = facility_id(&server, "Yokohama Hospital 01").await;
    set_three(
        &server,
        &c.nation,
        &cool,
        &kanagawa_id,
        "神奈川県",
        [160, 1560, 1560],
    )
    .await;
    server
        .data_as(&kanagawa, CONFIRM, json!({ "c": cool }))
        .await;
    set_three(
        &server,
        &kanagawa,
        &cool,
        &yokohama_id,
        "横浜市",
        [5, 49, 49],
    )
    .await;
    server
        .data_as(&kanagawa, COMPLETE, json!({ "c": cool }))
        .await;
    let confirmed = server
        .data_as(&yokohama, CONFIRM, json!({ "c": cool }))
        .await;
    let mut got = received(&confirmed["confirmAllocation"]);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 49, 4_900),
            ("PFIZER", 5, 4_875),
            ("SYRINGE", 49, 4_900)
        ])
    );
    set_three(
        &server,
        &yokohama,
        &cool,
        &hospital,
        "横浜病院01",
        [1, 10, 10],
    )
    .await;
    server
        .data_as(&yokohama, COMPLETE, json!({ "c": cool }))
        .await;
    server.data_as(&kanagawa, LOCK, json!({ "c": cool })).await;
    let seen = server
        .data_as(&yokohama, STATUS, json!({ "c": cool, "o": hospital }))
        .await["allocationStatus"]
        .clone();
    let mut got = received(&seen);
    got.sort();
    assert_eq!(
        got,
        lines([
            ("NEEDLE", 10, 1_000),
            ("PFIZER", 1, 975),
            ("SYRINGE", 10, 1_000)
        ])
    );
    assert_eq!(seen["locked"], true);
    // Tokyo's part of the cool is untouched by Kanagawa's lock.
    let tokyo = server.data_as(&c.tokyo, CHECK, json!({ "c": cool })).await;
    assert_eq!(tokyo["allocationCheck"]["locked"], false);
    server.stop().await;
}

const BOARD: &str = "query($c: ID!) { allocationBoard(coolId: $c) { prefecture { name } receivedBoxes receivedDoses confirmedAt allocatedBoxes completedAt lockedAt municipalitiesReceiving municipalitiesCompleted deliveredDoses administeredDoses wastedDoses stockOnHandDoses lateStages } }";

fn row<'a>(board: &'a Value, name: &str) -> &'a Value {
    board["allocationBoard"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prefecture"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} on the board: {board}"))
}

#[tokio::test]
async fn the_nations_board_follows_each_prefecture_from_amount_to_stock() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = cool_with_supply(&server).await;
    let tokyo = tokyo_id(&server).await;
    set_three(
        &server,
        &c.nation,
        &cool,
        &tokyo,
        "東京都",
        [160, 1560, 1560],
    )
    .await;

    // Given, not confirmed: every stage's deadline is past (cool 1 is of 2021), so Tokyo is late.
    let board = server.data_as(&c.nation, BOARD, json!({ "c": cool })).await;
    assert_eq!(board["allocationBoard"].as_array().unwrap().len(), 47);
    let before = row(&board, "東京都");
    assert_eq!(before["receivedBoxes"], 160);
    assert_eq!(before["receivedDoses"], 156_000);
    assert!(before["confirmedAt"].is_null());
    assert_eq!(
        before["lateStages"],
        json!(["NATION_ALLOCATION", "PREFECTURE_ALLOCATION", "DATA_LOCK"]),
        "{before}"
    );
    // A prefecture given nothing has nothing to be late in.
    assert_eq!(row(&board, "北海道")["lateStages"], json!([]));

    // The worked example to the lock, the hospital's box delivered, 100 doses given.
    let server_cool = delivered_after(&server, &c, cool).await;
    let hospital = facility_id(&server, "Meguro Hospital 01").await;
    server
        .data_as(
            &c.hospital,
            "mutation($f: ID!) { reportVaccinations(input: { facilityId: $f, productCode: \"PFIZER\", figures: [{ doseNumber: 1, category: HEALTHCARE_WORKER, administered: 100 }], wasted: 5, wasteReason: \"溶解ミス\" }) { administered } }",
            json!({ "f": hospital }),
        )
        .await;
    let board = server
        .data_as(&c.nation, BOARD, json!({ "c": server_cool }))
        .await;
    let after = row(&board, "東京都");
    assert!(!after["confirmedAt"].is_null() && !after["lockedAt"].is_null());
    assert_eq!(after["allocatedBoxes"], 5);
    assert_eq!(after["municipalitiesReceiving"], 1);
    assert_eq!(after["municipalitiesCompleted"], 1);
    assert_eq!(after["deliveredDoses"], 975);
    assert_eq!(after["administeredDoses"], 100);
    assert_eq!(after["wastedDoses"], 5);
    assert_eq!(after["stockOnHandDoses"], 975 - 100 - 5);
    assert_eq!(after["lateStages"], json!([]), "{after}");

    // The nation's board only.
    for token in [&c.tokyo, &c.meguro, &c.hospital] {
        let refused = server
            .graphql_as(token, BOARD, json!({ "c": server_cool }))
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn municipalities_share_the_prefectures_row_and_a_change_during_the_lock_waits_and_sees_it() {
    // A municipality's change (proposal, line, confirmation, completion) reads its prefecture's
    // progress row shared: neighbours go side by side. The prefecture's lock holds the row
    // alone: a change starting while the lock's transaction is open waits for it, then sees
    // the lock (and is refused as DATA_LOCKED).
    let server = TestServer::start().await;
    cool_with_supply(&server).await;
    let db = server.state.db.clone();
    let cool: String = sqlx::query_scalar("SELECT id FROM cools WHERE number = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let tokyo: String = sqlx::query_scalar(
        "SELECT id FROM organizations WHERE kind = 'PREFECTURE' AND code = '13'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let officer: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'tokyo.admin'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let share = |db: vsys::db::Db, cool: String, tokyo: String| async move {
        let mut tx = db.begin_write().await.unwrap();
        let seen = lines::share_progress(&mut tx, &cool, &tokyo).await.unwrap();
        (tx, seen)
    };
    // The prefecture's row exists (it confirmed what it received before its municipalities act).
    let mut confirmed = db.begin_write().await.unwrap();
    lines::hold_progress(&mut confirmed, &cool, &tokyo)
        .await
        .unwrap();
    confirmed.commit().await.unwrap();
    if server.db.as_ref().unwrap().is_postgres() {
        // Two neighbours at once: the second does not wait for the first to end.
        let (first, _) = share(db.clone(), cool.clone(), tokyo.clone()).await;
        let second = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            share(db.clone(), cool.clone(), tokyo.clone()),
        )
        .await
        .expect("a second municipality's change goes ahead beside the first");
        // Dropped unfinished: rolled back.
        drop(second);
        drop(first);
    }
    let mut lock = db.begin_write().await.unwrap();
    lines::hold_progress(&mut lock, &cool, &tokyo)
        .await
        .unwrap();
    let waiting = tokio::spawn(share(db.clone(), cool.clone(), tokyo.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a change went ahead while the prefecture's lock was being written"
    );
    lines::stamp(
        &mut lock,
        &cool,
        &[&tokyo],
        lines::Stamp::Locked,
        Some(&officer),
    )
    .await
    .unwrap();
    lock.commit().await.unwrap();
    let (after, seen) = waiting.await.unwrap();
    drop(after);
    assert!(
        seen.locked_at.is_some(),
        "the change saw the lock once it was committed"
    );
    server.stop().await;
}

#[tokio::test]
async fn proposals_arriving_together_are_each_answered_on_their_own() {
    // The officers of many organisations propose on the same day. On SQLite, proposals that
    // arrive together are written in one transaction, each in its own savepoint; on
    // PostgreSQL each in its own. Either way each gets its own answer: a refusal refuses only
    // its own proposal, writes nothing and is audited; the others are stored with their
    // events.
    let server = TestServer::start().await;
    let c = cast(&server).await;
    let cool = up_to_meguro_complete(&server, &c).await;
    let kanagawa = sign_in_accepting_policy(&server, "kanagawa.admin").await;
    let yokohama = sign_in_accepting_policy(&server, "yokohama.admin").await;
    let proposed_before = audited(&server, "proposeAllocations", "SUCCESS").await;
    let refused_before = audited(&server, "proposeAllocations", "FAILURE").await;
    let mut feed = feed(&server, &c.meguro).await;

    let propose = |token: String, weighting: &str| {
        let variables = json!({ "i": { "coolId": cool, "weighting": weighting } });
        let server = &server;
        async move { server.graphql_as(&token, PROPOSE, variables).await }
    };
    let (nation, meguro, kanagawa_answer, yokohama_answer) = tokio::join!(
        propose(c.nation.clone(), "POPULATION"),
        propose(c.meguro.clone(), "EQUAL"),
        propose(kanagawa, "POPULATION"),
        propose(yokohama, "EQUAL"),
    );

    // Stored: the nation's (Tokyo now gets its population share, no longer the seed's 160)
    // and Meguro's.
    let tokyo_row = common::api::data_or_panic(&nation)["proposeAllocations"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["recipient"]["name"] == "東京都")
        .cloned()
        .unwrap();
    assert_ne!(tokyo_row["amounts"][0]["boxes"], json!(160));
    let given: i64 =
        common::api::data_or_panic(&meguro)["proposeAllocations"]["totals"][0]["allocated"]
            .as_i64()
            .unwrap();
    assert_eq!(given, 5, "Meguro's five boxes proposed");
    let status = status(&server, &c.tokyo, &cool).await;
    let tokyo_vaccine = received(&status)
        .into_iter()
        .find(|(p, _, _)| p == "PFIZER")
        .unwrap();
    assert_eq!(tokyo_vaccine.1, tokyo_row["amounts"][0]["boxes"]);

    // Refused, each with its own reason, nothing written for them.
    assert_eq!(error_reason(&kanagawa_answer), "NOT_CONFIRMED");
    assert_eq!(error_reason(&yokohama_answer), "NOT_CONFIRMED");
    let given_by_refused: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM allocations a JOIN organizations o ON o.id = a.allocator_id \
         WHERE o.code IN ('14', '141003')",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(given_by_refused, 0);
    assert_eq!(
        audited(&server, "proposeAllocations", "SUCCESS").await,
        proposed_before + 2
    );
    assert_eq!(
        audited(&server, "proposeAllocations", "FAILURE").await,
        refused_before + 2
    );
    // Meguro hears of its own proposal, and of nothing of the refused ones.
    let heard = received_events(&server, &mut feed, "allocation.changed", "131105").await;
    assert!(has(&heard, "PROPOSED", "目黒区"), "{heard:?}");
    assert!(!has(&heard, "PROPOSED", "横浜市"), "{heard:?}");
    server.stop().await;
}

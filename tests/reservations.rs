//! Reservations (issue #10, function 5; seed pp. 39–40): venues' reservation modes, slots in
//! bulk, free slots, and the call centre's booking, changing and cancelling with every rule and
//! every bad input, idempotent retries, concurrency, and the events.

mod common;

use common::TestServer;
use common::api::{assert_invalid, error_reason, expect_error_code, facility_id, meguro_id};
use common::db::{audited, count};
use common::reservations::*;
use common::ws::{latest_seq, subscribe};
use serde_json::{Value, json};

const VENUE: &str = "目黒区特設会場01";

struct Desk {
    server: TestServer,
    /// Meguro's booking call centre.
    operator: String,
    /// Meguro's officer (runs the special venue).
    meguro: String,
    venue: Value,
}

async fn desk() -> Desk {
    let server = TestServer::start_signing_in_freely().await;
    let operator = server.sign_in("meguro.callcenter").await;
    let meguro = server.sign_in("meguro.admin").await;
    let venue = facility_id(&server, VENUE).await;
    Desk {
        server,
        operator,
        meguro,
        venue,
    }
}

/// Slots at Meguro's special venue (the demo has its own at Yokohama's).
async fn slot_count(server: &TestServer) -> i64 {
    count(
        server,
        "SELECT COUNT(*) FROM reservation_slots s JOIN organizations o ON o.id = s.facility_id \
         WHERE o.code = '1319000012'",
    )
    .await
}

#[tokio::test]
async fn a_schedule_creates_slots_in_bulk_all_or_none() {
    let d = desk().await;
    let s = &d.server;
    let week = schedule(
        s,
        &d.venue,
        (1, 7),
        &[("13:00", "15:00"), ("09:00", "12:00")],
        30,
        2,
    );
    let created = s.data_as(&d.meguro, CREATE, week.clone()).await;
    // 6 morning and 4 afternoon slots a day, 7 days.
    assert_eq!(created["createReservationSlots"]["created"], 70);
    // No allocation is locked for the venue: allowed, with a warning.
    let warnings = &created["createReservationSlots"]["warnings"];
    assert_eq!(warnings[0]["code"], "NO_LOCKED_ALLOCATION", "{warnings}");
    assert!(warnings[0]["message"].as_str().unwrap().contains("7 days"));
    assert_eq!(slot_count(s).await, 70);

    // Anyone finds them, by municipality or venue, by time of day.
    let afternoon = s
        .data(
            AVAILABLE,
            json!({ "m": meguro_id(s).await, "from": day(s, 0), "to": day(s, 10), "after": "13:00" }),
        )
        .await;
    let found = &afternoon["availableSlots"];
    assert_eq!(found["slots"].as_array().unwrap().len(), 28);
    assert_eq!(found["freePlaces"], 56);
    assert_eq!(found["truncated"], false);
    let first = &found["slots"][0];
    assert_eq!(first["date"], day(s, 1));
    assert_eq!(first["startsAt"], "13:00");
    assert_eq!(first["endsAt"], "13:30");
    assert_eq!(first["facility"]["name"], VENUE);
    let mornings = s
        .data(
            AVAILABLE,
            json!({ "f": d.venue, "before": "12:00", "first": 10 }),
        )
        .await;
    assert_eq!(mornings["availableSlots"]["truncated"], true);
    assert_eq!(mornings["availableSlots"]["slots"][9]["startsAt"], "10:30");

    // Overlapping the existing slots refuses the whole schedule.
    let overlapping = schedule(s, &d.venue, (7, 9), &[("09:15", "09:45")], 30, 2);
    let refused = s.graphql_as(&d.meguro, CREATE, overlapping).await;
    assert_eq!(expect_error_code(&refused), "CONFLICT");
    assert_eq!(error_reason(&refused), "SLOTS_OVERLAP");
    assert_eq!(
        refused["errors"][0]["extensions"]["current"]["startsAt"],
        format!("{}T09:30", day(s, 7))
    );
    assert_eq!(slot_count(s).await, 70);
    // Adjacent slots are not overlapping.
    let evening = schedule(s, &d.venue, (1, 7), &[("15:00", "16:00")], 60, 2);
    assert_eq!(
        s.data_as(&d.meguro, CREATE, evening).await["createReservationSlots"]["created"],
        7
    );
    assert_eq!(audited(s, "createReservationSlots", "SUCCESS").await, 2);
    assert!(
        audited(s, "createReservationSlots", "DENIED").await
            + audited(s, "createReservationSlots", "FAILURE").await
            >= 1
    );
    d.server.stop().await;
}

#[tokio::test]
async fn bad_schedules_and_wrong_venues_are_refused_and_change_nothing() {
    let d = desk().await;
    let s = &d.server;
    let good = || schedule(s, &d.venue, (1, 3), &[("09:00", "12:00")], 30, 2);
    let mut end_before_start = good();
    end_before_start["i"]["to"] = json!(day(s, 0));
    end_before_start["i"]["from"] = json!(day(s, 1));
    assert_invalid(
        &s.graphql_as(&d.meguro, CREATE, end_before_start).await,
        "to",
    );
    let mut zero_capacity = good();
    zero_capacity["i"]["capacityPerSlot"] = json!(0);
    assert_invalid(
        &s.graphql_as(&d.meguro, CREATE, zero_capacity).await,
        "capacityPerSlot",
    );
    // One-minute slots all day long: 1,439 a day.
    let too_many = schedule(s, &d.venue, (1, 1), &[("00:00", "23:59")], 1, 1);
    assert_invalid(
        &s.graphql_as(&d.meguro, CREATE, too_many).await,
        "slotMinutes",
    );
    let mut in_the_past = good();
    in_the_past["i"]["from"] = json!(day(s, -1));
    assert_invalid(&s.graphql_as(&d.meguro, CREATE, in_the_past).await, "from");
    let more_than_a_year = schedule(s, &d.venue, (1, 367), &[("09:00", "10:00")], 60, 1);
    assert_invalid(
        &s.graphql_as(&d.meguro, CREATE, more_than_a_year).await,
        "to",
    );
    let mut not_handled = good();
    not_handled["i"]["productCode"] = json!("MODERNA");
    assert_invalid(
        &s.graphql_as(&d.meguro, CREATE, not_handled).await,
        "productCode",
    );
    // A venue that books elsewhere has no slots here.
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    let elsewhere = schedule(s, &hospital, (1, 3), &[("09:00", "12:00")], 30, 2);
    let refused = s.graphql_as(&d.meguro, CREATE, elsewhere).await;
    assert_eq!(error_reason(&refused), "NOT_A_VSYS_VENUE");
    // A venue that may not vaccinate (Yokohama's special venue has no doctors) offers no slots.
    let yokohama = s.sign_in("yokohama.admin").await;
    let doctorless = facility_id(s, "横浜特設会場01").await;
    s.data_as(
        &yokohama,
        "mutation($f: ID!) { setReservationMode(facilityId: $f, mode: VSYS) { id } }",
        json!({ "f": doctorless }),
    )
    .await;
    let ineligible = s
        .graphql_as(
            &yokohama,
            CREATE,
            schedule(s, &doctorless, (1, 3), &[("09:00", "12:00")], 30, 2),
        )
        .await;
    assert_eq!(error_reason(&ineligible), "NOT_ELIGIBLE");
    assert_eq!(
        ineligible["errors"][0]["extensions"]["current"]["reasons"][0],
        "NO_RESPONSIBLE_DOCTOR"
    );
    // Who may not: the call centre and another municipality (not found), the prefecture
    // (forbidden).
    let tokyo = s.sign_in("tokyo.admin").await;
    for (token, code) in [
        (&d.operator, "NOT_FOUND"),
        (&yokohama, "NOT_FOUND"),
        (&tokyo, "FORBIDDEN"),
    ] {
        assert_eq!(
            expect_error_code(&s.graphql_as(token, CREATE, good()).await),
            code
        );
    }
    assert_eq!(slot_count(s).await, 0);
    assert_eq!(audited(s, "createReservationSlots", "SUCCESS").await, 0);

    // A year of slots is one call.
    let year = schedule(s, &d.venue, (1, 366), &[("09:00", "10:00")], 60, 1);
    assert_eq!(
        s.data_as(&d.meguro, CREATE, year).await["createReservationSlots"]["created"],
        366
    );

    // Searches are capped.
    for (variables, field) in [
        (json!({ "f": d.venue, "first": 5000 }), "first"),
        (
            json!({ "f": d.venue, "from": day(s, 0), "to": day(s, 100) }),
            "to",
        ),
        (json!({}), "municipalityId"),
        (json!({ "f": d.venue, "after": "25:00" }), "startsAfter"),
    ] {
        assert_invalid(&s.graphql(AVAILABLE, variables).await, field);
    }
    d.server.stop().await;
}

#[tokio::test]
async fn the_venue_or_its_municipality_sets_how_it_takes_bookings() {
    let d = desk().await;
    let s = &d.server;
    const SET: &str = "mutation($f: ID!, $m: ReservationMode!) { setReservationMode(facilityId: $f, mode: $m) { reservationMode } }";
    const MODE: &str = "query($f: ID!) { node(id: $f) { ... on Facility { reservationMode } } }";
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    assert_eq!(
        s.data(MODE, json!({ "f": hospital })).await["node"]["reservationMode"],
        "EXTERNAL"
    );
    assert_eq!(
        s.data(MODE, json!({ "f": d.venue })).await["node"]["reservationMode"],
        "VSYS"
    );
    let own = common::api::hospital(s).await;
    let set = s
        .data_as(&own, SET, json!({ "f": hospital, "m": "VSYS" }))
        .await;
    assert_eq!(set["setReservationMode"]["reservationMode"], "VSYS");
    let set = s
        .data_as(
            &d.meguro,
            SET,
            json!({ "f": hospital, "m": "NOT_REQUIRED" }),
        )
        .await;
    assert_eq!(set["setReservationMode"]["reservationMode"], "NOT_REQUIRED");
    let yokohama = s.sign_in("yokohama.admin").await;
    let refused = s
        .graphql_as(&yokohama, SET, json!({ "f": hospital, "m": "VSYS" }))
        .await;
    assert_eq!(expect_error_code(&refused), "NOT_FOUND");
    assert_eq!(
        s.data(MODE, json!({ "f": hospital })).await["node"]["reservationMode"],
        "NOT_REQUIRED"
    );
    assert_eq!(audited(s, "setReservationMode", "SUCCESS").await, 2);
    d.server.stop().await;
}

fn id_of(response: &Value) -> Value {
    response["bookReservation"]["id"].clone()
}

#[tokio::test]
async fn bookings_follow_the_rules() {
    let d = desk().await;
    let s = &d.server;
    // One place per slot, 09:00–10:00 in two slots, for five weeks.
    s.data_as(
        &d.meguro,
        CREATE,
        schedule(s, &d.venue, (1, 35), &[("09:00", "10:00")], 30, 1),
    )
    .await;
    let slots = free_slots(s, &d.venue, 40).await;
    assert_eq!(slots.len(), 70);
    let slot = |day_offset: i64, second: bool| {
        slots[((day_offset - 1) * 2) as usize + usize::from(second)]["id"].clone()
    };

    let booked = s
        .data_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(1, false), "０００００１２３４５", 1),
        )
        .await;
    let dose_one = id_of(&booked);
    assert_eq!(booked["bookReservation"]["status"], "BOOKED");
    assert_eq!(booked["bookReservation"]["couponNumber"], "0000012345");
    assert_eq!(booked["bookReservation"]["startsAt"], "09:00");
    assert_eq!(free_slots(s, &d.venue, 40).await.len(), 69);

    // One active booking per coupon and dose.
    let twice = s
        .graphql_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(2, false), "0000012345", 1),
        )
        .await;
    assert_eq!(error_reason(&twice), "ALREADY_BOOKED");
    // A full slot.
    let full = s
        .graphql_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(1, false), "0000099999", 1),
        )
        .await;
    assert_eq!(expect_error_code(&full), "CONFLICT");
    assert_eq!(error_reason(&full), "SLOT_FULL");
    // Dose 2 too early: Pfizer's interval is 21 days.
    let early = s
        .graphql_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(10, false), "0000012345", 2),
        )
        .await;
    assert_eq!(error_reason(&early), "DOSE_TOO_EARLY");
    assert_eq!(
        early["errors"][0]["extensions"]["current"]["earliest"],
        day(s, 22)
    );
    let dose_two = id_of(
        &s.data_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(23, false), "0000012345", 2),
        )
        .await,
    );
    // Bad input: a coupon number of the wrong length, an unknown or check-digit-wrong code,
    // another municipality's coupon.
    for (field, value) in [
        ("couponNumber", "123456789"),
        ("couponNumber", "12345678901"),
        ("couponMunicipalityCode", "131106"),
        ("phone", "12"),
        ("nameKana", "Hanako"),
    ] {
        let mut variables = booking(&d.venue, &slot(3, false), "0000055555", 1);
        variables["i"][field] = json!(value);
        let refused = s.graphql_as(&d.operator, BOOK, variables).await;
        let expected = if field == "couponMunicipalityCode" {
            "municipalityCode"
        } else {
            field
        };
        assert_invalid(&refused, expected);
    }
    let mut yokohama_coupon = booking(&d.venue, &slot(3, false), "0000055555", 1);
    yokohama_coupon["i"]["couponMunicipalityCode"] = json!("141003");
    assert_eq!(
        error_reason(&s.graphql_as(&d.operator, BOOK, yokohama_coupon).await),
        "OUT_OF_AREA"
    );
    // Another municipality's staff may not book at Meguro's venue.
    let yokohama = s.sign_in("yokohama.admin").await;
    let foreign = s
        .graphql_as(
            &yokohama,
            BOOK,
            booking(&d.venue, &slot(3, false), "0000055555", 1),
        )
        .await;
    assert_eq!(expect_error_code(&foreign), "FORBIDDEN");
    // A slot of another venue is not found at this one.
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    let wrong_venue = s
        .graphql_as(
            &d.operator,
            BOOK,
            booking(&hospital, &slot(3, false), "0000055555", 1),
        )
        .await;
    assert_eq!(expect_error_code(&wrong_venue), "NOT_FOUND");
    assert_eq!(count(s, "SELECT COUNT(*) FROM reservations").await, 2);

    // A change holds the new place before freeing the old one: a full slot changes nothing.
    let other = id_of(
        &s.data_as(
            &d.operator,
            BOOK,
            booking(&d.venue, &slot(1, true), "0000077777", 1),
        )
        .await,
    );
    let to_full = s
        .graphql_as(
            &d.operator,
            CHANGE,
            json!({ "r": dose_one, "s": slot(1, true) }),
        )
        .await;
    assert_eq!(error_reason(&to_full), "SLOT_FULL");
    // Moving dose 1 later would leave dose 2 (day 23) too early.
    let too_late = s
        .graphql_as(
            &d.operator,
            CHANGE,
            json!({ "r": dose_one, "s": slot(5, false) }),
        )
        .await;
    assert_eq!(error_reason(&too_late), "DOSE_TOO_EARLY");
    let changed = s
        .data_as(
            &d.operator,
            CHANGE,
            json!({ "r": dose_one, "s": slot(2, false) }),
        )
        .await;
    assert_eq!(changed["changeReservation"]["date"], day(s, 2));
    assert_eq!(changed["changeReservation"]["version"], 2);
    // The old place is free again, the new one taken.
    let free: Vec<Value> = free_slots(s, &d.venue, 40)
        .await
        .into_iter()
        .map(|s| s["id"].clone())
        .collect();
    assert!(free.contains(&slot(1, false)));
    assert!(!free.contains(&slot(2, false)));

    // Cancelling: not another municipality's (not found), once only.
    let not_theirs = s.graphql_as(&yokohama, CANCEL, json!({ "r": other })).await;
    assert_eq!(expect_error_code(&not_theirs), "NOT_FOUND");
    let cancelled = s
        .data_as(
            &d.operator,
            CANCEL,
            json!({ "r": other, "why": "本人より電話 / the resident called" }),
        )
        .await;
    assert_eq!(cancelled["cancelReservation"]["status"], "CANCELLED");
    let again = s
        .graphql_as(&d.operator, CANCEL, json!({ "r": other }))
        .await;
    assert_eq!(error_reason(&again), "ALREADY_CANCELLED");
    assert!(
        free_slots(s, &d.venue, 40)
            .await
            .iter()
            .any(|f| f["id"] == slot(1, true))
    );
    // A cancelled dose may be booked again.
    s.data_as(
        &d.operator,
        BOOK,
        booking(&d.venue, &slot(1, true), "0000077777", 1),
    )
    .await;

    // Booked places always equal the active bookings.
    assert_eq!(
        count(
            s,
            "SELECT CAST(COALESCE(SUM(booked), 0) AS BIGINT) FROM reservation_slots"
        )
        .await,
        count(
            s,
            "SELECT COUNT(*) FROM reservations WHERE status = 'BOOKED'"
        )
        .await
    );
    assert_eq!(audited(s, "bookReservation", "SUCCESS").await, 4);
    assert_eq!(audited(s, "changeReservation", "SUCCESS").await, 1);
    assert_eq!(audited(s, "cancelReservation", "SUCCESS").await, 1);
    assert!(
        audited(s, "bookReservation", "DENIED").await
            + audited(s, "bookReservation", "FAILURE").await
            >= 10
    );
    let _ = dose_two;
    d.server.stop().await;
}

#[tokio::test]
async fn reservations_are_read_by_the_venues_municipality_and_every_read_is_audited() {
    let d = desk().await;
    let s = &d.server;
    let (reservation, _) = booked_at(s, &d.meguro, &d.venue).await;
    let listed = s
        .data_as(&d.operator, LIST, json!({ "c": "0000000001" }))
        .await;
    let rows = common::api::nodes(&listed["reservations"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], reservation);
    assert_eq!(rows[0]["name"], "目黒 花子");
    assert_eq!(rows[0]["phone"], "03-1234-5678");
    assert_eq!(audited(s, "readReservations", "SUCCESS").await, 1);
    let by_status = s
        .data_as(&d.meguro, LIST, json!({ "s": "CANCELLED" }))
        .await;
    assert!(common::api::nodes(&by_status["reservations"]).is_empty());
    // Another municipality sees none of them; a prefecture holds no residents' data.
    let yokohama = s.sign_in("yokohama.admin").await;
    let theirs = s.data_as(&yokohama, LIST, json!({})).await;
    assert!(common::api::nodes(&theirs["reservations"]).is_empty());
    let tokyo = s.sign_in("tokyo.admin").await;
    assert_eq!(
        expect_error_code(&s.graphql_as(&tokyo, LIST, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(
        expect_error_code(&s.graphql(LIST, json!({})).await),
        "UNAUTHENTICATED"
    );
    d.server.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_booking() {
    let d = desk().await;
    let s = &d.server;
    s.data_as(
        &d.meguro,
        CREATE,
        schedule(s, &d.venue, (1, 1), &[("09:00", "12:00")], 30, 5),
    )
    .await;
    let slots = free_slots(s, &d.venue, 1).await;
    let request = booking(&d.venue, &slots[0]["id"], "0000011111", 1);
    let key = [("Idempotency-Key", "call-0001")];
    let (status, first) = s
        .graphql_with_headers(&d.operator, &key, BOOK, request.clone())
        .await;
    assert_eq!(status, 200, "{first}");
    let (_, retry) = s
        .graphql_with_headers(&d.operator, &key, BOOK, request.clone())
        .await;
    assert_eq!(
        first["data"]["bookReservation"]["id"], retry["data"]["bookReservation"]["id"],
        "{retry}"
    );
    assert_eq!(count(s, "SELECT COUNT(*) FROM reservations").await, 1);
    // The same key for another request is refused.
    let other = booking(&d.venue, &slots[1]["id"], "0000022222", 1);
    let (_, reused) = s
        .graphql_with_headers(&d.operator, &key, BOOK, other.clone())
        .await;
    assert_eq!(error_reason(&reused), "IDEMPOTENCY_KEY_REUSED");
    // Without a key, the same request books twice and the second is refused by the rules.
    let without = s.graphql_as(&d.operator, BOOK, request).await;
    assert_eq!(error_reason(&without), "ALREADY_BOOKED");

    // Concurrent retries with one key: one booking, one answer.
    let key = [("Idempotency-Key", "call-0002")];
    let answers = futures_util::future::join_all(
        (0..12).map(|_| s.graphql_with_headers(&d.operator, &key, BOOK, other.clone())),
    )
    .await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["data"]["bookReservation"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(s, "SELECT COUNT(*) FROM reservations").await, 2);
    // A key must be printable and short.
    let long = "k".repeat(201);
    let (_, refused) = s
        .graphql_with_headers(
            &d.operator,
            &[("Idempotency-Key", long.as_str())],
            BOOK,
            booking(&d.venue, &slots[2]["id"], "0000033333", 1),
        )
        .await;
    assert_invalid(&refused, "Idempotency-Key");
    d.server.stop().await;
}

#[tokio::test]
async fn concurrent_bookings_never_overfill_a_slot() {
    let d = desk().await;
    let s = &d.server;
    // Ten slots of five places: 50 places for 200 callers.
    s.data_as(
        &d.meguro,
        CREATE,
        schedule(s, &d.venue, (1, 1), &[("09:00", "14:00")], 30, 5),
    )
    .await;
    let slots = free_slots(s, &d.venue, 1).await;
    assert_eq!(slots.len(), 10);
    let requests: Vec<Value> = (0..200)
        .map(|n| {
            booking(
                &d.venue,
                &slots[n % 10]["id"],
                &format!("{:010}", 1_000_000 + n),
                1,
            )
        })
        .collect();
    let answers = futures_util::future::join_all(
        requests
            .iter()
            .map(|r| s.graphql_with_headers(&d.operator, &[], BOOK, r.clone())),
    )
    .await;
    let mut booked = 0;
    for (status, body) in &answers {
        assert!(*status < 500, "{status} {body}");
        if body["data"]["bookReservation"]["id"].is_string() {
            booked += 1;
        } else {
            assert_eq!(error_reason(body), "SLOT_FULL", "{body}");
        }
    }
    assert_eq!(booked, 50);
    assert_eq!(count(s, "SELECT COUNT(*) FROM reservations").await, 50);
    assert_eq!(
        count(
            s,
            "SELECT CAST(SUM(booked) AS BIGINT) FROM reservation_slots"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            s,
            "SELECT COUNT(*) FROM reservation_slots WHERE booked > capacity"
        )
        .await,
        0
    );
    // Bookings are written in groups: each kept its own audit entry and event, and a refused
    // one left neither behind (its refusal is audited on its own).
    for (sql, expected) in [
        (
            "SELECT COUNT(*) FROM audit_log WHERE operation = 'bookReservation' \
             AND outcome = 'SUCCESS' AND object_id IN (SELECT id FROM reservations)",
            50,
        ),
        (
            "SELECT COUNT(*) FROM audit_log WHERE operation = 'bookReservation' \
             AND outcome = 'FAILURE'",
            150,
        ),
        (
            "SELECT COUNT(*) FROM events WHERE topic = 'reservation.booked' \
             AND payload LIKE '%' || (SELECT MIN(id) FROM reservations) || '%'",
            1,
        ),
        (
            "SELECT COUNT(*) FROM events WHERE topic = 'reservation.booked'",
            50,
        ),
    ] {
        assert_eq!(count(s, sql).await, expected, "{sql}");
    }
    d.server.stop().await;
}

#[tokio::test]
async fn bookings_reach_the_venues_area_and_availability_reaches_everyone() {
    let d = desk().await;
    let s = &d.server;
    s.data_as(
        &d.meguro,
        CREATE,
        schedule(s, &d.venue, (1, 1), &[("09:00", "10:00")], 30, 2),
    )
    .await;
    let slots = free_slots(s, &d.venue, 1).await;
    let after = latest_seq(s).await;
    let feed = |topic: &str| {
        json!({ "query": "subscription($a: Int, $t: [String!]) { events(after: $a, topics: $t) { topic payload } }",
            "variables": { "a": after, "t": [topic] } })
    };
    let mut meguro = subscribe(s, Some(&d.meguro), "1", feed("reservation.booked")).await;
    let yokohama_token = s.sign_in("yokohama.admin").await;
    let mut yokohama = subscribe(s, Some(&yokohama_token), "1", feed("reservation.booked")).await;
    let mut public = subscribe(s, None, "1", feed("availability.changed")).await;
    s.data_as(
        &d.operator,
        BOOK,
        booking(&d.venue, &slots[0]["id"], "0000012345", 1),
    )
    .await;
    let event = common::ws::next_event(&mut meguro).await;
    assert_eq!(event["topic"], "reservation.booked");
    assert_eq!(event["payload"]["startsAt"], format!("{}T09:00", day(s, 1)));
    // No personal data in the event.
    let text = event.to_string();
    assert!(
        !text.contains("花子") && !text.contains("0000012345"),
        "{text}"
    );
    let changed = common::ws::next_event(&mut public).await;
    assert_eq!(changed["topic"], "availability.changed");
    assert_eq!(changed["payload"]["productCode"], "PFIZER");
    // Yokohama receives nothing of Meguro's bookings: a marker it does receive comes first.
    common::ws::publish_marker(s, "reservation.booked").await;
    let next = common::ws::next_event(&mut yokohama).await;
    assert_eq!(next["payload"], json!({}), "{next}");
    d.server.stop().await;
}

#[tokio::test]
async fn the_call_centre_has_no_part_in_allocation() {
    let d = desk().await;
    let s = &d.server;
    let cool = common::api::open_cool_one(s).await;
    let status = s
        .graphql_as(
            &d.operator,
            "query($c: ID!) { allocationStatus(coolId: $c) { locked } }",
            json!({ "c": cool }),
        )
        .await;
    assert_eq!(expect_error_code(&status), "FORBIDDEN");
    let simulated = s
        .graphql_as(
            &d.operator,
            "query($c: ID!) { simulateAllocation(input: { coolId: $c, weighting: DESIRED_QUANTITY }) { warnings { code } } }",
            json!({ "c": cool }),
        )
        .await;
    assert_eq!(expect_error_code(&simulated), "FORBIDDEN");
    // Meguro's own staff read both.
    s.data_as(
        &d.meguro,
        "query($c: ID!) { allocationStatus(coolId: $c) { locked } }",
        json!({ "c": cool }),
    )
    .await;
    d.server.stop().await;
}

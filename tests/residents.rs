//! Residents' requests and the coupon ledger (function 8): a municipality registers its
//! coupons and bookings are checked against them; a reissue invalidates the old number; an
//! accepted out-of-area notification lets a resident book in another municipality; both wait
//! in the municipality's queue, live; every bad input is refused and changes nothing.

mod common;

use common::TestServer;
use common::api::{error_reason, expect_error_code};
use common::db::count;
use common::reservations::*;
use common::ws::{latest_seq, subscribe};
use serde_json::{Value, json};

const REGISTER: &str = "mutation($c: [CouponInput!]!) { registerCoupons(coupons: $c) }";
const OUT_OF_AREA: &str = "mutation($d: String!, $i: ResidentRequestInput!) { submitOutOfAreaNotification(destinationMunicipalityCode: $d, input: $i) { id status reference } }";
const REISSUE: &str =
    "mutation($i: ResidentRequestInput!) { requestCouponReissue(input: $i) { id status } }";
const DECIDE_OUT: &str = "mutation($r: ID!, $a: Boolean!, $why: String) { decideOutOfAreaNotification(requestId: $r, accept: $a, reason: $why) { id status decisionReason } }";
const DECIDE_REISSUE: &str = "mutation($r: ID!, $a: Boolean!, $why: String) { decideCouponReissue(requestId: $r, approve: $a, reason: $why) { id status newCouponNumber } }";
const QUEUE: &str = "query($s: ResidentRequestStatus) { residentRequests(status: $s) { id reference kind status name couponNumber reason couponMunicipality { name } } }";

/// A resident's request input for coupon `number` of `municipality`.
fn resident(municipality: &str, number: &str, reason: &str) -> Value {
    json!({ "couponMunicipalityCode": municipality, "couponNumber": number,
        "name": "世田谷 花子", "nameKana": "セタガヤ ハナコ", "birthDate": "1950-04-01",
        "phone": "03-1234-5678", "reason": reason })
}

/// Meguro's special venue with ten one-place slots tomorrow.
async fn town() -> MeguroVenue {
    meguro_venue_tomorrow(("09:00", "14:00")).await
}

/// Books slot `n` for Meguro coupon `number`.
async fn book(t: &MeguroVenue, n: usize, number: &str) -> Value {
    t.server
        .graphql_as(
            &t.operator,
            BOOK,
            booking(&t.venue, &t.slots[n]["id"], number, 1),
        )
        .await
}

/// Books slot `n` for a Setagaya (131121) coupon.
async fn book_setagaya(t: &MeguroVenue, n: usize, number: &str) -> Value {
    let mut variables = booking(&t.venue, &t.slots[n]["id"], number, 1);
    variables["i"]["couponMunicipalityCode"] = json!("131121");
    t.server.graphql_as(&t.operator, BOOK, variables).await
}

fn booked(response: &Value) -> bool {
    response["errors"].is_null() && response["data"]["bookReservation"]["status"] == "BOOKED"
}

#[tokio::test]
async fn bookings_are_checked_against_the_ledger_and_a_reissue_replaces_the_number() {
    let t = town().await;
    let s = &t.server;
    // Without a ledger any well-formed number books, as in V-SYS.
    assert!(booked(&book(&t, 0, "0000009999").await));

    let registered = s
        .data_as(
            &t.meguro,
            REGISTER,
            json!({ "c": [
                { "number": "0000000101", "residentReference": "R-101" },
                { "number": "0000000102", "residentReference": "R-102" },
            ] }),
        )
        .await;
    assert_eq!(registered["registerCoupons"], 2);
    // A coupon recorded as withdrawn when registered does not book.
    s.data_as(
        &t.meguro,
        REGISTER,
        json!({ "c": [{ "number": "0000000090", "residentReference": "R-90", "status": "INVALIDATED" }] }),
    )
    .await;
    let withdrawn = book(&t, 1, "0000000090").await;
    assert_eq!(
        error_reason(&withdrawn),
        "COUPON_INVALIDATED",
        "{withdrawn}"
    );
    // Now the ledger decides: a number it does not hold is refused.
    let unknown = book(&t, 1, "0000000999").await;
    assert_eq!(error_reason(&unknown), "COUPON_NOT_ISSUED", "{unknown}");
    assert!(booked(&book(&t, 1, "0000000101").await));

    // The resident lost coupon 102 and asks for a new one, without an account.
    let receipt = s
        .data(
            REISSUE,
            json!({ "i": resident("131105", "0000000102", "紛失") }),
        )
        .await;
    assert_eq!(receipt["requestCouponReissue"]["status"], "SUBMITTED");
    let id = receipt["requestCouponReissue"]["id"].clone();
    let queue = s
        .data_as(&t.meguro, QUEUE, json!({ "s": "SUBMITTED" }))
        .await;
    assert_eq!(queue["residentRequests"][0]["kind"], "COUPON_REISSUE");
    assert_eq!(queue["residentRequests"][0]["reason"], "紛失");
    // Returning needs a reason.
    let unexplained = s
        .graphql_as(&t.meguro, DECIDE_REISSUE, json!({ "r": id, "a": false }))
        .await;
    assert_eq!(expect_error_code(&unexplained), "INVALID_INPUT");
    let decided = s
        .data_as(&t.meguro, DECIDE_REISSUE, json!({ "r": id, "a": true }))
        .await;
    let decided = &decided["decideCouponReissue"];
    assert_eq!(decided["status"], "ACCEPTED");
    // Numbers drawn after a registration start above its highest.
    assert_eq!(decided["newCouponNumber"], "0000000103");
    // Decided once.
    let again = s
        .graphql_as(&t.meguro, DECIDE_REISSUE, json!({ "r": id, "a": true }))
        .await;
    assert_eq!(error_reason(&again), "ALREADY_DECIDED", "{again}");
    // The old number no longer books; the new one does.
    let old = book(&t, 2, "0000000102").await;
    assert_eq!(error_reason(&old), "COUPON_INVALIDATED", "{old}");
    assert!(booked(&book(&t, 2, "0000000103").await));
    let ledger = s
        .data_as(
            &t.meguro,
            "{ old: coupon(number: \"0000000102\") { status invalidatedAt } new: coupon(number: \"0000000103\") { status residentReference } }",
            json!({}),
        )
        .await;
    assert_eq!(ledger["old"]["status"], "INVALIDATED");
    assert_eq!(ledger["new"]["status"], "ISSUED");
    assert_eq!(ledger["new"]["residentReference"], "R-102");
    t.server.stop().await;
}

#[tokio::test]
async fn an_accepted_out_of_area_notification_lets_the_resident_book_there() {
    let t = town().await;
    let s = &t.server;
    let yokohama = s.sign_in("yokohama.admin").await;
    // A Setagaya resident staying in Meguro.
    let outside = book_setagaya(&t, 0, "0000000001").await;
    assert_eq!(error_reason(&outside), "OUT_OF_AREA", "{outside}");
    let variables =
        json!({ "d": "131105", "i": resident("131121", "0000000001", "出産のため里帰り") });
    let returned = s.data(OUT_OF_AREA, variables.clone()).await;
    let first = returned["submitOutOfAreaNotification"]["id"].clone();
    let accepted = s.data(OUT_OF_AREA, variables).await;
    let second = accepted["submitOutOfAreaNotification"]["id"].clone();
    // Only Meguro sees them.
    let other = s.data_as(&yokohama, QUEUE, json!({})).await;
    assert_eq!(other["residentRequests"], json!([]));
    let foreign = s
        .graphql_as(&yokohama, DECIDE_OUT, json!({ "r": first, "a": true }))
        .await;
    assert_eq!(
        foreign["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{foreign}"
    );
    let queue = s.data_as(&t.meguro, QUEUE, json!({})).await;
    assert_eq!(queue["residentRequests"].as_array().unwrap().len(), 2);
    // The short reference the resident was told is the one the queue shows.
    let reference = accepted["submitOutOfAreaNotification"]["reference"]
        .as_str()
        .unwrap();
    assert_eq!(reference.len(), 9, "XXXX-XXXX: {reference}");
    let listed = queue["residentRequests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == second)
        .unwrap();
    assert_eq!(listed["reference"], reference);
    assert_eq!(
        queue["residentRequests"][0]["couponMunicipality"]["name"],
        "世田谷区"
    );
    // A returned notification does not open the venue.
    let decided = s
        .data_as(
            &t.meguro,
            DECIDE_OUT,
            json!({ "r": first, "a": false, "why": "重複した届出です" }),
        )
        .await;
    assert_eq!(decided["decideOutOfAreaNotification"]["status"], "RETURNED");
    assert_eq!(
        decided["decideOutOfAreaNotification"]["decisionReason"],
        "重複した届出です"
    );
    let still = book_setagaya(&t, 0, "0000000001").await;
    assert_eq!(error_reason(&still), "OUT_OF_AREA", "{still}");
    // The accepted one does — for this coupon only.
    s.data_as(&t.meguro, DECIDE_OUT, json!({ "r": second, "a": true }))
        .await;
    assert!(booked(&book_setagaya(&t, 0, "0000000001").await));
    let other_coupon = book_setagaya(&t, 1, "0000000002").await;
    assert_eq!(error_reason(&other_coupon), "OUT_OF_AREA");
    let audited = count(
        s,
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'decideOutOfAreaNotification' \
         AND outcome = 'SUCCESS'",
    )
    .await;
    assert_eq!(audited, 2);
    t.server.stop().await;
}

#[tokio::test]
async fn the_queue_arrives_live_for_the_municipality_only() {
    let t = town().await;
    let s = &t.server;
    let yokohama = s.sign_in("yokohama.admin").await;
    let after = latest_seq(s).await;
    let query = "subscription($a: Int) { residentRequests(after: $a) { requestId kind status } }";
    let payload = json!({ "query": query, "variables": { "a": after } });
    let mut meguro_feed = subscribe(s, Some(&t.meguro), "q", payload.clone()).await;
    let mut yokohama_feed = subscribe(s, Some(&yokohama), "q", payload.clone()).await;
    // The call centre does not administer the queue.
    let mut operator_feed = subscribe(s, Some(&t.operator), "q", payload).await;
    let refused = operator_feed.next_json().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    let receipt = s
        .data(
            OUT_OF_AREA,
            json!({ "d": "131105", "i": resident("131121", "0000000001", "入院") }),
        )
        .await;
    let id = receipt["submitOutOfAreaNotification"]["id"].clone();
    let event = meguro_feed.next_json().await;
    let event = &event["payload"]["data"]["residentRequests"];
    assert_eq!(event["requestId"], id);
    assert_eq!(event["kind"], "OUT_OF_AREA");
    assert_eq!(event["status"], "SUBMITTED");
    s.data_as(&t.meguro, DECIDE_OUT, json!({ "r": id, "a": true }))
        .await;
    let event = meguro_feed.next_json().await;
    assert_eq!(
        event["payload"]["data"]["residentRequests"]["status"],
        "ACCEPTED"
    );
    // Yokohama's first event is a request to Yokohama: nothing of Meguro's came before it.
    let mine = s
        .data(
            OUT_OF_AREA,
            json!({ "d": "141003", "i": resident("131121", "0000000001", "出張") }),
        )
        .await;
    let event = yokohama_feed.next_json().await;
    assert_eq!(
        event["payload"]["data"]["residentRequests"]["requestId"],
        mine["submitOutOfAreaNotification"]["id"]
    );
    t.server.stop().await;
}

#[tokio::test]
async fn bad_requests_and_registrations_are_refused_and_change_nothing() {
    let t = town().await;
    let s = &t.server;
    let future = {
        let mut r = resident("131121", "0000000001", "入院");
        r["birthDate"] = json!("2999-01-01");
        r
    };
    let bad_kana = {
        let mut r = resident("131121", "0000000001", "入院");
        r["nameKana"] = json!("setagaya");
        r
    };
    let cases = [
        (
            "unknown coupon municipality",
            json!({ "d": "131105", "i": resident("999999", "0000000001", "入院") }),
        ),
        (
            "unknown destination",
            json!({ "d": "000000", "i": resident("131121", "0000000001", "入院") }),
        ),
        (
            "destination is home",
            json!({ "d": "131121", "i": resident("131121", "0000000001", "入院") }),
        ),
        (
            "short coupon number",
            json!({ "d": "131105", "i": resident("131121", "12345", "入院") }),
        ),
        (
            "birth date in the future",
            json!({ "d": "131105", "i": future }),
        ),
        (
            "kana that is not kana",
            json!({ "d": "131105", "i": bad_kana }),
        ),
        (
            "no reason",
            json!({ "d": "131105", "i": resident("131121", "0000000001", "  ") }),
        ),
    ];
    for (what, variables) in cases {
        let response = s.graphql(OUT_OF_AREA, variables).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{what}: {response}"
        );
    }
    assert_eq!(count(s, "SELECT COUNT(*) FROM resident_requests").await, 0);
    // Three open requests per coupon, then the fourth is refused.
    let variables = json!({ "i": resident("131105", "0000000001", "紛失") });
    for _ in 0..3 {
        s.data(REISSUE, variables.clone()).await;
    }
    let fourth = s.graphql(REISSUE, variables).await;
    assert_eq!(error_reason(&fourth), "TOO_MANY_OPEN_REQUESTS", "{fourth}");
    assert_eq!(count(s, "SELECT COUNT(*) FROM resident_requests").await, 3);

    // Registrations: every bad row named, nothing stored.
    let many: Vec<Value> = (0..1_001)
        .map(|i| json!({ "number": format!("{i:010}"), "residentReference": "R" }))
        .collect();
    let too_many = s
        .graphql_as(&t.meguro, REGISTER, json!({ "c": many }))
        .await;
    assert_eq!(
        too_many["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{too_many}"
    );
    let rows = s
        .graphql_as(
            &t.meguro,
            REGISTER,
            json!({ "c": [
                { "number": "0000000001", "residentReference": "R-1" },
                { "number": "12ab", "residentReference": "R-2" },
                { "number": "0000000001", "residentReference": "R-3" },
                { "number": "0000000004", "residentReference": "" },
            ] }),
        )
        .await;
    let errors = &rows["errors"][0]["extensions"]["rows"];
    assert_eq!(errors.as_array().unwrap().len(), 3, "{rows}");
    assert_eq!(errors[0]["row"], 2);
    assert_eq!(errors[1]["row"], 3);
    assert_eq!(errors[2]["field"], "residentReference");
    s.data_as(
        &t.meguro,
        REGISTER,
        json!({ "c": [{ "number": "0000000001", "residentReference": "R-1" }] }),
    )
    .await;
    let duplicate = s
        .graphql_as(
            &t.meguro,
            REGISTER,
            json!({ "c": [{ "number": "0000000001", "residentReference": "R-9" }] }),
        )
        .await;
    assert!(
        duplicate["errors"][0]["extensions"]["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already"),
        "{duplicate}"
    );
    assert_eq!(count(s, "SELECT COUNT(*) FROM coupons").await, 1);
    let refusals = count(
        s,
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'registerCoupons' AND outcome <> 'SUCCESS'",
    )
    .await;
    assert_eq!(refusals, 3);
    t.server.stop().await;
}

#[tokio::test]
async fn a_facility_may_notify_for_the_resident_and_is_named_in_the_queue() {
    let t = town().await;
    let s = &t.server;
    let hospital = s.sign_in("meguro-hospital.admin").await;
    s.data_as(
        &hospital,
        "mutation { acceptPrivacyPolicy { id } }",
        json!({}),
    )
    .await;
    s.data_as(
        &hospital,
        OUT_OF_AREA,
        json!({ "d": "131105", "i": resident("131121", "0000000007", "入院中のため") }),
    )
    .await;
    let queue = s
        .data_as(
            &t.meguro,
            "{ residentRequests { submittedByFacility { name } reason } }",
            json!({}),
        )
        .await;
    assert_eq!(
        queue["residentRequests"][0]["submittedByFacility"]["name"],
        "目黒区病院01"
    );
    t.server.stop().await;
}

#[tokio::test]
async fn public_submissions_are_limited_per_address() {
    let server = TestServer::start_with(&["--public-rate-per-ip", "3"]).await;
    let variables = json!({ "d": "131105", "i": resident("131121", "0000000009", "入院") });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _) = server.anonymous_post(OUT_OF_AREA, variables.clone()).await;
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM resident_requests").await,
        3
    );
    server.stop().await;
}

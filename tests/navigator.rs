//! The public navigator (issue #10, function 4): searching published venues without signing
//! in, the five statuses from real slots or fresh declarations, live updates coalesced per
//! venue, what the public can reach, and the limits on anonymous traffic.

mod common;

use common::TestServer;
use common::api::{assert_invalid, error_reason, expect_error_code, facility_id, meguro_id};
use common::reservations::*;
use common::ws::subscribe;
use serde_json::{Value, json};

const SEARCH: &str = "query($near: GeoPointInput, $r: Float, $m: ID, $postal: String, $text: String, $product: String, $from: String, $to: String, $first: Int) { navigatorSearch(near: $near, radiusKm: $r, municipalityId: $m, postalCode: $postal, text: $text, productCode: $product, from: $from, to: $to, first: $first) { truncated venues { id name address phone distanceKm vaccines reservationMode status statusLabel statusLabelEn unconfirmed nextFreeDate freePlaces statusChangedAt declaredAt } } }";
const DECLARE: &str = "mutation($f: ID!, $s: AvailabilityStatus!, $d: String) { setReservationStatus(facilityId: $f, status: $s, nextAvailableDate: $d) }";
const SET_MODE: &str = "mutation($f: ID!, $m: ReservationMode!) { setReservationMode(facilityId: $f, mode: $m) { id } }";
const PUBLISH: &str =
    "mutation($f: ID!, $p: Boolean!) { publishOnNavigator(facilityId: $f, published: $p) }";

/// Near Meguro's special venue.
fn near_meguro() -> Value {
    json!({ "latitude": 35.6339, "longitude": 139.7079 })
}

async fn search(server: &TestServer, variables: Value) -> Vec<Value> {
    server.data(SEARCH, variables).await["navigatorSearch"]["venues"]
        .as_array()
        .unwrap()
        .clone()
}

fn venue<'a>(venues: &'a [Value], name: &str) -> Option<&'a Value> {
    venues.iter().find(|v| v["name"] == name)
}

async fn status_of(server: &TestServer, name: &str) -> Value {
    let venues = search(server, json!({ "near": near_meguro(), "r": 10.0 })).await;
    venue(&venues, name)
        .unwrap_or_else(|| panic!("{name} not found"))
        .clone()
}

/// The venue's status once its stored status records a change after `before` (the statuses
/// are recorded after the fact, within a pass of the recorder).
async fn status_changed_after(server: &TestServer, name: &str, before: &Value) -> Value {
    for _ in 0..200 {
        let status = status_of(server, name).await;
        let changed_at = &status["statusChangedAt"];
        if changed_at.is_string() && changed_at != before {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the status change of {name} was not recorded");
}

#[tokio::test]
async fn published_venues_are_found_nearest_first_without_signing_in() {
    let server = TestServer::start().await;
    let venues = search(&server, json!({ "near": near_meguro(), "r": 10.0 })).await;
    let names: Vec<&str> = venues.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "目黒区特設会場01", "{names:?}");
    assert!(names.contains(&"目黒区病院01") && names.contains(&"港区診療所01"));
    // Setagaya Hospital 01 has not agreed to be published.
    assert!(!names.contains(&"世田谷区病院01"), "{names:?}");
    let distances: Vec<f64> = venues
        .iter()
        .map(|v| v["distanceKm"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances.iter().all(|d| *d <= 10.0));
    // A vsys venue without slots is not open for booking yet; a venue booking elsewhere that
    // declared nothing neither.
    let special = venue(&venues, "目黒区特設会場01").unwrap();
    assert_eq!(special["status"], "PREPARING");
    assert_eq!(special["statusLabel"], "予約準備中");
    assert_eq!(special["reservationMode"], "VSYS");
    assert_eq!(
        venue(&venues, "目黒区病院01").unwrap()["status"],
        "PREPARING"
    );

    // By municipality, postal code, word, vaccine.
    let meguro = search(&server, json!({ "m": meguro_id(&server).await })).await;
    assert_eq!(meguro.len(), 3);
    assert!(meguro.iter().all(|v| v["distanceKm"].is_null()));
    let postal = search(&server, json!({ "postal": "1530063" })).await;
    assert_eq!(postal.len(), 1);
    assert_eq!(postal[0]["name"], "目黒区特設会場01");
    let word = search(&server, json!({ "text": "特設会場" })).await;
    assert_eq!(word.len(), 2, "{word:?}");
    let wildcard = search(&server, json!({ "text": "%" })).await;
    assert!(wildcard.is_empty());
    let pfizer = search(
        &server,
        json!({ "m": meguro_id(&server).await, "product": "PFIZER" }),
    )
    .await;
    assert_eq!(pfizer.len(), 3);
    let moderna = search(
        &server,
        json!({ "m": meguro_id(&server).await, "product": "MODERNA" }),
    )
    .await;
    assert!(moderna.is_empty());
    let one = server
        .data(SEARCH, json!({ "m": meguro_id(&server).await, "first": 1 }))
        .await;
    assert_eq!(one["navigatorSearch"]["truncated"], true);

    // Bad searches: a clear error each.
    for (variables, field) in [
        (json!({ "near": near_meguro(), "r": 10000.0 }), "radiusKm"),
        (json!({ "near": near_meguro(), "first": 5000 }), "first"),
        (json!({}), "near"),
        (json!({ "postal": "15300" }), "postalCode"),
        (
            json!({ "near": { "latitude": 48.85, "longitude": 2.35 } }),
            "near",
        ),
        (
            json!({ "text": "目黒", "from": "2030-01-01", "to": "2030-12-31" }),
            "to",
        ),
    ] {
        assert_invalid(&server.graphql(SEARCH, variables).await, field);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_vsys_venues_status_follows_its_slots_at_once() {
    let server = TestServer::start_signing_in_freely().await;
    let s = &server;
    let meguro = s.sign_in("meguro.admin").await;
    let operator = s.sign_in("meguro.callcenter").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    // Twenty places: bookable.
    s.data_as(
        &meguro,
        CREATE,
        schedule(s, &special, (2, 2), &[("09:00", "11:00")], 30, 5),
    )
    .await;
    let status = status_changed_after(s, "目黒区特設会場01", &Value::Null).await;
    assert_eq!(status["status"], "BOOKABLE");
    assert_eq!(status["statusLabel"], "予約可能");
    assert_eq!(status["freePlaces"], 20);
    assert_eq!(status["nextFreeDate"], day(s, 2));
    let changed_at = status["statusChangedAt"].clone();
    assert!(changed_at.is_string(), "{status}");
    // Fifteen bookings leave five: a few left. The answer is never the cached one.
    let slots = free_slots(s, &special, 3).await;
    for n in 0..15 {
        s.data_as(
            &operator,
            BOOK,
            booking(
                &special,
                &slots[n % 4]["id"],
                &format!("{:010}", 100 + n),
                1,
            ),
        )
        .await;
    }
    let status = status_of(s, "目黒区特設会場01").await;
    assert_eq!(status["status"], "FEW_LEFT");
    assert_eq!(status["statusLabel"], "若干空き有り");
    assert_eq!(status["freePlaces"], 5);
    let recorded = status_changed_after(s, "目黒区特設会場01", &changed_at).await;
    assert_eq!(recorded["status"], "FEW_LEFT");
    // Fill every remaining place.
    let mut coupon = 1000;
    for slot in free_slots(s, &special, 3).await {
        for _ in 0..slot["free"].as_i64().unwrap() {
            coupon += 1;
            s.data_as(
                &operator,
                BOOK,
                booking(&special, &slot["id"], &format!("{coupon:010}"), 1),
            )
            .await;
        }
    }
    let status = status_of(s, "目黒区特設会場01").await;
    assert_eq!(status["status"], "NOT_BOOKABLE");
    assert_eq!(status["statusLabel"], "予約不可能");
    assert!(status["nextFreeDate"].is_null());
    // A venue's search with dates: the full venue drops out, those booking elsewhere stay.
    let dated = search(
        s,
        json!({ "near": near_meguro(), "r": 10.0, "from": day(s, 1), "to": day(s, 7) }),
    )
    .await;
    assert!(venue(&dated, "目黒区特設会場01").is_none());
    assert!(venue(&dated, "目黒区病院01").is_some());
    // Unpublished, it is gone.
    assert_eq!(
        s.data_as(&meguro, PUBLISH, json!({ "f": special, "p": false }))
            .await["publishOnNavigator"],
        false
    );
    let venues = search(s, json!({ "near": near_meguro() })).await;
    assert!(venue(&venues, "目黒区特設会場01").is_none());
    server.stop().await;
}

#[tokio::test]
async fn venues_booking_elsewhere_declare_their_status_and_stale_declarations_show() {
    let server = TestServer::start().await;
    let s = &server;
    let own = common::api::hospital(s).await;
    let meguro = s.sign_in("meguro.admin").await;
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    let declared = s
        .graphql_as(
            &own,
            DECLARE,
            json!({ "f": hospital, "s": "BOOKABLE", "d": day(s, 3) }),
        )
        .await;
    assert_eq!(declared["data"]["setReservationStatus"], true, "{declared}");
    let status = status_of(s, "目黒区病院01").await;
    assert_eq!(status["status"], "BOOKABLE");
    assert_eq!(status["unconfirmed"], false);
    assert_eq!(status["nextFreeDate"], day(s, 3));
    assert!(status["declaredAt"].is_string());
    // Declared by someone else: not found; by a vsys venue: refused; NO_BOOKING_NEEDED is a
    // mode, not a declaration; a date in the past.
    let yokohama = s.sign_in("yokohama.admin").await;
    let foreign = s
        .graphql_as(
            &yokohama,
            DECLARE,
            json!({ "f": hospital, "s": "NOT_BOOKABLE" }),
        )
        .await;
    assert_eq!(expect_error_code(&foreign), "NOT_FOUND");
    let vsys = s
        .graphql_as(&meguro, DECLARE, json!({ "f": special, "s": "BOOKABLE" }))
        .await;
    assert_eq!(error_reason(&vsys), "NOT_AN_EXTERNAL_VENUE");
    assert_invalid(
        &s.graphql_as(
            &own,
            DECLARE,
            json!({ "f": hospital, "s": "NO_BOOKING_NEEDED" }),
        )
        .await,
        "status",
    );
    assert_invalid(
        &s.graphql_as(
            &own,
            DECLARE,
            json!({ "f": hospital, "s": "BOOKABLE", "d": day(s, -1) }),
        )
        .await,
        "nextAvailableDate",
    );
    assert_eq!(status_of(s, "目黒区病院01").await["status"], "BOOKABLE");
    // A venue that needs no booking.
    s.data_as(
        &meguro,
        SET_MODE,
        json!({ "f": facility_id(s, "目黒区診療所01").await, "m": "NOT_REQUIRED" }),
    )
    .await;
    let clinic = status_of(s, "目黒区診療所01").await;
    assert_eq!(clinic["status"], "NO_BOOKING_NEEDED");
    assert_eq!(clinic["statusLabel"], "予約不要");
    // Eight days on, the declaration is older than the default seven: call to confirm.
    s.advance_clock(time::Duration::days(8));
    let stale = status_of(s, "目黒区病院01").await;
    assert_eq!(stale["status"], "BOOKABLE");
    assert_eq!(stale["unconfirmed"], true);
    assert!(stale["statusLabel"].as_str().unwrap().contains("要確認"));
    assert!(
        stale["statusLabelEn"]
            .as_str()
            .unwrap()
            .contains("call to confirm")
    );
    server.stop().await;
}

/// The next `availabilityChanged` update.
async fn next_update(ws: &mut common::WsClient) -> Value {
    let message = ws.next_json().await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["availabilityChanged"].clone()
}

#[tokio::test]
async fn a_burst_of_bookings_reaches_the_area_coalesced_with_the_last_state() {
    let server = TestServer::start_signing_in_freely().await;
    let s = &server;
    let meguro = s.sign_in("meguro.admin").await;
    let operator = s.sign_in("meguro.callcenter").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    let feed = |area: Value| json!({ "query": "subscription($m: ID) { availabilityChanged(municipalityId: $m) { name status freePlaces } }", "variables": { "m": area } });
    let mut meguro_page = subscribe(s, None, "1", feed(meguro_id(s).await)).await;
    let yokohama = common::api::municipality_id(s, "141003").await;
    let mut yokohama_page = subscribe(s, None, "1", feed(yokohama.clone())).await;
    // Give the subscriptions a moment to be registered before the first change.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.data_as(
        &meguro,
        CREATE,
        schedule(s, &special, (1, 1), &[("09:00", "10:00")], 60, 30),
    )
    .await;
    let first = next_update(&mut meguro_page).await;
    assert_eq!(first["name"], "目黒区特設会場01");
    assert_eq!(first["freePlaces"], 30);
    let slot = free_slots(s, &special, 2).await[0]["id"].clone();
    for n in 0..12 {
        s.data_as(
            &operator,
            BOOK,
            booking(&special, &slot, &format!("{:010}", 500 + n), 1),
        )
        .await;
    }
    // The twelve bookings arrive as at most a few updates, the last with 18 places free.
    let mut updates = 0;
    loop {
        let update = next_update(&mut meguro_page).await;
        updates += 1;
        if update["freePlaces"] == 18 {
            break;
        }
        assert!(updates < 12, "not coalesced: {updates} updates");
    }
    assert!(updates <= 3, "{updates} updates for one burst");
    // Yokohama's page received none of Meguro's: its first update is its own venue's.
    let yokohama_admin = s.sign_in("yokohama.admin").await;
    s.data_as(
        &yokohama_admin,
        SET_MODE,
        json!({ "f": facility_id(s, "横浜特設会場01").await, "m": "NOT_REQUIRED" }),
    )
    .await;
    let own = next_update(&mut yokohama_page).await;
    assert_eq!(own["name"], "横浜特設会場01");
    assert_eq!(own["status"], "NO_BOOKING_NEEDED");
    server.stop().await;
}

#[tokio::test]
async fn pages_asking_the_same_thing_each_hear_every_change_under_their_own_id() {
    // Anonymous pages with one request share one execution on the server; what each page
    // sees must be what it would see alone.
    let server = TestServer::start_signing_in_freely().await;
    let s = &server;
    let meguro = s.sign_in("meguro.admin").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    let area = meguro_id(s).await;
    let feed = json!({ "query": "subscription($m: ID) { availabilityChanged(municipalityId: $m) { name freePlaces } }", "variables": { "m": area } });
    let mut first = subscribe(s, None, "first", feed.clone()).await;
    let mut second = subscribe(s, None, "second", feed.clone()).await;
    // One that leaves before the change, and a signed-in page (never shared) beside them.
    let mut leaving = subscribe(s, None, "leaving", feed.clone()).await;
    let mut staff = subscribe(s, Some(&meguro), "staff", feed.clone()).await;
    leaving
        .send(json!({ "id": "leaving", "type": "complete" }))
        .await;
    drop(leaving);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.data_as(
        &meguro,
        CREATE,
        schedule(s, &special, (1, 1), &[("09:00", "10:00")], 60, 30),
    )
    .await;
    for (page, id) in [
        (&mut first, "first"),
        (&mut second, "second"),
        (&mut staff, "staff"),
    ] {
        let message = page.next_json().await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        let update = &message["payload"]["data"]["availabilityChanged"];
        assert_eq!(update["name"], "目黒区特設会場01", "{message}");
        assert_eq!(update["freePlaces"], 30, "{message}");
    }
    // A page that joins later hears the next change, as do the pages already there.
    let mut late = subscribe(s, None, "late", feed).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let slot = free_slots(s, &special, 2).await[0]["id"].clone();
    let operator = s.sign_in("meguro.callcenter").await;
    s.data_as(&operator, BOOK, booking(&special, &slot, "0000000777", 1))
        .await;
    for (page, id) in [(&mut late, "late"), (&mut first, "first")] {
        let message = page.next_json().await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(
            message["payload"]["data"]["availabilityChanged"]["freePlaces"], 29,
            "{message}"
        );
    }
    // Ending one page's subscription leaves the others' running.
    second
        .send(json!({ "id": "second", "type": "complete" }))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    s.data_as(&operator, BOOK, booking(&special, &slot, "0000000778", 1))
        .await;
    let message = first.next_json().await;
    assert_eq!(
        message["payload"]["data"]["availabilityChanged"]["freePlaces"], 28,
        "{message}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_public_reaches_no_personal_data() {
    let server = TestServer::start().await;
    // The navigator's types link to nothing but scalars and enums.
    let types = server
        .data(
            "{ v: __type(name: \"NavigatorVenue\") { fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } r: __type(name: \"NavigatorSearchResult\") { fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }",
            json!({}),
        )
        .await;
    fn named(t: &Value) -> (String, String) {
        let mut t = t;
        while t["name"].is_null() {
            assert!(
                t["ofType"].is_object(),
                "a type nested deeper than asked: {t}"
            );
            t = &t["ofType"];
        }
        (
            t["kind"].as_str().unwrap().to_owned(),
            t["name"].as_str().unwrap().to_owned(),
        )
    }
    for field in types["v"]["fields"].as_array().unwrap() {
        let (kind, _) = named(&field["type"]);
        assert!(
            matches!(kind.as_str(), "SCALAR" | "ENUM"),
            "NavigatorVenue.{} leads to {kind}",
            field["name"]
        );
    }
    for field in types["r"]["fields"].as_array().unwrap() {
        let (kind, name) = named(&field["type"]);
        assert!(
            kind != "OBJECT" || name == "NavigatorVenue",
            "NavigatorSearchResult.{} leads to {name}",
            field["name"]
        );
    }
    // From a public slot to its venue, the venue's private fields stay closed.
    let s = &server;
    let meguro = s.sign_in("meguro.admin").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    s.data_as(
        &meguro,
        CREATE,
        schedule(s, &special, (1, 1), &[("09:00", "10:00")], 60, 1),
    )
    .await;
    let anonymous = s
        .graphql(
            "query($f: ID) { availableSlots(facilityId: $f) { slots { facility { name representativeName doctors { name } contracts { kind } eligibility { eligible } } } } }",
            json!({ "f": special }),
        )
        .await;
    let facility = &anonymous["data"]["availableSlots"]["slots"][0]["facility"];
    assert_eq!(facility["name"], "目黒区特設会場01", "{anonymous}");
    for private in ["representativeName", "doctors", "contracts", "eligibility"] {
        assert!(facility[private].is_null(), "{private}: {anonymous}");
    }
    // Reservations are never public.
    let listed = s
        .graphql(
            "{ reservations { edges { node { name phone } } } }",
            json!({}),
        )
        .await;
    assert_eq!(expect_error_code(&listed), "UNAUTHENTICATED");
    server.stop().await;
}

#[tokio::test]
async fn anonymous_traffic_is_rate_limited_per_address_and_capped_in_size() {
    let server = TestServer::start_with(&[
        "--public-rate-per-ip",
        "5",
        "--public-response-limit",
        "2048",
    ])
    .await;
    let s = &server;
    // Signing in first: signed-in traffic does not count.
    let token = s.sign_in("meguro.admin").await;
    let (status, _) = s
        .graphql_with_headers(&token, &[], "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 200);
    let query = "query($m: ID) { navigatorSearch(municipalityId: $m) { venues { name } } }";
    let meguro = s
        .data_as(
            &token,
            "{ municipality(code: \"131105\") { id } }",
            json!({}),
        )
        .await["municipality"]["id"]
        .clone();
    // The sign-in took anonymous requests of its own (two steps); count what is left.
    let mut limited = None;
    for n in 0..10 {
        let response = s.anonymous_post(query, json!({ "m": meguro })).await;
        if response.0 == 429 {
            limited = Some((n, response.1));
            break;
        }
    }
    let (n, body) = limited.expect("the sixth anonymous request is refused");
    assert!(n <= 5);
    assert_eq!(expect_error_code(&body), "RATE_LIMITED");
    // Signed in, the same caller is served.
    let (status, _) = s
        .graphql_with_headers(&token, &[], query, json!({ "m": meguro }))
        .await;
    assert_eq!(status, 200);
    server.stop().await;

    // Anonymous answers larger than the cap are refused; signed-in ones are not.
    let server = TestServer::start_with(&["--public-response-limit", "1024"]).await;
    let big = "{ facilities(first: 100) { edges { node { code name nameKana nameRomaji address phone postalCode latitude longitude } } } }";
    let refused = server.graphql(big, json!({})).await;
    assert_eq!(expect_error_code(&refused), "RESPONSE_TOO_LARGE");
    let token = server.sign_in("nation.admin").await;
    let (_, served) = server
        .graphql_with_headers(&token, &[], big, json!({}))
        .await;
    assert!(served["data"]["facilities"].is_object(), "{served}");
    server.stop().await;
}

#[tokio::test]
async fn availability_is_published_as_smart_scheduling_links() {
    let server = TestServer::start_signing_in_freely().await;
    let s = &server;
    let meguro = s.sign_in("meguro.admin").await;
    let operator = s.sign_in("meguro.callcenter").await;
    let special = facility_id(s, "目黒区特設会場01").await;
    s.data_as(
        &meguro,
        CREATE,
        schedule(s, &special, (1, 1), &[("09:00", "10:00")], 30, 1),
    )
    .await;
    let first = free_slots(s, &special, 2).await[0]["id"].clone();
    s.data_as(&operator, BOOK, booking(&special, &first, "0000000001", 1))
        .await;

    let manifest: Value = s.get("/smart/$bulk-publish").await.json().await.unwrap();
    assert!(manifest["transactionTime"].is_string());
    assert!(
        manifest["request"]
            .as_str()
            .unwrap()
            .ends_with("/smart/$bulk-publish")
    );
    let outputs = manifest["output"].as_array().unwrap();
    let url_of = |kind: &str| -> Vec<String> {
        outputs
            .iter()
            .filter(|o| o["type"] == kind)
            .map(|o| o["url"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(url_of("Location").len(), 1);
    assert_eq!(url_of("Schedule").len(), 1);
    // Tokyo's file (Meguro), and Kanagawa's (the demo's slots at Yokohama's venue).
    let slot_files = url_of("Slot");
    assert_eq!(slot_files.len(), 2, "{manifest}");
    assert!(slot_files[0].ends_with("/smart/slots/13.ndjson"));
    assert!(slot_files[1].ends_with("/smart/slots/14.ndjson"));

    let lines = |text: String| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let locations = lines(s.get("/smart/locations.ndjson").await.text().await.unwrap());
    let venue = locations
        .iter()
        .find(|l| l["name"] == "目黒区特設会場01")
        .unwrap();
    assert_eq!(venue["resourceType"], "Location");
    assert_eq!(venue["id"], "1319000012");
    assert_eq!(venue["address"]["state"], "東京都");
    assert_eq!(venue["address"]["city"], "目黒区");
    assert_eq!(venue["telecom"][0]["system"], "phone");
    assert!(!locations.iter().any(|l| l["name"] == "世田谷区病院01"));
    let schedules: Vec<Value> = lines(s.get("/smart/schedules.ndjson").await.text().await.unwrap())
        .into_iter()
        .filter(|s| s["actor"][0]["reference"] == "Location/1319000012")
        .collect();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0]["actor"][0]["reference"], "Location/1319000012");
    assert_eq!(schedules[0]["serviceType"][0]["coding"][0]["code"], "57");
    let slots = lines(s.get("/smart/slots/13.ndjson").await.text().await.unwrap());
    assert_eq!(slots.len(), 2);
    let schedule_ref = format!("Schedule/{}", schedules[0]["id"].as_str().unwrap());
    assert!(
        slots
            .iter()
            .all(|slot| slot["schedule"]["reference"] == schedule_ref)
    );
    assert_eq!(slots[0]["status"], "busy");
    assert_eq!(slots[1]["status"], "free");
    assert_eq!(slots[1]["start"], format!("{}T09:30:00+09:00", day(s, 1)));
    assert!(
        slots[0]["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_alphanumeric())
    );
    assert_eq!(s.get("/smart/slots/99.ndjson").await.status(), 404);
    assert_eq!(s.get("/smart/slots/..%2Fx.ndjson").await.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn a_status_change_committed_but_not_yet_recorded_is_recorded_after_a_restart() {
    let db = common::TestDb::new().await;
    let server = TestServer::start_on(&db.url, &[]).await;
    let meguro = server.sign_in("meguro.admin").await;
    let special = facility_id(&server, "目黒区特設会場01").await;
    server
        .data_as(
            &meguro,
            CREATE,
            schedule(&server, &special, (2, 2), &[("09:00", "10:00")], 30, 5),
        )
        .await;
    let before = status_changed_after(&server, "目黒区特設会場01", &Value::Null).await;
    assert_eq!(before["status"], "BOOKABLE");
    server.stop().await;

    // While no server runs, every place is taken and the change committed with its event, as
    // when a server stops between a booking's commit and the recorder's pass.
    let store = vsys::db::Db::connect(&db.url).await.unwrap();
    let (_, venue_row) = vsys::graphql::ids::parse_global_id(special.as_str().unwrap()).unwrap();
    let venue_row = venue_row.as_str();
    let mut tx = store.begin_write().await.unwrap();
    sqlx::query("UPDATE reservation_slots SET booked = capacity WHERE facility_id = $1")
        .bind(venue_row)
        .execute(tx.conn())
        .await
        .unwrap();
    vsys::events::append(
        &mut tx,
        &vsys::reservations::availability::changed(venue_row, json!({ "test": true })),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    // The next server records it from where the last one stopped.
    let server = TestServer::start_on(&db.url, &[]).await;
    let after = status_changed_after(&server, "目黒区特設会場01", &before["statusChangedAt"]).await;
    assert_eq!(after["status"], "NOT_BOOKABLE");
    server.stop().await;
}

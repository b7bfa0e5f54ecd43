//! Navigator and booking benchmark (issue #10), on SQLite and PostgreSQL.
//!
//! ```sh
//! cargo bench --bench navigator                              # both databases, 10 s each
//! cargo bench --bench navigator -- --setups sqlite --seconds 2   # smoke
//! cargo bench --bench navigator -- --setups sqlite --only bookings --seconds 30   # to profile
//! ```
//!
//! 1. `navigatorSearch` — the 20 venues nearest a point with their live status — on
//!    `vsys seed --synthetic national` (5,000 venues booking in vsys with 14 days of slots),
//!    against a bare axum handler in this process that runs the same SQL (the library's search
//!    and availability reads) and returns the same JSON. The server runs without its answer
//!    cache (`--navigator-cache-ms 0`): every request does the work. Closed loop, 16
//!    keep-alive clients, measured alternately twice; then an open loop at half the vsys rate
//!    for the p99 latency.
//! 2. Bookings: 16 call-centre clients booking distinct coupons at the demo's Yokohama
//!    Hospital 01 through `bookReservation`, counted per second.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use support::{Backend, BenchDb, ServerProcess};
use vsys::db::Db;
use vsys::graphql::ids::global_id;
use vsys::navigator::search::{self, Criteria, CriteriaInput, Point};
use vsys::reservations::availability;
use vsys::reservations::slots::japan_minute;

const CONCURRENCY: usize = 16;
const SEARCH: &str = "query($near: GeoPointInput) { navigatorSearch(near: $near, radiusKm: 10, first: 20) { venues { id name address phone distanceKm status nextFreeDate freePlaces } } }";

#[tokio::main]
async fn main() {
    let seconds: u64 = support::arg("--seconds")
        .map(|n| n.parse().expect("--seconds is a number"))
        .unwrap_or(10);
    let (setups, admin_url) = support::database_setups();
    let duration = Duration::from_secs(seconds);
    println!(
        "navigator: {CONCURRENCY} concurrent clients, {seconds} s per measurement; {}",
        support::machine()
    );
    // `--only bookings` skips the search (for profiling the booking path).
    let bookings_only = support::arg("--only").as_deref() == Some("bookings");
    let mut rows = Vec::new();
    for (name, backend) in setups {
        let search = if bookings_only {
            (f64::NAN, f64::NAN, f64::NAN, f64::NAN)
        } else {
            search_run(backend, &admin_url, duration).await
        };
        let bookings = booking_run(backend, &admin_url, duration).await;
        println!(
            "{name}: search vsys {:.0} req/s, bare {:.0} req/s, ratio {:.2}; at {:.0} req/s p50 {:.1} ms p99 {:.1} ms; bookings {:.0}/s",
            search.0,
            search.1,
            search.0 / search.1,
            search.0 / 2.0,
            search.2,
            search.3,
            bookings
        );
        rows.push((name, search, bookings));
    }
    println!();
    println!(
        "| database | search vsys req/s | bare axum req/s | ratio | p50 / p99 at half rate | bookings/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, (vsys, bare, p50, p99), bookings) in rows {
        println!(
            "| {name} | {vsys:.0} | {bare:.0} | {:.2} | {p50:.1} / {p99:.1} ms | {bookings:.0} |",
            vsys / bare
        );
    }
}

/// (vsys req/s, bare req/s, p50 ms, p99 ms at half the vsys rate).
async fn search_run(backend: Backend, admin_url: &str, duration: Duration) -> (f64, f64, f64, f64) {
    let db = BenchDb::new(backend, admin_url).await;
    let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_vsys"))
        .args(["seed", "--synthetic", "national", "--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .status()
        .expect("vsys seed runs");
    assert!(seeded.success(), "seeding failed");
    let server = ServerProcess::start(&db.url, &["--navigator-cache-ms", "0"]).await;
    let bare_db = Db::connect(&db.url).await.expect("database");
    // The point searched: a venue booking in vsys, so that statuses come from slots.
    let (latitude, longitude): (f64, f64) = sqlx::query_as(
        "SELECT latitude, longitude FROM facilities WHERE reservation_mode = 'VSYS' \
         ORDER BY organization_id LIMIT 1",
    )
    .fetch_one(bare_db.pool())
    .await
    .expect("a vsys venue");
    let variables = json!({ "near": { "latitude": latitude, "longitude": longitude } });

    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_url = format!("http://{}/graphql", bare.local_addr().unwrap());
    let app = Router::new()
        .route("/graphql", post(bare_handler))
        .with_state(bare_db);
    let bare_task = tokio::spawn(async move { axum::serve(bare, app).await });

    let client = reqwest::Client::new();
    let from_vsys = post_json(&client, &server.graphql_url(), &variables).await;
    let from_bare = post_json(&client, &bare_url, &variables).await;
    assert_eq!(
        from_vsys, from_bare,
        "the bare handler answers what vsys answers"
    );
    assert_eq!(
        from_vsys["data"]["navigatorSearch"]["venues"]
            .as_array()
            .map(Vec::len),
        Some(20),
        "{from_vsys}"
    );

    let body = json!({ "query": SEARCH, "variables": variables }).to_string();
    let (mut vsys, mut bare) = (0.0, 0.0);
    for _ in 0..2 {
        vsys += support::throughput(&server.graphql_url(), &body, CONCURRENCY, duration).await;
        bare += support::throughput(&bare_url, &body, CONCURRENCY, duration).await;
    }
    let (vsys, bare) = (vsys / 2.0, bare / 2.0);
    let (p50, p99) = latency_at(&server.graphql_url(), &body, vsys / 2.0, duration).await;
    bare_task.abort();
    server.stop().await;
    db.drop_database().await;
    (vsys, bare, p50, p99)
}

async fn post_json(client: &reqwest::Client, url: &str, variables: &Value) -> Value {
    client
        .post(url)
        .header("accept", "application/json")
        .json(&json!({ "query": SEARCH, "variables": variables }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

/// An open loop: requests sent at `rate` per second whatever the answers, for `duration`;
/// (p50, p99) of their latencies in milliseconds.
async fn latency_at(url: &str, body: &str, rate: f64, duration: Duration) -> (f64, f64) {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1.0)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut requests = Vec::new();
    while started.elapsed() < duration {
        tick.tick().await;
        let (client, url, body) = (client.clone(), url.to_owned(), body.to_owned());
        requests.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body)
                .send()
                .await
                .expect("request");
            response.bytes().await.expect("body");
            sent.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(requests.len());
    for request in requests {
        latencies.push(request.await.unwrap());
    }
    latencies.sort();
    (
        support::percentile_ms(&latencies, 50.0),
        support::percentile_ms(&latencies, 99.0),
    )
}

/// The baseline: the same search and availability reads, the same JSON, no GraphQL.
async fn bare_handler(State(db): State<Db>, body: String) -> axum::Json<Value> {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let near = &request["variables"]["near"];
    let criteria = Criteria::validate(CriteriaInput {
        near: Some(Point {
            latitude: near["latitude"].as_f64().unwrap_or_default(),
            longitude: near["longitude"].as_f64().unwrap_or_default(),
        }),
        radius_km: Some(10.0),
        first: Some(20),
        ..Default::default()
    })
    .expect("criteria");
    let mut found = search::find(&db, &criteria, &japan_minute(&db))
        .await
        .expect("search");
    found.truncate(20);
    let ids: Vec<String> = found.iter().map(|(r, _)| r.id.clone()).collect();
    let mut conn = db.pool().acquire().await.expect("connection");
    let mut statuses = availability::of_venues(&mut conn, &ids, db.now(), time::Duration::days(7))
        .await
        .expect("availability");
    let venues: Vec<Value> = found
        .into_iter()
        .filter_map(|(record, distance)| {
            let a = statuses.remove(&record.id)?;
            Some(json!({
                "id": global_id("Facility", &record.id).to_string(),
                "name": record.name,
                "address": record.address,
                "phone": record.phone,
                "distanceKm": distance.map(|d| (d * 100.0).round() / 100.0),
                "status": a.status.as_db(),
                "nextFreeDate": a.next_free_date,
                "freePlaces": a.free_places,
            }))
        })
        .collect();
    axum::Json(json!({ "data": { "navigatorSearch": { "venues": venues } } }))
}

/// Successful bookings per second: the demo's Yokohama Hospital 01 with a month of large slots,
/// booked by Yokohama's staff for distinct coupons from `CONCURRENCY` clients.
async fn booking_run(backend: Backend, admin_url: &str, duration: Duration) -> f64 {
    let db = BenchDb::new(backend, admin_url).await;
    let server = ServerProcess::start(&db.url, &["--sign-in-rate-per-account", "1000"]).await;
    let client = reqwest::Client::new();
    let url = server.graphql_url();
    let token = support::sign_in(&client, &url, &db.url, "yokohama.admin").await;
    let venue = support::graphql(
        &client,
        &url,
        None,
        "{ facilities(nameContains: \"横浜病院01\") { edges { node { id } } } }",
        json!({}),
    )
    .await["facilities"]["edges"][0]["node"]["id"]
        .clone();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = time::OffsetDateTime::now_utc().date();
    let day = |n: i64| (today + time::Duration::days(n)).format(&format).unwrap();
    support::graphql(
        &client,
        &url,
        Some(&token),
        "mutation($i: ReservationScheduleInput!) { createReservationSlots(input: $i) { created } }",
        json!({ "i": {
            "facilityId": venue, "productCode": "PFIZER", "from": day(20), "to": day(50),
            "daysOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
            "openingHours": [{ "opens": "09:00", "closes": "17:00" }],
            "slotMinutes": 60, "capacityPerSlot": 1000,
        } }),
    )
    .await;
    let slots = support::graphql(
        &client,
        &url,
        Some(&token),
        "query($f: ID, $from: String, $to: String) { availableSlots(facilityId: $f, from: $from, to: $to, first: 500) { slots { id } } }",
        json!({ "f": venue, "from": day(20), "to": day(50) }),
    )
    .await["availableSlots"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect::<Vec<_>>();
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: usize = support::arg("--booking-clients")
        .map(|n| n.parse().expect("--booking-clients N"))
        .unwrap_or(CONCURRENCY);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (url, token, venue, slots, next) = (
                url.clone(),
                token.clone(),
                venue.clone(),
                slots.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut booked = 0u64;
                while started.elapsed() < duration {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let slot = &slots[(n as usize) % slots.len()];
                    let response: Value = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("accept", "application/json")
                        .json(&json!({ "query": "mutation($i: BookReservationInput!) { bookReservation(input: $i) { id } }",
                            "variables": { "i": {
                                "facilityId": venue, "slotId": slot, "productCode": "PFIZER",
                                "couponMunicipalityCode": "141003",
                                "couponNumber": format!("{:010}", 1_000_000 + n),
                                "name": "横浜 太郎", "nameKana": "ヨコハマ タロウ",
                                "birthDate": "1950-04-01", "phone": "045-000-0000", "doseNumber": 1,
                            } } }))
                        .send()
                        .await
                        .expect("request")
                        .json()
                        .await
                        .expect("JSON");
                    assert!(
                        response["data"]["bookReservation"]["id"].is_string(),
                        "{response}"
                    );
                    booked += 1;
                }
                booked
            })
        })
        .collect();
    let mut booked = 0;
    for worker in workers {
        booked += worker.await.unwrap();
    }
    let rate = booked as f64 / started.elapsed().as_secs_f64();
    server.stop().await;
    db.drop_database().await;
    rate
}

//! Fan-out benchmark: N websocket subscribers, one change, every subscriber's receipt timed.
//! Two feeds (`--feed`):
//! - `change-requests` (default): `facilityChangeRequests`, all signed in as one municipality
//!   user (as a municipality's dashboards would be); the facility amends its change request
//!   through the API.
//! - `availability`: anonymous navigator pages on `availabilityChanged` for Yokohama; the city's
//!   staff book a place at 横浜病院01 (the demo's vsys venue) through the API. Rounds are
//!   spaced more than a second apart, the feed's coalescing interval, so every booking's
//!   update goes out at once.
//!
//! ```sh
//! cargo bench --bench fanout -- --subscribers 10000
//! cargo bench --bench fanout -- --subscribers 10000 --feed availability
//! cargo bench --bench fanout -- --subscribers 200 --setups sqlite --rounds 3   # smoke
//! ```
//!
//! Setups: `sqlite`, `postgres` (one instance), `postgres-2` (two instances on one database,
//! subscribers spread over both, mutations through the first: cross-instance delivery).
//! Latency runs from the moment the mutation is sent to the moment a subscriber has the
//! message, so it is an upper bound of commit → receipt. Memory per subscriber is the growth of
//! the servers' resident memory while the subscribers connect, divided by their number.

#[path = "support/mod.rs"]
mod support;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Backend, BenchDb, ServerProcess, graphql, percentile_ms, sign_in};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Source addresses the subscribers spread over, so that 10,000 connections per server never
/// run short of ephemeral ports.
const SOURCE_ADDRESSES: u8 = 16;
/// Connections opened at once.
const CONNECT_CONCURRENCY: usize = 256;

struct Outcome {
    setup: &'static str,
    subscribers: usize,
    rounds: usize,
    p50: f64,
    p99: f64,
    max: f64,
    lost: usize,
    bytes_per_subscriber: f64,
}

#[tokio::main]
async fn main() {
    let subscribers: usize = support::arg("--subscribers")
        .map(|n| n.parse().expect("--subscribers is a number"))
        .unwrap_or(10_000);
    let rounds: usize = support::arg("--rounds")
        .map(|n| n.parse().expect("--rounds is a number"))
        .unwrap_or(5);
    let setups = support::arg("--setups").unwrap_or_else(|| "sqlite,postgres,postgres-2".into());
    let availability = match support::arg("--feed").as_deref() {
        None | Some("change-requests") => false,
        Some("availability") => true,
        Some(other) => panic!("unknown feed {other:?} (change-requests, availability)"),
    };
    let admin_url = support::arg("--postgres-url")
        .or_else(|| std::env::var("BENCH_POSTGRES_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());

    println!(
        "fan-out ({}): {subscribers} subscribers, {rounds} events; {}",
        if availability {
            "availabilityChanged"
        } else {
            "facilityChangeRequests"
        },
        support::machine()
    );
    let mut outcomes = Vec::new();
    for setup in setups.split(',') {
        let (name, backend, instances) = match setup.trim() {
            "sqlite" => ("SQLite", Backend::Sqlite, 1),
            "postgres" => ("PostgreSQL", Backend::Postgres, 1),
            "postgres-2" => ("PostgreSQL, 2 instances", Backend::Postgres, 2),
            other => panic!("unknown setup {other:?} (sqlite, postgres, postgres-2)"),
        };
        outcomes.push(
            run(
                name,
                backend,
                instances,
                subscribers,
                rounds,
                &admin_url,
                availability,
            )
            .await,
        );
    }
    println!();
    println!(
        "| setup | subscribers | events | p50 ms | p99 ms | max ms | lost | memory per subscriber |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for o in &outcomes {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} KB |",
            o.setup,
            o.subscribers,
            o.rounds,
            o.p50,
            o.p99,
            o.max,
            o.lost,
            o.bytes_per_subscriber / 1024.0
        );
    }
    if outcomes.iter().any(|o| o.lost > 0) {
        eprintln!("events were lost");
        std::process::exit(1);
    }
}

async fn run(
    setup: &'static str,
    backend: Backend,
    instances: usize,
    subscribers: usize,
    rounds: usize,
    admin_url: &str,
    availability: bool,
) -> Outcome {
    let db = BenchDb::new(backend, admin_url).await;
    let first = ServerProcess::start(&db.url, &[]).await;
    let mut servers = vec![first];
    for _ in 1..instances {
        servers.push(ServerProcess::start(&db.url, &[]).await);
    }
    let client = reqwest::Client::new();
    let url = servers[0].graphql_url();
    let trigger = if availability {
        Trigger::booking(&client, &url, &db.url).await
    } else {
        Trigger::change_request(&client, &url, &db.url).await
    };
    let (token, subscription) = trigger.subscription();

    let memory_before: u64 = servers.iter().map(ServerProcess::resident_bytes).sum();
    let (receipts_tx, mut receipts) = mpsc::unbounded_channel::<Instant>();
    let ws_urls: Arc<Vec<String>> = Arc::new(servers.iter().map(ServerProcess::ws_url).collect());
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let connected = Arc::new(tokio::sync::Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = Vec::with_capacity(subscribers);
    let (ready_tx, mut ready) = mpsc::unbounded_channel::<()>();
    for i in 0..subscribers {
        let instance = i % instances;
        let target = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, ports[instance]));
        let source = Ipv4Addr::new(127, 0, 0, 1 + (i % SOURCE_ADDRESSES as usize) as u8);
        let (token, subscription, urls, receipts_tx, ready_tx, connected) = (
            token.clone(),
            subscription.clone(),
            ws_urls.clone(),
            receipts_tx.clone(),
            ready_tx.clone(),
            connected.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let permit = connected.acquire_owned().await.expect("semaphore");
            let mut ws = subscribe(
                &urls[instance],
                target,
                source,
                token.as_deref(),
                &subscription,
            )
            .await;
            drop(permit);
            let _ = ready_tx.send(());
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Text(text) = message {
                    let received = Instant::now();
                    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if value["type"] == "next" {
                        let _ = receipts_tx.send(received);
                    }
                }
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        ready.recv().await.expect("every subscriber connects");
    }
    // Let every subscription register before measuring; the warm-up event proves it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory_after: u64 = servers.iter().map(ServerProcess::resident_bytes).sum();

    let mut latencies = Vec::with_capacity(subscribers * rounds);
    let mut lost = 0;
    let mut previous: Option<Instant> = None;
    for round in 0..=rounds {
        // The availability feed holds a venue's updates to one a second.
        if let Some(previous) = previous.filter(|_| availability) {
            tokio::time::sleep_until((previous + Duration::from_millis(1100)).into()).await;
        }
        let sent = Instant::now();
        previous = Some(sent);
        trigger.fire(&client, &url, round).await;
        let mut received = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while received < subscribers {
            match tokio::time::timeout_at(deadline, receipts.recv()).await {
                Ok(Some(at)) => {
                    received += 1;
                    // Round 0 is the warm-up.
                    if round > 0 {
                        latencies.push(at.saturating_duration_since(sent));
                    }
                }
                _ => break,
            }
        }
        if round > 0 {
            lost += subscribers - received;
        }
    }
    for task in tasks {
        task.abort();
    }
    latencies.sort();
    let outcome = Outcome {
        setup,
        subscribers,
        rounds,
        p50: percentile_ms(&latencies, 50.0),
        p99: percentile_ms(&latencies, 99.0),
        max: latencies
            .last()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        lost,
        bytes_per_subscriber: memory_after.saturating_sub(memory_before) as f64
            / subscribers as f64,
    };
    println!(
        "{setup}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, lost {}, {:.1} KB per subscriber",
        outcome.p50,
        outcome.p99,
        outcome.max,
        outcome.lost,
        outcome.bytes_per_subscriber / 1024.0
    );
    for server in servers {
        server.stop().await;
    }
    db.drop_database().await;
    outcome
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// What changes each round, and who is told.
enum Trigger {
    /// The hospital amends its change request; Meguro's staff subscribe.
    ChangeRequest {
        municipality: String,
        hospital: String,
        facility: String,
    },
    /// Yokohama's staff book a place at 横浜病院01; anonymous pages subscribe.
    Booking {
        staff: String,
        venue: Value,
        slots: Vec<Value>,
        yokohama: String,
    },
}

impl Trigger {
    async fn change_request(client: &reqwest::Client, url: &str, database_url: &str) -> Trigger {
        let municipality = sign_in(client, url, database_url, "meguro.admin").await;
        let hospital = sign_in(client, url, database_url, "meguro-hospital.admin").await;
        graphql(
            client,
            url,
            Some(&hospital),
            "mutation { acceptPrivacyPolicy { id } }",
            json!({}),
        )
        .await;
        let facility = graphql(
            client,
            url,
            None,
            "{ facilities(nameContains: \"Meguro Hospital 01\") { edges { node { id } } } }",
            json!({}),
        )
        .await["facilities"]["edges"][0]["node"]["id"]
            .as_str()
            .expect("the demo hospital")
            .to_owned();
        Trigger::ChangeRequest {
            municipality,
            hospital,
            facility,
        }
    }

    async fn booking(client: &reqwest::Client, url: &str, database_url: &str) -> Trigger {
        let staff = sign_in(client, url, database_url, "yokohama.admin").await;
        let venue = graphql(
            client,
            url,
            None,
            "{ facilities(nameContains: \"横浜病院01\") { edges { node { id } } } }",
            json!({}),
        )
        .await["facilities"]["edges"][0]["node"]["id"]
            .clone();
        let slots = graphql(
            client,
            url,
            None,
            "query($f: ID) { availableSlots(facilityId: $f, first: 100) { slots { id } } }",
            json!({ "f": venue }),
        )
        .await["availableSlots"]["slots"]
            .as_array()
            .expect("the demo's slots")
            .iter()
            .map(|s| s["id"].clone())
            .collect();
        let yokohama = graphql(
            client,
            url,
            None,
            "{ municipality(code: \"141003\") { id } }",
            json!({}),
        )
        .await["municipality"]["id"]
            .as_str()
            .expect("Yokohama")
            .to_owned();
        Trigger::Booking {
            staff,
            venue,
            slots,
            yokohama,
        }
    }

    /// The token subscribers sign in with (none: anonymous) and their subscription.
    fn subscription(&self) -> (Option<String>, String) {
        match self {
            Trigger::ChangeRequest { municipality, .. } => (
                Some(municipality.clone()),
                "subscription { facilityChangeRequests { id status } }".into(),
            ),
            Trigger::Booking { yokohama, .. } => (
                None,
                format!(
                    "subscription {{ availabilityChanged(municipalityId: \"{yokohama}\") {{ name status freePlaces }} }}"
                ),
            ),
        }
    }

    async fn fire(&self, client: &reqwest::Client, url: &str, round: usize) {
        match self {
            Trigger::ChangeRequest {
                hospital, facility, ..
            } => {
                graphql(
                    client,
                    url,
                    Some(hospital),
                    "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) { changeRequest { id } } }",
                    json!({ "f": facility, "i": { "representativeName": format!("院長 {round}") } }),
                )
                .await;
            }
            Trigger::Booking {
                staff,
                venue,
                slots,
                ..
            } => {
                graphql(
                    client,
                    url,
                    Some(staff),
                    "mutation($i: BookReservationInput!) { bookReservation(input: $i) { id } }",
                    json!({ "i": {
                        "facilityId": venue, "slotId": slots[round % slots.len()],
                        "productCode": "PFIZER", "couponMunicipalityCode": "141003",
                        "couponNumber": format!("{:010}", 7_000_000 + round),
                        "name": "横浜 太郎", "nameKana": "ヨコハマ タロウ", "birthDate": "1950-04-01",
                        "phone": "045-000-0000", "doseNumber": 1,
                    } }),
                )
                .await;
            }
        }
    }
}

/// Connects from `source`, signs in through `connection_init` (when given a token),
/// subscribes.
async fn subscribe(
    url: &str,
    target: SocketAddr,
    source: Ipv4Addr,
    token: Option<&str>,
    subscription: &str,
) -> Socket {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))
        .expect("bind a loopback source address");
    let stream = socket.connect(target).await.expect("connect");
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("websocket handshake");
    let init = match token {
        Some(token) => {
            json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })
        }
        None => json!({ "type": "connection_init" }),
    };
    ws.send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(_)) => continue,
            other => panic!("no connection_ack: {other:?}"),
        }
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": subscription } });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .expect("subscribe");
    ws
}

//! Fan-out benchmark: N websocket subscribers on `facilityChangeRequests` (one municipality
//! user, as a municipality's dashboards would be), the facility amends its change request
//! through the API, and every subscriber's receipt is timed.
//!
//! ```sh
//! cargo bench --bench fanout -- --subscribers 10000
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
    let admin_url = support::arg("--postgres-url")
        .or_else(|| std::env::var("BENCH_POSTGRES_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());

    println!(
        "fan-out: {subscribers} subscribers, {rounds} events; {}",
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
        outcomes.push(run(name, backend, instances, subscribers, rounds, &admin_url).await);
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
) -> Outcome {
    let db = BenchDb::new(backend, admin_url).await;
    let first = ServerProcess::start(&db.url, &[]).await;
    let mut servers = vec![first];
    for _ in 1..instances {
        servers.push(ServerProcess::start(&db.url, &[]).await);
    }
    let client = reqwest::Client::new();
    let url = servers[0].graphql_url();
    let municipality = sign_in(&client, &url, &db.url, "meguro.admin").await;
    let hospital = sign_in(&client, &url, &db.url, "meguro-hospital.admin").await;
    graphql(
        &client,
        &url,
        Some(&hospital),
        "mutation { acceptPrivacyPolicy { id } }",
        json!({}),
    )
    .await;
    let facility = graphql(
        &client,
        &url,
        None,
        "{ facilities(nameContains: \"Meguro Hospital 01\") { edges { node { id } } } }",
        json!({}),
    )
    .await["facilities"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("the demo hospital")
        .to_owned();

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
        let (token, urls, receipts_tx, ready_tx, connected) = (
            municipality.clone(),
            ws_urls.clone(),
            receipts_tx.clone(),
            ready_tx.clone(),
            connected.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let permit = connected.acquire_owned().await.expect("semaphore");
            let mut ws = subscribe(&urls[instance], target, source, &token).await;
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

    let amend = "mutation($f: ID!, $i: UpdateFacilityInput!) { updateFacility(facilityId: $f, input: $i) { changeRequest { id } } }";
    let mut latencies = Vec::with_capacity(subscribers * rounds);
    let mut lost = 0;
    for round in 0..=rounds {
        let sent = Instant::now();
        graphql(
            &client,
            &url,
            Some(&hospital),
            amend,
            json!({ "f": facility, "i": { "representativeName": format!("院長 {round}") } }),
        )
        .await;
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

/// Connects from `source`, signs in through `connection_init`, subscribes.
async fn subscribe(url: &str, target: SocketAddr, source: Ipv4Addr, token: &str) -> Socket {
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
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
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
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription { facilityChangeRequests { id status } }" } });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .expect("subscribe");
    ws
}

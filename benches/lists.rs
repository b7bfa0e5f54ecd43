//! List benchmark: the GraphQL server against a bare axum handler that runs the same SQL and
//! returns the same JSON, side by side in one run, on SQLite and PostgreSQL, on the national
//! synthetic data (`vsys seed --synthetic national`).
//!
//! ```sh
//! cargo bench --bench lists                         # both databases, 10 s per measurement
//! cargo bench --bench lists -- --setups sqlite --seconds 2   # smoke
//! ```
//!
//! Two workloads: the first page of 100 facilities of Tokyo with their municipality and
//! prefecture names (the page and one prefetch of the areas: the same two statements in both),
//! and `{ __typename }` (no SQL: the cost of the GraphQL layer itself). The bare handler runs
//! in the benchmark's process, the server in its own; the load generator (concurrent
//! keep-alive clients) is the same for both, and the two are measured alternately twice.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use support::{Backend, BenchDb, ServerProcess};
use vsys::db::Db;
use vsys::graphql::ids::global_id;
use vsys::graphql::pagination::PageRequest;
use vsys::organizations::OrganizationKind;
use vsys::organizations::store::{self, OrganizationFilter};

const FACILITIES: &str = "{ facilities(prefectureCode: \"13\", first: 100) { edges { node { id code name municipality { name } prefecture { name } } } pageInfo { hasNextPage endCursor } } }";
const TYPENAME: &str = "{ __typename }";
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() {
    let seconds: u64 = support::arg("--seconds")
        .map(|n| n.parse().expect("--seconds is a number"))
        .unwrap_or(10);
    let (setups, admin_url) = support::database_setups();
    let duration = Duration::from_secs(seconds);
    println!(
        "lists: {CONCURRENCY} concurrent clients, {seconds} s per measurement; {}",
        support::machine()
    );
    let mut rows = Vec::new();
    for (name, backend) in setups {
        rows.extend(run(name, backend, &admin_url, duration).await);
    }
    println!();
    println!("| database | request | vsys req/s | bare axum req/s | ratio |");
    println!("|---|---|---:|---:|---:|");
    for (setup, workload, vsys, bare) in rows {
        println!(
            "| {setup} | {workload} | {vsys:.0} | {bare:.0} | {:.2} |",
            vsys / bare
        );
    }
}

async fn run(
    setup: &'static str,
    backend: Backend,
    admin_url: &str,
    duration: Duration,
) -> Vec<(&'static str, &'static str, f64, f64)> {
    let db = BenchDb::new(backend, admin_url).await;
    let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_vsys"))
        .args(["seed", "--synthetic", "national", "--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .status()
        .expect("vsys seed runs");
    assert!(seeded.success(), "seeding failed");
    let server = ServerProcess::start(&db.url, &[]).await;

    let bare_db = Db::connect(&db.url).await.expect("database");
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_url = format!("http://{}/graphql", bare.local_addr().unwrap());
    let app = Router::new()
        .route("/graphql", post(bare_handler))
        .with_state(bare_db);
    let bare_task = tokio::spawn(async move { axum::serve(bare, app).await });

    // Both answer the same JSON before anything is timed.
    let client = reqwest::Client::new();
    for query in [FACILITIES, TYPENAME] {
        let from_vsys = post_json(&client, &server.graphql_url(), query).await;
        let from_bare = post_json(&client, &bare_url, query).await;
        assert_eq!(
            from_vsys, from_bare,
            "the bare handler answers what vsys answers"
        );
    }

    let mut rows = Vec::new();
    for (workload, query) in [
        ("100 facilities of Tokyo", FACILITIES),
        ("{ __typename }", TYPENAME),
    ] {
        let mut vsys = 0.0;
        let mut bare = 0.0;
        for _ in 0..2 {
            vsys += support::throughput(
                &server.graphql_url(),
                &json!({ "query": query }).to_string(),
                CONCURRENCY,
                duration,
            )
            .await;
            bare += support::throughput(
                &bare_url,
                &json!({ "query": query }).to_string(),
                CONCURRENCY,
                duration,
            )
            .await;
        }
        println!(
            "{setup}, {workload}: vsys {:.0} req/s, bare axum {:.0} req/s, ratio {:.2}",
            vsys / 2.0,
            bare / 2.0,
            vsys / bare
        );
        rows.push((setup, workload, vsys / 2.0, bare / 2.0));
    }
    bare_task.abort();
    server.stop().await;
    db.drop_database().await;
    rows
}

async fn post_json(client: &reqwest::Client, url: &str, query: &str) -> Value {
    client
        .post(url)
        .header("accept", "application/json")
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

/// The baseline: what a hand-written handler does for the same two requests — the same
/// statements (the page, then one look-up of its areas), the same JSON, no GraphQL.
async fn bare_handler(State(db): State<Db>, body: String) -> axum::Json<Value> {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if request["query"] == TYPENAME {
        return axum::Json(json!({ "data": { "__typename": "Query" } }));
    }
    let filter = OrganizationFilter {
        kinds: vec![OrganizationKind::Facility],
        prefecture_code: Some("13".into()),
        ..Default::default()
    };
    let page = PageRequest::parse("organizations:FACILITY", Some(100), None, 2).expect("page");
    let mut rows = store::list(&db, &filter, &page).await.expect("page");
    let has_next = rows.len() > 100;
    rows.truncate(100);
    let mut areas: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.municipality_id.clone(), r.prefecture_id.clone()])
        .flatten()
        .collect();
    areas.sort();
    areas.dedup();
    let areas = store::load_by_ids(&db, &areas).await.expect("areas");
    let name_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| areas.get(id))
            .map(|a| a.name.clone())
    };
    let edges: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "node": {
                "id": global_id("Facility", &r.id).to_string(),
                "code": r.code,
                "name": r.name,
                "municipality": { "name": name_of(&r.municipality_id) },
                "prefecture": { "name": name_of(&r.prefecture_id) },
            } })
        })
        .collect();
    let end_cursor = rows.last().map(|r| page.cursor(&[r.kind.as_db(), &r.code]));
    axum::Json(json!({ "data": { "facilities": {
        "edges": edges,
        "pageInfo": { "hasNextPage": has_next, "endCursor": end_cursor },
    } } }))
}

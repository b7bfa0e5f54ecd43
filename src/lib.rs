//! vsys: an open re-implementation of Japan's V-SYS — how many vaccines, needles and syringes
//! go where, what was delivered and administered, and where the public can book — as a GraphQL
//! server with realtime subscriptions.
//!
//! Folders follow the product's areas: `organizations` (the hierarchy), `events` (the outbox
//! and realtime delivery); `graphql`, `http` and `db` are the shared machinery.

pub mod actor;
pub mod allocation;
pub mod audit;
pub mod authz;
pub mod billing;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod delivery;
pub mod documents;
pub mod error;
pub mod events;
pub mod facilities;
pub mod graphql;
pub mod http;
pub mod identity;
pub mod jobs;
pub mod knowledge;
pub mod mail;
pub mod navigator;
pub mod notices;
pub mod organizations;
pub mod reports;
pub mod reservations;
pub mod residents;
pub mod schema;
pub mod seed;
pub mod server;
pub mod statistics;

/// Logs to stderr: human-readable by default, JSON lines with `VSYS_LOG_FORMAT=json`; the level
/// comes from `RUST_LOG` (default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("VSYS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

//! HTTP surface: GraphQL over HTTP and WebSocket on `/graphql`, GraphiQL on `/`, the
//! account pages (`/setup`, `/reset`), health probes.

mod downloads;
mod graphql_http;
mod health;
mod open_data;
mod pages;
mod playground;
mod smart;
mod web;
mod websocket;

pub use websocket::SessionWatch;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::HttpArgs;
use crate::db::Db;
use crate::events::Events;
use crate::identity::Identity;
use crate::schema::AppSchema;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub events: Arc<Events>,
    pub identity: Arc<Identity>,
    /// The job runner (mail; tests drain the queue themselves).
    pub jobs: Arc<crate::jobs::JobRunner>,
    /// Checks the signed links of generated files.
    pub downloads: Arc<crate::documents::files::LinkSigner>,
    /// Where generated files are kept.
    pub files: Arc<dyn crate::documents::files::FileStore>,
    pub schema: AppSchema,
    pub http: Arc<HttpArgs>,
    /// Requests per minute per IP address from callers who are not signed in.
    pub public_limiter: Arc<crate::graphql::rate_limit::RateLimiter>,
    /// Which signed-in websockets' sessions have ended (one watcher per instance).
    pub sessions: websocket::SessionWatch,
    /// Anonymous subscriptions, one execution per distinct request.
    pub shared_subscriptions: Arc<websocket::SharedExecutions>,
    /// Flips to true when the server is shutting down; open websockets close on it.
    pub shutdown: watch::Receiver<bool>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as a router, so tests can drive it without a socket too.
pub fn router(state: AppState) -> Router {
    let body_limit = state.http.body_limit;
    Router::new()
        .route(
            "/graphql",
            get(graphql_http::get_or_upgrade)
                .post(graphql_http::post)
                .fallback(graphql_http::method_not_allowed),
        )
        .route("/", get(web::graphiql))
        .route("/playground/operations", get(playground::operations))
        .route("/setup", get(pages::setup))
        .route("/reset", get(pages::reset))
        .route("/account/account.js", get(pages::script))
        .route("/account/account.css", get(pages::style))
        .route("/navi", get(web::navi))
        .route("/navi/config.json", get(web::page_config))
        .route("/app", get(web::app))
        .route("/app/config.json", get(web::page_config))
        .route("/web/{*path}", get(web::file))
        .route("/assets/fonts/fonts.css", get(web::font_faces))
        .route("/assets/fonts/{file}", get(web::font))
        .route("/healthz", get(health::healthz))
        .route("/files/{id}", get(downloads::file))
        .route("/smart/$bulk-publish", get(smart::manifest))
        .route("/smart/locations.ndjson", get(smart::locations))
        .route("/smart/schedules.ndjson", get(smart::schedules))
        .route("/smart/slots/{file}", get(smart::slots))
        .route(
            "/open-data/vaccinations.csv",
            get(open_data::vaccinations_csv),
        )
        .route(
            "/open-data/vaccinations.ndjson",
            get(open_data::vaccinations_ndjson),
        )
        .route("/readyz", get(health::readyz))
        .with_state(state)
        // The GraphQL handler enforces the limit itself to answer in its own format; this is
        // the outer guard for everything else.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(graphql_http::panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// How long a websocket keeps running after shutdown starts, at most.
pub const WEBSOCKET_CLOSE_GRACE: Duration = Duration::from_secs(2);

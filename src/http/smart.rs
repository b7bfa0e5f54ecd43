//! SMART Scheduling Links (`/smart/$bulk-publish` and the NDJSON files it lists): the
//! navigator's availability for third-party aggregators, without signing in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::AppResult;
use crate::navigator::smart;

fn base(state: &AppState) -> String {
    state
        .identity
        .config
        .public_url
        .trim_end_matches('/')
        .to_owned()
}

fn ndjson(result: AppResult<Vec<u8>>) -> Response {
    match result {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/fhir+ndjson"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            );
            response
        }
        Err(error) => failed(error),
    }
}

fn failed(error: crate::error::AppError) -> Response {
    tracing::error!(?error, "SMART Scheduling Links failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

pub async fn manifest(State(state): State<AppState>) -> Response {
    match smart::manifest(&state.db, &base(&state)).await {
        Ok(manifest) => Json(manifest).into_response(),
        Err(error) => failed(error),
    }
}

pub async fn locations(State(state): State<AppState>) -> Response {
    ndjson(smart::locations(&state.db).await)
}

pub async fn schedules(State(state): State<AppState>) -> Response {
    ndjson(smart::schedules(&state.db).await)
}

/// `/smart/slots/{prefecture code}.ndjson`.
pub async fn slots(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let code = file.strip_suffix(".ndjson").unwrap_or_default();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match smart::slots(&state.db, code).await {
        Ok(Some(body)) => ndjson(Ok(body)),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(error) => failed(error),
    }
}

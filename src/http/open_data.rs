//! `GET /open-data/vaccinations.csv` and `/open-data/vaccinations.ndjson`: the public
//! statistics as files anyone may download and build on.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::statistics::open_data;

async fn file(
    state: &AppState,
    content_type: &'static str,
    render: fn(&[open_data::Row]) -> crate::error::AppResult<Vec<u8>>,
) -> Response {
    match open_data::rows(&state.db)
        .await
        .and_then(|rows| render(&rows))
    {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            );
            response
        }
        Err(error) => {
            tracing::error!(?error, "open data failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub async fn vaccinations_csv(State(state): State<AppState>) -> Response {
    file(&state, "text/csv; charset=utf-8", open_data::csv).await
}

pub async fn vaccinations_ndjson(State(state): State<AppState>) -> Response {
    file(&state, "application/x-ndjson", open_data::ndjson).await
}

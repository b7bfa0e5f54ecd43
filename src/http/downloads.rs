//! `GET /files/{id}?expires=…&signature=…`: a generated file, through the signed link that a
//! job's e-mail or `documentJobs` gave out. No sign-in: the signature is the permission, and it
//! names one file until one instant.
//!
//! Answers: 200 with the file; 403 for a link this deployment did not sign (or that was
//! altered); 410 for a link whose time is over; 404 for a file that no longer exists. Errors
//! are JSON with a stable `code`, as the API's are.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::documents::files::LinkRefusal;

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: Option<i64>,
    signature: Option<String>,
    /// `1`: open in the browser (preview) instead of saving.
    inline: Option<u8>,
}

/// Types a browser may show in place: none of them runs script.
const PREVIEWABLE: &[&str] = &[
    "application/pdf",
    "video/mp4",
    "video/webm",
    "image/png",
    "image/jpeg",
];

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

pub async fn file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Response {
    let (Some(expires), Some(signature)) = (link.expires, link.signature) else {
        return refusal(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this link is incomplete / リンクが不完全です",
        );
    };
    match state
        .downloads
        .check(&id, expires, &signature, state.db.now())
    {
        Ok(()) => {}
        Err(LinkRefusal::Forged) => {
            return refusal(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "this link is not valid / このリンクは無効です",
            );
        }
        Err(LinkRefusal::Expired) => {
            return refusal(
                StatusCode::GONE,
                "LINK_EXPIRED",
                "this link has expired: sign in to V-SYS for a new one / リンクの有効期限が切れています。V-SYS にログインして再取得してください",
            );
        }
    }
    match state.files.get(&state.db, &id).await {
        Ok(Some((info, content))) => {
            let mut response = (StatusCode::OK, content).into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&info.content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            // The name is ASCII by construction; quoted as RFC 6266 asks.
            let inline =
                link.inline == Some(1) && PREVIEWABLE.contains(&info.content_type.as_str());
            let disposition = format!(
                "{}; filename=\"{}\"",
                if inline { "inline" } else { "attachment" },
                info.file_name.replace(['"', '\\'], "_")
            );
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Ok(None) => refusal(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "this file no longer exists / ファイルが見つかりません",
        ),
        Err(error) => {
            tracing::error!(?error, file = %id, "reading a generated file failed");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "the file cannot be read now; try again later",
            )
        }
    }
}

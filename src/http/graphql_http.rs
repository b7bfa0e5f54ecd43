//! GraphQL over HTTP, as the GraphQL-over-HTTP specification asks: POST and GET, media types
//! negotiated by `Accept`, mutations refused over GET (405), bodies that are not JSON refused
//! (415), oversized bodies refused (413), batches refused (400), and status codes that tell a
//! request error (400 under `application/graphql-response+json`) from an execution result.

use std::any::Any;

use async_graphql::ServerError;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::websocket;
use crate::audit::RequestMeta;
use crate::error::{AppError, code};
use crate::graphql::{RequestParams, is_request_error};
use crate::identity::Actor;
use crate::organizations::OrganizationLoader;
use crate::schema::execution;
use axum::extract::ConnectInfo;
use std::net::SocketAddr;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const APPLICATION_JSON: &str = "application/json";

/// The media type of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    /// `application/graphql-response+json`: request errors get 4xx.
    GraphqlResponse,
    /// `application/json` (legacy clients): everything GraphQL answers is 200.
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// `GET /graphql`: a websocket upgrade, or a query in the URL.
pub async fn get_or_upgrade(State(state): State<AppState>, request: Request) -> Response {
    if is_websocket_upgrade(request.headers()) {
        let (mut parts, _) = request.into_parts();
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(upgrade) => {
                let ip = parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(addr)| addr.ip().to_string());
                websocket::upgrade(state, &parts.headers, ip, upgrade)
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let Some(media) = negotiate(request.headers()) else {
        return not_acceptable();
    };
    let caller = match Caller::identify(&state, request.headers(), client_ip(&request)).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let params = match RequestParams::from_query_string(request.uri().query().unwrap_or_default()) {
        Ok(params) => params,
        Err(message) => return request_error(media, StatusCode::BAD_REQUEST, &message),
    };
    // Mutations change state, and GET must be safe (and immune to cross-site forgery by link).
    if let Ok(document) = async_graphql::parser::parse_query(&params.query) {
        let operation_type = match &params.operation_name {
            Some(name) => document
                .operations
                .iter()
                .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str()))
                .map(|(_, op)| op.node.ty),
            None => document.operations.iter().next().map(|(_, op)| op.node.ty),
        };
        if operation_type == Some(OperationType::Mutation) {
            let mut response = request_error(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                "mutations must be sent with POST",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
    }
    execute(&state, media, params.into_request(), caller).await
}

/// `POST /graphql`: a JSON body with `query`, `variables`, `operationName`, `extensions`.
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let Some(media) = negotiate(request.headers()) else {
        return not_acceptable();
    };
    if is_multipart(request.headers()) {
        return post_multipart(state, media, request).await;
    }
    if let Err(message) = check_content_type(request.headers()) {
        return request_error(media, StatusCode::UNSUPPORTED_MEDIA_TYPE, &message);
    }
    let caller = match Caller::identify(&state, request.headers(), client_ip(&request)).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let body = match axum::body::to_bytes(request.into_body(), state.http.body_limit).await {
        Ok(body) => body,
        Err(_) => {
            return request_error(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than {} bytes",
                    state.http.body_limit
                ),
            );
        }
    };
    let params = match params_from_body(&body) {
        Ok(params) => params,
        Err(message) => return request_error(media, StatusCode::BAD_REQUEST, &message),
    };
    execute(&state, media, params.into_request(), caller).await
}

/// The header a multipart request must carry. A browser sends a custom header cross-site only
/// after a CORS preflight, which this server does not grant, so a form on another site cannot
/// post an upload in a signed-in user's name.
pub const PREFLIGHT_HEADER: &str = "apollo-require-preflight";
/// Files in one multipart request.
const MAX_UPLOADS: usize = 4;

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `POST /graphql` with `multipart/form-data`: the GraphQL multipart request specification
/// (an `operations` part, a `map` part, then the files), for uploads such as CSV imports.
async fn post_multipart(state: AppState, media: MediaType, request: Request) -> Response {
    if request
        .headers()
        .get(PREFLIGHT_HEADER)
        .is_none_or(|v| v.as_bytes().is_empty())
    {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "a multipart request must carry the Apollo-Require-Preflight header / \
             ファイルの送信には Apollo-Require-Preflight ヘッダーが必要です",
        );
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let caller = match Caller::identify(&state, request.headers(), client_ip(&request)).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let limit = state.http.upload_limit;
    let Ok(body) = axum::body::to_bytes(request.into_body(), limit).await else {
        return request_error(
            media,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the upload is larger than {limit} bytes / ファイルが大きすぎます（上限 {} MB）",
                limit / (1024 * 1024)
            ),
        );
    };
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(limit)
        .max_num_files(MAX_UPLOADS);
    let parsed = async_graphql::http::receive_batch_body(
        Some(content_type),
        futures_util::io::Cursor::new(body),
        options,
    )
    .await;
    match parsed {
        Ok(async_graphql::BatchRequest::Single(request)) => {
            execute(&state, media, request, caller).await
        }
        Ok(async_graphql::BatchRequest::Batch(_)) => request_error(
            media,
            StatusCode::BAD_REQUEST,
            "batched operations are not supported; send one operation per request",
        ),
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => request_error(
            media,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("a file is larger than {limit} bytes / ファイルが大きすぎます"),
        ),
        Err(error) => {
            tracing::debug!(%error, "a multipart request could not be read");
            let message = match error {
                // May name temporary files: logged, not returned.
                async_graphql::ParseRequestError::Io(_) => {
                    "the multipart request could not be read".to_owned()
                }
                other => format!("the multipart request could not be read: {other}"),
            };
            request_error(media, StatusCode::BAD_REQUEST, &message)
        }
    }
}

/// Any other method on `/graphql`.
pub async fn method_not_allowed() -> Response {
    let mut response = request_error(
        MediaType::Json,
        StatusCode::METHOD_NOT_ALLOWED,
        "use GET or POST",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// A panic anywhere becomes a 500 with the `INTERNAL` code, never a dropped connection.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = detail, "handler panicked");
    let mut response = error_body(MediaType::Json, "internal error", code::INTERNAL);
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

fn client_ip(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Who is calling: the signed-in actor (from `Authorization: Bearer`), and where from.
struct Caller {
    actor: Option<Actor>,
    meta: RequestMeta,
}

impl Caller {
    /// A token that does not resolve to a live session is refused outright (401) rather than
    /// served as anonymous, so a client learns at once that it must sign in again.
    async fn identify(
        state: &AppState,
        headers: &HeaderMap,
        ip: Option<String>,
    ) -> Result<Caller, Response> {
        let meta = RequestMeta {
            ip,
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            idempotency_key: headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned()),
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Ok(Caller { actor: None, meta });
        };
        match state.identity.authenticate(token, true, &meta).await {
            Ok(actor) => Ok(Caller {
                actor: Some(actor),
                meta,
            }),
            Err(error) => {
                if !matches!(error, AppError::Unauthenticated) {
                    tracing::error!(?error, "session check failed");
                }
                let mut response = error_body(
                    MediaType::Json,
                    "the session is invalid or has expired: sign in again / セッションが無効か期限切れです。再度ログインしてください",
                    code::UNAUTHENTICATED,
                );
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                Err(response)
            }
        }
    }
}

async fn execute(
    state: &AppState,
    media: MediaType,
    request: async_graphql::Request,
    caller: Caller,
) -> Response {
    // Anonymous traffic (the navigator's) is limited per IP address; signed-in users have
    // their own sessions' limits.
    let anonymous = caller.actor.is_none();
    if anonymous
        && state
            .public_limiter
            .hit(caller.meta.ip.clone().unwrap_or_default())
            .is_err()
    {
        let mut response = error_body(
            media,
            "too many requests from this address: wait a minute / アクセスが集中しています。しばらくしてから再度お試しください",
            code::RATE_LIMITED,
        );
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return response;
    }
    let request = request
        .data(OrganizationLoader::per_request(state.db.clone()))
        .data(caller.meta);
    let request = match &caller.actor {
        Some(actor) => request.data(actor.clone()),
        None => request,
    };
    let response = execution::execute(&state.schema, request, caller.actor.as_ref()).await;
    // Serialised straight from async-graphql's values: no intermediate `serde_json::Value`
    // tree (the profile showed the copy and its allocations on every request).
    let request_error = is_request_error(&response) && media == MediaType::GraphqlResponse;
    let (status, body) = if request_error {
        (
            StatusCode::BAD_REQUEST,
            serde_json::to_vec(&ResponseBody {
                data: None,
                errors: Some(&response.errors),
                extensions: None,
            }),
        )
    } else {
        (
            StatusCode::OK,
            serde_json::to_vec(&ResponseBody {
                data: Some(&response.data),
                errors: (!response.errors.is_empty()).then_some(&response.errors[..]),
                extensions: (!response.extensions.is_empty()).then_some(&response.extensions),
            }),
        )
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(?error, "response serialisation failed");
            return error_body(media, "internal error", code::INTERNAL);
        }
    };
    if anonymous && body.len() > state.http.public_response_limit {
        return error_body(
            media,
            &format!(
                "the answer is larger than {} bytes: ask for less (fewer fields, a smaller first) / 応答が大きすぎます。取得件数を減らしてください",
                state.http.public_response_limit
            ),
            code::RESPONSE_TOO_LARGE,
        );
    }
    let mut http = bytes_response(media, status, body);
    for (name, value) in response.http_headers.iter() {
        http.headers_mut().insert(name, value.clone());
    }
    http
}

/// Picks the response media type from `Accept`. No header means `application/json`, as the
/// specification asks for clients older than it.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Some(MediaType::Json);
    };
    let accept = accept.to_str().unwrap_or_default();
    let mut best: Option<(f32, MediaType)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let candidate = match media_type.as_str() {
            GRAPHQL_RESPONSE_JSON => MediaType::GraphqlResponse,
            APPLICATION_JSON | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        // On equal quality the first listed wins, as clients list their preference first.
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, media)| media)
}

fn not_acceptable() -> Response {
    request_error(
        MediaType::Json,
        StatusCode::NOT_ACCEPTABLE,
        "acceptable media types are application/graphql-response+json and application/json",
    )
}

/// Only JSON in UTF-8: a form or `text/plain` body could be sent cross-site without a CORS
/// preflight, so refusing it is what keeps mutations safe from request forgery.
fn check_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("a Content-Type of application/json is required".into());
    };
    let value = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    if parts.next() != Some(APPLICATION_JSON) {
        return Err(format!(
            "unsupported Content-Type {value:?}; send application/json"
        ));
    }
    for parameter in parts {
        if let Some(charset) = parameter.strip_prefix("charset=") {
            let charset = charset.trim_matches('"');
            if charset != "utf-8" && charset != "utf8" {
                return Err(format!("unsupported charset {charset:?}; send utf-8"));
            }
        }
    }
    Ok(())
}

fn params_from_body(body: &Bytes) -> Result<RequestParams, String> {
    if body.is_empty() {
        return Err("the request body is empty".into());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    RequestParams::from_json(value)
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// An error before execution, in the GraphQL response shape, with a code.
fn request_error(media: MediaType, status: StatusCode, message: &str) -> Response {
    let mut response = error_body(media, message, code::INVALID_INPUT);
    *response.status_mut() = status;
    response
}

fn error_body(media: MediaType, message: &str, error_code: &str) -> Response {
    let error = ServerError {
        message: message.to_owned(),
        source: None,
        locations: Vec::new(),
        path: Vec::new(),
        extensions: None,
    };
    let mut error = json!(error);
    error["extensions"] = json!({ "code": error_code });
    json_response(media, StatusCode::OK, &json!({ "errors": [error] }))
}

/// The GraphQL response: `data` (when anything was executed), `errors` and `extensions` only
/// when present, in the order the specification shows.
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [ServerError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<&'a std::collections::BTreeMap<String, async_graphql::Value>>,
}

fn json_response(media: MediaType, status: StatusCode, body: &Value) -> Response {
    bytes_response(media, status, body.to_string().into_bytes())
}

fn bytes_response(media: MediaType, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    // Answers may hold personal data once identity lands; no shared cache may keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_header_picks_the_preferred_acceptable_type() {
        assert_eq!(negotiate(&HeaderMap::new()).unwrap(), MediaType::Json);
        assert_eq!(negotiate(&accept("*/*")).unwrap(), MediaType::Json);
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json, application/json;q=0.9"
            ))
            .unwrap(),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            ))
            .unwrap(),
            MediaType::Json
        );
        assert!(negotiate(&accept("text/html")).is_none());
    }

    #[test]
    fn only_utf8_json_bodies_are_accepted() {
        let mut headers = HeaderMap::new();
        assert!(check_content_type(&headers).is_err());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(check_content_type(&headers).is_ok());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(check_content_type(&headers).is_err());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=latin1"),
        );
        assert!(check_content_type(&headers).is_err());
    }

    #[test]
    fn body_parameters_must_have_their_types() {
        assert!(params_from_body(&Bytes::from_static(br#"{"query":"{a}"}"#)).is_ok());
        for bad in [
            &br#"[{"query":"{a}"}]"#[..],
            br#"{"query":1}"#,
            br#"{"notquery":"{a}"}"#,
            br#"{"query":"{a}","variables":"x"}"#,
            br#"{"query":"{a}","operationName":0}"#,
            br#"{"query":"{a}","extensions":[1]}"#,
            br#"{ "not json"#,
            b"",
        ] {
            assert!(params_from_body(&Bytes::copy_from_slice(bad)).is_err());
        }
    }
}

//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` (with the graphql-ws library's
//! close codes) and the legacy `graphql-ws` subprotocol. Credentials come in
//! `connection_init`, because browsers cannot set headers on a websocket.

mod protocol;
mod sessions;
mod shared;

pub use sessions::SessionWatch;
pub use shared::SharedExecutions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::AppState;
use crate::audit::RequestMeta;
use crate::graphql::{RequestParams, is_request_error};
use crate::identity::Actor;
use crate::schema::execution;
use protocol::{ClientMessage, Protocol, ServerMessage, decode, encode};
use shared::{Lagged, SharedResult};

/// Close codes of the graphql-ws protocol.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    /// RFC 6455: the client broke a policy (here: it sent messages faster than allowed).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// RFC 6455: a message was larger than the server accepts.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INIT: u16 = 4429;
}

/// Most operations one connection may run at once.
const MAX_OPERATIONS_PER_CONNECTION: usize = 100;
/// How often the legacy protocol's keep-alive is sent.
const LEGACY_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Read chunk of a connection. GraphQL messages from clients are small (a subscribe
/// of a few hundred bytes, pings); the library's default of 128 KiB per connection is what made
/// 10,000 idle subscribers cost 1.5 GB. A larger message grows the buffer as needed.
const READ_BUFFER: usize = 1024;
/// Outgoing messages are written at once (each is flushed anyway), so no write buffer is kept.
const WRITE_BUFFER: usize = 0;
/// Messages queued for a connection's writer.
const OUTGOING_QUEUE: usize = 64;

/// Checks the origin and the subprotocol, then hands the socket to a connection.
pub fn upgrade(
    state: AppState,
    headers: &HeaderMap,
    ip: Option<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state.http.allowed_origins, headers) {
        tracing::info!(origin = ?headers.get(header::ORIGIN), "websocket origin refused");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let upgrade = upgrade
        .protocols([Protocol::TRANSPORT_WS, Protocol::LEGACY])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        // Backpressure: a client that does not read stops being written to.
        .max_write_buffer_size(state.http.body_limit.saturating_mul(4))
        .max_message_size(state.http.body_limit)
        .max_frame_size(state.http.body_limit);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let protocol = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(Protocol::from_name);
    upgrade.on_upgrade(move |mut socket| async move {
        match protocol {
            Some(protocol) => {
                let meta = RequestMeta {
                    ip,
                    request_id: request_id.clone(),
                    idempotency_key: None,
                };
                Connection::new(state, protocol, meta).run(socket).await
            }
            None => {
                let _ = socket
                    .send(close_message(
                        close_code::SUBPROTOCOL_NOT_ACCEPTABLE,
                        "Subprotocol not acceptable",
                    ))
                    .await;
            }
        }
    })
}

/// An empty allowlist admits every origin (credentials never ride on cookies here, so a
/// foreign page gains nothing it could not do itself); otherwise a browser's `Origin` must be
/// listed. A client that sends no `Origin` is not a browser (browsers always send it on a
/// websocket): the allowlist cannot protect anything against such a client, which could send
/// any Origin it liked, so it is admitted.
fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    if allowed.is_empty() {
        return true;
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .is_ok_and(|origin| allowed.iter().any(|a| a.trim_end_matches('/') == origin)),
    }
}

/// Whether a read failed because the client's message was over the size limit.
fn is_message_too_big(error: &axum::Error) -> bool {
    use std::error::Error as _;
    use tungstenite::error::{CapacityError, Error as WsError};
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(WsError::Capacity(
            CapacityError::MessageTooLong { .. } | CapacityError::TooManyHeaders,
        )) = cause.downcast_ref::<WsError>()
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A connection's allowance of incoming messages.
type MessageRate = governor::DefaultDirectRateLimiter;

fn message_rate(per_second: u32) -> MessageRate {
    let rate = std::num::NonZeroU32::new(per_second).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = rate.saturating_mul(std::num::NonZeroU32::new(2).expect("2 is not zero"));
    governor::RateLimiter::direct(governor::Quota::per_second(rate).allow_burst(burst))
}

/// Boxed, so that each slot of a connection's queue is one pointer: the queue's first block
/// (32 slots) is allocated with the connection, idle or not.
type Outgoing = Box<Out>;

enum Out {
    Message(ServerMessage),
    Close(u16, String),
}

struct Connection {
    state: AppState,
    protocol: Protocol,
    outgoing: mpsc::Sender<Outgoing>,
    outgoing_rx: Option<mpsc::Receiver<Outgoing>>,
    init_received: bool,
    acknowledged: bool,
    /// The signed-in user, when `connection_init` carried a valid session token.
    actor: Option<Actor>,
    meta: RequestMeta,
    /// Running operations by client id. A finished operation removes itself before it sends
    /// `complete`, so a client may reuse the id as soon as it sees that message.
    operations: Arc<Mutex<HashMap<String, AbortHandle>>>,
}

/// What the reader loop does next.
enum Flow {
    Continue,
    Close(u16, String),
}

impl Connection {
    fn new(state: AppState, protocol: Protocol, meta: RequestMeta) -> Self {
        let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_QUEUE);
        Connection {
            state,
            protocol,
            outgoing,
            outgoing_rx: Some(outgoing_rx),
            init_received: false,
            acknowledged: false,
            actor: None,
            meta,
            operations: Arc::default(),
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut stream) = socket.split();
        let mut outgoing_rx = self.outgoing_rx.take().expect("run is called once");
        let protocol = self.protocol;
        let writer = tokio::spawn(async move {
            while let Some(item) = outgoing_rx.recv().await {
                let message = match *item {
                    Out::Message(message) => match encode(protocol, &message) {
                        Some(text) => Message::Text(text.into()),
                        None => continue,
                    },
                    Out::Close(code, reason) => {
                        let _ = sink.send(close_message(code, &reason)).await;
                        break;
                    }
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            // Flushes what is queued, including the answer to a client's close frame; without
            // it the client sees an abnormal drop (1006) instead of a clean close.
            let _ = sink.close().await;
        });

        let init_deadline = tokio::time::sleep(self.state.http.ws_init_timeout());
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval_at(
            tokio::time::Instant::now() + LEGACY_KEEP_ALIVE,
            LEGACY_KEEP_ALIVE,
        );
        let mut shutdown = self.state.shutdown.clone();
        // A signed-in connection ends with its session (sign-out anywhere, or expiry), as the
        // instance's session watch reports.
        let mut session: Option<tokio::sync::watch::Receiver<bool>> = None;
        let rate = message_rate(self.state.http.ws_message_rate);
        let close = loop {
            let flow = tokio::select! {
                _ = sessions::session_ended(&mut session) => {
                    Flow::Close(close_code::FORBIDDEN, "Session ended".into())
                }
                _ = &mut init_deadline, if !self.init_received => {
                    Flow::Close(close_code::INIT_TIMEOUT, "Connection initialisation timeout".into())
                }
                _ = shutting_down(&mut shutdown) => {
                    Flow::Close(close_code::GOING_AWAY, "Server shutting down".into())
                }
                _ = keep_alive.tick(), if self.acknowledged && self.protocol == Protocol::Legacy => {
                    self.send(ServerMessage::KeepAlive).await;
                    Flow::Continue
                }
                incoming = stream.next() => match incoming {
                    // Every frame counts, websocket pings included: a flood of any kind ends
                    // the connection instead of costing the server an answer per message.
                    Some(Ok(_)) if rate.check().is_err() => {
                        tracing::info!(ip = ?self.meta.ip, "websocket message flood; closing");
                        Flow::Close(close_code::POLICY_VIOLATION, "Too many messages".into())
                    }
                    // Boxed: handling a message (sign-in, starting an operation) is a large
                    // future; inline, every idle connection's task would be sized for it.
                    Some(Ok(Message::Text(text))) => Box::pin(self.handle(text.as_str())).await,
                    Some(Ok(Message::Binary(_))) => {
                        Flow::Close(close_code::BAD_REQUEST, "Binary messages are not supported".into())
                    }
                    Some(Err(error)) if is_message_too_big(&error) => {
                        Flow::Close(close_code::MESSAGE_TOO_BIG, "Message too big".into())
                    }
                    // The library queues the answer to a client's close; the writer flushes it.
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    // Websocket-level ping/pong is answered by the library.
                    Some(Ok(_)) => Flow::Continue,
                },
            };
            if let Flow::Close(code, reason) = flow {
                break Some((code, reason));
            }
            if session.is_none()
                && let Some(actor) = &self.actor
            {
                session = Some(self.state.sessions.watch(&actor.session_id));
            }
        };
        for (_, task) in self.operations.lock().expect("operations lock").drain() {
            task.abort();
        }
        let closing = close.is_some();
        if let Some((code, reason)) = close {
            let _ = self.outgoing.send(Box::new(Out::Close(code, reason))).await;
        }
        drop(self.outgoing);
        // When the server closes, it reads (and discards) what the client still sends until the
        // client's close arrives: dropping a socket with unread data makes the kernel reset the
        // connection, and the client would then see 1006 instead of the close code.
        let drain = async {
            if !closing {
                return;
            }
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(
            super::WEBSOCKET_CLOSE_GRACE,
            futures_util::future::join(writer, drain),
        )
        .await;
    }

    /// Resolves the token in `connection_init`, if any. No token: anonymous. A token that
    /// does not resolve to a live session: refused (4403), never served as anonymous.
    async fn authenticate(&mut self, payload: Option<&Map<String, Value>>) -> Result<(), String> {
        let token = payload.and_then(|p| {
            p.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v)
        });
        let token = match token {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::String(text)) if text.trim().is_empty() => return Ok(()),
            Some(Value::String(text)) => text.trim(),
            Some(_) => return Err("authorization must be a string".into()),
        };
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        match self
            .state
            .identity
            .authenticate(token, true, &self.meta)
            .await
        {
            Ok(actor) => {
                self.actor = Some(actor);
                Ok(())
            }
            Err(_) => Err("invalid or expired credentials".into()),
        }
    }

    async fn send(&self, message: ServerMessage) {
        let _ = self.outgoing.send(Box::new(Out::Message(message))).await;
    }

    async fn handle(&mut self, text: &str) -> Flow {
        let message = match decode(self.protocol, text) {
            Ok(message) => message,
            Err(reason) => return Flow::Close(close_code::BAD_REQUEST, reason),
        };
        match message {
            ClientMessage::Init(payload) => {
                if self.init_received {
                    return Flow::Close(
                        close_code::TOO_MANY_INIT,
                        "Too many initialisation requests".into(),
                    );
                }
                self.init_received = true;
                if let Err(reason) = self.authenticate(payload.as_ref()).await {
                    if self.protocol == Protocol::Legacy {
                        self.send(ServerMessage::ConnectionError(reason.clone()))
                            .await;
                    }
                    return Flow::Close(close_code::FORBIDDEN, "Forbidden".into());
                }
                self.acknowledged = true;
                self.send(ServerMessage::Ack).await;
                if self.protocol == Protocol::Legacy {
                    self.send(ServerMessage::KeepAlive).await;
                }
                Flow::Continue
            }
            ClientMessage::Ping(payload) => {
                self.send(ServerMessage::Pong(payload)).await;
                Flow::Continue
            }
            ClientMessage::Pong => Flow::Continue,
            ClientMessage::Subscribe { id, payload } => {
                if !self.acknowledged {
                    return Flow::Close(close_code::UNAUTHORIZED, "Unauthorized".into());
                }
                self.start(id, payload).await
            }
            ClientMessage::Complete { id } => {
                let task = self.operations.lock().expect("operations lock").remove(&id);
                if let Some(task) = task {
                    task.abort();
                    // The legacy protocol confirms a stop; graphql-transport-ws does not.
                    if self.protocol == Protocol::Legacy {
                        self.send(ServerMessage::Complete { id }).await;
                    }
                }
                Flow::Continue
            }
            ClientMessage::Terminate => Flow::Close(close_code::NORMAL, "Terminated".into()),
        }
    }

    async fn start(&mut self, id: String, payload: RequestParams) -> Flow {
        match self.try_start(id, payload) {
            Ok(()) => Flow::Continue,
            Err(Refusal::Close(code, reason)) => Flow::Close(code, reason),
            Err(Refusal::Error(id, reason)) => {
                self.send(error_message(id, &reason)).await;
                Flow::Continue
            }
        }
    }

    /// Registers and spawns the operation. The registry lock is held until the task's handle
    /// is stored, so a task that finishes at once cannot leave a stale entry behind.
    fn try_start(&self, id: String, payload: RequestParams) -> Result<(), Refusal> {
        let mut operations = self.operations.lock().expect("operations lock");
        if operations.contains_key(&id) {
            let reason = format!("Subscriber for {id} already exists");
            return Err(match self.protocol {
                Protocol::TransportWs => Refusal::Close(close_code::SUBSCRIBER_EXISTS, reason),
                Protocol::Legacy => Refusal::Error(id, reason),
            });
        }
        if operations.len() >= MAX_OPERATIONS_PER_CONNECTION {
            let reason =
                format!("at most {MAX_OPERATIONS_PER_CONNECTION} operations per connection");
            return Err(Refusal::Error(id, reason));
        }
        let results = if self.actor.is_none()
            && execution::is_shared_subscription(
                &self.state.schema,
                &payload.query,
                payload.operation_name.as_deref(),
            ) {
            let (schema, meta) = (&self.state.schema, &self.meta);
            let results = self.state.shared_subscriptions.join(&payload, || {
                execution::execute_stream(
                    schema,
                    payload.clone().into_request().data(meta.clone()),
                    None,
                )
            });
            Results::Shared(results)
        } else {
            // No per-request loader: a subscription lives for hours, and must not serve rows
            // cached when it started (the shared, uncached loader serves it).
            let mut request = payload.into_request().data(self.meta.clone());
            if let Some(actor) = &self.actor {
                request = request.data(actor.clone());
            }
            // Made here (execution is lazy: nothing runs before the task polls it), so the
            // task does not keep room for the request and the schema as long as the
            // subscription lives.
            Results::Own(execution::execute_stream(
                &self.state.schema,
                request,
                self.actor.as_ref(),
            ))
        };
        let task = tokio::spawn(run_operation(
            results,
            id.clone(),
            self.outgoing.clone(),
            self.operations.clone(),
        ));
        operations.insert(id, task.abort_handle());
        Ok(())
    }
}

enum Refusal {
    Close(u16, String),
    Error(String, String),
}

/// A result to send, and whether it ends the operation without `complete` (a request error,
/// or a subscriber that fell behind).
type Step = (ServerMessage, bool);

/// Where an operation's results come from: its own execution, or one shared with other
/// anonymous subscribers of the same request.
enum Results {
    Own(futures_util::stream::BoxStream<'static, async_graphql::Response>),
    Shared(shared::SharedResults),
}

impl Results {
    async fn next(&mut self, id: &str) -> Option<Step> {
        match self {
            Results::Own(responses) => Some(own_message(id, responses.next().await?)),
            Results::Shared(results) => Some(shared_message(id, results.next().await?)),
        }
    }
}

/// One result of the connection's own execution.
fn own_message(id: &str, response: async_graphql::Response) -> Step {
    if is_request_error(&response) {
        (request_error(id, &response), true)
    } else {
        let message = ServerMessage::Next {
            id: id.to_owned(),
            payload: Box::new(response),
        };
        (message, false)
    }
}

/// One result of a shared execution: its text, serialized once, framed with this id.
fn shared_message(id: &str, result: Result<Arc<SharedResult>, Lagged>) -> Step {
    let Ok(result) = result else {
        let reason = "the connection fell behind its subscription; subscribe again / \
                      購読の受信が遅れたため停止しました。再度購読してください";
        return (error_message(id.to_owned(), reason), true);
    };
    match &result.payload {
        Some(payload) if !is_request_error(&result.response) => {
            let message = ServerMessage::NextShared {
                id: id.to_owned(),
                payload: payload.clone(),
            };
            (message, false)
        }
        _ => (request_error(id, &result.response), true),
    }
}

fn request_error(id: &str, response: &async_graphql::Response) -> ServerMessage {
    ServerMessage::Error {
        id: id.to_owned(),
        errors: response
            .errors
            .iter()
            .map(|e| serde_json::json!(e))
            .collect(),
    }
}

/// Streams one operation's results to the client: `next` per result, then `complete`; a
/// request error (the document did not validate) is one `error` message instead.
async fn run_operation(
    mut results: Results,
    id: String,
    outgoing: mpsc::Sender<Outgoing>,
    registry: Arc<Mutex<HashMap<String, AbortHandle>>>,
) {
    let mut failed = false;
    while let Some((message, last)) = results.next(&id).await {
        failed = last;
        if outgoing
            .send(Box::new(Out::Message(message)))
            .await
            .is_err()
            || failed
        {
            break;
        }
    }
    registry.lock().expect("operations lock").remove(&id);
    if !failed {
        let _ = outgoing
            .send(Box::new(Out::Message(ServerMessage::Complete { id })))
            .await;
    }
}

fn error_message(id: String, message: &str) -> ServerMessage {
    ServerMessage::Error {
        id,
        errors: vec![serde_json::json!({
            "message": message,
            "extensions": { "code": crate::error::code::INVALID_INPUT }
        })],
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    // A close reason may hold at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].to_owned().into(),
    }))
}

/// Resolves once the server starts shutting down.
async fn shutting_down(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|down| *down).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn origins_are_checked_only_when_an_allowlist_is_set() {
        let mut headers = HeaderMap::new();
        assert!(origin_allowed(&[], &headers));
        let allowed = vec!["https://navi.example.jp".to_owned()];
        // No Origin: not a browser, which an allowlist cannot stop anyway.
        assert!(origin_allowed(&allowed, &headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://navi.example.jp"),
        );
        assert!(origin_allowed(&allowed, &headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!origin_allowed(&allowed, &headers));
    }
}

//! GraphQL over WebSocket on /graphql: the graphql-transport-ws protocol with its close codes,
//! and the legacy graphql-ws protocol.

mod common;

use common::{TestServer, WsEvent};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use vsys::events::{NewEvent, Visibility};

const TRANSPORT: Option<&str> = Some("graphql-transport-ws");
const LEGACY: Option<&str> = Some("graphql-ws");

fn public_event(topic: &str, n: i64) -> NewEvent {
    NewEvent {
        topic: topic.into(),
        visibility: Visibility::Public,
        organization_id: None,
        payload: json!({ "n": n }),
    }
}

#[tokio::test]
async fn a_query_runs_over_the_websocket_and_completes() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    ws.send(json!({ "id": "q1", "type": "subscribe", "payload": { "query": "{ prefecture(code: \"14\") { name nameRomaji } }" } }))
        .await;
    let next = ws.next_json().await;
    assert_eq!(next["type"], "next");
    assert_eq!(next["id"], "q1");
    assert_eq!(next["payload"]["data"]["prefecture"]["name"], "神奈川県");
    let complete = ws.next_json().await;
    assert_eq!(complete, json!({ "id": "q1", "type": "complete" }));
    // The id is free again once complete arrived.
    ws.send(json!({ "id": "q1", "type": "subscribe", "payload": { "query": "{ __typename }" } }))
        .await;
    assert_eq!(ws.next_json().await["type"], "next");
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_receives_committed_events_and_stops_on_complete() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    // Replaying from the latest sequence number makes the hand-over to live delivery
    // deterministic: nothing committed after this point can be missed.
    let latest = vsys::events::latest_seq(&server.state.db).await.unwrap();
    ws.send(json!({ "id": "s", "type": "subscribe", "payload": {
        "query": "subscription($topics: [String!], $after: Int) { events(topics: $topics, after: $after) { sequence topic payload } }",
        "variables": { "topics": ["test.wanted"], "after": latest } } }))
        .await;
    server
        .state
        .events
        .publish(&public_event("test.unwanted", 1))
        .await
        .unwrap();
    let seq = server
        .state
        .events
        .publish(&public_event("test.wanted", 2))
        .await
        .unwrap();
    let next = ws.next_json().await;
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"]["data"]["events"]["topic"], "test.wanted");
    assert_eq!(next["payload"]["data"]["events"]["sequence"], seq);
    assert_eq!(
        next["payload"]["data"]["events"]["payload"],
        json!({ "n": 2 })
    );
    ws.send(json!({ "id": "s", "type": "complete" })).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    server.stop().await;
}

#[tokio::test]
async fn validation_errors_come_as_an_error_message_with_codes() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    ws.send(json!({ "id": "bad", "type": "subscribe", "payload": { "query": "subscription { noSuchField }" } })).await;
    let error = ws.next_json().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "bad");
    assert_eq!(error["payload"][0]["extensions"]["code"], "INVALID_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn close_codes_follow_the_graphql_ws_protocol() {
    let server = TestServer::start_with(&["--ws-init-timeout-secs", "1"]).await;

    // 4400: a message that is not understood.
    let mut ws = server.websocket(TRANSPORT).await;
    ws.send_text("this is not json").await;
    assert_eq!(ws.close_code().await, 4400);
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    ws.send(json!({ "type": "subscribe", "payload": { "query": "{ __typename }" } }))
        .await;
    assert_eq!(ws.close_code().await, 4400, "subscribe without id");

    // 4401: subscribe before the connection was acknowledged.
    let mut ws = server.websocket(TRANSPORT).await;
    ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }))
        .await;
    assert_eq!(ws.close_code().await, 4401);

    // 4403: credentials that do not verify.
    let mut ws = server.websocket(TRANSPORT).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer forged" } }))
        .await;
    assert_eq!(ws.close_code().await, 4403);

    // 4408: no connection_init in time.
    let mut ws = server.websocket(TRANSPORT).await;
    assert_eq!(ws.close_code().await, 4408);

    // 4409: a second operation with an id that is still running.
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    let subscribe = json!({ "id": "dup", "type": "subscribe", "payload": { "query": "subscription { events { sequence } }" } });
    ws.send(subscribe.clone()).await;
    ws.send(subscribe).await;
    assert_eq!(ws.close_code().await, 4409);

    // 4429: connection_init twice.
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.close_code().await, 4429);

    // 4406: no supported subprotocol.
    let mut ws = server.websocket(None).await;
    assert_eq!(ws.close_code().await, 4406);
    server.stop().await;
}

#[tokio::test]
async fn the_legacy_protocol_acks_streams_and_stops() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(LEGACY).await;
    ws.send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    assert_eq!(ws.next_json().await["type"], "ka");
    ws.send(json!({ "id": "1", "type": "start", "payload": { "query": "{ prefecture(code: \"13\") { nameRomaji } }" } }))
        .await;
    let data = ws.next_json().await;
    assert_eq!(data["type"], "data");
    assert_eq!(data["payload"]["data"]["prefecture"]["nameRomaji"], "Tokyo");
    assert_eq!(
        ws.next_json().await,
        json!({ "id": "1", "type": "complete" })
    );

    ws.send(json!({ "id": "2", "type": "start", "payload": { "query": "subscription { events { sequence } }" } })).await;
    ws.send(json!({ "id": "2", "type": "stop" })).await;
    let mut stopped = false;
    for _ in 0..3 {
        match ws.next().await {
            WsEvent::Json(message) if message["type"] == "complete" && message["id"] == "2" => {
                stopped = true;
                break;
            }
            WsEvent::Json(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(stopped);
    ws.send(json!({ "type": "connection_terminate" })).await;
    assert_eq!(ws.close_code().await, 1000);
    server.stop().await;
}

#[tokio::test]
async fn the_legacy_protocol_reports_rejected_credentials() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(LEGACY).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer forged" } }))
        .await;
    assert_eq!(ws.next_json().await["type"], "connection_error");
    assert_eq!(ws.close_code().await, 4403);
    server.stop().await;
}

#[tokio::test]
async fn websocket_origins_are_checked_against_the_allowlist() {
    let server = TestServer::start_with(&["--allowed-origins", "https://navi.example.jp"]).await;
    for (origin, allowed) in [
        ("https://navi.example.jp", true),
        ("https://evil.example", false),
    ] {
        let response = server
            .client
            .get(server.url("/graphql"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", "graphql-transport-ws")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status() == 101,
            allowed,
            "{origin}: {}",
            response.status()
        );
        if !allowed {
            assert_eq!(response.status(), 403);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_open_websockets_with_going_away() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    ws.send(json!({ "id": "s", "type": "subscribe", "payload": { "query": "subscription { events { sequence } }" } })).await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(ws.close_code().await, 1001);
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_clean_close() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    use futures_util::SinkExt;
    ws.stream
        .send(tokio_tungstenite::tungstenite::Message::Close(None))
        .await
        .unwrap();
    match ws.next().await {
        WsEvent::Closed(code, _) => assert_ne!(
            code, 1006,
            "the server dropped the connection without answering"
        ),
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_client_without_origin_is_admitted_when_an_allowlist_is_set() {
    // Only browsers send Origin; refusing clients that send none would protect nothing.
    let server = TestServer::start_with(&["--allowed-origins", "https://navi.example.jp"]).await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let server = TestServer::start_with(&["--body-limit", "4096"]).await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    let query = format!("{{ __typename }} # {}", "x".repeat(8192));
    ws.send(json!({ "id": "big", "type": "subscribe", "payload": { "query": query } }))
        .await;
    assert_eq!(ws.close_code().await, 1009);
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_messages_is_cut_off_with_1008() {
    let server = TestServer::start_with(&["--ws-message-rate", "20"]).await;
    let mut ws = server.websocket(TRANSPORT).await;
    ws.init().await;
    // 10,000 pings at once: the server answers the allowance (a burst of 40), then closes,
    // instead of answering every one.
    use futures_util::SinkExt;
    for _ in 0..10_000 {
        let ping = json!({ "type": "ping" }).to_string();
        if ws.stream.feed(Message::Text(ping.into())).await.is_err() {
            break;
        }
    }
    let _ = ws.stream.flush().await;
    let mut pongs = 0;
    let code = loop {
        match ws.next().await {
            WsEvent::Json(message) => {
                assert_eq!(message["type"], "pong");
                pongs += 1;
            }
            WsEvent::Closed(code, _) => break code,
        }
    };
    assert_eq!(code, 1008);
    assert!(pongs <= 41, "{pongs} pongs before the cut-off");
    server.stop().await;
}

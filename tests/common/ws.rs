//! Event subscriptions over the websocket.

use serde_json::{Value, json};

use super::{TestServer, WsClient};

/// The newest event sequence number: a subscription after it sees only what comes next.
pub async fn latest_seq(server: &TestServer) -> i64 {
    vsys::events::latest_seq(&server.state.db).await.unwrap()
}

/// Opens a graphql-transport-ws websocket, as the holder of `token` or anonymously, and sends a
/// `subscribe` message with `id` and `payload` (its query and variables).
pub async fn subscribe(
    server: &TestServer,
    token: Option<&str>,
    id: &str,
    payload: Value,
) -> WsClient {
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    match token {
        Some(token) => ws.init_as(token).await,
        None => ws.init().await,
    }
    ws.send(json!({ "id": id, "type": "subscribe", "payload": payload }))
        .await;
    ws
}

/// The `events` of the next message, which must be a `next`.
pub async fn next_event(ws: &mut WsClient) -> Value {
    let message = ws.next_json().await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["events"].clone()
}

/// Publishes a public event of `topic` with an empty payload (a marker: whatever a subscriber
/// receives before it, it received).
pub async fn publish_marker(server: &TestServer, topic: &str) {
    server
        .state
        .events
        .publish(&vsys::events::NewEvent {
            topic: topic.into(),
            visibility: vsys::events::Visibility::Public,
            organization_id: None,
            payload: json!({}),
        })
        .await
        .unwrap();
}

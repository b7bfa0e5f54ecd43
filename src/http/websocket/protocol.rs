//! The two GraphQL websocket subprotocols, decoded into one set of messages.
//!
//! - `graphql-transport-ws`: the graphql-ws library's protocol (current).
//! - `graphql-ws`: the legacy subscriptions-transport-ws protocol, for older clients.

use serde_json::{Map, Value, json};

use crate::graphql::RequestParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    TransportWs,
    Legacy,
}

impl Protocol {
    pub const TRANSPORT_WS: &'static str = "graphql-transport-ws";
    pub const LEGACY: &'static str = "graphql-ws";

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            Self::TRANSPORT_WS => Some(Protocol::TransportWs),
            Self::LEGACY => Some(Protocol::Legacy),
            _ => None,
        }
    }
}

/// What a client may send, whichever protocol it speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Init(Option<Map<String, Value>>),
    Ping(Option<Value>),
    Pong,
    Subscribe { id: String, payload: RequestParams },
    Complete { id: String },
    Terminate,
}

/// What the server sends.
#[derive(Debug)]
pub enum ServerMessage {
    Ack,
    Pong(Option<Value>),
    KeepAlive,
    ConnectionError(String),
    /// A result, serialized straight into the frame (no intermediate JSON tree).
    Next {
        id: String,
        payload: Box<async_graphql::Response>,
    },
    /// A result of a shared execution, serialized once for all its subscribers.
    NextShared {
        id: String,
        payload: std::sync::Arc<str>,
    },
    Error {
        id: String,
        errors: Vec<Value>,
    },
    Complete {
        id: String,
    },
}

/// Why a message could not be understood (the text becomes the close reason).
pub type DecodeError = String;

pub fn decode(protocol: Protocol, text: &str) -> Result<ClientMessage, DecodeError> {
    let value: Value = serde_json::from_str(text).map_err(|_| "message is not JSON".to_owned())?;
    let Value::Object(message) = value else {
        return Err("message must be a JSON object".into());
    };
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .ok_or("message has no type")?;
    let id = || -> Result<String, DecodeError> {
        match message.get("id") {
            Some(Value::String(id)) if !id.is_empty() && id.len() <= 128 => Ok(id.clone()),
            _ => Err(format!("{kind} message needs a non-empty string id")),
        }
    };
    match (protocol, kind) {
        (_, "connection_init") => match message.get("payload") {
            None | Some(Value::Null) => Ok(ClientMessage::Init(None)),
            Some(Value::Object(payload)) => Ok(ClientMessage::Init(Some(payload.clone()))),
            Some(_) => Err("connection_init payload must be an object".into()),
        },
        (Protocol::TransportWs, "ping") => Ok(ClientMessage::Ping(message.get("payload").cloned())),
        (Protocol::TransportWs, "pong") => Ok(ClientMessage::Pong),
        (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => {
            Ok(ClientMessage::Subscribe {
                id: id()?,
                payload: decode_payload(message.get("payload"))?,
            })
        }
        (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
            Ok(ClientMessage::Complete { id: id()? })
        }
        (Protocol::Legacy, "connection_terminate") => Ok(ClientMessage::Terminate),
        _ => Err(format!("unknown message type {kind:?}")),
    }
}

fn decode_payload(payload: Option<&Value>) -> Result<RequestParams, DecodeError> {
    match payload {
        Some(payload @ Value::Object(_)) => RequestParams::from_json(payload.clone()),
        _ => Err("subscribe payload must be an object".into()),
    }
}

/// The wire form of a server message; `None` when the protocol has no such message.
pub fn encode(protocol: Protocol, message: &ServerMessage) -> Option<String> {
    let value = match (protocol, message) {
        (_, ServerMessage::Ack) => json!({ "type": "connection_ack" }),
        (Protocol::TransportWs, ServerMessage::Pong(payload)) => match payload {
            Some(payload) => json!({ "type": "pong", "payload": payload }),
            None => json!({ "type": "pong" }),
        },
        (Protocol::Legacy, ServerMessage::KeepAlive) => json!({ "type": "ka" }),
        (Protocol::Legacy, ServerMessage::ConnectionError(message)) => {
            json!({ "type": "connection_error", "payload": { "message": message } })
        }
        // The hot path of every subscription: written once, directly.
        (Protocol::TransportWs, ServerMessage::Next { id, payload }) => {
            return frame(id, "next", payload);
        }
        (Protocol::Legacy, ServerMessage::Next { id, payload }) => {
            return frame(id, "data", payload);
        }
        (Protocol::TransportWs, ServerMessage::NextShared { id, payload }) => {
            return Some(framed(id, "next", payload));
        }
        (Protocol::Legacy, ServerMessage::NextShared { id, payload }) => {
            return Some(framed(id, "data", payload));
        }
        (Protocol::TransportWs, ServerMessage::Error { id, errors }) => {
            json!({ "id": id, "type": "error", "payload": errors })
        }
        // The legacy protocol's error payload is a single error object.
        (Protocol::Legacy, ServerMessage::Error { id, errors }) => {
            let first = errors
                .first()
                .cloned()
                .unwrap_or_else(|| json!({ "message": "error" }));
            json!({ "id": id, "type": "error", "payload": first })
        }
        (_, ServerMessage::Complete { id }) => json!({ "id": id, "type": "complete" }),
        _ => return None,
    };
    Some(value.to_string())
}

/// `{"id":…,"type":…,"payload":…}` serialized from the parts.
fn frame(id: &str, kind: &'static str, payload: &async_graphql::Response) -> Option<String> {
    #[derive(serde::Serialize)]
    struct Frame<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        payload: &'a async_graphql::Response,
    }
    match serde_json::to_string(&Frame { id, kind, payload }) {
        Ok(text) => Some(text),
        Err(error) => {
            tracing::error!(?error, "a result could not be serialized");
            None
        }
    }
}

/// `{"id":…,"type":…,"payload":…}` around a payload that is JSON text already.
fn framed(id: &str, kind: &'static str, payload: &str) -> String {
    let id = Value::String(id.to_owned()).to_string();
    let mut text = String::with_capacity(id.len() + payload.len() + 40);
    text.push_str("{\"id\":");
    text.push_str(&id);
    text.push_str(",\"type\":\"");
    text.push_str(kind);
    text.push_str("\",\"payload\":");
    text.push_str(payload);
    text.push('}');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_protocols_decode_their_own_message_names() {
        let subscribe = r#"{"id":"1","type":"subscribe","payload":{"query":"{a}"}}"#;
        let start = r#"{"id":"1","type":"start","payload":{"query":"{a}"}}"#;
        assert!(matches!(
            decode(Protocol::TransportWs, subscribe),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(matches!(
            decode(Protocol::Legacy, start),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(decode(Protocol::TransportWs, start).is_err());
        assert!(decode(Protocol::Legacy, subscribe).is_err());
    }

    #[test]
    fn malformed_messages_are_refused() {
        for bad in [
            "not json",
            "[]",
            r#"{"type":1}"#,
            r#"{"type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"id":"","type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":1}}"#,
            r#"{"id":"1","type":"subscribe"}"#,
            r#"{"type":"connection_init","payload":"token"}"#,
        ] {
            assert!(decode(Protocol::TransportWs, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn legacy_names_are_used_on_the_legacy_protocol() {
        let next = ServerMessage::Next {
            id: "7".into(),
            payload: Box::new(async_graphql::Response::new(async_graphql::Value::Null)),
        };
        assert!(
            encode(Protocol::Legacy, &next)
                .unwrap()
                .contains(r#""type":"data""#)
        );
        assert!(
            encode(Protocol::TransportWs, &next)
                .unwrap()
                .contains(r#""type":"next""#)
        );
        assert!(encode(Protocol::TransportWs, &ServerMessage::KeepAlive).is_none());
    }

    #[test]
    fn a_shared_payload_is_framed_as_valid_json_with_the_id_escaped() {
        let next = ServerMessage::NextShared {
            id: "a\"b".into(),
            payload: std::sync::Arc::from(r#"{"data":{"x":1}}"#),
        };
        let text = encode(Protocol::TransportWs, &next).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({ "id": "a\"b", "type": "next", "payload": { "data": { "x": 1 } } })
        );
        let legacy: Value =
            serde_json::from_str(&encode(Protocol::Legacy, &next).unwrap()).unwrap();
        assert_eq!(legacy["type"], "data");
    }
}

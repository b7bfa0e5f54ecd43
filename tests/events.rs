//! The outbox and realtime delivery: events are delivered after commit, in sequence order,
//! without gaps, replayable from a sequence number, and across instances on one database.

mod common;

use std::time::Duration;

use common::ws::next_event;
use common::{TestServer, WsClient};
use futures_util::StreamExt;
use serde_json::json;
use vsys::events::{NewEvent, Visibility, append, latest_seq};

fn event(topic: &str, n: i64) -> NewEvent {
    NewEvent {
        topic: topic.into(),
        visibility: Visibility::Public,
        organization_id: None,
        payload: json!({ "n": n }),
    }
}

/// Subscribes to the event feed. Without `after`, it replays from the latest committed event,
/// which makes the hand-over to live delivery deterministic: whatever is committed after this
/// call is delivered, whether the subscription was already registered or not.
async fn subscribe(ws: &mut WsClient, server: &TestServer, id: &str, after: Option<i64>) {
    let after = match after {
        Some(after) => after,
        None => latest_seq(&server.state.db).await.unwrap(),
    };
    ws.send(json!({ "id": id, "type": "subscribe", "payload": {
        "query": "subscription($after: Int) { events(after: $after) { sequence topic payload } }",
        "variables": { "after": after } } }))
        .await;
}

#[tokio::test]
async fn a_subscriber_catches_up_from_a_sequence_number_then_continues_live() {
    let server = TestServer::start().await;
    let events = &server.state.events;
    let first = events.publish(&event("t", 1)).await.unwrap();
    events.publish(&event("t", 2)).await.unwrap();
    events.publish(&event("t", 3)).await.unwrap();

    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.init().await;
    subscribe(&mut ws, &server, "s", Some(first)).await;
    assert_eq!(next_event(&mut ws).await["payload"]["n"], 2);
    assert_eq!(next_event(&mut ws).await["payload"]["n"], 3);
    events.publish(&event("t", 4)).await.unwrap();
    let live = next_event(&mut ws).await;
    assert_eq!(live["payload"]["n"], 4);
    assert_eq!(live["sequence"], first + 3);
    server.stop().await;
}

#[tokio::test]
async fn a_rolled_back_change_publishes_nothing_and_leaves_no_gap() {
    let server = TestServer::start().await;
    let state = &server.state;
    let mut stream = Box::pin(state.events.stream(None));
    let mut tx = state.db.begin_write().await.unwrap();
    let rolled_back = append(&mut tx, &event("t", 1)).await.unwrap();
    drop(tx);
    let committed = state.events.publish(&event("t", 2)).await.unwrap();
    assert_eq!(
        committed, rolled_back,
        "the sequence number was not consumed"
    );
    let delivered = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.seq, committed);
    assert_eq!(delivered.payload, json!({ "n": 2 }));
    server.stop().await;
}

#[tokio::test]
async fn concurrent_writers_never_fail_and_subscribers_see_every_event_in_order() {
    let server = TestServer::start().await;
    let mut stream = Box::pin(server.state.events.stream(None));
    let writers: Vec<_> = (0..25)
        .map(|n| {
            let events = server.state.events.clone();
            tokio::spawn(async move { events.publish(&event("t", n)).await })
        })
        .collect();
    for writer in writers {
        writer
            .await
            .unwrap()
            .expect("a write never fails with a busy database");
    }
    let mut previous = None;
    for _ in 0..25 {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap();
        if let Some(previous) = previous {
            assert_eq!(event.seq, previous + 1, "no gap, no reordering");
        }
        previous = Some(event.seq);
    }
    server.stop().await;
}

#[tokio::test]
async fn anonymous_subscribers_do_not_receive_restricted_events() {
    let server = TestServer::start().await;
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.init().await;
    subscribe(&mut ws, &server, "s", None).await;
    let nation = server
        .data(
            "{ organizations(kind: NATION) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let nation_id = nation["organizations"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, row_id) = vsys::graphql::ids::parse_global_id(&nation_id).unwrap();
    let restricted = NewEvent {
        topic: "secret".into(),
        visibility: Visibility::Restricted,
        organization_id: Some(row_id),
        payload: json!({}),
    };
    server.state.events.publish(&restricted).await.unwrap();
    server
        .state
        .events
        .publish(&event("open", 1))
        .await
        .unwrap();
    assert_eq!(next_event(&mut ws).await["topic"], "open");
    server.stop().await;
}

/// Two servers on one database: an event committed through A reaches a subscriber on B, and
/// a subscriber that was away catches up. On PostgreSQL the safety-net poll is turned off, so
/// only LISTEN/NOTIFY can deliver; on SQLite (one file, two instances) the poll does.
#[tokio::test]
async fn events_cross_instances_and_are_caught_up_after_a_disconnect() {
    let a = TestServer::start().await;
    let url = a.db.as_ref().unwrap().url.clone();
    let poll = if a.db.as_ref().unwrap().is_postgres() {
        "3600"
    } else {
        "1"
    };
    let b = TestServer::start_on(&url, &["--event-poll-secs", poll]).await;

    let mut ws = b.websocket(Some("graphql-transport-ws")).await;
    ws.init().await;
    subscribe(&mut ws, &b, "s", None).await;
    let seq = a.state.events.publish(&event("cross", 1)).await.unwrap();
    let received = next_event(&mut ws).await;
    assert_eq!(received["sequence"], seq);
    assert_eq!(received["payload"]["n"], 1);
    drop(ws);

    a.state.events.publish(&event("cross", 2)).await.unwrap();
    a.state.events.publish(&event("cross", 3)).await.unwrap();
    let mut ws = b.websocket(Some("graphql-transport-ws")).await;
    ws.init().await;
    subscribe(&mut ws, &b, "s", Some(seq)).await;
    assert_eq!(next_event(&mut ws).await["payload"]["n"], 2);
    assert_eq!(next_event(&mut ws).await["payload"]["n"], 3);
    b.stop().await;
    a.stop().await;
}

/// The organisation row id of a prefecture or municipality, by its code.
async fn org_row(server: &TestServer, kind: &str, code: &str) -> String {
    let query = format!("{{ {kind}(code: \"{code}\") {{ id }} }}");
    let data = server.data(&query, json!({})).await;
    let id = data[kind]["id"].as_str().unwrap();
    vsys::graphql::ids::parse_global_id(id).unwrap().1
}

/// Restricted events are decided from the event row alone, by the same area rule as queries:
/// each user receives exactly the events of organisations in their area, and no other area's.
#[tokio::test]
async fn restricted_events_reach_exactly_the_users_whose_area_includes_them() {
    let server = TestServer::start().await;
    let meguro = org_row(&server, "municipality", "131105").await;
    let yokohama = org_row(&server, "municipality", "141003").await;
    // (user, topics they must receive before the closing public marker)
    let expectations: [(Option<&str>, &[&str]); 7] = [
        (Some("nation.admin"), &["meguro", "yokohama"]),
        (Some("tokyo.admin"), &["meguro"]),
        (Some("meguro.admin"), &["meguro"]),
        (Some("kanagawa.admin"), &["yokohama"]),
        (Some("yokohama.admin"), &["yokohama"]),
        (Some("pfizer.admin"), &[]),
        (None, &[]),
    ];
    let mut clients = Vec::new();
    for (user, expected) in expectations {
        let mut ws = server.websocket(Some("graphql-transport-ws")).await;
        match user {
            Some(user) => ws.init_as(&server.sign_in(user).await).await,
            None => ws.init().await,
        }
        subscribe(&mut ws, &server, "s", None).await;
        clients.push((user, expected, ws));
    }
    for (topic, organization) in [("meguro", &meguro), ("yokohama", &yokohama)] {
        let restricted = NewEvent {
            topic: topic.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(organization.clone()),
            payload: json!({ "area": topic }),
        };
        server.state.events.publish(&restricted).await.unwrap();
    }
    server
        .state
        .events
        .publish(&event("marker", 0))
        .await
        .unwrap();
    for (user, expected, mut ws) in clients {
        let mut received = Vec::new();
        loop {
            let topic = next_event(&mut ws).await["topic"]
                .as_str()
                .unwrap()
                .to_owned();
            // Sign-ins write their own events (none of which a subscriber may see either).
            if topic == "marker" {
                break;
            }
            received.push(topic);
        }
        assert_eq!(received, expected, "{user:?}");
    }
    server.stop().await;
}

/// A subscriber that stops reading falls behind its live buffer; it must not hold up anyone
/// else, and once it reads again it catches up from the outbox without losing an event.
#[tokio::test]
async fn a_slow_subscriber_does_not_delay_the_others_and_loses_nothing() {
    let server = TestServer::start().await;
    let mut slow = server.websocket(Some("graphql-transport-ws")).await;
    slow.init().await;
    subscribe(&mut slow, &server, "s", None).await;
    let mut fast = server.websocket(Some("graphql-transport-ws")).await;
    fast.init().await;
    subscribe(&mut fast, &server, "f", None).await;

    // More than the live buffer (1,024 events), the connection's send queue and the
    // sockets' buffers hold (3,000 × 2 KB).
    const EVENTS: i64 = 3_000;
    let padding = "x".repeat(2048);
    let publisher = {
        let events = server.state.events.clone();
        tokio::spawn(async move {
            for n in 1..=EVENTS {
                let mut big = event("burst", n);
                big.payload["padding"] = json!(padding);
                events.publish(&big).await.unwrap();
            }
        })
    };
    // The fast subscriber receives every event while the slow one reads nothing.
    for n in 1..=EVENTS {
        assert_eq!(next_event(&mut fast).await["payload"]["n"], n);
    }
    publisher.await.unwrap();
    for n in 1..=EVENTS {
        assert_eq!(next_event(&mut slow).await["payload"]["n"], n);
    }
    server.stop().await;
}

//! Health probes and the playground.

mod common;

use common::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let server = TestServer::start().await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // With the database gone, the process is alive but not ready.
    server.state.db.close().await;
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn the_playground_is_self_contained() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"));
    let page = response.text().await.unwrap();
    assert!(page.contains("graphql-transport-ws"));
    // No script, style or font from elsewhere: it must work without internet access.
    for needle in ["src=\"http", "href=\"http", "@import", "cdn."] {
        assert!(!page.contains(needle), "the page loads {needle}");
    }
    server.stop().await;
}

#[tokio::test]
async fn every_example_operation_is_listed_and_valid_against_the_schema() {
    let server = TestServer::start().await;
    let operations: Vec<Value> = server
        .client
        .get(server.url("/playground/operations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(operations.len() >= 5);
    for operation in operations {
        let body = operation["body"].as_str().unwrap();
        assert!(!operation["role"].as_str().unwrap().is_empty());
        if body.contains("subscription") {
            continue;
        }
        let variables = body
            .lines()
            .find_map(|l| l.strip_prefix("# variables:"))
            .map(|v| serde_json::from_str::<Value>(v.trim()).unwrap())
            .unwrap_or(json!({}));
        let response = server.graphql(body, variables).await;
        for error in response["errors"].as_array().into_iter().flatten() {
            // Run anonymously with placeholder values, an example may be not found or need a
            // session; it must never be invalid against the schema.
            let code = error["extensions"]["code"].as_str().unwrap_or_default();
            assert!(
                matches!(code, "NOT_FOUND" | "UNAUTHENTICATED" | "FORBIDDEN"),
                "{}: {error}",
                operation["file"]
            );
        }
    }
    server.stop().await;
}

//! GraphQL over HTTP: media types, methods, status codes, limits, and that bad input always
//! gets a 4xx or a coded GraphQL error, never a 500.

mod common;

use common::TestServer;
use common::api::error_code;
use reqwest::StatusCode;
use serde_json::{Value, json};

const RESPONSE_JSON: &str = "application/graphql-response+json";

async fn post_raw(
    server: &TestServer,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let mut request = server.client.post(server.url("/graphql")).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, media, body)
}

#[tokio::test]
async fn post_and_get_run_queries_and_honour_accept() {
    let server = TestServer::start().await;
    let body = br#"{"query":"{ __typename }"}"#.to_vec();

    let (status, media, json) = post_raw(
        &server,
        Some("application/json"),
        Some(RESPONSE_JSON),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(media.starts_with(RESPONSE_JSON));
    assert_eq!(json["data"]["__typename"], "Query");

    let (status, media, _) = post_raw(
        &server,
        Some("application/json"),
        Some("application/json"),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(media.starts_with("application/json"));

    let (_, media, _) = post_raw(&server, Some("application/json"), None, body.clone()).await;
    assert!(
        media.starts_with("application/json"),
        "no Accept means application/json"
    );

    let (status, _, _) = post_raw(&server, Some("application/json"), Some("text/html"), body).await;
    assert_eq!(status, 406);

    let response = server
        .client
        .get(server.url("/graphql"))
        .query(&[
            (
                "query",
                "query Q($code: String!) { prefecture(code: $code) { name } }",
            ),
            ("variables", r#"{"code":"13"}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["data"]["prefecture"]["name"], "東京都");
    server.stop().await;
}

#[tokio::test]
async fn response_fields_keep_the_order_of_the_query() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&json!({ "query": "{ zeta: __typename alpha: __typename }" }))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(
        text.find("zeta").unwrap() < text.find("alpha").unwrap(),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn mutations_over_get_are_refused_with_405() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/graphql"))
        .query(&[("query", "mutation { __typename }")])
        .header("accept", RESPONSE_JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "INVALID_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn bodies_that_are_not_json_are_refused_with_415() {
    let server = TestServer::start().await;
    let body = br#"{"query":"{ __typename }"}"#.to_vec();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=latin1"),
        None,
    ] {
        let (status, _, json) = post_raw(&server, content_type, None, body.clone()).await;
        assert_eq!(status, 415, "{content_type:?}");
        assert_eq!(error_code(&json), "INVALID_INPUT");
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_bodies_batches_and_oversized_bodies_get_4xx() {
    let server = TestServer::start_with(&["--body-limit", "4096"]).await;
    let cases: Vec<(&[u8], u16)> = vec![
        (b"{ \"not json", 400),
        (b"", 400),
        (br#"[{"query":"{ __typename }"}]"#, 400),
        (br#"{"query": 1}"#, 400),
        (br#"{"variables": {}}"#, 400),
        (br#"{"query":"{ __typename }","variables":"x"}"#, 400),
        (br#"{"query":"{ __typename }","operationName":false}"#, 400),
    ];
    for (body, expected) in cases {
        let (status, _, json) = post_raw(
            &server,
            Some("application/json"),
            Some(RESPONSE_JSON),
            body.to_vec(),
        )
        .await;
        assert_eq!(
            status.as_u16(),
            expected,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(error_code(&json), "INVALID_INPUT");
    }
    let huge = format!(
        r#"{{"query":"{{ __typename }}","variables":{{"pad":"{}"}}}}"#,
        "x".repeat(10_000)
    );
    let (status, _, json) =
        post_raw(&server, Some("application/json"), None, huge.into_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&json), "INVALID_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn other_methods_get_405() {
    let server = TestServer::start().await;
    let response = server
        .client
        .put(server.url("/graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    server.stop().await;
}

#[tokio::test]
async fn request_errors_are_400_without_data_under_graphql_response_json() {
    let server = TestServer::start().await;
    for query in [
        "{",
        "{ noSuchField }",
        "query A { __typename } query B { __typename }",
    ] {
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let (status, _, json) = post_raw(
            &server,
            Some("application/json"),
            Some(RESPONSE_JSON),
            body.clone(),
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert!(json.get("data").is_none(), "{json}");
        assert_eq!(error_code(&json), "INVALID_INPUT");
        // Legacy clients get 200 with the same errors.
        let (status, _, json) = post_raw(
            &server,
            Some("application/json"),
            Some("application/json"),
            body,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&json), "INVALID_INPUT");
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_coded_errors() {
    let server = TestServer::start().await;
    // Unknown operation name.
    let response = server
        .client
        .post(server.url("/graphql"))
        .json(&json!({ "query": "query A { __typename }", "operationName": "B" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(error_code(&response.json().await.unwrap()), "INVALID_INPUT");
    // Wrong variable type.
    let code = server
        .error_code(
            "query Q($first: Int) { prefectures(first: $first) { edges { cursor } } }",
            json!({ "first": "many" }),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    // Page size over the cap.
    let code = server
        .error_code(
            "{ facilities(first: 99999999) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    let code = server
        .error_code("{ facilities(first: -1) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(code, "INVALID_INPUT");
    // A cursor that is not one of ours.
    let code = server
        .error_code(
            r#"{ facilities(after: "garbage!") { edges { cursor } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    // Unknown global id.
    let code = server
        .error_code(r#"{ node(id: "VW5rbm93bjp4") { id } }"#, json!({}))
        .await;
    assert_eq!(code, "NOT_FOUND");
    let code = server
        .error_code(
            r#"{ organization(id: "not base64 at all") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    // A municipality code with a wrong check digit.
    let response = server
        .graphql(r#"{ municipality(code: "131106") { name } }"#, json!({}))
        .await;
    assert_eq!(error_code(&response), "INVALID_INPUT");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    assert_eq!(
        response["errors"][0]["extensions"]["field"],
        "municipalityCode"
    );
    // A prefecture code out of range.
    let code = server
        .error_code(r#"{ prefecture(code: "48") { name } }"#, json!({}))
        .await;
    assert_eq!(code, "INVALID_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn depth_complexity_and_alias_limits_refuse_oversized_operations() {
    let server = TestServer::start_with(&["--max-depth", "5", "--max-aliases", "3"]).await;
    let deep = "{ facilities { edges { node { municipality { prefecture { municipalities { edges { node { name } } } } } } } } }";
    assert_eq!(server.error_code(deep, json!({})).await, "INVALID_INPUT");
    let aliases = "{ a: __typename b: __typename c: __typename d: __typename }";
    let response = server.graphql(aliases, json!({})).await;
    assert_eq!(error_code(&response), "INVALID_INPUT");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );
    assert!(
        server
            .graphql("{ a: __typename b: __typename }", json!({}))
            .await
            .get("errors")
            .is_none()
    );
    server.stop().await;

    // With the default limit, complexity grows with the page sizes a query asks for.
    let server = TestServer::start().await;
    let nested = "{ facilities(first: 100) { edges { node { municipality { facilities(first: 100) { edges { node { name } } } } } } } }";
    let response = server.graphql(nested, json!({})).await;
    assert_eq!(error_code(&response), "INVALID_INPUT");
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{response}"
    );
    let small = nested.replace("100", "2");
    assert!(
        server
            .graphql(&small, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    server.stop().await;

    let server = TestServer::start_with(&["--max-complexity", "5"]).await;
    let wide = "{ prefectures { edges { node { id code name nameKana nameRomaji } } } }";
    assert_eq!(server.error_code(wide, json!({})).await, "INVALID_INPUT");
    server.stop().await;
}

#[tokio::test]
async fn introspection_can_be_turned_off_and_then_no_suggestions_leak() {
    let server = TestServer::start_with(&["--disable-introspection"]).await;
    let response = server
        .graphql("{ __schema { types { name } } }", json!({}))
        .await;
    assert!(response["errors"].is_array(), "{response}");
    let response = server.graphql("{ prefecture { nam } }", json!({})).await;
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let response = server.get("/healthz").await;
    assert!(response.headers().get("x-request-id").is_some());
    let response = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    server.stop().await;
}

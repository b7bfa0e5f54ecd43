//! Health probes and the playground (GraphiQL).

mod common;

use common::TestServer;
use common::api::meguro_id;
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let server = TestServer::start().await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    // With the database gone, the process is alive but not ready.
    server.state.db.close().await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn the_playground_is_graphiql_served_from_here() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    // Scripts from this server only, and no eval.
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self';"));
    assert!(!csp.contains("unsafe-eval"));
    let page = response.text().await.unwrap();
    assert!(page.contains("/web/graphiql/dist/graphiql.js"));
    // No script, style or font from elsewhere: it must work without internet access.
    for needle in ["src=\"http", "href=\"http", "cdn."] {
        assert!(!page.contains(needle), "the page loads {needle}");
    }
    let bundle = server.get("/web/graphiql/dist/graphiql.js").await;
    assert_eq!(bundle.status(), 200);
    let bundle = bundle.text().await.unwrap();
    assert!(
        bundle.contains("graphql-transport-ws"),
        "subscriptions over graphql-ws"
    );
    assert!(
        bundle.contains("/playground/operations"),
        "the examples plugin"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_example_operation_is_listed_and_valid_against_the_schema() {
    let server = TestServer::start().await;
    let operations: Vec<Value> = server
        .get("/playground/operations")
        .await
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

#[tokio::test]
async fn the_setup_and_reset_pages_are_served_self_contained_in_both_languages() {
    let server = TestServer::start().await;
    for (path, japanese, english, operations) in [
        (
            "/setup",
            "初回ログイン",
            "First login",
            &["send-code", "step-finish"][..],
        ),
        (
            "/reset",
            "パスワードの再設定",
            "Reset your password",
            &["step-user", "step-answer"][..],
        ),
    ] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        // No inline script on a page that takes passwords, and nothing from other origins.
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        let page = response.text().await.unwrap();
        assert!(page.contains(japanese) && page.contains(english), "{path}");
        for id in operations {
            assert!(page.contains(&format!("id=\"{id}\"")), "{path} lacks #{id}");
        }
        for needle in ["src=\"http", "href=\"http", "@import", "cdn.", "<script>"] {
            assert!(!page.contains(needle), "{path} has {needle}");
        }
    }
    for (path, kind) in [
        ("/account/account.js", "text/javascript"),
        ("/account/account.css", "text/css"),
    ] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_invitation_link_points_at_the_setup_page() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let meguro = meguro_id(&server).await;
    server
        .graphql_as(
            &desk,
            "mutation($o: ID!) { inviteUser(input: { organizationId: $o, username: \"page.user\", email: \"page@meguro.example.jp\", displayName: \"新任\", role: MUNICIPALITY }) { id } }",
            json!({ "o": meguro }),
        )
        .await;
    let mail = server.last_mail_to("page@meguro.example.jp").await;
    let link = mail
        .split_whitespace()
        .find(|w| w.contains("/setup#token="))
        .expect("the mail carries the set-up link");
    let path = &link[link.find("/setup").unwrap()..link.find('#').unwrap()];
    let response = server.client.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{link} must not be a 404");
    server.stop().await;
}

#[tokio::test]
async fn every_operation_the_account_pages_send_is_valid_against_the_schema() {
    let server = TestServer::start().await;
    let script = include_str!("../pages/account.js");
    let block = &script[script.find("const OPERATIONS = {").unwrap()..];
    let block = &block[..block.find("};").unwrap()];
    // Each operation is `name: 'piece' + 'piece' …`, continued on more deeply indented lines.
    let mut operations: Vec<String> = Vec::new();
    for line in block.lines().skip(1) {
        let pieces: String = line.split('\'').skip(1).step_by(2).collect();
        let starts_entry = line.starts_with("  ") && !line.starts_with("   ");
        match operations.last_mut() {
            Some(last) if !starts_entry => last.push_str(&pieces),
            _ => operations.push(pieces),
        }
    }
    assert_eq!(operations.len(), 6, "{operations:?}");
    for operation in operations {
        let variables =
            json!({ "t": "x", "c": "000000", "p": "x", "q": "x", "a": "x", "u": "nobody" });
        let response = server.graphql(&operation, variables).await;
        for error in response["errors"].as_array().into_iter().flatten() {
            // Placeholder values may be refused; the document itself must never be.
            let code = error["extensions"]["code"].as_str().unwrap_or_default();
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                code != "INVALID_INPUT" || error["extensions"]["field"].is_string(),
                "{operation}: {message}"
            );
        }
    }
    server.stop().await;
}

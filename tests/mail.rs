//! Mail: written to the outbox with the action, sent afterwards (as .eml files without SMTP),
//! retried when the server is unreachable, and never rolling back the action.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::json;
use vsys::identity::demo::DEMO_PASSWORD;

#[tokio::test]
async fn without_smtp_mail_is_written_as_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().display().to_string();
    let server = TestServer::start_with(&["--mail-dir", &dir_arg]).await;
    server.sign_in_step_one("meguro.admin", DEMO_PASSWORD).await;
    server.state.mailer.drain().await;
    let mut found = None;
    for _ in 0..50 {
        found = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"));
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let file = found.expect("an .eml file");
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(text.contains("meguro.admin@demo.vsys.invalid"));
    // The file is written just before the row is marked sent; wait for the mark.
    let mut status = String::new();
    for _ in 0..100 {
        status =
            sqlx::query_scalar("SELECT status FROM mail_outbox ORDER BY created_at DESC LIMIT 1")
                .fetch_one(server.state.db.pool())
                .await
                .unwrap();
        if status == "SENT" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "SENT");
    let body: String =
        sqlx::query_scalar("SELECT body FROM mail_outbox ORDER BY created_at DESC LIMIT 1")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    assert!(
        body.is_empty(),
        "a sent message's code does not stay in the database"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unreachable_smtp_server_delays_mail_but_loses_nothing_and_undoes_nothing() {
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    let server = TestServer::start_with(&["--smtp-url", "smtp://127.0.0.1:9"]).await;
    let step_one = server.sign_in_step_one("meguro.admin", DEMO_PASSWORD).await;
    assert!(
        step_one["data"]["signIn"]["challengeId"].is_string(),
        "the action succeeded: {step_one}"
    );
    // The background worker may hold the message while it tries; wait for its verdict.
    let mut row: (String, i32, Option<String>) = (String::new(), 0, None);
    for _ in 0..100 {
        server.state.mailer.drain().await;
        row = sqlx::query_as(
            "SELECT status, attempts, last_error FROM mail_outbox ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
        if row.0 != "SENDING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, attempts, error) = row;
    assert_eq!(status, "PENDING", "kept for a retry");
    assert!(attempts >= 1);
    assert!(error.is_some());
    // The code still works: the mail's failure did not roll the sign-in back.
    let code = server.last_code_to("meguro.admin@demo.vsys.invalid").await;
    let challenge = step_one["data"]["signIn"]["challengeId"].as_str().unwrap();
    let session = server
        .graphql(
            "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token } }",
            json!({ "c": challenge, "code": code }),
        )
        .await;
    assert!(session["data"]["verifySecondFactor"]["token"].is_string());
    server.stop().await;
}

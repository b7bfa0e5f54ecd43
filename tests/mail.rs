//! Mail: a job on the durable queue written with the action, sent afterwards (as .eml files
//! without SMTP), retried when the server is unreachable, and never rolling back the action.

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
    server.state.jobs.drain().await;
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
    // The file is written just before the job is marked done; wait for the mark.
    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar(
            "SELECT status FROM jobs WHERE kind = 'mail' ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
        if status == "SUCCEEDED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(
        server.last_mail_to("meguro.admin@demo.vsys.invalid").await,
        "",
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
        server.state.jobs.drain().await;
        row = sqlx::query_as(
            "SELECT status, attempts, last_error FROM jobs WHERE kind = 'mail' \
             ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
        if row.0 != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, attempts, error) = row;
    assert_eq!(status, "QUEUED", "kept for a retry");
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

#[tokio::test]
async fn mail_waiting_in_the_earlier_outbox_moves_onto_the_job_queue() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    for (id, status) in [
        ("waiting", "PENDING"),
        ("claimed", "SENDING"),
        ("sent", "SENT"),
    ] {
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_address, subject, body, status, next_attempt_at, \
             created_at) VALUES ($1, $2, 'subject', 'body of ' || $1, $3, $4, $4)",
        )
        .bind(id)
        .bind(format!("{id}@example.jp"))
        .bind(status)
        .bind(db.now())
        .execute(db.pool())
        .await
        .unwrap();
    }
    assert_eq!(vsys::mail::adopt_earlier_outbox(db).await.unwrap(), 2);
    assert_eq!(
        server.last_mail_to("waiting@example.jp").await,
        "body of waiting"
    );
    assert_eq!(
        server.last_mail_to("claimed@example.jp").await,
        "body of claimed"
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM mail_outbox")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(left, ["sent"], "what was sent stays as it was");
    // Run again (the next start), nothing moves twice.
    assert_eq!(vsys::mail::adopt_earlier_outbox(db).await.unwrap(), 0);
    server.stop().await;
}

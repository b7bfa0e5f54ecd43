//! Crash recovery of the job queue: the server is killed (`kill -9`) in the middle of printing
//! a batch of questionnaires; after a restart the job is taken up again and every page is
//! produced exactly once — each person in exactly one file, no file twice.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::documents::{HEADER, person, upload};
use common::{TEST_TOTP_KEY, TestDb, TestServer};
use serde_json::json;

const PEOPLE: usize = 300;
const BATCH: &str = "10";

/// `vsys serve` as its own process on `url`, running jobs, with a two-second lease.
fn spawn_server(url: &str, mail_dir: &std::path::Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vsys"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
        .args(["--job-lease-secs", "2", "--questionnaire-batch", BATCH])
        .arg("--mail-dir")
        .arg(mail_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if url.starts_with("postgres") {
        command.args(["--totp-key", TEST_TOTP_KEY]);
    }
    command.spawn().expect("the server starts")
}

async fn job_state(db: &vsys::db::Db) -> (String, i64, i64) {
    sqlx::query_as("SELECT status, progress_done, attempts FROM jobs WHERE kind = 'questionnaires'")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_killed_mid_batch_resumes_and_prints_every_page_exactly_once() {
    let test_db = TestDb::new().await;
    let mail_dir = tempfile::tempdir().unwrap();
    // Import and request with an in-process server that runs no jobs.
    let server = TestServer::start_on(&test_db.url, &[]).await;
    let hospital = common::api::sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let rows: String = (0..PEOPLE)
        .map(|i| person(&format!("目黒 {i:04}"), "1980-04-01", "目黒区"))
        .collect();
    let (status, response) = upload(
        &server,
        &hospital,
        format!("{HEADER}{rows}").as_bytes(),
        true,
    )
    .await;
    assert_eq!(status, 200, "{response}");
    server
        .data_as(
            &hospital,
            "mutation { generateQuestionnaires { id } }",
            json!({}),
        )
        .await;
    server.stop().await;
    let db = vsys::db::Db::connect(&test_db.url).await.unwrap();

    // A worker process takes the job; it is killed once a few batches are in.
    let mut worker = spawn_server(&test_db.url, mail_dir.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, done, _) = job_state(&db).await;
        if done >= 30 {
            break;
        }
        if let Some(status) = worker.try_wait().unwrap() {
            panic!("the worker process exited early: {status}");
        }
        assert!(Instant::now() < deadline, "the job did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.kill().expect("kill -9");
    worker.wait().unwrap();
    let (status, done, _) = job_state(&db).await;
    assert_eq!(status, "RUNNING", "killed in the middle");
    assert!((done as usize) < PEOPLE, "killed before the end: {done}");

    // After a restart the lease runs out and the job is taken up again.
    let mut worker = spawn_server(&test_db.url, mail_dir.path());
    let deadline = Instant::now() + Duration::from_secs(300);
    let attempts = loop {
        let (status, _, attempts) = job_state(&db).await;
        if status == "SUCCEEDED" {
            break attempts;
        }
        assert_ne!(status, "FAILED");
        if let Some(status) = worker.try_wait().unwrap() {
            panic!("the restarted worker exited early: {status}");
        }
        assert!(Instant::now() < deadline, "the job was not resumed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(attempts >= 2, "taken up again: {attempts} tries");

    // Every person printed once, in one file; the files' pages add up to the people.
    let unprinted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM questionnaire_recipients WHERE printed_at IS NULL OR file_id IS NULL",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(unprinted, 0);
    let files: Vec<(String, i64, i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, part, items, content FROM generated_files ORDER BY part")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let parts: Vec<i64> = files.iter().map(|f| f.1).collect();
    assert_eq!(parts, (1..=files.len() as i64).collect::<Vec<_>>());
    let mut pages = 0;
    let mut names = std::collections::BTreeSet::new();
    for (id, _, items, content) in &files {
        let in_file: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM questionnaire_recipients WHERE file_id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(in_file, *items);
        let document = lopdf::Document::load_mem(content).unwrap();
        let numbers: Vec<u32> = document.get_pages().keys().copied().collect();
        assert_eq!(numbers.len() as i64, *items, "one page per person");
        pages += numbers.len();
        let text = document.extract_text(&numbers).unwrap();
        for i in 0..PEOPLE {
            let name = format!("目黒 {i:04}");
            if text.contains(&name) {
                assert!(names.insert(name.clone()), "{name} printed twice");
            }
        }
    }
    assert_eq!(pages, PEOPLE);
    assert_eq!(names.len(), PEOPLE, "every person printed");
    // One mail, once.
    let mails: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'mail' AND payload LIKE '%予診票の作成完了%'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(mails, 1);
    db.close().await;
}

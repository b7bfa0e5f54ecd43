//! Printing questionnaires: `generateQuestionnaires` draws coupon numbers from the ledger and
//! starts a job; the job's PDFs carry the people's names and numbers; the files download
//! through signed links that expire; progress arrives live on `documentJobs`.

mod common;

use common::TestServer;
use common::api::sign_in_accepting_policy;
use common::documents::{HEADER, person, upload};
use serde_json::{Value, json};

const GENERATE: &str =
    "mutation($dose: Int! = 1) { generateQuestionnaires(dose: $dose) { id status progressDone } }";
const JOBS: &str = "{ documentJobs { id status progressDone progressTotal error files { fileName part pages contentType byteSize sha256 downloadUrl downloadExpiresAt } } }";

/// The path and query of a download link (its host is the configured public address).
fn local(url: &str) -> String {
    let start = url.find("/files/").expect("a download link");
    url[start..].to_owned()
}

/// The text of every page of a PDF.
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let document = lopdf::Document::load_mem(bytes).expect("a readable PDF");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document.extract_text(&pages).expect("text extracts");
    (pages.len(), text)
}

async fn import(server: &TestServer, token: &str, people: &[(&str, &str)]) {
    let rows: String = people
        .iter()
        .map(|(name, municipality)| person(name, "1980-04-01", municipality))
        .collect();
    let (status, response) =
        upload(server, token, format!("{HEADER}{rows}").as_bytes(), true).await;
    assert_eq!(status, 200, "{response}");
    assert!(response["errors"].is_null(), "{response}");
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn printed_questionnaires_carry_names_and_coupon_numbers_behind_expiring_links() {
    let server = TestServer::start().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    import(
        &server,
        &hospital,
        &[
            ("目黒 太郎", "目黒区"),
            ("世田谷 花子", "世田谷区"),
            ("目黒 次郎", "目黒区"),
        ],
    )
    .await;
    // Names that look like a formula or carry markup and a URL: printed literally.
    import(
        &server,
        &hospital,
        &[
            ("=HYPERLINK(\"https://evil.example\")", "目黒区"),
            ("<b>港</b> https://example.jp", "港区"),
        ],
    )
    .await;
    let started = server
        .data_as(&hospital, GENERATE, json!({ "dose": 1 }))
        .await;
    assert_eq!(started["generateQuestionnaires"]["status"], "QUEUED");
    // Nothing left to print while the job holds them: a second request is refused.
    let again = server.graphql_as(&hospital, GENERATE, json!({})).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert_eq!(
        again["errors"][0]["extensions"]["reason"],
        "NOTHING_TO_PRINT"
    );

    server.state.jobs.drain().await;
    let jobs = server.data_as(&hospital, JOBS, json!({})).await;
    let job = &jobs["documentJobs"][0];
    assert_eq!(job["status"], "SUCCEEDED", "{jobs}");
    assert_eq!(job["progressDone"], 5);
    assert_eq!(job["progressTotal"], 5);
    let file = &job["files"][0];
    assert_eq!(file["pages"], 5);
    assert_eq!(file["contentType"], "application/pdf");

    // The coupon ledger: each municipality numbers its own coupons from 1.
    let coupons: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.code, c.number FROM coupons c JOIN organizations m ON m.id = c.municipality_id \
         WHERE c.status = 'ISSUED' ORDER BY m.code, c.number",
    )
    .fetch_all(server.state.db.pool())
    .await
    .unwrap();
    let numbers: Vec<(&str, &str)> = coupons
        .iter()
        .map(|(m, n)| (m.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("131032", "0000000001"),
            ("131105", "0000000001"),
            ("131105", "0000000002"),
            ("131105", "0000000003"),
            ("131121", "0000000001")
        ]
    );

    // The file: one page per person, with names, coupon numbers and the OCR digits.
    let link = local(file["downloadUrl"].as_str().unwrap());
    let response = server.get(&link).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(file["byteSize"], bytes.len());
    let (pages, text) = pdf_text(&bytes);
    assert_eq!(pages, 5);
    for expected in [
        "目黒 太郎",
        "世田谷 花子",
        "目黒 次郎",
        "予診票",
        "券番号",
        "=HYPERLINK(\"https://evil.example\")",
        "<b>港</b> https://example.jp",
    ] {
        assert!(text.contains(expected), "{expected} in the text:\n{text}");
    }
    for (municipality, number) in &coupons {
        assert!(text.contains(number.as_str()), "{number}:\n{text}");
        let digits = format!("11{municipality}{number}");
        let spaced: Vec<String> = digits.chars().map(|c| c.to_string()).collect();
        assert!(
            text.contains(&spaced.join(" ")),
            "the OCR line {digits}:\n{text}"
        );
    }
    std::fs::create_dir_all("target/artefacts").unwrap();
    std::fs::write("target/artefacts/questionnaire.pdf", &bytes).unwrap();

    // The requester was told, once.
    let email: String =
        sqlx::query_scalar("SELECT email FROM users WHERE username = 'meguro-hospital.admin'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    let mails: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM jobs WHERE kind = 'mail' AND reference = $1")
            .bind(&email)
            .fetch_all(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("予診票の作成完了"))
            .count(),
        1,
        "{mails:?}"
    );

    // A link altered in any way is refused; after seven days the real one is gone.
    let forged = link.replace("signature=", "signature=0");
    assert_eq!(server.get(&forged).await.status(), 403);
    let other_file = link.replacen("/files/", "/files/0", 1);
    assert_eq!(server.get(&other_file).await.status(), 403);
    let unsigned = link.split('?').next().unwrap().to_owned();
    assert_eq!(server.get(&unsigned).await.status(), 403);
    server.advance_clock(time::Duration::days(7) + time::Duration::seconds(1));
    let expired = server.get(&link).await;
    assert_eq!(expired.status(), 410);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["code"], "LINK_EXPIRED");
    // Signed in (again: the session has long ended), the organisation gets a fresh link.
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let jobs = server.data_as(&hospital, JOBS, json!({})).await;
    let fresh = local(
        jobs["documentJobs"][0]["files"][0]["downloadUrl"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(server.get(&fresh).await.status(), 200);

    // Thirty days after printing the files, with their personal data, are deleted; the people
    // stay marked printed.
    server.advance_clock(time::Duration::days(23));
    let purged = vsys::documents::files::purge_expired(&server.state.db)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM generated_files")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(files, 0);
    let printed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM questionnaire_recipients WHERE printed_at IS NOT NULL AND file_id IS NULL",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(printed, 5);
    server.stop().await;
}

#[tokio::test]
async fn only_the_importing_organisation_prints_and_sees_its_jobs() {
    let server = TestServer::start_signing_in_freely().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let municipality = sign_in_accepting_policy(&server, "meguro.admin").await;
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    import(&server, &hospital, &[("目黒 太郎", "目黒区")]).await;

    // Nothing imported by the municipality itself: nothing to print.
    let nothing = server.graphql_as(&municipality, GENERATE, json!({})).await;
    assert_eq!(
        nothing["errors"][0]["extensions"]["reason"],
        "NOTHING_TO_PRINT"
    );
    // The nation does not print questionnaires.
    let refused = server.graphql_as(&nation, GENERATE, json!({})).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    // A dose other than 1 or 2.
    let bad = server
        .graphql_as(&hospital, GENERATE, json!({ "dose": 3 }))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT", "{bad}");
    let coupons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM coupons")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(coupons, 0, "refusals issue no coupon");
    let refusals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'generateQuestionnaires' \
         AND outcome <> 'SUCCESS'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(refusals, 3, "every refusal is audited");

    let job = server.data_as(&hospital, GENERATE, json!({})).await;
    let id = job["generateQuestionnaires"]["id"].clone();
    // Another organisation neither lists nor opens it.
    let listed = server.data_as(&municipality, JOBS, json!({})).await;
    assert_eq!(listed["documentJobs"], json!([]));
    let association = sign_in_accepting_policy(&server, "meguro-ma.admin").await;
    let listed = server.data_as(&association, JOBS, json!({})).await;
    assert_eq!(listed["documentJobs"], json!([]));
    let opened = server
        .graphql_as(
            &municipality,
            "query($id: ID!) { documentJob(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&opened), "NOT_FOUND", "{opened}");
    server.stop().await;
}

#[tokio::test]
async fn progress_arrives_live_for_the_organisation_only() {
    let server = TestServer::start_signing_in_freely().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let municipality = sign_in_accepting_policy(&server, "meguro.admin").await;
    import(
        &server,
        &hospital,
        &[("目黒 太郎", "目黒区"), ("目黒 次郎", "目黒区")],
    )
    .await;
    let after = common::ws::latest_seq(&server).await;
    let query = "subscription($a: Int) { documentJobs(after: $a) { jobId status done total } }";
    let payload = json!({ "query": query, "variables": { "a": after } });
    let mut own = common::ws::subscribe(&server, Some(&hospital), "d", payload.clone()).await;
    let mut other = common::ws::subscribe(&server, Some(&municipality), "d", payload).await;

    let job = server.data_as(&hospital, GENERATE, json!({})).await;
    let id = job["generateQuestionnaires"]["id"].clone();
    server.state.jobs.drain().await;
    let mut seen = Vec::new();
    while seen
        .last()
        .map(|(s, _): &(Value, Value)| s != "SUCCEEDED")
        .unwrap_or(true)
    {
        let message = own.next_json().await;
        let event = &message["payload"]["data"]["documentJobs"];
        assert_eq!(event["jobId"], id, "{message}");
        seen.push((event["status"].clone(), event["done"].clone()));
    }
    assert_eq!(
        seen,
        [(json!("QUEUED"), json!(0)), (json!("SUCCEEDED"), json!(2))]
    );
    // The municipality's subscriber got nothing of the hospital's job: a marker in its own
    // organisation is the first thing it receives.
    let meguro: String = sqlx::query_scalar("SELECT id FROM organizations WHERE code = '131105'")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    server
        .state
        .events
        .publish(&vsys::events::NewEvent {
            topic: "document.progress".into(),
            visibility: vsys::events::Visibility::Restricted,
            organization_id: Some(meguro),
            payload: json!({ "jobId": "marker", "done": 0, "total": 0, "status": "QUEUED" }),
        })
        .await
        .unwrap();
    let first = other.next_json().await;
    assert_eq!(
        first["payload"]["data"]["documentJobs"]["jobId"],
        vsys::graphql::ids::global_id("DocumentJob", "marker").to_string(),
        "{first}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_job_that_fails_for_good_says_so_live_and_in_the_list() {
    let server = TestServer::start().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    import(&server, &hospital, &[("目黒 太郎", "目黒区")]).await;
    let after = common::ws::latest_seq(&server).await;
    let query = "subscription($a: Int) { documentJobs(after: $a) { status done total } }";
    let payload = json!({ "query": query, "variables": { "a": after } });
    let mut feed = common::ws::subscribe(&server, Some(&hospital), "d", payload).await;
    server.data_as(&hospital, GENERATE, json!({})).await;
    // A stored value no sheet can print (damaged outside the API): the job cannot succeed.
    sqlx::query("UPDATE questionnaire_recipients SET birth_date = 'damaged'")
        .execute(server.state.db.pool())
        .await
        .unwrap();
    server.state.jobs.drain().await;
    let mut statuses = Vec::new();
    while statuses
        .last()
        .map(|s: &Value| s != "FAILED")
        .unwrap_or(true)
    {
        let message = feed.next_json().await;
        statuses.push(message["payload"]["data"]["documentJobs"]["status"].clone());
    }
    assert_eq!(statuses, [json!("QUEUED"), json!("FAILED")]);
    let jobs = server.data_as(&hospital, JOBS, json!({})).await;
    let job = &jobs["documentJobs"][0];
    assert_eq!(job["status"], "FAILED");
    // What failed stays in the log; the user reads what to do, never the internals.
    let error = job["error"].as_str().unwrap();
    assert!(!error.contains("damaged"), "{error}");
    server.stop().await;
}

//! Importing the people questionnaires are printed for: a CSV uploaded as a GraphQL multipart
//! request (with the preflight header), in UTF-8 or Shift_JIS, at most 1,000 people, all or
//! nothing, every bad row named; each bad input changes nothing.

mod common;

use common::TestServer;
use common::api::sign_in_accepting_policy;
use common::documents::{HEADER, IMPORT, person, upload};
use serde_json::{Value, json};

async fn recipients(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM questionnaire_recipients")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap()
}

fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_hospital_imports_a_shift_jis_list_and_empty_template_rows_are_skipped() {
    let server = TestServer::start().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let text = format!(
        "{HEADER}{}{}{}{}{}",
        person("目黒 太郎", "1980/4/1", "目黒区"),
        ",,,,,,,\r\n",
        person(
            "=HYPERLINK(\"https://evil.example\")",
            "1975-12-31",
            "目黒区"
        ),
        person("<b>目黒</b> https://example.jp", "1990-01-02", "目黒区"),
        ",,,,,,,\r\n",
    );
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    let (status, response) = upload(&server, &hospital, &sjis, true).await;
    assert_eq!(status, 200, "{response}");
    let answer = &response["data"]["importQuestionnaireRecipients"];
    assert_eq!(answer["imported"], 3, "{response}");
    assert_eq!(answer["skippedEmptyRows"], 2);
    assert_eq!(answer["fileName"], "list.csv");
    // Stored exactly as written: a formula and markup are text.
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM questionnaire_recipients ORDER BY line")
            .fetch_all(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        names,
        [
            "目黒 太郎",
            "=HYPERLINK(\"https://evil.example\")",
            "<b>目黒</b> https://example.jp"
        ]
    );
    let listed = server
        .data_as(
            &hospital,
            "{ questionnaireImports { id imported } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["questionnaireImports"][0]["id"], answer["id"]);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'importQuestionnaireRecipients' \
         AND outcome = 'SUCCESS' AND after_state NOT LIKE '%目黒 太郎%'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1, "audited, without the people's details");
    server.stop().await;
}

#[tokio::test]
async fn bad_files_are_refused_with_a_code_and_import_nothing() {
    let server = TestServer::start().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let good = person("目黒 太郎", "1980-04-01", "目黒区");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "1,001 people",
            format!("{HEADER}{}", good.repeat(1_001)).into_bytes(),
            "INVALID_INPUT",
        ),
        (
            "a municipality of another prefecture",
            format!("{HEADER}{}", person("目黒 太郎", "1980-04-01", "横浜市")).into_bytes(),
            "INVALID_INPUT",
        ),
        (
            "a date of birth in the future",
            format!("{HEADER}{}", person("目黒 太郎", "2999-04-01", "目黒区")).into_bytes(),
            "INVALID_INPUT",
        ),
        (
            "bytes that are neither UTF-8 nor Shift_JIS",
            [HEADER.as_bytes(), b"\x81\x20\xff,x\r\n"].concat(),
            "INVALID_INPUT",
        ),
        (
            "an unknown column",
            format!("{}extra\r\n", HEADER.trim_end()).into_bytes(),
            "INVALID_INPUT",
        ),
    ];
    for (what, file, code) in cases {
        let (status, response) = upload(&server, &hospital, &file, true).await;
        assert!(status < 500, "{what}: {status} {response}");
        assert_eq!(error_code(&response), code, "{what}: {response}");
        assert_eq!(recipients(&server).await, 0, "{what}: nothing imported");
    }
    // The rows at fault are named: line and column.
    let file = format!(
        "{HEADER}{good}{}{}",
        person("目黒 花子", "2999-01-01", "目黒区"),
        person("目黒 次郎", "1980-04-01", "横浜市")
    );
    let (_, response) = upload(&server, &hospital, file.as_bytes(), true).await;
    let rows = &response["errors"][0]["extensions"]["rows"];
    assert_eq!(rows[0]["row"], 3, "{response}");
    assert_eq!(rows[0]["field"], "生年月日");
    assert_eq!(rows[1]["row"], 4);
    assert_eq!(rows[1]["field"], "市区町村");
    assert_eq!(recipients(&server).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn an_upload_needs_the_preflight_header_and_stays_under_the_size_limit() {
    let server = TestServer::start().await;
    let hospital = sign_in_accepting_policy(&server, "meguro-hospital.admin").await;
    let file = format!("{HEADER}{}", person("目黒 太郎", "1980-04-01", "目黒区"));
    // Without the header a cross-site form could send it: refused before anything is read.
    let (status, response) = upload(&server, &hospital, file.as_bytes(), false).await;
    assert_eq!(status, 400, "{response}");
    assert_eq!(error_code(&response), "INVALID_INPUT");
    // 50 MB: refused with 413, nothing read into the database.
    let huge = vec![b'a'; 50 * 1024 * 1024];
    let (status, response) = upload(&server, &hospital, &huge, true).await;
    assert_eq!(status, 413, "{response}");
    assert_eq!(recipients(&server).await, 0);
    // Over JSON no file arrives; a forged file mark is refused, never a crash.
    let (status, response) = server
        .graphql_with_headers(
            &hospital,
            &[],
            IMPORT,
            json!({ "file": "#__graphql_file__:0" }),
        )
        .await;
    assert!(status < 500, "{response}");
    assert_eq!(error_code(&response), "INVALID_INPUT", "{response}");
    let (status, response) = server
        .graphql_with_headers(
            &hospital,
            &[],
            IMPORT,
            json!({ "file": "#__graphql_file__:x" }),
        )
        .await;
    assert!(status < 500, "{response}");
    assert!(response["errors"].is_array(), "{response}");
    // Another kind of organisation may not import.
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let (_, response) = upload(&server, &pfizer, file.as_bytes(), true).await;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    assert_eq!(recipients(&server).await, 0);
    server.stop().await;
}

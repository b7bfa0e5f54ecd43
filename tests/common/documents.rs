//! Uploading CSV files of questionnaire recipients, as a browser's multipart form does.

use serde_json::{Value, json};

use super::TestServer;

pub const IMPORT: &str = "mutation($file: Upload!) { importQuestionnaireRecipients(file: $file) { id fileName imported skippedEmptyRows } }";
pub const HEADER: &str =
    "氏名,氏名カナ,生年月日,性別,都道府県,市区町村,医療従事者等区分,勤務先\r\n";

pub fn person(name: &str, birth: &str, municipality: &str) -> String {
    format!("{name},メグロ タロウ,{birth},男,東京都,{municipality},医師,目黒区病院01\r\n")
}

/// Posts `file` as the `$file` of IMPORT, as a browser's multipart form would; `preflight`
/// adds the header that makes such a request safe.
pub async fn upload(
    server: &TestServer,
    token: &str,
    file: &[u8],
    preflight: bool,
) -> (u16, Value) {
    let operations = json!({ "query": IMPORT, "variables": { "file": null } });
    multipart(server, token, operations, file, "list.csv", preflight).await
}

/// Posts a GraphQL multipart request: `operations` (whose `variables.file` is null) with `file`
/// named `file_name` as that variable.
pub async fn multipart(
    server: &TestServer,
    token: &str,
    operations: Value,
    file: &[u8],
    file_name: &str,
    preflight: bool,
) -> (u16, Value) {
    let boundary = "vsys-test-boundary-7d1e";
    let mut body = Vec::new();
    let mut part = |headers: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"operations\"",
        operations.to_string().as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"map\"",
        br#"{ "0": ["variables.file"] }"#,
    );
    part(
        &format!(
            "Content-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream"
        ),
        file,
    );
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    if preflight {
        request = request.header("apollo-require-preflight", "true");
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

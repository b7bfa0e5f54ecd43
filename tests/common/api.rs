//! Typed helpers over GraphQL responses, and look-ups of demo objects by name or code.

use serde_json::{Value, json};

use super::TestServer;

/// The first error's `extensions.<key>`, or `"<none>"`.
fn extension<'a>(response: &'a Value, key: &str) -> &'a str {
    response["errors"][0]["extensions"][key]
        .as_str()
        .unwrap_or("<none>")
}

/// The first error's code, or `"<none>"` when the response has none.
pub fn error_code(response: &Value) -> &str {
    extension(response, "code")
}

/// The first error's code; panics when the response has no error.
pub fn expect_error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {response}"))
}

/// The first error's `reason`, or `"<none>"`.
pub fn error_reason(response: &Value) -> &str {
    extension(response, "reason")
}

/// The first error's `field`, or `"<none>"`.
pub fn error_field(response: &Value) -> &str {
    extension(response, "field")
}

/// The rows named by a bulk error, as (row, field) pairs.
pub fn error_rows(response: &Value) -> Vec<(u64, String)> {
    response["errors"][0]["extensions"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("expected row errors: {response}"))
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["field"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

/// The `data` of a response that must have no errors.
pub fn data_or_panic(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response}"
    );
    &response["data"]
}

/// Signs a demo user in and accepts the privacy policy (the result is not checked).
pub async fn sign_in_accepting_policy(server: &TestServer, username: &str) -> String {
    let token = server.sign_in(username).await;
    server
        .graphql_as(&token, "mutation { acceptPrivacyPolicy { id } }", json!({}))
        .await;
    token
}

/// Signs in the hospital's user and accepts the privacy policy.
pub async fn hospital(server: &TestServer) -> String {
    sign_in_accepting_policy(server, "meguro-hospital.admin").await
}

/// The first demo facility whose name contains `name`: its node.
async fn facility_node(server: &TestServer, name: &str) -> Value {
    let data = server
        .data(
            "query($n: String) { facilities(nameContains: $n) { edges { node { id code } } } }",
            json!({ "n": name }),
        )
        .await;
    data["facilities"]["edges"][0]["node"].clone()
}

/// The global id of the first demo facility whose name contains `name`.
pub async fn facility_id(server: &TestServer, name: &str) -> Value {
    facility_node(server, name).await["id"].clone()
}

/// The global id and medical-institution code of a demo facility.
pub async fn facility(server: &TestServer, name: &str) -> (Value, String) {
    let node = facility_node(server, name).await;
    (
        node["id"].clone(),
        node["code"].as_str().unwrap().to_owned(),
    )
}

/// The global id of the municipality with `code`.
pub async fn municipality_id(server: &TestServer, code: &str) -> Value {
    server
        .data(
            "query($c: String!) { municipality(code: $c) { id } }",
            json!({ "c": code }),
        )
        .await["municipality"]["id"]
        .clone()
}

/// Meguro's global id.
pub async fn meguro_id(server: &TestServer) -> Value {
    municipality_id(server, "131105").await
}

/// The global id of the first organisation of `kind`.
pub async fn organization_id(server: &TestServer, kind: &str) -> Value {
    server
        .data(
            "query($k: OrganizationKind!) { organizations(kind: $k) { edges { node { id } } } }",
            json!({ "k": kind }),
        )
        .await["organizations"]["edges"][0]["node"]["id"]
        .clone()
}

impl TestServer {
    /// Runs an operation as the holder of `token` that must succeed and returns its `data`.
    pub async fn data_as(&self, token: &str, query: &str, variables: Value) -> Value {
        data_or_panic(&self.graphql_as(token, query, variables).await).clone()
    }

    /// The first error's code (or `"<none>"`) of running `query` as the holder of `token`.
    pub async fn code_as(&self, token: &str, query: &str, variables: Value) -> String {
        error_code(&self.graphql_as(token, query, variables).await).to_owned()
    }

    /// The first error's code (or `"<none>"`) of running `query` anonymously.
    pub async fn code_anonymously(&self, query: &str, variables: Value) -> String {
        error_code(&self.graphql(query, variables).await).to_owned()
    }
}

/// The nodes of a connection (`edges[*].node`); panics when `connection` has no edges.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("expected a connection: {connection}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// Asserts that the response failed with `code`, its first error naming no field or `field`.
pub fn assert_error(response: &Value, code: &str, field: Option<&str>) {
    assert_eq!(expect_error_code(response), code, "{response}");
    if let Some(field) = field {
        assert_eq!(error_field(response), field, "{response}");
    }
}

/// Asserts that the response failed with `INVALID_INPUT` naming `field`.
pub fn assert_invalid(response: &Value, field: &str) {
    assert_error(response, "INVALID_INPUT", Some(field));
}

/// Opens cool 1 of the demo vaccine as the nation; returns its id.
pub async fn open_cool_one(server: &TestServer) -> Value {
    let nation = sign_in_accepting_policy(server, "nation.admin").await;
    server
        .data_as(&nation, r#"mutation { openCool(input: { number: 1, productCode: "PFIZER", startsOn: "2021-05-10" }) { id } }"#, json!({}))
        .await["openCool"]["id"]
        .clone()
}

//! The parameters of one GraphQL operation, decoded the same way whichever transport carried
//! them: a POST body, a GET query string, or a websocket `subscribe` payload.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `query`, `variables`, `operationName` and `extensions`, as the GraphQL-over-HTTP and
/// graphql-ws specifications name them. Unknown members are ignored; `null` is absent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParams {
    #[serde(deserialize_with = "query")]
    pub query: String,
    #[serde(default, deserialize_with = "variables")]
    pub variables: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "operation_name")]
    pub operation_name: Option<String>,
    #[serde(default, deserialize_with = "extensions")]
    pub extensions: Option<Map<String, Value>>,
}

/// A GET query string: the same members, with `variables` and `extensions` as JSON text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryString {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// Why parameters could not be decoded: a sentence for the client.
pub type ParamsError = String;

impl RequestParams {
    /// From a decoded JSON value (a POST body or a subscribe payload).
    pub fn from_json(value: Value) -> Result<RequestParams, ParamsError> {
        match value {
            Value::Object(_) => {}
            Value::Array(_) => {
                return Err(
                    "batched requests are not supported; send one operation per request".into(),
                );
            }
            _ => return Err("the parameters must be a JSON object".into()),
        }
        serde_json::from_value(value).map_err(|e| match e.to_string() {
            m if m.starts_with("missing field `query`") => "query is required".into(),
            m => m,
        })
    }

    /// From a URL query string (`query=…&variables=…`), percent-decoded the way browsers
    /// encode it (`+` is a space).
    pub fn from_query_string(text: &str) -> Result<RequestParams, ParamsError> {
        let raw: QueryString = serde_urlencoded::from_str(text)
            .map_err(|_| ParamsError::from("the query string is malformed"))?;
        let json_object = |text: Option<String>, name: &str| match text.filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                Ok(Value::Null) => Ok(None),
                _ => Err(format!("{name} must be a JSON object")),
            },
        };
        Ok(RequestParams {
            query: raw.query.ok_or("query is required")?,
            variables: json_object(raw.variables, "variables")?,
            operation_name: raw.operation_name.filter(|n| !n.is_empty()),
            extensions: json_object(raw.extensions, "extensions")?,
        })
    }

    /// The request async-graphql executes.
    pub fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query);
        if let Some(variables) = self.variables {
            request = request.variables(async_graphql::Variables::from_json(Value::Object(
                variables,
            )));
        }
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(extensions) = self.extensions {
            request.extensions.0 = extensions
                .into_iter()
                .filter_map(|(k, v)| async_graphql::Value::from_json(v).ok().map(|v| (k, v)))
                .collect();
        }
        request
    }
}

// One function per member, so that an error names the member (serde's own messages name Rust
// types, not members). `null` and absence are the same.

fn query<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(text) => Ok(text),
        _ => Err(D::Error::custom("query must be a string")),
    }
}

fn operation_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(D::Error::custom("operationName must be a string")),
    }
}

fn variables<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Map<String, Value>>, D::Error> {
    object(Value::deserialize(d)?, "variables")
}

fn extensions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Map<String, Value>>, D::Error> {
    object(Value::deserialize(d)?, "extensions")
}

fn object<E: serde::de::Error>(value: Value, name: &str) -> Result<Option<Map<String, Value>>, E> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        _ => Err(E::custom(format!("{name} must be an object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_decodes_with_nulls_as_absent_and_unknown_members_ignored() {
        let params = RequestParams::from_json(json!({
            "query": "{ a }", "variables": null, "operationName": "A", "extra": 1
        }))
        .unwrap();
        assert_eq!(params.query, "{ a }");
        assert_eq!(params.variables, None);
        assert_eq!(params.operation_name.as_deref(), Some("A"));
    }

    #[test]
    fn each_wrong_member_is_named() {
        let error = |value| RequestParams::from_json(value).unwrap_err();
        assert_eq!(error(json!({})), "query is required");
        assert_eq!(error(json!({ "query": 1 })), "query must be a string");
        assert_eq!(
            error(json!({ "query": "{ a }", "variables": [1] })),
            "variables must be an object"
        );
        assert_eq!(
            error(json!({ "query": "{ a }", "operationName": 2 })),
            "operationName must be a string"
        );
        assert_eq!(
            error(json!({ "query": "{ a }", "extensions": "x" })),
            "extensions must be an object"
        );
        assert!(error(json!([{ "query": "{ a }" }])).contains("batched"));
        assert!(error(json!("{ a }")).contains("JSON object"));
    }

    #[test]
    fn a_query_string_decodes_like_a_browser_encodes() {
        let params = RequestParams::from_query_string(
            "query=%7B+a+%7D&variables=%7B%22x%22%3A1%7D&operationName=",
        )
        .unwrap();
        assert_eq!(params.query, "{ a }");
        assert_eq!(
            params.variables,
            Some(json!({ "x": 1 }).as_object().unwrap().clone())
        );
        assert_eq!(params.operation_name, None);
        assert_eq!(
            RequestParams::from_query_string("variables=%7B%7D").unwrap_err(),
            "query is required"
        );
        assert_eq!(
            RequestParams::from_query_string("query=%7Ba%7D&variables=%5B%5D").unwrap_err(),
            "variables must be a JSON object"
        );
        // A stray `%` is kept as it is (as browsers do); the query then fails to parse as
        // GraphQL, which the handler reports.
        assert_eq!(
            RequestParams::from_query_string("query=%zz").unwrap().query,
            "%zz"
        );
    }
}

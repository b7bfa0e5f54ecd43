//! Runs operations on the schema, with the request-wide policies applied around it rather than
//! as async-graphql extensions.
//!
//! With any extension installed, async-graphql resolves every field through the extension chain
//! (a registry look-up and boxed futures per field, for hooks nobody here implements); without
//! one it calls the resolver directly. A page of 100 facilities resolves some 700 fields. The
//! policies only need the parsed document and the response, so they run here:
//! - after parsing and before validation, as the extensions' `parse_query` did: the session
//!   gate ([`SessionGate`]), then the alias and introspection policy ([`ErrorPolicy`]); a
//!   refused document is a request error, as before;
//! - on every response: an error without a code gets one ([`with_codes`]).
//!
//! Every caller of the schema (GraphQL over HTTP, the websocket) goes through here.

use async_graphql::{Request, Response, ServerError, ServerResult};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::AppSchema;
use crate::graphql::documents::DocumentCache;
use crate::graphql::errors::{ErrorPolicy, with_codes};
use crate::identity::{Actor, SessionGate};

/// Executes a query or mutation. `actor` is the caller the request's data carries, if any.
pub async fn execute(schema: &AppSchema, request: Request, actor: Option<&Actor>) -> Response {
    match prepare(schema, request, actor) {
        Ok(request) => with_codes(schema.execute(request).await),
        Err(error) => refused(error),
    }
}

/// Executes any operation as a stream of responses (a subscription's events; one response for
/// a query or mutation).
pub fn execute_stream(
    schema: &AppSchema,
    request: Request,
    actor: Option<&Actor>,
) -> BoxStream<'static, Response> {
    match prepare(schema, request, actor) {
        Ok(request) => schema.execute_stream(request).map(with_codes).boxed(),
        Err(error) => futures_util::stream::once(std::future::ready(refused(error))).boxed(),
    }
}

/// Subscriptions to the latest state of something public, coalesced: what an anonymous
/// subscriber receives depends on its request alone, and it needs no replay (a page that falls
/// behind subscribes again and searches again). Anonymous subscribers to these share one
/// execution per distinct request (`http::websocket::shared`). Feeds that promise every event
/// (`events`) are never shared: each subscriber's own cursor catches up from the outbox.
const SHARED_FIELDS: &[&str] = &["availabilityChanged", "statisticsUpdated"];

/// Whether `query` (with `operation_name`) is a subscription to shared fields only. False when
/// it does not parse or names no single operation: such a request runs on its own and reports
/// its error.
pub fn is_shared_subscription(
    schema: &AppSchema,
    query: &str,
    operation_name: Option<&str>,
) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
    let Some(document) = schema
        .data::<DocumentCache>()
        .and_then(|cache| cache.parsed(query))
    else {
        return false;
    };
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    operation.node.ty == OperationType::Subscription
        && operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .all(|item| match &item.node {
                Selection::Field(field) => SHARED_FIELDS.contains(&field.node.name.node.as_str()),
                // Fragments could hide any field: run on its own.
                _ => false,
            })
}

/// How async-graphql marks a file of a multipart request in the variables.
const UPLOAD_MARK: &str = "#__graphql_file__:";

/// async-graphql reads an `Upload` value's number after [`UPLOAD_MARK`] with an `unwrap`: a
/// client that writes the mark itself, followed by anything but digits, would panic the
/// request. Such a request is refused first. (A mark the multipart reader wrote is always a
/// number.)
fn refuse_forged_upload(request: &Request) -> ServerResult<()> {
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    for text in [request.query.as_str(), variables.as_str()] {
        let mut rest = text;
        while let Some(at) = rest.find(UPLOAD_MARK) {
            rest = &rest[at + UPLOAD_MARK.len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let number_ends = matches!(rest.as_bytes().get(digits), Some(b'"') | Some(b'\\'));
            if digits == 0 || digits > 6 || !number_ends {
                return Err(async_graphql::ServerError::new(
                    "not a file of this request / このリクエストのファイルではありません",
                    None,
                ));
            }
        }
    }
    Ok(())
}

/// A document the policies refuse: a request error, as async-graphql answers one.
fn refused(error: ServerError) -> Response {
    with_codes(Response::from_errors(vec![error]))
}

/// Hands the request its parsed document once the policies accept it. A text that does not
/// parse goes on as it is: async-graphql reports the syntax error.
fn prepare(
    schema: &AppSchema,
    mut request: Request,
    actor: Option<&Actor>,
) -> ServerResult<Request> {
    refuse_forged_upload(&request)?;
    let Some(document) = schema
        .data::<DocumentCache>()
        .and_then(|cache| cache.parsed(&request.query))
    else {
        return Ok(request);
    };
    SessionGate::check(&document, actor)?;
    if let Some(policy) = schema.data::<ErrorPolicy>() {
        policy.check(&document)?;
    }
    request.set_parsed_query(document);
    Ok(request)
}

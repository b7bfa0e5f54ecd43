//! Anonymous subscribers who ask the same thing share one execution.
//!
//! The public navigator opens one subscription per page, and the pages of an area all send the
//! same document with the same variables. An anonymous subscription's results depend on nothing
//! but that request, so the instance runs it once: one execution, each result resolved and
//! serialized once, and every subscriber's task only frames the shared text with its own id.
//! With 10,000 pages open, a change costs one resolution instead of 10,000.
//!
//! Only subscriptions of connections without a session are shared (a signed-in user's results
//! depend on who they are), and only to the latest-state feeds that need no replay
//! (`schema::execution::is_shared_subscription`); queries and mutations never are.
//!
//! A subscriber joins the execution's results from the moment it joins, as it would with an
//! execution of its own (subscriptions deliver what happens after they start). One whose
//! client reads too slowly to keep up with the buffer is told so with an `error` and ends,
//! rather than silently missing results.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::graphql::RequestParams;

/// Results buffered per subscriber before it counts as too slow.
const BUFFER: usize = 1024;

/// One result of a shared execution.
pub struct SharedResult {
    /// The response, for the rare error message built per subscriber.
    pub response: async_graphql::Response,
    /// The response serialized once, framed by each subscriber.
    pub payload: Option<Arc<str>>,
}

/// What a subscriber receives: shared results, until the execution ends.
pub type SharedResults = BoxStream<'static, Result<Arc<SharedResult>, Lagged>>;

/// The subscriber fell more than [`BUFFER`] results behind.
pub struct Lagged;

/// The instance's shared executions, by request.
#[derive(Default)]
pub struct SharedExecutions {
    running: Mutex<HashMap<String, Weak<Execution>>>,
}

/// One running execution. Its subscribers hold it; when the last one leaves, it is dropped
/// and its task stopped.
struct Execution {
    state: Arc<ExecutionState>,
    task: AbortHandle,
}

impl Drop for Execution {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the execution's task and its joiners share. Joining and the end of the results are
/// decided under the one lock, so a subscriber either joins before a final result or starts a
/// new execution; it never joins one that has already said its last.
struct ExecutionState {
    joining: Mutex<Joining>,
}

struct Joining {
    /// For joiners to subscribe with; `None` once no more results will come (the stream
    /// ended, or a result with errors, which may be the last, was sent). No receiver is kept
    /// for joining, so no result is held longer than its subscribers need it.
    sender: Option<broadcast::Sender<Arc<SharedResult>>>,
}

impl SharedExecutions {
    /// The shared results of `params`, joining a running execution or starting one with
    /// `start`, which must run the request exactly as an unshared subscriber's would.
    pub fn join(
        &self,
        params: &RequestParams,
        start: impl FnOnce() -> BoxStream<'static, async_graphql::Response>,
    ) -> SharedResults {
        let key = key_of(params);
        let mut running = self.running.lock().expect("shared executions lock");
        if let Some(execution) = running.get(&key).and_then(Weak::upgrade) {
            let joining = execution.state.joining.lock().expect("joining lock");
            if let Some(sender) = &joining.sender {
                let receiver = sender.subscribe();
                drop(joining);
                return results(execution, receiver);
            }
        }
        // Clears out executions whose subscribers have all gone.
        running.retain(|_, execution| execution.strong_count() > 0);
        let (sender, receiver) = broadcast::channel(BUFFER);
        let state = Arc::new(ExecutionState {
            joining: Mutex::new(Joining {
                sender: Some(sender.clone()),
            }),
        });
        let task = tokio::spawn(run(start(), sender, state.clone())).abort_handle();
        let execution = Arc::new(Execution { state, task });
        running.insert(key, Arc::downgrade(&execution));
        results(execution, receiver)
    }
}

/// Identical requests give identical keys: the members as one JSON text.
fn key_of(params: &RequestParams) -> String {
    #[derive(serde::Serialize)]
    struct Key<'a> {
        query: &'a str,
        variables: &'a Option<Map<String, Value>>,
        operation_name: &'a Option<String>,
        extensions: &'a Option<Map<String, Value>>,
    }
    serde_json::to_string(&Key {
        query: &params.query,
        variables: &params.variables,
        operation_name: &params.operation_name,
        extensions: &params.extensions,
    })
    .unwrap_or_default()
}

/// The execution's task: each result serialized once and handed to every subscriber.
async fn run(
    mut responses: BoxStream<'static, async_graphql::Response>,
    sender: broadcast::Sender<Arc<SharedResult>>,
    state: Arc<ExecutionState>,
) {
    while let Some(response) = responses.next().await {
        let payload = match serde_json::to_string(&response) {
            Ok(text) => Some(Arc::from(text)),
            Err(error) => {
                tracing::error!(?error, "a shared result could not be serialized");
                None
            }
        };
        let result = Arc::new(SharedResult { response, payload });
        let mut joining = state.joining.lock().expect("joining lock");
        // A result with errors may be the last (a request error ends the stream): later
        // subscribers start afresh and see it for themselves.
        if !result.response.errors.is_empty() {
            joining.sender = None;
        }
        let _ = sender.send(result);
        drop(joining);
    }
    state.joining.lock().expect("joining lock").sender = None;
}

/// A subscriber's view of the execution; holding `execution` keeps it running.
fn results(
    execution: Arc<Execution>,
    receiver: broadcast::Receiver<Arc<SharedResult>>,
) -> SharedResults {
    futures_util::stream::unfold(
        (execution, receiver, false),
        |(execution, mut receiver, lagged)| async move {
            if lagged {
                return None;
            }
            match receiver.recv().await {
                Ok(result) => Some((Ok(result), (execution, receiver, false))),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Some((Err(Lagged), (execution, receiver, true)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> RequestParams {
        RequestParams::from_json(serde_json::json!({ "query": query })).unwrap()
    }

    fn numbers(
        upto: i32,
        started: Arc<std::sync::atomic::AtomicUsize>,
    ) -> impl FnOnce() -> BoxStream<'static, async_graphql::Response> {
        move || {
            started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            futures_util::stream::iter(1..=upto)
                .then(|n| async move {
                    tokio::task::yield_now().await;
                    async_graphql::Response::new(async_graphql::Value::from(n))
                })
                .boxed()
        }
    }

    async fn payloads(results: SharedResults) -> Vec<String> {
        results
            .map(|r| r.ok().and_then(|r| r.payload.clone()).unwrap().to_string())
            .collect()
            .await
    }

    #[tokio::test]
    async fn subscribers_of_the_same_request_share_one_execution() {
        let shared = SharedExecutions::default();
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let first = shared.join(&params("subscription { a }"), numbers(3, started.clone()));
        let second = shared.join(&params("subscription { a }"), numbers(3, started.clone()));
        let other = shared.join(&params("subscription { b }"), numbers(1, started.clone()));
        let (first, second, other) =
            futures_util::join!(payloads(first), payloads(second), payloads(other));
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(first, second);
        assert_eq!(first.len(), 3);
        assert!(first[0].contains("\"data\":1"), "{first:?}");
        assert_eq!(other.len(), 1);
    }

    #[tokio::test]
    async fn an_execution_stops_when_its_last_subscriber_leaves() {
        let shared = SharedExecutions::default();
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let endless = || futures_util::stream::pending::<async_graphql::Response>().boxed();
        let results = shared.join(&params("subscription { a }"), endless);
        let weak = Arc::downgrade(
            &shared
                .running
                .lock()
                .unwrap()
                .values()
                .next()
                .unwrap()
                .upgrade()
                .unwrap(),
        );
        drop(results);
        assert!(weak.upgrade().is_none());
        // A new subscriber starts a new execution.
        let _again = shared.join(&params("subscription { a }"), numbers(1, started.clone()));
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_subscriber_joining_after_an_error_result_gets_its_own_execution() {
        let shared = SharedExecutions::default();
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let failing = {
            let started = started.clone();
            move || {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                futures_util::stream::once(async {
                    async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                        "refused", None,
                    )])
                })
                .chain(futures_util::stream::pending())
                .boxed()
            }
        };
        let mut first = shared.join(&params("subscription { a }"), failing.clone());
        assert!(first.next().await.unwrap().is_ok());
        let mut second = shared.join(&params("subscription { a }"), failing);
        let result = second.next().await.unwrap().ok().unwrap();
        assert_eq!(result.response.errors[0].message, "refused");
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}

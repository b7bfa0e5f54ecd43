//! Data a typed feed loads for an event, shared by every subscriber of this instance.
//!
//! With 10,000 subscribers on one feed, loading the object an event names once per subscriber
//! would be 10,000 statements per event. Here the first subscriber to ask loads it; the others
//! await the same cell and share the result behind an `Arc`.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::AppResult;

/// Events whose attachments are kept; older ones are loaded again if a late catch-up asks.
const KEEP: usize = 4096;

type Shared = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
pub(super) struct Attachments {
    cells: Mutex<BTreeMap<i64, Arc<OnceCell<Option<Shared>>>>>,
}

impl Attachments {
    pub(super) async fn get_or_load<T, F, Fut>(&self, seq: i64, load: F) -> Option<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<Option<T>>>,
    {
        let cell = {
            let mut cells = self.cells.lock().expect("attachments lock");
            let cell = cells.entry(seq).or_default().clone();
            while cells.len() > KEEP {
                cells.pop_first();
            }
            cell
        };
        let shared = cell
            .get_or_init(|| async {
                match load().await {
                    Ok(found) => found.map(|value| Arc::new(value) as Shared),
                    Err(error) => {
                        tracing::warn!(seq, ?error, "loading an event's attachment failed");
                        None
                    }
                }
            })
            .await
            .clone()?;
        shared.downcast::<T>().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn many_subscribers_share_one_load_per_event() {
        let attachments = Attachments::default();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(Some(String::from("request")))
        };
        let results =
            futures_util::future::join_all((0..100).map(|_| attachments.get_or_load(7, load)))
                .await;
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(
            results
                .iter()
                .all(|r| r.as_deref().map(String::as_str) == Some("request"))
        );
        // Another event loads its own.
        attachments.get_or_load(8, load).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn old_events_are_forgotten() {
        let attachments = Attachments::default();
        for seq in 0..(KEEP as i64 + 10) {
            attachments
                .get_or_load(seq, || async { Ok(Some(seq)) })
                .await;
        }
        assert_eq!(attachments.cells.lock().unwrap().len(), KEEP);
    }
}

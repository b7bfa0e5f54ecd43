//! One commit path: whatever a transaction queued for after its commit (realtime events, jobs such as mail)
//! is signalled by [`WriteTx::commit`](super::WriteTx::commit) itself, so no caller can commit
//! and forget to announce.

use std::sync::OnceLock;

type Signal = Box<dyn Fn() + Send + Sync>;

/// Who to wake once a transaction's writes are durable. Set once at start-up by the server;
/// a tool without a server (e.g. `vsys seed`) leaves them unset, and the writes are found by
/// the next reader of the outboxes.
#[derive(Default)]
pub struct CommitSignals {
    events: OnceLock<Signal>,
    jobs: OnceLock<Signal>,
}

impl CommitSignals {
    /// Called after a commit that appended events (wakes this instance's dispatcher).
    pub fn on_events(&self, signal: impl Fn() + Send + Sync + 'static) {
        let _ = self.events.set(Box::new(signal));
    }

    /// Called after a commit that queued a job (wakes the job runner).
    pub fn on_jobs(&self, signal: impl Fn() + Send + Sync + 'static) {
        let _ = self.jobs.set(Box::new(signal));
    }

    pub(super) fn committed(&self, queued: Queued) {
        if queued.events
            && let Some(signal) = self.events.get()
        {
            signal();
        }
        if queued.jobs
            && let Some(signal) = self.jobs.get()
        {
            signal();
        }
    }
}

/// What a transaction queued for after its commit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Queued {
    pub events: bool,
    pub jobs: bool,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::db::Db;

    async fn db_counting() -> (Db, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let (events, jobs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counter = events.clone();
        db.signals().on_events(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let counter = jobs.clone();
        db.signals().on_jobs(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        (db, events, jobs)
    }

    #[tokio::test]
    async fn a_commit_wakes_exactly_who_its_transaction_queued_for() {
        let (db, events, jobs) = db_counting().await;
        let mut tx = db.begin_write().await.unwrap();
        tx.queue_events();
        tx.queue_events();
        tx.commit().await.unwrap();
        assert_eq!(
            (events.load(Ordering::SeqCst), jobs.load(Ordering::SeqCst)),
            (1, 0)
        );
        let mut tx = db.begin_write().await.unwrap();
        tx.queue_jobs();
        tx.commit().await.unwrap();
        assert_eq!(
            (events.load(Ordering::SeqCst), jobs.load(Ordering::SeqCst)),
            (1, 1)
        );
        db.begin_write().await.unwrap().commit().await.unwrap();
        assert_eq!(
            (events.load(Ordering::SeqCst), jobs.load(Ordering::SeqCst)),
            (1, 1)
        );
    }

    #[tokio::test]
    async fn a_transaction_that_never_commits_wakes_nobody() {
        let (db, events, jobs) = db_counting().await;
        let mut tx = db.begin_write().await.unwrap();
        tx.queue_events();
        tx.queue_jobs();
        drop(tx);
        assert_eq!(
            (events.load(Ordering::SeqCst), jobs.load(Ordering::SeqCst)),
            (0, 0)
        );
    }
}

//! One durable job queue for the slow work that follows a request (mail today; document
//! batches next).
//!
//! - A job is written in the transaction of the change that asks for it
//!   ([`enqueue`]), so it exists exactly when the change does; the commit wakes the runner.
//! - The runner claims one due job at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several
//!   instances share the queue without running a job twice; SQLite: the one writer) and holds
//!   it under a lease that its progress reports extend.
//! - A worker that dies leaves its job RUNNING with a lease that runs out; the next claim, on
//!   any instance, takes it up again. Handlers are therefore idempotent: a try may be repeated.
//! - A temporary failure is retried with back-off (30 s, doubling, at most an hour) up to the
//!   job's tries; a permanent one, or the last try, ends it FAILED with the error kept.
//! - CPU-heavy handlers do their work in `tokio::task::spawn_blocking`, off the async runtime.

mod store;

pub use store::{JobStatus, NewJob, enqueue};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::Notify;

use crate::db::{Db, new_id};
use store::TryEnd;

/// A claim lasts this long unless the handler reports progress (`--job-lease-secs`).
const DEFAULT_LEASE: time::Duration = time::Duration::minutes(5);
/// How often the runner looks for due jobs without being woken (retries that came due, leases
/// of dead workers that ran out).
const POLL: Duration = Duration::from_secs(5);

/// How a try failed.
#[derive(Debug)]
pub enum JobError {
    /// Worth trying again later (a server that did not answer).
    Temporary(String),
    /// Trying again cannot help (an address the mail library refuses).
    Permanent(String),
}

/// What a finished job leaves behind.
#[derive(Debug, Default)]
pub struct Done {
    /// Its result, shown with the job.
    pub result: Option<Value>,
    /// Kept instead of the input, e.g. without a secret the input carried; `None` keeps it.
    pub payload: Option<Value>,
}

/// Runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The kind of job it runs, as stored.
    fn kind(&self) -> &'static str;

    /// One try. It may be a repeat of a try that a crash interrupted: a handler must not do
    /// twice what the first try already did.
    async fn run(&self, job: &RunningJob) -> Result<Done, JobError>;

    /// Called once the job has ended FAILED (for good, or out of tries), e.g. to tell the
    /// people waiting for it. Nothing by default.
    async fn failed(&self, _job: &RunningJob) {}
}

/// A job during a try.
pub struct RunningJob {
    pub id: String,
    pub payload: Value,
    /// This try's number, from 1.
    pub attempt: i32,
    db: Db,
    worker: String,
    lease: time::Duration,
}

impl RunningJob {
    /// Reports progress (e.g. pages rendered) and extends the lease. False when the job is no
    /// longer this worker's (its lease ran out and another took it over): stop then.
    pub async fn progress(&self, done: i64, total: Option<i64>) -> bool {
        match store::progress(
            &self.db,
            &self.id,
            &self.worker,
            done,
            total,
            self.db.clock().after(self.lease),
        )
        .await
        {
            Ok(mine) => mine,
            Err(error) => {
                tracing::warn!(job = %self.id, ?error, "recording job progress failed");
                true
            }
        }
    }
}

/// This instance's job runner.
pub struct JobRunner {
    db: Db,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    kinds: Vec<&'static str>,
    /// Names this instance's claims, so that only its own tries can be ended by it.
    worker: String,
    wake: Notify,
    lease: time::Duration,
}

impl JobRunner {
    /// A runner for the given handlers, woken by every commit that enqueued a job.
    pub fn new(db: Db, handlers: Vec<Arc<dyn JobHandler>>) -> Arc<JobRunner> {
        Self::with_lease(db, handlers, DEFAULT_LEASE)
    }

    /// A runner whose claims last `lease` between progress reports.
    pub fn with_lease(
        db: Db,
        handlers: Vec<Arc<dyn JobHandler>>,
        lease: time::Duration,
    ) -> Arc<JobRunner> {
        let handlers: HashMap<_, _> = handlers.into_iter().map(|h| (h.kind(), h)).collect();
        let mut kinds: Vec<_> = handlers.keys().copied().collect();
        kinds.sort();
        let runner = Arc::new(JobRunner {
            db,
            handlers,
            kinds,
            worker: new_id(),
            wake: Notify::new(),
            lease,
        });
        let weak = Arc::downgrade(&runner);
        runner.db.signals().on_jobs(move || {
            if let Some(runner) = weak.upgrade() {
                runner.wake.notify_one();
            }
        });
        runner
    }

    /// Runs jobs until the process ends.
    pub fn start(self: &Arc<Self>) {
        let runner = self.clone();
        tokio::spawn(async move {
            loop {
                runner.drain().await;
                tokio::select! {
                    _ = runner.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    /// Runs every job that is due now, one after another; returns how many tries were made.
    /// Tests call it to empty the queue at once.
    pub async fn drain(&self) -> usize {
        let mut tries = 0;
        loop {
            match self.run_next().await {
                Ok(true) => tries += 1,
                Ok(false) => return tries,
                Err(error) => {
                    tracing::warn!(?error, "the job queue is unavailable");
                    return tries;
                }
            }
        }
    }

    /// Claims and runs one due job; false when none is due.
    async fn run_next(&self) -> crate::error::AppResult<bool> {
        let lease = self.db.clock().after(self.lease);
        let Some(claimed) = store::claim(&self.db, &self.kinds, &self.worker, lease).await? else {
            return Ok(false);
        };
        let Some(handler) = self.handlers.get(claimed.kind.as_str()) else {
            return Ok(true); // not claimable: the claim filters by the kinds handled here
        };
        let job = RunningJob {
            payload: serde_json::from_str(&claimed.payload).unwrap_or(Value::Null),
            id: claimed.id,
            attempt: claimed.attempts,
            db: self.db.clone(),
            worker: self.worker.clone(),
            lease: self.lease,
        };
        let outcome = handler.run(&job).await;
        let end = match &outcome {
            Ok(done) => TryEnd::Succeeded {
                result: done.result.as_ref(),
                payload: done.payload.as_ref(),
            },
            Err(JobError::Permanent(error)) => {
                tracing::error!(job = %job.id, kind = %claimed.kind, %error, "job failed for good");
                TryEnd::Failed { error }
            }
            Err(JobError::Temporary(error)) if claimed.attempts >= claimed.max_attempts => {
                tracing::error!(job = %job.id, kind = %claimed.kind, %error, "job out of tries");
                TryEnd::Failed { error }
            }
            Err(JobError::Temporary(error)) => {
                tracing::warn!(job = %job.id, kind = %claimed.kind, attempt = job.attempt, %error, "job failed; will retry");
                TryEnd::Retry {
                    error,
                    retry_at: self.db.clock().after(backoff(claimed.attempts)),
                }
            }
        };
        let failed = matches!(end, TryEnd::Failed { .. });
        store::finish(&self.db, &job.id, &self.worker, end).await?;
        if failed {
            handler.failed(&job).await;
        }
        Ok(true)
    }
}

/// The wait before the try after `attempts` tries: 30 s, 1 min, 2 min … at most an hour.
fn backoff(attempts: i32) -> time::Duration {
    let seconds = 30i64
        .saturating_mul(1 << (attempts - 1).clamp(0, 7))
        .min(3600);
    time::Duration::seconds(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_half_a_minute_to_at_most_an_hour() {
        let waits: Vec<i64> = (1..=9).map(|n| backoff(n).whole_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}

//! The durable job queue: each job runs once however many runners share the queue, failures
//! are retried with back-off or end the job, and a job left running by a dead worker is taken
//! up again once its lease runs out.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::TestServer;
use serde_json::{Value, json};
use vsys::db::Db;
use vsys::jobs::{Done, JobError, JobHandler, JobRunner, NewJob, RunningJob, enqueue};

/// Records every try; fails as `behaviour` says for the try's number.
struct Recorder {
    kind: &'static str,
    tries: Mutex<Vec<(String, i32)>>,
    behaviour: fn(i32) -> Result<(), JobError>,
}

impl Recorder {
    fn new(kind: &'static str, behaviour: fn(i32) -> Result<(), JobError>) -> Arc<Recorder> {
        Arc::new(Recorder {
            kind,
            tries: Mutex::new(Vec::new()),
            behaviour,
        })
    }

    fn tries(&self) -> Vec<(String, i32)> {
        self.tries.lock().unwrap().clone()
    }
}

#[async_trait]
impl JobHandler for Recorder {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, job: &RunningJob) -> Result<Done, JobError> {
        self.tries
            .lock()
            .unwrap()
            .push((job.id.clone(), job.attempt));
        // Let other runners interleave.
        tokio::task::yield_now().await;
        (self.behaviour)(job.attempt)?;
        assert!(job.progress(1, Some(1)).await, "the job is still ours");
        Ok(Done {
            result: Some(json!({ "n": job.payload["n"] })),
            payload: None,
        })
    }
}

async fn enqueue_jobs(db: &Db, kind: &'static str, count: usize, max_attempts: i32) -> Vec<String> {
    let mut tx = db.begin_write().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        let mut job = NewJob::new(kind, json!({ "n": n }));
        job.max_attempts = max_attempts;
        ids.push(enqueue(&mut tx, job).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

/// (status, attempts, last_error, result, progress_done) of a job.
async fn job_row(db: &Db, id: &str) -> (String, i32, Option<String>, Option<String>, i64) {
    sqlx::query_as(
        "SELECT status, attempts, last_error, result, progress_done FROM jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn ok(_attempt: i32) -> Result<(), JobError> {
    Ok(())
}

#[tokio::test]
async fn each_job_runs_once_however_many_runners_share_the_queue() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    let ids = enqueue_jobs(db, "test.once", 40, 3).await;
    let recorder = Recorder::new("test.once", ok);
    let runners: Vec<_> = (0..3)
        .map(|_| JobRunner::new(db.clone(), vec![recorder.clone() as Arc<dyn JobHandler>]))
        .collect();
    let tries: usize = futures_util::future::join_all(runners.iter().map(|r| r.drain()))
        .await
        .into_iter()
        .sum();
    assert_eq!(tries, 40);
    let mut ran: Vec<String> = recorder.tries().into_iter().map(|(id, _)| id).collect();
    ran.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(ran, expected, "every job exactly once");
    for id in &ids {
        let (status, attempts, error, result, progress) = job_row(db, id).await;
        assert_eq!((status.as_str(), attempts, error), ("SUCCEEDED", 1, None));
        assert!(result.unwrap().starts_with("{\"n\":"));
        assert_eq!(progress, 1);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_temporary_failure_is_retried_after_a_wait_and_a_permanent_one_ends_the_job() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    fn first_try_fails(attempt: i32) -> Result<(), JobError> {
        match attempt {
            1 => Err(JobError::Temporary("the server did not answer".into())),
            _ => Ok(()),
        }
    }
    fn always_refused(_: i32) -> Result<(), JobError> {
        Err(JobError::Permanent("no such address".into()))
    }
    fn always_down(_: i32) -> Result<(), JobError> {
        Err(JobError::Temporary("down".into()))
    }
    let flaky = Recorder::new("test.flaky", first_try_fails);
    let refused = Recorder::new("test.refused", always_refused);
    let down = Recorder::new("test.down", always_down);
    let runner = JobRunner::new(
        db.clone(),
        vec![
            flaky.clone() as Arc<dyn JobHandler>,
            refused.clone(),
            down.clone(),
        ],
    );
    let flaky_job = enqueue_jobs(db, "test.flaky", 1, 5).await.remove(0);
    let refused_job = enqueue_jobs(db, "test.refused", 1, 5).await.remove(0);
    let last_try_job = enqueue_jobs(db, "test.down", 1, 1).await.remove(0);
    assert_eq!(runner.drain().await, 3);
    // The flaky job waits for its next try; draining again now does nothing.
    let (status, attempts, error, _, _) = job_row(db, &flaky_job).await;
    assert_eq!(
        (status.as_str(), attempts, error.as_deref()),
        ("QUEUED", 1, Some("the server did not answer"))
    );
    assert_eq!(runner.drain().await, 0, "not before the back-off");
    let (status, _, error, _, _) = job_row(db, &refused_job).await;
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("FAILED", Some("no such address"))
    );
    let (status, attempts, _, _, _) = job_row(db, &last_try_job).await;
    assert_eq!((status.as_str(), attempts), ("FAILED", 1), "out of tries");
    // Its time comes: the second try succeeds.
    sqlx::query("UPDATE jobs SET run_after = '2000-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(&flaky_job)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(runner.drain().await, 1);
    let (status, attempts, error, _, _) = job_row(db, &flaky_job).await;
    assert_eq!((status.as_str(), attempts, error), ("SUCCEEDED", 2, None));
    assert_eq!(flaky.tries().len(), 2);
    assert_eq!(refused.tries().len(), 1);
    assert_eq!(down.tries().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_job_left_running_by_a_dead_worker_is_taken_up_again_once_its_lease_runs_out() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    let ids = enqueue_jobs(db, "test.crash", 2, 3).await;
    // Both were claimed by a worker that then died; one lease has run out, one has not.
    for (id, lease) in [
        (&ids[0], "2000-01-01T00:00:00.000Z"),
        (&ids[1], "2999-01-01T00:00:00.000Z"),
    ] {
        sqlx::query(
            "UPDATE jobs SET status = 'RUNNING', attempts = 1, worker = 'dead', lease_until = $2 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(lease)
        .execute(db.pool())
        .await
        .unwrap();
    }
    let recorder = Recorder::new("test.crash", ok);
    let runner = JobRunner::new(db.clone(), vec![recorder.clone() as Arc<dyn JobHandler>]);
    assert_eq!(runner.drain().await, 1);
    assert_eq!(recorder.tries(), [(ids[0].clone(), 2)], "the second try");
    assert_eq!(job_row(db, &ids[0]).await.0, "SUCCEEDED");
    assert_eq!(
        job_row(db, &ids[1]).await.0,
        "RUNNING",
        "its worker may be alive"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_worker_whose_job_was_taken_over_can_neither_report_nor_end_it() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    /// Loses the job mid-try: another worker takes it over (as after a lease ran out).
    struct Overtaken {
        db: Db,
    }
    #[async_trait]
    impl JobHandler for Overtaken {
        fn kind(&self) -> &'static str {
            "test.overtaken"
        }
        async fn run(&self, job: &RunningJob) -> Result<Done, JobError> {
            sqlx::query("UPDATE jobs SET worker = 'another' WHERE id = $1")
                .bind(&job.id)
                .execute(self.db.pool())
                .await
                .unwrap();
            assert!(!job.progress(5, Some(10)).await, "no longer ours");
            Ok(Done::default())
        }
    }
    let id = enqueue_jobs(db, "test.overtaken", 1, 3).await.remove(0);
    let runner = JobRunner::new(
        db.clone(),
        vec![Arc::new(Overtaken { db: db.clone() }) as Arc<dyn JobHandler>],
    );
    assert_eq!(runner.drain().await, 1);
    let (status, _, _, result, progress) = job_row(db, &id).await;
    assert_eq!(status, "RUNNING", "left to the worker that holds it");
    assert_eq!((result, progress), (None, 0));
    server.stop().await;
}

#[tokio::test]
async fn the_payload_is_replaced_when_the_handler_asks() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    struct Forgetful;
    #[async_trait]
    impl JobHandler for Forgetful {
        fn kind(&self) -> &'static str {
            "test.secret"
        }
        async fn run(&self, _job: &RunningJob) -> Result<Done, JobError> {
            Ok(Done {
                result: None,
                payload: Some(json!({ "secret": "" })),
            })
        }
    }
    let mut tx = db.begin_write().await.unwrap();
    let id = enqueue(
        &mut tx,
        NewJob::new("test.secret", json!({ "secret": "123456" })),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let runner = JobRunner::new(db.clone(), vec![Arc::new(Forgetful) as Arc<dyn JobHandler>]);
    runner.drain().await;
    let payload: String = sqlx::query_scalar("SELECT payload FROM jobs WHERE id = $1")
        .bind(&id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload, json!({ "secret": "" }));
    server.stop().await;
}

//! The `jobs` table: enqueueing, claiming, progress and the end of a try.

use serde_json::Value;

use crate::clock::Timestamp;
use crate::db::{Backend, Db, WriteTx, new_id, placeholders};
use crate::error::AppResult;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for its first try, or for the next one after a temporary failure.
    Queued,
    /// Held by a worker until its lease runs out.
    Running,
    Succeeded,
    /// Refused for good, or out of tries.
    Failed,
}

crate::db_enum!(JobStatus);

/// A job to run after the transaction that writes it commits.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: Value,
    pub max_attempts: i32,
    pub reference: Option<String>,
    pub organization_id: Option<String>,
    pub created_by: Option<String>,
}

impl NewJob {
    /// A job of `kind` with `payload`, tried up to ten times.
    pub fn new(kind: &'static str, payload: Value) -> Self {
        NewJob {
            kind,
            payload,
            max_attempts: 10,
            reference: None,
            organization_id: None,
            created_by: None,
        }
    }

    /// What the job concerns, for lookups (a mail's recipient).
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
}

/// Writes `job` inside `tx`; the runner is woken when `tx` commits. Returns the job's id.
pub async fn enqueue(tx: &mut WriteTx, job: NewJob) -> AppResult<String> {
    let id = new_id();
    let now = tx.now();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, max_attempts, run_after, reference, \
         organization_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6, $6)",
    )
    .bind(&id)
    .bind(job.kind)
    .bind(job.payload.to_string())
    .bind(JobStatus::Queued)
    .bind(job.max_attempts)
    .bind(now)
    .bind(job.reference)
    .bind(job.organization_id)
    .bind(job.created_by)
    .execute(tx.conn())
    .await?;
    tx.queue_jobs();
    Ok(id)
}

/// A job claimed by this worker.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Claims the oldest due job of one of `kinds` for `worker` until `lease_until`: a queued job
/// whose time has come, or a running one whose worker's lease ran out (it died). Exactly one
/// claimer gets a job: on PostgreSQL the row is locked and skipped by the others; on SQLite
/// the claim runs under the one writer.
pub async fn claim(
    db: &Db,
    kinds: &[&'static str],
    worker: &str,
    lease_until: Timestamp,
) -> AppResult<Option<ClaimedJob>> {
    if kinds.is_empty() {
        return Ok(None);
    }
    let mut tx = db.begin_write().await?;
    let skip_locked = match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let kinds_list = placeholders(6, kinds.len());
    let sql = format!(
        "UPDATE jobs SET status = $4, attempts = attempts + 1, lease_until = $2, worker = $3, \
         started_at = COALESCE(started_at, $1), updated_at = $1 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE ((status = $5 AND run_after <= $1) OR (status = $4 AND lease_until < $1)) \
                       AND kind IN ({kinds_list}) \
                     ORDER BY run_after, created_at LIMIT 1{skip_locked}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.now())
        .bind(lease_until)
        .bind(worker.to_owned())
        .bind(JobStatus::Running)
        .bind(JobStatus::Queued);
    for kind in kinds {
        query = query.bind(*kind);
    }
    let claimed: Option<ClaimedJob> = query.fetch_optional(tx.conn()).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Records progress and extends the lease, while the job is still this worker's. False when
/// it is not (the lease ran out and another worker took it over): the caller should stop.
pub async fn progress(
    db: &Db,
    id: &str,
    worker: &str,
    done: i64,
    total: Option<i64>,
    lease_until: Timestamp,
) -> AppResult<bool> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE jobs SET progress_done = $3, progress_total = $4, lease_until = $5, updated_at = $6 \
         WHERE id = $1 AND worker = $2 AND status = $7",
    )
    .bind(id)
    .bind(worker)
    .bind(done)
    .bind(total)
    .bind(lease_until)
    .bind(tx.now())
    .bind(JobStatus::Running)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(updated == 1)
}

/// How a try ended.
pub enum TryEnd<'a> {
    /// Done: the result, and the payload to keep instead of the input (`None`: keep it).
    Succeeded {
        result: Option<&'a Value>,
        payload: Option<&'a Value>,
    },
    /// Tried again at `retry_at`.
    Retry { error: &'a str, retry_at: Timestamp },
    /// Refused for good.
    Failed { error: &'a str },
}

/// Ends this worker's try. Nothing changes when the job is no longer its own.
pub async fn finish(db: &Db, id: &str, worker: &str, end: TryEnd<'_>) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    // $1 job, $2 worker, $3 running (the try must still be this worker's), $4 now, $5 status.
    let (set, status) = match &end {
        TryEnd::Succeeded { .. } => (
            "result = $6, payload = COALESCE($7, payload), last_error = NULL, finished_at = $4",
            JobStatus::Succeeded,
        ),
        TryEnd::Retry { .. } => ("last_error = $6, run_after = $7", JobStatus::Queued),
        TryEnd::Failed { .. } => ("last_error = $6, finished_at = $4", JobStatus::Failed),
    };
    let sql = format!(
        "UPDATE jobs SET status = $5, {set}, lease_until = NULL, updated_at = $4 \
         WHERE id = $1 AND worker = $2 AND status = $3"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .bind(worker.to_owned())
        .bind(JobStatus::Running)
        .bind(now)
        .bind(status);
    let query = match end {
        TryEnd::Succeeded { result, payload } => query
            .bind(result.map(Value::to_string))
            .bind(payload.map(Value::to_string)),
        TryEnd::Retry { error, retry_at } => query.bind(error.to_owned()).bind(retry_at),
        TryEnd::Failed { error } => query.bind(error.to_owned()),
    };
    query.execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(())
}

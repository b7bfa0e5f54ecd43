//! Printing questionnaires ("create the ones not yet printed", seed p. 21): a request assigns
//! the organisation's unprinted people to a job and draws their coupon numbers from the
//! ledger; the job renders them in batches of pages, off the async runtime.
//!
//! Exactly once, across crashes: a batch's file and the marks "printed, in this file" on its
//! people are one transaction. A try that dies mid-batch leaves nothing of that batch; the try
//! that takes the job up again prints only the people still unmarked. The e-mail with the
//! download links is written in the transaction of the last batch, so it too goes out once.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use time::Date;

use super::files::{FileStore, LinkSigner, NewFile, Retention};
use super::questionnaire_sheet::{self, Sheet};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, WriteTx, placeholders};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::jobs::{self, Done, JobError, JobHandler, NewJob, RunningJob};
use crate::mail::{self, Mail};
use crate::residents::coupons;

/// The job kind.
pub const QUESTIONNAIRE_JOB: &str = "questionnaires";
/// The topic of a document job's progress.
pub const PROGRESS_TOPIC: &str = "document.progress";
/// Pages per file unless configured otherwise: a print run a clinic handles comfortably.
pub const DEFAULT_BATCH: usize = 100;

/// What a questionnaire job was asked to do.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    organization_id: String,
    dose: u8,
}

/// Starts a job printing every person the actor's organisation imported and has not printed
/// yet, with coupons for `dose`. Returns the job's id. Audited.
pub async fn request(db: &Db, meta: &RequestMeta, actor: &Actor, dose: i32) -> AppResult<String> {
    decide(
        Some(actor),
        Action::GenerateQuestionnaires,
        Target::Organization(&actor.organization),
    )?;
    if !(1..=2).contains(&dose) {
        return Err(AppError::invalid_field(
            "dose",
            "dose is 1 or 2 / 接種回数は1または2です",
        ));
    }
    let organization_id = &actor.organization.id;
    let mut tx = db.begin_write().await?;
    let people: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.id, r.municipality_id FROM questionnaire_recipients r \
         JOIN questionnaire_imports i ON i.id = r.import_id \
         WHERE r.organization_id = $1 AND r.printed_at IS NULL AND r.job_id IS NULL \
         ORDER BY i.created_at, r.import_id, r.line",
    )
    .bind(organization_id)
    .fetch_all(tx.conn())
    .await?;
    if people.is_empty() {
        return Err(AppError::refused(
            "NOTHING_TO_PRINT",
            "every imported person's questionnaire is printed or being printed; import more people first / 未印刷の接種予定者がいません",
        ));
    }
    let payload = json!(Request {
        organization_id: organization_id.clone(),
        dose: dose as u8,
    });
    let mut job = NewJob::new(QUESTIONNAIRE_JOB, payload).reference(organization_id);
    job.organization_id = Some(organization_id.clone());
    job.created_by = Some(actor.user_id.clone());
    let job_id = jobs::enqueue(&mut tx, job).await?;
    // Each person's coupon: a number from their municipality's ledger, referring to them.
    coupons::issue_to(&mut tx, &people).await?;
    for chunk in people.chunks(200) {
        let sql = format!(
            "UPDATE questionnaire_recipients SET job_id = $1, coupon_id = \
             (SELECT c.id FROM coupons c WHERE c.resident_reference = questionnaire_recipients.id \
              AND c.status = 'ISSUED') WHERE id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&job_id);
        for (id, _) in chunk {
            update = update.bind(id);
        }
        update.execute(tx.conn()).await?;
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("generateQuestionnaires", Outcome::Success, Some(actor))
            .object("DocumentJob", &job_id)
            .organization(organization_id)
            .change(None, Some(json!({ "people": people.len(), "dose": dose }))),
    )
    .await?;
    append(
        &mut tx,
        &progress_event(organization_id, &job_id, 0, people.len() as i64, "QUEUED"),
    )
    .await?;
    tx.commit().await?;
    Ok(job_id)
}

fn progress_event(
    organization_id: &str,
    job_id: &str,
    done: i64,
    total: i64,
    status: &str,
) -> NewEvent {
    NewEvent {
        topic: PROGRESS_TOPIC.to_owned(),
        visibility: Visibility::Restricted,
        organization_id: Some(organization_id.to_owned()),
        payload: json!({ "jobId": job_id, "done": done, "total": total, "status": status }),
    }
}

/// Renders questionnaire jobs.
pub struct QuestionnairePrinter {
    db: Db,
    files: Arc<dyn FileStore>,
    links: Arc<LinkSigner>,
    batch: usize,
    retention: Retention,
}

impl QuestionnairePrinter {
    pub fn new(
        db: Db,
        files: Arc<dyn FileStore>,
        links: Arc<LinkSigner>,
        batch: usize,
        retention: Retention,
    ) -> Arc<QuestionnairePrinter> {
        Arc::new(QuestionnairePrinter {
            db,
            files,
            links,
            batch: batch.max(1),
            retention,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SheetRow {
    id: String,
    name: String,
    name_kana: String,
    birth_date: String,
    sex: String,
    worker_category: String,
    workplace: String,
    municipality_code: String,
    municipality_name: String,
    prefecture_name: String,
    coupon_number: String,
    issued_by: String,
}

impl SheetRow {
    fn sheet(self, dose: u8) -> Result<Sheet, JobError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let birth_date = Date::parse(&self.birth_date, format)
            .map_err(|_| JobError::Permanent(format!("stored birth date {}", self.birth_date)))?;
        Ok(Sheet {
            municipality_code: self.municipality_code,
            prefecture_name: self.prefecture_name,
            municipality_name: self.municipality_name,
            coupon_number: self.coupon_number,
            dose,
            name: self.name,
            name_kana: self.name_kana,
            birth_date,
            sex: if self.sex == "FEMALE" { "女" } else { "男" },
            worker_category: self.worker_category,
            workplace: self.workplace,
            issued_by: self.issued_by,
        })
    }
}

fn temporary(error: impl std::fmt::Display) -> JobError {
    JobError::Temporary(error.to_string())
}

#[async_trait]
impl JobHandler for QuestionnairePrinter {
    fn kind(&self) -> &'static str {
        QUESTIONNAIRE_JOB
    }

    async fn run(&self, job: &RunningJob) -> Result<Done, JobError> {
        let request: Request = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("unreadable request: {e}")))?;
        let (total, mut done): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(printed_at) FROM questionnaire_recipients WHERE job_id = $1",
        )
        .bind(&job.id)
        .fetch_one(self.db.pool())
        .await
        .map_err(temporary)?;
        loop {
            if !job.progress(done, Some(total)).await {
                return Err(JobError::Temporary(
                    "another worker took the job over".into(),
                ));
            }
            let rows: Vec<SheetRow> = sqlx::query_as(
                "SELECT r.id, r.name, r.name_kana, r.birth_date, r.sex, r.worker_category, \
                 r.workplace, m.code AS municipality_code, m.name AS municipality_name, \
                 p.name AS prefecture_name, c.number AS coupon_number, o.name AS issued_by \
                 FROM questionnaire_recipients r \
                 JOIN questionnaire_imports i ON i.id = r.import_id \
                 JOIN organizations m ON m.id = r.municipality_id \
                 JOIN organizations p ON p.id = r.prefecture_id \
                 JOIN organizations o ON o.id = r.organization_id \
                 JOIN coupons c ON c.id = r.coupon_id \
                 WHERE r.job_id = $1 AND r.printed_at IS NULL \
                 ORDER BY i.created_at, r.import_id, r.line LIMIT $2",
            )
            .bind(&job.id)
            .bind(self.batch as i64)
            .fetch_all(self.db.pool())
            .await
            .map_err(temporary)?;
            if rows.is_empty() {
                break;
            }
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let sheets = rows
                .into_iter()
                .map(|row| row.sheet(request.dose))
                .collect::<Result<Vec<_>, _>>()?;
            let pdf = tokio::task::spawn_blocking(move || questionnaire_sheet::render(&sheets))
                .await
                .map_err(temporary)?
                .map_err(JobError::Permanent)?;
            let printed = self
                .store_batch(job, &request, &ids, &pdf, done + ids.len() as i64, total)
                .await?;
            done += printed;
        }
        let files = super::files::of_jobs(self.db.pool(), &[job.id.as_str()])
            .await
            .map_err(temporary)?;
        Ok(Done {
            result: Some(json!({
                "files": files.iter().map(|f| &f.id).collect::<Vec<_>>(),
                "pages": files.iter().map(|f| f.items).sum::<i64>(),
            })),
            payload: None,
        })
    }

    /// Tells the organisation's subscribers that the job ended FAILED.
    async fn failed(&self, job: &RunningJob) {
        let Ok(request) = serde_json::from_value::<Request>(job.payload.clone()) else {
            return;
        };
        let counts: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT COUNT(*), COUNT(printed_at) FROM questionnaire_recipients WHERE job_id = $1",
        )
        .bind(&job.id)
        .fetch_one(self.db.pool())
        .await;
        let (total, done) = counts.unwrap_or((0, 0));
        let event = progress_event(&request.organization_id, &job.id, done, total, "FAILED");
        let published = async {
            let mut tx = self.db.begin_write().await?;
            append(&mut tx, &event).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(error) = published {
            tracing::warn!(job = %job.id, ?error, "announcing a failed questionnaire job failed");
        }
    }
}

impl QuestionnairePrinter {
    /// Stores one batch's file and marks its people printed, in one transaction; with the last
    /// batch, the e-mail to the requester too. Returns the people printed (none when another
    /// try got there first).
    async fn store_batch(
        &self,
        job: &RunningJob,
        request: &Request,
        ids: &[String],
        pdf: &[u8],
        done_after: i64,
        total: i64,
    ) -> Result<i64, JobError> {
        let mut tx = self.db.begin_write().await.map_err(temporary)?;
        let part: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(part), 0) + 1 AS BIGINT) FROM generated_files WHERE job_id = $1",
        )
        .bind(&job.id)
        .fetch_one(tx.conn())
        .await
        .map_err(temporary)?;
        let file = self
            .files
            .put(
                &mut tx,
                NewFile {
                    organization_id: &request.organization_id,
                    job_id: Some(&job.id),
                    part,
                    file_name: format!("yoshinhyo-{}-{part:03}.pdf", &job.id[..8]),
                    content_type: "application/pdf",
                    items: ids.len() as i64,
                    content: pdf,
                    keep_for: Some(self.retention.0),
                },
            )
            .await
            .map_err(temporary)?;
        let sql = format!(
            "UPDATE questionnaire_recipients SET printed_at = $1, file_id = $2 \
             WHERE job_id = $3 AND printed_at IS NULL AND id IN ({})",
            placeholders(4, ids.len())
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tx.now())
            .bind(&file.id)
            .bind(&job.id);
        for id in ids {
            update = update.bind(id);
        }
        let marked = update
            .execute(tx.conn())
            .await
            .map_err(temporary)?
            .rows_affected();
        if marked != ids.len() as u64 {
            // Another try printed some of them meanwhile: drop this file, read again.
            return Ok(0);
        }
        let status = if done_after >= total {
            self.mail_links(&mut tx, job).await.map_err(temporary)?;
            "SUCCEEDED"
        } else {
            "RUNNING"
        };
        append(
            &mut tx,
            &progress_event(&request.organization_id, &job.id, done_after, total, status),
        )
        .await
        .map_err(temporary)?;
        tx.commit().await.map_err(temporary)?;
        Ok(marked as i64)
    }

    /// Writes the e-mail that tells the requester the questionnaires are ready, with a link
    /// per file.
    async fn mail_links(&self, tx: &mut WriteTx, job: &RunningJob) -> AppResult<()> {
        let to: Option<String> = sqlx::query_scalar(
            "SELECT u.email FROM jobs j JOIN users u ON u.id = j.created_by WHERE j.id = $1",
        )
        .bind(&job.id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(to) = to else {
            return Ok(()); // the requester's account is gone: the links stay in documentJobs
        };
        // Read in the transaction: the batch just stored is among them.
        let files = super::files::of_jobs(tx.conn(), &[job.id.as_str()]).await?;
        let now = tx.now();
        let mut lines = Vec::new();
        let mut expires: Option<Timestamp> = None;
        for file in &files {
            let link = self.links.link(&file.id, now);
            expires = Some(link.expires_at);
            lines.push(format!(
                "{} ({} 枚 / pages): {}",
                file.file_name, file.items, link.url
            ));
        }
        let pages: i64 = files.iter().map(|f| f.items).sum();
        let until = expires.map(|t| t.to_string()).unwrap_or_default();
        let body = format!(
            "接種券付き予診票の作成が完了しました（{pages} 枚）。\n\
             以下のリンクからダウンロードしてください。リンクの有効期限: {until}\n\
             The pre-screening questionnaires are ready ({pages} pages). Download them below; \
             the links expire at {until}.\n\n{}\n\n\
             期限が過ぎた場合は V-SYS の「帳票作成状況」から新しいリンクを取得できます。\n\
             After that, sign in to V-SYS for new links (documentJobs).\n",
            lines.join("\n")
        );
        mail::enqueue(
            tx,
            &Mail {
                to,
                subject: "予診票の作成完了 / Questionnaires ready".into(),
                body,
            },
        )
        .await
    }
}

/// A document job as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentJobRecord {
    pub id: String,
    pub kind: String,
    pub status: jobs::JobStatus,
    pub progress_done: i64,
    pub progress_total: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl DocumentJobRecord {
    /// The status people see. The last batch commits its pages, the mail and the SUCCEEDED
    /// event together; the runner marks the job done in its own transaction just after. A
    /// page that reloads on that event must not read "running" for a job whose every page is
    /// stored, so a running job with all its pages counts as succeeded.
    pub fn shown_status(&self) -> jobs::JobStatus {
        let all_stored = self
            .progress_total
            .is_some_and(|total| total > 0 && self.progress_done >= total);
        if self.status == jobs::JobStatus::Running && all_stored {
            jobs::JobStatus::Succeeded
        } else {
            self.status
        }
    }
}

/// The organisation's document jobs, newest first.
pub async fn jobs_of(
    db: &Db,
    organization_id: &str,
    limit: i64,
) -> AppResult<Vec<DocumentJobRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, status, progress_done, progress_total, last_error, created_at, \
         finished_at FROM jobs WHERE organization_id = $1 AND kind = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(organization_id)
    .bind(QUESTIONNAIRE_JOB)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// One job of the organisation's.
pub async fn job_of(db: &Db, organization_id: &str, job_id: &str) -> AppResult<DocumentJobRecord> {
    sqlx::query_as(
        "SELECT id, kind, status, progress_done, progress_total, last_error, created_at, \
         finished_at FROM jobs WHERE organization_id = $1 AND kind = $2 AND id = $3",
    )
    .bind(organization_id)
    .bind(QUESTIONNAIRE_JOB)
    .bind(job_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound("DocumentJob"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: jobs::JobStatus, done: i64, total: Option<i64>) -> DocumentJobRecord {
        DocumentJobRecord {
            id: "j".into(),
            kind: QUESTIONNAIRE_JOB.into(),
            status,
            progress_done: done,
            progress_total: total,
            last_error: None,
            created_at: Default::default(),
            finished_at: None,
        }
    }

    #[test]
    fn a_running_job_with_every_page_stored_shows_as_succeeded() {
        use jobs::JobStatus::*;
        assert_eq!(job(Running, 3, Some(3)).shown_status(), Succeeded);
        assert_eq!(job(Running, 2, Some(3)).shown_status(), Running);
        assert_eq!(job(Running, 0, None).shown_status(), Running);
        assert_eq!(job(Running, 0, Some(0)).shown_status(), Running);
        assert_eq!(job(Failed, 3, Some(3)).shown_status(), Failed);
        assert_eq!(job(Queued, 0, None).shown_status(), Queued);
    }
}

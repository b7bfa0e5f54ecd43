//! The GraphQL face of documents: importing questionnaire recipients from a CSV upload,
//! printing their questionnaires as a job, and the jobs with their download links, live.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Subscription, Upload};
use futures_util::{Stream, StreamExt};

use super::files::{self, FileInfo, LinkSigner};
use super::questionnaires::{self, DocumentJobRecord, PROGRESS_TOPIC};
use super::recipients::{self, ImportRecord};
use crate::actor::{request_meta, require_actor};
use crate::audit;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::events::Events;
use crate::graphql::ids::{global_id, row_of};
use crate::jobs::JobStatus;

/// One CSV import of questionnaire recipients.
pub struct QuestionnaireImport(ImportRecord);

/// One CSV import of the people questionnaires are printed for (接種予定者リストの登録).
#[Object]
impl QuestionnaireImport {
    /// The import's id.
    async fn id(&self) -> ID {
        global_id("QuestionnaireImport", &self.0.id)
    }

    /// The uploaded file's name, as the browser gave it.
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }

    /// People imported: check it equals the number of people in the list (seed p. 20).
    async fn imported(&self) -> i64 {
        self.0.imported
    }

    /// Rows of the template left empty, skipped without error.
    async fn skipped_empty_rows(&self) -> i64 {
        self.0.skipped_empty_rows
    }

    /// When it was imported.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

/// Where a document job stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DocumentJobStatus {
    /// Waiting for a worker.
    Queued,
    /// Being produced: see `progressDone` of `progressTotal`.
    Running,
    /// Done: the files are ready.
    Succeeded,
    /// Given up; `error` says why.
    Failed,
}

impl From<JobStatus> for DocumentJobStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Queued => DocumentJobStatus::Queued,
            JobStatus::Running => DocumentJobStatus::Running,
            JobStatus::Succeeded => DocumentJobStatus::Succeeded,
            JobStatus::Failed => DocumentJobStatus::Failed,
        }
    }
}

impl DocumentJobStatus {
    fn of_event(status: &str) -> Option<Self> {
        Some(match status {
            "QUEUED" => DocumentJobStatus::Queued,
            "RUNNING" => DocumentJobStatus::Running,
            "SUCCEEDED" => DocumentJobStatus::Succeeded,
            "FAILED" => DocumentJobStatus::Failed,
            _ => return None,
        })
    }
}

/// A job producing documents: today, a run of pre-screening questionnaires.
pub struct DocumentJob(DocumentJobRecord);

/// A job producing documents (帳票作成), with its progress and, when done, its files.
#[Object]
impl DocumentJob {
    /// The job's id.
    async fn id(&self) -> ID {
        global_id("DocumentJob", &self.0.id)
    }
    /// Where it stands.
    async fn status(&self) -> DocumentJobStatus {
        self.0.shown_status().into()
    }
    /// Pages produced so far.
    async fn progress_done(&self) -> i64 {
        self.0.progress_done
    }
    /// Pages to produce in all, once the job has started.
    async fn progress_total(&self) -> Option<i64> {
        self.0.progress_total
    }
    /// Why it failed, for a failed job (no internals: what the operator can act on).
    async fn error(&self) -> Option<&str> {
        (self.0.status == JobStatus::Failed).then_some(
            "the document could not be produced; ask the service desk / 帳票を作成できませんでした",
        )
    }
    /// When it was asked for.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
    /// When it ended.
    async fn finished_at(&self) -> Option<Timestamp> {
        self.0.finished_at
    }
    /// Its files so far, in order, each with a fresh download link.
    async fn files(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GeneratedFile>> {
        let db = ctx.data_unchecked::<Db>();
        let files = files::of_jobs(db.pool(), &[self.0.id.as_str()]).await?;
        Ok(files.into_iter().map(GeneratedFile).collect())
    }
}

/// A file the server generated.
pub struct GeneratedFile(FileInfo);

/// A file the server generated, downloadable through a signed link that expires.
#[Object]
impl GeneratedFile {
    /// The file's id.
    async fn id(&self) -> ID {
        global_id("GeneratedFile", &self.0.id)
    }
    /// Its name, for saving.
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// Its place among the job's files (1, 2, …).
    async fn part(&self) -> i64 {
        self.0.part
    }
    /// Pages (a questionnaire file: one per person).
    async fn pages(&self) -> i64 {
        self.0.items
    }
    /// MIME type, e.g. application/pdf.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Size in bytes.
    async fn byte_size(&self) -> i64 {
        self.0.byte_size
    }
    /// Hex SHA-256 of the content, to check a download.
    async fn sha256(&self) -> &str {
        &self.0.sha256
    }
    /// A link that downloads it without signing in, until `downloadExpiresAt`.
    async fn download_url(&self, ctx: &Context<'_>) -> String {
        link(ctx, &self.0.id).url
    }
    /// When `downloadUrl` stops working.
    async fn download_expires_at(&self, ctx: &Context<'_>) -> Timestamp {
        link(ctx, &self.0.id).expires_at
    }
}

fn link(ctx: &Context<'_>, file_id: &str) -> files::DownloadLink {
    let db = ctx.data_unchecked::<Db>();
    ctx.data_unchecked::<Arc<LinkSigner>>()
        .link(file_id, db.now())
}

/// A document job's progress, as it happens.
pub struct DocumentJobProgress {
    sequence: i64,
    job_id: String,
    status: DocumentJobStatus,
    done: i64,
    total: i64,
}

/// A step of a document job: pages produced of the total.
#[Object]
impl DocumentJobProgress {
    /// Position in the global event order; pass the last one seen as `after` to resume.
    async fn sequence(&self) -> i64 {
        self.sequence
    }
    /// The job (query `documentJob` for its files once it succeeded).
    async fn job_id(&self) -> ID {
        global_id("DocumentJob", &self.job_id)
    }
    /// Where it stands.
    async fn status(&self) -> DocumentJobStatus {
        self.status
    }
    /// Pages produced.
    async fn done(&self) -> i64 {
        self.done
    }
    /// Pages in all.
    async fn total(&self) -> i64 {
        self.total
    }
}

#[derive(Default)]
pub struct DocumentSubscription;

#[Subscription]
impl DocumentSubscription {
    /// The signed-in organisation's document jobs live: queued, each batch of pages, done.
    /// With `after` (an event sequence number), first replays what happened since.
    async fn document_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = DocumentJobProgress> + use<>> {
        let actor = require_actor(ctx)?.clone();
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        let events = ctx.data_unchecked::<Arc<Events>>();
        let organization = actor.organization.id;
        Ok(events.stream(after).filter_map(move |event| {
            let progress = (event.topic == PROGRESS_TOPIC
                && event.organization_id.as_deref() == Some(organization.as_str()))
            .then(|| {
                Some(DocumentJobProgress {
                    sequence: event.seq,
                    job_id: event.payload_str("jobId")?.to_owned(),
                    status: DocumentJobStatus::of_event(event.payload_str("status")?)?,
                    done: event.payload.get("done")?.as_i64()?,
                    total: event.payload.get("total")?.as_i64()?,
                })
            })
            .flatten();
            std::future::ready(progress)
        }))
    }
}

#[derive(Default)]
pub struct DocumentQuery;

#[Object]
impl DocumentQuery {
    /// The signed-in organisation's imports of questionnaire recipients, newest first (at most
    /// 100).
    async fn questionnaire_imports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<QuestionnaireImport>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let imports = recipients::imports_of(db, &actor.organization.id, 100).await?;
        Ok(imports.into_iter().map(QuestionnaireImport).collect())
    }

    /// The signed-in organisation's document jobs, newest first (at most 50), with their
    /// progress and download links.
    async fn document_jobs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DocumentJob>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let jobs = questionnaires::jobs_of(db, &actor.organization.id, 50).await?;
        Ok(jobs.into_iter().map(DocumentJob).collect())
    }

    /// One of the signed-in organisation's document jobs.
    async fn document_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job's id.")] id: ID,
    ) -> async_graphql::Result<DocumentJob> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let job_id = row_of(&id, &["DocumentJob"], "id")?;
        let job = questionnaires::job_of(db, &actor.organization.id, &job_id).await?;
        Ok(DocumentJob(job))
    }
}

#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Imports the people to print pre-screening questionnaires for, from a CSV (UTF-8 or
    /// Shift_JIS; at most 1,000 people; header 氏名,氏名カナ,生年月日,性別,都道府県,市区町村,
    /// 医療従事者等区分,勤務先 or the English names). All or nothing: every bad row is named
    /// (`extensions.rows`). Sent as a multipart request with the `Apollo-Require-Preflight`
    /// header. A facility, medical association, prefecture or municipality, for itself.
    /// Audited.
    async fn import_questionnaire_recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CSV file.")] file: Upload,
    ) -> async_graphql::Result<QuestionnaireImport> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            recipients::may_import(actor)?;
            let received = crate::graphql::uploads::read(ctx, &file, "file")?;
            recipients::import(db, &meta, actor, received.file_name, &received.bytes).await
        }
        .await;
        let record = audit::record_if_refused(
            db,
            &meta,
            actor,
            "importQuestionnaireRecipients",
            None,
            result,
        )
        .await?;
        Ok(QuestionnaireImport(record))
    }

    /// Prints the questionnaires of every person the organisation imported and has not
    /// printed yet ("未印刷の予診票を作成"): draws their coupon numbers from their
    /// municipalities' ledgers and starts a job that renders one A4 page per person. Follow it
    /// with `documentJobs` (query or subscription); the requester is e-mailed download links.
    /// Audited.
    async fn generate_questionnaires(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which dose the coupons are for (1 or 2).", default = 1)] dose: i32,
    ) -> async_graphql::Result<DocumentJob> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = questionnaires::request(db, &meta, actor, dose).await;
        let job_id =
            audit::record_if_refused(db, &meta, actor, "generateQuestionnaires", None, result)
                .await?;
        Ok(DocumentJob(
            questionnaires::job_of(db, &actor.organization.id, &job_id).await?,
        ))
    }
}

//! Outgoing mail, as jobs on the durable queue (`crate::jobs`, kind `mail`).
//!
//! An action that sends mail enqueues the message in its own transaction; the job runner sends
//! it afterwards through lettre (SMTP when configured, otherwise `.eml` files in the mail
//! folder, so the demo and the tests can read the codes). A failed send is retried with
//! back-off and never rolls back the action that caused it. Once sent, the stored message keeps
//! its recipient and subject but not its body, which held one-time codes and set-up links.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use crate::config::AuthArgs;
use crate::db::{Db, WriteTx};
use crate::error::AppResult;
use crate::jobs::{self, Done, JobError, JobHandler, NewJob, RunningJob};

/// The job kind of a message.
pub const MAIL_JOB: &str = "mail";

/// A message to send.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Writes `mail` as a job inside `tx`; it is sent after the transaction commits.
pub async fn enqueue(tx: &mut WriteTx, mail: &Mail) -> AppResult<()> {
    let payload = serde_json::to_value(mail).expect("a message serializes");
    jobs::enqueue(tx, NewJob::new(MAIL_JOB, payload).reference(&mail.to)).await?;
    Ok(())
}

/// Moves messages left in the outbox of earlier versions (`mail_outbox`) onto the job queue,
/// once, at start: none is lost across the upgrade.
pub async fn adopt_earlier_outbox(db: &Db) -> AppResult<usize> {
    let mut tx = db.begin_write().await?;
    let waiting: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, to_address, subject, body FROM mail_outbox \
         WHERE status IN ('PENDING', 'SENDING') ORDER BY created_at",
    )
    .fetch_all(tx.conn())
    .await?;
    for (id, to, subject, body) in &waiting {
        enqueue(
            &mut tx,
            &Mail {
                to: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
            },
        )
        .await?;
        sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(waiting.len())
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Sends messages: the handler of `mail` jobs.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(args: &AuthArgs) -> anyhow::Result<Arc<Mailer>> {
        let transport = match &args.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("invalid --smtp-url")?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&args.mail_dir).with_context(|| {
                    format!("cannot create the mail folder {}", args.mail_dir.display())
                })?;
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(&args.mail_dir))
            }
        };
        let from: Mailbox = args
            .mail_from
            .parse()
            .context("invalid --mail-from address")?;
        Ok(Arc::new(Mailer { transport, from }))
    }
    async fn send(&self, mail: &Mail) -> Result<(), JobError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| JobError::Permanent(format!("invalid recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| JobError::Permanent(format!("cannot build the message: {e}")))?;
        let result = match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Files(files) => files
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        result.map_err(JobError::Temporary)
    }
}

#[async_trait]
impl JobHandler for Mailer {
    fn kind(&self) -> &'static str {
        MAIL_JOB
    }

    async fn run(&self, job: &RunningJob) -> Result<Done, JobError> {
        let mail: Mail = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("not a message: {e}")))?;
        self.send(&mail).await?;
        // Logged so that a demo without SMTP shows where its codes went.
        tracing::info!(job = %job.id, to = %mail.to, subject = %mail.subject, "mail sent");
        Ok(Done {
            result: None,
            // The body goes once sent: it held one-time codes and set-up links, which must
            // not outlive their purpose in the database or its backups.
            payload: Some(json!({ "to": mail.to, "subject": mail.subject, "body": "" })),
        })
    }
}

//! Outgoing mail through a durable outbox.
//!
//! An action that sends mail writes the message into `mail_outbox` in its own transaction; a
//! worker sends it afterwards through lettre (SMTP when configured, otherwise `.eml` files in
//! the mail folder, so the demo and the tests can read the codes). A failed send is retried
//! with back-off and never rolls back the action that caused it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::config::AuthArgs;
use crate::db::{Db, WriteTx, new_id};
use crate::error::AppResult;

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where a message in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
enum MailStatus {
    /// Waiting to be sent (again, after a temporary failure).
    Pending,
    /// Claimed by a sender; a claim older than the stale limit is taken over.
    Sending,
    /// Delivered to the transport; the body has been erased.
    Sent,
    /// Refused for good by the transport.
    Failed,
}

crate::db_enum!(MailStatus);

/// Writes `mail` into the outbox inside `tx`; it is sent after the transaction commits.
pub async fn enqueue(tx: &mut WriteTx, mail: &Mail) -> AppResult<()> {
    let now = tx.now();
    sqlx::query(
        "INSERT INTO mail_outbox (id, to_address, subject, body, status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $6, $5, $5)",
    )
    .bind(new_id())
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(now)
    .bind(MailStatus::Pending)
    .execute(tx.conn())
    .await?;
    tx.queue_mail();
    Ok(())
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Sends what the outbox holds.
pub struct Mailer {
    db: Db,
    transport: Transport,
    from: Mailbox,
    wake: Notify,
}

/// A claim on a message older than this is taken to belong to a crashed sender.
const STALE_CLAIM: time::Duration = time::Duration::minutes(5);
/// How often the worker looks at the outbox without being woken.
const POLL: Duration = Duration::from_secs(5);

#[derive(sqlx::FromRow)]
struct Claimed {
    id: String,
    to_address: String,
    subject: String,
    body: String,
    attempts: i32,
}

impl Mailer {
    pub fn new(db: Db, args: &AuthArgs) -> anyhow::Result<Arc<Mailer>> {
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
        let mailer = Arc::new(Mailer {
            db,
            transport,
            from,
            wake: Notify::new(),
        });
        // Every commit that queued mail wakes the sender (`WriteTx::commit`).
        let weak = Arc::downgrade(&mailer);
        mailer.db.signals().on_mail(move || {
            if let Some(mailer) = weak.upgrade() {
                mailer.wake();
            }
        });
        Ok(mailer)
    }

    /// Tells the worker that mail is waiting (called after a commit that enqueued some).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the worker until the process ends.
    pub fn start(self: &Arc<Self>) {
        let mailer = self.clone();
        tokio::spawn(async move {
            loop {
                mailer.drain().await;
                tokio::select! {
                    _ = mailer.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }

    /// Sends every message that is due; returns how many were sent. Tests call it to empty
    /// the queue at once.
    pub async fn drain(&self) -> usize {
        let mut sent = 0;
        loop {
            match self.send_next().await {
                Ok(Some(true)) => sent += 1,
                Ok(Some(false)) => {}
                Ok(None) => return sent,
                Err(error) => {
                    tracing::warn!(?error, "mail outbox unavailable");
                    return sent;
                }
            }
        }
    }

    /// Claims and sends one due message: `None` when none is due, else whether it went out.
    async fn send_next(&self) -> anyhow::Result<Option<bool>> {
        let now = self.db.now();
        let stale = self.db.clock().after(-STALE_CLAIM);
        let claimed: Option<Claimed> = sqlx::query_as(
            "UPDATE mail_outbox SET status = $4, claimed_at = $1, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM mail_outbox \
                         WHERE (status = $3 AND next_attempt_at <= $1) \
                            OR (status = $4 AND claimed_at < $2) \
                         ORDER BY created_at LIMIT 1) \
               AND (status = $3 OR (status = $4 AND claimed_at < $2)) \
             RETURNING id, to_address, subject, body, attempts",
        )
        .bind(now)
        .bind(stale)
        .bind(MailStatus::Pending)
        .bind(MailStatus::Sending)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(mail) = claimed else {
            return Ok(None);
        };
        match self.send(&mail).await {
            Ok(()) => {
                // Logged so that a demo without SMTP shows where its codes went.
                tracing::info!(mail = %mail.id, to = %mail.to_address, subject = %mail.subject, "mail sent");
                // The body goes once sent: it held one-time codes and set-up links, which must
                // not outlive their purpose in the database or its backups.
                sqlx::query(
                    "UPDATE mail_outbox SET status = $3, sent_at = $2, last_error = NULL, body = '' WHERE id = $1",
                )
                    .bind(&mail.id)
                    .bind(self.db.now())
                    .bind(MailStatus::Sent)
                    .execute(self.db.pool())
                    .await?;
                Ok(Some(true))
            }
            Err(SendError::Permanent(error)) => {
                tracing::error!(mail = %mail.id, %error, "mail undeliverable");
                sqlx::query("UPDATE mail_outbox SET status = $3, last_error = $2 WHERE id = $1")
                    .bind(&mail.id)
                    .bind(error)
                    .bind(MailStatus::Failed)
                    .execute(self.db.pool())
                    .await?;
                Ok(Some(false))
            }
            Err(SendError::Temporary(error)) => {
                // 30 s, 1 min, 2 min … at most an hour between tries.
                let backoff = 30i64
                    .saturating_mul(1 << mail.attempts.clamp(0, 7))
                    .min(3600);
                tracing::warn!(mail = %mail.id, attempts = mail.attempts, %error, "mail send failed; will retry");
                sqlx::query(
                    "UPDATE mail_outbox SET status = $4, last_error = $2, next_attempt_at = $3 WHERE id = $1",
                )
                .bind(&mail.id)
                .bind(error)
                .bind(self.db.clock().after(time::Duration::seconds(backoff)))
                .bind(MailStatus::Pending)
                .execute(self.db.pool())
                .await?;
                Ok(Some(false))
            }
        }
    }

    async fn send(&self, mail: &Claimed) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to_address
            .parse()
            .map_err(|e| SendError::Permanent(format!("invalid recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
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
        result.map_err(SendError::Temporary)
    }
}

enum SendError {
    Temporary(String),
    Permanent(String),
}

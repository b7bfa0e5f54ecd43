//! Starting and stopping the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::ServeArgs;
use crate::db::Db;
use crate::documents::files::{DatabaseFiles, FileStore, LinkSigner, Retention};
use crate::documents::questionnaires::QuestionnairePrinter;
use crate::events::Events;
use crate::http::{AppState, router};
use crate::identity::Identity;
use crate::identity::keys::IdentityKeys;
use crate::identity::totp_vault::resolve_key;
use crate::jobs::JobRunner;
use crate::mail::Mailer;
use crate::schema::{Services, build_schema};
use crate::seed;

/// A bound, ready server. Tests build one on port 0 and keep its state to inspect.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    shutdown: watch::Sender<bool>,
    grace: Duration,
}

impl Server {
    /// Connects and migrates the database, seeds the demo when asked, binds the socket.
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Server> {
        let url = &args.database.database_url;
        // Before anything else: an unsupported URL, or PostgreSQL without its key, stops here.
        crate::db::backend_of(url)?;
        let totp_key = resolve_key(args.auth.totp_key.as_ref(), url)?;
        let db = Db::connect(url).await?;
        db.migrate().await?;
        if args.demo && seed::demo::seed_if_empty(&db).await? {
            tracing::info!("demo data loaded");
        }
        db.optimize().await?;
        let events = Events::start(
            db.clone(),
            url,
            Duration::from_secs(args.http.event_poll_secs),
        )
        .await
        .context("cannot start the event dispatcher")?;
        crate::reservations::status_recorder::start(db.clone(), events.clone());
        crate::mail::adopt_earlier_outbox(&db)
            .await
            .context("cannot move the earlier mail outbox onto the job queue")?;
        let downloads = Arc::new(LinkSigner::new(
            crate::identity::keys::server_secret(&db, crate::documents::files::LINK_KEY).await?,
            &args.auth.public_url,
            args.documents.download_link_days,
        ));
        let files: Arc<dyn FileStore> = Arc::new(DatabaseFiles);
        anyhow::ensure!(
            args.documents.generated_file_days >= args.documents.download_link_days,
            "--generated-file-days must be at least --download-link-days: a link must not outlive its file"
        );
        let retention = Retention(time::Duration::days(i64::from(
            args.documents.generated_file_days,
        )));
        let jobs = JobRunner::with_lease(
            db.clone(),
            vec![
                Mailer::new(&args.auth)?,
                QuestionnairePrinter::new(
                    db.clone(),
                    files.clone(),
                    downloads.clone(),
                    args.documents.questionnaire_batch as usize,
                    retention,
                ),
            ],
            time::Duration::seconds(i64::from(args.documents.job_lease_secs)),
        );
        if args.auth.mail_worker {
            jobs.start();
            start_reminders(db.clone());
            start_file_purge(db.clone());
        }
        let keys = IdentityKeys::load(&db, &args.auth, totp_key).await?;
        let identity = Identity::new(db.clone(), args.auth.clone(), keys);
        let services = Services {
            db: db.clone(),
            events: events.clone(),
            identity: identity.clone(),
            navigator: crate::navigator::Navigator::start(events.clone(), &args.navigator),
            downloads: downloads.clone(),
            files: files.clone(),
            retention,
        };
        let schema = build_schema(Some(services), args.http.limits());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(Server {
            listener,
            state: AppState {
                sessions: crate::http::SessionWatch::start(
                    events.clone(),
                    identity.clone(),
                    Duration::from_secs(args.http.ws_session_check_secs),
                ),
                shared_subscriptions: Arc::default(),
                db,
                events,
                jobs,
                downloads,
                files,
                identity,
                schema,
                public_limiter: Arc::new(crate::graphql::rate_limit::RateLimiter::per_minute(
                    args.http.public_rate_per_ip,
                )),
                http: Arc::new(args.http.clone()),
                shutdown: shutdown_rx,
            },
            shutdown,
            grace: Duration::from_secs(args.http.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` resolves, then stops accepting, tells websockets to close, and
    /// gives in-flight requests the grace period to finish.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Server {
            listener,
            state,
            shutdown,
            grace,
        } = self;
        let db = state.db.clone();
        let (stopped_tx, mut stopped_rx) = watch::channel(false);
        let signal = async move {
            stop.await;
            tracing::info!("shutting down");
            let _ = shutdown.send(true);
            let _ = stopped_tx.send(true);
        };
        // The client address feeds the sign-in rate limit and the audit log.
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(signal);
        let serve = tokio::spawn(async move { serve.await });
        let _ = stopped_rx.wait_for(|s| *s).await;
        // After the signal, in-flight requests have the grace period; then we stop anyway.
        let _ = tokio::time::timeout(grace, serve).await;
        db.close().await;
        Ok(())
    }
}

/// How often the stage-deadline reminders are checked (each goes out once, on the day before).
const REMINDER_CHECK: Duration = Duration::from_secs(600);

/// Checks the stage-deadline reminders now and then every [`REMINDER_CHECK`], beside the mail
/// worker that sends them.
fn start_reminders(db: crate::db::Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REMINDER_CHECK);
        loop {
            tick.tick().await;
            match crate::allocation::deadlines::send_due_reminders(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(organisations = n, "deadline reminders queued"),
                Err(error) => tracing::warn!(?error, "deadline reminders failed"),
            }
        }
    });
}

/// Deletes generated documents whose retention is over, once an hour (on the instances that
/// run jobs; deleting twice is harmless).
fn start_file_purge(db: crate::db::Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match crate::documents::files::purge_expired(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "expired generated files deleted"),
                Err(error) => tracing::warn!(?error, "deleting expired generated files failed"),
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// `vsys serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = Server::build(&args).await?;
    let addr = server.local_addr();
    println!("vsys is listening on http://{addr}");
    println!("  playground:       http://{addr}/");
    println!("  GraphQL endpoint: http://{addr}/graphql  (WebSocket: ws://{addr}/graphql)");
    server.run(termination_signal()).await
}

//! Storage: one code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! Everything goes through sqlx's `Any` driver with `$1` placeholders and portable column
//! types (TEXT, BIGINT, INTEGER, DOUBLE PRECISION; flags as INTEGER 0/1; ids and RFC 3339 UTC
//! timestamps as TEXT), so the same SQL runs on both backends.

mod commit;
mod enums;
mod flag;
mod ids;
mod json;
mod sql;

pub use crate::clock::{Clock, Timestamp};
pub use commit::{CommitSignals, Queued};
pub use flag::Flag;
pub use ids::new_id;
pub use json::JsonText;
pub use sql::{Filter, placeholders, value_rows};

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A PostgreSQL connection idle this long is checked before it is lent again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// Migrations embedded in the binary; run at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a store's read runs: `db.pool()` for a statement of its own, `tx.conn()` inside a
/// write transaction (to see the transaction's own writes). Each read is one function over
/// this, not a pool copy and a transaction copy.
pub trait Exec<'c>: Executor<'c, Database = Any> {}

impl<'c, T: Executor<'c, Database = Any>> Exec<'c> for T {}

/// The database handle shared by the whole server.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time. This process's write transactions all run on this
    /// one connection, in turn (on top of `BEGIN IMMEDIATE` and the busy timeout), so a write
    /// never fails with SQLITE_BUSY under our own concurrency; and since no other connection
    /// of ours writes, its page cache stays valid from one transaction to the next.
    sqlite_writer: Option<Arc<Mutex<AnyConnection>>>,
    /// Statements sent through [`Db::pool`]; read by tests that count queries per request.
    statements: Arc<AtomicU64>,
    /// What time it is for everything stored through this handle.
    clock: Clock,
    /// Who to wake after a commit (the event dispatcher, the mail sender).
    signals: Arc<CommitSignals>,
}

/// A write transaction; on SQLite it runs on the process's one writer connection, held until
/// it ends.
pub struct WriteTx {
    conn: TxConn,
    clock: Clock,
    signals: Arc<CommitSignals>,
    queued: Queued,
    backend: Backend,
}

/// Where a write transaction runs.
enum TxConn {
    /// PostgreSQL: a pooled transaction (writers run side by side).
    Pooled(Transaction<'static, Any>),
    /// SQLite: the writer connection, inside `BEGIN IMMEDIATE`; `None` once ended.
    Writer(Option<OwnedMutexGuard<AnyConnection>>),
}

impl WriteTx {
    /// Commits, then wakes whoever must act on what the transaction queued: events are
    /// never announced, nor mail sent, before the change they belong to is durable.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match std::mem::replace(&mut self.conn, TxConn::Writer(None)) {
            TxConn::Pooled(tx) => tx.commit().await?,
            TxConn::Writer(Some(mut conn)) => {
                if let Err(e) = conn.execute("COMMIT").await {
                    // Still open: dropping `self` rolls it back.
                    self.conn = TxConn::Writer(Some(conn));
                    return Err(e);
                }
                // The writer connection is free before anyone woken reads or writes.
                drop(conn);
            }
            TxConn::Writer(None) => unreachable!("a transaction commits once"),
        }
        self.signals.committed(self.queued);
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What this transaction has queued so far.
    pub fn queued(&self) -> Queued {
        self.queued
    }

    /// Marks that this transaction appended realtime events.
    pub fn queue_events(&mut self) {
        self.queued.events = true;
    }

    /// Marks that this transaction queued a job (mail, a document batch).
    pub fn queue_jobs(&mut self) {
        self.queued.jobs = true;
    }

    /// The current instant, by the clock of the handle that began the transaction.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The transaction's connection, to run statements on: `query.execute(tx.conn())`.
    pub fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            TxConn::Pooled(tx) => tx,
            TxConn::Writer(conn) => conn.as_mut().expect("the transaction is open"),
        }
    }
}

impl Drop for WriteTx {
    /// A transaction dropped before its commit (an error, a refusal, a cancelled request) is
    /// rolled back. A pooled one does that itself; the writer connection is handed to a task
    /// that rolls back, and the next writer waits for it.
    fn drop(&mut self) {
        let TxConn::Writer(open) = &mut self.conn else {
            return;
        };
        let Some(mut conn) = open.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = conn.execute("ROLLBACK").await {
                        tracing::error!(error = %e, "rolling back on the writer connection failed");
                    }
                });
            }
            Err(_) => tracing::error!("a write transaction was dropped outside the runtime"),
        }
    }
}

impl Db {
    /// Connects, creating the SQLite file if needed, and applies the per-connection settings.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_with_create(url),
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).context("invalid database URL")?;
        let pool = match backend {
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(16)
                // An embedded database has no far end to lose: no ping before each use.
                .test_before_acquire(false)
                .after_connect(|conn, _meta| Box::pin(sqlite_settings(conn))),
            // A pool pings a connection before lending it, by default: a round trip per
            // statement sent through the pool. PostgreSQL is pinged only after a pause long
            // enough for the server or a firewall to have dropped the connection.
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > IDLE_BEFORE_PING {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }),
        }
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await
        .context("cannot connect to the database")?;
        let sqlite_writer = match backend {
            Backend::Sqlite => {
                let mut writer = AnyConnection::connect_with(&options)
                    .await
                    .context("cannot connect to the database")?;
                sqlite_settings(&mut writer)
                    .await
                    .context("cannot configure the database connection")?;
                // The writer touches every table: a larger cache than a reader's default.
                writer
                    .execute("PRAGMA cache_size = -65536")
                    .await
                    .context("cannot configure the database connection")?;
                Some(Arc::new(Mutex::new(writer)))
            }
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            sqlite_writer,
            statements: Arc::default(),
            clock: Clock::system(),
            signals: Arc::default(),
        })
    }

    /// Refreshes the query planner's statistics (after a bulk load). SQLite keeps none until
    /// asked, and without them joins through an area (facilities of a municipality) can start
    /// from the wrong table.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .context("ANALYZE failed")?;
        Ok(())
    }

    /// The light statistics refresh SQLite recommends at start-up and now and then: it
    /// analyses only the tables whose size changed enough (bounded work per table).
    pub async fn optimize(&self) -> anyhow::Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::raw_sql("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                .execute(&self.pool)
                .await
                .context("PRAGMA optimize failed")?;
        }
        Ok(())
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("database migration failed")
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clock everything stored through this handle is stamped with; tests advance it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Who is woken after a commit; the server registers them at start-up.
    pub fn signals(&self) -> &CommitSignals {
        &self.signals
    }

    /// The current instant by [`Db::clock`].
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The pool, for one read statement. Counted, so tests can prove batching.
    pub fn pool(&self) -> &AnyPool {
        self.statements.fetch_add(1, Ordering::Relaxed);
        &self.pool
    }

    /// Statements sent through [`Db::pool`] since start.
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes cannot fail on upgrade.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let conn = match &self.sqlite_writer {
            Some(writer) => {
                let mut conn = writer.clone().lock_owned().await;
                conn.execute("BEGIN IMMEDIATE").await?;
                TxConn::Writer(Some(conn))
            }
            None => TxConn::Pooled(self.pool.begin().await?),
        };
        Ok(WriteTx {
            conn,
            clock: self.clock.clone(),
            signals: self.signals.clone(),
            queued: Queued::default(),
            backend: self.backend,
        })
    }

    /// True when the database answers a trivial query.
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Every SQLite connection's settings. WAL lets readers run beside the writer; the busy
/// timeout covers other processes (e.g. `vsys seed` while a server runs).
async fn sqlite_settings(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
    )
    .await?;
    Ok(())
}

/// Which backend a URL names; anything else stops start-up with a one-line message.
pub fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        anyhow::bail!("unsupported database URL (use sqlite://FILE or postgres://…)")
    }
}

/// `sqlite://vsys.db` opens read-write and creates the file when it does not exist yet.
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_gain_create_mode_once() {
        assert_eq!(
            sqlite_url_with_create("sqlite://vsys.db"),
            "sqlite://vsys.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://vsys.db?cache=shared"),
            "sqlite://vsys.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(backend_of("mysql://localhost/x").is_err());
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
    }
}

//! Group commit for small, frequent writes (bookings). Units that arrive while a group is being
//! written wait and go together in the next transaction:
//! - each unit keeps its own outcome: it runs inside a savepoint, and a refused one is rolled
//!   back to it alone, its events dropped;
//! - the group's audit entries are inserted in one statement, and its events appended once,
//!   as the transaction's last statements;
//! - a caller hears of its success only after the commit that made its change durable, and of
//!   a refusal after the same commit (nothing of the refused unit is kept; answering it after
//!   the commit lets it see what the units before it in the group wrote).
//!
//! The transaction's fixed cost (BEGIN, the audit insert, the event sequence step, the event
//! insert, COMMIT) is shared by the group. On SQLite, where one writer connection runs every write in turn, that
//! cost bounds how many bookings a second the instance can take. A unit alone is written as a
//! plain transaction (no savepoint).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::{NewEvent, append_all};
use crate::actor::RequestMeta;
use crate::audit::{self, Entry};
use crate::db::{Db, WriteTx};
use crate::error::{AppError, AppResult};

/// At most this many units per transaction (PostgreSQL keeps up to 64 subtransactions per
/// backend without overflowing to disk).
const MAX_GROUP: usize = 32;
/// Units waiting beyond this make their callers wait to enqueue.
const QUEUE: usize = 1024;

/// What a unit writes at the end of the group, with the other units' rows: its audit entries
/// and its events. A refused unit's are dropped.
#[derive(Default)]
pub struct Deferred {
    audit: Vec<(RequestMeta, Entry)>,
    events: Vec<NewEvent>,
}

impl Deferred {
    /// Audits the unit's change (in the group's one audit insert).
    pub fn audit(&mut self, meta: &RequestMeta, entry: Entry) {
        self.audit.push((meta.clone(), entry));
    }

    /// Announces the unit's change (in the group's one event append).
    pub fn announce(&mut self, events: impl IntoIterator<Item = NewEvent>) {
        self.events.extend(events);
    }

    /// Writes what was deferred, as a group does at its end: for a unit written in a
    /// transaction of its own. Last in the transaction (events last of all).
    pub async fn write(self, tx: &mut WriteTx) -> AppResult<()> {
        audit::record_all(tx, self.audit).await?;
        append_all(tx, &self.events).await?;
        Ok(())
    }

    fn len(&self) -> (usize, usize) {
        (self.audit.len(), self.events.len())
    }

    fn truncate(&mut self, (audit, events): (usize, usize)) {
        self.audit.truncate(audit);
        self.events.truncate(events);
    }
}

/// What a unit's body returns: borrowed from the group's transaction.
pub type UnitFuture<'a, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 'a>>;

/// After the group's commit: the unit's caller is told how it ended.
type Delivery = Box<dyn FnOnce(AppResult<()>) + Send>;

/// How a unit's try ended, its answer held until the group has committed.
enum Ran {
    /// Written; its answer depends on the commit.
    Succeeded(Delivery),
    /// Refused and rolled back; its refusal stands whatever the commit does. It is still
    /// answered after the commit: a unit refused because an earlier unit of the group holds
    /// something (an idempotency key) then finds that unit's committed answer.
    Refused(Delivery),
}

/// A unit with its result type erased.
type Erased = Box<
    dyn for<'a> FnOnce(
            &'a mut WriteTx,
            &'a mut Deferred,
        ) -> Pin<Box<dyn Future<Output = Ran> + Send + 'a>>
        + Send,
>;

/// The queue of one instance's grouped writes, and the task that writes them.
pub struct GroupedWrites {
    queue: mpsc::Sender<Erased>,
}

impl GroupedWrites {
    /// Starts the writing task; it ends when this handle is dropped.
    pub fn start(db: Db) -> GroupedWrites {
        let (queue, units) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, units));
        GroupedWrites { queue }
    }

    /// Runs `unit` in the next group's transaction and answers once that transaction has
    /// committed. The unit writes through the transaction and leaves its audit entries and
    /// events to `Deferred`; it must not begin a transaction of its own (on SQLite it would
    /// wait for itself).
    pub async fn write<T, F>(&self, unit: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut WriteTx, &'a mut Deferred) -> UnitFuture<'a, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<AppResult<T>>();
        let erased: Erased = Box::new(move |tx, events| {
            Box::pin(async move {
                match unit(tx, events).await {
                    Ok(value) => Ran::Succeeded(Box::new(move |committed: AppResult<()>| {
                        // The caller may have gone (a dropped request): the change stands,
                        // as a retry with the same idempotency key will find.
                        let _ = reply.send(committed.map(|()| value));
                    })),
                    Err(error) => Ran::Refused(Box::new(move |_committed: AppResult<()>| {
                        let _ = reply.send(Err(error));
                    })),
                }
            })
        });
        self.queue
            .send(erased)
            .await
            .map_err(|_| internal("the grouped write queue has stopped"))?;
        // A unit dropped unrun (the group's transaction failed to begin or to continue) ends
        // the sender without an answer.
        answer
            .await
            .map_err(|_| internal("the grouped write was not completed"))?
    }
}

fn internal(message: &'static str) -> AppError {
    AppError::Internal(anyhow::anyhow!(message))
}

async fn run(db: Db, mut queue: mpsc::Receiver<Erased>) {
    while let Some(first) = queue.recv().await {
        let mut units = vec![first];
        while units.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(unit) => units.push(unit),
                Err(_) => break,
            }
        }
        let mut deliveries = Vec::with_capacity(units.len());
        let mut refusals = Vec::new();
        let outcome = write_group(&db, units, &mut deliveries, &mut refusals).await;
        if let Err(error) = &outcome {
            tracing::error!(?error, "a group of writes failed; its units are refused");
        }
        for refuse in refusals {
            refuse(Ok(()));
        }
        for deliver in deliveries {
            deliver(match &outcome {
                Ok(()) => Ok(()),
                Err(_) => Err(internal("the grouped write failed")),
            });
        }
    }
}

/// Runs the units in one transaction and commits the ones that succeeded. The successful
/// units' deliveries are pushed onto `deliveries`, to be told the outcome of the commit; the
/// refused units' onto `refusals`.
async fn write_group(
    db: &Db,
    units: Vec<Erased>,
    deliveries: &mut Vec<Delivery>,
    refusals: &mut Vec<Delivery>,
) -> AppResult<()> {
    let alone = units.len() == 1;
    let mut tx = db.begin_write().await?;
    let mut deferred = Deferred::default();
    for unit in units {
        if !alone {
            // Savepoints of one name nest; ROLLBACK TO returns to the latest, this unit's.
            // COMMIT releases them all, so no RELEASE is spent per unit.
            sqlx::query("SAVEPOINT grouped_unit")
                .execute(tx.conn())
                .await?;
        }
        let before = deferred.len();
        // A panicking unit is a failed unit (its caller hears of it when its answer is
        // dropped); the writer goes on with the others.
        let ran = AssertUnwindSafe(unit(&mut tx, &mut deferred))
            .catch_unwind()
            .await
            .map_err(|_| tracing::error!("a grouped write panicked"));
        match ran {
            Ok(Ran::Succeeded(delivery)) => {
                deliveries.push(delivery);
                continue;
            }
            Ok(Ran::Refused(refusal)) => refusals.push(refusal),
            Err(()) => {}
        }
        if alone {
            return Ok(()); // dropping `tx` rolls the unit back
        }
        deferred.truncate(before);
        sqlx::query("ROLLBACK TO SAVEPOINT grouped_unit")
            .execute(tx.conn())
            .await?;
    }
    if deliveries.is_empty() {
        return Ok(());
    }
    deferred.write(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::future::join_all;

    use super::*;
    use crate::events::{Visibility, read_after};

    /// A migrated database in a temporary file, a table to write to, and a count of commits.
    async fn database() -> (tempfile::TempDir, Db, Arc<AtomicUsize>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("g.db").display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        sqlx::query("CREATE TABLE grouped_notes (note TEXT NOT NULL UNIQUE)")
            .execute(db.pool())
            .await
            .unwrap();
        let commits = Arc::new(AtomicUsize::new(0));
        let counter = commits.clone();
        db.signals().on_events(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        (dir, db, commits)
    }

    /// Writes `note` and announces it; then fails when told to.
    async fn note(
        writes: &GroupedWrites,
        note: &'static str,
        fail_after_writing: bool,
    ) -> AppResult<&'static str> {
        writes
            .write(move |tx, deferred| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO grouped_notes (note) VALUES ($1)")
                        .bind(note)
                        .execute(tx.conn())
                        .await?;
                    deferred.announce([NewEvent {
                        topic: "test.noted".into(),
                        visibility: Visibility::Public,
                        organization_id: None,
                        payload: serde_json::json!({ "note": note }),
                    }]);
                    deferred.audit(
                        &RequestMeta::default(),
                        Entry::new("note", audit::Outcome::Success, None).object("Note", note),
                    );
                    if fail_after_writing {
                        return Err(AppError::invalid("refused after writing"));
                    }
                    Ok(note)
                })
            })
            .await
    }

    async fn notes(db: &Db) -> Vec<String> {
        sqlx::query_scalar("SELECT note FROM grouped_notes ORDER BY note")
            .fetch_all(db.pool())
            .await
            .unwrap()
    }

    async fn audited(db: &Db) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT object_id FROM audit_log WHERE operation = 'note' ORDER BY object_id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
    }

    async fn announced(db: &Db) -> Vec<String> {
        read_after(db, 0, 100)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.topic == "test.noted")
            .map(|e| e.payload["note"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn a_group_commits_once_and_a_refused_unit_leaves_nothing_behind() {
        let (_dir, db, commits) = database().await;
        let writes = GroupedWrites::start(db.clone());
        // On this single-threaded runtime all five are queued before the writer runs: one
        // group.
        let outcomes = join_all([
            note(&writes, "a", false),
            note(&writes, "b", false),
            note(&writes, "a", false), // a duplicate: the statement fails
            note(&writes, "d", true),  // written, then refused
            note(&writes, "c", false),
        ])
        .await;
        let ok: Vec<bool> = outcomes.iter().map(Result::is_ok).collect();
        assert_eq!(ok, [true, true, false, false, true]);
        assert_eq!(notes(&db).await, ["a", "b", "c"]);
        assert_eq!(announced(&db).await, ["a", "b", "c"]);
        assert_eq!(audited(&db).await, ["a", "b", "c"]);
        assert_eq!(
            commits.load(Ordering::SeqCst),
            1,
            "one transaction for the group"
        );
    }

    #[tokio::test]
    async fn a_unit_alone_that_fails_is_rolled_back_and_the_writer_goes_on() {
        let (_dir, db, commits) = database().await;
        let writes = GroupedWrites::start(db.clone());
        assert!(note(&writes, "x", true).await.is_err());
        assert_eq!(note(&writes, "y", false).await.unwrap(), "y");
        assert_eq!(notes(&db).await, ["y"]);
        assert_eq!(announced(&db).await, ["y"]);
        assert_eq!(audited(&db).await, ["y"]);
        assert_eq!(commits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_panicking_unit_fails_alone() {
        let (_dir, db, _commits) = database().await;
        let writes = GroupedWrites::start(db.clone());
        let panicking = writes.write(|tx, _deferred| {
            Box::pin(async move {
                sqlx::query("INSERT INTO grouped_notes (note) VALUES ('p')")
                    .execute(tx.conn())
                    .await?;
                panic!("a bug in a unit");
                #[allow(unreachable_code)]
                Ok(())
            })
        });
        let (first, panicked, last) = tokio::join!(
            note(&writes, "a", false),
            panicking,
            note(&writes, "b", false)
        );
        assert!(first.is_ok() && last.is_ok());
        assert_eq!(panicked.unwrap_err().code(), crate::error::code::INTERNAL);
        assert_eq!(notes(&db).await, ["a", "b"]);
    }
}

//! Realtime events: written to an outbox in the transaction of the change they describe,
//! published after commit, delivered to subscribers in sequence order, replayable from any
//! sequence number.
//!
//! Each instance runs one dispatcher. It reads the outbox past the last sequence number it
//! delivered whenever the [`EventBus`] wakes it (this instance's commits, other instances'
//! NOTIFY) and on a slow timer as a safety net, and fans the events out to its subscribers.

mod attachments;
mod bus;
mod graphql;
mod grouped;
mod live;
mod outbox;
mod postgres;

pub use bus::{EventBus, LocalBus};
pub use graphql::{Event, EventSubscription};
pub use grouped::{Deferred, GroupedWrites, UnitFuture};
pub use outbox::{
    Audience, NewEvent, StoredEvent, Visibility, append, append_all, latest_seq, read_after,
    read_topic_after,
};
pub use postgres::PostgresBus;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::broadcast;

use crate::db::{Backend, Db};
use crate::error::AppResult;
use live::LiveChannels;

/// Outbox rows read per statement.
const READ_BATCH: i64 = 500;
/// Live events buffered per subscriber before it must catch up from the outbox.
const LIVE_BUFFER: usize = 1024;

pub struct Events {
    db: Db,
    /// Kept alive here: the commit signal holds only a weak reference.
    _bus: Arc<dyn EventBus>,
    live: Arc<LiveChannels>,
    attachments: attachments::Attachments,
    grouped: GroupedWrites,
    /// Commits of this instance that appended events, counted at commit: a cache of what
    /// events change can tell at once that it may be stale, before the event is dispatched.
    local_commits: Arc<std::sync::atomic::AtomicU64>,
}

impl Events {
    /// Chooses the bus for the backend (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite) and
    /// starts the dispatcher. `poll` is the safety-net interval.
    pub async fn start(db: Db, database_url: &str, poll: Duration) -> anyhow::Result<Arc<Events>> {
        let bus: Arc<dyn EventBus> = match db.backend() {
            Backend::Postgres => Arc::new(PostgresBus::start(database_url).await?),
            Backend::Sqlite => Arc::new(LocalBus::new()),
        };
        // Every commit that appended events wakes the dispatcher (`WriteTx::commit`).
        let weak_bus = Arc::downgrade(&bus);
        let local_commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = local_commits.clone();
        db.signals().on_events(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(bus) = weak_bus.upgrade() {
                bus.wake();
            }
        });
        let live = Arc::new(LiveChannels::new(LIVE_BUFFER));
        let start = latest_seq(&db).await?;
        tokio::spawn(dispatch(
            db.clone(),
            bus.wakeups(),
            live.clone(),
            start,
            poll,
        ));
        Ok(Arc::new(Events {
            grouped: GroupedWrites::start(db.clone()),
            db,
            _bus: bus,
            live,
            attachments: attachments::Attachments::default(),
            local_commits,
        }))
    }

    /// This instance's group commit, for small writes many requests make at once.
    pub fn grouped(&self) -> &GroupedWrites {
        &self.grouped
    }

    /// How many commits of this instance appended events so far.
    pub fn local_commits(&self) -> u64 {
        self.local_commits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Appends one event in its own transaction and publishes it.
    pub async fn publish(&self, event: &NewEvent) -> AppResult<i64> {
        let mut tx = self.db.begin_write().await?;
        let seq = append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// What a typed feed needs beyond an event's payload (e.g. the change request it names),
    /// loaded once per event per instance and shared by every subscriber that asks: the first
    /// one runs `load`, the others wait for its result. `None` when the load fails or finds
    /// nothing.
    pub async fn attachment<T, F, Fut>(&self, event: &StoredEvent, load: F) -> Option<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = AppResult<Option<T>>>,
    {
        let db = self.db.clone();
        self.attachments.get_or_load(event.seq, || load(db)).await
    }

    /// Events in sequence order: first the committed ones after `after` (when given), then live
    /// ones, without gaps or repeats. A subscriber too slow for the live buffer catches up from
    /// the outbox instead of losing events.
    pub fn stream(
        &self,
        after: Option<i64>,
    ) -> impl Stream<Item = Arc<StoredEvent>> + Send + 'static + use<> {
        self.cursor(None, self.live.subscribe_all(), after)
    }

    /// One topic's events, as [`Events::stream`] gives all of them: events of other topics
    /// never wake the subscriber.
    pub fn stream_topic(
        &self,
        topic: &'static str,
        after: Option<i64>,
    ) -> impl Stream<Item = Arc<StoredEvent>> + Send + 'static + use<> {
        self.cursor(Some(topic), self.live.subscribe_topic(topic), after)
    }

    fn cursor(
        &self,
        topic: Option<&'static str>,
        live: broadcast::Receiver<Arc<StoredEvent>>,
        after: Option<i64>,
    ) -> impl Stream<Item = Arc<StoredEvent>> + Send + 'static + use<> {
        let state = Cursor {
            db: self.db.clone(),
            topic,
            live,
            last: after.unwrap_or(0),
            catching_up: after.is_some(),
            backlog: VecDeque::new(),
        };
        futures_util::stream::unfold(state, |mut cursor| async move {
            let event = cursor.next().await?;
            Some((event, cursor))
        })
    }
}

struct Cursor {
    db: Db,
    /// Only this topic's events (all when `None`).
    topic: Option<&'static str>,
    live: broadcast::Receiver<Arc<StoredEvent>>,
    last: i64,
    catching_up: bool,
    backlog: VecDeque<Arc<StoredEvent>>,
}

impl Cursor {
    async fn next(&mut self) -> Option<Arc<StoredEvent>> {
        loop {
            if let Some(event) = self.backlog.pop_front() {
                self.last = event.seq;
                return Some(event);
            }
            if self.catching_up {
                // Boxed: inline, the statement's future would size every subscriber's stream
                // for the rare catch-up, idle or not.
                Box::pin(self.catch_up()).await;
                continue;
            }
            match self.live.recv().await {
                Ok(event) if event.seq <= self.last => continue,
                Ok(event) => {
                    self.last = event.seq;
                    return Some(event);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the next batch of committed events into the backlog.
    async fn catch_up(&mut self) {
        let rows = match self.topic {
            Some(topic) => read_topic_after(&self.db, topic, self.last, READ_BATCH).await,
            None => read_after(&self.db, self.last, READ_BATCH).await,
        };
        match rows {
            Ok(rows) => {
                self.catching_up = rows.len() as i64 == READ_BATCH;
                self.backlog.extend(rows.into_iter().map(Arc::new));
            }
            Err(error) => {
                tracing::warn!(?error, "event catch-up failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The per-instance dispatcher loop.
async fn dispatch(
    db: Db,
    mut wakeups: broadcast::Receiver<()>,
    live: Arc<LiveChannels>,
    mut last: i64,
    poll: Duration,
) {
    loop {
        tokio::select! {
            woken = wakeups.recv() => {
                if matches!(woken, Err(broadcast::error::RecvError::Closed)) {
                    return;
                }
            }
            _ = tokio::time::sleep(poll) => {}
        }
        loop {
            match read_after(&db, last, READ_BATCH).await {
                Ok(rows) => {
                    let full = rows.len() as i64 == READ_BATCH;
                    for row in rows {
                        last = row.seq;
                        live.send(row);
                    }
                    if !full {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(?error, "event dispatch read failed");
                    break;
                }
            }
        }
    }
}

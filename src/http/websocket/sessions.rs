//! The end of signed-in websockets' sessions, watched once per instance.
//!
//! A websocket ends with its session: sign-out anywhere (an internal `session.ended` event,
//! which every instance receives) or expiry. Watching that per connection would cost every
//! connection its own event cursor and its own periodic database check — 10,000 connections
//! of one user meant 10,000 cursors woken by every event and 333 session reads a second. Here
//! one task per instance reads the event stream and checks each distinct session once per
//! interval; a connection holds only a `watch::Receiver` for its session.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::events::Events;
use crate::identity::{Identity, SESSION_ENDED};

/// Sessions remembered as ended, so that a connection that signs in just as its session ends
/// (the event already handled) is still closed.
const REMEMBER_ENDED: usize = 10_000;

#[derive(Clone)]
pub struct SessionWatch {
    inner: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    live: HashMap<String, watch::Sender<bool>>,
    ended: VecDeque<String>,
}

impl Watched {
    fn end(&mut self, session_id: &str) {
        if let Some(sender) = self.live.remove(session_id) {
            sender.send_replace(true);
        }
        self.ended.push_back(session_id.to_owned());
        while self.ended.len() > REMEMBER_ENDED {
            self.ended.pop_front();
        }
    }
}

impl SessionWatch {
    /// Starts the instance's watcher: events as they come, expiry every `check_every`.
    pub fn start(events: Arc<Events>, identity: Arc<Identity>, check_every: Duration) -> Self {
        let watch = SessionWatch {
            inner: Arc::default(),
        };
        tokio::spawn(watch.clone().run(events, identity, check_every));
        watch
    }

    /// A receiver that turns `true` when the session ends.
    pub fn watch(&self, session_id: &str) -> watch::Receiver<bool> {
        let mut watched = self.inner.lock().expect("session watch lock");
        if watched.ended.iter().any(|id| id == session_id) {
            return watch::channel(true).1;
        }
        watched
            .live
            .entry(session_id.to_owned())
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    async fn run(self, events: Arc<Events>, identity: Arc<Identity>, check_every: Duration) {
        let mut stream = Box::pin(events.stream(None));
        let mut check =
            tokio::time::interval_at(tokio::time::Instant::now() + check_every, check_every);
        loop {
            tokio::select! {
                event = stream.next() => {
                    let Some(event) = event else { return };
                    if event.topic == SESSION_ENDED
                        && let Some(id) = event.payload_str("sessionId")
                    {
                        self.inner.lock().expect("session watch lock").end(id);
                    }
                }
                _ = check.tick() => self.check_expiry(&identity).await,
            }
        }
    }

    /// Forgets sessions no connection watches any more, and ends the expired ones: one read per
    /// distinct session, whatever the number of its connections.
    async fn check_expiry(&self, identity: &Identity) {
        let sessions: Vec<String> = {
            let mut watched = self.inner.lock().expect("session watch lock");
            watched.live.retain(|_, sender| sender.receiver_count() > 0);
            watched.live.keys().cloned().collect()
        };
        for id in sessions {
            if let Ok(false) = identity.session_valid(&id).await {
                self.inner.lock().expect("session watch lock").end(&id);
            }
        }
    }
}

/// Resolves when the watched session ends; never without a session.
pub async fn session_ended(ended: &mut Option<watch::Receiver<bool>>) {
    match ended {
        Some(receiver) => {
            if receiver.wait_for(|ended| *ended).await.is_err() {
                // The watcher is gone (the server is stopping): shutdown closes the socket.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle() -> SessionWatch {
        SessionWatch {
            inner: Arc::default(),
        }
    }

    #[test]
    fn connections_of_one_session_share_one_entry_and_all_see_its_end() {
        let watch = idle();
        let receivers: Vec<_> = (0..1000).map(|_| watch.watch("s1")).collect();
        assert_eq!(watch.inner.lock().unwrap().live.len(), 1);
        watch.inner.lock().unwrap().end("s1");
        assert!(receivers.iter().all(|r| *r.borrow()));
    }

    #[test]
    fn a_session_that_ended_before_it_was_watched_is_reported_ended() {
        let watch = idle();
        watch.inner.lock().unwrap().end("gone");
        assert!(*watch.watch("gone").borrow());
        assert!(!*watch.watch("alive").borrow());
    }
}

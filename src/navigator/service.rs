//! The navigator's settings and its short shared cache of search answers.
//!
//! Anonymous traffic is the navigator's: many residents ask the same question ("venues near
//! Meguro station with Pfizer"). An answer is shared for a short time, and every change of
//! availability invalidates the whole cache at once: a commit of this instance before it even
//! returns (the commit counter), another instance's through the event feed. So a booking is
//! never hidden by the cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::graphql::VenueView;
use crate::config::NavigatorArgs;
use crate::events::Events;
use crate::reservations::AVAILABILITY_TOPIC;

/// Answers kept at most; the cache is emptied when full (the keys are searches, and a burst of
/// distinct ones is better served fresh than by evicting one by one).
const MAX_ENTRIES: usize = 2_000;

pub struct Navigator {
    /// How old an EXTERNAL venue's declaration may be before it shows as unconfirmed.
    pub declaration_max_age: time::Duration,
    ttl: Duration,
    events: Arc<Events>,
    /// Availability changes seen on the event feed (every instance's).
    changes_seen: Arc<AtomicU64>,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    version: (u64, u64),
    stored: Instant,
    answer: Arc<(Vec<Arc<VenueView>>, bool)>,
}

impl Navigator {
    /// The settings, and a listener that counts availability changes from every instance.
    pub fn start(events: Arc<Events>, args: &NavigatorArgs) -> Arc<Navigator> {
        let changes_seen = Arc::new(AtomicU64::new(0));
        let counter = changes_seen.clone();
        let mut feed = Box::pin(events.stream_topic(AVAILABILITY_TOPIC, None));
        tokio::spawn(async move {
            while feed.next().await.is_some() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Arc::new(Navigator {
            declaration_max_age: time::Duration::days(i64::from(args.declaration_max_age_days)),
            ttl: Duration::from_millis(args.navigator_cache_ms),
            events,
            changes_seen,
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// What answers are kept against: this instance's commits with events, and the
    /// availability changes seen on the feed.
    pub fn version(&self) -> (u64, u64) {
        (
            self.events.local_commits(),
            self.changes_seen.load(Ordering::SeqCst),
        )
    }

    /// The shared answer to `key`, when fresh and nothing changed since.
    pub fn cached(&self, key: &str) -> Option<Arc<(Vec<Arc<VenueView>>, bool)>> {
        if self.ttl.is_zero() {
            return None;
        }
        let version = self.version();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.version == version && e.stored.elapsed() < self.ttl)
            .map(|e| e.answer.clone())
    }

    /// Keeps an answer computed at `version` (read before the search ran, so a change during
    /// the search leaves it stale rather than hiding the change).
    pub fn keep(&self, key: String, version: (u64, u64), answer: Arc<(Vec<Arc<VenueView>>, bool)>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                version,
                stored: Instant::now(),
                answer,
            },
        );
    }
}

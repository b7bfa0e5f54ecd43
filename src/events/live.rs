//! The in-memory side of dispatch: every committed event goes to the channel of all events and
//! to its topic's channel. A subscriber that follows one topic listens on that topic's channel
//! only, so the other topics' events never wake it (with 10,000 navigator pages open, a booking's
//! restricted event would otherwise wake all of them for nothing).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

use super::StoredEvent;

pub(super) struct LiveChannels {
    all: broadcast::Sender<Arc<StoredEvent>>,
    by_topic: RwLock<HashMap<String, broadcast::Sender<Arc<StoredEvent>>>>,
    buffer: usize,
}

impl LiveChannels {
    /// Channels buffering `buffer` events per receiver before it lags.
    pub(super) fn new(buffer: usize) -> Self {
        LiveChannels {
            all: broadcast::channel(buffer).0,
            by_topic: RwLock::new(HashMap::new()),
            buffer,
        }
    }

    pub(super) fn subscribe_all(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.all.subscribe()
    }

    /// A receiver of one topic's events; the topic's channel is made on first use and kept
    /// (topics are a fixed, small set of names).
    pub(super) fn subscribe_topic(&self, topic: &str) -> broadcast::Receiver<Arc<StoredEvent>> {
        if let Some(sender) = self.by_topic.read().expect("topics lock").get(topic) {
            return sender.subscribe();
        }
        self.by_topic
            .write()
            .expect("topics lock")
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(self.buffer).0)
            .subscribe()
    }

    /// Hands a committed event to its listeners. No receivers is normal: nobody follows it now.
    pub(super) fn send(&self, event: StoredEvent) {
        let event = Arc::new(event);
        if let Some(sender) = self.by_topic.read().expect("topics lock").get(&event.topic) {
            let _ = sender.send(event.clone());
        }
        let _ = self.all.send(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Audience, Visibility};

    fn event(seq: i64, topic: &str) -> StoredEvent {
        StoredEvent {
            seq,
            topic: topic.into(),
            visibility: Visibility::Public,
            audience: Audience::of_topic(topic),
            organization_id: None,
            prefecture_id: None,
            municipality_id: None,
            payload: serde_json::json!({}),
            occurred_at: Default::default(),
        }
    }

    #[test]
    fn a_topic_receiver_hears_only_its_topic_and_the_all_receiver_hears_everything() {
        let live = LiveChannels::new(8);
        let mut all = live.subscribe_all();
        let mut availability = live.subscribe_topic("availability.changed");
        live.send(event(1, "reservation.booked"));
        live.send(event(2, "availability.changed"));
        assert_eq!(all.try_recv().unwrap().seq, 1);
        assert_eq!(all.try_recv().unwrap().seq, 2);
        assert_eq!(availability.try_recv().unwrap().seq, 2);
        assert!(availability.try_recv().is_err());
    }
}

//! How instances tell each other that events were committed.

use async_trait::async_trait;
use tokio::sync::broadcast;

/// The transport that wakes every instance's dispatcher after a commit. It carries no event
/// data: the outbox is the source of truth, so a lost wake-up delays an event, never loses it.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Wakes this instance's dispatcher after one of its own commits wrote events. (Other
    /// instances hear of it through the transport.)
    fn wake(&self);
    /// Wake-ups for this instance's dispatcher: its own announcements and, across processes,
    /// other instances' (and a reconnect, after which missed notifications must be read).
    fn wakeups(&self) -> broadcast::Receiver<()>;
}

/// One process: a broadcast channel.
pub struct LocalBus {
    wake: broadcast::Sender<()>,
}

impl LocalBus {
    pub fn new() -> Self {
        LocalBus {
            wake: broadcast::channel(16).0,
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventBus for LocalBus {
    fn wake(&self) {
        let _ = self.wake.send(());
    }

    fn wakeups(&self) -> broadcast::Receiver<()> {
        self.wake.subscribe()
    }
}

//! Several instances on one PostgreSQL database: LISTEN/NOTIFY carries the wake-ups.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::bus::EventBus;

pub(super) const CHANNEL: &str = "vsys_events";

pub struct PostgresBus {
    wake: broadcast::Sender<()>,
}

impl PostgresBus {
    /// Connects the listener and starts the task that turns notifications into wake-ups.
    pub async fn start(url: &str) -> anyhow::Result<Self> {
        let wake = broadcast::channel(16).0;
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let sender = wake.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => {}
                    // The connection dropped: notifications sent meanwhile are lost, so wake the
                    // dispatcher to read the outbox; the next call reconnects.
                    Ok(None) => tracing::warn!("event listener reconnecting"),
                    Err(error) => {
                        tracing::warn!(%error, "event listener failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                let _ = sender.send(());
            }
        });
        Ok(PostgresBus { wake })
    }
}

#[async_trait]
impl EventBus for PostgresBus {
    fn wake(&self) {
        // The NOTIFY went out with the commit (see `outbox::append`); our own dispatcher also
        // hears it, and waking it directly saves the round trip.
        let _ = self.wake.send(());
    }

    fn wakeups(&self) -> broadcast::Receiver<()> {
        self.wake.subscribe()
    }
}

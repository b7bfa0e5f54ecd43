//! The generic event feed. Typed subscriptions of later features (allocation confirmed, data
//! lock, delivery dates, availability) are filters over the same stream.

use std::sync::Arc;

use async_graphql::{Context, Json, Object, Subscription};
use futures_util::{Stream, StreamExt};

use super::{Events, StoredEvent};
use crate::actor::current_actor;
use crate::authz::may_receive;
use crate::clock::Timestamp;
use crate::error::AppError;

/// Most topics one subscription may filter on.
const MAX_TOPICS: usize = 50;

pub struct Event(pub Arc<StoredEvent>);

/// Something that happened, as recorded in the outbox.
#[Object]
impl Event {
    /// Position in the global event order; pass the last one seen as `after` to resume.
    async fn sequence(&self) -> i64 {
        self.0.seq
    }

    /// Dotted name of what happened, e.g. "organization.updated".
    async fn topic(&self) -> &str {
        &self.0.topic
    }

    /// When the change was committed (UTC).
    async fn occurred_at(&self) -> Timestamp {
        self.0.occurred_at
    }

    /// The event's data; its shape depends on the topic.
    async fn payload(&self) -> Json<Payload> {
        Json(Payload(self.0.clone()))
    }
}

/// Serialises an event's payload, decoded once per instance and shared by every subscriber.
pub struct Payload(Arc<StoredEvent>);

impl serde::Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.payload.serialize(serializer)
    }
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Events visible to the caller, in sequence order. With `after`, first replays every
    /// committed event after that sequence number, then continues live, without gaps.
    /// Anonymous callers receive public events only; signed-in users also the restricted
    /// events of organisations in their area.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
        #[graphql(desc = "Only events with one of these topics (at most 50).")] topics: Option<
            Vec<String>,
        >,
    ) -> async_graphql::Result<impl Stream<Item = Event> + use<>> {
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        let topics = topics.unwrap_or_default();
        if topics.len() > MAX_TOPICS {
            return Err(
                AppError::invalid_field("topics", format!("at most {MAX_TOPICS} topics")).into(),
            );
        }
        let events = ctx.data_unchecked::<Arc<Events>>();
        let actor = current_actor(ctx).cloned();
        Ok(events
            .stream(after)
            .filter(move |event| {
                let wanted = topics.is_empty() || topics.contains(&event.topic);
                std::future::ready(wanted && may_receive(actor.as_ref(), event))
            })
            .map(Event))
    }
}

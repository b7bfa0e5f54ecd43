//! `Subscription.allocationEvents`: the allocation cycle as it happens, over the event outbox.
//! A municipality sees its amounts proposed, changed and confirmed and the data lock; a
//! prefecture its municipalities' progress; the nation every prefecture's; a facility only the
//! lock's event with its own amounts. Decided in memory from the event row, by the same area
//! rule as the queries.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object, Subscription};
use futures_util::{Stream, StreamExt};

use super::cycle::{CHANGED_TOPIC, COMPLETED_TOPIC, CONFIRMED_TOPIC, LOCKED_TOPIC, PROPOSED_TOPIC};
use crate::actor::require_actor;
use crate::authz::may_receive;
use crate::clock::Timestamp;
use crate::error::AppError;
use crate::events::{Events, StoredEvent};
use crate::graphql::ids::global_id;
use crate::organizations::{OrganizationNode, load_organization};

/// What happened in the cycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AllocationEventKind {
    /// Amounts were pre-filled by a proposal (`allocation.proposed`).
    Proposed,
    /// An amount was set by hand (`allocation.changed`).
    Changed,
    /// A prefecture or municipality confirmed what it received (`allocation.confirmed`).
    Confirmed,
    /// An organisation completed its allocation down (`allocation.completed`).
    Completed,
    /// The prefecture locked the cool (`allocation.locked`): amounts are final.
    Locked,
}

impl AllocationEventKind {
    fn of_topic(topic: &str) -> Option<Self> {
        Some(match topic {
            PROPOSED_TOPIC => AllocationEventKind::Proposed,
            CHANGED_TOPIC => AllocationEventKind::Changed,
            CONFIRMED_TOPIC => AllocationEventKind::Confirmed,
            COMPLETED_TOPIC => AllocationEventKind::Completed,
            LOCKED_TOPIC => AllocationEventKind::Locked,
            _ => return None,
        })
    }
}

pub struct AllocationEvent {
    kind: AllocationEventKind,
    event: Arc<StoredEvent>,
}

/// One step of the allocation cycle.
#[Object]
impl AllocationEvent {
    /// Position in the global event order; pass the last one seen as `after` to resume.
    async fn sequence(&self) -> i64 {
        self.event.seq
    }
    /// What happened.
    async fn kind(&self) -> AllocationEventKind {
        self.kind
    }
    /// The cool.
    async fn cool_id(&self) -> Option<ID> {
        self.event
            .payload_str("coolId")
            .map(|id| global_id("Cool", id))
    }
    /// The organisation it concerns: the recipient of an amount, the one that confirmed or
    /// completed, the one whose amounts the lock made final.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        match &self.event.organization_id {
            Some(id) => Ok(load_organization(ctx, id)
                .await?
                .map(OrganizationNode::from)),
            None => Ok(None),
        }
    }
    /// When it was committed (UTC).
    async fn occurred_at(&self) -> Timestamp {
        self.event.occurred_at
    }
    /// The details (amounts in boxes and doses); the shape depends on the kind.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.event.payload.clone())
    }
}

#[derive(Default)]
pub struct AllocationSubscription;

#[Subscription]
impl AllocationSubscription {
    /// The allocation cycle live: proposals, changes, confirmations, completions and the data
    /// lock in your area (a facility: the lock, with its own amounts). Sign in first. With
    /// `after` (an event sequence number), first replays what happened since.
    async fn allocation_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
        #[graphql(desc = "Only the events of this cool.")] cool_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = AllocationEvent> + use<>> {
        let actor = require_actor(ctx)?.clone();
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        let cool = cool_id
            .map(|id| super::graphql::cool_row(&id))
            .transpose()?;
        let events = ctx.data_unchecked::<Arc<Events>>();
        Ok(events.stream(after).filter_map(move |event| {
            let kind = AllocationEventKind::of_topic(&event.topic).filter(|_| {
                may_receive(Some(&actor), &event)
                    && cool
                        .as_deref()
                        .is_none_or(|c| event.payload_str("coolId") == Some(c))
            });
            std::future::ready(kind.map(|kind| AllocationEvent { kind, event }))
        }))
    }
}

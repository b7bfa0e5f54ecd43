//! The outbox: events are rows written in the transaction of the change they describe.

use serde_json::Value as Json;

use crate::db::{Db, WriteTx, now_utc};
use crate::error::AppResult;

/// Who may receive an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone, signed in or not (e.g. navigator availability).
    Public,
    /// Only users whose area includes the event's organisation.
    Restricted,
    /// Only the servers' own listeners (e.g. "this session ended"), never a subscriber.
    Internal,
}

impl Visibility {
    fn as_db(self) -> &'static str {
        match self {
            Visibility::Public => "PUBLIC",
            Visibility::Restricted => "RESTRICTED",
            Visibility::Internal => "INTERNAL",
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Dotted name of what happened, e.g. "allocation.confirmed".
    pub topic: String,
    pub visibility: Visibility,
    /// The organisation the event concerns; required for restricted events.
    pub organization_id: Option<String>,
    pub payload: Json,
}

/// An event as stored, with its sequence number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub seq: i64,
    pub topic: String,
    pub visibility: String,
    pub organization_id: Option<String>,
    pub payload: String,
    pub occurred_at: String,
}

/// Appends an event inside `tx` and returns its sequence number. Taking the number locks the
/// sequence row until `tx` ends, so sequence numbers become visible in commit order.
pub async fn append(tx: &mut WriteTx, event: &NewEvent) -> AppResult<i64> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE event_sequence SET last_value = last_value + 1 WHERE id = 1 RETURNING last_value",
    )
    .fetch_one(&mut ***tx)
    .await?;
    sqlx::query(
        "INSERT INTO events (seq, topic, visibility, organization_id, payload, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(seq)
    .bind(&event.topic)
    .bind(event.visibility.as_db())
    .bind(event.organization_id.as_deref())
    .bind(event.payload.to_string())
    .bind(now_utc())
    .execute(&mut ***tx)
    .await?;
    Ok(seq)
}

/// Committed events after `after`, oldest first.
pub async fn read_after(db: &Db, after: i64, limit: i64) -> AppResult<Vec<StoredEvent>> {
    Ok(sqlx::query_as(
        "SELECT seq, topic, visibility, organization_id, payload, occurred_at FROM events \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// The highest committed sequence number (0 when there is none).
pub async fn latest_seq(db: &Db) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(db.pool())
            .await?,
    )
}

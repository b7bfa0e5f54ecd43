//! The navigator's stored statuses (`navigator_statuses`: each venue's status and when it last
//! changed), recorded after the fact from the outbox.
//!
//! A transaction that changes a venue's availability only appends its public
//! `availability.changed` event. This task follows those events from a cursor stored beside
//! the statuses: it recomputes the status of every venue they name (once per venue, however
//! many bookings a burst brought), stores it with the time of the venue's latest change, and
//! moves the cursor, all in one transaction. So:
//! - a booking's transaction stays short, and a burst costs one write per pass, not one per
//!   booking;
//! - nothing is lost: after a crash or restart the task resumes from its cursor;
//! - with several instances each runs it; a pass that finds the cursor moved by another
//!   instance is dropped.
//!
//! What the public reads is computed live from the slots; the stored status only says since
//! when it holds, which is at most one pass late.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::availability::{self, AVAILABILITY_TOPIC};
use crate::clock::Timestamp;
use crate::db::{Db, WriteTx};
use crate::error::AppResult;
use crate::events::Events;

/// The least time between two passes: a burst of changes is recorded together.
pub const PASS_SPACING: Duration = Duration::from_millis(250);

/// Without news, the task still looks this often (a missed wake-up costs no more than this).
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// Events read per pass at most.
const EVENTS_PER_PASS: i64 = 1000;

/// Venues written per statement.
const VENUES_PER_STATEMENT: usize = 200;

/// Starts the task; it runs as long as the server.
pub fn start(db: Db, events: Arc<Events>) {
    tokio::spawn(async move {
        let mut feed = Box::pin(events.stream_topic(AVAILABILITY_TOPIC, None));
        loop {
            match record_pending(&db).await {
                // A full pass: more may be waiting.
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(?error, "recording navigator statuses failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            // Wait for the next change of availability (or look anyway now and then).
            let wait = async { feed.next().await.is_some() };
            if let Ok(false) = tokio::time::timeout(IDLE_CHECK, wait).await {
                // The feed ended: the server is stopping.
                return;
            }
            tokio::time::sleep(PASS_SPACING).await;
        }
    });
}

#[derive(sqlx::FromRow)]
struct Change {
    seq: i64,
    organization_id: Option<String>,
    occurred_at: Timestamp,
}

/// One pass: records the statuses of the venues named by availability events after the
/// cursor. True when it read a full batch (more may remain).
pub async fn record_pending(db: &Db) -> AppResult<bool> {
    let cursor: i64 =
        sqlx::query_scalar("SELECT last_seq FROM navigator_status_cursor WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    let changes: Vec<Change> = sqlx::query_as(
        "SELECT seq, organization_id, occurred_at FROM events \
         WHERE topic = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(AVAILABILITY_TOPIC)
    .bind(cursor)
    .bind(EVENTS_PER_PASS)
    .fetch_all(db.pool())
    .await?;
    let Some(last) = changes.last().map(|c| c.seq) else {
        return Ok(false);
    };
    // Each venue's latest change, in event order.
    let mut latest: HashMap<String, Timestamp> = HashMap::new();
    for change in &changes {
        if let Some(venue) = &change.organization_id {
            latest.insert(venue.clone(), change.occurred_at);
        }
    }
    let mut tx = db.begin_write().await?;
    let moved = sqlx::query(
        "UPDATE navigator_status_cursor SET last_seq = $1 WHERE id = 1 AND last_seq = $2",
    )
    .bind(last)
    .bind(cursor)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        // Another instance recorded these meanwhile: start again from its cursor.
        return Ok(true);
    }
    let venues: Vec<(String, Timestamp)> = latest.into_iter().collect();
    for chunk in venues.chunks(VENUES_PER_STATEMENT) {
        record(&mut tx, chunk).await?;
    }
    tx.commit().await?;
    Ok(changes.len() as i64 == EVENTS_PER_PASS)
}

/// Stores the statuses of venues now, each with the time of its latest change, which becomes
/// `changed_at` when the status differs from the one stored.
async fn record(tx: &mut WriteTx, venues: &[(String, Timestamp)]) -> AppResult<()> {
    let now = tx.now();
    let ids: Vec<String> = venues.iter().map(|(id, _)| id.clone()).collect();
    // The declaration's age does not change a status, only whether it shows as unconfirmed.
    let current =
        availability::of_venues(tx.conn(), &ids, now, time::Duration::days(36500)).await?;
    let rows: Vec<_> = venues
        .iter()
        .filter_map(|(id, at)| current.get(id).map(|a| (id, at, a)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let p = |n: usize| format!("${}", i * 5 + n + 1);
            format!("({}, {}, {}, {}, {}, $1)", p(1), p(2), p(3), p(4), p(5))
        })
        .collect();
    let sql = format!(
        "INSERT INTO navigator_statuses (facility_id, status, next_free_date, free_places, \
         changed_at, computed_at) VALUES {} \
         ON CONFLICT (facility_id) DO UPDATE SET \
         changed_at = CASE WHEN navigator_statuses.status = excluded.status \
           THEN navigator_statuses.changed_at ELSE excluded.changed_at END, \
         status = excluded.status, next_free_date = excluded.next_free_date, \
         free_places = excluded.free_places, computed_at = excluded.computed_at",
        values.join(", ")
    );
    let mut upsert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for (id, at, availability) in rows {
        upsert = upsert
            .bind(id.clone())
            .bind(availability.status.as_db())
            .bind(availability.next_free_date.clone())
            .bind(availability.free_places)
            .bind(*at);
    }
    upsert.execute(tx.conn()).await?;
    Ok(())
}

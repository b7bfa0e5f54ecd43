//! The outbox: events are rows written in the transaction of the change they describe.
//!
//! A row carries everything a visibility decision needs (the organisation it concerns, that
//! organisation's prefecture and municipality, and the topic's audience), so a subscription
//! decides from the event alone. The payload is decoded once, when the row is read.

use crate::clock::Timestamp;
use serde_json::Value as Json;

use crate::db::{Backend, Db, WriteTx};
use crate::error::{AppError, AppResult};

/// Who may receive an event.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone, signed in or not (e.g. navigator availability).
    Public,
    /// Only users whose area includes the event's organisation (see [`Audience`]).
    Restricted,
    /// Only the servers' own listeners (e.g. "this session ended"), never a subscriber.
    Internal,
}

crate::db_enum!(Visibility);

/// Within the area of a restricted event's organisation, who receives it. A property of the
/// topic, decided in one place ([`Audience::of_topic`]) and stored with the row.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone whose area includes the organisation, the organisation itself included.
    Area,
    /// Only the administrative chain above the organisation (its municipality, prefecture, the
    /// nation, the service desk): e.g. an allocation before the data lock, which the facility
    /// may not see yet.
    Administration,
}

crate::db_enum!(Audience);

/// Topic prefixes whose events only the administrative chain receives: allocation before the
/// data lock (a facility sees its amounts from the lock on, seed p. 43).
const ADMINISTRATION_TOPICS: &[&str] = &[
    "allocation.proposed",
    "allocation.changed",
    "allocation.confirmed",
    "allocation.completed",
];

impl Audience {
    pub fn of_topic(topic: &str) -> Audience {
        if ADMINISTRATION_TOPICS.iter().any(|p| topic.starts_with(p)) {
            Audience::Administration
        } else {
            Audience::Area
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

/// An event as stored, with its sequence number, decoded once.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub topic: String,
    pub visibility: Visibility,
    pub audience: Audience,
    pub organization_id: Option<String>,
    /// The prefecture and municipality of `organization_id` when the event was written.
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
    pub payload: Json,
    pub occurred_at: Timestamp,
}

impl StoredEvent {
    /// A text field of the payload.
    pub fn payload_str(&self, key: &str) -> Option<&str> {
        self.payload.get(key).and_then(Json::as_str)
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    topic: String,
    visibility: String,
    audience: String,
    organization_id: Option<String>,
    prefecture_id: Option<String>,
    municipality_id: Option<String>,
    payload: String,
    occurred_at: Timestamp,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = AppError;

    fn try_from(row: EventRow) -> Result<Self, AppError> {
        let seq = row.seq;
        let corrupt = |what: &str| AppError::Internal(anyhow::anyhow!("event {seq}: bad {what}"));
        Ok(StoredEvent {
            seq: row.seq,
            visibility: Visibility::from_db(&row.visibility)
                .ok_or_else(|| corrupt("visibility"))?,
            audience: Audience::from_db(&row.audience).ok_or_else(|| corrupt("audience"))?,
            payload: serde_json::from_str(&row.payload).map_err(|_| corrupt("payload"))?,
            topic: row.topic,
            organization_id: row.organization_id,
            prefecture_id: row.prefecture_id,
            municipality_id: row.municipality_id,
            occurred_at: row.occurred_at,
        })
    }
}

/// Appends an event inside `tx` and returns its sequence number (see [`append_all`]).
pub async fn append(tx: &mut WriteTx, event: &NewEvent) -> AppResult<i64> {
    let seqs = append_all(tx, std::slice::from_ref(event)).await?;
    Ok(seqs[0])
}

/// Appends events inside `tx`, in order, and returns their sequence numbers: two statements
/// however many events. Taking the numbers locks the sequence row until `tx` ends, so sequence
/// numbers become visible in commit order: append as the last statement of the transaction, to
/// hold that lock as briefly as possible.
pub async fn append_all(tx: &mut WriteTx, events: &[NewEvent]) -> AppResult<Vec<i64>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = events.len() as i64;
    let last: i64 = sqlx::query_scalar(
        "UPDATE event_sequence SET last_value = last_value + $1 WHERE id = 1 RETURNING last_value",
    )
    .bind(count)
    .fetch_one(tx.conn())
    .await?;
    let seqs: Vec<i64> = (last - count + 1..=last).collect();
    // The area columns are copied from the organisation in the same statement: no extra round
    // trip, and the event keeps the area it had when it happened.
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let p = |n: usize| format!("${}", i * 7 + n);
            format!(
                "({}, {}, {}, {}, {}, {}, {}, \
                 (SELECT o.prefecture_id FROM organizations o WHERE o.id = {}), \
                 (SELECT o.municipality_id FROM organizations o WHERE o.id = {}))",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(5),
                p(5)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (seq, topic, visibility, audience, organization_id, payload, \
         occurred_at, prefecture_id, municipality_id) VALUES {}",
        rows.join(", ")
    );
    let now = tx.now();
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (event, seq) in events.iter().zip(&seqs) {
        insert = insert
            .bind(*seq)
            .bind(event.topic.clone())
            .bind(event.visibility.as_db())
            .bind(Audience::of_topic(&event.topic).as_db())
            .bind(event.organization_id.clone())
            .bind(event.payload.to_string())
            .bind(now);
    }
    insert.execute(tx.conn()).await?;
    if !tx.queued().events && tx.backend() == Backend::Postgres {
        // NOTIFY is transactional: PostgreSQL delivers it to every instance's listener at
        // commit, and drops it on rollback. One per transaction is enough.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(super::postgres::CHANNEL)
            .execute(tx.conn())
            .await?;
    }
    tx.queue_events();
    Ok(seqs)
}

/// Committed events after `after`, oldest first.
pub async fn read_after(db: &Db, after: i64, limit: i64) -> AppResult<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT seq, topic, visibility, audience, organization_id, prefecture_id, \
         municipality_id, payload, occurred_at FROM events \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// One topic's committed events after `after`, in sequence order (by the `events_topic`
/// index).
pub async fn read_topic_after(
    db: &Db,
    topic: &str,
    after: i64,
    limit: i64,
) -> AppResult<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT seq, topic, visibility, audience, organization_id, prefecture_id, \
         municipality_id, payload, occurred_at FROM events \
         WHERE topic = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(topic)
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// The highest committed sequence number (0 when there is none).
pub async fn latest_seq(db: &Db) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(db.pool())
            .await?,
    )
}

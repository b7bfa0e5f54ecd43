//! A venue's availability as the public sees it, with the original's five statuses (seed
//! p. 40): 予約可能, 若干空き有り, 予約不可能, 予約不要, 予約準備中.
//!
//! Where it comes from, so that it is never stale:
//! - a venue booking in vsys: its real slots over the coming weeks, computed when read;
//! - a venue booking elsewhere: its own declaration, flagged unconfirmed when older than the
//!   configured age;
//! - a venue needing no booking: 予約不要.
//!
//! Every transaction that changes a venue's availability appends a public event; from those
//! events [`super::status_recorder`] keeps each venue's stored status (`navigator_statuses`),
//! which says since when the status holds.

use std::collections::HashMap;

use async_graphql::Enum;
use sqlx::AnyConnection;
use time::Duration;

use super::slots::japan_minute_at;
use crate::clock::{JST, Timestamp};
use crate::db::{Db, WriteTx, placeholders};
use crate::error::AppResult;
use crate::events::{NewEvent, Visibility, append};
use crate::organizations::ReservationMode;

/// A venue's availability changed (slots created, a booking made, changed or cancelled, a
/// declaration, a mode, a publication). Public: the navigator's live statuses follow it.
pub const AVAILABILITY_TOPIC: &str = "availability.changed";

/// How far ahead a vsys venue's slots count.
pub const HORIZON_DAYS: i64 = 28;

/// The navigator's five statuses.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AvailabilityStatus {
    /// 予約可能: places are free.
    Bookable,
    /// 若干空き有り: a few places are left.
    FewLeft,
    /// 予約不可能: every place is taken.
    NotBookable,
    /// 予約不要: no booking needed.
    NoBookingNeeded,
    /// 予約準備中: booking has not opened yet.
    Preparing,
}

crate::db_enum!(AvailabilityStatus);

impl AvailabilityStatus {
    /// The label the original showed.
    pub fn label_ja(self) -> &'static str {
        match self {
            AvailabilityStatus::Bookable => "予約可能",
            AvailabilityStatus::FewLeft => "若干空き有り",
            AvailabilityStatus::NotBookable => "予約不可能",
            AvailabilityStatus::NoBookingNeeded => "予約不要",
            AvailabilityStatus::Preparing => "予約準備中",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AvailabilityStatus::Bookable => "Bookable",
            AvailabilityStatus::FewLeft => "A few places left",
            AvailabilityStatus::NotBookable => "Fully booked",
            AvailabilityStatus::NoBookingNeeded => "No booking needed",
            AvailabilityStatus::Preparing => "Booking not open yet",
        }
    }

    /// A vsys venue's status from its coming slots: none yet is 予約準備中; none free is
    /// 予約不可能; at most a tenth of the places (or five) free is 若干空き有り.
    pub fn of_slots(slots: i64, capacity: i64, free: i64) -> AvailabilityStatus {
        if slots == 0 {
            AvailabilityStatus::Preparing
        } else if free <= 0 {
            AvailabilityStatus::NotBookable
        } else if free <= 5 || free * 10 <= capacity {
            AvailabilityStatus::FewLeft
        } else {
            AvailabilityStatus::Bookable
        }
    }
}

/// A venue's availability now.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub status: AvailabilityStatus,
    /// The first day with a free place (vsys), or as declared.
    pub next_free_date: Option<String>,
    /// Free places over the coming weeks (vsys venues).
    pub free_places: i64,
    /// When an EXTERNAL venue last declared its status.
    pub declared_at: Option<Timestamp>,
    /// An EXTERNAL venue's declaration is older than the allowed age: call to confirm.
    pub unconfirmed: bool,
    /// When the status last changed, as stored; `None` when time has moved the live status
    /// on since (a slot passed) and no write has recorded it yet.
    pub changed_at: Option<Timestamp>,
}

/// What the stored rows say about one venue, with its coming slots' totals (none for a
/// venue without coming slots).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct VenueRow {
    organization_id: String,
    reservation_mode: Option<ReservationMode>,
    declared_status: Option<AvailabilityStatus>,
    declared_next_date: Option<String>,
    declared_at: Option<Timestamp>,
    stored_status: Option<AvailabilityStatus>,
    changed_at: Option<Timestamp>,
    /// Coming slots, their places, their free places, and the first day with one free.
    slots: Option<i64>,
    capacity: Option<i64>,
    free: Option<i64>,
    next_free_date: Option<String>,
}

/// The availability of venues, now, in one statement however many venues.
pub async fn of_venues(
    conn: &mut AnyConnection,
    ids: &[String],
    now: Timestamp,
    declaration_max_age: Duration,
) -> AppResult<HashMap<String, Availability>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (from, to) = horizon(now);
    // The venue list is bound once and named twice.
    let list = placeholders(3, ids.len());
    // SUM is NUMERIC on PostgreSQL: cast back to BIGINT for one decoding on both backends.
    let sql = format!(
        "SELECT f.organization_id, f.reservation_mode, f.declared_status, f.declared_next_date, \
         f.declared_at, n.status AS stored_status, n.changed_at, \
         t.slots, t.capacity, t.free, t.next_free_date FROM facilities f \
         LEFT JOIN navigator_statuses n ON n.facility_id = f.organization_id \
         LEFT JOIN (SELECT facility_id, COUNT(*) AS slots, CAST(SUM(capacity) AS BIGINT) AS capacity, \
           CAST(SUM(capacity - booked) AS BIGINT) AS free, \
           MIN(CASE WHEN booked < capacity THEN slot_date END) AS next_free_date \
           FROM reservation_slots WHERE starts_at > $1 AND slot_date <= $2 \
           AND facility_id IN ({list}) GROUP BY facility_id) t \
           ON t.facility_id = f.organization_id \
         WHERE f.organization_id IN ({list})"
    );
    let mut query = sqlx::query_as::<_, VenueRow>(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to);
    for id in ids {
        query = query.bind(id);
    }
    let venues = query.fetch_all(&mut *conn).await?;
    Ok(venues
        .into_iter()
        .map(|v| {
            let availability = availability(&v, now, declaration_max_age);
            (v.organization_id, availability)
        })
        .collect())
}

/// From now (Japan time, to the minute) to the last day counted.
fn horizon(now: Timestamp) -> (String, String) {
    let local = now.instant().to_offset(JST);
    let last = local.date() + Duration::days(HORIZON_DAYS);
    (japan_minute_at(now), last.to_string())
}

fn availability(venue: &VenueRow, now: Timestamp, declaration_max_age: Duration) -> Availability {
    let mode = venue.reservation_mode.unwrap_or(ReservationMode::External);
    let (status, next_free_date, free_places, unconfirmed) = match mode {
        ReservationMode::Vsys => {
            let free = venue.free.unwrap_or(0);
            (
                AvailabilityStatus::of_slots(
                    venue.slots.unwrap_or(0),
                    venue.capacity.unwrap_or(0),
                    free,
                ),
                venue.next_free_date.clone(),
                free.max(0),
                false,
            )
        }
        ReservationMode::External => match venue.declared_status {
            Some(declared) => (
                declared,
                venue.declared_next_date.clone(),
                0,
                venue
                    .declared_at
                    .is_none_or(|at| at.instant() + declaration_max_age < now.instant()),
            ),
            None => (AvailabilityStatus::Preparing, None, 0, false),
        },
        ReservationMode::NotRequired => (AvailabilityStatus::NoBookingNeeded, None, 0, false),
    };
    Availability {
        changed_at: venue
            .changed_at
            .filter(|_| venue.stored_status == Some(status)),
        status,
        next_free_date,
        free_places,
        declared_at: venue
            .declared_at
            .filter(|_| mode == ReservationMode::External),
        unconfirmed,
    }
}

/// A venue's availability changed in `tx`: refreshes its stored status and tells the navigator
/// with a public event saying what changed (`details`, with the venue's id added).
pub async fn announce(
    tx: &mut WriteTx,
    facility_id: &str,
    details: serde_json::Value,
) -> AppResult<()> {
    let event = changed(facility_id, details);
    append(tx, &event).await?;
    Ok(())
}

/// The public event [`announce`] appends, for a caller to append with its own (one sequence
/// step for all of a transaction's events).
pub fn changed(facility_id: &str, mut details: serde_json::Value) -> NewEvent {
    details["facilityId"] = serde_json::Value::from(facility_id);
    NewEvent {
        topic: AVAILABILITY_TOPIC.into(),
        visibility: Visibility::Public,
        organization_id: Some(facility_id.to_owned()),
        payload: details,
    }
}

/// The availability of one venue, read from the pool.
pub async fn of_venue(
    db: &Db,
    facility_id: &str,
    declaration_max_age: Duration,
) -> AppResult<Option<Availability>> {
    let ids = [facility_id.to_owned()];
    let mut conn = db.pool().acquire().await?;
    Ok(of_venues(&mut conn, &ids, db.now(), declaration_max_age)
        .await?
        .remove(facility_id))
}

#[cfg(test)]
mod tests {
    use super::AvailabilityStatus as S;

    #[test]
    fn a_vsys_venues_status_follows_its_free_places() {
        assert_eq!(S::of_slots(0, 0, 0), S::Preparing);
        assert_eq!(S::of_slots(10, 100, 0), S::NotBookable);
        assert_eq!(S::of_slots(10, 100, 5), S::FewLeft);
        assert_eq!(S::of_slots(10, 1000, 100), S::FewLeft);
        assert_eq!(S::of_slots(10, 1000, 101), S::Bookable);
        assert_eq!(S::of_slots(10, 40, 6), S::Bookable);
    }

    #[test]
    fn every_status_has_the_originals_label() {
        let labels: Vec<&str> = [
            S::Bookable,
            S::FewLeft,
            S::NotBookable,
            S::NoBookingNeeded,
            S::Preparing,
        ]
        .iter()
        .map(|s| s.label_ja())
        .collect();
        assert_eq!(
            labels,
            [
                "予約可能",
                "若干空き有り",
                "予約不可能",
                "予約不要",
                "予約準備中"
            ]
        );
    }
}

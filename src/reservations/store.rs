//! Reservations as stored, and the reads of them.

use async_graphql::Enum;

use crate::actor::{Actor, Role};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, Filter};
use crate::error::{AppError, AppResult};
use crate::graphql::pagination::PageRequest;

/// Where a booking stands.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// The place is held.
    Booked,
    /// Cancelled; the place was freed.
    Cancelled,
}

crate::db_enum!(ReservationStatus);

/// One booking with its slot's times.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReservationRecord {
    pub id: String,
    pub slot_id: String,
    pub facility_id: String,
    pub product_id: String,
    /// The vaccine's code, read with the booking.
    pub product_code: String,
    pub coupon_municipality_id: String,
    pub coupon_number: String,
    pub dose_number: i64,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub phone: String,
    pub status: ReservationStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    pub version: i64,
    pub slot_date: String,
    pub starts_at: String,
    pub ends_at: String,
    /// The venue's municipality (the area the booking belongs to).
    pub venue_municipality_id: String,
    /// The vaccine's minimum interval before the next dose, read with the booking.
    pub minimum_interval_days: Option<i64>,
}

const SELECT: &str = "SELECT r.id, r.slot_id, r.facility_id, r.product_id, \
     p.code AS product_code, \
     r.coupon_municipality_id, r.coupon_number, r.dose_number, r.name, r.name_kana, \
     r.birth_date, r.phone, r.status, r.created_at, r.updated_at, r.cancelled_at, \
     r.cancel_reason, r.version, s.slot_date, s.starts_at, s.ends_at, \
     s.municipality_id AS venue_municipality_id, p.minimum_interval_days \
     FROM reservations r JOIN reservation_slots s ON s.id = r.slot_id \
     JOIN products p ON p.id = r.product_id";

pub async fn load<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<ReservationRecord>> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The active bookings of a coupon for a dose and its neighbours (the dose before and the
/// dose after), other than `except`: what a booking of that dose is checked against.
pub async fn active_doses_around<'c>(
    on: impl Exec<'c>,
    municipality_id: &str,
    coupon_number: &str,
    dose_number: i64,
    except: Option<&str>,
) -> AppResult<Vec<ReservationRecord>> {
    let sql = format!(
        "{SELECT} WHERE r.coupon_municipality_id = $1 AND r.coupon_number = $2 \
         AND r.dose_number BETWEEN $3 AND $4 AND r.status = $5 AND r.id <> $6"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(municipality_id)
        .bind(coupon_number)
        .bind(dose_number - 1)
        .bind(dose_number + 1)
        .bind(ReservationStatus::Booked.as_db())
        .bind(except.unwrap_or(""))
        .fetch_all(on)
        .await?)
}

/// What a reservations list asks for.
#[derive(Debug, Default)]
pub struct ReservationFilter {
    pub facility_id: Option<String>,
    pub coupon_number: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<ReservationStatus>,
}

/// A page of the reservations the actor may read, by slot time: a venue its own; its
/// municipality's staff and call centre the municipality's. Others are FORBIDDEN: they hold
/// no residents' data.
pub async fn page(
    db: &Db,
    actor: &Actor,
    wanted: &ReservationFilter,
    page: &PageRequest,
) -> AppResult<Vec<ReservationRecord>> {
    let mut filter = Filter::default();
    match actor.role {
        Role::MedicalInstitution => {
            filter.and("r.facility_id = ?", [actor.organization.id.clone()])
        }
        Role::Municipality | Role::ReservationOperator => {
            filter.and("s.municipality_id = ?", [actor.organization.id.clone()])
        }
        _ => return Err(AppError::Forbidden),
    };
    if let Some(f) = &wanted.facility_id {
        filter.and("r.facility_id = ?", [f.clone()]);
    }
    if let Some(c) = &wanted.coupon_number {
        filter.and("r.coupon_number = ?", [c.clone()]);
    }
    if let Some(from) = &wanted.from {
        filter.and("s.slot_date >= ?", [from.clone()]);
    }
    if let Some(to) = &wanted.to {
        filter.and("s.slot_date <= ?", [to.clone()]);
    }
    if let Some(status) = wanted.status {
        filter.and("r.status = ?", [status.as_db().to_owned()]);
    }
    if let Some(after) = &page.after {
        filter.and(
            "(s.starts_at > ? OR (s.starts_at = ? AND r.id > ?))",
            [after[0].clone(), after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "{SELECT}{} ORDER BY s.starts_at, r.id LIMIT {}",
        filter.where_clause(),
        page.fetch_limit()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

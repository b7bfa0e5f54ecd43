//! An EXTERNAL venue's declaration of its booking status (`setReservationStatus`): the venue
//! books by its own phone or web form, so it tells the navigator how things stand. Declaring
//! again, even unchanged, confirms it: a declaration older than the allowed age shows as
//! unconfirmed.

use serde_json::json;

use super::availability::{self, AvailabilityStatus};
use super::schedule::parse_date;
use super::slots::venue;
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::Action;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::facilities::decide_on;
use crate::organizations::ReservationMode;

/// Records the declaration. Audited; announced to the navigator.
pub async fn declare(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    status: AvailabilityStatus,
    next_date: Option<&str>,
) -> AppResult<()> {
    let result = declare_checked(db, meta, actor, facility_id, status, next_date).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "setReservationStatus",
        Some(facility_id),
        result,
    )
    .await
}

async fn declare_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    status: AvailabilityStatus,
    next_date: Option<&str>,
) -> AppResult<()> {
    let venue = venue(db, facility_id).await?;
    decide_on(Some(actor), Action::ManageReservations, &venue)?;
    if venue.reservation_mode != Some(ReservationMode::External) {
        return Err(AppError::refused(
            "NOT_AN_EXTERNAL_VENUE",
            "only venues booking elsewhere declare their status: a vsys venue's comes from its slots / 予約状況の登録はV-SYS外で予約を受け付ける会場のみです",
        ));
    }
    if status == AvailabilityStatus::NoBookingNeeded {
        return Err(AppError::invalid_field(
            "status",
            "a venue needing no booking sets its reservation mode to NOT_REQUIRED / 予約不要の会場は予約方法を「予約不要」にしてください",
        ));
    }
    let today = db.clock().japan_date();
    let next_date = next_date
        .map(|d| {
            let date = parse_date("nextAvailableDate", d)?;
            if date < today || (date - today).whole_days() > 366 {
                return Err(AppError::invalid_field(
                    "nextAvailableDate",
                    "a day from today to a year ahead / 今日から1年以内の日付を指定してください",
                ));
            }
            Ok(date.to_string())
        })
        .transpose()?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    sqlx::query(
        "UPDATE facilities SET declared_status = $1, declared_next_date = $2, declared_at = $3 \
         WHERE organization_id = $4",
    )
    .bind(status.as_db())
    .bind(&next_date)
    .bind(now)
    .bind(&venue.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("setReservationStatus", Outcome::Success, Some(actor))
            .object("Facility", &venue.id)
            .organization(&venue.id)
            .change(
                None,
                Some(json!({ "status": status.as_db(), "nextAvailableDate": next_date })),
            ),
    )
    .await?;
    availability::announce(&mut tx, &venue.id, json!({ "status": status.as_db() })).await?;
    tx.commit().await?;
    Ok(())
}

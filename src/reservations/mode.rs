//! How a venue takes bookings (`setReservationMode`): an approval-free setting of the venue or
//! its municipality, since it changes no vaccination data, only where residents book.

use serde_json::json;

use super::slots::venue;
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::Action;
use crate::db::Db;
use crate::error::AppResult;
use crate::facilities::decide_on;
use crate::organizations::{OrganizationRecord, ReservationMode, store};

/// Sets the mode; slots already created stay (a venue switching back to VSYS finds them).
/// Audited, and announced to the navigator.
pub async fn set(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    mode: ReservationMode,
) -> AppResult<OrganizationRecord> {
    let result = set_checked(db, meta, actor, facility_id, mode).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "setReservationMode",
        Some(facility_id),
        result,
    )
    .await
}

async fn set_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    mode: ReservationMode,
) -> AppResult<OrganizationRecord> {
    let venue = venue(db, facility_id).await?;
    decide_on(Some(actor), Action::ManageReservations, &venue)?;
    let before = venue.reservation_mode.unwrap_or(ReservationMode::External);
    if before != mode {
        let mut tx = db.begin_write().await?;
        sqlx::query("UPDATE facilities SET reservation_mode = $1 WHERE organization_id = $2")
            .bind(mode.as_db())
            .bind(&venue.id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "UPDATE organizations SET updated_at = $1, version = version + 1 WHERE id = $2",
        )
        .bind(tx.now())
        .bind(&venue.id)
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("setReservationMode", Outcome::Success, Some(actor))
                .object("Facility", &venue.id)
                .organization(&venue.id)
                .change(
                    Some(json!({ "reservationMode": before.as_db() })),
                    Some(json!({ "reservationMode": mode.as_db() })),
                ),
        )
        .await?;
        super::availability::announce(
            &mut tx,
            &venue.id,
            json!({ "reservationMode": mode.as_db() }),
        )
        .await?;
        tx.commit().await?;
    }
    store::load(db.pool(), &venue.id)
        .await?
        .ok_or(crate::error::AppError::NotFound("facility"))
}

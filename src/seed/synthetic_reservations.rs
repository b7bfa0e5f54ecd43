//! What the national synthetic data needs for the navigator to run at scale (issue #10's
//! benchmark): every facility published, every tenth one (5,000 of 50,000) booking in vsys with
//! 14 days of slots from the day after seeding (09:00–12:00 and 13:00–17:00, hourly, ten
//! places each: 490,000 slots).

use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::{NewOrganization, ReservationMode};
use crate::reservations::slots::insert_slots;

/// One venue in this many books in vsys.
const EVERY: usize = 10;
const VACCINE: &str = "PFIZER";

pub async fn seed(db: &Db, facilities: &[NewOrganization]) -> AppResult<()> {
    let Some(product) = crate::allocation::products::by_code(db.pool(), VACCINE).await? else {
        return Ok(());
    };
    let schedule =
        super::demo_slots::fortnight(db, vec![("09:00", "12:00"), ("13:00", "17:00")], 60, 10)?;
    let slots = schedule.slots();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE facilities SET navigator_published = 1")
        .execute(tx.conn())
        .await?;
    for venue in facilities.iter().step_by(EVERY) {
        sqlx::query("UPDATE facilities SET reservation_mode = $1 WHERE organization_id = $2")
            .bind(ReservationMode::Vsys.as_db())
            .bind(&venue.id)
            .execute(tx.conn())
            .await?;
        insert_slots(
            &mut tx,
            &venue.id,
            venue.municipality_id.as_deref().unwrap_or_default(),
            &product.id,
            schedule.capacity,
            None,
            &slots,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

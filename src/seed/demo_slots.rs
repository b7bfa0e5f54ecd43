//! Demo availability: Yokohama Hospital 01 books in vsys and has two weeks of slots from
//! tomorrow (mornings and afternoons, every half hour, six places each), so that the navigator
//! and the call-centre screens have something to show. Meguro's special venue books in vsys
//! too, without slots: it is where the tests create theirs.

use time::Duration;

use crate::db::Db;
use crate::error::AppResult;
use crate::events::append;
use crate::organizations::{OrganizationKind, ReservationMode, store};
use crate::reservations::schedule::{DayOfWeek, Schedule, ScheduleInput};
use crate::reservations::slots;

const VENUE: &str = "1411000019";
const VACCINE: &str = "PFIZER";

/// Slots every day for the fourteen days from tomorrow, in the given opening periods.
pub fn fortnight(
    db: &Db,
    periods: Vec<(&str, &str)>,
    slot_minutes: i64,
    capacity: i64,
) -> AppResult<Schedule> {
    let today = db.clock().japan_date();
    let (from, to) = (
        (today + Duration::days(1)).to_string(),
        (today + Duration::days(14)).to_string(),
    );
    Schedule::validate(
        &ScheduleInput {
            from: &from,
            to: &to,
            days_of_week: &DayOfWeek::ALL,
            periods,
            slot_minutes,
            capacity,
        },
        today,
    )
}

pub async fn seed(db: &Db) -> AppResult<()> {
    let (Some(venue), Some(product)) = (
        store::find_by_code(db, OrganizationKind::Facility, VENUE).await?,
        crate::allocation::products::by_code(db.pool(), VACCINE).await?,
    ) else {
        return Ok(());
    };
    let schedule = fortnight(db, vec![("09:00", "12:00"), ("13:00", "16:00")], 30, 6)?;
    let (from, to) = (schedule.from.to_string(), schedule.to.to_string());
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE facilities SET reservation_mode = $1 WHERE organization_id = $2")
        .bind(ReservationMode::Vsys.as_db())
        .bind(&venue.id)
        .execute(tx.conn())
        .await?;
    slots::insert_slots(
        &mut tx,
        &venue.id,
        venue.municipality_id.as_deref().unwrap_or_default(),
        &product.id,
        schedule.capacity,
        None,
        &schedule.slots(),
    )
    .await?;
    // The navigator's stored status follows from the event (reservations::status_recorder).
    append(
        &mut tx,
        &slots::availability_changed(&venue.id, &product.code, &from, &to),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! The deliverer's entries (seed p. 43): the scheduled date per facility line (納入予定日) and
//! the actual delivery with its lots (納入実績). The facility sees each the moment it is
//! entered (`delivery.scheduled`, `delivery.delivered`).

use serde_json::json;

use super::store::{self, DeliveryLine, Lot};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::codes::{parse_date, past_day};
use crate::facilities::scope_of;
use crate::organizations::store as organizations;

/// A deliverer registered (or moved) the scheduled date of a facility's delivery.
pub const SCHEDULED_TOPIC: &str = "delivery.scheduled";
/// A deliverer recorded the actual delivery, with lots.
pub const DELIVERED_TOPIC: &str = "delivery.delivered";

/// Most lots one delivery may list.
const MAX_LOTS: usize = 50;
/// How far after the lock a delivery may be scheduled.
const MAX_DAYS_AFTER_LOCK: i64 = 90;

/// Loads the line and checks that `actor` delivers it: NOT_FOUND outside the actor's reach,
/// FORBIDDEN for the facility's own area (it may see, not enter).
async fn deliverable(db: &Db, actor: &Actor, allocation_id: &str) -> AppResult<DeliveryLine> {
    let line = store::line(db.pool(), allocation_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    let facility = organizations::load(db.pool(), &line.facility_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    decide(
        Some(actor),
        Action::Deliver,
        Target::Delivery {
            facility: &scope_of(&facility),
            deliverer: line.deliverer_id.as_deref().unwrap_or_default(),
        },
    )
    .map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("delivery"),
        other => other,
    })?;
    Ok(line)
}

fn already_delivered() -> AppError {
    AppError::refused(
        "ALREADY_DELIVERED",
        "the delivery is already recorded / 納入実績は登録済みです",
    )
}

/// A date of this delivery: on or after the lock's day, and not too far after it.
fn delivery_date(field: &str, text: &str, line: &DeliveryLine) -> AppResult<String> {
    let date = parse_date(field, text)?;
    let released = parse_date(field, &line.released_on())?;
    if date < released {
        return Err(AppError::invalid_field(
            field,
            format!(
                "before the data lock ({}) / データロック日（{}）より前の日付です",
                line.released_on(),
                line.released_on()
            ),
        ));
    }
    if date > released + time::Duration::days(MAX_DAYS_AFTER_LOCK) {
        return Err(AppError::invalid_field(
            field,
            "more than 90 days after the data lock / データロックから90日以内で入力してください",
        ));
    }
    Ok(date.to_string())
}

/// Registers or moves the scheduled date of one delivery (`scheduleDelivery`). Audited, with
/// its event; a refusal is audited and changes nothing.
pub async fn schedule(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    allocation_id: &str,
    scheduled_on: &str,
) -> AppResult<DeliveryLine> {
    let result = schedule_checked(db, meta, actor, allocation_id, scheduled_on).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "scheduleDelivery",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn schedule_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    allocation_id: &str,
    scheduled_on: &str,
) -> AppResult<DeliveryLine> {
    let line = deliverable(db, actor, allocation_id).await?;
    if line.delivered_on.is_some() {
        return Err(already_delivered());
    }
    let date = delivery_date("scheduledOn", scheduled_on, &line)?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let updated = sqlx::query(
        "UPDATE deliveries SET scheduled_on = $2, updated_by = $3, updated_at = $4, \
         version = version + 1 WHERE allocation_id = $1 AND delivered_on IS NULL",
    )
    .bind(&line.allocation_id)
    .bind(&date)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        // The first entry fixes the deliverer.
        sqlx::query(
            "INSERT INTO deliveries (id, allocation_id, deliverer_id, scheduled_on, updated_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(&line.allocation_id)
        .bind(&actor.organization.id)
        .bind(&date)
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let after = store::line(tx.conn(), &line.allocation_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if after.delivered_on.is_some() {
        return Err(already_delivered());
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("scheduleDelivery", Outcome::Success, Some(actor))
            .object("Delivery", &line.allocation_id)
            .organization(&line.facility_id)
            .change(
                line.scheduled_on
                    .as_ref()
                    .map(|d| json!({ "scheduledOn": d })),
                Some(json!({ "scheduledOn": date })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &NewEvent {
            topic: SCHEDULED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(line.facility_id.clone()),
            payload: payload(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// What a delivery event says.
fn payload(line: &DeliveryLine) -> serde_json::Value {
    json!({
        "deliveryId": line.allocation_id, "coolId": line.cool_id, "facilityId": line.facility_id,
        "productId": line.product_id, "boxes": line.boxes, "doses": line.boxes * line.doses_per_box,
        "scheduledOn": line.scheduled_on, "deliveredOn": line.delivered_on,
        "deliveredBoxes": line.delivered_boxes,
        "lots": line.lots.as_ref().map(|l| &l.0),
    })
}

/// Records the actual delivery of one line with its lots (`recordDelivery`): never more than
/// allocated, not before the lock, not in the future. Audited, with its event.
pub async fn record(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    allocation_id: &str,
    delivered_on: &str,
    lots: Vec<Lot>,
) -> AppResult<DeliveryLine> {
    let result = record_checked(db, meta, actor, allocation_id, delivered_on, lots).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "recordDelivery",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

/// Validates lots: 1 to 50, numbers of 1–20 letters, digits or -, positive boxes, no repeats.
fn checked_lots(lots: Vec<Lot>) -> AppResult<Vec<Lot>> {
    if lots.is_empty() || lots.len() > MAX_LOTS {
        return Err(AppError::invalid_field(
            "lots",
            "1 to 50 lots / ロットは1〜50件で入力してください",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    lots.into_iter()
        .map(|lot| {
            let number = lot.lot_number.trim().to_uppercase();
            let valid = (1..=20).contains(&number.len())
                && number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(AppError::invalid_field(
                    "lots",
                    "a lot number is 1 to 20 letters, digits or - / ロット番号は英数字20文字以内です",
                ));
            }
            if lot.boxes <= 0 {
                return Err(AppError::invalid_field(
                    "lots",
                    "each lot delivers at least one box / 各ロット1箱以上",
                ));
            }
            if !seen.insert(number.clone()) {
                return Err(AppError::invalid_field(
                    "lots",
                    "a lot is listed twice / ロット番号が重複しています",
                ));
            }
            Ok(Lot {
                lot_number: number,
                boxes: lot.boxes,
            })
        })
        .collect()
}

async fn record_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    allocation_id: &str,
    delivered_on: &str,
    lots: Vec<Lot>,
) -> AppResult<DeliveryLine> {
    let line = deliverable(db, actor, allocation_id).await?;
    if line.delivered_on.is_some() {
        return Err(already_delivered());
    }
    let date = delivery_date("deliveredOn", delivered_on, &line)?;
    past_day("deliveredOn", Some(&date), &db.clock().today_in_japan())?;
    let lots = checked_lots(lots)?;
    let boxes: i64 = lots.iter().map(|l| l.boxes).sum();
    if boxes > line.boxes {
        return Err(AppError::invalid_field(
            "lots",
            format!(
                "{boxes} boxes is more than the {} allocated / 配分量（{}箱）を超えて納入できません",
                line.boxes, line.boxes
            ),
        ));
    }
    let lots_json = serde_json::to_string(&lots).map_err(anyhow::Error::from)?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let updated = sqlx::query(
        "UPDATE deliveries SET delivered_on = $2, delivered_boxes = $3, lots = $4, \
         updated_by = $5, updated_at = $6, version = version + 1 \
         WHERE allocation_id = $1 AND delivered_on IS NULL",
    )
    .bind(&line.allocation_id)
    .bind(&date)
    .bind(boxes)
    .bind(&lots_json)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        if line.scheduled_on.is_some() {
            // Someone recorded it meanwhile.
            return Err(already_delivered());
        }
        // Delivered without a scheduled date first: the day it came is the scheduled one.
        sqlx::query(
            "INSERT INTO deliveries (id, allocation_id, deliverer_id, scheduled_on, delivered_on, \
             delivered_boxes, lots, updated_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $8)",
        )
        .bind(new_id())
        .bind(&line.allocation_id)
        .bind(&actor.organization.id)
        .bind(&date)
        .bind(boxes)
        .bind(&lots_json)
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let after = store::line(tx.conn(), &line.allocation_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("recordDelivery", Outcome::Success, Some(actor))
            .object("Delivery", &line.allocation_id)
            .organization(&line.facility_id)
            .change(
                None,
                Some(json!({ "deliveredOn": date, "boxes": boxes, "lots": lots })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &NewEvent {
            topic: DELIVERED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(line.facility_id.clone()),
            payload: payload(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(number: &str, boxes: i64) -> Lot {
        Lot {
            lot_number: number.into(),
            boxes,
        }
    }

    #[test]
    fn lots_are_normalised_and_bad_ones_name_the_field() {
        assert_eq!(
            checked_lots(vec![lot(" ew0150 ", 1)]).unwrap(),
            [lot("EW0150", 1)]
        );
        for bad in [
            vec![],
            vec![lot("", 1)],
            vec![lot("A B", 1)],
            vec![lot("A", 0)],
            vec![lot("A", 1), lot("a", 1)],
        ] {
            assert!(
                matches!(checked_lots(bad), Err(AppError::InvalidInput { field: Some(f), .. }) if f == "lots")
            );
        }
    }
}

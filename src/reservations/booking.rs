//! Booking, changing and cancelling (seed p. 40: the call centre books for residents).
//!
//! The rules:
//! - a slot never holds more bookings than its capacity: the place is taken by a conditional
//!   update (`booked < capacity`), and the table's CHECK is the backstop;
//! - one active booking per coupon and dose (a partial unique index is the backstop);
//! - a later dose keeps the product's minimum interval after the earlier one;
//! - a resident books in their own municipality (out-of-area notifications come with the
//!   documents issue);
//! - a change holds the new place before it frees the old one, in one transaction.
//!
//! Every booking, change and cancellation is audited (refusals too) and announced: to the
//! venue's area (without personal data) and to the public navigator as availability.

use serde_json::{Value, json};

use super::resident::{Resident, ResidentInput};
use super::schedule::parse_date;
use super::slots::{self, SlotRecord, availability_changed, japan_minute, vaccine_at, venue};
use super::store::{self, ReservationRecord, ReservationStatus};
use crate::actor::{Actor, OrgScope, RequestMeta, Role};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, WriteTx, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{Events, NewEvent, Visibility, append_all};
use crate::facilities::decide_on;
use crate::graphql::idempotency::IdempotentCall;
use crate::organizations::{OrganizationKind, OrganizationRecord, ReservationMode, store as orgs};
use crate::residents::{coupons, requests};

/// Restricted to the venue's area; the payloads carry no personal data.
pub const BOOKED_TOPIC: &str = "reservation.booked";
pub const CHANGED_TOPIC: &str = "reservation.changed";
pub const CANCELLED_TOPIC: &str = "reservation.cancelled";

/// A booking as asked for.
pub struct NewBooking<'a> {
    pub facility_id: &'a str,
    pub slot_id: &'a str,
    pub product_code: &'a str,
    pub resident: ResidentInput<'a>,
}

/// The municipality a venue lies in, as an authorization target.
fn municipality_scope(venue: &OrganizationRecord) -> OrgScope {
    OrgScope {
        id: venue.municipality_id.clone().unwrap_or_default(),
        kind: OrganizationKind::Municipality,
        prefecture_id: venue.prefecture_id.clone(),
        municipality_id: venue.municipality_id.clone(),
    }
}

/// A slot of `venue` that can still be booked: it exists at the venue, is in the future, and
/// the venue books in vsys.
async fn bookable_slot(
    db: &Db,
    venue: &OrganizationRecord,
    slot_id: &str,
) -> AppResult<SlotRecord> {
    let slot = slots::load(db.pool(), slot_id)
        .await?
        .filter(|s| s.facility_id == venue.id)
        .ok_or(AppError::NotFound("slot"))?;
    if venue.reservation_mode != Some(ReservationMode::Vsys) {
        return Err(AppError::refused(
            "NOT_A_VSYS_VENUE",
            "this venue does not take bookings in vsys / この会場はV-SYSの予約機能を利用していません",
        ));
    }
    if slot.starts_at <= japan_minute(db) {
        return Err(AppError::refused(
            "SLOT_IN_PAST",
            "the slot has already started / この予約枠は開始時刻を過ぎています",
        ));
    }
    Ok(slot)
}

/// A booking made: the answer kept for retries, and the booking as stored.
pub struct Booked {
    pub answer: Value,
    pub record: ReservationRecord,
}

/// Books a place. Audited; with an idempotency key a retry returns the first booking.
pub async fn book(
    db: &Db,
    events: &Events,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewBooking<'_>,
    call: Option<&IdempotentCall>,
) -> AppResult<Booked> {
    let result = book_checked(db, events, meta, actor, &new, call).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "bookReservation",
        Some(new.facility_id),
        result,
    )
    .await
}

async fn book_checked(
    db: &Db,
    events: &Events,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewBooking<'_>,
    call: Option<&IdempotentCall>,
) -> AppResult<Booked> {
    let venue = venue(db, new.facility_id).await?;
    decide(
        Some(actor),
        Action::BookReservation,
        Target::Organization(&municipality_scope(&venue)),
    )?;
    let resident = Resident::validate(&new.resident, db.clock().japan_date())?;
    let coupon_municipality = coupon_municipality(db, &resident, &venue).await?;
    let slot = bookable_slot(db, &venue, new.slot_id).await?;
    let product = vaccine_at(db, &venue, new.product_code).await?;
    if slot.product_id != product.id {
        return Err(AppError::invalid_field(
            "productCode",
            "the slot is for another vaccine / この予約枠は別のワクチンの枠です",
        ));
    }

    // The booking as it is stored: inserted, then answered without a read back.
    let now = db.now();
    let record = ReservationRecord {
        id: new_id(),
        slot_id: slot.id.clone(),
        facility_id: venue.id.clone(),
        product_id: product.id.clone(),
        product_code: product.code.clone(),
        coupon_municipality_id: coupon_municipality,
        coupon_number: resident.coupon_number.clone(),
        dose_number: resident.dose_number,
        name: resident.name.clone(),
        name_kana: resident.name_kana.clone(),
        birth_date: resident.birth_date.clone(),
        phone: resident.phone.clone(),
        status: ReservationStatus::Booked,
        created_at: now,
        updated_at: now,
        cancelled_at: None,
        cancel_reason: None,
        version: 1,
        slot_date: slot.slot_date.clone(),
        starts_at: slot.starts_at.clone(),
        ends_at: slot.ends_at.clone(),
        venue_municipality_id: slot.municipality_id.clone(),
        minimum_interval_days: product.minimum_interval_days,
    };
    let audited = json!({ "slot": slot.id, "startsAt": slot.starts_at,
        "coupon": format!("{}-{}", resident.municipality_code, resident.coupon_number),
        "dose": resident.dose_number });
    let booked_events = [
        restricted(
            BOOKED_TOPIC,
            &venue.id,
            public_view(&record.id, &slot, &product.code, resident.dose_number),
        ),
        availability_changed(&venue.id, &product.code, &slot.slot_date, &slot.slot_date),
    ];
    let (meta, actor, call) = (meta.clone(), actor.clone(), call.cloned());
    // Bookings come in bursts: they are written in groups, one transaction for many.
    events
        .grouped()
        .write(move |tx, deferred| {
            Box::pin(async move {
                if let Some(call) = &call {
                    call.claim(tx).await?;
                }
                insert_checked(tx, &record, &actor.user_id).await?;
                take_place(tx, &record.slot_id).await?;
                deferred.audit(
                    &meta,
                    Entry::new("bookReservation", Outcome::Success, Some(&actor))
                        .object("Reservation", &record.id)
                        .organization(&record.facility_id)
                        // The audit keeps who and which coupon, not the resident's contact
                        // details.
                        .change(None, Some(audited)),
                );
                let answer = json!({ "reservationId": record.id });
                if let Some(call) = &call {
                    call.answer(tx, &answer).await?;
                }
                deferred.announce(booked_events);
                Ok(Booked { answer, record })
            })
        })
        .await
}

/// Inserts a booking after checking the interval to the coupon's neighbouring doses. The usual
/// booking has no neighbouring dose booked: one guarded insert checks that and books.
async fn insert_checked(
    tx: &mut WriteTx,
    record: &ReservationRecord,
    booked_by: &str,
) -> AppResult<()> {
    if insert_booking(tx, record, booked_by, true).await? {
        return Ok(());
    }
    let around = store::active_doses_around(
        tx.conn(),
        &record.coupon_municipality_id,
        &record.coupon_number,
        record.dose_number,
        None,
    )
    .await?;
    check_interval(
        &around,
        record.dose_number,
        &record.slot_date,
        record.minimum_interval_days,
    )?;
    insert_booking(tx, record, booked_by, false).await?;
    Ok(())
}

/// Inserts a booking. A second active booking of the coupon's dose is refused (ALREADY_BOOKED,
/// by the unique index). `unless_neighbours`: inserts nothing, and answers false, when the
/// coupon has the dose before or after booked (the caller then checks the interval).
async fn insert_booking(
    tx: &mut WriteTx,
    booking: &ReservationRecord,
    booked_by: &str,
    unless_neighbours: bool,
) -> AppResult<bool> {
    let guard = if unless_neighbours {
        " WHERE NOT EXISTS (SELECT 1 FROM reservations n \
          WHERE n.coupon_municipality_id = $5 AND n.coupon_number = $6 \
          AND n.dose_number IN ($7 - 1, $7 + 1) AND n.status = $12)"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO reservations (id, slot_id, facility_id, product_id, coupon_municipality_id, \
         coupon_number, dose_number, name, name_kana, birth_date, phone, status, booked_by, \
         created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14{guard}"
    );
    let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&booking.id)
        .bind(&booking.slot_id)
        .bind(&booking.facility_id)
        .bind(&booking.product_id)
        .bind(&booking.coupon_municipality_id)
        .bind(&booking.coupon_number)
        .bind(booking.dose_number)
        .bind(&booking.name)
        .bind(&booking.name_kana)
        .bind(&booking.birth_date)
        .bind(&booking.phone)
        .bind(booking.status.as_db())
        .bind(booked_by)
        .bind(booking.created_at)
        .execute(tx.conn())
        .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(already_booked(booking.dose_number))
        }
        other => Ok(other?.rows_affected() == 1),
    }
}

/// The coupon's municipality, which must be the venue's.
async fn coupon_municipality(
    db: &Db,
    resident: &Resident,
    venue: &OrganizationRecord,
) -> AppResult<String> {
    let municipality = orgs::find_by_code(
        db,
        OrganizationKind::Municipality,
        &resident.municipality_code,
    )
    .await?
    .ok_or_else(|| {
        AppError::invalid_field(
            "municipalityCode",
            "no municipality has this code / この市区町村コードの自治体はありません",
        )
    })?;
    if !books_in(db, &municipality.id, &resident.coupon_number, venue).await? {
        return Err(AppError::refused(
            "OUT_OF_AREA",
            "residents book at venues of the municipality that issued their coupon; elsewhere needs an approved out-of-area notification / 接種券を発行した市区町村の会場で予約してください（住所地外接種は届出が必要です）",
        ));
    }
    // Where the municipality keeps a coupon ledger, the number must be one it issued and
    // has not replaced.
    coupons::check_for_booking(db, &municipality.id, &resident.coupon_number).await?;
    Ok(municipality.id)
}

/// Whether a coupon of `coupon_municipality_id` books at `venue`: a venue of that
/// municipality, or of one where the resident's out-of-area notification was accepted.
async fn books_in(
    db: &Db,
    coupon_municipality_id: &str,
    coupon_number: &str,
    venue: &OrganizationRecord,
) -> AppResult<bool> {
    let Some(venue_municipality) = venue.municipality_id.as_deref() else {
        return Ok(false);
    };
    if venue_municipality == coupon_municipality_id {
        return Ok(true);
    }
    requests::accepted_out_of_area(
        db,
        coupon_municipality_id,
        coupon_number,
        venue_municipality,
    )
    .await
}

fn already_booked(dose: i64) -> AppError {
    AppError::refused(
        "ALREADY_BOOKED",
        format!(
            "this coupon already has a booking for dose {dose}: change or cancel it / この接種券には{dose}回目の予約が既にあります"
        ),
    )
}

/// Takes one place of a slot, or refuses when it is full. The condition is checked by the
/// database in the same statement, so concurrent bookings can never overfill it.
async fn take_place(tx: &mut WriteTx, slot_id: &str) -> AppResult<()> {
    let taken = sqlx::query(
        "UPDATE reservation_slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity",
    )
    .bind(slot_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if taken == 0 {
        return Err(AppError::refused(
            "SLOT_FULL",
            "the slot is full: choose another / この予約枠は満席です",
        ));
    }
    Ok(())
}

async fn free_place(tx: &mut WriteTx, slot_id: &str) -> AppResult<()> {
    sqlx::query("UPDATE reservation_slots SET booked = booked - 1 WHERE id = $1 AND booked > 0")
        .bind(slot_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A dose keeps the minimum interval of the earlier dose's vaccine after the earlier dose's
/// booking, and before the next dose's booking (when either is booked here). `around` are the
/// coupon's other active bookings (see [`store::active_doses_around`]); `interval_days` is this
/// booking's vaccine's minimum interval.
fn check_interval(
    around: &[ReservationRecord],
    dose: i64,
    date: &str,
    interval_days: Option<i64>,
) -> AppResult<()> {
    let this_date = parse_date("slotId", date)?;
    for other in around {
        let other_dose = other.dose_number;
        if other_dose != dose - 1 && other_dose != dose + 1 {
            continue;
        }
        let other_date = parse_date("slotId", &other.slot_date)?;
        let (earlier_date, later_date, days) = if other_dose < dose {
            (other_date, this_date, other.minimum_interval_days)
        } else {
            (this_date, other_date, interval_days)
        };
        let days = days.unwrap_or(0);
        let earliest = earlier_date + time::Duration::days(days);
        if later_date < earliest {
            let (earlier, later) = if other_dose < dose {
                (other_dose, dose)
            } else {
                (dose, other_dose)
            };
            return Err(AppError::Refused {
                message: format!(
                    "dose {later} must be at least {days} days after dose {earlier} ({earlier_date}): from {earliest} / {later}回目は{earlier}回目（{earlier_date}）から{days}日以上空けてください（{earliest}以降）"
                ),
                reason: "DOSE_TOO_EARLY",
                current: Some(json!({
                    "otherDose": other_dose, "otherDate": other.slot_date,
                    "minimumIntervalDays": days, "earliest": earliest.to_string(),
                })),
            });
        }
    }
    Ok(())
}

/// A booking the actor may act on: it exists and lies in the actor's reading area (others are
/// not found, so a probe learns nothing), and it is still booked.
async fn own_booking(
    db: &Db,
    actor: &Actor,
    id: &str,
) -> AppResult<(ReservationRecord, OrganizationRecord)> {
    let booking = store::load(db.pool(), id)
        .await?
        .ok_or(AppError::NotFound("reservation"))?;
    let venue = venue(db, &booking.facility_id).await?;
    decide_on(Some(actor), Action::ReadReservations, &venue)
        .map_err(|_| AppError::NotFound("reservation"))?;
    if booking.status != ReservationStatus::Booked {
        return Err(AppError::refused(
            "ALREADY_CANCELLED",
            "the reservation was already cancelled / この予約は既に取り消されています",
        ));
    }
    Ok((booking, venue))
}

/// Cancels a booking and frees its place: the venue's municipality (call centre or staff) or
/// the venue itself, before the slot starts. Audited.
pub async fn cancel(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    id: &str,
    reason: Option<&str>,
) -> AppResult<ReservationRecord> {
    let result = cancel_checked(db, meta, actor, id, reason).await;
    audit::record_if_refused(db, meta, actor, "cancelReservation", None, result).await
}

async fn cancel_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    id: &str,
    reason: Option<&str>,
) -> AppResult<ReservationRecord> {
    let (booking, venue) = own_booking(db, actor, id).await?;
    let venue_itself = actor.role == Role::MedicalInstitution && actor.organization.id == venue.id;
    if !venue_itself {
        decide(
            Some(actor),
            Action::BookReservation,
            Target::Organization(&municipality_scope(&venue)),
        )?;
    }
    if booking.starts_at <= japan_minute(db) {
        return Err(AppError::refused(
            "SLOT_IN_PAST",
            "the slot has already started: record attendance instead / 予約枠の開始時刻を過ぎています",
        ));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(AppError::invalid_field(
            "reason",
            "at most 500 characters / 500文字以内",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let cancelled = sqlx::query(
        "UPDATE reservations SET status = $1, cancelled_at = $2, cancelled_by = $3,          cancel_reason = $4, updated_at = $2, version = version + 1          WHERE id = $5 AND status = $6",
    )
    .bind(ReservationStatus::Cancelled.as_db())
    .bind(now)
    .bind(&actor.user_id)
    .bind(reason)
    .bind(&booking.id)
    .bind(ReservationStatus::Booked.as_db())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if cancelled == 0 {
        // A concurrent cancellation won.
        return Err(AppError::refused(
            "ALREADY_CANCELLED",
            "the reservation was already cancelled / この予約は既に取り消されています",
        ));
    }
    free_place(&mut tx, &booking.slot_id).await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("cancelReservation", Outcome::Success, Some(actor))
            .object("Reservation", &booking.id)
            .organization(&venue.id)
            .change(
                Some(json!({ "status": "BOOKED", "slot": booking.slot_id })),
                Some(json!({ "status": "CANCELLED", "reason": reason })),
            ),
    )
    .await?;
    let code = booking.product_code.as_str();
    let cancelled = restricted(
        CANCELLED_TOPIC,
        &venue.id,
        json!({ "reservationId": booking.id, "facilityId": venue.id, "slotId": booking.slot_id,
            "date": booking.slot_date, "startsAt": booking.starts_at, "product": code,
            "dose": booking.dose_number }),
    );
    let availability =
        availability_changed(&venue.id, code, &booking.slot_date, &booking.slot_date);
    append_all(&mut tx, &[cancelled, availability]).await?;
    tx.commit().await?;
    store::load(db.pool(), &booking.id)
        .await?
        .ok_or(AppError::NotFound("reservation"))
}

/// Moves a booking to another slot of the same vaccine in the municipality, atomically: the
/// new place is held before the old one is freed, and a full new slot changes nothing.
/// Audited; with an idempotency key a retry returns the first answer.
pub async fn change(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    id: &str,
    new_slot_id: &str,
    call: Option<&IdempotentCall>,
) -> AppResult<Value> {
    let result = change_checked(db, meta, actor, id, new_slot_id, call).await;
    audit::record_if_refused(db, meta, actor, "changeReservation", None, result).await
}

async fn change_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    id: &str,
    new_slot_id: &str,
    call: Option<&IdempotentCall>,
) -> AppResult<Value> {
    let (booking, old_venue) = own_booking(db, actor, id).await?;
    decide(
        Some(actor),
        Action::BookReservation,
        Target::Organization(&municipality_scope(&old_venue)),
    )?;
    if booking.starts_at <= japan_minute(db) {
        return Err(AppError::refused(
            "SLOT_IN_PAST",
            "the booked slot has already started / 予約枠の開始時刻を過ぎています",
        ));
    }
    let target = slots::load(db.pool(), new_slot_id)
        .await?
        .ok_or(AppError::NotFound("slot"))?;
    let new_venue = venue(db, &target.facility_id).await?;
    // The new venue must also be where the coupon books: its municipality's, or one an
    // accepted out-of-area notification names.
    if !books_in(
        db,
        &booking.coupon_municipality_id,
        &booking.coupon_number,
        &new_venue,
    )
    .await?
    {
        return Err(AppError::refused(
            "OUT_OF_AREA",
            "the new slot is at a venue of another municipality / 変更先は接種券を発行した市区町村の会場にしてください",
        ));
    }
    let slot = bookable_slot(db, &new_venue, new_slot_id).await?;
    if slot.id == booking.slot_id {
        return Err(AppError::invalid_field(
            "slotId",
            "the reservation is already in this slot / 既にこの予約枠で予約されています",
        ));
    }
    if slot.product_id != booking.product_id {
        return Err(AppError::invalid_field(
            "slotId",
            "the new slot is for another vaccine / 変更先は別のワクチンの予約枠です",
        ));
    }
    let mut tx = db.begin_write().await?;
    if let Some(call) = call {
        call.claim(&mut tx).await?;
    }
    let around = store::active_doses_around(
        tx.conn(),
        &booking.coupon_municipality_id,
        &booking.coupon_number,
        booking.dose_number,
        Some(&booking.id),
    )
    .await?;
    check_interval(
        &around,
        booking.dose_number,
        &slot.slot_date,
        booking.minimum_interval_days,
    )?;
    // Hold the new place first: a full slot refuses here, before anything was freed.
    take_place(&mut tx, &slot.id).await?;
    let moved = sqlx::query(
        "UPDATE reservations SET slot_id = $1, facility_id = $2, updated_at = $3,          version = version + 1 WHERE id = $4 AND status = $5 AND version = $6",
    )
    .bind(&slot.id)
    .bind(&new_venue.id)
    .bind(tx.now())
    .bind(&booking.id)
    .bind(ReservationStatus::Booked.as_db())
    .bind(booking.version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(AppError::refused(
            "STALE_VERSION",
            "the reservation changed meanwhile: reload it / 予約が他の操作で変更されました。再読み込みしてください",
        ));
    }
    free_place(&mut tx, &booking.slot_id).await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("changeReservation", Outcome::Success, Some(actor))
            .object("Reservation", &booking.id)
            .organization(&new_venue.id)
            .change(
                Some(
                    json!({ "slot": booking.slot_id, "startsAt": booking.starts_at,
                    "facility": booking.facility_id }),
                ),
                Some(json!({ "slot": slot.id, "startsAt": slot.starts_at,
                    "facility": new_venue.id })),
            ),
    )
    .await?;
    let answer = json!({ "reservationId": booking.id });
    if let Some(call) = call {
        call.answer(&mut tx, &answer).await?;
    }
    let code = booking.product_code.as_str();
    let view = public_view(&booking.id, &slot, code, booking.dose_number);
    let mut events = vec![restricted(CHANGED_TOPIC, &new_venue.id, view.clone())];
    if old_venue.id != new_venue.id {
        events.push(restricted(CHANGED_TOPIC, &old_venue.id, view));
    }
    events.push(availability_changed(
        &old_venue.id,
        code,
        &booking.slot_date,
        &booking.slot_date,
    ));
    if old_venue.id != new_venue.id || slot.slot_date != booking.slot_date {
        events.push(availability_changed(
            &new_venue.id,
            code,
            &slot.slot_date,
            &slot.slot_date,
        ));
    }
    append_all(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A booking as the venue's area sees it in events: no personal data.
fn public_view(id: &str, slot: &SlotRecord, product_code: &str, dose: i64) -> Value {
    json!({
        "reservationId": id, "facilityId": slot.facility_id, "slotId": slot.id,
        "date": slot.slot_date, "startsAt": slot.starts_at, "product": product_code,
        "dose": dose,
    })
}

/// An event for the venue's area (restricted).
fn restricted(topic: &str, facility_id: &str, payload: Value) -> NewEvent {
    NewEvent {
        topic: topic.into(),
        visibility: Visibility::Restricted,
        organization_id: Some(facility_id.to_owned()),
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::check_interval;
    use crate::clock::Timestamp;
    use crate::error::AppError;
    use crate::reservations::store::{ReservationRecord, ReservationStatus};

    fn booked(dose: i64, date: &str, interval_days: Option<i64>) -> ReservationRecord {
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        ReservationRecord {
            id: format!("r{dose}"),
            slot_id: "s".into(),
            facility_id: "f".into(),
            product_id: "p".into(),
            product_code: "PFIZER".into(),
            coupon_municipality_id: "m".into(),
            coupon_number: "0000000001".into(),
            dose_number: dose,
            name: "n".into(),
            name_kana: "カナ".into(),
            birth_date: "1950-01-01".into(),
            phone: "0".into(),
            status: ReservationStatus::Booked,
            created_at: at,
            updated_at: at,
            cancelled_at: None,
            cancel_reason: None,
            version: 1,
            slot_date: date.into(),
            starts_at: format!("{date}T09:00"),
            ends_at: format!("{date}T09:30"),
            venue_municipality_id: "m".into(),
            minimum_interval_days: interval_days,
        }
    }

    fn reason(result: Result<(), AppError>) -> &'static str {
        match result {
            Err(AppError::Refused { reason, .. }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_later_dose_keeps_the_earlier_doses_interval() {
        let first = [booked(1, "2027-03-01", Some(21))];
        assert_eq!(
            reason(check_interval(&first, 2, "2027-03-21", Some(21))),
            "DOSE_TOO_EARLY"
        );
        assert!(check_interval(&first, 2, "2027-03-22", Some(21)).is_ok());
    }

    #[test]
    fn an_earlier_dose_keeps_its_own_interval_before_the_next() {
        // Dose 2 is booked; dose 1 moves: this vaccine's interval counts.
        let second = [booked(2, "2027-03-22", Some(21))];
        assert_eq!(
            reason(check_interval(&second, 1, "2027-03-02", Some(21))),
            "DOSE_TOO_EARLY"
        );
        assert!(check_interval(&second, 1, "2027-03-01", Some(21)).is_ok());
    }

    #[test]
    fn doses_further_away_and_vaccines_without_interval_do_not_count() {
        let third = [booked(3, "2027-03-02", Some(21))];
        assert!(check_interval(&third, 1, "2027-03-01", Some(21)).is_ok());
        let first = [booked(1, "2027-03-01", None)];
        assert!(check_interval(&first, 2, "2027-03-01", None).is_ok());
    }
}

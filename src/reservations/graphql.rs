//! The GraphQL face of reservations: the venue's mode, slots in bulk, finding free slots,
//! booking, changing and cancelling, and the audited list of bookings.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use serde_json::json;

use super::availability::AvailabilityStatus;
use super::booking::{self, NewBooking};
use super::declaration;
use super::mode;
use super::resident::ResidentInput;
use super::schedule::{DayOfWeek, ScheduleInput, parse_date, parse_time};
use super::slots::{self, NewSlots, SlotRecord, SlotSearch};
use super::store::{self, ReservationFilter, ReservationRecord, ReservationStatus};
use crate::actor::{Actor, request_meta, require_actor};
use crate::allocation::products;
use crate::audit::{self, Entry, Outcome};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::events::Events;
use crate::graphql::idempotency::{self, IdempotentCall};
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};
use crate::organizations::{Facility, Municipality, ReservationMode, load_organization};

/// Days a free-slot search may span.
const MAX_SEARCH_DAYS: i64 = 62;
/// Slots a free-slot search returns at most.
const MAX_SLOTS: i64 = 500;

pub struct ReservationSlot(pub SlotRecord);

/// A slot: a venue's places for one vaccine at one time (Japan time).
#[Object]
impl ReservationSlot {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("ReservationSlot", &self.0.id)
    }

    /// The venue.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }

    /// The vaccine's product code.
    async fn product_code(&self) -> &str {
        &self.0.product_code
    }

    /// The day, `YYYY-MM-DD`.
    async fn date(&self) -> &str {
        &self.0.slot_date
    }

    /// When it starts, `HH:MM`.
    async fn starts_at(&self) -> &str {
        time_of(&self.0.starts_at)
    }

    /// When it ends, `HH:MM`.
    async fn ends_at(&self) -> &str {
        time_of(&self.0.ends_at)
    }

    /// Places in all.
    async fn capacity(&self) -> i64 {
        self.0.capacity
    }

    /// Places booked.
    async fn booked(&self) -> i64 {
        self.0.booked
    }

    /// Places free.
    async fn free(&self) -> i64 {
        self.0.free()
    }
}

/// `HH:MM` of a stored `YYYY-MM-DDTHH:MM`.
fn time_of(local: &str) -> &str {
    local.get(11..16).unwrap_or(local)
}

pub struct Reservation(pub ReservationRecord);

/// A booking. Personal data: readable by the venue and its municipality only, and every read
/// is audited.
#[Object]
impl Reservation {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Reservation", &self.0.id)
    }

    /// Booked or cancelled.
    async fn status(&self) -> ReservationStatus {
        self.0.status
    }

    /// The venue.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }

    /// The slot's id.
    async fn slot_id(&self) -> ID {
        global_id("ReservationSlot", &self.0.slot_id)
    }

    /// The vaccine's product code.
    async fn product_code(&self) -> &str {
        &self.0.product_code
    }

    /// The day, `YYYY-MM-DD`.
    async fn date(&self) -> &str {
        &self.0.slot_date
    }

    /// When the slot starts, `HH:MM`.
    async fn starts_at(&self) -> &str {
        time_of(&self.0.starts_at)
    }

    /// When the slot ends, `HH:MM`.
    async fn ends_at(&self) -> &str {
        time_of(&self.0.ends_at)
    }

    /// The municipality that issued the coupon (the resident's home).
    async fn coupon_municipality(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Municipality>> {
        Ok(load_organization(ctx, &self.0.coupon_municipality_id)
            .await?
            .map(Municipality))
    }

    /// The 10-digit coupon number (接種券番号).
    async fn coupon_number(&self) -> &str {
        &self.0.coupon_number
    }

    /// Which dose.
    async fn dose_number(&self) -> i64 {
        self.0.dose_number
    }

    /// The resident's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The resident's name in kana.
    async fn name_kana(&self) -> &str {
        &self.0.name_kana
    }

    /// Date of birth, `YYYY-MM-DD`.
    async fn birth_date(&self) -> &str {
        &self.0.birth_date
    }

    /// The resident's phone number.
    async fn phone(&self) -> &str {
        &self.0.phone
    }

    /// When it was booked.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }

    /// When it was cancelled.
    async fn cancelled_at(&self) -> Option<Timestamp> {
        self.0.cancelled_at
    }

    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }

    /// Moves by one with every change.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// A warning that does not stop the operation.
#[derive(SimpleObject)]
pub struct ReservationWarning {
    /// Stable code: NO_LOCKED_ALLOCATION.
    pub code: String,
    /// What it means, in English and Japanese.
    pub message: String,
}

/// What `createReservationSlots` created.
#[derive(SimpleObject)]
pub struct SlotsCreated {
    /// How many slots were created.
    pub created: i64,
    /// Things to check, e.g. dates without a locked allocation.
    pub warnings: Vec<ReservationWarning>,
}

/// Free slots found.
#[derive(SimpleObject)]
pub struct AvailableSlots {
    /// The slots, in time order.
    pub slots: Vec<ReservationSlot>,
    /// Free places in these slots together.
    pub free_places: i64,
    /// Whether more slots matched than `first`.
    pub truncated: bool,
}

/// One opening period of a day; the gaps between periods are breaks.
#[derive(InputObject)]
pub struct OpeningPeriodInput {
    /// Opens, `HH:MM`.
    pub opens: String,
    /// Closes, `HH:MM`.
    pub closes: String,
}

/// A schedule of slots (seed p. 39).
#[derive(InputObject)]
pub struct ReservationScheduleInput {
    /// The venue (it must take bookings in vsys).
    pub facility_id: ID,
    /// The vaccine (one the venue handles).
    pub product_code: String,
    /// First day, `YYYY-MM-DD` (today or later).
    pub from: String,
    /// Last day, `YYYY-MM-DD` (at most a year after `from`).
    pub to: String,
    /// The days of the week with slots.
    pub days_of_week: Vec<DayOfWeek>,
    /// Opening periods of each day (1 to 12); breaks are the gaps.
    pub opening_hours: Vec<OpeningPeriodInput>,
    /// Length of a slot in minutes (1 to 480; at most 300 slots a day).
    pub slot_minutes: i64,
    /// Places per slot (1 to 1,000).
    pub capacity_per_slot: i64,
}

/// A booking for a resident.
#[derive(InputObject)]
pub struct BookReservationInput {
    /// The venue.
    pub facility_id: ID,
    /// The slot, from `availableSlots`.
    pub slot_id: ID,
    /// The vaccine.
    pub product_code: String,
    /// The municipality code printed on the coupon (6 digits).
    pub coupon_municipality_code: String,
    /// The coupon number (10 digits).
    pub coupon_number: String,
    /// The resident's name.
    pub name: String,
    /// The name in kana.
    pub name_kana: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Phone number (10 or 11 digits).
    pub phone: String,
    /// Which dose (1 to 10).
    pub dose_number: i64,
}

/// The answer of a booking or change: the reservation as it now stands.
async fn reservation_answer(
    db: &Db,
    answer: serde_json::Value,
) -> async_graphql::Result<Reservation> {
    let id = answer["reservationId"]
        .as_str()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("an answer without its reservation")))?;
    Ok(store::load(db.pool(), id)
        .await?
        .map(Reservation)
        .ok_or(AppError::NotFound("reservation"))?)
}

fn idempotent_call(
    ctx: &Context<'_>,
    actor: &Actor,
    operation: &'static str,
    arguments: serde_json::Value,
) -> Result<Option<IdempotentCall>, AppError> {
    IdempotentCall::of(&request_meta(ctx), actor, operation, &arguments)
}

#[derive(Default)]
pub struct ReservationQuery;

#[Object]
impl ReservationQuery {
    /// Free places at venues that book in vsys, in a municipality or at one venue, over at most
    /// 62 days. Public: no sign-in needed, no personal data.
    #[allow(clippy::too_many_arguments)] // one per filter, as GraphQL arguments
    async fn available_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The municipality's venues.")] municipality_id: Option<ID>,
        #[graphql(desc = "One venue.")] facility_id: Option<ID>,
        #[graphql(desc = "First day, YYYY-MM-DD (default today).")] from: Option<String>,
        #[graphql(desc = "Last day, YYYY-MM-DD (default two weeks on).")] to: Option<String>,
        #[graphql(desc = "Only this vaccine.")] product_code: Option<String>,
        #[graphql(desc = "Only slots starting at or after this time, HH:MM.")] starts_after: Option<
            String,
        >,
        #[graphql(desc = "Only slots starting before this time, HH:MM.")] starts_before: Option<
            String,
        >,
        #[graphql(desc = "At most this many slots (default 100, at most 500).")] first: Option<i32>,
    ) -> async_graphql::Result<AvailableSlots> {
        let db = ctx.data_unchecked::<Db>();
        let municipality_id = municipality_id
            .map(|id| row_of(&id, ORGANIZATION_TYPES, "municipality"))
            .transpose()?;
        let facility_id = facility_id
            .map(|id| row_of(&id, ORGANIZATION_TYPES, "facility"))
            .transpose()?;
        if municipality_id.is_none() && facility_id.is_none() {
            return Err(AppError::invalid_field(
                "municipalityId",
                "name a municipality or a venue / 市区町村か会場を指定してください",
            )
            .into());
        }
        let today = db.clock().japan_date();
        let from = match from {
            Some(text) => parse_date("from", &text)?,
            None => today,
        };
        let to = match to {
            Some(text) => parse_date("to", &text)?,
            None => from + time::Duration::days(13),
        };
        if to < from || (to - from).whole_days() >= MAX_SEARCH_DAYS {
            return Err(AppError::invalid_field(
                "to",
                format!("from 1 to {MAX_SEARCH_DAYS} days, ending after the start / 検索期間は{MAX_SEARCH_DAYS}日以内です"),
            )
            .into());
        }
        let limit = i64::from(first.unwrap_or(100));
        if !(1..=MAX_SLOTS).contains(&limit) {
            return Err(AppError::invalid_field(
                "first",
                format!("1 to {MAX_SLOTS} slots / 1〜{MAX_SLOTS}件です"),
            )
            .into());
        }
        let product_id = match product_code {
            Some(code) => Some(
                products::by_code(db.pool(), code.trim().to_uppercase().as_str())
                    .await?
                    .ok_or_else(products::unknown_code)?
                    .id,
            ),
            None => None,
        };
        let time_filter = |field: &'static str, text: Option<String>| {
            text.map(|t| {
                parse_time(field, &t).map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
            })
            .transpose()
        };
        let search = SlotSearch {
            municipality_id: municipality_id.as_deref(),
            facility_id: facility_id.as_deref(),
            from,
            to,
            product_id: product_id.as_deref(),
            starts_after: time_filter("startsAfter", starts_after)?,
            starts_before: time_filter("startsBefore", starts_before)?,
            limit: limit + 1,
        };
        let mut found = slots::free_slots(db, &search).await?;
        let truncated = found.len() as i64 > limit;
        found.truncate(limit as usize);
        Ok(AvailableSlots {
            free_places: found.iter().map(SlotRecord::free).sum(),
            slots: found.into_iter().map(ReservationSlot).collect(),
            truncated,
        })
    }

    /// Bookings, by slot time: a venue reads its own, a municipality's staff and call centre
    /// the municipality's. Personal data: every read is audited.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // one per filter, as GraphQL arguments
    async fn reservations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only at this venue.")] facility_id: Option<ID>,
        #[graphql(desc = "Only this coupon number.")] coupon_number: Option<String>,
        #[graphql(desc = "Only slots on or after this day, YYYY-MM-DD.")] from: Option<String>,
        #[graphql(desc = "Only slots on or before this day, YYYY-MM-DD.")] to: Option<String>,
        #[graphql(desc = "Only in this state.")] status: Option<ReservationStatus>,
        #[graphql(desc = "Page size (default 20, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last row of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Reservation>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let page = PageRequest::parse("reservations", first, after, 2)?;
        let wanted = ReservationFilter {
            facility_id: facility_id
                .as_ref()
                .map(|id| row_of(id, ORGANIZATION_TYPES, "facility"))
                .transpose()?,
            coupon_number: coupon_number.map(|c| c.trim().to_owned()),
            from: from
                .map(|d| parse_date("from", &d).map(|d| d.to_string()))
                .transpose()?,
            to: to
                .map(|d| parse_date("to", &d).map(|d| d.to_string()))
                .transpose()?,
            status,
        };
        let rows = store::page(db, actor, &wanted, &page).await?;
        let (rows, has_next) = split_page(rows, &page);
        // Who read whose personal data: the filters and the reservations shown.
        let shown: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        audit::record_alone(
            db,
            &request_meta(ctx),
            Entry::new("readReservations", Outcome::Success, Some(actor))
                .organization(&actor.organization.id)
                .change(
                    None,
                    Some(json!({
                        "facility": wanted.facility_id, "coupon": wanted.coupon_number,
                        "from": wanted.from, "to": wanted.to, "shown": shown,
                    })),
                ),
        )
        .await?;
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|r| {
            let cursor = page.cursor(&[&r.starts_at, &r.id]);
            Edge::new(cursor, Reservation(r))
        }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct ReservationMutation;

#[Object]
impl ReservationMutation {
    /// Sets how a venue takes bookings (the venue or its municipality). Audited.
    async fn set_reservation_mode(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue.")] facility_id: ID,
        #[graphql(desc = "VSYS, EXTERNAL or NOT_REQUIRED.")] mode: ReservationMode,
    ) -> async_graphql::Result<Facility> {
        let actor = require_actor(ctx)?;
        let id = row_of(&facility_id, ORGANIZATION_TYPES, "facility")?;
        let record = mode::set(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &id,
            mode,
        )
        .await?;
        Ok(Facility(record))
    }

    /// Declares the booking status of a venue that books elsewhere (EXTERNAL): the venue or its
    /// municipality. Declaring again, even unchanged, confirms it; a declaration older than
    /// the allowed age shows as unconfirmed on the navigator. Audited.
    async fn set_reservation_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue.")] facility_id: ID,
        #[graphql(desc = "BOOKABLE, FEW_LEFT, NOT_BOOKABLE or PREPARING.")]
        status: AvailabilityStatus,
        #[graphql(desc = "The next day with free places, YYYY-MM-DD.")] next_available_date: Option<
            String,
        >,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let id = row_of(&facility_id, ORGANIZATION_TYPES, "facility")?;
        declaration::declare(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &id,
            status,
            next_available_date.as_deref(),
        )
        .await?;
        Ok(true)
    }

    /// Creates a venue's slots in bulk from a schedule (seed p. 39), all or none: overlapping
    /// an existing slot of the venue and vaccine refuses the whole schedule. Dates without a
    /// locked allocation are allowed, with a warning. Audited.
    async fn create_reservation_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The schedule.")] input: ReservationScheduleInput,
    ) -> async_graphql::Result<SlotsCreated> {
        let actor = require_actor(ctx)?;
        let facility_id = row_of(&input.facility_id, ORGANIZATION_TYPES, "facility")?;
        let created = slots::create(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            NewSlots {
                facility_id: &facility_id,
                product_code: &input.product_code,
                schedule: ScheduleInput {
                    from: &input.from,
                    to: &input.to,
                    days_of_week: &input.days_of_week,
                    periods: input
                        .opening_hours
                        .iter()
                        .map(|p| (p.opens.as_str(), p.closes.as_str()))
                        .collect(),
                    slot_minutes: input.slot_minutes,
                    capacity: input.capacity_per_slot,
                },
            },
        )
        .await?;
        Ok(SlotsCreated {
            created: created.created,
            warnings: created
                .warnings
                .into_iter()
                .map(|(code, message)| ReservationWarning {
                    code: code.into(),
                    message,
                })
                .collect(),
        })
    }

    /// Books a place for a resident of the venue's municipality (its call centre or staff).
    /// Send an `Idempotency-Key` header to make a retry return the first booking. Audited.
    async fn book_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The booking.")] input: BookReservationInput,
    ) -> async_graphql::Result<Reservation> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let facility_id = row_of(&input.facility_id, ORGANIZATION_TYPES, "facility")?;
        let slot_id = row_of(&input.slot_id, &["ReservationSlot"], "slot")?;
        let arguments = json!({
            "facility": facility_id, "slot": slot_id, "product": input.product_code,
            "municipality": input.coupon_municipality_code, "coupon": input.coupon_number,
            "name": input.name, "kana": input.name_kana, "birth": input.birth_date,
            "phone": input.phone, "dose": input.dose_number,
        });
        let call = idempotent_call(ctx, actor, "bookReservation", arguments)?;
        if let Some(answer) = idempotency::earlier_answer(db, call.as_ref()).await? {
            return reservation_answer(db, answer).await;
        }
        let result = booking::book(
            db,
            ctx.data_unchecked::<Arc<Events>>(),
            &request_meta(ctx),
            actor,
            NewBooking {
                facility_id: &facility_id,
                slot_id: &slot_id,
                product_code: &input.product_code,
                resident: ResidentInput {
                    municipality_code: &input.coupon_municipality_code,
                    coupon_number: &input.coupon_number,
                    name: &input.name,
                    name_kana: &input.name_kana,
                    birth_date: &input.birth_date,
                    phone: &input.phone,
                    dose_number: input.dose_number,
                },
            },
            call.as_ref(),
        )
        .await;
        let (result, made) = match result {
            Ok(booked) => (Ok(booked.answer), Some(booked.record)),
            Err(e) => (Err(e), None),
        };
        let answer = idempotency::settle(db, call.as_ref(), result).await?;
        match made {
            Some(record) => Ok(Reservation(record)),
            // A retry answered by the first attempt: read that booking.
            None => reservation_answer(db, answer).await,
        }
    }

    /// Moves a booking to another slot of the same vaccine in the municipality, atomically:
    /// the new place is held before the old one is freed. Honours `Idempotency-Key`. Audited.
    async fn change_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reservation.")] reservation_id: ID,
        #[graphql(desc = "The new slot.")] slot_id: ID,
    ) -> async_graphql::Result<Reservation> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let id = row_of(&reservation_id, &["Reservation"], "reservation")?;
        let slot = row_of(&slot_id, &["ReservationSlot"], "slot")?;
        let call = idempotent_call(
            ctx,
            actor,
            "changeReservation",
            json!({ "reservation": id, "slot": slot }),
        )?;
        if let Some(answer) = idempotency::earlier_answer(db, call.as_ref()).await? {
            return reservation_answer(db, answer).await;
        }
        let result =
            booking::change(db, &request_meta(ctx), actor, &id, &slot, call.as_ref()).await;
        let answer = idempotency::settle(db, call.as_ref(), result).await?;
        reservation_answer(db, answer).await
    }

    /// Cancels a booking and frees its place (the venue's municipality or the venue itself,
    /// before the slot starts). Audited.
    async fn cancel_reservation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reservation.")] reservation_id: ID,
        #[graphql(desc = "Why (at most 500 characters).")] reason: Option<String>,
    ) -> async_graphql::Result<Reservation> {
        let actor = require_actor(ctx)?;
        let id = row_of(&reservation_id, &["Reservation"], "reservation")?;
        let record = booking::cancel(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &id,
            reason.as_deref(),
        )
        .await?;
        Ok(Reservation(record))
    }
}

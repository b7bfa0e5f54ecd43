//! Reservation slots: created in bulk from a schedule (seed p. 39), found by the call centre
//! and the navigator. Only venues that book in vsys have slots (p. 40).

use std::collections::BTreeMap;

use serde_json::json;
use time::Date;

use super::schedule::{Schedule, ScheduleInput, SlotTime, local_minute};
use crate::actor::{Actor, RequestMeta};
use crate::allocation::products::{self, ProductKind, ProductRecord};
use crate::audit::{self, Entry, Outcome};
use crate::authz::Action;
use crate::clock::{JST, Timestamp};
use crate::db::{Db, Exec, Filter, WriteTx, new_id, placeholders};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, append};
use crate::facilities::decide_on;
use crate::organizations::{OrganizationKind, OrganizationRecord, ReservationMode, store};

/// Rows per insert statement.
const INSERT_BATCH: usize = 200;

/// One slot as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SlotRecord {
    pub id: String,
    pub facility_id: String,
    pub municipality_id: String,
    pub product_id: String,
    /// The vaccine's code, read with the slot (lists show it for every slot).
    pub product_code: String,
    pub slot_date: String,
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: i64,
    pub booked: i64,
}

impl SlotRecord {
    pub fn free(&self) -> i64 {
        self.capacity - self.booked
    }
}

/// Slots (`s`) with their vaccine's code.
const SELECT: &str = "SELECT s.id, s.facility_id, s.municipality_id, s.product_id, \
     p.code AS product_code, s.slot_date, s.starts_at, s.ends_at, s.capacity, s.booked \
     FROM reservation_slots s JOIN products p ON p.id = s.product_id";

pub async fn load<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<SlotRecord>> {
    let sql = format!("{SELECT} WHERE s.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The current minute in Japan, `YYYY-MM-DDTHH:MM`, as slots store their times.
pub fn japan_minute(db: &Db) -> String {
    japan_minute_at(db.now())
}

/// The minute of `at` in Japan, `YYYY-MM-DDTHH:MM`.
pub fn japan_minute_at(at: Timestamp) -> String {
    let local = at.instant().to_offset(JST);
    local_minute(local.date(), local.time())
}

/// A venue, loaded for a reservation operation: a facility, or NOT_FOUND.
pub async fn venue(db: &Db, facility_id: &str) -> AppResult<OrganizationRecord> {
    store::load(db.pool(), facility_id)
        .await?
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))
}

/// A vaccine by code, which the venue must handle.
pub async fn vaccine_at(
    db: &Db,
    venue: &OrganizationRecord,
    product_code: &str,
) -> AppResult<ProductRecord> {
    let code = product_code.trim().to_uppercase();
    let product = products::by_code(db.pool(), &code)
        .await?
        .filter(|p| p.kind == ProductKind::Vaccine)
        .ok_or_else(products::unknown_code)?;
    if !venue.vaccines().contains(&product.code) {
        return Err(AppError::invalid_field(
            "productCode",
            format!(
                "the venue does not handle {} / この会場は{}を取り扱っていません",
                product.code, product.code
            ),
        ));
    }
    Ok(product)
}

/// What `createReservationSlots` answers.
pub struct SlotsCreated {
    pub created: i64,
    pub warnings: Vec<(&'static str, String)>,
}

/// A schedule for one venue and vaccine.
pub struct NewSlots<'a> {
    pub facility_id: &'a str,
    pub product_code: &'a str,
    pub schedule: ScheduleInput<'a>,
}

/// Creates the slots of a schedule, all or none. Audited; refusals too.
pub async fn create(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewSlots<'_>,
) -> AppResult<SlotsCreated> {
    let result = create_checked(db, meta, actor, &new).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "createReservationSlots",
        Some(new.facility_id),
        result,
    )
    .await
}

async fn create_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewSlots<'_>,
) -> AppResult<SlotsCreated> {
    let venue = venue(db, new.facility_id).await?;
    decide_on(Some(actor), Action::ManageReservations, &venue)?;
    if venue.reservation_mode != Some(ReservationMode::Vsys) {
        return Err(AppError::refused(
            "NOT_A_VSYS_VENUE",
            "only venues that take bookings in vsys have slots: set its reservation mode to VSYS first / V-SYSの予約機能を利用する会場のみ予約枠を作成できます",
        ));
    }
    // A venue offers reservations only while it may vaccinate: a contract in force and its
    // doctors registered (the registry's eligibility).
    let eligibility = crate::facilities::eligibility_of(db, &venue).await?;
    if !eligibility.eligible {
        let reasons: Vec<&'static str> = eligibility.reasons.iter().map(|r| (*r).into()).collect();
        return Err(AppError::Refused {
            message: format!(
                "the venue may not vaccinate now ({}) / この会場は現在接種を実施できません",
                reasons.join(", ")
            ),
            reason: "NOT_ELIGIBLE",
            current: Some(json!({ "reasons": reasons })),
        });
    }
    let product = vaccine_at(db, &venue, new.product_code).await?;
    let today = db.clock().japan_date();
    let schedule = Schedule::validate(&new.schedule, today)?;
    let slots = schedule.slots();
    let municipality_id = venue
        .municipality_id
        .clone()
        .ok_or(AppError::NotFound("facility"))?;

    let mut tx = db.begin_write().await?;
    // Concurrent schedules for one venue serialise on its row (PostgreSQL; SQLite has one
    // writer), so the overlap check below sees every committed slot.
    sqlx::query("UPDATE organizations SET version = version WHERE id = $1")
        .bind(&venue.id)
        .execute(tx.conn())
        .await?;
    refuse_overlaps(&mut tx, &venue.id, &product.id, &schedule, &slots).await?;
    insert_slots(
        &mut tx,
        &venue.id,
        &municipality_id,
        &product.id,
        schedule.capacity,
        Some(&actor.user_id),
        &slots,
    )
    .await?;
    let warnings = uncovered_dates(&mut tx, &venue, &product, &slots).await?;
    let created = slots.len() as i64;
    let summary = json!({
        "product": product.code, "from": schedule.from.to_string(), "to": schedule.to.to_string(),
        "slots": created, "capacityPerSlot": schedule.capacity,
    });
    audit::record(
        &mut tx,
        meta,
        Entry::new("createReservationSlots", Outcome::Success, Some(actor))
            .object("Facility", &venue.id)
            .organization(&venue.id)
            .change(None, Some(summary)),
    )
    .await?;
    let event = availability_changed(
        &venue.id,
        &product.code,
        &schedule.from.to_string(),
        &schedule.to.to_string(),
    );
    append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(SlotsCreated { created, warnings })
}

/// Inserts slots of one venue and vaccine, `capacity` places each, in batches.
pub async fn insert_slots(
    tx: &mut WriteTx,
    venue_id: &str,
    municipality_id: &str,
    product_id: &str,
    capacity: i64,
    created_by: Option<&str>,
    slots: &[SlotTime],
) -> AppResult<()> {
    let now = tx.now();
    for chunk in slots.chunks(INSERT_BATCH) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $2, $3, $4, $5, $6)", placeholders(7 + i * 4, 4)))
            .collect();
        let sql = format!(
            "INSERT INTO reservation_slots (id, slot_date, starts_at, ends_at, facility_id, \
             municipality_id, product_id, capacity, created_by, created_at) VALUES {}",
            rows.join(", ")
        );
        // The values every row shares come first ($1–$6), then four per row.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(venue_id)
            .bind(municipality_id)
            .bind(product_id)
            .bind(capacity)
            .bind(created_by)
            .bind(now);
        for slot in chunk {
            query = query
                .bind(new_id())
                .bind(slot.date.to_string())
                .bind(slot.starts_at())
                .bind(slot.ends_at());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Refuses a schedule whose slots overlap each other's times with existing slots of the venue
/// and vaccine (CONFLICT, SLOTS_OVERLAP, with the first existing slot it meets).
async fn refuse_overlaps(
    tx: &mut WriteTx,
    facility_id: &str,
    product_id: &str,
    schedule: &Schedule,
    slots: &[SlotTime],
) -> AppResult<()> {
    let existing: Vec<(String, String)> = sqlx::query_as(
        "SELECT starts_at, ends_at FROM reservation_slots WHERE facility_id = $1 \
         AND product_id = $2 AND slot_date BETWEEN $3 AND $4",
    )
    .bind(facility_id)
    .bind(product_id)
    .bind(schedule.from.to_string())
    .bind(schedule.to.to_string())
    .fetch_all(tx.conn())
    .await?;
    let by_start: BTreeMap<String, String> = existing.into_iter().collect();
    for slot in slots {
        let (starts, ends) = (slot.starts_at(), slot.ends_at());
        // The latest existing slot starting before this one ends overlaps it when it ends
        // after this one starts (slots of one venue never overlap each other, so it is the
        // only candidate).
        if let Some((s, e)) = by_start.range(..ends.clone()).next_back()
            && *e > starts
        {
            return Err(AppError::Refused {
                message: format!(
                    "the schedule overlaps the existing slot at {s} / 既存の予約枠（{s}〜）と重なっています"
                ),
                reason: "SLOTS_OVERLAP",
                current: Some(json!({ "startsAt": s, "endsAt": e })),
            });
        }
    }
    Ok(())
}

/// Warnings for the dates no locked allocation covers: a locked cool of the vaccine that gives
/// the venue (or the basic-type facility supplying it) boxes covers its own period and one more
/// of the same length, in which the delivered vaccine is used.
async fn uncovered_dates(
    tx: &mut WriteTx,
    venue: &OrganizationRecord,
    product: &ProductRecord,
    slots: &[SlotTime],
) -> AppResult<Vec<(&'static str, String)>> {
    let supplier = venue.basic_facility_id.as_deref().unwrap_or(&venue.id);
    let periods: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.starts_on, c.ends_on FROM cools c \
         JOIN allocations a ON a.cool_id = c.id AND a.product_id = c.product_id \
         JOIN allocation_progress p ON p.cool_id = c.id AND p.organization_id = $3 \
         WHERE c.product_id = $1 AND a.recipient_id = $2 AND a.boxes > 0 \
         AND a.allocator_id = (SELECT s.municipality_id FROM organizations s WHERE s.id = $2) \
         AND p.locked_at IS NOT NULL",
    )
    .bind(&product.id)
    .bind(supplier)
    .bind(venue.prefecture_id.as_deref().unwrap_or_default())
    .fetch_all(tx.conn())
    .await?;
    let covered: Vec<(Date, Date)> = periods
        .iter()
        .filter_map(|(from, to)| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let from = Date::parse(from, format).ok()?;
            let to = Date::parse(to, format).ok()?;
            Some((from, to + (to - from) + time::Duration::days(1)))
        })
        .collect();
    let mut dates: Vec<Date> = slots.iter().map(|s| s.date).collect();
    dates.dedup();
    let uncovered: Vec<Date> = dates
        .iter()
        .copied()
        .filter(|d| !covered.iter().any(|(from, to)| from <= d && d <= to))
        .collect();
    Ok(match uncovered.first() {
        None => vec![],
        Some(first) => vec![(
            "NO_LOCKED_ALLOCATION",
            format!(
                "{} of {} days have no locked allocation of {} for this venue yet, the first {first}: make sure vaccine will be there / {}日中{}日は{}の配分がデータロックされていません（最初は{first}）",
                uncovered.len(),
                dates.len(),
                product.code,
                dates.len(),
                uncovered.len(),
                product.code
            ),
        )],
    })
}

/// The public event telling the navigator that a venue's availability of a vaccine changed
/// between two dates, for the caller to append.
pub fn availability_changed(
    facility_id: &str,
    product_code: &str,
    from: &str,
    to: &str,
) -> NewEvent {
    super::availability::changed(
        facility_id,
        json!({ "productCode": product_code, "from": from, "to": to }),
    )
}

/// Where to look for free slots.
pub struct SlotSearch<'a> {
    /// A municipality's venues, or one venue.
    pub municipality_id: Option<&'a str>,
    pub facility_id: Option<&'a str>,
    pub from: Date,
    pub to: Date,
    pub product_id: Option<&'a str>,
    /// Slots starting at or after, and before, these times of day (`HH:MM`).
    pub starts_after: Option<String>,
    pub starts_before: Option<String>,
    pub limit: i64,
}

/// Free future slots at venues that book in vsys, in time order.
pub async fn free_slots(db: &Db, search: &SlotSearch<'_>) -> AppResult<Vec<SlotRecord>> {
    let mut filter = Filter::default();
    filter
        .and(
            "s.slot_date BETWEEN ? AND ?",
            [search.from.to_string(), search.to.to_string()],
        )
        .and("s.starts_at > ?", [japan_minute(db)])
        .and("s.booked < s.capacity", [])
        .and("f.reservation_mode = 'VSYS'", []);
    if let Some(m) = search.municipality_id {
        filter.and("s.municipality_id = ?", [m.to_owned()]);
    }
    if let Some(f) = search.facility_id {
        filter.and("s.facility_id = ?", [f.to_owned()]);
    }
    if let Some(p) = search.product_id {
        filter.and("s.product_id = ?", [p.to_owned()]);
    }
    // Times of day are the last five characters of the local time.
    if let Some(t) = &search.starts_after {
        filter.and("substr(s.starts_at, 12, 5) >= ?", [t.clone()]);
    }
    if let Some(t) = &search.starts_before {
        filter.and("substr(s.starts_at, 12, 5) < ?", [t.clone()]);
    }
    let sql = format!(
        "{SELECT} JOIN facilities f ON f.organization_id = s.facility_id{} \
         ORDER BY s.starts_at, s.facility_id, s.id LIMIT {}",
        filter.where_clause(),
        search.limit
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

//! A facility's monthly claim: attendance recorded on its reservations, the draft pre-filled
//! from it, the claim saved and submitted (due by the 10th of the next month).

use std::collections::BTreeMap;

use serde_json::json;
use time::{Date, Month as CalendarMonth};

use super::fees::Counts;
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::Action;
use crate::clock::Timestamp;
use crate::db::{Db, WriteTx, new_id, value_rows};
use crate::error::{AppError, AppResult, RowError};
use crate::facilities::decide_on;
use crate::organizations::{OrganizationKind, OrganizationRecord, store as orgs};
use crate::reports::vaccinations::RecipientCategory;
use crate::reservations::store::{self as bookings, ReservationStatus};

/// A claim month, `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    pub text: String,
    pub first_day: Date,
}

impl Month {
    pub fn parse(text: &str) -> AppResult<Month> {
        let bad = || AppError::invalid_field("month", "a month as YYYY-MM / 請求月はYYYY-MMです");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = CalendarMonth::try_from(month).map_err(|_| bad())?;
        if !(2021..=2100).contains(&year) {
            return Err(bad());
        }
        let first_day = Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
        Ok(Month {
            text: format!("{year:04}-{:02}", u8::from(month)),
            first_day,
        })
    }

    /// The first day of the next month.
    pub fn next_first_day(&self) -> Date {
        let next = self.first_day.month().next();
        let year = if next == CalendarMonth::January {
            self.first_day.year() + 1
        } else {
            self.first_day.year()
        };
        Date::from_calendar_date(year, next, 1).expect("the first of a month exists")
    }

    /// Claims are due by the 10th of the next month.
    pub fn due_on(&self) -> Date {
        self.next_first_day()
            .replace_day(10)
            .expect("every month has a 10th")
    }
}

/// How a booked resident's visit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Attendance {
    /// Screened and vaccinated.
    Vaccinated,
    /// Screened, and the doctor decided against vaccinating today (予診のみ).
    ScreenedOnly,
    /// Did not come.
    NotAttended,
}

crate::db_enum!(Attendance);

/// What a facility records for one reservation.
pub struct AttendanceInput {
    pub attendance: Attendance,
    pub category: RecipientCategory,
    pub out_of_hours: bool,
    pub holiday: bool,
}

/// The facility of a reservation, with the billing right checked.
async fn facility_for(db: &Db, actor: &Actor, facility_id: &str) -> AppResult<OrganizationRecord> {
    let facility = orgs::load(db.pool(), facility_id)
        .await?
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))?;
    decide_on(Some(actor), Action::ManageBilling, &facility)?;
    Ok(facility)
}

/// Records how a reservation's visit went. Only a booking whose day has come; not once the
/// month's claim is submitted. Audited.
pub async fn record_attendance(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    reservation_id: &str,
    input: &AttendanceInput,
) -> AppResult<String> {
    let booking = bookings::load(db.pool(), reservation_id)
        .await?
        .ok_or(AppError::NotFound("reservation"))?;
    facility_for(db, actor, &booking.facility_id)
        .await
        .map_err(|_| AppError::NotFound("reservation"))?;
    if booking.status != ReservationStatus::Booked {
        return Err(AppError::refused(
            "RESERVATION_CANCELLED",
            "a cancelled reservation has no attendance / 取消済みの予約です",
        ));
    }
    if booking.slot_date > db.clock().today_in_japan() {
        return Err(AppError::refused(
            "NOT_YET",
            "attendance is recorded on or after the day / 接種日以降に入力してください",
        ));
    }
    if input.attendance == Attendance::NotAttended && (input.out_of_hours || input.holiday) {
        return Err(AppError::invalid_field(
            "attendance",
            "add-ons apply to a visit, not to a resident who did not come / 来院しなかった方に加算はありません",
        ));
    }
    let month = Month::parse(&booking.slot_date[..7])?;
    let mut tx = db.begin_write().await?;
    refuse_if_submitted(&mut tx, &booking.facility_id, &month).await?;
    let now = tx.now();
    sqlx::query(
        "UPDATE reservations SET attendance = $1, attended_at = $2, recipient_category = $3, \
         out_of_hours = $4, on_holiday = $5, updated_at = $2, version = version + 1 WHERE id = $6",
    )
    .bind(input.attendance)
    .bind(now)
    .bind(input.category)
    .bind(crate::db::Flag(input.out_of_hours))
    .bind(crate::db::Flag(input.holiday))
    .bind(&booking.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("recordAttendance", Outcome::Success, Some(actor))
            .object("Reservation", &booking.id)
            .organization(&booking.facility_id)
            .change(
                None,
                Some(
                    json!({ "attendance": input.attendance, "category": input.category,
                    "outOfHours": input.out_of_hours, "holiday": input.holiday }),
                ),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(booking.id)
}

async fn refuse_if_submitted(tx: &mut WriteTx, facility_id: &str, month: &Month) -> AppResult<()> {
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM billing_claims WHERE facility_id = $1 AND month = $2",
    )
    .bind(facility_id)
    .bind(&month.text)
    .fetch_optional(tx.conn())
    .await?;
    if status.as_deref() == Some("SUBMITTED") {
        return Err(AppError::refused(
            "CLAIM_SUBMITTED",
            "the claim for this month is submitted: it no longer changes / この月の請求は提出済みです",
        ));
    }
    Ok(())
}

/// One line of a claim: what is billed to one municipality for one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub paying_municipality_id: String,
    pub category: RecipientCategory,
    pub counts: Counts,
}

/// The lines attendance gives for the month: visits per coupon municipality × category, with
/// the add-ons recorded and children under six at the visit.
pub async fn draft(
    db: &Db,
    actor: &Actor,
    facility_id: &str,
    month: &Month,
) -> AppResult<Vec<Line>> {
    facility_for(db, actor, facility_id).await?;
    draft_lines(db, facility_id, month).await
}

#[derive(sqlx::FromRow)]
struct Visit {
    coupon_municipality_id: String,
    recipient_category: Option<RecipientCategory>,
    attendance: Attendance,
    birth_date: String,
    slot_date: String,
    #[sqlx(try_from = "crate::db::Flag")]
    out_of_hours: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    on_holiday: bool,
}

async fn draft_lines(db: &Db, facility_id: &str, month: &Month) -> AppResult<Vec<Line>> {
    let visits: Vec<Visit> = sqlx::query_as(
        "SELECT r.coupon_municipality_id, r.recipient_category, r.attendance, r.birth_date, \
         s.slot_date, r.out_of_hours, r.on_holiday FROM reservations r \
         JOIN reservation_slots s ON s.id = r.slot_id \
         WHERE r.facility_id = $1 AND r.status = 'BOOKED' \
         AND r.attendance IN ('VACCINATED', 'SCREENED_ONLY') \
         AND s.slot_date >= $2 AND s.slot_date < $3",
    )
    .bind(facility_id)
    .bind(month.first_day.to_string())
    .bind(month.next_first_day().to_string())
    .fetch_all(db.pool())
    .await?;
    let mut lines: BTreeMap<(String, &'static str), Line> = BTreeMap::new();
    for visit in visits {
        let category = visit
            .recipient_category
            .unwrap_or(RecipientCategory::General);
        let line = lines
            .entry((visit.coupon_municipality_id.clone(), category.into()))
            .or_insert_with(|| Line {
                paying_municipality_id: visit.coupon_municipality_id.clone(),
                category,
                counts: Counts::default(),
            });
        match visit.attendance {
            Attendance::Vaccinated => line.counts.vaccinations += 1,
            Attendance::ScreenedOnly => line.counts.screenings_only += 1,
            Attendance::NotAttended => continue,
        }
        if under_six(&visit.birth_date, &visit.slot_date) {
            line.counts.under_six += 1;
        }
        line.counts.out_of_hours += i64::from(visit.out_of_hours);
        line.counts.holidays += i64::from(visit.on_holiday);
    }
    Ok(lines.into_values().collect())
}

/// Whether someone born on `birth` is under six on `day` (both YYYY-MM-DD).
fn under_six(birth: &str, day: &str) -> bool {
    let parse = |text: &str| -> Option<(i32, u32)> {
        let year = text.get(..4)?.parse().ok()?;
        let month_day =
            text.get(5..7)?.parse::<u32>().ok()? * 100 + text.get(8..10)?.parse::<u32>().ok()?;
        Some((year, month_day))
    };
    match (parse(birth), parse(day)) {
        (Some((by, bmd)), Some((dy, dmd))) => {
            let age = dy - by - i32::from(dmd < bmd);
            age < 6
        }
        _ => false,
    }
}

/// A saved claim.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimRecord {
    pub id: String,
    pub facility_id: String,
    pub month: String,
    pub status: String,
    pub submitted_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The claim of a month and its lines, if one was saved.
pub async fn load(
    db: &Db,
    facility_id: &str,
    month: &Month,
) -> AppResult<Option<(ClaimRecord, Vec<Line>)>> {
    let claim: Option<ClaimRecord> = sqlx::query_as(
        "SELECT id, facility_id, month, status, submitted_at, updated_at, version \
         FROM billing_claims WHERE facility_id = $1 AND month = $2",
    )
    .bind(facility_id)
    .bind(&month.text)
    .fetch_optional(db.pool())
    .await?;
    let Some(claim) = claim else {
        return Ok(None);
    };
    let rows: Vec<(String, RecipientCategory, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT paying_municipality_id, category, vaccinations, screenings_only, under_six, \
         out_of_hours, holidays FROM billing_claim_lines WHERE claim_id = $1 \
         ORDER BY paying_municipality_id, category",
    )
    .bind(&claim.id)
    .fetch_all(db.pool())
    .await?;
    let lines = rows
        .into_iter()
        .map(|(municipality, category, v, s, u, o, h)| Line {
            paying_municipality_id: municipality,
            category,
            counts: Counts {
                vaccinations: v,
                screenings_only: s,
                under_six: u,
                out_of_hours: o,
                holidays: h,
            },
        })
        .collect();
    Ok(Some((claim, lines)))
}

/// A line as entered: the paying municipality by its 6-digit code.
pub struct LineInput {
    pub municipality_code: String,
    pub category: RecipientCategory,
    pub counts: Counts,
}

/// Saves the month's claim as a draft (replacing its lines). Every bad line is named; nothing
/// changes then. Not after submission, not for a month still to come. Audited.
pub async fn save(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    month: &Month,
    lines: Vec<LineInput>,
) -> AppResult<ClaimRecord> {
    facility_for(db, actor, facility_id).await?;
    if month.first_day > db.clock().japan_date() {
        return Err(AppError::invalid_field(
            "month",
            "a month that has begun / 開始前の月は請求できません",
        ));
    }
    if lines.len() > 2_000 {
        return Err(AppError::invalid_field(
            "lines",
            "at most 2,000 lines / 2,000行までです",
        ));
    }
    let codes: Vec<String> = lines
        .iter()
        .map(|l| l.municipality_code.trim().to_owned())
        .collect();
    let municipalities = orgs::find_by_codes(db, OrganizationKind::Municipality, &codes).await?;
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut resolved = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let row = i + 1;
        let Some(municipality) = municipalities.get(line.municipality_code.trim()) else {
            errors.push(RowError::field(
                row,
                "municipalityCode",
                "no municipality has this code / この市区町村コードの自治体はありません",
            ));
            continue;
        };
        if let Err(message) = line.counts.check() {
            errors.push(RowError::field(row, "counts", message));
        }
        let category: &'static str = line.category.into();
        if !seen.insert((municipality.id.clone(), category)) {
            errors.push(RowError::field(
                row,
                "category",
                "this municipality and category twice / 市区町村と区分の組が重複しています",
            ));
        }
        resolved.push((municipality.id.clone(), line));
    }
    if !errors.is_empty() {
        return Err(AppError::InvalidRows {
            argument: "lines",
            rows: errors,
        });
    }
    let mut tx = db.begin_write().await?;
    refuse_if_submitted(&mut tx, facility_id, month).await?;
    let now = tx.now();
    let id: String = sqlx::query_scalar(
        "INSERT INTO billing_claims (id, facility_id, month, status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'DRAFT', $4, $4) ON CONFLICT (facility_id, month) DO UPDATE \
         SET updated_at = excluded.updated_at, version = billing_claims.version + 1 RETURNING id",
    )
    .bind(new_id())
    .bind(facility_id)
    .bind(&month.text)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query("DELETE FROM billing_claim_lines WHERE claim_id = $1")
        .bind(&id)
        .execute(tx.conn())
        .await?;
    for chunk in resolved.chunks(100) {
        let sql = format!(
            "INSERT INTO billing_claim_lines (claim_id, paying_municipality_id, category, \
             vaccinations, screenings_only, under_six, out_of_hours, holidays) VALUES {}",
            value_rows(chunk.len(), 8)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (municipality, line) in chunk {
            insert = insert
                .bind(&id)
                .bind(municipality)
                .bind(line.category)
                .bind(line.counts.vaccinations)
                .bind(line.counts.screenings_only)
                .bind(line.counts.under_six)
                .bind(line.counts.out_of_hours)
                .bind(line.counts.holidays);
        }
        insert.execute(tx.conn()).await?;
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("saveBillingClaim", Outcome::Success, Some(actor))
            .object("BillingClaim", &id)
            .organization(facility_id)
            .change(
                None,
                Some(json!({ "month": month.text, "lines": lines.len() })),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(load(db, facility_id, month).await?.expect("just saved").0)
}

/// Submits the month's saved claim. Once only; after the due date it is marked late.
/// Audited.
pub async fn submit(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    month: &Month,
) -> AppResult<ClaimRecord> {
    facility_for(db, actor, facility_id).await?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let updated = sqlx::query(
        "UPDATE billing_claims SET status = 'SUBMITTED', submitted_at = $1, submitted_by = $2, \
         updated_at = $1, version = version + 1 \
         WHERE facility_id = $3 AND month = $4 AND status = 'DRAFT'",
    )
    .bind(now)
    .bind(&actor.user_id)
    .bind(facility_id)
    .bind(&month.text)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT status FROM billing_claims WHERE facility_id = $1 AND month = $2",
        )
        .bind(facility_id)
        .bind(&month.text)
        .fetch_optional(tx.conn())
        .await?;
        return Err(match exists {
            Some(_) => AppError::refused(
                "CLAIM_SUBMITTED",
                "the claim for this month is already submitted / この月の請求は提出済みです",
            ),
            None => AppError::refused(
                "NO_CLAIM",
                "save the month's claim before submitting it / 請求を保存してから提出してください",
            ),
        });
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("submitBillingClaim", Outcome::Success, Some(actor))
            .organization(facility_id)
            .change(None, Some(json!({ "month": month.text }))),
    )
    .await?;
    tx.commit().await?;
    Ok(load(db, facility_id, month)
        .await?
        .expect("just submitted")
        .0)
}

/// The facility, checked for the billing right: for the summary and its exports.
pub async fn facility(db: &Db, actor: &Actor, facility_id: &str) -> AppResult<OrganizationRecord> {
    facility_for(db, actor, facility_id).await
}

/// The lines a summary is made of: the saved claim's, or else the draft's.
pub async fn lines_for_summary(
    db: &Db,
    facility_id: &str,
    month: &Month,
) -> AppResult<(Option<ClaimRecord>, Vec<Line>)> {
    match load(db, facility_id, month).await? {
        Some((claim, lines)) => Ok((Some(claim), lines)),
        None => Ok((None, draft_lines(db, facility_id, month).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_due_on_the_tenth_of_the_next() {
        let june = Month::parse("2021-06").unwrap();
        assert_eq!(june.due_on().to_string(), "2021-07-10");
        let december = Month::parse("2021-12").unwrap();
        assert_eq!(december.due_on().to_string(), "2022-01-10");
        assert_eq!(december.next_first_day().to_string(), "2022-01-01");
        for bad in ["2021-13", "2021-6-1", "21-06", "2021/06", "", "1999-01"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn under_six_is_the_age_on_the_day() {
        assert!(under_six("2015-07-01", "2021-06-30"));
        assert!(!under_six("2015-07-01", "2021-07-01"));
        assert!(!under_six("1950-01-01", "2021-07-01"));
    }
}

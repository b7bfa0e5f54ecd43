//! The coupon ledger (接種券の台帳): the numbers a municipality issued, to whom, and whether
//! they still hold. V-SYS kept none; here a municipality registers the coupons it printed, the
//! questionnaire print run draws numbers from it, a booking is checked against it, and a
//! reissue invalidates the old number.
//!
//! A municipality keeps a ledger from its first registration on. One that registered nothing
//! has its residents' coupons taken as typed (as V-SYS did): only the format is checked, and a
//! number the ledger holds as invalidated (a reissue replaced it) is still refused.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, WriteTx, new_id, value_rows};
use crate::error::{AppError, AppResult, RowError};

/// At most this many coupons per registration.
pub const MAX_REGISTRATION: usize = 1_000;

/// Where a coupon stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum CouponStatus {
    /// Valid: the resident may book and be vaccinated with it.
    Issued,
    /// Used up (kept for the record; no dose is refused for it today).
    Used,
    /// Replaced by a reissued coupon, or withdrawn: refused at booking.
    Invalidated,
}

crate::db_enum!(CouponStatus);

/// One coupon as the ledger keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRecord {
    pub id: String,
    pub municipality_id: String,
    pub number: String,
    pub resident_reference: String,
    pub status: CouponStatus,
    pub issued_at: Timestamp,
    pub invalidated_at: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, municipality_id, number, resident_reference, status, issued_at, invalidated_at";

/// A coupon to register: its number and the municipality's reference for the resident.
pub struct NewCoupon {
    pub number: String,
    pub resident_reference: String,
    /// ISSUED unless the municipality records one already used or withdrawn.
    pub status: CouponStatus,
}

/// Registers coupons the actor's municipality issued. All or none: every bad or duplicate
/// number is reported by its position. Returns how many were registered. Audited.
pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    coupons: Vec<NewCoupon>,
) -> AppResult<usize> {
    decide(
        Some(actor),
        Action::RegisterCoupons,
        Target::Organization(&actor.organization),
    )?;
    if coupons.is_empty() || coupons.len() > MAX_REGISTRATION {
        return Err(AppError::invalid_field(
            "coupons",
            format!(
                "1 to {MAX_REGISTRATION} coupons at a time / 一度に1〜{MAX_REGISTRATION}件です"
            ),
        ));
    }
    let municipality = &actor.organization.id;
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (i, coupon) in coupons.iter().enumerate() {
        let row = i + 1;
        if let Err(message) = super::text::coupon_number(&coupon.number) {
            rows.push(RowError::field(row, "number", message));
        } else if !seen.insert(coupon.number.as_str()) {
            rows.push(RowError::field(
                row,
                "number",
                "twice in this list / 一覧内で重複しています",
            ));
        }
        let reference = coupon.resident_reference.trim();
        if reference.is_empty() || reference.chars().count() > 64 {
            rows.push(RowError::field(
                row,
                "residentReference",
                "1 to 64 characters / 1〜64文字です",
            ));
        }
    }
    let mut tx = db.begin_write().await?;
    if rows.is_empty() {
        let numbers: Vec<&str> = coupons.iter().map(|c| c.number.as_str()).collect();
        let existing = existing_numbers(tx.conn(), municipality, &numbers).await?;
        for (i, coupon) in coupons.iter().enumerate() {
            if existing.contains(&coupon.number) {
                rows.push(RowError::field(
                    i + 1,
                    "number",
                    "already in the ledger / 既に登録されています",
                ));
            }
        }
    }
    if !rows.is_empty() {
        return Err(AppError::InvalidRows {
            argument: "coupons",
            rows,
        });
    }
    let now = tx.now();
    for chunk in coupons.chunks(100) {
        let sql = format!(
            "INSERT INTO coupons (id, municipality_id, number, resident_reference, status, \
             issued_at, invalidated_at) VALUES {}",
            value_rows(chunk.len(), 7)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for coupon in chunk {
            let invalidated = (coupon.status == CouponStatus::Invalidated).then_some(now);
            insert = insert
                .bind(new_id())
                .bind(municipality)
                .bind(&coupon.number)
                .bind(coupon.resident_reference.trim())
                .bind(coupon.status)
                .bind(now)
                .bind(invalidated);
        }
        insert.execute(tx.conn()).await?;
    }
    sqlx::query(
        "INSERT INTO coupon_ledgers (municipality_id, since) VALUES ($1, $2) \
         ON CONFLICT (municipality_id) DO NOTHING",
    )
    .bind(municipality)
    .bind(now)
    .execute(tx.conn())
    .await?;
    // Numbers the print run draws later start above the highest registered.
    let highest = coupons
        .iter()
        .filter_map(|c| c.number.parse::<i64>().ok())
        .max()
        .unwrap_or(0);
    sqlx::query(
        "INSERT INTO coupon_sequences (municipality_id, last_number) VALUES ($1, $2) \
         ON CONFLICT (municipality_id) DO UPDATE SET last_number = \
         CASE WHEN coupon_sequences.last_number < excluded.last_number \
         THEN excluded.last_number ELSE coupon_sequences.last_number END",
    )
    .bind(municipality)
    .bind(highest)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("registerCoupons", Outcome::Success, Some(actor))
            .organization(municipality)
            .change(None, Some(json!({ "registered": coupons.len() }))),
    )
    .await?;
    tx.commit().await?;
    Ok(coupons.len())
}

async fn existing_numbers<'c>(
    on: impl Exec<'c>,
    municipality_id: &str,
    numbers: &[&str],
) -> AppResult<HashSet<String>> {
    let sql = format!(
        "SELECT number FROM coupons WHERE municipality_id = $1 AND number IN ({})",
        crate::db::placeholders(2, numbers.len())
    );
    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(municipality_id);
    for number in numbers {
        query = query.bind(*number);
    }
    Ok(query.fetch_all(on).await?.into_iter().collect())
}

/// A coupon of a municipality, by number.
pub async fn find<'c>(
    on: impl Exec<'c>,
    municipality_id: &str,
    number: &str,
) -> AppResult<Option<CouponRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM coupons WHERE municipality_id = $1 AND number = $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(municipality_id)
        .bind(number)
        .fetch_optional(on)
        .await?)
}

/// Refuses a booking with a coupon the municipality's ledger does not hold as valid. A
/// municipality without a ledger accepts any well-formed number.
pub async fn check_for_booking(db: &Db, municipality_id: &str, number: &str) -> AppResult<()> {
    // One round trip on the booking path: the coupon's status and whether a ledger is kept.
    let (status, keeps_ledger): (Option<CouponStatus>, i64) = sqlx::query_as(
        "SELECT (SELECT status FROM coupons WHERE municipality_id = $1 AND number = $2), \
         (SELECT COUNT(*) FROM coupon_ledgers WHERE municipality_id = $1)",
    )
    .bind(municipality_id)
    .bind(number)
    .fetch_one(db.pool())
    .await?;
    match status {
        Some(CouponStatus::Issued | CouponStatus::Used) => Ok(()),
        Some(CouponStatus::Invalidated) => Err(AppError::refused(
            "COUPON_INVALIDATED",
            "this coupon was replaced or withdrawn: use the coupon issued in its place / この接種券は無効です（再発行された接種券をお使いください）",
        )),
        None if keeps_ledger > 0 => Err(AppError::refused(
            "COUPON_NOT_ISSUED",
            "the municipality issued no coupon with this number: check the number / この番号の接種券は発行されていません",
        )),
        None => Ok(()),
    }
}

/// Issues `count` new numbers in `municipality_id` (the next of its sequence), to the given
/// residents, in order. Returns each coupon's id and number.
pub async fn issue(
    tx: &mut WriteTx,
    municipality_id: &str,
    residents: &[&str],
) -> AppResult<Vec<(String, String)>> {
    let count = residents.len() as i64;
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO coupon_sequences (municipality_id, last_number) VALUES ($1, $2) \
         ON CONFLICT (municipality_id) DO UPDATE \
         SET last_number = coupon_sequences.last_number + excluded.last_number \
         RETURNING last_number",
    )
    .bind(municipality_id)
    .bind(count)
    .fetch_one(tx.conn())
    .await?;
    if last > 9_999_999_999 {
        return Err(AppError::refused(
            "COUPON_NUMBERS_EXHAUSTED",
            "the municipality's 10-digit coupon numbers are used up / 券番号の上限に達しました",
        ));
    }
    let first = last - count + 1;
    let now = tx.now();
    let mut issued = Vec::with_capacity(residents.len());
    for (offset, chunk) in residents.chunks(100).enumerate() {
        let sql = format!(
            "INSERT INTO coupons (id, municipality_id, number, resident_reference, status, \
             issued_at) VALUES {}",
            value_rows(chunk.len(), 6)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, resident) in chunk.iter().enumerate() {
            let id = new_id();
            let number = format!("{:010}", first + (offset * 100 + i) as i64);
            insert = insert
                .bind(id.clone())
                .bind(municipality_id)
                .bind(number.clone())
                .bind(*resident)
                .bind(CouponStatus::Issued)
                .bind(now);
            issued.push((id, number));
        }
        insert.execute(tx.conn()).await?;
    }
    Ok(issued)
}

/// Issues coupons to people of several municipalities, `(resident, municipality)`: one run
/// of numbers per municipality, each coupon referring to its resident.
pub async fn issue_to(tx: &mut WriteTx, people: &[(String, String)]) -> AppResult<()> {
    let mut by_municipality: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (resident, municipality) in people {
        by_municipality
            .entry(municipality.as_str())
            .or_default()
            .push(resident.as_str());
    }
    for (municipality, residents) in by_municipality {
        issue(tx, municipality, &residents).await?;
    }
    Ok(())
}

/// Invalidates a coupon (a reissue replaced it); a number the ledger did not hold is recorded
/// as invalidated so that it is refused from now on.
pub async fn invalidate(
    tx: &mut WriteTx,
    municipality_id: &str,
    number: &str,
    resident_reference: &str,
) -> AppResult<()> {
    let now = tx.now();
    let updated = sqlx::query(
        "UPDATE coupons SET status = $1, invalidated_at = $2 \
         WHERE municipality_id = $3 AND number = $4",
    )
    .bind(CouponStatus::Invalidated)
    .bind(now)
    .bind(municipality_id)
    .bind(number)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO coupons (id, municipality_id, number, resident_reference, status, \
             issued_at, invalidated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(municipality_id)
        .bind(number)
        .bind(resident_reference)
        .bind(CouponStatus::Invalidated)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

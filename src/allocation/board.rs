//! The nation's board of a cool: per prefecture, where its allocation stands (received,
//! confirmed, allocated down, completed, locked, its municipalities' completion) and what
//! became of the vaccine (delivered in the cool; administered, wasted and on hand from the
//! stock ledger), with the stages it is late in. One read of each table, grouped by
//! prefecture: the board is what a national dashboard polls.

use std::collections::HashMap;

use super::cools::{CoolRecord, CoolStage};
use super::deadlines;
use super::lines::Progress;
use super::stock;
use crate::authz::AreaFilter;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::OrganizationKind;

/// One prefecture's row. Amounts are of the cool's vaccine, in boxes or doses as named.
#[derive(Debug, Clone, Default)]
pub struct PrefectureRow {
    pub prefecture_id: String,
    pub received_boxes: i64,
    pub doses_per_box: i64,
    pub confirmed_at: Option<Timestamp>,
    pub allocated_boxes: i64,
    pub completed_at: Option<Timestamp>,
    pub locked_at: Option<Timestamp>,
    /// Municipalities given vaccine by the prefecture, and how many of them completed.
    pub municipalities_receiving: i64,
    pub municipalities_completed: i64,
    pub delivered_doses: i64,
    pub administered_doses: i64,
    pub wasted_doses: i64,
    pub on_hand_doses: i64,
    /// Stages past their deadline in which the prefecture's own part is not done.
    pub late: Vec<CoolStage>,
}

/// The board of `cool`, one row per prefecture in code order.
pub async fn board(db: &Db, cool: &CoolRecord) -> AppResult<Vec<PrefectureRow>> {
    #[derive(sqlx::FromRow)]
    struct Prefecture {
        id: String,
        confirmed_at: Option<Timestamp>,
        completed_at: Option<Timestamp>,
        locked_at: Option<Timestamp>,
        received: Option<i64>,
        allocated: Option<i64>,
        doses_per_box: i64,
    }
    // The prefectures with their progress, what the nation gave each and what each gave down.
    let prefectures: Vec<Prefecture> = sqlx::query_as(
        "SELECT o.id, g.confirmed_at, g.completed_at, g.locked_at, \
           CAST((SELECT SUM(a.boxes) FROM allocations a WHERE a.cool_id = $1 AND a.product_id = $2 \
                 AND a.allocator_id = o.parent_id AND a.recipient_id = o.id) AS BIGINT) AS received, \
           CAST((SELECT SUM(a.boxes) FROM allocations a WHERE a.cool_id = $1 AND a.product_id = $2 \
                 AND a.allocator_id = o.id) AS BIGINT) AS allocated, \
           (SELECT p.units_per_box * p.doses_per_unit FROM products p WHERE p.id = $2) AS doses_per_box \
         FROM organizations o \
         LEFT JOIN allocation_progress g ON g.cool_id = $1 AND g.organization_id = o.id \
         WHERE o.kind = $3 ORDER BY o.code",
    )
    .persistent(false)
    .bind(&cool.id)
    .bind(&cool.product_id)
    .bind(OrganizationKind::Prefecture.as_db())
    .fetch_all(db.pool())
    .await?;

    // Municipalities: given vaccine by their prefecture, and completed.
    let municipalities: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT o.prefecture_id, CAST(COUNT(*) AS BIGINT), \
           CAST(SUM(CASE WHEN g.completed_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM organizations o JOIN allocations a ON a.cool_id = $1 \
           AND a.allocator_id = o.prefecture_id AND a.recipient_id = o.id \
         LEFT JOIN allocation_progress g ON g.cool_id = a.cool_id AND g.organization_id = o.id \
         WHERE a.cool_id = $1 AND a.product_id = $2 AND a.boxes > 0 AND o.kind = $3 \
         GROUP BY o.prefecture_id",
    )
    .persistent(false)
    .bind(&cool.id)
    .bind(&cool.product_id)
    .bind(OrganizationKind::Municipality.as_db())
    .fetch_all(db.pool())
    .await?;
    let municipalities: HashMap<String, (i64, i64)> = municipalities
        .into_iter()
        .map(|(prefecture, receiving, completed)| (prefecture, (receiving, completed)))
        .collect();

    // Delivered in this cool, per prefecture of the facility.
    let delivered: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT o.prefecture_id, \
           CAST(SUM(d.delivered_boxes * p.units_per_box * p.doses_per_unit) AS BIGINT) \
         FROM deliveries d JOIN allocations a ON a.id = d.allocation_id \
         JOIN products p ON p.id = a.product_id JOIN organizations o ON o.id = a.recipient_id \
         WHERE a.cool_id = $1 AND a.product_id = $2 AND d.delivered_on IS NOT NULL \
         GROUP BY o.prefecture_id",
    )
    .persistent(false)
    .bind(&cool.id)
    .bind(&cool.product_id)
    .fetch_all(db.pool())
    .await?;
    let delivered: HashMap<String, i64> = delivered
        .into_iter()
        .map(|(prefecture, doses)| (prefecture, doses.unwrap_or(0)))
        .collect();

    // The stock ledger of every facility, summed per prefecture.
    let ledgers = stock::ledgers_in(db, &AreaFilter::Everywhere, &cool.product_id).await?;
    let prefecture_of: HashMap<String, String> = if ledgers.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, prefecture_id FROM organizations WHERE kind = $1 AND prefecture_id IS NOT NULL",
        )
        .bind(OrganizationKind::Facility.as_db())
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .collect()
    };
    let mut ledger_sums: HashMap<&str, stock::Ledger> = HashMap::new();
    for (facility, ledger) in &ledgers {
        let Some(prefecture) = prefecture_of.get(facility) else {
            continue;
        };
        let sum = ledger_sums.entry(prefecture.as_str()).or_default();
        sum.delivered += ledger.delivered;
        sum.administered += ledger.administered;
        sum.wasted += ledger.wasted;
        sum.transferred_in += ledger.transferred_in;
        sum.transferred_out += ledger.transferred_out;
    }

    let today = db.clock().today_in_japan();
    Ok(prefectures
        .into_iter()
        .map(|p| {
            let progress = Progress {
                confirmed_at: p.confirmed_at,
                completed_at: p.completed_at,
                locked_at: p.locked_at,
            };
            let received = p.received.unwrap_or(0);
            let late = CoolStage::ALL
                .into_iter()
                .filter(|stage| today.as_str() > cool.deadline(*stage))
                .filter(|stage| {
                    deadlines::done(
                        OrganizationKind::Prefecture,
                        *stage,
                        &progress,
                        received > 0,
                    ) == Some(false)
                })
                .collect();
            let (receiving, completed) = municipalities.get(&p.id).copied().unwrap_or_default();
            let ledger = ledger_sums.remove(p.id.as_str()).unwrap_or_default();
            PrefectureRow {
                received_boxes: received,
                doses_per_box: p.doses_per_box,
                confirmed_at: progress.confirmed_at,
                allocated_boxes: p.allocated.unwrap_or(0),
                completed_at: progress.completed_at,
                locked_at: progress.locked_at,
                municipalities_receiving: receiving,
                municipalities_completed: completed,
                delivered_doses: delivered.get(&p.id).copied().unwrap_or(0),
                administered_doses: ledger.administered,
                wasted_doses: ledger.wasted,
                on_hand_doses: ledger.on_hand(),
                late,
                prefecture_id: p.id,
            }
        })
        .collect())
}

//! The stock ledger (seed p. 42; the Board of Audit's criticism of V-SYS): per facility and
//! vaccine, doses delivered − administered − wasted ± transferred, from the delivery records,
//! the latest cumulative reports and the transfers. Read for one facility or a whole area (the
//! allocation proposals that weigh by stock and usage). The reports area enters the figures;
//! the ledger only reads tables, so that allocation, below the reports, can weigh by it.

use std::collections::HashMap;

use crate::authz::AreaFilter;
use crate::db::{Db, Filter};
use crate::error::AppResult;

/// Days of reports that make a facility's usage rate.
pub const USAGE_DAYS: i64 = 14;

/// One facility's figures for one vaccine, in doses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub delivered: i64,
    pub administered: i64,
    pub wasted: i64,
    pub transferred_in: i64,
    pub transferred_out: i64,
    /// Doses administered in the last [`USAGE_DAYS`] days (by report date).
    pub recent_usage: i64,
}

impl Ledger {
    pub fn on_hand(&self) -> i64 {
        self.delivered - self.administered - self.wasted + self.transferred_in
            - self.transferred_out
    }

    /// What the facility would use in the next [`USAGE_DAYS`] days beyond its stock, at its
    /// recent rate: the weight of a proposal by stock and usage.
    pub fn shortfall(&self) -> i64 {
        (self.recent_usage - self.on_hand()).max(0)
    }
}

/// The ledgers of every facility in `area` for `product_id`, by facility id.
pub async fn ledgers_in(
    db: &Db,
    area: &AreaFilter,
    product_id: &str,
) -> AppResult<HashMap<String, Ledger>> {
    let today = db.clock().today_in_japan();
    let since =
        crate::facilities::codes::parse_date("date", &today)? - time::Duration::days(USAGE_DAYS);
    let mut ledgers: HashMap<String, Ledger> = HashMap::new();

    for (facility, doses) in grouped(
        db,
        area,
        product_id,
        "SELECT a.recipient_id AS facility_id, \
         CAST(SUM(d.delivered_boxes * p.units_per_box * p.doses_per_unit) AS BIGINT) AS total \
         FROM deliveries d JOIN allocations a ON a.id = d.allocation_id \
         JOIN products p ON p.id = a.product_id JOIN organizations o ON o.id = a.recipient_id",
        "a.product_id",
        "d.delivered_on IS NOT NULL",
        "a.recipient_id",
    )
    .await?
    {
        ledgers.entry(facility).or_default().delivered = doses;
    }
    for (facility, doses) in grouped(
        db,
        area,
        product_id,
        "SELECT w.facility_id, CAST(SUM(w.wasted) AS BIGINT) AS total FROM waste_reports w \
         JOIN organizations o ON o.id = w.facility_id",
        "w.product_id",
        "w.created_at = (SELECT MAX(w2.created_at) FROM waste_reports w2 \
          WHERE w2.facility_id = w.facility_id AND w2.product_id = w.product_id)",
        "w.facility_id",
    )
    .await?
    {
        ledgers.entry(facility).or_default().wasted = doses;
    }
    for (facility, doses) in grouped(
        db,
        area,
        product_id,
        "SELECT t.to_facility_id AS facility_id, CAST(SUM(t.doses) AS BIGINT) AS total \
         FROM stock_transfers t JOIN organizations o ON o.id = t.to_facility_id",
        "t.product_id",
        "1 = 1",
        "t.to_facility_id",
    )
    .await?
    {
        ledgers.entry(facility).or_default().transferred_in = doses;
    }
    for (facility, doses) in grouped(
        db,
        area,
        product_id,
        "SELECT t.from_facility_id AS facility_id, CAST(SUM(t.doses) AS BIGINT) AS total \
         FROM stock_transfers t JOIN organizations o ON o.id = t.from_facility_id",
        "t.product_id",
        "1 = 1",
        "t.from_facility_id",
    )
    .await?
    {
        ledgers.entry(facility).or_default().transferred_out = doses;
    }
    // Administered: the latest cumulative figure per dose and category, now and as it stood
    // before the usage window.
    #[derive(sqlx::FromRow)]
    struct Report {
        facility_id: String,
        dose_number: i64,
        recipient_category: String,
        administered: i64,
        reported_on: String,
    }
    let mut filter = Filter::default();
    filter.and("r.product_id = ?", [product_id.to_owned()]);
    if let Some((condition, value)) = area.condition("o") {
        filter.and(&condition, [value]);
    }
    let sql = format!(
        "SELECT r.facility_id, r.dose_number, r.recipient_category, r.administered, r.reported_on \
         FROM vaccination_reports r JOIN organizations o ON o.id = r.facility_id{} \
         ORDER BY r.created_at, r.id",
        filter.where_clause()
    );
    let reports: Vec<Report> = filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?;
    let since = since.to_string();
    // (facility, dose, category) → (latest, latest before the window).
    let mut latest: HashMap<(String, i64, String), (i64, i64)> = HashMap::new();
    for report in reports {
        let entry = latest
            .entry((
                report.facility_id,
                report.dose_number,
                report.recipient_category,
            ))
            .or_default();
        entry.0 = report.administered;
        if report.reported_on <= since {
            entry.1 = report.administered;
        }
    }
    for ((facility, _, _), (now, before)) in latest {
        let ledger = ledgers.entry(facility).or_default();
        ledger.administered += now;
        ledger.recent_usage += (now - before).max(0);
    }
    Ok(ledgers)
}

/// One grouped sum per facility: `select` with its joins, restricted to the product, the area
/// and `condition`, grouped by `group`.
async fn grouped(
    db: &Db,
    area: &AreaFilter,
    product_id: &str,
    select: &str,
    product_column: &str,
    condition: &str,
    group: &str,
) -> AppResult<Vec<(String, i64)>> {
    let mut filter = Filter::default();
    filter.and(&format!("{product_column} = ?"), [product_id.to_owned()]);
    filter.and(condition, []);
    if let Some((area_condition, value)) = area.condition("o") {
        filter.and(&area_condition, [value]);
    }
    let sql = format!("{select}{} GROUP BY {group}", filter.where_clause());
    let rows: Vec<(String, Option<i64>)> = filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(facility, total)| (facility, total.unwrap_or(0)))
        .collect())
}

/// One facility's ledger for one vaccine.
pub async fn ledger_of(db: &Db, facility_id: &str, product_id: &str) -> AppResult<Ledger> {
    Ok(ledgers_in(
        db,
        &AreaFilter::Organization(facility_id.to_owned()),
        product_id,
    )
    .await?
    .remove(facility_id)
    .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_hand_and_shortfall() {
        let ledger = Ledger {
            delivered: 975,
            administered: 600,
            wasted: 5,
            transferred_in: 0,
            transferred_out: 100,
            recent_usage: 400,
        };
        assert_eq!(ledger.on_hand(), 270);
        assert_eq!(ledger.shortfall(), 130);
        assert_eq!(Ledger::default().shortfall(), 0);
    }
}

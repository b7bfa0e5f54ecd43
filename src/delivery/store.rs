//! Delivery lines as stored and read: every locked facility allocation line, with its deliverer
//! and, once the deliverer acted, its scheduled date and actual delivery.

use crate::actor::{Actor, Role};
use crate::authz::{AreaFilter, area_filter};
use crate::clock::{JST, Timestamp};
use crate::db::{Db, Exec, Filter, JsonText};
use crate::error::AppResult;
use crate::graphql::pagination::PageRequest;

/// One lot of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lot {
    pub lot_number: String,
    pub boxes: i64,
}

/// A facility's locked allocation line and what its deliverer recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryLine {
    /// The allocation line's id (the delivery's identity: one per facility line).
    pub allocation_id: String,
    pub cool_id: String,
    pub product_id: String,
    pub facility_id: String,
    /// Boxes allocated (what is to be delivered).
    pub boxes: i64,
    pub doses_per_box: i64,
    /// The facility's delivering wholesaler, or the manufacturer / warehouse delivering itself;
    /// fixed once the deliverer schedules.
    pub deliverer_id: Option<String>,
    /// When the prefecture locked (the amounts became final).
    pub locked_at: Timestamp,
    pub scheduled_on: Option<String>,
    pub delivered_on: Option<String>,
    pub delivered_boxes: Option<i64>,
    pub lots: Option<JsonText<Vec<Lot>>>,
    pub delivery_version: Option<i64>,
}

impl DeliveryLine {
    /// The Japanese day of the lock: no delivery is dated before it.
    pub fn released_on(&self) -> String {
        self.locked_at.instant().to_offset(JST).date().to_string()
    }

    pub fn status(&self) -> DeliveryStatus {
        match (&self.scheduled_on, &self.delivered_on) {
            (_, Some(_)) => DeliveryStatus::Delivered,
            (Some(_), None) => DeliveryStatus::Scheduled,
            (None, None) => DeliveryStatus::Unscheduled,
        }
    }
}

/// Where a delivery stands.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Locked, no date yet.
    Unscheduled,
    /// The deliverer registered its scheduled date (納入予定日).
    Scheduled,
    /// Delivered, with its lots (納入実績).
    Delivered,
}

/// The lines, as a derived table `x` to filter on: allocations to facilities in a locked
/// prefecture, with their deliverer and delivery.
const LINES: &str = "(SELECT a.id AS allocation_id, a.cool_id, a.product_id, \
     a.recipient_id AS facility_id, a.boxes, p.units_per_box * p.doses_per_unit AS doses_per_box, \
     COALESCE(d.deliverer_id, f.delivering_wholesaler_id, p.manufacturer_id, \
       (SELECT MIN(s.supplier_id) FROM supplies s WHERE s.cool_id = a.cool_id AND s.product_id = a.product_id)) \
       AS deliverer_id, \
     g.locked_at, d.scheduled_on, d.delivered_on, d.delivered_boxes, d.lots, \
     d.version AS delivery_version, o.code AS facility_code, o.prefecture_id, o.municipality_id, \
     p.manufacturer_id, p.code AS product_code, p.dry_ice_refill_days \
     FROM allocations a \
     JOIN organizations o ON o.id = a.recipient_id AND a.allocator_id = o.municipality_id \
     JOIN facilities f ON f.organization_id = o.id \
     JOIN products p ON p.id = a.product_id \
     JOIN allocation_progress g ON g.cool_id = a.cool_id AND g.organization_id = o.prefecture_id \
     LEFT JOIN deliveries d ON d.allocation_id = a.id \
     WHERE g.locked_at IS NOT NULL AND a.boxes > 0) x";

const COLUMNS: &str = "x.allocation_id, x.cool_id, x.product_id, x.facility_id, x.boxes, \
     x.doses_per_box, x.deliverer_id, x.locked_at, x.scheduled_on, x.delivered_on, \
     x.delivered_boxes, x.lots, x.delivery_version";

/// Restricts `filter` to the lines `actor` may see: the administrative chain its area, a
/// facility its own, a deliverer what it delivers, a manufacturer its vaccine's, the dry-ice
/// supplier the lines shipped on dry ice; nothing for the others.
pub fn visible_to(actor: &Actor, filter: &mut Filter) {
    let own = actor.organization.id.clone();
    match actor.role {
        Role::Nation | Role::SystemAdmin => {}
        Role::Prefecture | Role::Municipality | Role::MedicalInstitution => {
            match area_filter(actor) {
                AreaFilter::Prefecture(id) => filter.and("x.prefecture_id = ?", [id]),
                AreaFilter::Municipality(id) => filter.and("x.municipality_id = ?", [id]),
                AreaFilter::Organization(id) => filter.and("x.facility_id = ?", [id]),
                AreaFilter::Everywhere => filter,
            };
        }
        Role::Wholesaler | Role::SupplyWarehouse => {
            filter.and("x.deliverer_id = ?", [own]);
        }
        Role::Manufacturer => {
            filter.and(
                "(x.deliverer_id = ? OR x.manufacturer_id = ?)",
                [own.clone(), own],
            );
        }
        Role::DryIceSupplier => {
            filter.and("x.dry_ice_refill_days IS NOT NULL", []);
        }
        Role::Aggregator | Role::MedicalAssociation | Role::ReservationOperator => {
            filter.and("1 = 0", []);
        }
    }
}

/// Optional filters of a delivery list.
#[derive(Debug, Default)]
pub struct DeliveryFilter {
    pub cool_id: Option<String>,
    pub facility_id: Option<String>,
    pub deliverer_id: Option<String>,
    pub status: Option<DeliveryStatus>,
}

/// A page of the lines `actor` may see, by facility code, product, then line.
pub async fn page(
    db: &Db,
    actor: &Actor,
    wanted: &DeliveryFilter,
    page: &PageRequest,
) -> AppResult<Vec<(DeliveryLine, String, String)>> {
    let mut filter = Filter::default();
    visible_to(actor, &mut filter);
    if let Some(cool) = &wanted.cool_id {
        filter.and("x.cool_id = ?", [cool.clone()]);
    }
    if let Some(facility) = &wanted.facility_id {
        filter.and("x.facility_id = ?", [facility.clone()]);
    }
    if let Some(deliverer) = &wanted.deliverer_id {
        filter.and("x.deliverer_id = ?", [deliverer.clone()]);
    }
    match wanted.status {
        Some(DeliveryStatus::Unscheduled) => filter.and("x.scheduled_on IS NULL", []),
        Some(DeliveryStatus::Scheduled) => {
            filter.and("x.scheduled_on IS NOT NULL AND x.delivered_on IS NULL", [])
        }
        Some(DeliveryStatus::Delivered) => filter.and("x.delivered_on IS NOT NULL", []),
        None => &mut filter,
    };
    if let Some(after) = &page.after {
        filter.and(
            "(x.facility_code > ? OR (x.facility_code = ? AND x.allocation_id > ?))",
            [after[0].clone(), after[0].clone(), after[1].clone()],
        );
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        line: DeliveryLine,
        facility_code: String,
    }
    let sql = format!(
        "SELECT {COLUMNS}, x.facility_code FROM {LINES}{} \
         ORDER BY x.facility_code, x.allocation_id LIMIT {}",
        filter.where_clause(),
        page.fetch_limit()
    );
    let rows: Vec<Row> = filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.line.allocation_id.clone();
            (r.line, r.facility_code, id)
        })
        .collect())
}

/// Every line `actor` may see in a cool (for totals and the dry-ice schedule).
pub async fn all_of_cool(db: &Db, actor: &Actor, cool_id: &str) -> AppResult<Vec<DeliveryLine>> {
    let mut filter = Filter::default();
    visible_to(actor, &mut filter);
    filter.and("x.cool_id = ?", [cool_id.to_owned()]);
    let sql = format!(
        "SELECT {COLUMNS} FROM {LINES}{} ORDER BY x.facility_code, x.allocation_id",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

/// One line by its allocation id, whoever may see it (the caller decides).
pub async fn line<'c>(on: impl Exec<'c>, allocation_id: &str) -> AppResult<Option<DeliveryLine>> {
    let sql = format!("SELECT {COLUMNS} FROM {LINES} WHERE x.allocation_id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(allocation_id)
        .fetch_optional(on)
        .await?)
}

/// The locked lines of one facility (every cool), for its view and its stock.
pub async fn of_facility<'c>(on: impl Exec<'c>, facility_id: &str) -> AppResult<Vec<DeliveryLine>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {LINES} WHERE x.facility_id = $1 ORDER BY x.cool_id, x.allocation_id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .fetch_all(on)
        .await?)
}

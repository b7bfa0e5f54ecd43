//! Shipments to wholesalers (入荷・在庫, seed p. 43): the manufacturer ships its vaccine, the
//! warehouse needles and syringes, to the wholesalers' logistics warehouses; the wholesaler
//! records the receipt. A wholesaler's stock of a product in a cool is what it received less
//! what it delivered.

use serde_json::json;

use crate::actor::{Actor, RequestMeta, Role};
use crate::allocation::cools;
use crate::allocation::products::{self, ProductKind};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, Filter, new_id};
use crate::error::{AppError, AppResult};
use crate::facilities::codes::{parse_date, past_day};
use crate::organizations::{OrganizationKind, store as organizations};

/// One shipment row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShipmentRecord {
    pub id: String,
    pub cool_id: String,
    pub product_id: String,
    pub sender_id: String,
    pub wholesaler_id: String,
    pub boxes: i64,
    pub shipped_on: String,
    pub received_on: Option<String>,
    pub created_at: Timestamp,
    pub version: i64,
}

const COLUMNS: &str = "id, cool_id, product_id, sender_id, wholesaler_id, boxes, shipped_on, \
     received_on, created_at, version";

/// Most boxes one shipment may carry.
const MAX_BOXES: i64 = 10_000_000;

pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<ShipmentRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM shipments WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The shipments of a cool `actor` may see: its own as sender or wholesaler; all for the nation
/// and the service desk; none for the others.
pub async fn of_cool(db: &Db, actor: &Actor, cool_id: &str) -> AppResult<Vec<ShipmentRecord>> {
    let mut filter = Filter::default();
    filter.and("cool_id = ?", [cool_id.to_owned()]);
    let own = actor.organization.id.clone();
    match actor.role {
        Role::Nation | Role::SystemAdmin => {}
        Role::Manufacturer | Role::SupplyWarehouse | Role::Wholesaler => {
            filter.and("(sender_id = ? OR wholesaler_id = ?)", [own.clone(), own]);
        }
        _ => {
            filter.and("1 = 0", []);
        }
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM shipments{} ORDER BY shipped_on, id",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

/// A shipment to record.
pub struct NewShipment<'a> {
    pub cool_id: &'a str,
    pub product_code: &'a str,
    pub wholesaler_id: &'a str,
    pub boxes: i64,
    pub shipped_on: &'a str,
}

/// Records a shipment to a wholesaler (`recordShipment`): the manufacturer its cool's vaccine,
/// the warehouse needles and syringes. Audited; a refusal is audited and changes nothing.
pub async fn ship(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewShipment<'_>,
) -> AppResult<ShipmentRecord> {
    let result = ship_checked(db, meta, actor, &new).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "recordShipment",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn ship_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewShipment<'_>,
) -> AppResult<ShipmentRecord> {
    let cool = cools::by_id(db.pool(), new.cool_id)
        .await?
        .ok_or(AppError::NotFound("cool"))?;
    let product = products::by_code(db.pool(), new.product_code.trim().to_uppercase().as_str())
        .await?
        .ok_or_else(products::unknown_code)?;
    decide(
        Some(actor),
        Action::Ship,
        Target::Product {
            vaccine: product.kind == ProductKind::Vaccine,
            manufacturer: product.manufacturer_id.as_deref(),
        },
    )?;
    if product.kind == ProductKind::Vaccine && product.id != cool.product_id {
        return Err(AppError::invalid_field(
            "productCode",
            "the cool allocates another vaccine / このクールの対象ワクチンではありません",
        ));
    }
    organizations::load(db.pool(), new.wholesaler_id)
        .await?
        .filter(|o| o.kind() == OrganizationKind::Wholesaler)
        .ok_or(AppError::NotFound("wholesaler"))?;
    if !(1..=MAX_BOXES).contains(&new.boxes) {
        return Err(AppError::invalid_field(
            "boxes",
            "1 to 10,000,000 whole boxes / 1〜10,000,000箱",
        ));
    }
    let shipped_on = parse_date("shippedOn", new.shipped_on)?.to_string();
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let id = new_id();
    sqlx::query(
        "INSERT INTO shipments (id, cool_id, product_id, sender_id, wholesaler_id, boxes, \
         shipped_on, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(&cool.id)
    .bind(&product.id)
    .bind(&actor.organization.id)
    .bind(new.wholesaler_id)
    .bind(new.boxes)
    .bind(&shipped_on)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("recordShipment", Outcome::Success, Some(actor))
            .object("Shipment", &id)
            .organization(new.wholesaler_id)
            .change(
                None,
                Some(json!({
                    "cool": cool.number, "product": product.code, "boxes": new.boxes,
                    "shippedOn": shipped_on,
                })),
            ),
    )
    .await?;
    let record = by_id(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("shipment"))?;
    tx.commit().await?;
    Ok(record)
}

/// Records that a wholesaler received a shipment (`receiveShipment`); once. Audited.
pub async fn receive(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    shipment_id: &str,
    received_on: &str,
) -> AppResult<ShipmentRecord> {
    let result = receive_checked(db, meta, actor, shipment_id, received_on).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "receiveShipment",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn receive_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    shipment_id: &str,
    received_on: &str,
) -> AppResult<ShipmentRecord> {
    let shipment = by_id(db.pool(), shipment_id)
        .await?
        .filter(|s| {
            matches!(actor.role, Role::Nation | Role::SystemAdmin)
                || [&s.sender_id, &s.wholesaler_id].contains(&&actor.organization.id)
        })
        .ok_or(AppError::NotFound("shipment"))?;
    decide(
        Some(actor),
        Action::ReceiveShipment,
        Target::Receipt {
            wholesaler: &shipment.wholesaler_id,
        },
    )?;
    if shipment.received_on.is_some() {
        return Err(AppError::refused(
            "ALREADY_RECEIVED",
            "the receipt is already recorded / 入荷は登録済みです",
        ));
    }
    let date = past_day(
        "receivedOn",
        Some(received_on),
        &db.clock().today_in_japan(),
    )?;
    if date < shipment.shipped_on {
        return Err(AppError::invalid_field(
            "receivedOn",
            "received before it was shipped / 出荷日より前の日付です",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let updated = sqlx::query(
        "UPDATE shipments SET received_on = $2, received_by = $3, updated_at = $4, \
         version = version + 1 WHERE id = $1 AND received_on IS NULL",
    )
    .bind(&shipment.id)
    .bind(&date)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::refused(
            "ALREADY_RECEIVED",
            "the receipt is already recorded / 入荷は登録済みです",
        ));
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("receiveShipment", Outcome::Success, Some(actor))
            .object("Shipment", &shipment.id)
            .organization(&shipment.wholesaler_id)
            .change(None, Some(json!({ "receivedOn": date }))),
    )
    .await?;
    let record = by_id(tx.conn(), &shipment.id)
        .await?
        .ok_or(AppError::NotFound("shipment"))?;
    tx.commit().await?;
    Ok(record)
}

//! Supply per cool (domain.md §5, stage 1): what the manufacturer makes available of the cool's
//! vaccine, and what the needle and syringe warehouse makes available. The nation allocates
//! from it.

use serde_json::json;

use super::cools;
use super::products::{self, ProductKind};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};

/// A supplier registered (or changed) its supply for a cool.
pub const REGISTERED_TOPIC: &str = "supply.registered";

/// Most boxes one registration may state (well above a national cool: 2,000 vaccine boxes,
/// 19,500 needle boxes in the seed's example).
const MAX_BOXES: i64 = 10_000_000;

/// One supply row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupplyRecord {
    pub id: String,
    pub cool_id: String,
    pub product_id: String,
    pub supplier_id: String,
    pub boxes: i64,
    /// The product's doses per box, read with the row (doses are derived, never stored).
    pub doses_per_box: i64,
    pub updated_at: Timestamp,
    pub version: i64,
}

const COLUMNS: &str = "s.id, s.cool_id, s.product_id, s.supplier_id, s.boxes, \
     p.units_per_box * p.doses_per_unit AS doses_per_box, s.updated_at, s.version";
const FROM: &str = "supplies s JOIN products p ON p.id = s.product_id";

impl SupplyRecord {
    /// Doses the boxes give.
    pub fn doses(&self) -> i64 {
        self.boxes * self.doses_per_box
    }
}

/// A cool's supply, by product then supplier.
pub async fn of_cool(db: &Db, cool_id: &str) -> AppResult<Vec<SupplyRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE s.cool_id = $1 ORDER BY p.kind, p.code, s.supplier_id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(cool_id)
        .fetch_all(db.pool())
        .await?)
}

/// Registers (or replaces) the boxes of `product_code` the actor's organisation makes available
/// for the cool. Audited, with its event; a refusal is audited and changes nothing.
pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    product_code: &str,
    boxes: i64,
) -> AppResult<SupplyRecord> {
    let result = register_checked(db, meta, actor, cool_id, product_code, boxes).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "registerSupply",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn register_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    product_code: &str,
    boxes: i64,
) -> AppResult<SupplyRecord> {
    let cool = cools::by_id(db.pool(), cool_id)
        .await?
        .ok_or(AppError::NotFound("cool"))?;
    let product = products::by_code(db.pool(), product_code.trim().to_uppercase().as_str())
        .await?
        .ok_or_else(products::unknown_code)?;
    decide(
        Some(actor),
        Action::RegisterSupply,
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
    if !(0..=MAX_BOXES).contains(&boxes) {
        return Err(AppError::invalid_field(
            "boxes",
            "0 to 10,000,000 whole boxes / 0〜10,000,000箱",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let supplier = actor.organization.id.as_str();
    // The nation cannot have given more than the supply: a reduction stops at what it gave.
    let others: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(boxes), 0) AS BIGINT) FROM supplies \
         WHERE cool_id = $1 AND product_id = $2 AND supplier_id <> $3",
    )
    .bind(&cool.id)
    .bind(&product.id)
    .bind(supplier)
    .fetch_one(tx.conn())
    .await?;
    let allocated: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(a.boxes), 0) AS BIGINT) FROM allocations a \
         WHERE a.cool_id = $1 AND a.product_id = $2 \
         AND a.allocator_id IN (SELECT o.id FROM organizations o WHERE o.kind = $3)",
    )
    .bind(&cool.id)
    .bind(&product.id)
    // What the nation gave: the lines to prefectures.
    .bind(crate::organizations::OrganizationKind::Nation.as_db())
    .persistent(false)
    .fetch_one(tx.conn())
    .await?;
    if others + boxes < allocated {
        return Err(AppError::invalid_field(
            "boxes",
            format!(
                "the nation has already allocated {allocated} boxes of this supply / 既に{allocated}箱が都道府県に配分されています"
            ),
        ));
    }
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT boxes FROM supplies WHERE cool_id = $1 AND product_id = $2 AND supplier_id = $3",
    )
    .bind(&cool.id)
    .bind(&product.id)
    .bind(supplier)
    .fetch_optional(tx.conn())
    .await?;
    if before.is_some() {
        sqlx::query(
            "UPDATE supplies SET boxes = $4, updated_at = $5, version = version + 1 \
             WHERE cool_id = $1 AND product_id = $2 AND supplier_id = $3",
        )
        .bind(&cool.id)
        .bind(&product.id)
        .bind(supplier)
        .bind(boxes)
        .bind(now)
        .execute(tx.conn())
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO supplies (id, cool_id, product_id, supplier_id, boxes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(&cool.id)
        .bind(&product.id)
        .bind(supplier)
        .bind(boxes)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE s.cool_id = $1 AND s.product_id = $2 AND s.supplier_id = $3"
    );
    let record: SupplyRecord = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&cool.id)
        .bind(&product.id)
        .bind(supplier)
        .fetch_one(tx.conn())
        .await?;
    let view = |boxes: i64| json!({ "cool": cool.number, "product": product.code, "boxes": boxes });
    audit::record(
        &mut tx,
        meta,
        Entry::new("registerSupply", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .organization(supplier)
            .change(before.map(view), Some(view(boxes))),
    )
    .await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    append(
        &mut tx,
        &NewEvent {
            topic: REGISTERED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(supplier.to_owned()),
            payload: json!({
                "coolId": cool.id, "productCode": product.code, "boxes": boxes,
                "dosesPerBox": product.doses_per_box(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

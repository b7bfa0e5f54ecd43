//! The product master (domain.md §5): vaccines, needles and syringes, counted in boxes. Doses
//! are derived from the product (units per box × doses per unit), never stored twice.

use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::organizations::{OrganizationKind, store as organizations};

/// A product changed (PUBLIC: the navigator names vaccines).
pub const UPDATED_TOPIC: &str = "product.updated";

/// What a product is.
#[derive(
    async_graphql::Enum,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ProductKind {
    /// A vaccine (ワクチン), in vials.
    Vaccine,
    /// Needles (針), 100 a box.
    Needle,
    /// Syringes (シリンジ), 100 a box.
    Syringe,
}

crate::db_enum!(ProductKind);

/// One product row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRecord {
    pub id: String,
    pub code: String,
    pub kind: ProductKind,
    pub name: String,
    pub manufacturer_id: Option<String>,
    pub units_per_box: i64,
    pub doses_per_unit: i64,
    pub storage: Option<String>,
    pub minimum_interval_days: Option<i64>,
    /// Days between dry-ice refills of its thermal shipping box; `None` without dry ice.
    pub dry_ice_refill_days: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl ProductRecord {
    /// Doses in one box (Pfizer in 2021: 195 vials × 5 = 975; needles: 100).
    pub fn doses_per_box(&self) -> i64 {
        self.units_per_box * self.doses_per_unit
    }

    fn audit_view(&self) -> serde_json::Value {
        json!({
            "code": self.code, "kind": self.kind, "name": self.name,
            "manufacturerId": self.manufacturer_id, "unitsPerBox": self.units_per_box,
            "dosesPerUnit": self.doses_per_unit, "storage": self.storage,
            "minimumIntervalDays": self.minimum_interval_days,
            "dryIceRefillDays": self.dry_ice_refill_days,
        })
    }
}

const COLUMNS: &str = "id, code, kind, name, manufacturer_id, units_per_box, doses_per_unit, \
     storage, minimum_interval_days, dry_ice_refill_days, created_at, updated_at, version";

/// Every product, or those of one kind: vaccines, then needles, then syringes, each by code.
pub async fn list(db: &Db, kind: Option<ProductKind>) -> AppResult<Vec<ProductRecord>> {
    let mut rows: Vec<ProductRecord> = match kind {
        Some(kind) => {
            let sql = format!("SELECT {COLUMNS} FROM products WHERE kind = $1 ORDER BY code");
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(kind)
                .fetch_all(db.pool())
                .await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM products");
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(db.pool())
                .await?
        }
    };
    // The master is a handful of rows; the order of the kinds is the enum's.
    rows.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    Ok(rows)
}

/// Every product's code by its row id (for views that show lines by product code).
pub async fn codes_by_id(db: &Db) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(list(db, None)
        .await?
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect())
}

/// The codes of every vaccine in the master (what a facility's `vaccinesHandled` may name).
pub async fn vaccine_codes(db: &Db) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT code FROM products WHERE kind = $1 ORDER BY code")
            .bind(ProductKind::Vaccine)
            .fetch_all(db.pool())
            .await?,
    )
}

/// One product by its row id.
pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<ProductRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// One product by its code.
pub async fn by_code<'c>(on: impl Exec<'c>, code: &str) -> AppResult<Option<ProductRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE code = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(on)
        .await?)
}

/// The error for a product code no product has: the code is an argument value, so this is bad
/// input on that field rather than an object outside the caller's reach.
pub fn unknown_code() -> AppError {
    AppError::invalid_field(
        "productCode",
        "no product has this code / この品目コードの品目はありません",
    )
}

/// A product as `upsertProduct` gives it, before validation.
pub struct ProductInput {
    pub code: String,
    pub kind: ProductKind,
    pub name: String,
    /// A vaccine's manufacturer (row id); none for needles and syringes.
    pub manufacturer_id: Option<String>,
    pub units_per_box: i64,
    pub doses_per_unit: i64,
    pub storage: Option<String>,
    pub minimum_interval_days: Option<i64>,
    pub dry_ice_refill_days: Option<i64>,
    /// For a change: the version the caller read (a stale one is CONFLICT).
    pub expected_version: Option<i64>,
}

/// Validates the input; every refusal names its field.
fn validate(mut input: ProductInput) -> AppResult<ProductInput> {
    input.code = input.code.trim().to_uppercase();
    let code_ok = (1..=32).contains(&input.code.len())
        && input
            .code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !code_ok {
        return Err(AppError::invalid_field(
            "code",
            "1 to 32 letters, digits, - or _ / 英数字・-・_ の1〜32文字",
        ));
    }
    input.name = input.name.trim().to_owned();
    if input.name.is_empty() || input.name.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "name",
            "1 to 100 characters / 1〜100文字",
        ));
    }
    if !(1..=100_000).contains(&input.units_per_box) {
        return Err(AppError::invalid_field(
            "unitsPerBox",
            "1 to 100,000 a box / 1箱あたり1〜100,000",
        ));
    }
    let doses_range = if input.kind == ProductKind::Vaccine {
        1..=100
    } else {
        1..=1
    };
    if !doses_range.contains(&input.doses_per_unit) {
        return Err(AppError::invalid_field(
            "dosesPerUnit",
            "a vial holds 1 to 100 doses; a needle or syringe is 1 / 1バイアル1〜100回分（針・シリンジは1）",
        ));
    }
    match (input.kind, &input.manufacturer_id) {
        (ProductKind::Vaccine, None) => {
            return Err(AppError::invalid_field(
                "manufacturerId",
                "a vaccine names its manufacturer / ワクチンには製造販売業者を指定してください",
            ));
        }
        (ProductKind::Needle | ProductKind::Syringe, Some(_)) => {
            return Err(AppError::invalid_field(
                "manufacturerId",
                "needles and syringes name no manufacturer / 針・シリンジには指定しません",
            ));
        }
        _ => {}
    }
    if input.kind != ProductKind::Vaccine && input.minimum_interval_days.is_some() {
        return Err(AppError::invalid_field(
            "minimumIntervalDays",
            "only a vaccine has an interval between doses / 接種間隔はワクチンのみ",
        ));
    }
    if input
        .minimum_interval_days
        .is_some_and(|d| !(0..=365).contains(&d))
    {
        return Err(AppError::invalid_field(
            "minimumIntervalDays",
            "0 to 365 days / 0〜365日",
        ));
    }
    if input.kind != ProductKind::Vaccine && input.dry_ice_refill_days.is_some() {
        return Err(AppError::invalid_field(
            "dryIceRefillDays",
            "only a vaccine ships on dry ice / ドライアイスはワクチンのみ",
        ));
    }
    if input
        .dry_ice_refill_days
        .is_some_and(|d| !(1..=30).contains(&d))
    {
        return Err(AppError::invalid_field(
            "dryIceRefillDays",
            "1 to 30 days / 1〜30日",
        ));
    }
    input.storage = input
        .storage
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if input
        .storage
        .as_ref()
        .is_some_and(|s| s.chars().count() > 200)
    {
        return Err(AppError::invalid_field(
            "storage",
            "at most 200 characters / 200文字以内",
        ));
    }
    Ok(input)
}

/// Creates a product (by a new code) or changes it (by its code), audited, with its event. A
/// refusal is audited too and changes nothing.
pub async fn upsert(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: ProductInput,
) -> AppResult<ProductRecord> {
    let result = upsert_checked(db, meta, actor, input).await;
    audit::record_if_refused(db, meta, actor, "upsertProduct", None, result).await
}

async fn upsert_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: ProductInput,
) -> AppResult<ProductRecord> {
    // The right is decided on the product as it would be, and below on the product as it is:
    // a manufacturer may neither hand its vaccine to another nor take over another's.
    decide(
        Some(actor),
        Action::UpsertProduct,
        Target::Product {
            vaccine: input.kind == ProductKind::Vaccine,
            manufacturer: input.manufacturer_id.as_deref(),
        },
    )?;
    let input = validate(input)?;
    if let Some(manufacturer) = &input.manufacturer_id {
        let found = organizations::load_by_ids(db, std::slice::from_ref(manufacturer))
            .await?
            .remove(manufacturer);
        if found.is_none_or(|m| m.kind() != OrganizationKind::Manufacturer) {
            return Err(AppError::NotFound("manufacturer"));
        }
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let before = by_code(tx.conn(), &input.code).await?;
    let id = match &before {
        Some(product) => {
            decide(
                Some(actor),
                Action::UpsertProduct,
                Target::Product {
                    vaccine: product.kind == ProductKind::Vaccine,
                    manufacturer: product.manufacturer_id.as_deref(),
                },
            )?;
            if input.expected_version.is_some_and(|v| v != product.version) {
                return Err(AppError::Conflict(
                    "the product changed meanwhile: reload it / 他で更新されました".into(),
                ));
            }
            if product.kind != input.kind {
                return Err(AppError::invalid_field(
                    "kind",
                    "a product's kind does not change / 品目の種類は変更できません",
                ));
            }
            sqlx::query(
                "UPDATE products SET name = $2, manufacturer_id = $3, units_per_box = $4, \
                 doses_per_unit = $5, storage = $6, minimum_interval_days = $7, updated_at = $8, \
                 dry_ice_refill_days = $10, version = version + 1 WHERE id = $1 AND version = $9",
            )
            .bind(&product.id)
            .bind(&input.name)
            .bind(&input.manufacturer_id)
            .bind(input.units_per_box)
            .bind(input.doses_per_unit)
            .bind(&input.storage)
            .bind(input.minimum_interval_days)
            .bind(now)
            .bind(product.version)
            .bind(input.dry_ice_refill_days)
            .execute(tx.conn())
            .await?;
            product.id.clone()
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO products (id, code, kind, name, manufacturer_id, units_per_box, \
                 doses_per_unit, storage, minimum_interval_days, dry_ice_refill_days, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10, $10)",
            )
            .bind(&id)
            .bind(&input.code)
            .bind(input.kind)
            .bind(&input.name)
            .bind(&input.manufacturer_id)
            .bind(input.units_per_box)
            .bind(input.doses_per_unit)
            .bind(&input.storage)
            .bind(input.minimum_interval_days)
            .bind(now)
            .bind(input.dry_ice_refill_days)
            .execute(tx.conn())
            .await?;
            id
        }
    };
    let after = by_code(tx.conn(), &input.code)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("upsertProduct", Outcome::Success, Some(actor))
            .object("Product", &id)
            .change(
                before.as_ref().map(ProductRecord::audit_view),
                Some(after.audit_view()),
            ),
    )
    .await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    append(
        &mut tx,
        &NewEvent {
            topic: UPDATED_TOPIC.into(),
            visibility: Visibility::Public,
            organization_id: after.manufacturer_id.clone(),
            payload: json!({
                "productId": after.id, "code": after.code, "kind": after.kind,
                "dosesPerBox": after.doses_per_box(), "version": after.version,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

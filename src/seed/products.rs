//! The product master the demo and the synthetic data load (as in 2021): Pfizer's and
//! Moderna's vaccines, needles and syringes.

use crate::allocation::ProductKind;
use crate::db::{WriteTx, new_id};
use crate::error::AppResult;

/// A product of the demo master.
pub struct DemoProduct {
    code: &'static str,
    kind: ProductKind,
    name: &'static str,
    units_per_box: i64,
    doses_per_unit: i64,
    storage: Option<&'static str>,
    minimum_interval_days: Option<i64>,
    dry_ice_refill_days: Option<i64>,
    /// The manufacturer's code (vaccines only).
    manufacturer: Option<&'static str>,
}

/// The demo's products: the vaccine (made by the demo manufacturer), needles and syringes.
const PRODUCTS: [DemoProduct; 4] = [
    DemoProduct {
        code: "PFIZER",
        kind: ProductKind::Vaccine,
        name: "ファイザー社製ワクチン / Pfizer-BioNTech",
        units_per_box: 195,
        doses_per_unit: 5,
        storage: Some("-90〜-60℃"),
        minimum_interval_days: Some(21),
        // Pfizer's thermal shipping box: re-iced every 5 days, usable for up to 30.
        dry_ice_refill_days: Some(5),
        manufacturer: Some("PFIZER"),
    },
    // Moderna in 2021 (through Takeda): 10 doses a vial, 10 vials a carton, stored frozen at
    // -25〜-15℃ (no dry ice), 28 days between doses.
    DemoProduct {
        code: "MODERNA",
        kind: ProductKind::Vaccine,
        name: "武田/モデルナ社製ワクチン / Moderna (Takeda)",
        units_per_box: 10,
        doses_per_unit: 10,
        storage: Some("-25〜-15℃"),
        minimum_interval_days: Some(28),
        dry_ice_refill_days: None,
        manufacturer: Some("TAKEDA"),
    },
    DemoProduct {
        code: "NEEDLE",
        kind: ProductKind::Needle,
        name: "注射針 / Needles",
        units_per_box: 100,
        doses_per_unit: 1,
        storage: None,
        minimum_interval_days: None,
        dry_ice_refill_days: None,
        manufacturer: None,
    },
    DemoProduct {
        code: "SYRINGE",
        kind: ProductKind::Syringe,
        name: "シリンジ / Syringes",
        units_per_box: 100,
        doses_per_unit: 1,
        storage: None,
        minimum_interval_days: None,
        dry_ice_refill_days: None,
        manufacturer: None,
    },
];

/// Every product's code.
pub const ALL: [&str; 4] = ["PFIZER", "MODERNA", "NEEDLE", "SYRINGE"];

/// Inserts the products named by `codes`; `manufacturer_id` gives the row id of a vaccine's
/// manufacturer from its code (`None` when the data has no such organisation).
pub async fn insert(
    tx: &mut WriteTx,
    codes: &[&str],
    manufacturer_id: impl Fn(&str) -> Option<String>,
) -> AppResult<()> {
    let now = tx.now();
    for product in PRODUCTS.iter().filter(|p| codes.contains(&p.code)) {
        sqlx::query(
            "INSERT INTO products (id, code, kind, name, manufacturer_id, units_per_box, \
             doses_per_unit, storage, minimum_interval_days, dry_ice_refill_days, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(new_id())
        .bind(product.code)
        .bind(product.kind)
        .bind(product.name)
        .bind(product.manufacturer.and_then(&manufacturer_id))
        .bind(product.units_per_box)
        .bind(product.doses_per_unit)
        .bind(product.storage)
        .bind(product.minimum_interval_days)
        .bind(product.dry_ice_refill_days)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

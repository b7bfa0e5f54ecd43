//! What the national synthetic data needs for allocation to run at scale (issue #9's
//! benchmark): the product master, a manufacturer, a contract in force, the vaccine handled and
//! a weekly capacity for every facility, cool 1 with its supply, and desired quantities.
//! Special venues get no doctors, so about a tenth of the facilities are ineligible, as in life.

use sqlx::AssertSqlSafe;

use crate::db::{Db, new_id, placeholders};
use crate::error::AppResult;
use crate::organizations::{FacilityType, NewFacility, NewOrganization, OrganizationKind, store};

/// The cool the synthetic data opens (2021-05-10, three weeks, default deadlines).
pub const COOL_NUMBER: i64 = 1;
/// The national supply of cool 1: 40,000 boxes of vaccine (39,000,000 doses), needles and
/// syringes for every dose.
pub const VACCINE_BOXES: i64 = 40_000;

const BATCH: usize = 500;

/// Loads the allocation masters for `facilities` (just inserted by the national seed).
pub async fn seed(
    db: &Db,
    facilities: &[NewOrganization],
    mut unit: impl FnMut() -> f64,
) -> AppResult<()> {
    let manufacturer = new_id();
    store::insert_all(
        db,
        &[NewOrganization {
            id: manufacturer.clone(),
            kind: OrganizationKind::Manufacturer,
            code: "PFIZER".into(),
            name: "ファイザー株式会社".into(),
            name_kana: None,
            name_romaji: Some("Pfizer Japan Inc.".into()),
            parent_id: None,
            prefecture_id: None,
            municipality_id: None,
            facility: None,
        }],
    )
    .await?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    super::products::insert(&mut tx, &["PFIZER", "NEEDLE", "SYRINGE"], |code| {
        (code == "PFIZER").then(|| manufacturer.clone())
    })
    .await?;
    let ids: std::collections::HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT code, id FROM products")
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .collect();
    let (vaccine, needle, syringe) = (&ids["PFIZER"], &ids["NEEDLE"], &ids["SYRINGE"]);
    let cool = new_id();
    sqlx::query(
        "INSERT INTO cools (id, number, product_id, starts_on, ends_on, desired_quantity_deadline, \
         nation_allocation_deadline, prefecture_allocation_deadline, municipality_allocation_deadline, \
         data_lock_deadline, created_at, updated_at) VALUES ($1, $2, $3, '2021-05-10', '2021-05-30', \
         '2021-05-12', '2021-05-14', '2021-05-16', '2021-05-21', '2021-05-23', $4, $4)",
    )
    .bind(&cool)
    .bind(COOL_NUMBER)
    .bind(vaccine)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let doses = VACCINE_BOXES * 195 * 5;
    for (product, supplier, boxes) in [
        (vaccine, &manufacturer, VACCINE_BOXES),
        (needle, &manufacturer, doses / 100),
        (syringe, &manufacturer, doses / 100),
    ] {
        sqlx::query(
            "INSERT INTO supplies (id, cool_id, product_id, supplier_id, boxes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(&cool)
        .bind(product)
        .bind(supplier)
        .bind(boxes)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let with_facility: Vec<(&str, &NewFacility)> = facilities
        .iter()
        .filter_map(|f| f.facility.as_ref().map(|d| (f.id.as_str(), d)))
        .collect();
    for chunk in with_facility.chunks(BATCH) {
        // A contract in force for everyone.
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, 'INDIVIDUAL', '2021-02-15', $1, $1)",
                    2 + 2 * i,
                    3 + 2 * i
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO contracts (id, facility_id, kind, join_date, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
        for (id, _) in chunk {
            query = query.bind(new_id()).bind(*id);
        }
        query.execute(tx.conn()).await?;
        // A desired quantity for cool 1.
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $1, $2)", placeholders(3 + 3 * i, 3)))
            .collect();
        let sql = format!(
            "INSERT INTO desired_quantities (id, facility_id, boxes, created_at, updated_at, cool_id) \
             VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now).bind(&cool);
        for (id, _) in chunk {
            query = query.bind(new_id()).bind(*id).bind((unit() * 4.0) as i64);
        }
        query.execute(tx.conn()).await?;
    }
    // The vaccine handled, and a weekly capacity by type (a clinic 150, a hospital 600, a
    // special venue 1,500 doses).
    sqlx::query(
        "UPDATE facilities SET vaccines_handled = '[\"PFIZER\"]', weekly_capacity = \
         CASE facility_type WHEN $1 THEN 150 WHEN $2 THEN 600 ELSE 1500 END",
    )
    .bind(FacilityType::Clinic.as_db())
    .bind(FacilityType::Hospital.as_db())
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

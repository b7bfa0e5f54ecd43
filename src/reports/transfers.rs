//! Stock transfers (`transferStock`): doses moved from one facility to another, e.g. from a
//! basic-type facility to its satellite (seed p. 26: the satellite is supplied through it). The
//! sender enters it (to its satellites or its basic-type facility; the municipality between
//! any of its facilities), never more than it holds.

use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::allocation::products::{self, ProductKind};
use crate::allocation::stock as ledger;
use crate::audit::{self, Entry, Outcome};
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::codes::past_day;
use crate::facilities::{may_edit, may_see};
use crate::organizations::{OrganizationKind, store as organizations};

/// Doses moved between facilities (both facilities' areas see it).
pub const TRANSFERRED_TOPIC: &str = "stock.transferred";

/// A transfer as entered.
pub struct NewTransfer<'a> {
    pub from_facility_id: &'a str,
    pub to_facility_id: &'a str,
    pub product_code: &'a str,
    pub doses: i64,
    pub transferred_on: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Records a transfer; returns the sender's stock on hand after it. Audited, with events.
pub async fn transfer(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewTransfer<'_>,
) -> AppResult<i64> {
    let result = transfer_checked(db, meta, actor, &new).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "transferStock",
        Some(new.from_facility_id),
        result,
    )
    .await
}

async fn transfer_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewTransfer<'_>,
) -> AppResult<i64> {
    let load = |id: &str| {
        let id = id.to_owned();
        async move {
            organizations::load(db.pool(), &id)
                .await
                .map(|o| o.filter(|f| f.kind() == OrganizationKind::Facility))
        }
    };
    let from = load(new.from_facility_id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    may_edit(actor, &from)?;
    let to = load(new.to_facility_id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    // A facility hands doses to its satellites or back to its basic-type facility; its
    // municipality moves them between any of its facilities. Others are not found.
    let linked = to.basic_facility_id.as_deref() == Some(from.id.as_str())
        || from.basic_facility_id.as_deref() == Some(to.id.as_str());
    if !linked {
        may_see(Some(actor), &to).map_err(|_| AppError::NotFound("facility"))?;
    }
    if from.id == to.id || from.municipality_id != to.municipality_id {
        return Err(AppError::invalid_field(
            "toFacilityId",
            "another facility of the same municipality / 同じ市区町村の別の施設を指定してください",
        ));
    }
    let product = products::by_code(db.pool(), new.product_code.trim().to_uppercase().as_str())
        .await?
        .filter(|p| p.kind == ProductKind::Vaccine)
        .ok_or_else(products::unknown_code)?;
    if !(1..=10_000_000).contains(&new.doses) {
        return Err(AppError::invalid_field(
            "doses",
            "1 to 10,000,000 doses / 1〜10,000,000回分",
        ));
    }
    let day = past_day(
        "transferredOn",
        new.transferred_on,
        &db.clock().today_in_japan(),
    )?;
    let note = new.note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::invalid_field(
            "note",
            "at most 500 characters / 500文字以内",
        ));
    }
    let mut tx = db.begin_write().await?;
    // Read inside the write transaction: on SQLite the single writer, on PostgreSQL the sender's
    // concurrent transfers serialise on the facility row below.
    sqlx::query("UPDATE organizations SET version = version WHERE id = $1")
        .bind(&from.id)
        .execute(tx.conn())
        .await?;
    let on_hand = ledger::ledger_of(db, &from.id, &product.id)
        .await?
        .on_hand();
    if new.doses > on_hand {
        return Err(AppError::invalid_field(
            "doses",
            format!("more than the {on_hand} doses on hand / 在庫（{on_hand}回分）を超えています"),
        ));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO stock_transfers (id, product_id, from_facility_id, to_facility_id, doses, \
         transferred_on, note, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&product.id)
    .bind(&from.id)
    .bind(&to.id)
    .bind(new.doses)
    .bind(&day)
    .bind(note)
    .bind(&actor.user_id)
    .bind(tx.now())
    .execute(tx.conn())
    .await?;
    let view = json!({
        "product": product.code, "doses": new.doses, "from": from.id, "to": to.id,
        "transferredOn": day,
    });
    audit::record(
        &mut tx,
        meta,
        Entry::new("transferStock", Outcome::Success, Some(actor))
            .object("StockTransfer", &id)
            .organization(&from.id)
            .change(None, Some(view.clone())),
    )
    .await?;
    for facility in [&from.id, &to.id] {
        append(
            &mut tx,
            &NewEvent {
                topic: TRANSFERRED_TOPIC.into(),
                visibility: Visibility::Restricted,
                organization_id: Some(facility.clone()),
                payload: view.clone(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(on_hand - new.doses)
}

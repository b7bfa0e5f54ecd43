//! Putting a month's summary together from the database: the claim (or attendance's draft),
//! the fee table in force, the paying municipalities and their routes.

use std::collections::BTreeMap;

use super::claims::{self, Month};
use super::fees;
use super::summary::{self, Header, Payer, Summary};
use crate::actor::Actor;
use crate::db::{Db, placeholders};
use crate::error::AppResult;
use crate::organizations::store as orgs;

/// The summary of `facility_id`'s `month`, for an actor with the billing right.
pub async fn summary_of(
    db: &Db,
    actor: &Actor,
    facility_id: &str,
    month: &Month,
) -> AppResult<Summary> {
    let facility = claims::facility(db, actor, facility_id).await?;
    let (claim, lines) = claims::lines_for_summary(db, facility_id, month).await?;
    let fees = fees::for_month(db, &month.text).await?;
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l.paying_municipality_id.as_str())
        .collect();
    let payers = payers(db, &ids).await?;
    let prefecture_name = match &facility.prefecture_id {
        Some(id) => orgs::load(db.pool(), id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let due_on = month.due_on();
    let today = db.clock().japan_date();
    let (status, late) = match &claim {
        Some(claim) if claim.status == "SUBMITTED" => (
            "SUBMITTED",
            claim
                .submitted_at
                .is_some_and(|at| at.instant().to_offset(crate::clock::JST).date() > due_on),
        ),
        Some(_) => ("DRAFT", today > due_on),
        None => ("NOT_SAVED", today > due_on),
    };
    Ok(summary::build(
        Header {
            facility_code: &facility.code,
            facility_name: &facility.name,
            facility_municipality_id: facility.municipality_id.as_deref(),
            prefecture_name: &prefecture_name,
            month: &month.text,
            status,
            due_on: due_on.to_string(),
            late,
        },
        &lines,
        fees,
        &payers,
    ))
}

/// The paying municipalities with the given ids (repeats allowed), by id.
pub async fn payers(db: &Db, ids: &[&str]) -> AppResult<BTreeMap<String, Payer>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut payers = BTreeMap::new();
    if ids.is_empty() {
        return Ok(payers);
    }
    let sql = format!(
        "SELECT id, code, name, claims_via_federation FROM organizations WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query =
        sqlx::query_as::<_, (String, String, String, crate::db::Flag)>(sqlx::AssertSqlSafe(sql));
    for id in &ids {
        query = query.bind(*id);
    }
    for (id, code, name, via) in query.fetch_all(db.pool()).await? {
        payers.insert(
            id.clone(),
            Payer {
                id,
                code,
                name,
                via_federation: via.0,
            },
        );
    }
    Ok(payers)
}

//! Partners see what they serve: the wholesaler delivering to a facility (named by the
//! facility or its municipality, no approval needed) sees its delivery destinations; an
//! aggregator sees its member facilities and records the powers of attorney (委任状) it received
//! from them (seed p. 46, 委任状受領管理).

use crate::clock::Timestamp;
use std::collections::HashMap;

use async_graphql::ErrorExtensions as _;
use async_graphql::dataloader::{DataLoader, Loader};
use serde_json::json;

use super::access::scope_of;
use super::codes::parse_date;
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, Filter, new_id, placeholders};
use crate::error::{AppError, AppResult};
use crate::organizations::{OrganizationKind, OrganizationRecord, store};

async fn load(db: &Db, id: &str) -> AppResult<Option<OrganizationRecord>> {
    Ok(store::load_by_ids(db, &[id.to_owned()]).await?.remove(id))
}

fn facility_target<'a>(
    scope: &'a crate::actor::OrgScope,
    facility: &'a OrganizationRecord,
) -> Target<'a> {
    Target::Facility {
        scope,
        proxy_input: facility.proxy_input(),
        operator: facility.operating_municipality_id.as_deref(),
    }
}

/// The wholesaler delivering to a facility (its organisation id), if one is named.
pub async fn delivering_wholesaler(db: &Db, facility_id: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT delivering_wholesaler_id FROM facilities WHERE organization_id = $1",
    )
    .bind(facility_id)
    .fetch_optional(db.pool())
    .await?
    .flatten())
}

/// Batches the delivering-wholesaler look-ups of a list of facilities into one statement per
/// 500 facilities. Uncached: it never serves an old value.
pub struct DeliveringWholesalerLoader {
    db: Db,
}

impl DeliveringWholesalerLoader {
    pub fn shared(db: Db) -> DataLoader<Self> {
        DataLoader::new(DeliveringWholesalerLoader { db }, tokio::spawn)
    }
}

impl Loader<String> for DeliveringWholesalerLoader {
    /// The wholesaler's organisation id; facilities naming none are absent.
    type Value = String;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, String>, Self::Error> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT organization_id, delivering_wholesaler_id FROM facilities \
                 WHERE delivering_wholesaler_id IS NOT NULL AND organization_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query
                .fetch_all(self.db.pool())
                .await
                .map_err(|e| AppError::from(e).extend())?;
            found.extend(rows);
        }
        Ok(found)
    }
}

/// Names (or, with `None`, clears) the wholesaler delivering to a facility.
pub async fn set_delivering_wholesaler(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    wholesaler_id: Option<&str>,
) -> AppResult<OrganizationRecord> {
    let facility = load(db, facility_id)
        .await?
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))?;
    let scope = scope_of(&facility);
    decide(
        Some(actor),
        Action::SetDeliveringWholesaler,
        facility_target(&scope, &facility),
    )?;
    if let Some(id) = wholesaler_id {
        let wholesaler = load(db, id).await?;
        if wholesaler.is_none_or(|w| w.kind() != OrganizationKind::Wholesaler) {
            return Err(AppError::invalid_field(
                "wholesalerId",
                "not a wholesaler / 卸業者ではありません",
            ));
        }
    }
    let before = delivering_wholesaler(db, &facility.id).await?;
    if before.as_deref() == wholesaler_id {
        return Err(AppError::invalid(
            "nothing to change / 変更内容がありません",
        ));
    }
    let now = db.now();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE facilities SET delivering_wholesaler_id = $2 WHERE organization_id = $1")
        .bind(&facility.id)
        .bind(wholesaler_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE organizations SET updated_at = $2, version = version + 1 WHERE id = $1")
        .bind(&facility.id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let after = store::load(tx.conn(), &facility.id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    let mut entry = Entry::new("setDeliveringWholesaler", Outcome::Success, Some(actor))
        .object("Facility", &facility.id)
        .organization(&facility.id)
        .change(
            Some(json!({ "deliveringWholesaler": before })),
            Some(json!({ "deliveringWholesaler": wholesaler_id })),
        );
    if actor.organization.id != facility.id {
        entry = entry.detail(format!(
            "entered by the municipality {}",
            actor.organization.id
        ));
    }
    audit::record(&mut tx, meta, entry).await?;
    // The facility's area learns of it (`facility.changed`, restricted), as of any change.
    let mut named = serde_json::Map::new();
    named.insert(
        "deliveringWholesalerId".into(),
        json!(
            wholesaler_id
                .map(|id| crate::graphql::ids::global_id("PartnerOrganization", id).to_string())
        ),
    );
    for event in super::events::facility_events(&after, &after, &named) {
        crate::events::append(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// The kinds of organisation that hold collective contracts and receive powers of attorney.
pub const CONTRACT_HOLDERS: &[OrganizationKind] = &[
    OrganizationKind::Aggregator,
    OrganizationKind::MedicalAssociation,
    OrganizationKind::Municipality,
];

/// The partner whose roster is read: `partner_id`, or the actor's own organisation; it must be
/// of one of `kinds`, and the actor may read it (`ReadPartnerRoster`).
pub async fn roster_owner(
    db: &Db,
    actor: &Actor,
    partner_id: Option<&str>,
    kinds: &[OrganizationKind],
    field: &str,
) -> AppResult<OrganizationRecord> {
    let id = partner_id.unwrap_or(&actor.organization.id);
    let partner = load(db, id)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    decide(
        Some(actor),
        Action::ReadPartnerRoster,
        Target::Organization(&scope_of(&partner)),
    )?;
    if !kinds.contains(&partner.kind()) {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_db()).collect();
        return Err(AppError::invalid_field(
            field,
            format!(
                "give the id of a {} / 対象の組織を指定してください",
                names.join(" or ")
            ),
        ));
    }
    Ok(partner)
}

/// One page of facility ids by (code, id), then the facilities themselves.
async fn facility_page(
    db: &Db,
    mut filter: Filter,
    join: &str,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<OrganizationRecord>> {
    if let Some(after) = after {
        filter.and(
            "(o.code, o.id) > (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "SELECT DISTINCT o.id, o.code FROM organizations o {join}{} ORDER BY o.code, o.id LIMIT {limit}",
        filter.where_clause()
    );
    let query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
    let ids: Vec<String> = filter
        .bind(query)
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut found = store::load_by_ids(db, &ids).await?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// The facilities a wholesaler delivers to, by code.
pub async fn delivery_destinations(
    db: &Db,
    wholesaler_id: &str,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<OrganizationRecord>> {
    let mut filter = Filter::default();
    filter.and("f.delivering_wholesaler_id = ?", [wholesaler_id.to_owned()]);
    facility_page(
        db,
        filter,
        "JOIN facilities f ON f.organization_id = o.id",
        after,
        limit,
    )
    .await
}

/// An aggregator's members: facilities with a collective contract it holds that has not ended
/// by `today` (including contracts that start later), by code.
pub async fn member_facilities(
    db: &Db,
    aggregator_id: &str,
    today: &str,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<OrganizationRecord>> {
    let mut filter = Filter::default();
    filter.and(
        "c.aggregator_id = ? AND c.kind = ? AND (c.withdrawal_date IS NULL OR c.withdrawal_date > ?)",
        [
            aggregator_id.to_owned(),
            super::contracts::ContractKind::Collective.as_db().to_owned(),
            today.to_owned(),
        ],
    );
    facility_page(
        db,
        filter,
        "JOIN contracts c ON c.facility_id = o.id",
        after,
        limit,
    )
    .await
}

/// The state of a power of attorney (委任状) an aggregator received.
#[derive(
    async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PowerOfAttorneyStatus {
    /// Received and in order (受領済).
    Received,
    /// Received with a defect, sent back for correction (不備あり).
    Deficient,
    /// Revoked by the facility (撤回).
    Revoked,
}

crate::db_enum!(PowerOfAttorneyStatus);

/// A power of attorney an aggregator received from a facility.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PowerOfAttorneyRecord {
    pub id: String,
    pub aggregator_id: String,
    pub facility_id: String,
    pub received_date: String,
    pub status: PowerOfAttorneyStatus,
    pub note: Option<String>,
    pub updated_at: Timestamp,
    pub version: i64,
}

const POA_COLUMNS: &str = "p.id, p.aggregator_id, p.facility_id, p.received_date, p.status, p.note, p.updated_at, p.version";

impl PowerOfAttorneyRecord {
    fn audit_view(&self) -> serde_json::Value {
        json!({ "receivedDate": self.received_date, "status": self.status, "note": self.note })
    }
}

pub async fn power_of_attorney_by_id(
    db: &Db,
    id: &str,
) -> AppResult<Option<PowerOfAttorneyRecord>> {
    let sql = format!("SELECT {POA_COLUMNS} FROM powers_of_attorney p WHERE p.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

/// What an aggregator records of a power of attorney.
pub struct PowerOfAttorneyInput<'a> {
    pub facility_id: &'a str,
    pub received_date: &'a str,
    pub status: PowerOfAttorneyStatus,
    pub note: Option<&'a str>,
    /// Today in Japan (YYYY-MM-DD): a power of attorney is not received in the future.
    pub today: &'a str,
}

/// Records (or updates: one record per aggregator and facility) a power of attorney the
/// actor's organisation received from a facility.
pub async fn record_power_of_attorney(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: PowerOfAttorneyInput<'_>,
) -> AppResult<PowerOfAttorneyRecord> {
    let facility = load(db, input.facility_id)
        .await?
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))?;
    let scope = scope_of(&facility);
    decide(
        Some(actor),
        Action::RecordPowerOfAttorney,
        facility_target(&scope, &facility),
    )?;
    let received = parse_date("receivedDate", input.received_date)?.to_string();
    if received.as_str() > input.today {
        return Err(AppError::invalid_field(
            "receivedDate",
            "the received date is in the future / 受領日が未来の日付です",
        ));
    }
    let note = input.note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::invalid_field(
            "note",
            "at most 500 characters / 500文字以内で入力してください",
        ));
    }
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let sql = format!(
        "SELECT {POA_COLUMNS} FROM powers_of_attorney p WHERE p.aggregator_id = $1 AND p.facility_id = $2"
    );
    let existing: Option<PowerOfAttorneyRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&actor.organization.id)
        .bind(&facility.id)
        .fetch_optional(tx.conn())
        .await?;
    let id = match &existing {
        Some(found) => {
            sqlx::query(
                "UPDATE powers_of_attorney SET received_date = $2, status = $3, note = $4, recorded_by = $5, \
                 updated_at = $6, version = version + 1 WHERE id = $1",
            )
            .bind(&found.id)
            .bind(&received)
            .bind(input.status)
            .bind(note)
            .bind(&actor.user_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            found.id.clone()
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO powers_of_attorney (id, aggregator_id, facility_id, received_date, status, note, recorded_by, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(&id)
            .bind(&actor.organization.id)
            .bind(&facility.id)
            .bind(&received)
            .bind(input.status)
            .bind(note)
            .bind(&actor.user_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            id
        }
    };
    let sql = format!("SELECT {POA_COLUMNS} FROM powers_of_attorney p WHERE p.id = $1");
    let record: PowerOfAttorneyRecord = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&id)
        .fetch_one(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("recordPowerOfAttorney", Outcome::Success, Some(actor))
            .object("PowerOfAttorney", &id)
            .organization(&facility.id)
            .change(
                existing.as_ref().map(PowerOfAttorneyRecord::audit_view),
                Some(record.audit_view()),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// One page of an aggregator's powers of attorney, by facility code then id.
pub async fn powers_of_attorney(
    db: &Db,
    aggregator_id: &str,
    status: Option<PowerOfAttorneyStatus>,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<(String, PowerOfAttorneyRecord)>> {
    let mut filter = Filter::default();
    filter.and("p.aggregator_id = ?", [aggregator_id.to_owned()]);
    if let Some(status) = status {
        filter.and("p.status = ?", [status.as_db().to_owned()]);
    }
    if let Some(after) = after {
        filter.and(
            "(o.code, p.id) > (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "SELECT o.code AS facility_code, {POA_COLUMNS} FROM powers_of_attorney p JOIN organizations o ON o.id = p.facility_id{} \
         ORDER BY o.code, p.id LIMIT {limit}",
        filter.where_clause()
    );
    let query = sqlx::query_as::<_, ListedPowerOfAttorney>(sqlx::AssertSqlSafe(sql));
    Ok(filter
        .bind(query)
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(|row| {
            (
                row.facility_code,
                PowerOfAttorneyRecord {
                    id: row.id,
                    aggregator_id: row.aggregator_id,
                    facility_id: row.facility_id,
                    received_date: row.received_date,
                    status: row.status,
                    note: row.note,
                    updated_at: row.updated_at,
                    version: row.version,
                },
            )
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ListedPowerOfAttorney {
    facility_code: String,
    id: String,
    aggregator_id: String,
    facility_id: String,
    received_date: String,
    status: PowerOfAttorneyStatus,
    note: Option<String>,
    updated_at: Timestamp,
    version: i64,
}

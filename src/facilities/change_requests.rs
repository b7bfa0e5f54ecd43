//! The change-request state machine (seed p. 28):
//!
//! ```text
//! PENDING (申請中) ──approve──▶ APPROVED (values applied)
//!         └──────reject (reason required)──▶ REJECTED ──revise──▶ PENDING
//! ```
//!
//! One open request per facility (a unique partial index): a second edit while PENDING amends
//! it; an edit after a rejection revises the rejected request. Decisions are conditional
//! updates on (status, version), so of two municipality users deciding at once exactly one
//! wins and the other gets CONFLICT.

use serde_json::{Map, Value, json};

use super::CHANGE_REQUEST_TOPIC;
use super::access::{Acting, may_decide};
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::{Db, WriteTx, new_id, now_utc};
use crate::error::{AppError, AppResult};
use crate::events::{Events, NewEvent, Visibility, append};
use crate::identity::Actor;
use crate::organizations::{OrganizationRecord, store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRequestRecord {
    pub id: String,
    pub facility_id: String,
    pub status: String,
    pub before_values: String,
    pub after_values: String,
    pub requested_by: String,
    pub proxy_organization_id: Option<String>,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub rejection_reason: Option<String>,
    pub version: i64,
}

const COLUMNS: &str = "id, facility_id, status, before_values, after_values, requested_by, proxy_organization_id, \
     requested_at, decided_by, decided_at, rejection_reason, version";

pub async fn by_id(db: &Db, id: &str) -> AppResult<Option<ChangeRequestRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM facility_change_requests WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

async fn by_id_in(tx: &mut WriteTx, id: &str) -> AppResult<Option<ChangeRequestRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM facility_change_requests WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut ***tx)
        .await?)
}

/// The facility's open request, or else its latest rejected one (which an edit revises).
async fn open_or_rejected(
    tx: &mut WriteTx,
    facility_id: &str,
) -> AppResult<Option<ChangeRequestRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM facility_change_requests WHERE facility_id = $1 AND status <> 'APPROVED' \
         ORDER BY CASE status WHEN 'PENDING' THEN 0 ELSE 1 END, requested_at DESC LIMIT 1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .fetch_optional(&mut ***tx)
        .await?)
}

fn event(kind: &str, request: &ChangeRequestRecord) -> NewEvent {
    NewEvent {
        topic: format!("{CHANGE_REQUEST_TOPIC}.{kind}"),
        visibility: Visibility::Restricted,
        organization_id: Some(request.facility_id.clone()),
        payload: json!({ "changeRequestId": request.id, "facilityId": request.facility_id, "status": request.status }),
    }
}

/// Files the requested values: a new request, or an amendment of the open one, or a revision
/// of a rejected one. Runs inside the caller's transaction.
pub async fn submit(
    tx: &mut WriteTx,
    facility: &OrganizationRecord,
    actor: &Actor,
    acting: Acting,
    current: &Map<String, Value>,
    requested: Map<String, Value>,
) -> AppResult<ChangeRequestRecord> {
    let now = now_utc();
    let proxy = (acting == Acting::Proxy).then(|| actor.organization.id.clone());
    let existing = open_or_rejected(tx, &facility.id).await?;
    let (id, kind) = match existing {
        Some(open) => {
            let mut after: Map<String, Value> =
                serde_json::from_str(&open.after_values).unwrap_or_default();
            if open.status == "REJECTED" {
                // A revision starts from the new edit.
                after = Map::new();
            }
            after.extend(requested);
            let before: Map<String, Value> = after
                .keys()
                .map(|k| (k.clone(), current.get(k).cloned().unwrap_or(Value::Null)))
                .collect();
            let kind = if open.status == "PENDING" {
                "amended"
            } else {
                "revised"
            };
            sqlx::query(
                "UPDATE facility_change_requests SET status = 'PENDING', before_values = $2, after_values = $3, \
                 requested_by = $4, proxy_organization_id = $5, requested_at = $6, decided_by = NULL, decided_at = NULL, \
                 rejection_reason = NULL, version = version + 1 WHERE id = $1",
            )
            .bind(&open.id)
            .bind(Value::Object(before).to_string())
            .bind(Value::Object(after).to_string())
            .bind(&actor.user_id)
            .bind(proxy)
            .bind(&now)
            .execute(&mut ***tx)
            .await?;
            (open.id, kind)
        }
        None => {
            let id = new_id();
            let before: Map<String, Value> = requested
                .keys()
                .map(|k| (k.clone(), current.get(k).cloned().unwrap_or(Value::Null)))
                .collect();
            sqlx::query(
                "INSERT INTO facility_change_requests (id, facility_id, status, before_values, after_values, requested_by, \
                 proxy_organization_id, requested_at) VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7)",
            )
            .bind(&id)
            .bind(&facility.id)
            .bind(Value::Object(before).to_string())
            .bind(Value::Object(requested).to_string())
            .bind(&actor.user_id)
            .bind(proxy)
            .bind(&now)
            .execute(&mut ***tx)
            .await?;
            (id, "submitted")
        }
    };
    let record = by_id_in(tx, &id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    append(tx, &event(kind, &record)).await?;
    Ok(record)
}

/// A decision on a request.
pub enum Decision {
    Approve,
    Reject(String),
}

/// Approves (applying the values) or rejects a PENDING request.
pub async fn decide(
    db: &Db,
    events: &Events,
    meta: &RequestMeta,
    actor: &Actor,
    request_id: &str,
    decision: Decision,
) -> AppResult<ChangeRequestRecord> {
    let request = by_id(db, request_id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    let facility = store::load_by_ids(db, std::slice::from_ref(&request.facility_id))
        .await?
        .remove(&request.facility_id)
        .ok_or(AppError::NotFound("change request"))?;
    may_decide(actor, &facility)?;
    if request.requested_by == actor.user_id {
        return Err(AppError::Forbidden);
    }
    let reason = match &decision {
        Decision::Reject(reason) => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(AppError::invalid_field(
                    "reason",
                    "a rejection needs a reason of 1 to 500 characters / 却下理由を入力してください",
                ));
            }
            Some(reason.to_owned())
        }
        Decision::Approve => None,
    };
    if request.status != "PENDING" {
        return Err(AppError::Conflict(format!(
            "the request is already {} / この申請は処理済みです",
            request.status
        )));
    }
    let now = now_utc();
    let mut tx = db.begin_write().await?;
    let status = if reason.is_some() {
        "REJECTED"
    } else {
        "APPROVED"
    };
    let decided = sqlx::query(
        "UPDATE facility_change_requests SET status = $3, decided_by = $4, decided_at = $5, rejection_reason = $6, \
         version = version + 1 WHERE id = $1 AND version = $2 AND status = 'PENDING'",
    )
    .bind(&request.id)
    .bind(request.version)
    .bind(status)
    .bind(&actor.user_id)
    .bind(&now)
    .bind(reason.clone())
    .execute(&mut **tx)
    .await?;
    if decided.rows_affected() != 1 {
        // Someone decided (or the facility amended the request) in the meantime.
        return Err(AppError::Conflict(
            "the request was decided or amended meanwhile: reload it / 申請が他で更新されました。再読込してください".into(),
        ));
    }
    if status == "APPROVED" {
        let after: Map<String, Value> =
            serde_json::from_str(&request.after_values).unwrap_or_default();
        apply(&mut tx, &facility.id, &after, &now).await?;
    }
    let record = by_id_in(&mut tx, &request.id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    let operation = if status == "APPROVED" {
        "approveFacilityChange"
    } else {
        "rejectFacilityChange"
    };
    audit::record(
        &mut tx,
        meta,
        Entry::new(operation, Outcome::Success, Some(actor))
            .object("FacilityChangeRequest", &request.id)
            .organization(&facility.id)
            .change(
                serde_json::from_str(&request.before_values).ok(),
                serde_json::from_str(&request.after_values).ok(),
            )
            .detail(reason.unwrap_or_else(|| "approved".into())),
    )
    .await?;
    append(&mut tx, &event(&status.to_lowercase(), &record)).await?;
    events.commit(tx).await?;
    Ok(record)
}

/// Writes approved values into the facility (and its collective contract).
async fn apply(
    tx: &mut WriteTx,
    facility_id: &str,
    after: &Map<String, Value>,
    now: &str,
) -> AppResult<()> {
    for (field, value) in after {
        let (sql, bound): (&'static str, Value) = match field.as_str() {
            "medicalInstitutionCode" => (
                "UPDATE organizations SET code = $2 WHERE id = $1",
                value.clone(),
            ),
            "representativeName" => (
                "UPDATE facilities SET representative_name = $2 WHERE organization_id = $1",
                value.clone(),
            ),
            "basicFacilityName" => (
                "UPDATE facilities SET basic_facility_name = $2 WHERE organization_id = $1",
                value.clone(),
            ),
            "vaccinesHandled" => (
                "UPDATE facilities SET vaccines_handled = $2 WHERE organization_id = $1",
                json!(value.to_string()),
            ),
            "proxyInput" => (
                "UPDATE facilities SET proxy_input = $2 WHERE organization_id = $1",
                json!(i64::from(value == &json!(true))),
            ),
            "generalAcceptance" => (
                "UPDATE facilities SET general_acceptance = $2 WHERE organization_id = $1",
                json!(i64::from(value == &json!(true))),
            ),
            "collectiveJoinDate" => (
                "UPDATE contracts SET join_date = $2 WHERE id = (SELECT id FROM contracts WHERE facility_id = $1 AND kind = 'COLLECTIVE' ORDER BY join_date DESC LIMIT 1)",
                value.clone(),
            ),
            "collectiveWithdrawalDate" => (
                "UPDATE contracts SET withdrawal_date = $2 WHERE id = (SELECT id FROM contracts WHERE facility_id = $1 AND kind = 'COLLECTIVE' ORDER BY join_date DESC LIMIT 1)",
                value.clone(),
            ),
            _ => continue,
        };
        let query = sqlx::query(sql).bind(facility_id);
        let query = match bound {
            Value::String(s) => query.bind(s),
            Value::Number(n) => query.bind(n.as_i64()),
            _ => query.bind(None::<String>),
        };
        query.execute(&mut ***tx).await?;
    }
    sqlx::query("UPDATE organizations SET updated_at = $2, version = version + 1 WHERE id = $1")
        .bind(facility_id)
        .bind(now)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Requests of facilities in `facility_ids`' scope, newest first.
pub struct ListFilter {
    pub status: Option<String>,
    pub facility_id: Option<String>,
    /// The area condition: a column of the facility (`prefecture_id` / `municipality_id` /
    /// `id`) and its value; `None` for the whole country.
    pub area: Option<(&'static str, String)>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn list(
    db: &Db,
    filter: &ListFilter,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<ChangeRequestRecord>> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut push = |sql: &str, value: String, binds: &mut Vec<String>| {
        binds.push(value);
        conditions.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(status) = &filter.status {
        push("r.status = ?", status.clone(), &mut binds);
    }
    if let Some(facility) = &filter.facility_id {
        push("r.facility_id = ?", facility.clone(), &mut binds);
    }
    if let Some((column, value)) = &filter.area {
        push(&format!("o.{column} = ?"), value.clone(), &mut binds);
    }
    if let Some(from) = &filter.from {
        push("r.requested_at >= ?", from.clone(), &mut binds);
    }
    if let Some(to) = &filter.to {
        push("r.requested_at < ?", to.clone(), &mut binds);
    }
    if let Some(after) = after {
        binds.push(after[0].clone());
        binds.push(after[1].clone());
        conditions.push(format!(
            "(r.requested_at, r.id) < (${}, ${})",
            binds.len() - 1,
            binds.len()
        ));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM facility_change_requests r JOIN organizations o ON o.id = r.facility_id{where_clause} \
         ORDER BY r.requested_at DESC, r.id DESC LIMIT {limit}"
    );
    let mut query = sqlx::query_as::<_, ChangeRequestRecord>(sqlx::AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(value);
    }
    Ok(query.fetch_all(db.pool()).await?)
}

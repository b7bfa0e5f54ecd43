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

use crate::clock::Timestamp;
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::CHANGE_REQUEST_TOPIC;
use super::access::{Acting, may_decide};
use super::approval::{ApprovalField, ApprovalValues};
use super::contracts::ContractKind;
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::{Db, Exec, Filter, Flag, JsonText, WriteTx, new_id, placeholders};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::organizations::{ApprovalStatus, OrganizationRecord, store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRequestRecord {
    pub id: String,
    pub facility_id: String,
    pub status: ChangeRequestStatus,
    pub before_values: ApprovalValues,
    pub after_values: ApprovalValues,
    pub requested_by: String,
    /// Everyone who filed or amended any version of the request.
    pub contributors: JsonText<Vec<String>>,
    pub proxy_organization_id: Option<String>,
    pub requested_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub rejection_reason: Option<String>,
    pub version: i64,
}

const COLUMNS: &str = "id, facility_id, status, before_values, after_values, requested_by, contributors, proxy_organization_id, \
     requested_at, decided_by, decided_at, rejection_reason, version";

pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<ChangeRequestRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM facility_change_requests WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The open request of each of these facilities that has one (at most one each: a unique
/// partial index), by facility id.
pub async fn pending_of_many(
    db: &Db,
    facility_ids: &[String],
) -> AppResult<HashMap<String, ChangeRequestRecord>> {
    let mut found = HashMap::with_capacity(facility_ids.len());
    for chunk in facility_ids.chunks(500) {
        let sql = format!(
            "SELECT {COLUMNS} FROM facility_change_requests WHERE status = $1 AND facility_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_as::<_, ChangeRequestRecord>(sqlx::AssertSqlSafe(sql))
            .bind(ChangeRequestStatus::Pending);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for record in query.fetch_all(db.pool()).await? {
            found.insert(record.facility_id.clone(), record);
        }
    }
    Ok(found)
}

/// Sets `facilities.approval_status` from the facility's requests, as they stand in `tx`: the
/// open one (PENDING), else the latest one (REJECTED, or NONE when it was approved), else NONE.
/// Called in the transaction of every filing, withdrawal and decision, so it is never stale.
async fn refresh_approval_status(tx: &mut WriteTx, facility_id: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE facilities SET approval_status = COALESCE((\
             SELECT CASE r.status WHEN $2 THEN $3 ELSE r.status END \
             FROM facility_change_requests r WHERE r.facility_id = $1 \
             ORDER BY CASE r.status WHEN $4 THEN 0 ELSE 1 END, r.requested_at DESC, r.id DESC \
             LIMIT 1), $3) WHERE organization_id = $1",
    )
    .bind(facility_id)
    .bind(ChangeRequestStatus::Approved)
    .bind(ApprovalStatus::Settled)
    .bind(ChangeRequestStatus::Pending)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The facility's latest request, if it is open or rejected (an edit amends or revises it).
/// An older rejection, superseded by a later request, is history and stays as it is.
async fn open_or_rejected(
    tx: &mut WriteTx,
    facility_id: &str,
) -> AppResult<Option<ChangeRequestRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM facility_change_requests WHERE facility_id = $1 \
         ORDER BY CASE status WHEN $2 THEN 0 ELSE 1 END, requested_at DESC, id DESC LIMIT 1"
    );
    let latest: Option<ChangeRequestRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .bind(ChangeRequestStatus::Pending)
        .fetch_optional(tx.conn())
        .await?;
    Ok(latest.filter(|r| r.status != ChangeRequestStatus::Approved))
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
/// of a rejected one. A requested value equal to the current one withdraws that field from the
/// request (and an emptied pending request is withdrawn). Runs inside the caller's transaction;
/// returns `None` when nothing is left to decide.
pub async fn submit(
    tx: &mut WriteTx,
    meta: &RequestMeta,
    facility: &OrganizationRecord,
    actor: &Actor,
    acting: Acting,
    current: &ApprovalValues,
    requested: ApprovalValues,
) -> AppResult<Option<ChangeRequestRecord>> {
    let now = tx.now();
    let proxy = (acting == Acting::Proxy).then(|| actor.organization.id.clone());
    let existing = open_or_rejected(tx, &facility.id).await?;
    let mut after = match &existing {
        Some(open) if open.status == ChangeRequestStatus::Pending => open.after_values.clone(),
        // A revision starts from the new edit.
        _ => ApprovalValues::default(),
    };
    for (field, value) in requested.iter() {
        if current.get(field) == Some(value) {
            after.remove(field);
        } else {
            after.insert(field, value.clone());
        }
    }
    check_contract_dates(current, &after)?;
    let mut before = ApprovalValues::default();
    for field in after.fields() {
        before.insert(field, current.get(field).cloned().unwrap_or(Value::Null));
    }
    let (id, kind) = match existing {
        Some(open) if after.is_empty() => {
            if open.status == ChangeRequestStatus::Pending {
                sqlx::query("DELETE FROM facility_change_requests WHERE id = $1 AND version = $2")
                    .bind(&open.id)
                    .bind(open.version)
                    .execute(tx.conn())
                    .await?;
                refresh_approval_status(tx, &facility.id).await?;
                audit::record(
                    tx,
                    meta,
                    Entry::new("withdrawFacilityChange", Outcome::Success, Some(actor))
                        .object("FacilityChangeRequest", &open.id)
                        .organization(&facility.id)
                        .detail("every field set back to its current value"),
                )
                .await?;
            }
            return Ok(None);
        }
        None if after.is_empty() => return Ok(None),
        Some(open) => {
            // Contributors accumulate over amendments and revisions: whoever put values into
            // any version of this request may not decide it (see `decide`).
            let mut contributors = open.contributors.0.clone();
            if !contributors.contains(&actor.user_id) {
                contributors.push(actor.user_id.clone());
            }
            let kind = if open.status == ChangeRequestStatus::Pending {
                "amended"
            } else {
                "revised"
            };
            // Conditional on what was read: a decision committed meanwhile wins, and this edit
            // is refused instead of reopening a decided request.
            let updated = sqlx::query(
                "UPDATE facility_change_requests SET status = $10, before_values = $3, after_values = $4, \
                 requested_by = $5, contributors = $6, proxy_organization_id = $7, requested_at = $8, decided_by = NULL, \
                 decided_at = NULL, rejection_reason = NULL, version = version + 1 \
                 WHERE id = $1 AND version = $2 AND status = $9",
            )
            .bind(&open.id)
            .bind(open.version)
            .bind(&before)
            .bind(&after)
            .bind(&actor.user_id)
            .bind(JsonText(contributors))
            .bind(proxy)
            .bind(now)
            .bind(open.status)
            .bind(ChangeRequestStatus::Pending)
            .execute(tx.conn())
            .await?;
            if updated.rows_affected() != 1 {
                return Err(AppError::Conflict(
                    "the change request was decided meanwhile: reload it / 申請が他で処理されました".into(),
                ));
            }
            (open.id, kind)
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO facility_change_requests (id, facility_id, status, before_values, after_values, requested_by, \
                 contributors, proxy_organization_id, requested_at) VALUES ($1, $2, $9, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(&facility.id)
            .bind(&before)
            .bind(&after)
            .bind(&actor.user_id)
            .bind(JsonText(vec![actor.user_id.clone()]))
            .bind(proxy)
            .bind(now)
            .bind(ChangeRequestStatus::Pending)
            .execute(tx.conn())
            .await?;
            (id, "submitted")
        }
    };
    refresh_approval_status(tx, &facility.id).await?;
    let record = by_id(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    let operation = match kind {
        "submitted" => "submitFacilityChange",
        "amended" => "amendFacilityChange",
        _ => "reviseFacilityChange",
    };
    let mut entry = Entry::new(operation, Outcome::Success, Some(actor))
        .object("FacilityChangeRequest", &id)
        .organization(&facility.id)
        .change(Some(before.to_api_json()), Some(after.to_api_json()));
    if acting == Acting::Proxy {
        entry = entry.detail(format!(
            "proxy input by {} for the facility",
            actor.organization.id
        ));
    }
    audit::record(tx, meta, entry).await?;
    append(tx, &event(kind, &record)).await?;
    Ok(Some(record))
}

/// The collective contract's dates, as they would be after approval, must stay in order.
fn check_contract_dates(current: &ApprovalValues, after: &ApprovalValues) -> AppResult<()> {
    let date = |field: ApprovalField| {
        after
            .get(field)
            .or_else(|| current.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let (Some(join), Some(withdrawal)) = (
        date(ApprovalField::CollectiveJoinDate),
        date(ApprovalField::CollectiveWithdrawalDate),
    ) && withdrawal < join
    {
        return Err(AppError::invalid_field(
            "collectiveWithdrawalDate",
            "the withdrawal date would fall before the join date / 脱退日が加入日より前になります",
        ));
    }
    Ok(())
}

/// A decision on a request.
pub enum Decision {
    Approve,
    Reject(String),
}

/// Approves (applying the values) or rejects a PENDING request.
pub async fn decide(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    request_id: &str,
    expected_version: Option<i64>,
    decision: Decision,
) -> AppResult<ChangeRequestRecord> {
    let request = by_id(db.pool(), request_id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    let facility = store::load_by_ids(db, std::slice::from_ref(&request.facility_id))
        .await?
        .remove(&request.facility_id)
        .ok_or(AppError::NotFound("change request"))?;
    // Nobody decides a request they contributed to: filed, amended, or filed or amended an
    // earlier version of (a revision keeps the contributors of every version). Having decided
    // an earlier version does not count: the reviewer who rejected it may decide the revision.
    let contributors = &request.contributors.0;
    let refusal = match may_decide(actor, &facility) {
        Err(error) => Some((error, "not the facility's deciding municipality")),
        Ok(())
            if request.requested_by == actor.user_id || contributors.contains(&actor.user_id) =>
        {
            Some((
                AppError::Forbidden,
                "a contributor to this request (any version) may not decide it",
            ))
        }
        Ok(()) => None,
    };
    let operation = match decision {
        Decision::Approve => "approveFacilityChange",
        Decision::Reject(_) => "rejectFacilityChange",
    };
    if let Some((error, why)) = refusal {
        audit::record_alone(
            db,
            meta,
            Entry::new(operation, Outcome::Denied, Some(actor))
                .object("FacilityChangeRequest", &request.id)
                .organization(&facility.id)
                .detail(why),
        )
        .await?;
        return Err(error);
    }
    // A stale version, a missing reason or a request already decided is refused, and the
    // refusal is audited like every other.
    let checked = check_decision(&request, expected_version, &decision);
    let reason = match checked {
        Ok(reason) => reason,
        Err(error) => {
            crate::audit::record_refusal(db, meta, actor, operation, Some(&facility.id), &error)
                .await?;
            return Err(error);
        }
    };
    let outcome = write_decision(db, meta, actor, &request, &facility, reason).await;
    if let Err(error @ AppError::Conflict(_)) = &outcome {
        crate::audit::record_refusal(db, meta, actor, operation, Some(&facility.id), error).await?;
    }
    outcome
}

/// What must hold before a decision is written: the version the decider read, a reason for a
/// rejection, and a request still waiting. Returns the rejection reason, if any.
fn check_decision(
    request: &ChangeRequestRecord,
    expected_version: Option<i64>,
    decision: &Decision,
) -> AppResult<Option<String>> {
    if expected_version.is_some_and(|v| v != request.version) {
        return Err(AppError::Conflict(
            "the request changed since you read it: reload it / 申請が更新されています。再読込してください".into(),
        ));
    }
    let reason = match decision {
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
    if request.status != ChangeRequestStatus::Pending {
        return Err(AppError::Conflict(format!(
            "the request is already {} / この申請は処理済みです",
            request.status
        )));
    }
    Ok(reason)
}

/// Writes the decision, the approved values, the audit row and the events in one transaction.
async fn write_decision(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    request: &ChangeRequestRecord,
    facility: &OrganizationRecord,
    reason: Option<String>,
) -> AppResult<ChangeRequestRecord> {
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let status = if reason.is_some() {
        ChangeRequestStatus::Rejected
    } else {
        ChangeRequestStatus::Approved
    };
    let decided = sqlx::query(
        "UPDATE facility_change_requests SET status = $3, decided_by = $4, decided_at = $5, rejection_reason = $6, \
         version = version + 1 WHERE id = $1 AND version = $2 AND status = $7",
    )
    .bind(&request.id)
    .bind(request.version)
    .bind(status)
    .bind(&actor.user_id)
    .bind(now)
    .bind(reason.clone())
    .bind(ChangeRequestStatus::Pending)
    .execute(tx.conn())
    .await?;
    if decided.rows_affected() != 1 {
        // Someone decided (or the facility amended the request) in the meantime.
        return Err(AppError::Conflict(
            "the request was decided or amended meanwhile: reload it / 申請が他で更新されました。再読込してください".into(),
        ));
    }
    // The approved values reach the facility's events: the public ones only now.
    let mut facility_events = Vec::new();
    if status == ChangeRequestStatus::Approved {
        let after = &request.after_values;
        let before_row = store::load(tx.conn(), &facility.id)
            .await?
            .ok_or(AppError::NotFound("change request"))?;
        apply(&mut tx, &facility.id, after, &now).await?;
        let after_row = store::load(tx.conn(), &facility.id)
            .await?
            .ok_or(AppError::NotFound("change request"))?;
        // The contract's dates are not facility columns: the event names them as the API does.
        let contract: Map<String, Value> = after
            .iter()
            .filter(|(field, _)| {
                matches!(
                    field,
                    ApprovalField::CollectiveJoinDate | ApprovalField::CollectiveWithdrawalDate
                )
            })
            .map(|(field, value)| (field.api_name().to_owned(), value.clone()))
            .collect();
        facility_events = super::events::facility_events(&before_row, &after_row, &contract);
    }
    refresh_approval_status(&mut tx, &facility.id).await?;
    let record = by_id(tx.conn(), &request.id)
        .await?
        .ok_or(AppError::NotFound("change request"))?;
    let operation = if status == ChangeRequestStatus::Approved {
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
                Some(request.before_values.to_api_json()),
                Some(request.after_values.to_api_json()),
            )
            .detail(reason.unwrap_or_else(|| "approved".into())),
    )
    .await?;
    append(&mut tx, &event(&status.as_db().to_lowercase(), &record)).await?;
    for event in &facility_events {
        append(&mut tx, event).await?;
    }
    if status == ChangeRequestStatus::Approved {
        super::contracts::append_approved_date_change(&mut tx, &facility.id, &request.after_values)
            .await?;
    }
    tx.commit().await?;
    Ok(record)
}

/// Writes approved values into the facility (and its collective contract).
async fn apply(
    tx: &mut WriteTx,
    facility_id: &str,
    after: &ApprovalValues,
    now: &Timestamp,
) -> AppResult<()> {
    let flag = |field| after.get(field).map(|v| Flag(v == &Value::Bool(true)));
    // Every field is named here, so a new approval field cannot be forgotten.
    for field in after.fields() {
        match field {
            ApprovalField::MedicalInstitutionCode => {
                sqlx::query("UPDATE organizations SET code = $2 WHERE id = $1")
                    .bind(facility_id)
                    .bind(after.text(field))
                    .execute(tx.conn())
                    .await?;
            }
            ApprovalField::RepresentativeName => {
                sqlx::query(
                    "UPDATE facilities SET representative_name = $2 WHERE organization_id = $1",
                )
                .bind(facility_id)
                .bind(after.text(field))
                .execute(tx.conn())
                .await?;
            }
            ApprovalField::VaccinesHandled => {
                let vaccines = after.get(field).map(Value::to_string);
                sqlx::query(
                    "UPDATE facilities SET vaccines_handled = $2 WHERE organization_id = $1",
                )
                .bind(facility_id)
                .bind(vaccines)
                .execute(tx.conn())
                .await?;
            }
            ApprovalField::ProxyInput => {
                sqlx::query("UPDATE facilities SET proxy_input = $2 WHERE organization_id = $1")
                    .bind(facility_id)
                    .bind(flag(field))
                    .execute(tx.conn())
                    .await?;
            }
            ApprovalField::GeneralAcceptance => {
                sqlx::query(
                    "UPDATE facilities SET general_acceptance = $2 WHERE organization_id = $1",
                )
                .bind(facility_id)
                .bind(flag(field))
                .execute(tx.conn())
                .await?;
            }
            // Written together below: each pair is one statement.
            ApprovalField::CollectiveJoinDate
            | ApprovalField::CollectiveWithdrawalDate
            | ApprovalField::SupplyType
            | ApprovalField::BasicFacility => {}
        }
    }
    apply_supply(tx, facility_id, after).await?;
    // Both contract dates in one statement, so moving both never passes through an order the
    // CHECK constraint refuses.
    let join = after.text(ApprovalField::CollectiveJoinDate);
    let withdrawal = after.text(ApprovalField::CollectiveWithdrawalDate);
    if join.is_some() || withdrawal.is_some() {
        sqlx::query(
            "UPDATE contracts SET join_date = COALESCE($2, join_date), withdrawal_date = COALESCE($3, withdrawal_date), \
             updated_at = $4 WHERE id = (SELECT id FROM contracts WHERE facility_id = $1 AND kind = $5 \
             ORDER BY join_date DESC LIMIT 1)",
        )
        .bind(facility_id)
        .bind(join)
        .bind(withdrawal)
        .bind(now)
        .bind(ContractKind::Collective)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("UPDATE organizations SET updated_at = $2, version = version + 1 WHERE id = $1")
        .bind(facility_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Writes an approved supply type and basic-type facility in one statement (the CHECK pairs
/// them), after checking that the basic-type facility still qualifies: it may have become a
/// satellite, or this facility may have gained satellites, since the request was filed.
async fn apply_supply(
    tx: &mut WriteTx,
    facility_id: &str,
    after: &ApprovalValues,
) -> AppResult<()> {
    let supply = after.text(ApprovalField::SupplyType);
    let basic = after.get(ApprovalField::BasicFacility);
    if supply.is_none() && basic.is_none() {
        return Ok(());
    }
    let basic_row = basic.and_then(super::approval::basic_facility_row);
    let facility = store::load(tx.conn(), facility_id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    let final_basic = match basic {
        Some(_) => basic_row.clone(),
        None => facility.basic_facility_id.clone(),
    };
    if let Some(row) = &final_basic {
        let target = store::load(tx.conn(), row).await?;
        let qualifies = target.is_some_and(|t| {
            t.supply() == crate::organizations::SupplyType::Basic
                && t.prefecture_id == facility.prefecture_id
                && t.id != facility.id
        });
        let satellites: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE basic_facility_id = $1")
                .bind(facility_id)
                .fetch_one(tx.conn())
                .await?;
        if !qualifies || satellites > 0 {
            return Err(AppError::Conflict(
                "the basic-type facility no longer qualifies (it became a satellite, or this facility now supplies satellites): reject the request / 基本型接種施設の条件が変わりました".into(),
            ));
        }
    }
    sqlx::query(
        "UPDATE facilities SET supply_type = COALESCE($2, supply_type),          basic_facility_id = CASE WHEN $3 = 1 THEN $4 ELSE basic_facility_id END WHERE organization_id = $1",
    )
    .bind(facility_id)
    .bind(supply)
    .bind(i64::from(basic.is_some()))
    .bind(basic_row)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Requests of facilities in `facility_ids`' scope, newest first.
pub struct ListFilter {
    pub status: Option<ChangeRequestStatus>,
    pub facility_id: Option<String>,
    /// The area condition: a column of the facility (`prefecture_id` / `municipality_id` /
    /// `id`) and its value; `None` for the whole country.
    pub area: Option<(&'static str, String)>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

pub async fn list(
    db: &Db,
    filter: &ListFilter,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<ChangeRequestRecord>> {
    let mut sql_filter = Filter::default();
    if let Some(status) = &filter.status {
        sql_filter.and("r.status = ?", [status.as_db().to_owned()]);
    }
    if let Some(facility) = &filter.facility_id {
        sql_filter.and("r.facility_id = ?", [facility.clone()]);
    }
    if let Some((column, value)) = &filter.area {
        sql_filter.and(&format!("o.{column} = ?"), [value.clone()]);
    }
    if let Some(from) = &filter.from {
        sql_filter.and("r.requested_at >= ?", [from.to_string()]);
    }
    if let Some(to) = &filter.to {
        sql_filter.and("r.requested_at < ?", [to.to_string()]);
    }
    if let Some(after) = after {
        sql_filter.and(
            "(r.requested_at, r.id) < (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM facility_change_requests r JOIN organizations o ON o.id = r.facility_id{} \
         ORDER BY r.requested_at DESC, r.id DESC LIMIT {limit}",
        sql_filter.where_clause()
    );
    let query = sqlx::query_as::<_, ChangeRequestRecord>(sqlx::AssertSqlSafe(sql));
    Ok(sql_filter.bind(query).fetch_all(db.pool()).await?)
}

/// The state of a change request.
#[derive(
    async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChangeRequestStatus {
    /// Waiting for the municipality (申請中).
    Pending,
    /// Approved; the values are applied.
    Approved,
    /// Rejected with a reason; an edit revises it.
    Rejected,
}

crate::db_enum!(ChangeRequestStatus);

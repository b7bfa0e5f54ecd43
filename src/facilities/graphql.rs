//! The GraphQL face of the facility registry.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use super::CHANGE_REQUEST_TOPIC;
use super::access::may_see;
use super::change_requests::{
    self, ChangeRequestRecord, ChangeRequestStatus, Decision, ListFilter,
};
use super::contracts::{self, ContractFilter, ContractKind, ContractRecord, NewContract};
use super::doctors::{self, DoctorCorrection, DoctorRecord};
use super::loader::PendingRequestLoader;
use super::update::{FacilityUpdate, update_facility};
use crate::actor::{Actor, current_actor, request_meta, require_actor};
use crate::audit::{Entry, Outcome, RequestMeta};
use crate::authz::{area_filter, may_receive};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::Events;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};
use crate::organizations::{
    ApprovalStatus, Facility, Municipality, OrganizationNode, OrganizationRecord, load_organization,
};

/// Writes a failed or denied mutation to the audit log (its own change was refused, so the
/// entry stands alone) and passes the result on. Internal errors are logged, not audited as
/// the caller's doing.
pub(super) async fn audited<T>(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    operation: &'static str,
    object: Option<(&'static str, &str)>,
    result: AppResult<T>,
) -> AppResult<T> {
    if let Err(error) = &result {
        let outcome = match error {
            AppError::Internal(_) => return result,
            AppError::Forbidden | AppError::NotFound(_) => Outcome::Denied,
            _ => Outcome::Failure,
        };
        let mut entry = Entry::new(operation, outcome, Some(actor))
            .detail(format!("{}: {error}", error.code()));
        if let Some((object_type, id)) = object {
            entry = entry.object(object_type, id);
        }
        if let Err(audit_error) = crate::audit::record_alone(db, meta, entry).await {
            tracing::error!(
                ?audit_error,
                operation,
                "could not audit a refused mutation"
            );
        }
    }
    result
}

/// One field of a change request, before and after, side by side.
#[derive(SimpleObject)]
pub struct FieldChange {
    /// The field, e.g. "representativeName".
    pub field: String,
    /// Its value when the request was filed.
    pub before: Json<Value>,
    /// The requested value.
    pub after: Json<Value>,
}

pub struct FacilityChangeRequest(pub ChangeRequestRecord);

/// A request to change a facility's approval fields, decided by its municipality.
#[Object]
impl FacilityChangeRequest {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("FacilityChangeRequest", &self.0.id)
    }
    /// The facility concerned.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }
    /// Pending, approved or rejected.
    async fn status(&self) -> ChangeRequestStatus {
        self.0.status
    }
    /// The requested changes, before and after, field by field.
    async fn changes(&self) -> Vec<FieldChange> {
        let before = &self.0.before_values;
        self.0
            .after_values
            .iter()
            .map(|(field, value)| FieldChange {
                field: field.api_name().to_owned(),
                before: Json(before.get(field).cloned().unwrap_or(Value::Null)),
                after: Json(value.clone()),
            })
            .collect()
    }
    /// When it was filed (or last amended).
    async fn requested_at(&self) -> Timestamp {
        self.0.requested_at
    }
    /// The organisation that entered it for the facility (代行入力), if any.
    async fn proxy_organization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        match &self.0.proxy_organization_id {
            Some(id) => Ok(load_organization(ctx, id)
                .await?
                .map(OrganizationNode::from)),
            None => Ok(None),
        }
    }
    /// When it was decided.
    async fn decided_at(&self) -> Option<Timestamp> {
        self.0.decided_at
    }
    /// Why it was rejected.
    async fn rejection_reason(&self) -> Option<&str> {
        self.0.rejection_reason.as_deref()
    }
    /// Grows with every change; pass it as `expectedVersion` to decide on what you saw.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

pub struct Contract(pub ContractRecord);

/// A vaccination contract (ワクチン接種契約).
#[Object]
impl Contract {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("Contract", &self.0.id)
    }
    /// The facility.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }
    /// Individual or collective.
    async fn kind(&self) -> ContractKind {
        if self.0.kind == ContractKind::Collective {
            ContractKind::Collective
        } else {
            ContractKind::Individual
        }
    }
    /// The aggregator holding a collective contract.
    async fn aggregator(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        match &self.0.aggregator_id {
            Some(id) => Ok(load_organization(ctx, id)
                .await?
                .map(OrganizationNode::from)),
            None => Ok(None),
        }
    }
    /// Join date (集合契約加入日), YYYY-MM-DD.
    async fn join_date(&self) -> &str {
        &self.0.join_date
    }
    /// Withdrawal date (集合契約脱退日), YYYY-MM-DD.
    async fn withdrawal_date(&self) -> Option<&str> {
        self.0.withdrawal_date.as_deref()
    }
    /// The municipality an individual contract is made with (its counterpart); null for a
    /// collective contract, which the aggregator holds.
    async fn counterpart_municipality(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Municipality>> {
        match &self.0.counterpart_municipality_id {
            Some(id) => Ok(load_organization(ctx, id).await?.map(Municipality)),
            None => Ok(None),
        }
    }
    /// Whether the contract is in force today (Japan time).
    async fn current(&self, ctx: &Context<'_>) -> bool {
        self.0
            .is_current(&ctx.data_unchecked::<Db>().clock().today_in_japan())
    }
}

/// A doctor's role at a facility.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DoctorRole {
    /// ワクチン接種の責任者.
    Responsible,
    /// 接種担当医.
    Vaccinating,
}

pub struct Doctor(pub DoctorRecord);

/// A doctor registered at a facility.
#[Object]
impl Doctor {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("Doctor", &self.0.id)
    }
    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Medical register number (医籍登録番号), six digits.
    async fn licence_number(&self) -> &str {
        &self.0.licence_number
    }
    /// The doctor's roles here.
    async fn roles(&self) -> Vec<DoctorRole> {
        let mut roles = Vec::new();
        if self.0.is_responsible {
            roles.push(DoctorRole::Responsible);
        }
        if self.0.is_vaccinating {
            roles.push(DoctorRole::Vaccinating);
        }
        roles
    }
    /// The day from which the doctor is withdrawn (YYYY-MM-DD), if withdrawn.
    async fn withdrawal_date(&self) -> Option<&str> {
        self.0.withdrawal_date.as_deref()
    }
    /// Whether the doctor counts today (Japan time): not withdrawn, or withdrawn from a later
    /// day.
    async fn active(&self, ctx: &Context<'_>) -> bool {
        self.0
            .is_active(&ctx.data_unchecked::<Db>().clock().today_in_japan())
    }
}

/// Corrections to a registered doctor. Leave out what does not change.
#[derive(InputObject)]
pub struct UpdateDoctorInput {
    /// Full name.
    pub name: Option<String>,
    /// Medical register number (医籍登録番号), up to six digits.
    pub licence_number: Option<String>,
    /// The roles as they should be (replacing the current ones; at least one).
    pub roles: Option<Vec<DoctorRole>>,
}

/// What `updateFacility` did.
pub struct UpdateFacilityPayload {
    facility: OrganizationRecord,
    change_request: Option<ChangeRequestRecord>,
}

/// The facility as it is now, and the change request its approval fields went into.
#[Object]
impl UpdateFacilityPayload {
    /// The facility with the immediate changes applied.
    async fn facility(&self) -> Facility {
        Facility(self.facility.clone())
    }
    /// The pending request for the approval fields, if any were changed.
    async fn change_request(&self) -> Option<FacilityChangeRequest> {
        self.change_request.clone().map(FacilityChangeRequest)
    }
}

/// One contract to register.
#[derive(InputObject)]
pub struct RegisterContractInput {
    /// The facility's medical-institution code.
    pub facility_code: String,
    /// Individual, or collective through the caller's organisation.
    pub kind: ContractKind,
    /// Join date, YYYY-MM-DD.
    pub join_date: String,
    /// Withdrawal date, YYYY-MM-DD, if already known.
    pub withdrawal_date: Option<String>,
    /// An individual contract's counterpart municipality, by six-digit local-government code
    /// (default: the facility's own municipality). Not given for a collective contract.
    pub municipality_code: Option<String>,
}

/// Which contracts to list.
#[derive(InputObject, Default)]
pub struct ContractListFilter {
    /// Only this facility's contracts.
    pub facility_id: Option<ID>,
    /// Only contracts held through this aggregator.
    pub aggregator_id: Option<ID>,
    /// Only contracts of this kind.
    pub kind: Option<ContractKind>,
    /// Only contracts in force today, Japan time (true), or only those not in force (false).
    pub in_force: Option<bool>,
}

/// Which change requests to list.
#[derive(InputObject, Default)]
pub struct FacilityChangeRequestFilter {
    /// Only requests in this state.
    pub status: Option<ChangeRequestStatus>,
    /// Only this facility's requests.
    pub facility_id: Option<ID>,
    /// Filed at or after this instant.
    pub from: Option<Timestamp>,
    /// Filed before this instant.
    pub to: Option<Timestamp>,
}

#[derive(Default)]
pub struct FacilityQuery;

#[Object]
impl FacilityQuery {
    /// Change requests of the facilities in the caller's area, newest first: the
    /// municipality's approval queue, the facility's own requests.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn facility_change_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which requests to list.")] filter: Option<FacilityChangeRequestFilter>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, FacilityChangeRequest>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("facilityChangeRequests", first, after, 2)?;
        let filter = filter.unwrap_or_default();
        let list_filter = ListFilter {
            status: filter.status,
            facility_id: filter
                .facility_id
                .as_ref()
                .map(|id| row_of(id, &["Facility"], "facility"))
                .transpose()?,
            area: area_filter(actor).column(),
            from: filter.from,
            to: filter.to,
        };
        let rows = change_requests::list(
            ctx.data_unchecked::<Db>(),
            &list_filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let (rows, has_next) = split_page(rows, &page);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| {
            let cursor = page.cursor(&[&row.requested_at.to_string(), &row.id]);
            Edge::new(cursor, FacilityChangeRequest(row))
        }));
        Ok(connection)
    }

    /// Contracts the caller may see — of facilities in its area, held through its
    /// organisation, or made with it as counterpart municipality — by facility code.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which contracts to list.")] filter: Option<ContractListFilter>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Contract>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("contracts", first, after, 2)?;
        let filter = filter.unwrap_or_default();
        let aggregator_id = filter
            .aggregator_id
            .as_ref()
            .map(|id| row_of(id, ORGANIZATION_TYPES, "aggregator"))
            .transpose()?;
        let list_filter = ContractFilter {
            facility_id: filter
                .facility_id
                .as_ref()
                .map(|id| row_of(id, &["Facility"], "facility"))
                .transpose()?,
            aggregator_id,
            kind: filter.kind,
            in_force: filter.in_force,
            today: ctx.data_unchecked::<Db>().clock().today_in_japan(),
        };
        let rows = contracts::list(
            ctx.data_unchecked::<Db>(),
            actor,
            &list_filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let (rows, has_next) = split_page(rows, &page);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection
            .edges
            .extend(rows.into_iter().map(|(facility_code, row)| {
                let cursor = page.cursor(&[&facility_code, &row.id]);
                Edge::new(cursor, Contract(row))
            }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct FacilityMutation;

#[Object]
impl FacilityMutation {
    /// Edits a facility. Ordinary fields apply at once; the approval fields (code,
    /// representative, contract dates, proxy flag, vaccines, basic-type facility name, general
    /// acceptance) go into a change request for the municipality — amending the open one, or
    /// revising a rejected one. For the facility's own users, and its municipality where the
    /// proxy flag is approved.
    async fn update_facility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility's global id.")] facility_id: ID,
        #[graphql(desc = "The changes.")] input: FacilityUpdate,
    ) -> async_graphql::Result<UpdateFacilityPayload> {
        let actor = require_actor(ctx)?;
        let outcome = update_facility(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &row_of(&facility_id, &["Facility"], "facility")?,
            input,
        )
        .await?;
        Ok(UpdateFacilityPayload {
            facility: outcome.facility,
            change_request: outcome.change_request,
        })
    }

    /// Approves a pending change request and applies its values. Only the facility's
    /// municipality; nobody approves their own request. Of two deciding at once, one gets
    /// CONFLICT.
    async fn approve_facility_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's global id.")] request_id: ID,
        #[graphql(desc = "The version you reviewed; if the request changed since, CONFLICT.")]
        expected_version: Option<i64>,
    ) -> async_graphql::Result<FacilityChangeRequest> {
        let actor = require_actor(ctx)?;
        let row = row_of(&request_id, &["FacilityChangeRequest"], "change request")?;
        let record = change_requests::decide(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &row,
            expected_version,
            Decision::Approve,
        )
        .await?;
        Ok(FacilityChangeRequest(record))
    }

    /// Rejects a pending change request; a reason is required.
    async fn reject_facility_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's global id.")] request_id: ID,
        #[graphql(desc = "Why, for the facility (1 to 500 characters).")] reason: String,
        #[graphql(desc = "The version you reviewed; if the request changed since, CONFLICT.")]
        expected_version: Option<i64>,
    ) -> async_graphql::Result<FacilityChangeRequest> {
        let actor = require_actor(ctx)?;
        let row = row_of(&request_id, &["FacilityChangeRequest"], "change request")?;
        let record = change_requests::decide(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &row,
            expected_version,
            Decision::Reject(reason),
        )
        .await?;
        Ok(FacilityChangeRequest(record))
    }

    /// Registers vaccination contracts, all or none: a list, or a CSV with the header
    /// `facilityCode,kind,joinDate,withdrawalDate,municipalityCode` (the last two optional; at
    /// most 1,000 rows). Collective contracts are held by the caller's organisation; an
    /// individual contract names its counterpart municipality (default: the facility's own).
    /// Each appends a `contract.registered` event.
    async fn register_contract(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contracts, as a list.")] contracts: Option<
            Vec<RegisterContractInput>,
        >,
        #[graphql(desc = "The contracts, as CSV text.")] csv: Option<String>,
    ) -> async_graphql::Result<Vec<Contract>> {
        let actor = require_actor(ctx)?;
        let rows: Vec<NewContract> =
            match (contracts, csv) {
                (Some(list), None) => list
                    .into_iter()
                    .map(|c| NewContract {
                        facility_code: c.facility_code,
                        collective: c.kind == ContractKind::Collective,
                        join_date: c.join_date,
                        withdrawal_date: c.withdrawal_date,
                        municipality_code: c.municipality_code,
                    })
                    .collect(),
                (None, Some(csv)) => contracts::parse_csv(&csv)?,
                _ => return Err(AppError::invalid(
                    "give either contracts or csv / contracts か csv のどちらかを指定してください",
                )
                .into()),
            };
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        let result = contracts::register(db, &meta, actor, rows).await;
        let records = audited(db, &meta, actor, "registerContract", None, result).await?;
        Ok(records.into_iter().map(Contract).collect())
    }

    /// Sets the withdrawal date of contracts, all or none; each appends a `contract.withdrawn`
    /// event.
    async fn withdraw_contract(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contracts' global ids.")] contract_ids: Vec<ID>,
        #[graphql(desc = "Withdrawal date, YYYY-MM-DD; not before the join date.")] withdrawal_date: String,
    ) -> async_graphql::Result<Vec<Contract>> {
        let actor = require_actor(ctx)?;
        let ids = contract_ids
            .iter()
            .map(|id| row_of(id, &["Contract"], "contract"))
            .collect::<Result<Vec<_>, _>>()?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        let result = contracts::withdraw(db, &meta, actor, &ids, &withdrawal_date).await;
        let records = audited(db, &meta, actor, "withdrawContract", None, result).await?;
        Ok(records.into_iter().map(Contract).collect())
    }

    /// Registers a doctor at a facility. One person who is both responsible and vaccinating
    /// holds both roles (seed p. 28): give both at once, or register the second role later —
    /// it is added to the doctor with that licence number. A withdrawn doctor registered again
    /// is reinstated.
    async fn register_doctor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility's global id.")] facility_id: ID,
        #[graphql(desc = "Full name.")] name: String,
        #[graphql(desc = "Medical register number (医籍登録番号), up to six digits.")]
        licence_number: String,
        #[graphql(desc = "The roles at this facility.")] roles: Vec<DoctorRole>,
    ) -> async_graphql::Result<Doctor> {
        let actor = require_actor(ctx)?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        // A malformed id is refused and audited like any other refusal.
        let parsed = row_of(&facility_id, &["Facility"], "facility");
        let facility = audited(db, &meta, actor, "registerDoctor", None, parsed).await?;
        let doctor = doctors::NewDoctor {
            facility_id: &facility,
            name: &name,
            licence_number: &licence_number,
            responsible: roles.contains(&DoctorRole::Responsible),
            vaccinating: roles.contains(&DoctorRole::Vaccinating),
        };
        let result = doctors::register(db, &meta, actor, doctor).await;
        let object = Some(("Facility", facility.as_str()));
        let record = audited(db, &meta, actor, "registerDoctor", object, result).await?;
        Ok(Doctor(record))
    }

    /// Corrects a registered doctor's name, licence number or roles. For the facility's own
    /// users, and its municipality where the proxy flag is approved.
    async fn update_doctor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The doctor's global id.")] doctor_id: ID,
        #[graphql(desc = "The corrections.")] input: UpdateDoctorInput,
    ) -> async_graphql::Result<Doctor> {
        let actor = require_actor(ctx)?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        let parsed = row_of(&doctor_id, &["Doctor"], "doctor");
        let row = audited(db, &meta, actor, "updateDoctor", None, parsed).await?;
        let correction = DoctorCorrection {
            name: input.name,
            licence_number: input.licence_number,
            roles: input.roles.map(|roles| {
                (
                    roles.contains(&DoctorRole::Responsible),
                    roles.contains(&DoctorRole::Vaccinating),
                )
            }),
        };
        let result = doctors::update(db, &meta, actor, &row, correction).await;
        let object = Some(("Doctor", row.as_str()));
        Ok(Doctor(
            audited(db, &meta, actor, "updateDoctor", object, result).await?,
        ))
    }

    /// Withdraws a doctor from a date on: the doctor stays on record but no longer counts for
    /// the facility's eligibility from that day. A doctor is withdrawn once (again: CONFLICT).
    async fn withdraw_doctor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The doctor's global id.")] doctor_id: ID,
        #[graphql(desc = "The first day without the doctor, YYYY-MM-DD.")] withdrawal_date: String,
    ) -> async_graphql::Result<Doctor> {
        let actor = require_actor(ctx)?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        let parsed = row_of(&doctor_id, &["Doctor"], "doctor");
        let row = audited(db, &meta, actor, "withdrawDoctor", None, parsed).await?;
        let result = doctors::withdraw(db, &meta, actor, &row, &withdrawal_date).await;
        let object = Some(("Doctor", row.as_str()));
        Ok(Doctor(
            audited(db, &meta, actor, "withdrawDoctor", object, result).await?,
        ))
    }
}

#[derive(Default)]
pub struct FacilitySubscription;

#[Subscription]
impl FacilitySubscription {
    /// Change requests as they are filed, amended and decided: a municipality sees those of
    /// its facilities, a facility its own. Sign in first. With `after` (an event sequence
    /// number), first replays what happened since.
    async fn facility_change_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = FacilityChangeRequest> + use<>> {
        let actor = require_actor(ctx)?.clone();
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        let events = ctx.data_unchecked::<Arc<Events>>().clone();
        Ok(events.clone().stream(after).filter_map(move |event| {
            // Decided from the event alone (its row carries the facility's area), before the
            // future: the future then holds no copy of the actor.
            let wanted =
                event.topic.starts_with(CHANGE_REQUEST_TOPIC) && may_receive(Some(&actor), &event);
            let events = events.clone();
            async move {
                if !wanted {
                    return None;
                }
                let id = event.payload_str("changeRequestId")?.to_owned();
                // The request is loaded once per event for every subscriber of this instance.
                // Boxed: inline, the load's future would size every idle subscriber's stream.
                let record = Box::pin(events.attachment(&event, |db| async move {
                    change_requests::by_id(db.pool(), &id).await
                }))
                .await?;
                Some(FacilityChangeRequest(ChangeRequestRecord::clone(&record)))
            }
        }))
    }
}

/// The representative's name is a person's name: the facility's area only (FORBIDDEN
/// elsewhere, as every private field of a public object).
pub fn private_representative_name(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Option<String>> {
    may_see(current_actor(ctx), facility)?;
    Ok(facility.representative_name.clone())
}

/// The facility fields only its area may read.
pub async fn private_doctors(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Vec<Doctor>> {
    may_see(current_actor(ctx), facility)?;
    // Doctors' names and licence numbers are personal data: reading them is logged.
    crate::audit::record_alone(
        ctx.data_unchecked::<Db>(),
        &request_meta(ctx),
        crate::audit::Entry::new(
            "readDoctors",
            crate::audit::Outcome::Success,
            current_actor(ctx),
        )
        .organization(&facility.id),
    )
    .await?;
    Ok(
        doctors::of_facility(ctx.data_unchecked::<Db>(), &facility.id)
            .await?
            .into_iter()
            .map(Doctor)
            .collect(),
    )
}

pub async fn private_contracts(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Vec<Contract>> {
    may_see(current_actor(ctx), facility)?;
    Ok(
        contracts::of_facility(ctx.data_unchecked::<Db>(), &facility.id)
            .await?
            .into_iter()
            .map(Contract)
            .collect(),
    )
}

pub async fn private_approval_status(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<ApprovalStatus> {
    may_see(current_actor(ctx), facility)?;
    Ok(facility.approval_status.unwrap_or(ApprovalStatus::Settled))
}

pub async fn private_pending_change_request(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Option<FacilityChangeRequest>> {
    may_see(current_actor(ctx), facility)?;
    // The row says whether there is one: only pending facilities cost a statement.
    if facility.approval_status.unwrap_or(ApprovalStatus::Settled) != ApprovalStatus::Pending {
        return Ok(None);
    }
    Ok(ctx
        .data_unchecked::<DataLoader<PendingRequestLoader>>()
        .load_one(facility.id.clone())
        .await?
        .map(FacilityChangeRequest))
}

pub async fn private_eligibility(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<super::Eligibility> {
    may_see(current_actor(ctx), facility)?;
    Ok(super::eligibility_of(ctx.data_unchecked::<Db>(), facility).await?)
}

/// Loads a registry object for `Query.node`; one the caller may not see is not found.
pub async fn load_registry_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: &str,
) -> async_graphql::Result<Option<RegistryNode>> {
    let db = ctx.data_unchecked::<Db>();
    let not_found = || AppError::NotFound("object");
    let (facility_id, node) = match type_name {
        "FacilityChangeRequest" => {
            let record = change_requests::by_id(db.pool(), id)
                .await?
                .ok_or_else(not_found)?;
            (
                record.facility_id.clone(),
                RegistryNode::ChangeRequest(FacilityChangeRequest(record)),
            )
        }
        "Contract" => {
            let record = contracts::by_id(db.pool(), id)
                .await?
                .ok_or_else(not_found)?;
            // The aggregator holding a contract, and the municipality it is made with, see it
            // too.
            let holder = current_actor(ctx).is_some_and(|a| {
                let own = Some(a.organization.id.as_str());
                record.aggregator_id.as_deref() == own
                    || record.counterpart_municipality_id.as_deref() == own
            });
            if holder {
                return Ok(Some(RegistryNode::Contract(Contract(record))));
            }
            (
                record.facility_id.clone(),
                RegistryNode::Contract(Contract(record)),
            )
        }
        "Doctor" => {
            let record = doctors::by_id(db.pool(), id).await?.ok_or_else(not_found)?;
            (
                record.facility_id.clone(),
                RegistryNode::Doctor(Doctor(record)),
            )
        }
        _ => return Ok(None),
    };
    let facility = load_organization(ctx, &facility_id)
        .await?
        .ok_or_else(not_found)?;
    may_see(current_actor(ctx), &facility).map_err(|_| not_found())?;
    Ok(Some(node))
}

/// A registry object found by global id.
pub enum RegistryNode {
    ChangeRequest(FacilityChangeRequest),
    Contract(Contract),
    Doctor(Doctor),
}

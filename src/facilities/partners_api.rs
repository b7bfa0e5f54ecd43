//! The GraphQL face of partner visibility: delivery destinations, member facilities, powers of
//! attorney.

use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object};

use super::graphql::audited;
use super::partners::{
    self, DeliveringWholesalerLoader, PowerOfAttorneyInput, PowerOfAttorneyRecord,
    PowerOfAttorneyStatus,
};
use crate::actor::{current_actor, request_meta, require_actor};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};
use crate::organizations::{
    Facility, OrganizationKind, OrganizationRecord, PartnerOrganization, load_organization,
};

pub struct PowerOfAttorney(pub PowerOfAttorneyRecord);

/// A power of attorney (委任状) a facility gave an aggregator for its collective contract.
#[Object]
impl PowerOfAttorney {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("PowerOfAttorney", &self.0.id)
    }
    /// The aggregator that received it.
    async fn aggregator(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        Ok(load_organization(ctx, &self.0.aggregator_id)
            .await?
            .map(PartnerOrganization))
    }
    /// The facility that gave it.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }
    /// When it was received, YYYY-MM-DD.
    async fn received_date(&self) -> &str {
        &self.0.received_date
    }
    /// Received, deficient or revoked.
    async fn status(&self) -> PowerOfAttorneyStatus {
        self.0.status
    }
    /// The aggregator's note (e.g. what is missing).
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it was last recorded (UTC).
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// Grows with every change.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// Loads a power of attorney for `Query.node`: its aggregator, the nation and the service desk
/// see it; anyone else gets not found.
pub async fn load_power_of_attorney_node(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<PowerOfAttorney> {
    let not_found = || AppError::NotFound("object");
    let actor = current_actor(ctx).ok_or_else(not_found)?;
    let db = ctx.data_unchecked::<Db>();
    let record = partners::power_of_attorney_by_id(db, id)
        .await?
        .ok_or_else(not_found)?;
    partners::roster_owner(
        db,
        actor,
        Some(&record.aggregator_id),
        partners::CONTRACT_HOLDERS,
        "id",
    )
    .await
    .map_err(|_| not_found())?;
    Ok(PowerOfAttorney(record))
}

fn partner_row(id: Option<&ID>) -> Result<Option<String>, AppError> {
    id.map(|id| row_of(id, ORGANIZATION_TYPES, "organization"))
        .transpose()
}

fn facility_connection(
    rows: Vec<OrganizationRecord>,
    page: &PageRequest,
) -> Connection<String, Facility> {
    let (rows, has_next) = split_page(rows, page);
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = page.cursor(&[&row.code, &row.id]);
        Edge::new(cursor, Facility(row))
    }));
    connection
}

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// The facilities a wholesaler delivers to (those naming it as their delivering
    /// wholesaler), by code: name, address, phone, hours — their public data; private data
    /// stays with the facility's area. For the wholesaler itself, the nation and the service
    /// desk.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn delivery_destinations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wholesaler's global id (default: the caller's organisation).")]
        wholesaler_id: Option<ID>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Facility>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("deliveryDestinations", first, after, 2)?;
        let db = ctx.data_unchecked::<Db>();
        let wholesaler = partners::roster_owner(
            db,
            actor,
            partner_row(wholesaler_id.as_ref())?.as_deref(),
            &[OrganizationKind::Wholesaler],
            "wholesalerId",
        )
        .await?;
        let rows = partners::delivery_destinations(
            db,
            &wholesaler.id,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        Ok(facility_connection(rows, &page))
    }

    /// An aggregator's member facilities: those with a collective contract it holds that has
    /// not ended, by code. For the aggregator itself, the nation and the service desk.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn member_facilities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The aggregator's global id (default: the caller's organisation).")]
        aggregator_id: Option<ID>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Facility>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("memberFacilities", first, after, 2)?;
        let db = ctx.data_unchecked::<Db>();
        let aggregator = partners::roster_owner(
            db,
            actor,
            partner_row(aggregator_id.as_ref())?.as_deref(),
            partners::CONTRACT_HOLDERS,
            "aggregatorId",
        )
        .await?;
        let rows = partners::member_facilities(
            db,
            &aggregator.id,
            &db.clock().today_in_japan(),
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        Ok(facility_connection(rows, &page))
    }

    /// The powers of attorney an aggregator received (委任状受領管理), by facility code. For
    /// the aggregator itself, the nation and the service desk.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn powers_of_attorney(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The aggregator's global id (default: the caller's organisation).")]
        aggregator_id: Option<ID>,
        #[graphql(desc = "Only those in this state.")] status: Option<PowerOfAttorneyStatus>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PowerOfAttorney>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("powersOfAttorney", first, after, 2)?;
        let db = ctx.data_unchecked::<Db>();
        let aggregator = partners::roster_owner(
            db,
            actor,
            partner_row(aggregator_id.as_ref())?.as_deref(),
            partners::CONTRACT_HOLDERS,
            "aggregatorId",
        )
        .await?;
        let rows = partners::powers_of_attorney(
            db,
            &aggregator.id,
            status,
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
                Edge::new(cursor, PowerOfAttorney(row))
            }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct PartnerMutation;

#[Object]
impl PartnerMutation {
    /// Names the wholesaler delivering to a facility, or clears it (no `wholesalerId`). Needs
    /// no approval: the facility's own users or its municipality (without the proxy flag).
    async fn set_delivering_wholesaler(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility's global id.")] facility_id: ID,
        #[graphql(desc = "The wholesaler's global id; leave out to clear.")] wholesaler_id: Option<
            ID,
        >,
    ) -> async_graphql::Result<Facility> {
        let actor = require_actor(ctx)?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        // Malformed ids are refused and audited like any other refusal.
        let parsed = row_of(&facility_id, &["Facility"], "facility").and_then(|facility| {
            let wholesaler = partner_row(wholesaler_id.as_ref()).map_err(|_| {
                AppError::invalid_field("wholesalerId", "not a wholesaler / 卸業者ではありません")
            })?;
            Ok((facility, wholesaler))
        });
        let (facility, wholesaler) =
            audited(db, &meta, actor, "setDeliveringWholesaler", None, parsed).await?;
        let result =
            partners::set_delivering_wholesaler(db, &meta, actor, &facility, wholesaler.as_deref())
                .await;
        let object = Some(("Facility", facility.as_str()));
        Ok(Facility(
            audited(db, &meta, actor, "setDeliveringWholesaler", object, result).await?,
        ))
    }

    /// Records a power of attorney (委任状) the caller's organisation received from a facility
    /// for its collective contract, or updates it (one per aggregator and facility): received
    /// date and status. For aggregators, medical associations and municipalities holding
    /// collective contracts in the facility's area.
    async fn record_power_of_attorney(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility's global id.")] facility_id: ID,
        #[graphql(desc = "When it was received, YYYY-MM-DD (not in the future).")]
        received_date: String,
        #[graphql(desc = "Its state (default RECEIVED).")] status: Option<PowerOfAttorneyStatus>,
        #[graphql(desc = "A note, up to 500 characters (e.g. what is missing).")] note: Option<
            String,
        >,
    ) -> async_graphql::Result<PowerOfAttorney> {
        let actor = require_actor(ctx)?;
        let (db, meta) = (ctx.data_unchecked::<Db>(), request_meta(ctx));
        let parsed = row_of(&facility_id, &["Facility"], "facility");
        let facility = audited(db, &meta, actor, "recordPowerOfAttorney", None, parsed).await?;
        let today = db.clock().today_in_japan();
        let input = PowerOfAttorneyInput {
            facility_id: &facility,
            received_date: &received_date,
            status: status.unwrap_or(PowerOfAttorneyStatus::Received),
            note: note.as_deref(),
            today: &today,
        };
        let result = partners::record_power_of_attorney(db, &meta, actor, input).await;
        let object = Some(("Facility", facility.as_str()));
        Ok(PowerOfAttorney(
            audited(db, &meta, actor, "recordPowerOfAttorney", object, result).await?,
        ))
    }
}

/// The wholesaler delivering to a facility: for the facility's area and the wholesaler itself.
pub async fn delivering_wholesaler(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Option<PartnerOrganization>> {
    let wholesaler = match ctx.data_opt::<DataLoader<DeliveringWholesalerLoader>>() {
        Some(loader) => loader.load_one(facility.id.clone()).await?,
        None => partners::delivering_wholesaler(ctx.data_unchecked::<Db>(), &facility.id).await?,
    };
    let is_wholesaler = current_actor(ctx)
        .is_some_and(|actor| wholesaler.as_deref() == Some(actor.organization.id.as_str()));
    if !is_wholesaler {
        super::access::may_see(current_actor(ctx), facility)?;
    }
    match wholesaler {
        Some(id) => Ok(load_organization(ctx, &id).await?.map(PartnerOrganization)),
        None => Ok(None),
    }
}

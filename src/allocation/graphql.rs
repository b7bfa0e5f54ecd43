//! The GraphQL face of allocation: the product master so far.

use async_graphql::{Context, ID, InputObject, MergedObject, Object, SimpleObject};

use super::cools::{self, CoolRecord, CoolStage, NewCool};
use super::desired::{self, DesiredRecord};
use super::products::{self, ProductInput, ProductKind, ProductRecord};
use super::supply::{self, SupplyRecord};
use crate::actor::{request_meta, require_actor};
use crate::authz::area_filter;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::organizations::{Facility, PartnerOrganization, load_organization};

/// Reads a cool's id argument (NOT_FOUND for anything else).
pub fn cool_row(id: &ID) -> Result<String, crate::error::AppError> {
    row_of(id, &["Cool"], "cool")
}

pub struct Product(pub ProductRecord);

/// A product allocated in boxes: a vaccine, needles or syringes. Doses are derived: units per
/// box × doses per unit.
#[Object]
impl Product {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("Product", &self.0.id)
    }
    /// The product's code, e.g. "PFIZER", "NEEDLE".
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Vaccine, needle or syringe.
    async fn kind(&self) -> ProductKind {
        self.0.kind
    }
    /// The product's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A vaccine's manufacturer; null for needles and syringes.
    async fn manufacturer(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        match &self.0.manufacturer_id {
            Some(id) => Ok(load_organization(ctx, id).await?.map(PartnerOrganization)),
            None => Ok(None),
        }
    }
    /// Vials (vaccines) or pieces (needles, syringes) in one box.
    async fn units_per_box(&self) -> i64 {
        self.0.units_per_box
    }
    /// Doses one vial gives (1 for a needle or syringe).
    async fn doses_per_unit(&self) -> i64 {
        self.0.doses_per_unit
    }
    /// Doses one box gives (Pfizer in 2021: 195 × 5 = 975).
    async fn doses_per_box(&self) -> i64 {
        self.0.doses_per_box()
    }
    /// Storage conditions, e.g. "-90〜-60℃".
    async fn storage(&self) -> Option<&str> {
        self.0.storage.as_deref()
    }
    /// Days that must pass between two doses of this vaccine.
    async fn minimum_interval_days(&self) -> Option<i64> {
        self.0.minimum_interval_days
    }
    /// Days between dry-ice refills of the vaccine's thermal shipping box; null when it ships
    /// without dry ice.
    async fn dry_ice_refill_days(&self) -> Option<i64> {
        self.0.dry_ice_refill_days
    }
    /// When the product last changed (UTC).
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// The version to pass as `expectedVersion` when changing it.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
    /// The product master: every product, or those of one kind, by code. Public: the navigator
    /// names vaccines.
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only products of this kind.")] kind: Option<ProductKind>,
    ) -> async_graphql::Result<Vec<Product>> {
        let rows = products::list(ctx.data_unchecked::<Db>(), kind).await?;
        Ok(rows.into_iter().map(Product).collect())
    }
}

/// A product to create (a new code) or change (an existing code).
#[derive(InputObject)]
pub struct UpsertProductInput {
    /// The product's code: 1 to 32 letters, digits, - or _ (stored in upper case).
    pub code: String,
    /// Vaccine, needle or syringe; an existing product's kind does not change.
    pub kind: ProductKind,
    /// The product's name.
    pub name: String,
    /// A vaccine's manufacturer (required for a vaccine, absent otherwise).
    pub manufacturer_id: Option<ID>,
    /// Vials or pieces in one box.
    pub units_per_box: i64,
    /// Doses one vial gives (1 for needles and syringes).
    pub doses_per_unit: i64,
    /// Storage conditions.
    pub storage: Option<String>,
    /// Days between two doses (vaccines only).
    pub minimum_interval_days: Option<i64>,
    /// Days between dry-ice refills of its thermal shipping box (vaccines shipped on dry ice,
    /// 1–30; Pfizer in 2021: 5).
    pub dry_ice_refill_days: Option<i64>,
    /// The version read, when changing a product: a stale one is CONFLICT.
    pub expected_version: Option<i64>,
}

#[derive(Default)]
pub struct ProductMutation;

#[Object]
impl ProductMutation {
    /// Creates or changes a product of the master. The nation keeps the master; a
    /// manufacturer keeps its own vaccines (e.g. doses per vial going from 5 to 6). Audited.
    async fn upsert_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product.")] input: UpsertProductInput,
    ) -> async_graphql::Result<Product> {
        let actor = require_actor(ctx)?;
        let manufacturer_id = input
            .manufacturer_id
            .as_ref()
            .map(|id| row_of(id, ORGANIZATION_TYPES, "manufacturer"))
            .transpose()?;
        let record = products::upsert(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            ProductInput {
                code: input.code,
                kind: input.kind,
                name: input.name,
                manufacturer_id,
                units_per_box: input.units_per_box,
                doses_per_unit: input.doses_per_unit,
                storage: input.storage,
                minimum_interval_days: input.minimum_interval_days,
                dry_ice_refill_days: input.dry_ice_refill_days,
                expected_version: input.expected_version,
            },
        )
        .await?;
        Ok(Product(record))
    }
}

/// A product by its row id, for `Query.node`.
pub async fn load_product_node(
    ctx: &Context<'_>,
    row_id: &str,
) -> async_graphql::Result<Option<Product>> {
    Ok(products::by_id(ctx.data_unchecked::<Db>().pool(), row_id)
        .await?
        .map(Product))
}

pub struct Cool(pub CoolRecord);

/// One stage of a cool and its deadline.
#[derive(SimpleObject)]
pub struct CoolStageDeadline {
    /// The stage.
    pub stage: CoolStage,
    /// Its last day (Japan), YYYY-MM-DD.
    pub deadline: String,
    /// Whether the deadline has passed (Japan time).
    pub past_deadline: bool,
    /// Whether the stage is late for your organisation: past its deadline with your part of it
    /// not done (confirming, completing or locking).
    pub late: bool,
}

/// An allocation cycle (クール) of one vaccine: about three weeks, a deadline per stage.
#[Object]
impl Cool {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("Cool", &self.0.id)
    }
    /// The cool's number for its vaccine (第N クール).
    async fn number(&self) -> i64 {
        self.0.number
    }
    /// The vaccine allocated.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(
            products::by_id(ctx.data_unchecked::<Db>().pool(), &self.0.product_id)
                .await?
                .map(Product),
        )
    }
    /// Its first day (Japan), YYYY-MM-DD.
    async fn starts_on(&self) -> &str {
        &self.0.starts_on
    }
    /// Its last day (Japan), YYYY-MM-DD.
    async fn ends_on(&self) -> &str {
        &self.0.ends_on
    }
    /// Every stage with its deadline, in order, and whether it is late for you.
    async fn stages(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CoolStageDeadline>> {
        let db = ctx.data_unchecked::<Db>();
        let today = db.clock().today_in_japan();
        let late = match crate::actor::current_actor(ctx) {
            Some(actor) => {
                super::deadlines::late_stages(
                    db,
                    &self.0,
                    &actor.organization.id,
                    actor.organization.kind,
                )
                .await?
            }
            None => Vec::new(),
        };
        Ok(CoolStage::ALL
            .into_iter()
            .map(|stage| {
                let deadline = self.0.deadline(stage).to_owned();
                CoolStageDeadline {
                    stage,
                    past_deadline: today > deadline,
                    late: late.contains(&stage),
                    deadline,
                }
            })
            .collect())
    }
    /// The desired quantities of the facilities in the caller's area (a facility: its own), by
    /// facility code.
    async fn desired_quantities(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DesiredQuantity>> {
        let actor = require_actor(ctx)?;
        let rows =
            desired::of_cool(ctx.data_unchecked::<Db>(), &self.0.id, &area_filter(actor)).await?;
        Ok(rows.into_iter().map(DesiredQuantity).collect())
    }
    /// The total boxes desired by the facilities in the caller's area (seed p. 23).
    async fn desired_quantity_total(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let actor = require_actor(ctx)?;
        let rows =
            desired::of_cool(ctx.data_unchecked::<Db>(), &self.0.id, &area_filter(actor)).await?;
        Ok(rows.iter().map(|r| r.boxes).sum())
    }
    /// What the suppliers make available for this cool, by product.
    async fn supply(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Supply>> {
        let rows = supply::of_cool(ctx.data_unchecked::<Db>(), &self.0.id).await?;
        Ok(rows.into_iter().map(Supply).collect())
    }
    /// When it was opened (UTC).
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct CoolQuery;

#[Object]
impl CoolQuery {
    /// Every cool, newest first. Any signed-in user: the calendar is everyone's.
    async fn cools(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Cool>> {
        require_actor(ctx)?;
        let rows = cools::list(ctx.data_unchecked::<Db>()).await?;
        Ok(rows.into_iter().map(Cool).collect())
    }
}

/// A cool to open. Dates are Japanese calendar days (YYYY-MM-DD); a deadline left out is set
/// from the first day (2, 4, 6, 11 and 13 days on), and the cool lasts 21 days unless `endsOn`
/// says otherwise.
#[derive(InputObject)]
pub struct OpenCoolInput {
    /// The cool's number for its vaccine.
    pub number: i64,
    /// The vaccine's product code, e.g. "PFIZER".
    pub product_code: String,
    /// The first day.
    pub starts_on: String,
    /// The last day (default: 20 days after the first).
    pub ends_on: Option<String>,
    /// Last day for facilities' desired quantities.
    pub desired_quantity_deadline: Option<String>,
    /// Last day for the nation's allocation to prefectures.
    pub nation_allocation_deadline: Option<String>,
    /// Last day for prefectures' allocation to municipalities.
    pub prefecture_allocation_deadline: Option<String>,
    /// Last day for municipalities' allocation to facilities.
    pub municipality_allocation_deadline: Option<String>,
    /// Last day for the data lock.
    pub data_lock_deadline: Option<String>,
}

#[derive(Default)]
pub struct CoolMutation;

#[Object]
impl CoolMutation {
    /// Opens a cool of a vaccine (the nation). Audited; announced as `cool.opened`.
    async fn open_cool(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] input: OpenCoolInput,
    ) -> async_graphql::Result<Cool> {
        let actor = require_actor(ctx)?;
        let record = cools::open(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            NewCool {
                number: input.number,
                product_code: input.product_code,
                starts_on: input.starts_on,
                ends_on: input.ends_on,
                deadlines: [
                    input.desired_quantity_deadline,
                    input.nation_allocation_deadline,
                    input.prefecture_allocation_deadline,
                    input.municipality_allocation_deadline,
                    input.data_lock_deadline,
                ],
            },
        )
        .await?;
        Ok(Cool(record))
    }
}

/// Allocation's query roots.
#[derive(MergedObject, Default)]
pub struct AllocationQuery(ProductQuery, CoolQuery, super::AllocationCycleQuery);

/// Allocation's mutation roots.
#[derive(MergedObject, Default)]
pub struct AllocationMutation(
    ProductMutation,
    CoolMutation,
    SupplyMutation,
    DesiredQuantityMutation,
    super::AllocationCycleMutation,
);

/// A cool by its row id, for `Query.node`.
pub async fn load_cool_node(
    ctx: &Context<'_>,
    row_id: &str,
) -> async_graphql::Result<Option<Cool>> {
    Ok(cools::by_id(ctx.data_unchecked::<Db>().pool(), row_id)
        .await?
        .map(Cool))
}

pub struct Supply(pub SupplyRecord);

/// What a supplier makes available for a cool.
#[Object]
impl Supply {
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(
            products::by_id(ctx.data_unchecked::<Db>().pool(), &self.0.product_id)
                .await?
                .map(Product),
        )
    }
    /// The manufacturer or warehouse supplying it.
    async fn supplier(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        Ok(load_organization(ctx, &self.0.supplier_id)
            .await?
            .map(PartnerOrganization))
    }
    /// Whole boxes available.
    async fn boxes(&self) -> i64 {
        self.0.boxes
    }
    /// Doses those boxes give (boxes × the product's doses per box).
    async fn doses(&self) -> i64 {
        self.0.doses()
    }
    /// When it was last registered (UTC).
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct SupplyMutation;

#[Object]
impl SupplyMutation {
    /// Registers the whole boxes of a product the caller's organisation makes available for a
    /// cool: a manufacturer its own vaccine (the cool's), the needle and syringe warehouse
    /// needles and syringes. Registering again replaces the figure. Audited.
    async fn register_supply(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
        #[graphql(desc = "The product's code, e.g. \"PFIZER\", \"NEEDLE\".")] product_code: String,
        #[graphql(desc = "Whole boxes available.")] boxes: i64,
    ) -> async_graphql::Result<Supply> {
        let actor = require_actor(ctx)?;
        let cool = cool_row(&cool_id)?;
        let record = supply::register(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &cool,
            &product_code,
            boxes,
        )
        .await?;
        Ok(Supply(record))
    }
}

pub struct DesiredQuantity(pub DesiredRecord);

/// The boxes a facility would like in a cool (希望量).
#[Object]
impl DesiredQuantity {
    /// The facility.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }
    /// Whole boxes desired.
    async fn boxes(&self) -> i64 {
        self.0.boxes
    }
    /// When it was last entered (UTC).
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct DesiredQuantityMutation;

#[Object]
impl DesiredQuantityMutation {
    /// Enters the whole boxes a facility would like in a cool: the facility itself, or its
    /// municipality for it (with the proxy flag, or for a special venue it runs). Entering
    /// again replaces the figure. Audited.
    async fn register_desired_quantity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "Whole boxes desired.")] boxes: i64,
    ) -> async_graphql::Result<DesiredQuantity> {
        let actor = require_actor(ctx)?;
        let cool = cool_row(&cool_id)?;
        let facility = row_of(&facility_id, &["Facility"], "facility")?;
        let record = desired::register(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &cool,
            &facility,
            boxes,
        )
        .await?;
        Ok(DesiredQuantity(record))
    }
}

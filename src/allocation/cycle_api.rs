//! The GraphQL face of the allocation cycle: amounts, proposals and the simulation, the
//! confirmations, completions, the prefecture's check and the data lock.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::cycle::{self, SetAllocation};
use super::graphql::{Cool, Product, cool_row};
use super::lines::{self, AllocationRecord};
use super::lock::{self, MunicipalityCheck};
use super::products;
use super::proposal::{self, Exclusion, Proposal, ProposalSpec, Weighting};
use crate::actor::{Actor, request_meta, require_actor};
use crate::authz::within_area;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::facilities::scope_of;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::organizations::{OrganizationKind, OrganizationNode, load_organization};

async fn organization(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<Option<OrganizationNode>> {
    Ok(load_organization(ctx, id)
        .await?
        .map(OrganizationNode::from))
}

pub struct Allocation(pub AllocationRecord);

/// One allocation line: the boxes of a product an organisation gives to one directly below it
/// in a cool. Doses are derived from the product.
#[Object]
impl Allocation {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Allocation", &self.0.id)
    }
    /// The cool.
    async fn cool(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cool>> {
        super::graphql::load_cool_node(ctx, &self.0.cool_id).await
    }
    /// The vaccine, needles or syringes.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        super::graphql::load_product_node(ctx, &self.0.product_id).await
    }
    /// Who gives: the nation, a prefecture or a municipality.
    async fn allocator(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        organization(ctx, &self.0.allocator_id).await
    }
    /// Who receives: a prefecture, a municipality or a facility.
    async fn recipient(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        organization(ctx, &self.0.recipient_id).await
    }
    /// Whole boxes (最小包装単位).
    async fn boxes(&self) -> i64 {
        self.0.boxes
    }
    /// Doses the boxes give (boxes × the product's doses per box).
    async fn doses(&self) -> i64 {
        self.0.doses()
    }
    /// When the amount last changed (UTC).
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// The version to pass as `expectedVersion` when changing it.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

pub struct AllocationStatus {
    cool_id: String,
    organization_id: String,
    received: Vec<AllocationRecord>,
    given: Vec<AllocationRecord>,
    progress: lines::Progress,
    locked: bool,
}

/// An organisation's part of a cool: what it received and gave, and where it stands.
#[Object]
impl AllocationStatus {
    /// The organisation.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        organization(ctx, &self.organization_id).await
    }
    /// The cool.
    async fn cool(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cool>> {
        super::graphql::load_cool_node(ctx, &self.cool_id).await
    }
    /// What it received, one line per product (a facility sees its own from the lock on).
    async fn received(&self) -> Vec<Allocation> {
        self.received.iter().cloned().map(Allocation).collect()
    }
    /// What it gives to the organisations below it, by product then recipient.
    async fn given(&self) -> Vec<Allocation> {
        self.given.iter().cloned().map(Allocation).collect()
    }
    /// When it confirmed what it received (確認済); null while not confirmed.
    async fn confirmed_at(&self) -> Option<Timestamp> {
        self.progress.confirmed_at
    }
    /// When it completed its allocation down (分配作業完了); null while not complete.
    async fn completed_at(&self) -> Option<Timestamp> {
        self.progress.completed_at
    }
    /// Whether its prefecture locked this cool (データロック): the amounts are final.
    async fn locked(&self) -> bool {
        self.locked
    }
}

/// Loads an organisation's part of a cool, as `actor` may see it.
async fn status_of(
    db: &Db,
    actor: &Actor,
    cool_id: &str,
    organization_id: &str,
) -> async_graphql::Result<AllocationStatus> {
    // The call centre shares its municipality's organisation but has no part in allocation
    // (and must not see facilities' amounts before the lock).
    if actor.role == crate::actor::Role::ReservationOperator {
        return Err(AppError::Forbidden.into());
    }
    let org = crate::organizations::store::load(db.pool(), organization_id)
        .await?
        .filter(|o| within_area(actor, &scope_of(o)))
        .ok_or(AppError::NotFound("organization"))?;
    let locked = lock::is_locked(db, cool_id, &org).await?;
    let mut received = lines::received_by(db.pool(), cool_id, &org).await?;
    // Facilities see their amounts only from the lock on (seed p. 43).
    if org.kind() == OrganizationKind::Facility
        && !locked
        && actor.organization.kind == OrganizationKind::Facility
    {
        received.clear();
    }
    Ok(AllocationStatus {
        cool_id: cool_id.to_owned(),
        received,
        given: lines::given_by(db.pool(), cool_id, &org.id).await?,
        progress: lines::progress(db.pool(), cool_id, &org.id).await?,
        organization_id: org.id,
        locked,
    })
}

/// One product's figures in a proposal or simulation.
#[derive(SimpleObject)]
pub struct ProposedAmount {
    /// The product.
    pub product_code: String,
    /// Whole boxes.
    pub boxes: i64,
    /// Doses the boxes give.
    pub doses: i64,
}

pub struct ProposedChildView {
    child: proposal::ProposedChild,
    amounts: Vec<ProposedAmount>,
}

/// One recipient of a proposal: its weight, its amounts, and why it gets nothing when it does
/// not.
#[Object(name = "ProposedAllocation")]
impl ProposedChildView {
    /// The prefecture, municipality or facility.
    async fn recipient(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        organization(ctx, &self.child.organization.id).await
    }
    /// Its weight under the chosen weighting (0 when excluded).
    async fn weight(&self) -> i64 {
        i64::try_from(self.child.weight).unwrap_or(i64::MAX)
    }
    /// Why it gets nothing (empty when it is eligible).
    async fn exclusions(&self) -> &[Exclusion] {
        &self.child.exclusions
    }
    /// Whether its vaccine amount was fixed by an override.
    async fn overridden(&self) -> bool {
        self.child.overridden
    }
    /// Its amounts: the vaccine first, then needles and syringes.
    async fn amounts(&self) -> &[ProposedAmount] {
        &self.amounts
    }
}

/// One product's totals in a proposal.
#[derive(SimpleObject)]
pub struct ProposalTotal {
    /// The product.
    pub product_code: String,
    /// Boxes the allocating organisation received (the nation: the registered supply).
    pub received: i64,
    /// Boxes the proposal gives.
    pub allocated: i64,
    /// Boxes left for adjustment by hand.
    pub remaining: i64,
}

/// A warning about a proposal.
#[derive(SimpleObject)]
pub struct ProposalWarning {
    /// Stable code: NOTHING_RECEIVED, OVER_RECEIVED, ADJUSTMENT_HELD, NO_WEIGHTS,
    /// FOLLOW_ON_SHORT.
    pub code: String,
    /// What it means, in English and Japanese.
    pub message: String,
}

/// What a proposal gives (分配シミュレーション): per child and in total, with warnings.
#[derive(SimpleObject)]
pub struct AllocationProposal {
    /// One entry per organisation directly below the allocating one, by code.
    pub children: Vec<ProposedChildView>,
    /// Per product: received, allocated, remaining.
    pub totals: Vec<ProposalTotal>,
    /// What the allocating organisation should know.
    pub warnings: Vec<ProposalWarning>,
}

impl From<Proposal> for AllocationProposal {
    fn from(p: Proposal) -> Self {
        let amounts_of = |child: &proposal::ProposedChild| {
            p.totals
                .iter()
                .map(|t| {
                    let boxes = child.boxes.get(&t.product.id).copied().unwrap_or(0);
                    ProposedAmount {
                        product_code: t.product.code.clone(),
                        boxes,
                        doses: boxes * t.product.doses_per_box(),
                    }
                })
                .collect()
        };
        let children = p
            .children
            .iter()
            .map(|c| ProposedChildView {
                amounts: amounts_of(c),
                child: c.clone(),
            })
            .collect();
        AllocationProposal {
            children,
            totals: p
                .totals
                .iter()
                .map(|t| ProposalTotal {
                    product_code: t.product.code.clone(),
                    received: t.received,
                    allocated: t.allocated,
                    remaining: t.received - t.allocated,
                })
                .collect(),
            warnings: p
                .warnings
                .into_iter()
                .map(|w| ProposalWarning {
                    code: w.code.into(),
                    message: w.message,
                })
                .collect(),
        }
    }
}

/// A vaccine amount fixed by hand in a proposal.
#[derive(InputObject)]
pub struct AllocationOverride {
    /// The prefecture, municipality or facility.
    pub recipient_id: ID,
    /// Its vaccine boxes.
    pub boxes: i64,
}

/// How to propose (or simulate) the caller's allocation down.
#[derive(InputObject)]
pub struct ProposalInput {
    /// The cool.
    pub cool_id: ID,
    /// What to divide by.
    pub weighting: Weighting,
    /// Percent of the vaccine kept back for adjustment by hand, 0–50 (default 0; V-SYS kept
    /// about 20% of the national amount).
    #[graphql(default)]
    pub adjustment_percent: i32,
    /// Vaccine boxes fixed by hand for some recipients.
    #[graphql(default)]
    pub overrides: Vec<AllocationOverride>,
}

impl ProposalInput {
    fn spec(&self) -> Result<(String, ProposalSpec), AppError> {
        let overrides = self
            .overrides
            .iter()
            .map(|o| {
                Ok((
                    row_of(&o.recipient_id, ORGANIZATION_TYPES, "organization")?,
                    o.boxes,
                ))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok((
            cool_row(&self.cool_id)?,
            ProposalSpec {
                weighting: self.weighting,
                adjustment_percent: u32::try_from(self.adjustment_percent).unwrap_or(u32::MAX),
                overrides,
            },
        ))
    }
}

/// A line of the prefecture's check for one product.
#[derive(SimpleObject)]
pub struct CheckedProduct {
    /// The product.
    pub product_code: String,
    /// Boxes the municipality received from the prefecture.
    pub received: i64,
    /// Boxes it gave its facilities.
    pub given: i64,
}

pub struct MunicipalityCheckView {
    check: MunicipalityCheck,
    products: Vec<CheckedProduct>,
}

/// One municipality in the prefecture's check (seed p. 37).
#[Object(name = "MunicipalityAllocationCheck")]
impl MunicipalityCheckView {
    /// The municipality.
    async fn municipality(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        organization(ctx, &self.check.municipality_id).await
    }
    /// 〇 when what it received covers what it gave, for every product; X when not.
    async fn mark(&self) -> &'static str {
        if self.check.balanced() { "〇" } else { "X" }
    }
    /// The same as a boolean: true for 〇.
    async fn balanced(&self) -> bool {
        self.check.balanced()
    }
    /// Received and given per product.
    async fn products(&self) -> &[CheckedProduct] {
        &self.products
    }
    /// When it confirmed what it received; null while not confirmed.
    async fn confirmed_at(&self) -> Option<Timestamp> {
        self.check.confirmed_at
    }
    /// When it completed its allocation to facilities; null while not complete.
    async fn completed_at(&self) -> Option<Timestamp> {
        self.check.completed_at
    }
    /// Whether it stands in the way of the data lock (X, or received something and not
    /// complete).
    async fn blocks_lock(&self) -> bool {
        self.check.blocks_lock()
    }
}

/// The prefecture's check of a cool (seed p. 37) and whether it can lock.
#[derive(SimpleObject)]
pub struct AllocationCheck {
    /// Whether the prefecture completed its own allocation to municipalities.
    pub prefecture_completed: bool,
    /// Whether the prefecture has locked (データロック).
    pub locked: bool,
    /// Whether the lock is allowed now.
    pub can_lock: bool,
    /// Municipalities that received something and have not completed.
    pub not_completed: i32,
    /// Every municipality of the prefecture, by code.
    pub municipalities: Vec<MunicipalityCheckView>,
}

async fn check_of(
    ctx: &Context<'_>,
    cool_id: &str,
    prefecture_id: &str,
) -> async_graphql::Result<AllocationCheck> {
    let db = ctx.data_unchecked::<Db>();
    let state = lock::prefecture_state(db, None, cool_id, prefecture_id).await?;
    let own = state
        .progress
        .get(prefecture_id)
        .cloned()
        .unwrap_or_default();
    let codes = products::codes_by_id(db).await?;
    let municipalities: Vec<MunicipalityCheckView> = state
        .municipalities
        .into_iter()
        .map(|check| MunicipalityCheckView {
            products: check
                .products
                .iter()
                .map(|(id, (received, given))| CheckedProduct {
                    product_code: codes.get(id).cloned().unwrap_or_default(),
                    received: *received,
                    given: *given,
                })
                .collect(),
            check,
        })
        .collect();
    let not_completed = municipalities
        .iter()
        .filter(|m| m.check.not_completed())
        .count();
    let blocked = municipalities.iter().any(|m| m.check.blocks_lock());
    Ok(AllocationCheck {
        prefecture_completed: own.completed_at.is_some(),
        locked: own.locked_at.is_some(),
        can_lock: own.completed_at.is_some() && own.locked_at.is_none() && !blocked,
        not_completed: i32::try_from(not_completed).unwrap_or(i32::MAX),
        municipalities,
    })
}

#[derive(Default)]
pub struct AllocationCycleQuery;

#[Object]
impl AllocationCycleQuery {
    /// The nation's board of a cool: per prefecture, what it received, confirmed, allocated
    /// down, completed and locked, its municipalities' completion, and the vaccine delivered,
    /// administered, wasted and on hand, with the stages it is late in. For the nation.
    async fn allocation_board(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<Vec<super::board_api::PrefectureProgress>> {
        let actor = require_actor(ctx)?;
        if actor.role != crate::actor::Role::Nation {
            return Err(AppError::Forbidden.into());
        }
        let db = ctx.data_unchecked::<Db>();
        let cool = cycle::cool(db, &cool_row(&cool_id)?).await?;
        Ok(super::board::board(db, &cool)
            .await?
            .into_iter()
            .map(super::board_api::PrefectureProgress)
            .collect())
    }

    /// An organisation's part of a cool: what it received and gave, and whether it confirmed,
    /// completed and is locked. Your own organisation by default; another in your area on
    /// request. A facility sees what it received only from the data lock on.
    async fn allocation_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
        #[graphql(desc = "The organisation (default: your own).")] organization_id: Option<ID>,
    ) -> async_graphql::Result<AllocationStatus> {
        let actor = require_actor(ctx)?;
        let cool = cycle::cool(ctx.data_unchecked::<Db>(), &cool_row(&cool_id)?).await?;
        let organization_id = match &organization_id {
            Some(id) => row_of(id, ORGANIZATION_TYPES, "organization")?,
            None => actor.organization.id.clone(),
        };
        status_of(
            ctx.data_unchecked::<Db>(),
            actor,
            &cool.id,
            &organization_id,
        )
        .await
    }

    /// What a proposal of your allocation down would give (分配シミュレーション, seed p. 36):
    /// per recipient and in total, with warnings. Writes nothing.
    async fn simulate_allocation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The weights, adjustment share and overrides to try.")]
        input: ProposalInput,
    ) -> async_graphql::Result<AllocationProposal> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let (cool_id, spec) = input.spec()?;
        let cool = cycle::cool(db, &cool_id).await?;
        Ok(proposal::simulate(db, actor, &cool, &spec).await?.into())
    }

    /// The prefecture's check of a cool (seed p. 37): per municipality 〇 or X, who has not
    /// completed, and whether the data lock is allowed. A prefecture sees its own; the nation
    /// names one.
    async fn allocation_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
        #[graphql(desc = "The prefecture (default: your own).")] prefecture_id: Option<ID>,
    ) -> async_graphql::Result<AllocationCheck> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let cool = cycle::cool(db, &cool_row(&cool_id)?).await?;
        let prefecture_id = match &prefecture_id {
            Some(id) => row_of(id, ORGANIZATION_TYPES, "prefecture")?,
            None => actor.organization.id.clone(),
        };
        let prefecture = crate::organizations::store::load(db.pool(), &prefecture_id)
            .await?
            .filter(|p| p.kind() == OrganizationKind::Prefecture)
            .ok_or(AppError::NotFound("prefecture"))?;
        if !matches!(
            actor.role,
            crate::actor::Role::Nation | crate::actor::Role::Prefecture
        ) || !within_area(actor, &scope_of(&prefecture))
        {
            return Err(if within_area(actor, &scope_of(&prefecture)) {
                AppError::Forbidden
            } else {
                AppError::NotFound("prefecture")
            }
            .into());
        }
        check_of(ctx, &cool.id, &prefecture.id).await
    }
}

/// An amount to set by hand.
#[derive(InputObject)]
pub struct SetAllocationInput {
    /// The cool.
    pub cool_id: ID,
    /// The prefecture, municipality or facility receiving it.
    pub recipient_id: ID,
    /// The product line: the cool's vaccine when absent, or a needle or syringe code.
    pub product_code: Option<String>,
    /// Whole boxes (0 or more).
    pub boxes: i64,
    /// The line's version as read; required when the line exists (a stale one is CONFLICT
    /// with the current value in `extensions.current`).
    pub expected_version: Option<i64>,
}

/// What a priority-phase import wrote.
#[derive(SimpleObject)]
pub struct PriorityImport {
    /// Facilities given an amount.
    pub facilities: i32,
    /// Vaccine boxes in total.
    pub vaccine_boxes: i64,
    /// Prefectures whose part of the cool is now locked (delivery starts).
    pub prefectures_locked: i32,
}

#[derive(Default)]
pub struct AllocationCycleMutation;

#[Object]
impl AllocationCycleMutation {
    /// Pre-fills every amount of your allocation down (the nation to prefectures, a prefecture
    /// to municipalities, a municipality to facilities) by the chosen weights, replacing the
    /// current ones, and returns it. Needles and syringes follow the vaccine. Audited.
    async fn propose_allocations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The weights, adjustment share and overrides.")] input: ProposalInput,
    ) -> async_graphql::Result<AllocationProposal> {
        let actor = require_actor(ctx)?;
        let (cool_id, spec) = input.spec()?;
        let db = ctx.data_unchecked::<Db>();
        let events = ctx.data_unchecked::<std::sync::Arc<crate::events::Events>>();
        Ok(proposal::propose(
            db,
            events.grouped(),
            &request_meta(ctx),
            actor,
            &cool_id,
            &spec,
        )
        .await?
        .into())
    }

    /// The priority phase (seed p. 22): the service desk registers pre-decided amounts per
    /// facility from a CSV (`facilityCode,vaccineBoxes`, optional `needleBoxes,syringeBoxes`),
    /// writes the chain above them as sums, confirmed and complete, and locks the prefectures
    /// concerned. All or nothing; bad rows in `extensions.rows`. Audited.
    async fn import_priority_allocations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A new cool (no allocations yet).")] cool_id: ID,
        #[graphql(desc = "The CSV text (UTF-8).")] csv: String,
    ) -> async_graphql::Result<PriorityImport> {
        let actor = require_actor(ctx)?;
        let summary = super::priority::import(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &cool_row(&cool_id)?,
            &csv,
        )
        .await?;
        Ok(PriorityImport {
            facilities: i32::try_from(summary.facilities).unwrap_or(i32::MAX),
            vaccine_boxes: summary.vaccine_boxes,
            prefectures_locked: i32::try_from(summary.prefectures_locked).unwrap_or(i32::MAX),
        })
    }

    /// Sets one amount by hand, with optimistic versions. Never more than you received; not
    /// after the data lock (CONFLICT, reason DATA_LOCKED). Audited.
    async fn set_allocation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The amount.")] input: SetAllocationInput,
    ) -> async_graphql::Result<Allocation> {
        let actor = require_actor(ctx)?;
        let cool_id = cool_row(&input.cool_id)?;
        let recipient_id = row_of(&input.recipient_id, ORGANIZATION_TYPES, "organization")?;
        let record = cycle::set(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            SetAllocation {
                cool_id: &cool_id,
                recipient_id: &recipient_id,
                product_code: input.product_code.as_deref(),
                boxes: input.boxes,
                expected_version: input.expected_version,
            },
        )
        .await?;
        Ok(Allocation(record))
    }

    /// Confirms what your prefecture or municipality received in the cool (確認済). Once:
    /// confirming again is CONFLICT (ALREADY_CONFIRMED). Audited.
    async fn confirm_allocation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<AllocationStatus> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let cool_id = cool_row(&cool_id)?;
        cycle::confirm(db, &request_meta(ctx), actor, &cool_id).await?;
        status_of(db, actor, &cool_id, &actor.organization.id).await
    }

    /// Marks your allocation down complete (分配作業完了). Changing an amount afterwards
    /// withdraws it. Audited.
    async fn complete_allocation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<AllocationStatus> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let cool_id = cool_row(&cool_id)?;
        cycle::complete(db, &request_meta(ctx), actor, &cool_id).await?;
        status_of(db, actor, &cool_id, &actor.organization.id).await
    }

    /// Locks your prefecture's allocation of the cool (データロック): only when you completed
    /// and every municipality that received something is complete and 〇 (else CONFLICT,
    /// reason CHECK_FAILED, with the municipalities in the way). From then on nothing in it
    /// changes, facilities see their amounts, and delivery starts. Audited.
    async fn lock_allocations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<AllocationCheck> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let cool_id = cool_row(&cool_id)?;
        lock::lock(db, &request_meta(ctx), actor, &cool_id).await?;
        check_of(ctx, &cool_id, &actor.organization.id).await
    }
}

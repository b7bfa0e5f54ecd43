//! The GraphQL face of allocation: the product master so far.

use async_graphql::{Context, ID, InputObject, Object};

use super::products::{self, ProductInput, ProductKind, ProductRecord};
use crate::actor::{request_meta, require_actor};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::organizations::{PartnerOrganization, load_organization};

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
pub struct AllocationQuery;

#[Object]
impl AllocationQuery {
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
    /// The version read, when changing a product: a stale one is CONFLICT.
    pub expected_version: Option<i64>,
}

#[derive(Default)]
pub struct AllocationMutation;

#[Object]
impl AllocationMutation {
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

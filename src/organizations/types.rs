//! The GraphQL face of the organisation hierarchy.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Interface, OutputType};

use super::codes::PrefectureCode;
use super::loader::{load_organization, prefetch};
use super::model::{FacilityType, OrganizationKind, OrganizationRecord};
use super::store::{self, OrganizationFilter};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};

/// Any organisation: a public body, a facility or a partner.
// The lint mistakes the repeated `ty = …` of separate `field(…)` entries for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface)]
#[graphql(
    field(name = "id", ty = "ID", desc = "Globally unique, opaque id."),
    field(
        name = "kind",
        ty = "OrganizationKind",
        desc = "What kind of organisation this is."
    ),
    field(
        name = "code",
        ty = "String",
        desc = "The organisation's code: JIS code for a prefecture, local-government code for a municipality, registry code otherwise."
    ),
    field(name = "name", ty = "String", desc = "Official name in Japanese."),
    field(
        name = "name_kana",
        ty = "Option<String>",
        desc = "Reading of the name in kana."
    ),
    field(name = "name_romaji", ty = "Option<String>", desc = "Romanised name."),
    field(
        name = "parent",
        ty = "Option<OrganizationNode>",
        desc = "The organisation above this one in the hierarchy; null for the nation."
    ),
    field(
        name = "created_at",
        ty = "Timestamp",
        desc = "When the record was created (UTC)."
    ),
    field(
        name = "updated_at",
        ty = "Timestamp",
        desc = "When the record last changed (UTC)."
    )
)]
#[graphql(name = "Organization")]
pub enum OrganizationNode {
    Nation(Nation),
    Prefecture(Prefecture),
    Municipality(Municipality),
    Facility(Facility),
    PartnerOrganization(PartnerOrganization),
}

impl From<OrganizationRecord> for OrganizationNode {
    fn from(record: OrganizationRecord) -> Self {
        match record.kind() {
            OrganizationKind::Nation => OrganizationNode::Nation(Nation(record)),
            OrganizationKind::Prefecture => OrganizationNode::Prefecture(Prefecture(record)),
            OrganizationKind::Municipality => OrganizationNode::Municipality(Municipality(record)),
            OrganizationKind::Facility => OrganizationNode::Facility(Facility(record)),
            _ => OrganizationNode::PartnerOrganization(PartnerOrganization(record)),
        }
    }
}

/// Loads an organisation that the database guarantees exists (a foreign key points at it).
pub async fn load_required(
    ctx: &Context<'_>,
    id: Option<&str>,
) -> async_graphql::Result<OrganizationRecord> {
    let id = id.ok_or_else(|| AppError::Internal(anyhow::anyhow!("missing area reference")))?;
    load_organization(ctx, id).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("dangling organisation reference {id}")).into()
    })
}

/// Runs a paginated organisation list and wraps each row as `T`.
pub async fn organization_connection<T: OutputType>(
    ctx: &Context<'_>,
    filter: OrganizationFilter,
    first: Option<i32>,
    after: Option<String>,
    wrap: fn(OrganizationRecord) -> T,
) -> async_graphql::Result<Connection<String, T>> {
    // One list per kind set: a municipalities cursor is no facilities cursor.
    let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_db()).collect();
    let page = PageRequest::parse(
        &format!("organizations:{}", kinds.join("+")),
        first,
        after,
        2,
    )?;
    let rows = store::list(ctx.data_unchecked::<Db>(), &filter, &page).await?;
    let (rows, has_next) = split_page(rows, &page);
    prefetch(ctx, referenced_ids(ctx, &rows)).await?;
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(rows.into_iter().map(|row| {
        let cursor = page.cursor(&[row.kind.as_db(), &row.code]);
        Edge::new(cursor, wrap(row))
    }));
    Ok(connection)
}

/// The organisations the requested fields of these rows will load (their area and parent), so
/// that one statement fetches them all. Municipality → prefecture is covered too: a row's
/// prefecture is its municipality's prefecture.
fn referenced_ids(ctx: &Context<'_>, rows: &[OrganizationRecord]) -> Vec<String> {
    let node = ctx.look_ahead().field("edges").field("node");
    let wants = |field: &str| node.field(field).exists();
    let (parent, municipality, prefecture) =
        (wants("parent"), wants("municipality"), wants("prefecture"));
    // A municipality's prefecture is asked for one level down.
    let nested_prefecture = node.field("municipality").field("prefecture").exists();
    let mut ids = Vec::new();
    for row in rows {
        if parent {
            ids.extend(row.parent_id.clone());
        }
        if municipality {
            ids.extend(row.municipality_id.clone());
        }
        if prefecture || nested_prefecture {
            ids.extend(row.prefecture_id.clone());
        }
    }
    ids
}

/// Estimated complexity of one row of a nested list (see `organization_object!`).
const NESTED_ROW_COMPLEXITY: usize = 10;

/// The GraphQL object of an organisation type: the fields every organisation shares, then its
/// own. The hierarchy declares every kind of organisation (the `Organization` interface lists
/// them); the area that owns a kind implements its object with this macro, so the hierarchy
/// never imports the areas above it (facilities implement `Facility`).
#[macro_export]
macro_rules! organization_impl {
    ($(#[$meta:meta])* $ty:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        #[async_graphql::Object]
        impl $ty {
            /// Globally unique, opaque id.
            pub async fn id(&self) -> async_graphql::ID {
                $crate::graphql::ids::global_id(stringify!($ty), &self.0.id)
            }

            /// What kind of organisation this is.
            pub async fn kind(&self) -> $crate::organizations::OrganizationKind {
                self.0.kind()
            }

            /// The organisation's code: JIS code for a prefecture, local-government code for a
            /// municipality, registry code otherwise.
            pub async fn code(&self) -> String {
                self.0.code.clone()
            }

            /// Official name in Japanese.
            pub async fn name(&self) -> String {
                self.0.name.clone()
            }

            /// Reading of the name in kana.
            pub async fn name_kana(&self) -> Option<String> {
                self.0.name_kana.clone()
            }

            /// Romanised name.
            pub async fn name_romaji(&self) -> Option<String> {
                self.0.name_romaji.clone()
            }

            /// The organisation above this one in the hierarchy; null for the nation.
            pub async fn parent(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<Option<$crate::organizations::OrganizationNode>> {
                match &self.0.parent_id {
                    Some(id) => Ok($crate::organizations::load_organization(ctx, id)
                        .await?
                        .map($crate::organizations::OrganizationNode::from)),
                    None => Ok(None),
                }
            }

            /// When the record was created (UTC).
            pub async fn created_at(&self) -> $crate::clock::Timestamp {
                self.0.created_at
            }

            /// When the record last changed (UTC).
            pub async fn updated_at(&self) -> $crate::clock::Timestamp {
                self.0.updated_at
            }

            $($fields)*
        }
    };
}

/// Declares an organisation type of the hierarchy and implements its object.
macro_rules! organization_object {
    ($(#[$meta:meta])* $ty:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $ty(pub OrganizationRecord);

        $crate::organization_impl! { $(#[$meta])* $ty { $($fields)* } }
    };
}

organization_object! {
    /// The nation (国): the ministry that runs the campaign.
    Nation {}
}

organization_object! {
    /// A prefecture (都道府県).
    Prefecture {
        /// The prefecture's six-digit local-government code (e.g. Tokyo "130001").
        async fn local_government_code(&self) -> String {
            PrefectureCode::parse(&self.0.code)
                .map(|code| code.local_government_code().as_string())
                .unwrap_or_default()
        }

        /// The prefecture's municipalities, by local-government code.
        // Inside `organization_object!` the macro's hygiene hides `child_complexity`; a fixed
        // per-row estimate still makes the page size count.
        #[graphql(complexity = "page_complexity(first, NESTED_ROW_COMPLEXITY)")]
        async fn municipalities(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
            #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        ) -> async_graphql::Result<Connection<String, Municipality>> {
            let filter = OrganizationFilter {
                kinds: vec![OrganizationKind::Municipality],
                prefecture_id: Some(self.0.id.clone()),
                ..Default::default()
            };
            organization_connection(ctx, filter, first, after, Municipality).await
        }
    }
}

organization_object! {
    /// A municipality (市区町村): a city, special ward, town or village.
    Municipality {
        /// The prefecture the municipality belongs to.
        async fn prefecture(&self, ctx: &Context<'_>) -> async_graphql::Result<Prefecture> {
            load_required(ctx, self.0.prefecture_id.as_deref()).await.map(Prefecture)
        }

        /// Facilities in the municipality, by code.
        // Inside `organization_object!` the macro's hygiene hides `child_complexity`; a fixed
        // per-row estimate still makes the page size count.
        #[graphql(complexity = "page_complexity(first, NESTED_ROW_COMPLEXITY)")]
        async fn facilities(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "Only facilities of this type.")] facility_type: Option<FacilityType>,
            #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
            #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        ) -> async_graphql::Result<Connection<String, Facility>> {
            let filter = OrganizationFilter {
                kinds: vec![OrganizationKind::Facility],
                municipality_id: Some(self.0.id.clone()),
                facility_type,
                ..Default::default()
            };
            organization_connection(ctx, filter, first, after, Facility).await
        }
    }
}

/// A facility (its GraphQL object is implemented by the facilities area:
/// `crate::facilities::facility_type`).
#[derive(Clone)]
pub struct Facility(pub OrganizationRecord);

organization_object! {
    /// An organisation outside the administrative hierarchy: manufacturer, wholesaler, dry-ice
    /// supplier, needle/syringe warehouse, aggregator, medical association or service desk.
    PartnerOrganization {
        /// The prefecture the organisation is based in, when it belongs to one.
        async fn prefecture(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Prefecture>> {
            match &self.0.prefecture_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Prefecture)),
                None => Ok(None),
            }
        }

        /// The municipality the organisation is based in, when it belongs to one.
        async fn municipality(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Municipality>> {
            match &self.0.municipality_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Municipality)),
                None => Ok(None),
            }
        }
    }
}

//! The GraphQL face of the organisation hierarchy.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Interface, Object, OutputType};

use super::codes::PrefectureCode;
use super::loader::{load_organization, prefetch};
use super::model::{FacilityType, OrganizationKind, OrganizationRecord, SupplyType};
use super::store::{self, OrganizationFilter};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::ids::global_id;
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
async fn load_required(
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

/// Expands to an organisation type: the fields every organisation shares, then its own.
macro_rules! organization_object {
    ($(#[$meta:meta])* $ty:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $ty(pub OrganizationRecord);

        $(#[$meta])*
        #[Object]
        impl $ty {
            /// Globally unique, opaque id.
            pub async fn id(&self) -> ID {
                global_id(stringify!($ty), &self.0.id)
            }

            /// What kind of organisation this is.
            pub async fn kind(&self) -> OrganizationKind {
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
            pub async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<OrganizationNode>> {
                match &self.0.parent_id {
                    Some(id) => Ok(load_organization(ctx, id).await?.map(OrganizationNode::from)),
                    None => Ok(None),
                }
            }

            /// When the record was created (UTC).
            pub async fn created_at(&self) -> Timestamp {
                self.0.created_at
            }

            /// When the record last changed (UTC).
            pub async fn updated_at(&self) -> Timestamp {
                self.0.updated_at
            }

            $($fields)*
        }
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

organization_object! {
    /// A facility that vaccinates (医療機関・接種会場): a clinic, hospital or special venue,
    /// supplied directly (basic-type) or through a basic-type facility (satellite).
    Facility {
        /// What kind of place this is.
        async fn facility_type(&self) -> Option<FacilityType> {
            self.0.facility_type.as_deref().and_then(FacilityType::from_db)
        }

        /// Postal code, as "123-4567".
        async fn postal_code(&self) -> Option<String> {
            self.0.postal_code.clone()
        }

        /// Street address in Japanese, from the prefecture down.
        async fn address(&self) -> Option<String> {
            self.0.address.clone()
        }

        /// Latitude in degrees (WGS 84).
        async fn latitude(&self) -> Option<f64> {
            self.0.latitude
        }

        /// Longitude in degrees (WGS 84).
        async fn longitude(&self) -> Option<f64> {
            self.0.longitude
        }

        /// Telephone number for the public.
        async fn phone(&self) -> Option<String> {
            self.0.phone.clone()
        }

        /// The municipality the facility is in.
        async fn municipality(&self, ctx: &Context<'_>) -> async_graphql::Result<Municipality> {
            load_required(ctx, self.0.municipality_id.as_deref()).await.map(Municipality)
        }

        /// The prefecture the facility is in.
        async fn prefecture(&self, ctx: &Context<'_>) -> async_graphql::Result<Prefecture> {
            load_required(ctx, self.0.prefecture_id.as_deref()).await.map(Prefecture)
        }

        /// Representative's name (代表者名): personal data, for the facility's area only.
        async fn representative_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
            crate::facilities::private_representative_name(ctx, &self.0)
        }

        /// Vaccines handled (取扱いワクチン), as product codes.
        async fn vaccines_handled(&self) -> Vec<String> {
            self.0.vaccines_handled.as_deref().and_then(|v| serde_json::from_str(v).ok()).unwrap_or_default()
        }

        /// Whether the facility vaccinates the general public (一般受入).
        async fn general_acceptance(&self) -> bool {
            self.0.general_acceptance()
        }

        /// Whether its municipality may enter data for it (代行入力).
        async fn proxy_input(&self) -> bool {
            self.0.proxy_input()
        }

        /// Doses it can give per week (接種可能量).
        async fn weekly_capacity(&self) -> Option<i64> {
            self.0.weekly_capacity
        }

        /// Opening hours, for the navigator.
        async fn opening_hours(&self) -> Option<String> {
            self.0.opening_hours.clone()
        }

        /// Parking, for the navigator.
        async fn parking_notes(&self) -> Option<String> {
            self.0.parking_notes.clone()
        }

        /// Access by public transport, for the navigator.
        async fn access_notes(&self) -> Option<String> {
            self.0.access_notes.clone()
        }

        /// How the facility receives vaccine: directly (basic-type) or through a basic-type
        /// facility (satellite).
        async fn supply_type(&self) -> SupplyType {
            self.0.supply()
        }

        /// The basic-type facility supplying this satellite (基本型接種施設); null for a
        /// basic-type facility. An approval field.
        async fn basic_facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
            match &self.0.basic_facility_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Facility)),
                None => Ok(None),
            }
        }

        /// The municipality running this special venue (特設会場); it edits the venue without
        /// the proxy flag. Null for other facilities.
        async fn operating_municipality(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Municipality>> {
            match &self.0.operating_municipality_id {
                Some(id) => Ok(load_organization(ctx, id).await?.map(Municipality)),
                None => Ok(None),
            }
        }

        /// Registered doctors (personal data: the facility's area only).
        async fn doctors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<crate::facilities::Doctor>> {
            crate::facilities::private_doctors(ctx, &self.0).await
        }

        /// Vaccination contracts (the facility's area only).
        async fn contracts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<crate::facilities::Contract>> {
            crate::facilities::private_contracts(ctx, &self.0).await
        }

        /// The wholesaler delivering to the facility (the facility's area and the wholesaler
        /// itself).
        async fn delivering_wholesaler(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PartnerOrganization>> {
            crate::facilities::delivering_wholesaler(ctx, &self.0).await
        }

        /// Whether the facility may receive allocations and offer reservations, and why not
        /// (the facility's area only).
        async fn eligibility(&self, ctx: &Context<'_>) -> async_graphql::Result<crate::facilities::Eligibility> {
            crate::facilities::private_eligibility(ctx, &self.0).await
        }

        /// Whether a change to the approval fields waits for the municipality (PENDING, 申請中),
        /// was rejected (REJECTED), or nothing waits (NONE): the latest request's state (the
        /// facility's area only).
        async fn approval_status(&self, ctx: &Context<'_>) -> async_graphql::Result<super::ApprovalStatus> {
            crate::facilities::private_approval_status(ctx, &self.0).await
        }

        /// The change request waiting for the municipality, if any (the facility's area only).
        async fn pending_change_request(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<crate::facilities::FacilityChangeRequest>> {
            crate::facilities::private_pending_change_request(ctx, &self.0).await
        }
    }
}

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

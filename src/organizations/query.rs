//! Queries over the organisation hierarchy.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};

use super::codes::{MunicipalityCode, PrefectureCode};
use super::loader::load_organization;
use super::model::{FacilityType, OrganizationKind};
use super::store::{self, OrganizationFilter};
use super::types::{Facility, Municipality, OrganizationNode, Prefecture, organization_connection};
use crate::actor::require_actor;
use crate::authz::area_filter;
use crate::db::Db;
use crate::error::AppError;
use crate::graphql::ids::parse_global_id;
use crate::graphql::pagination::page_complexity;

/// Longest accepted name search text.
const MAX_SEARCH_LENGTH: usize = 100;

#[derive(Default)]
pub struct OrganizationQuery;

// Resolver arguments are the GraphQL field's arguments; a long list is the API, not a smell.
#[allow(clippy::too_many_arguments)]
#[Object]
impl OrganizationQuery {
    /// The 47 prefectures, by JIS code.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn prefectures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Prefecture>> {
        let filter = OrganizationFilter {
            kinds: vec![OrganizationKind::Prefecture],
            ..Default::default()
        };
        organization_connection(ctx, filter, first, after, Prefecture).await
    }

    /// One prefecture by its two-digit JIS code ("13" is Tokyo); null when absent.
    async fn prefecture(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Two-digit JIS X 0401 code, \"01\" to \"47\".")] code: String,
    ) -> async_graphql::Result<Option<Prefecture>> {
        let code = PrefectureCode::parse(&code)?;
        let record = store::find_by_code(
            ctx.data_unchecked::<Db>(),
            OrganizationKind::Prefecture,
            &code.as_string(),
        )
        .await?;
        Ok(record.map(Prefecture))
    }

    /// Municipalities by local-government code, optionally within one prefecture or matching
    /// a name.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only municipalities of this prefecture (JIS code, e.g. \"13\").")]
        prefecture_code: Option<String>,
        #[graphql(desc = "Part of the name, kana or romanised name (case-insensitive).")]
        name_contains: Option<String>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Municipality>> {
        let mut filter = OrganizationFilter {
            kinds: vec![OrganizationKind::Municipality],
            name_contains: search_text(name_contains)?,
            ..Default::default()
        };
        if let Some(code) = prefecture_code {
            filter.prefecture_code = Some(PrefectureCode::parse(&code)?.as_string());
        }
        organization_connection(ctx, filter, first, after, Municipality).await
    }

    /// One municipality by its six-digit local-government code (check digit validated); null
    /// when absent.
    async fn municipality(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Six-digit local-government code, check digit included (e.g. \"131105\")."
        )]
        code: String,
    ) -> async_graphql::Result<Option<Municipality>> {
        let code = MunicipalityCode::parse(&code)?;
        let record = store::find_by_code(
            ctx.data_unchecked::<Db>(),
            OrganizationKind::Municipality,
            &code.as_string(),
        )
        .await?;
        Ok(record.map(Municipality))
    }

    /// Facilities (clinics, hospitals, venues) by code, filtered by area, type or name.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn facilities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only facilities in this prefecture (JIS code).")] prefecture_code: Option<
            String,
        >,
        #[graphql(desc = "Only facilities in this municipality (local-government code).")]
        municipality_code: Option<String>,
        #[graphql(desc = "Only facilities of this type.")] facility_type: Option<FacilityType>,
        #[graphql(desc = "Part of the name, kana or romanised name (case-insensitive).")]
        name_contains: Option<String>,
        #[graphql(
            desc = "Only facilities whose latest change request is in this state (PENDING: the municipality's queue). Signed-in users only; lists only facilities in the caller's area."
        )]
        approval_status: Option<super::ApprovalStatus>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Facility>> {
        let mut filter = OrganizationFilter {
            kinds: vec![OrganizationKind::Facility],
            facility_type,
            name_contains: search_text(name_contains)?,
            ..Default::default()
        };
        if let Some(status) = approval_status {
            // The approval status is the facility's private data: the filter is limited to
            // what the caller may read (authz ReadFacilityPrivate is the area).
            let actor = require_actor(ctx)?;
            filter.approval_status = Some(status);
            filter.area = area_filter(actor).column();
        }
        // A valid code that names no area gives an empty list, as any filter matching nothing.
        if let Some(code) = prefecture_code {
            filter.prefecture_code = Some(PrefectureCode::parse(&code)?.as_string());
        }
        if let Some(code) = municipality_code {
            filter.municipality_code = Some(MunicipalityCode::parse(&code)?.as_string());
        }
        organization_connection(ctx, filter, first, after, Facility).await
    }

    /// Any organisation by global id. An unknown id is `NOT_FOUND`.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's global id.")] id: ID,
    ) -> async_graphql::Result<OrganizationNode> {
        let (_, row_id) = parse_global_id(&id)?;
        let record = load_organization(ctx, &row_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        Ok(record.into())
    }

    /// Organisations of one kind (for example every MANUFACTURER), by code.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which kind of organisation to list.")] kind: OrganizationKind,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, OrganizationNode>> {
        let filter = OrganizationFilter {
            kinds: vec![kind],
            ..Default::default()
        };
        organization_connection(ctx, filter, first, after, OrganizationNode::from).await
    }
}

fn search_text(text: Option<String>) -> Result<Option<String>, AppError> {
    match text.map(|t| t.trim().to_owned()) {
        Some(t) if t.chars().count() > MAX_SEARCH_LENGTH => Err(AppError::invalid_field(
            "nameContains",
            format!("search text must be at most {MAX_SEARCH_LENGTH} characters"),
        )),
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

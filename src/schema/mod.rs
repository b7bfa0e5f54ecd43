//! The GraphQL schema, assembled at the top: every area contributes its query, mutation and
//! subscription roots and its types; nothing below imports this module.

pub mod execution;
mod node;

pub use node::Node;

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::allocation::{AllocationMutation, AllocationQuery};
use crate::audit::{AuditEntryView, AuditQuery};
use crate::db::Db;
use crate::events::{EventSubscription, Events};
use crate::facilities::RegistrationMutation;
use crate::facilities::{
    Contract, DeliveringWholesalerLoader, FacilityChangeRequest, FacilityMutation, FacilityQuery,
    FacilitySubscription, PartnerMutation, PartnerQuery, PowerOfAttorney,
};
use crate::graphql::{Limits, documents, errors};
use crate::identity::{Identity, IdentityMutation, IdentityQuery};
use crate::organizations::{
    Facility, Municipality, OrganizationLoader, OrganizationNode, OrganizationQuery, Prefecture,
};

use node::NodeQuery;

#[derive(MergedObject, Default)]
pub struct Query(
    OrganizationQuery,
    NodeQuery,
    IdentityQuery,
    AuditQuery,
    FacilityQuery,
    PartnerQuery,
    AllocationQuery,
    crate::delivery::DeliveryQuery,
    crate::reservations::ReservationQuery,
    crate::navigator::NavigatorQuery,
    crate::statistics::StatisticsQuery,
    crate::notices::NoticeQuery,
    crate::documents::DocumentQuery,
    crate::knowledge::KnowledgeQuery,
    crate::residents::ResidentQuery,
    crate::billing::BillingQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    IdentityMutation,
    FacilityMutation,
    RegistrationMutation,
    PartnerMutation,
    AllocationMutation,
    crate::delivery::DeliveryMutation,
    crate::reports::ReportMutation,
    crate::reservations::ReservationMutation,
    crate::navigator::NavigatorMutation,
    crate::notices::NoticeMutation,
    crate::documents::DocumentMutation,
    crate::knowledge::KnowledgeMutation,
    crate::residents::ResidentMutation,
    crate::billing::BillingMutation,
);

/// Realtime feeds over the websocket on /graphql (graphql-transport-ws or the legacy graphql-ws).
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    EventSubscription,
    FacilitySubscription,
    crate::allocation::AllocationSubscription,
    crate::delivery::DeliverySubscription,
    crate::navigator::NavigatorSubscription,
    crate::statistics::StatisticsSubscription,
    crate::documents::DocumentSubscription,
    crate::residents::ResidentSubscription,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// What the resolvers need at run time. Absent when `vsys schema` prints the SDL without a
/// database.
pub struct Services {
    pub db: Db,
    pub events: Arc<Events>,
    pub identity: Arc<Identity>,
    pub navigator: Arc<crate::navigator::Navigator>,
    /// Signs the download links of generated files.
    pub downloads: Arc<crate::documents::files::LinkSigner>,
    /// Where generated files are kept.
    pub files: Arc<dyn crate::documents::files::FileStore>,
    /// How long generated documents are kept.
    pub retention: crate::documents::files::Retention,
}

/// Builds the schema.
pub fn build_schema(services: Option<Services>, limits: Limits) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(10)
    // No extensions: `execution` applies the request policies around the schema, so that
    // async-graphql resolves fields without an extension chain.
    .data(errors::ErrorPolicy::new(
        limits.max_aliases,
        limits.introspection,
    ))
    // Parsed documents by query text, shared by HTTP requests and websocket subscriptions.
    .data(documents::DocumentCache::default())
    .override_output_type_description::<Mutation>(
        "Changes. Every mutation is authorised by role and area, and audited.",
    )
    .override_output_type_description::<Query>(
        "Read access to every entity. Lists are Relay connections: pass `first` (at most 100) \
             and the previous page's `endCursor` as `after`.",
    )
    .override_output_type_description::<Connection<String, Prefecture>>("A page of prefectures.")
    .override_output_type_description::<Connection<String, Municipality>>(
        "A page of municipalities.",
    )
    .override_output_type_description::<Connection<String, Facility>>("A page of facilities.")
    .override_output_type_description::<Connection<String, OrganizationNode>>(
        "A page of organisations.",
    )
    .override_output_type_description::<Connection<String, AuditEntryView>>(
        "A page of audit log entries.",
    )
    .override_output_type_description::<Connection<String, FacilityChangeRequest>>(
        "A page of facility change requests.",
    )
    .override_output_type_description::<Connection<String, Contract>>("A page of contracts.")
    .override_output_type_description::<Connection<String, PowerOfAttorney>>(
        "A page of powers of attorney.",
    )
    .override_output_type_description::<Connection<String, crate::delivery::Delivery>>(
        "A page of deliveries.",
    )
    .override_output_type_description::<Connection<String, crate::reservations::Reservation>>(
        "A page of reservations.",
    );
    if !limits.introspection {
        // Without introspection, field suggestions would leak the schema one guess at a time.
        builder = builder.disable_introspection().disable_suggestions();
    }
    if let Some(Services {
        db,
        events,
        identity,
        navigator,
        downloads,
        files,
        retention,
    }) = services
    {
        builder = builder
            .data(OrganizationLoader::shared(db.clone()))
            .data(crate::facilities::PendingRequestLoader::shared(db.clone()))
            .data(DeliveringWholesalerLoader::shared(db.clone()))
            .data(db)
            .data(events)
            .data(identity)
            .data(navigator)
            .data(downloads)
            .data(files)
            .data(retention);
    }
    builder.finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build_schema(None, Limits::default()).sdl()
}

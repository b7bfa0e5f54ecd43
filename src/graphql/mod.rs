//! The GraphQL schema: every domain area contributes its query and subscription roots.

pub mod documents;
pub mod errors;
pub mod execution;
pub mod node;
pub mod pagination;
pub mod scalars;

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::audit::{AuditEntryView, AuditQuery};
use crate::db::Db;
use crate::events::{EventSubscription, Events};
use crate::facilities::RegistrationMutation;
use crate::facilities::{
    Contract, DeliveringWholesalerLoader, FacilityChangeRequest, FacilityMutation, FacilityQuery,
    FacilitySubscription, PartnerMutation, PartnerQuery, PowerOfAttorney,
};
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
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    IdentityMutation,
    FacilityMutation,
    RegistrationMutation,
    PartnerMutation,
);

/// Realtime feeds over the websocket on /graphql (graphql-transport-ws or the legacy graphql-ws).
#[derive(MergedSubscription, Default)]
pub struct Subscription(EventSubscription, FacilitySubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Query limits; the defaults suit every operation in `playground/` with room to spare.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 30,
            introspection: true,
        }
    }
}

/// What the resolvers need at run time. Absent when `vsys schema` prints the SDL without a
/// database.
pub struct Services {
    pub db: Db,
    pub events: Arc<Events>,
    pub identity: Arc<Identity>,
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
    );
    if !limits.introspection {
        // Without introspection, field suggestions would leak the schema one guess at a time.
        builder = builder.disable_introspection().disable_suggestions();
    }
    if let Some(Services {
        db,
        events,
        identity,
    }) = services
    {
        builder = builder
            .data(OrganizationLoader::shared(db.clone()))
            .data(crate::facilities::PendingRequestLoader::shared(db.clone()))
            .data(DeliveringWholesalerLoader::shared(db.clone()))
            .data(db)
            .data(events)
            .data(identity);
    }
    builder.finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build_schema(None, Limits::default()).sdl()
}

/// True when nothing was executed: the document did not parse or validate, or its variables
/// did not coerce. Errors raised during execution always carry a path.
pub fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// An executable request from the transport-level parameters (HTTP body or query string,
/// websocket `subscribe` payload).
pub fn request_from_parts(
    query: String,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    operation_name: Option<String>,
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
) -> async_graphql::Request {
    let mut request = async_graphql::Request::new(query);
    if let Some(variables) = variables {
        request = request.variables(async_graphql::Variables::from_json(
            serde_json::Value::Object(variables),
        ));
    }
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    if let Some(extensions) = extensions {
        request.extensions.0 = extensions
            .into_iter()
            .filter_map(|(k, v)| async_graphql::Value::from_json(v).ok().map(|v| (k, v)))
            .collect();
    }
    request
}

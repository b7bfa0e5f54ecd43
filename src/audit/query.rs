//! `Query.auditLog`: for the nation and the service desk.

use super::store::{self, AuditEntry, LogFilter};
use super::{Entry, Outcome, record_alone};
use crate::actor::{current_actor, request_meta};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Json, Object};

/// How an audited operation ended.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AuditOutcome", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AuditOutcomeFilter {
    /// It was carried out.
    Success,
    /// It failed (a wrong password, an invalid code …).
    Failure,
    /// It was refused by authorization.
    Denied,
}

/// Which entries to list; filters combine with AND.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Entries at or after this instant.
    pub from: Option<Timestamp>,
    /// Entries before this instant.
    pub to: Option<Timestamp>,
    /// Entries of this username (actor, or the username tried at a failed sign-in).
    pub username: Option<String>,
    /// Entries of this operation, e.g. "signIn".
    pub operation: Option<String>,
    /// Entries about this object (the row id inside a global id).
    pub object_id: Option<String>,
    /// Entries with this outcome.
    pub outcome: Option<AuditOutcomeFilter>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first. For NATION and SYSTEM_ADMIN; reading it is itself logged.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries to list.")] filter: Option<AuditLogFilter>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntryView>> {
        let actor = current_actor(ctx);
        decide(actor, Action::ReadAuditLog, Target::System)?;
        let page = PageRequest::parse("auditLog", first, after, 2)?;
        let filter = filter.unwrap_or_default();
        let db = ctx.data_unchecked::<Db>();

        let outcome = filter.outcome.map(|outcome| match outcome {
            AuditOutcomeFilter::Success => Outcome::Success,
            AuditOutcomeFilter::Failure => Outcome::Failure,
            AuditOutcomeFilter::Denied => Outcome::Denied,
        });
        let log_filter = LogFilter {
            from: filter.from,
            to: filter.to,
            username: filter
                .username
                .map(|u| crate::actor::Username::from_input(&u).into_string()),
            operation: filter.operation,
            object_id: filter.object_id,
            outcome,
        };
        let rows = store::list(db, &log_filter, &page).await?;
        let (rows, has_next) = split_page(rows, &page);

        record_alone(
            db,
            &request_meta(ctx),
            Entry::new("auditLog", Outcome::Success, actor)
                .detail(format!("{} entries read", rows.len())),
        )
        .await?;

        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| {
            let cursor = page.cursor(&[&row.occurred_at.to_string(), &row.id]);
            Edge::new(cursor, AuditEntryView(row))
        }));
        Ok(connection)
    }
}

pub struct AuditEntryView(AuditEntry);

/// One audit log entry, with its before and after states as JSON.
#[Object(name = "AuditEntry")]
impl AuditEntryView {
    /// The entry's id.
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// When it happened (UTC).
    async fn occurred_at(&self) -> Timestamp {
        self.0.occurred_at
    }
    /// The acting user's username, or the username tried at a failed sign-in.
    async fn actor_username(&self) -> Option<&str> {
        self.0.actor_username.as_deref()
    }
    /// The acting user's role.
    async fn actor_role(&self) -> Option<&str> {
        self.0.actor_role.as_deref()
    }
    /// The acting user's organisation (row id).
    async fn actor_organization_id(&self) -> Option<&str> {
        self.0.actor_organization_id.as_deref()
    }
    /// The operation, e.g. "signIn", "inviteUser".
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// SUCCESS, FAILURE or DENIED.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// The kind of object concerned, e.g. "User".
    async fn object_type(&self) -> Option<&str> {
        self.0.object_type.as_deref()
    }
    /// The object concerned (row id).
    async fn object_id(&self) -> Option<&str> {
        self.0.object_id.as_deref()
    }
    /// The organisation concerned (row id).
    async fn organization_id(&self) -> Option<&str> {
        self.0.organization_id.as_deref()
    }
    /// The object's state before the change.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0
            .before_state
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .map(Json)
    }
    /// The object's state after the change.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0
            .after_state
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .map(Json)
    }
    /// Free-text detail.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// Client address.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    /// The request id (x-request-id) that carried the operation.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

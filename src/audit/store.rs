//! The audit log's reads (writes are `audit::record`). One function per read; resolvers hold no
//! SQL.

use crate::clock::Timestamp;
use sqlx::AssertSqlSafe;

use super::Outcome;
use crate::db::{Db, Filter};
use crate::error::AppResult;
use crate::graphql::pagination::PageRequest;

/// One audit log row.
#[derive(sqlx::FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: Timestamp,
    pub actor_username: Option<String>,
    pub actor_role: Option<String>,
    pub actor_organization_id: Option<String>,
    pub operation: String,
    pub outcome: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub organization_id: Option<String>,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// Which entries to read; every part is optional and they combine with AND.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Normalised, as usernames are stored.
    pub username: Option<String>,
    pub operation: Option<String>,
    pub object_id: Option<String>,
    pub outcome: Option<Outcome>,
}

/// A page of entries, newest first (served by the `audit_log_time_id` index).
pub async fn list(db: &Db, filter: &LogFilter, page: &PageRequest) -> AppResult<Vec<AuditEntry>> {
    let mut sql_filter = Filter::default();
    if let Some(from) = filter.from {
        sql_filter.and("occurred_at >= ?", [from.to_string()]);
    }
    if let Some(to) = filter.to {
        sql_filter.and("occurred_at < ?", [to.to_string()]);
    }
    if let Some(username) = &filter.username {
        sql_filter.and("actor_username = ?", [username.clone()]);
    }
    if let Some(operation) = &filter.operation {
        sql_filter.and("operation = ?", [operation.clone()]);
    }
    if let Some(object_id) = &filter.object_id {
        sql_filter.and("object_id = ?", [object_id.clone()]);
    }
    if let Some(outcome) = filter.outcome {
        sql_filter.and("outcome = ?", [outcome.as_db().to_owned()]);
    }
    if let Some(after) = &page.after {
        sql_filter.and(
            "(occurred_at, id) < (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "SELECT id, occurred_at, actor_username, actor_role, actor_organization_id, operation, outcome, \
         object_type, object_id, organization_id, before_state, after_state, detail, ip, request_id \
         FROM audit_log{} ORDER BY occurred_at DESC, id DESC LIMIT {}",
        sql_filter.where_clause(),
        page.fetch_limit()
    );
    let query = sqlx::query_as::<_, AuditEntry>(AssertSqlSafe(sql));
    Ok(sql_filter.bind(query).fetch_all(db.pool()).await?)
}

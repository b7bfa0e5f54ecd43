//! The append-only audit log: who did what, when, from where, to which object, with the state
//! before and after. Entries are written in the transaction of the change they describe, so a
//! change without its entry cannot exist. The API can read the log (`Query.auditLog`) but offers
//! no way to change or delete it.

mod query;
mod store;

pub use query::{AuditEntryView, AuditQuery};

use serde_json::Value as Json;

use crate::actor::Actor;
use crate::db::{Db, WriteTx, new_id, value_rows};
use crate::error::{AppError, AppResult};

/// How an audited operation ended.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

crate::db_enum!(Outcome);

pub use crate::actor::RequestMeta;

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub operation: &'static str,
    pub outcome: Outcome,
    /// The signed-in actor, when there is one.
    pub actor: Option<Actor>,
    /// The username that was tried, for sign-ins without an actor.
    pub attempted_username: Option<String>,
    pub object_type: Option<&'static str>,
    pub object_id: Option<String>,
    pub organization_id: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub detail: Option<String>,
}

impl Entry {
    pub fn new(operation: &'static str, outcome: Outcome, actor: Option<&Actor>) -> Self {
        Entry {
            operation,
            outcome,
            actor: actor.cloned(),
            attempted_username: None,
            object_type: None,
            object_id: None,
            organization_id: None,
            before: None,
            after: None,
            detail: None,
        }
    }

    pub fn object(mut self, object_type: &'static str, id: impl Into<String>) -> Self {
        self.object_type = Some(object_type);
        self.object_id = Some(id.into());
        self
    }

    pub fn organization(mut self, id: impl Into<String>) -> Self {
        self.organization_id = Some(id.into());
        self
    }

    pub fn change(mut self, before: Option<Json>, after: Option<Json>) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.attempted_username = Some(username.into());
        self
    }
}

/// Appends `entry` inside `tx`.
pub async fn record(tx: &mut WriteTx, meta: &RequestMeta, entry: Entry) -> AppResult<()> {
    insert(tx, vec![(meta, entry)]).await
}

/// Records several entries in one statement (a group of writes committed together).
pub async fn record_all(tx: &mut WriteTx, entries: Vec<(RequestMeta, Entry)>) -> AppResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (metas, entries): (Vec<_>, Vec<_>) = entries.into_iter().unzip();
    insert(tx, metas.iter().zip(entries).collect()).await
}

async fn insert(tx: &mut WriteTx, entries: Vec<(&RequestMeta, Entry)>) -> AppResult<()> {
    let sql = format!(
        "INSERT INTO audit_log (id, occurred_at, actor_user_id, actor_username, actor_role, \
         actor_organization_id, operation, outcome, object_type, object_id, organization_id, \
         before_state, after_state, detail, ip, request_id) VALUES {}",
        value_rows(entries.len(), 16)
    );
    let now = tx.now();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (meta, entry) in entries {
        let actor = entry.actor.as_ref();
        query = query
            .bind(new_id())
            .bind(now)
            .bind(actor.map(|a| a.user_id.clone()))
            .bind(
                actor
                    .map(|a| a.username.clone())
                    .or(entry.attempted_username),
            )
            .bind(actor.map(|a| a.role.as_db()))
            .bind(actor.map(|a| a.organization.id.clone()))
            .bind(entry.operation)
            .bind(entry.outcome.as_db())
            .bind(entry.object_type)
            .bind(entry.object_id)
            .bind(entry.organization_id)
            .bind(entry.before.map(|v| v.to_string()))
            .bind(entry.after.map(|v| v.to_string()))
            .bind(entry.detail)
            .bind(meta.ip.clone())
            .bind(meta.request_id.clone());
    }
    query.execute(tx.conn()).await?;
    Ok(())
}

/// How a refused operation is audited: DENIED for no right (or an object outside the caller's
/// area), FAILURE for bad input or a conflict; `None` for an internal error, which is logged as
/// the server's fault, not recorded as the caller's doing.
pub fn refusal_outcome(error: &AppError) -> Option<Outcome> {
    match error {
        AppError::Forbidden | AppError::NotFound(_) | AppError::Unauthenticated => {
            Some(Outcome::Denied)
        }
        AppError::InvalidInput { .. }
        | AppError::InvalidRows { .. }
        | AppError::Conflict(_)
        | AppError::Refused { .. } => Some(Outcome::Failure),
        _ => None,
    }
}

/// Audits a refused `operation` on its own (the refused change wrote nothing), naming the
/// organisation concerned when the caller knows it exists.
pub async fn record_refusal(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    operation: &'static str,
    organization_id: Option<&str>,
    error: &AppError,
) -> AppResult<()> {
    let Some(outcome) = refusal_outcome(error) else {
        return Ok(());
    };
    let mut entry = Entry::new(operation, outcome, Some(actor)).detail(error.audit_detail());
    // Only a real organisation may be named: the id of a refused object may be anything (and
    // the log's reference to it would then refuse the entry).
    if let Some(id) = organization_id {
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
        if exists > 0 {
            entry = entry.organization(id);
        }
    }
    record_alone(db, meta, entry).await
}

/// Passes `result` on, auditing it first when it is a refusal ([`record_refusal`]): the one
/// wrapper around every audited operation's checked body.
pub async fn record_if_refused<T>(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    operation: &'static str,
    organization_id: Option<&str>,
    result: AppResult<T>,
) -> AppResult<T> {
    if let Err(error) = &result {
        record_refusal(db, meta, actor, operation, organization_id, error).await?;
    }
    result
}

/// Appends `entry` in a transaction of its own (failures, whose own change was refused).
pub async fn record_alone(db: &Db, meta: &RequestMeta, entry: Entry) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    record(&mut tx, meta, entry).await?;
    tx.commit().await?;
    Ok(())
}

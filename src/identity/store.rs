//! SQL for accounts, challenges, sessions and links.

use crate::clock::Timestamp;
use sqlx::Any;

use super::model::{OrgScope, SecondFactorMethod, UserRecord};
use crate::actor::Username;
use crate::db::{Db, Exec, WriteTx};
use crate::error::AppResult;
use crate::organizations::OrganizationKind;

const USER_COLUMNS: &str = "id, organization_id, username, email, display_name, role, is_org_admin, status, \
     password_hash, password_changed_at, security_question, security_answer_hash, second_factor, \
     totp_secret, totp_pending_secret, totp_last_step, privacy_accepted_at, failed_attempts, \
     locked_until, last_sign_in_at, created_at, updated_at, privacy_policy_version";

/// The account of a username (stored, like the argument, in its normalised form).
pub async fn user_by_username(db: &Db, username: &Username) -> AppResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(username.as_str())
        .fetch_optional(db.pool())
        .await?)
}

pub async fn user_by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

pub async fn users_of_organization(db: &Db, organization_id: &str) -> AppResult<Vec<UserRecord>> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 ORDER BY username");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(organization_id)
        .fetch_all(db.pool())
        .await?)
}

/// Where an organisation sits, for area checks.
pub async fn org_scope<'c>(
    on: impl Exec<'c>,
    organization_id: &str,
) -> AppResult<Option<OrgScope>> {
    let row: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, kind, prefecture_id, municipality_id FROM organizations WHERE id = $1",
    )
    .bind(organization_id)
    .fetch_optional(on)
    .await?;
    Ok(row.and_then(|(id, kind, prefecture_id, municipality_id)| {
        Some(OrgScope {
            id,
            kind: OrganizationKind::from_db(&kind)?,
            prefecture_id,
            municipality_id,
        })
    }))
}

/// Counts one failed attempt (a wrong password or code) in one statement, so concurrent
/// failures cannot lose a count. A lock that has run out starts a fresh count; reaching the
/// threshold locks until `lock_until`.
pub async fn record_failure(
    executor: impl sqlx::Executor<'_, Database = Any>,
    user_id: &str,
    now: &Timestamp,
    threshold: i64,
    lock_until: &Timestamp,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE users SET \
           failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 \
                                  ELSE failed_attempts + 1 END, \
           locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL \
                               WHEN failed_attempts + 1 >= $3 THEN $4 \
                               ELSE locked_until END, \
           updated_at = $2 \
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(now)
    .bind(threshold)
    .bind(lock_until)
    .execute(executor)
    .await?;
    Ok(())
}

/// A challenge row (the second step of a sign-in or first login).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRecord {
    pub id: String,
    pub user_id: String,
    pub purpose: String,
    pub method: SecondFactorMethod,
    pub code_hash: Option<String>,
    pub expires_at: Timestamp,
    pub consumed_at: Option<Timestamp>,
}

pub async fn challenge_by_token(db: &Db, token_hash: &str) -> AppResult<Option<ChallengeRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, purpose, method, code_hash, expires_at, consumed_at FROM challenges \
         WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// The newest open first-login challenge of a user.
pub async fn open_first_login_challenge(
    db: &Db,
    user_id: &str,
    now: &Timestamp,
) -> AppResult<Option<ChallengeRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, purpose, method, code_hash, expires_at, consumed_at FROM challenges \
         WHERE user_id = $1 AND purpose = 'FIRST_LOGIN' AND consumed_at IS NULL AND expires_at > $2 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?)
}

/// Marks a challenge used; false when another request used it first.
pub async fn consume_challenge(tx: &mut WriteTx, id: &str, now: &Timestamp) -> AppResult<bool> {
    let done =
        sqlx::query("UPDATE challenges SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A session joined with what authentication needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

pub async fn session_by_token<'c>(
    on: impl Exec<'c>,
    token_hash: &str,
) -> AppResult<Option<SessionRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, last_seen_at, expires_at, revoked_at FROM sessions WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(on)
    .await?)
}

pub async fn session_by_id(db: &Db, id: &str) -> AppResult<Option<SessionRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, last_seen_at, expires_at, revoked_at FROM sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// A link row (set-up link or password reset).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRecord {
    pub user_id: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A set-up link row: a link also stops working when a newer one replaces it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SetupLinkRecord {
    pub user_id: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

pub async fn setup_link(db: &Db, token_hash: &str) -> AppResult<Option<SetupLinkRecord>> {
    Ok(sqlx::query_as(
        "SELECT user_id, expires_at, used_at, revoked_at FROM setup_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn password_reset(db: &Db, token_hash: &str) -> AppResult<Option<LinkRecord>> {
    Ok(sqlx::query_as(
        "SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

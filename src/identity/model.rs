//! Accounts as stored. The signed-in actor and its role live in `crate::actor`.

use crate::clock::Timestamp;
use async_graphql::Enum;

pub use crate::actor::{Actor, Obligation, OrgScope, Role};

/// How a user proves the second factor.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum SecondFactorMethod {
    /// A six-digit code sent by e-mail, valid 10 minutes, usable once.
    Email,
    /// A code from an authenticator app (TOTP, RFC 6238).
    Totp,
}

crate::db_enum!(SecondFactorMethod);

/// The state of an account.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    /// Invited; the first login has not been completed.
    Invited,
    /// In use.
    Active,
    /// Switched off by an administrator.
    Disabled,
}

crate::db_enum!(UserStatus);

/// One account row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_org_admin: bool,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<Timestamp>,
    pub security_question: Option<String>,
    pub security_answer_hash: Option<String>,
    pub second_factor: SecondFactorMethod,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub privacy_accepted_at: Option<Timestamp>,
    /// The policy version accepted (see `privacy::CURRENT_VERSION`).
    pub privacy_policy_version: Option<String>,
    pub failed_attempts: i32,
    pub locked_until: Option<Timestamp>,
    pub last_sign_in_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl UserRecord {
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_locked_at(&self, now: &Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > *now)
    }
}

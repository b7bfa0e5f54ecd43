//! The identity service: sessions and the helpers the flows share.

use crate::clock::Timestamp;
use crate::graphql::rate_limit::RateLimiter;
use std::sync::Arc;

use super::keys::IdentityKeys;
use super::model::{Actor, Obligation, Role, SecondFactorMethod, UserRecord, UserStatus};
use super::password::PasswordPolicy;
use super::privacy;
use super::secrets::hash_token;
use super::store;
use crate::actor::{OrgScope, Username};
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::config::AuthArgs;
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Sessions are touched at most this often, so that every request does not write.
const TOUCH_EVERY: time::Duration = time::Duration::seconds(30);

pub struct Identity {
    pub db: Db,
    pub config: AuthArgs,
    pub policy: PasswordPolicy,
    pub keys: IdentityKeys,
    per_ip: RateLimiter,
    per_account: RateLimiter,
}

impl Identity {
    pub fn new(db: Db, config: AuthArgs, keys: IdentityKeys) -> Arc<Identity> {
        let policy = PasswordPolicy {
            expiry_days: config.password_expiry_days,
            ..PasswordPolicy::default()
        };
        let per_ip = RateLimiter::per_minute(config.sign_in_rate_per_ip);
        let per_account = RateLimiter::per_minute(config.sign_in_rate_per_account);
        Arc::new(Identity {
            db,
            config,
            policy,
            keys,
            per_ip,
            per_account,
        })
    }

    /// Resolves a session token to the signed-in actor. `touch` records activity (HTTP
    /// requests do; a websocket's periodic re-check does not, or an open dashboard would keep
    /// a session alive for ever).
    /// A disabled account's token is refused, and the attempt audited.
    pub async fn authenticate(
        &self,
        token: &str,
        touch: bool,
        meta: &RequestMeta,
    ) -> AppResult<Actor> {
        // The session, its user and the user's organisation are read on one connection.
        let mut conn = self.db.pool().acquire().await?;
        let session = store::session_by_token(&mut *conn, &hash_token(token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let now = self.db.now();
        let user = store::user_by_id(&mut *conn, &session.user_id).await?;
        if let Some(user) = user.as_ref().filter(|u| u.status == UserStatus::Disabled) {
            audit::record_alone(
                &self.db,
                meta,
                Entry::new("authenticate", Outcome::Failure, None)
                    .username(&user.username)
                    .object("User", &user.id)
                    .organization(&user.organization_id)
                    .detail("session token of a disabled account"),
            )
            .await?;
            return Err(AppError::Unauthenticated);
        }
        if !self.session_alive(&session, &now) {
            return Err(AppError::Unauthenticated);
        }
        let user = user
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(AppError::Unauthenticated)?;
        if touch && session.last_seen_at < self.ago(TOUCH_EVERY) {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                .bind(&session.id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
        let organization = store::org_scope(&mut *conn, &user.organization_id).await?;
        self.actor_in(&user, session.id, organization)
    }

    /// Whether a session (by id) is still valid, without touching it.
    pub async fn session_valid(&self, session_id: &str) -> AppResult<bool> {
        let now = self.db.now();
        Ok(store::session_by_id(&self.db, session_id)
            .await?
            .is_some_and(|s| self.session_alive(&s, &now)))
    }

    fn session_alive(&self, session: &store::SessionRecord, now: &Timestamp) -> bool {
        let idle_limit = self.ago(time::Duration::minutes(self.config.session_idle_minutes));
        session.revoked_at.is_none()
            && session.expires_at > *now
            && session.last_seen_at >= idle_limit
    }

    /// The actor for a user of a live session, with the obligations it must meet first.
    pub async fn actor(&self, user: &UserRecord, session_id: String) -> AppResult<Actor> {
        let organization = store::org_scope(self.db.pool(), &user.organization_id).await?;
        self.actor_in(user, session_id, organization)
    }

    /// The actor for a user of `organization` (read by the caller).
    fn actor_in(
        &self,
        user: &UserRecord,
        session_id: String,
        organization: Option<OrgScope>,
    ) -> AppResult<Actor> {
        let organization = organization.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("user {} has no organisation", user.id))
        })?;
        Ok(Actor {
            user_id: user.id.clone(),
            username: user.username.clone(),
            role: user.role(),
            organization,
            is_org_admin: user.is_org_admin,
            session_id,
            obligations: self.obligations(user),
        })
    }

    pub fn obligations(&self, user: &UserRecord) -> Vec<Obligation> {
        let mut obligations = Vec::new();
        if user.role() == Role::MedicalInstitution && !privacy::accepted_current(user) {
            obligations.push(Obligation::AcceptPrivacyPolicy);
        }
        if user.status == UserStatus::Active && user.security_answer_hash.is_none() {
            obligations.push(Obligation::ChooseSecurityQuestion);
        }
        if self.password_expired(user) {
            obligations.push(Obligation::ChangePassword);
        }
        if self.config.require_totp && user.second_factor != SecondFactorMethod::Totp {
            obligations.push(Obligation::EnrollTotp);
        }
        obligations
    }

    pub fn password_expires_at(&self, user: &UserRecord) -> Option<Timestamp> {
        let changed = user.password_changed_at?;
        Some(changed + time::Duration::days(self.config.password_expiry_days))
    }

    fn password_expired(&self, user: &UserRecord) -> bool {
        self.password_expires_at(user)
            .is_some_and(|expires| expires <= self.db.now())
    }

    /// The current instant, by the server's clock.
    pub fn now(&self) -> Timestamp {
        self.db.now()
    }

    /// The instant `offset` ago.
    pub fn ago(&self, offset: time::Duration) -> Timestamp {
        self.db.now() - offset
    }

    /// The instant `offset` from now.
    pub fn from_now(&self, offset: time::Duration) -> Timestamp {
        self.db.now() + offset
    }

    /// When a lock that starts now ends.
    pub fn lock_until(&self) -> Timestamp {
        self.from_now(time::Duration::minutes(self.config.lockout_minutes))
    }

    /// Refuses a caller that has tried too often this minute, by client address and by
    /// account. The account lock (10 failures) is the durable defence; this one blunts floods.
    pub fn check_rate(&self, ip: Option<&str>, username: Option<&str>) -> AppResult<()> {
        if let Some(ip) = ip {
            self.per_ip.hit(ip.to_owned())?;
        }
        if let Some(username) = username {
            self.per_account
                .hit(Username::from_input(username).into_string())?;
        }
        Ok(())
    }
}

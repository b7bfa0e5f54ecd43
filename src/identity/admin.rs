//! Account administration: invitations and unlocks, by the service desk and by an
//! organisation's own administrators.

use serde_json::json;

use super::model::{Actor, Role, UserRecord};
use super::secrets::{hash_token, random_token};
use super::service::Identity;
use super::store;
use super::username::Username;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, Target, decide};
use crate::db::{new_id, now_utc};
use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail};

/// A new account to invite.
pub struct Invitation {
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_org_admin: bool,
}

/// What a user's record looks like in the audit log (never a secret).
pub fn audit_view(user: &UserRecord) -> serde_json::Value {
    json!({
        "username": user.username,
        "email": user.email,
        "displayName": user.display_name,
        "role": user.role,
        "organizationId": user.organization_id,
        "isOrganizationAdmin": user.is_org_admin == 1,
        "status": user.status,
        "secondFactor": user.second_factor,
        "failedAttempts": user.failed_attempts,
        "lockedUntil": user.locked_until,
    })
}

fn validate_invitation(invitation: &Invitation) -> AppResult<()> {
    let username = &invitation.username;
    let username_ok = (3..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !username_ok {
        return Err(AppError::invalid_field(
            "username",
            "a username is 3 to 64 letters, digits or . _ - @ / ユーザーIDは英数字と . _ - @ で3〜64文字です",
        ));
    }
    let email = &invitation.email;
    let email_ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !email_ok {
        return Err(AppError::invalid_field(
            "email",
            "not a valid e-mail address / メールアドレスが正しくありません",
        ));
    }
    let name = invitation.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "displayName",
            "a display name is 1 to 100 characters / 表示名は1〜100文字です",
        ));
    }
    Ok(())
}

impl Identity {
    /// Creates an INVITED account and mails its set-up link (valid 24 hours, single use).
    pub async fn invite_user(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        mut invitation: Invitation,
    ) -> AppResult<UserRecord> {
        let username = Username::from_input(&invitation.username);
        invitation.username = username.as_str().to_owned();
        let organization = store::org_scope(&self.db, &invitation.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        if let Err(error) = decide(
            Some(actor),
            Action::InviteUser,
            Target::Organization(&organization),
        ) {
            self.audit_denied(meta, actor, "inviteUser", &organization.id)
                .await?;
            return Err(error);
        }
        validate_invitation(&invitation)?;
        if !invitation.role.fits(organization.kind) {
            return Err(AppError::invalid_field(
                "role",
                format!(
                    "a {} user cannot belong to this kind of organisation / この組織にはこのロールの利用者を登録できません",
                    invitation.role.as_db()
                ),
            ));
        }
        // A name that differs from an existing one only in case or width is that account: the
        // refusal is audited (the unique index still decides a race).
        if store::user_by_username(&self.db, &username)
            .await?
            .is_some()
        {
            audit::record_alone(
                &self.db,
                meta,
                Entry::new("inviteUser", Outcome::Failure, Some(actor))
                    .organization(&organization.id)
                    .detail(format!("username {username} is taken")),
            )
            .await?;
            return Err(AppError::Conflict(
                "that username is taken / このユーザーIDは使用されています".into(),
            ));
        }
        let id = new_id();
        let now = now_utc();
        let token = random_token();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, organization_id, username, email, display_name, role, is_org_admin, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'INVITED', $8, $8)",
        )
        .bind(&id)
        .bind(&organization.id)
        .bind(invitation.username.trim())
        .bind(invitation.email.trim())
        .bind(invitation.display_name.trim())
        .bind(invitation.role.as_db())
        .bind(i32::from(invitation.is_org_admin))
        .bind(&now)
        .execute(&mut **tx)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict("that username is taken / このユーザーIDは使用されています".into()),
            other => other,
        })?;
        sqlx::query("INSERT INTO setup_links (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(hash_token(&token))
            .bind(&id)
            .bind(self.from_now(time::Duration::hours(self.config.setup_link_hours)))
            .bind(&now)
            .execute(&mut **tx)
            .await?;
        let user = store::user_by_id_in(&mut tx, &id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let link = format!(
            "{}/setup#token={token}",
            self.config.public_url.trim_end_matches('/')
        );
        mail::enqueue(
            &mut tx,
            &Mail {
                to: user.email.clone(),
                subject: "【V-SYS】アカウント登録のご案内 / Your V-SYS account".into(),
                body: format!(
                    "{name} 様\n\nV-SYS のアカウントが作成されました。ユーザーID: {username}\n\
                     次のリンクから {hours} 時間以内に初回ログインを行ってください（1 回のみ有効）。\n{link}\n\n\
                     Dear {name},\n\nA V-SYS account was created for you. Username: {username}\n\
                     Complete your first login within {hours} hours with this link (usable once):\n{link}\n\n\
                     Set-up token: {token}\n",
                    name = user.display_name,
                    username = user.username,
                    hours = self.config.setup_link_hours,
                ),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("inviteUser", Outcome::Success, Some(actor))
                .object("User", &id)
                .organization(&organization.id)
                .change(None, Some(audit_view(&user))),
        )
        .await?;
        tx.commit().await?;
        self.mailer.wake();
        Ok(user)
    }

    /// Lifts an account's lock and clears its failure count.
    pub async fn unlock_user(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
    ) -> AppResult<UserRecord> {
        let user = store::user_by_id(&self.db, user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let organization = store::org_scope(&self.db, &user.organization_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if let Err(error) = decide(
            Some(actor),
            Action::UnlockUser,
            Target::User {
                id: &user.id,
                organization: &organization,
            },
        ) {
            self.audit_denied(meta, actor, "unlockUser", &organization.id)
                .await?;
            return Err(error);
        }
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = $2, version = version + 1 WHERE id = $1")
            .bind(&user.id)
            .bind(now_utc())
            .execute(&mut **tx)
            .await?;
        let after = store::user_by_id_in(&mut tx, &user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("unlockUser", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&user.organization_id)
                .change(Some(audit_view(&user)), Some(audit_view(&after))),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(super) async fn audit_denied(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        operation: &'static str,
        organization_id: &str,
    ) -> AppResult<()> {
        audit::record_alone(
            &self.db,
            meta,
            Entry::new(operation, Outcome::Denied, Some(actor)).organization(organization_id),
        )
        .await
    }
}

//! Account administration: invitations and unlocks, by the service desk and by an
//! organisation's own administrators.

use crate::clock::Timestamp;
use serde_json::json;

use super::model::{Actor, OrgScope, Role, UserRecord, UserStatus};
use super::secrets::{hash_token, random_token};
use super::service::Identity;
use super::signin::Sessions;
use super::store;
use crate::actor::Username;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, Target, decide};
use crate::db::{WriteTx, new_id};
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
        "role": user.role.as_db(),
        "organizationId": user.organization_id,
        "isOrganizationAdmin": user.is_org_admin,
        "status": user.status,
        "secondFactor": user.second_factor,
        "failedAttempts": user.failed_attempts,
        "lockedUntil": user.locked_until,
        "securityQuestionSet": user.security_answer_hash.is_some(),
    })
}

/// Checks an e-mail address: what the mail library can send to, with a dotted domain (an
/// account of a national system is not reached at `localhost`).
pub(super) fn check_email(email: &str) -> AppResult<()> {
    let parsed = email.parse::<lettre::Address>();
    let ok = email.len() <= 254
        && parsed.is_ok_and(|address| {
            let domain = address.domain();
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            "email",
            "not a valid e-mail address / メールアドレスが正しくありません",
        ))
    }
}

pub(super) fn validate_invitation(invitation: &Invitation) -> AppResult<()> {
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
    check_email(&invitation.email)?;
    let name = invitation.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "displayName",
            "a display name is 1 to 100 characters / 表示名は1〜100文字です",
        ));
    }
    Ok(())
}

/// The answer to re-inviting a username that is in use (active, disabled, or invited elsewhere).
fn username_taken() -> AppError {
    AppError::Conflict("that username is taken / このユーザーIDは使用されています".into())
}

/// Whether an account may have set-up links already (a new account has none to revoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Earlier {
    Revoke,
    None,
}

/// What `setUserStatus` may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Disable,
    Enable,
}

impl Identity {
    /// Creates an INVITED account and mails its set-up link (valid 24 hours, single use).
    /// Inviting a username again while its invitation is unused (in the same organisation)
    /// re-sends it: the details are corrected, earlier links stop working, a new one is mailed.
    pub async fn invite_user(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        mut invitation: Invitation,
    ) -> AppResult<UserRecord> {
        let username = Username::from_input(&invitation.username);
        invitation.username = username.as_str().to_owned();
        let organization = store::org_scope(self.db.pool(), &invitation.organization_id)
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
        let checked = validate_invitation(&invitation).and_then(|()| {
            if invitation.role.fits(organization.kind) {
                Ok(())
            } else {
                Err(AppError::invalid_field(
                    "role",
                    format!(
                        "a {} user cannot belong to this kind of organisation / この組織にはこのロールの利用者を登録できません",
                        invitation.role.as_db()
                    ),
                ))
            }
        });
        if let Err(error) = checked {
            self.audit_refused(meta, actor, "inviteUser", &organization.id, None, &error)
                .await?;
            return Err(error);
        }
        // A name that differs from an existing one only in case or width is that account.
        let existing = store::user_by_username(&self.db, &username).await?;
        if let Some(existing) = existing {
            if existing.status == UserStatus::Invited && existing.organization_id == organization.id
            {
                return self
                    .resend_invitation(meta, actor, existing, invitation)
                    .await;
            }
            let error = username_taken();
            self.audit_refused(
                meta,
                actor,
                "inviteUser",
                &organization.id,
                Some(&existing.id),
                &error,
            )
            .await?;
            return Err(error);
        }
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        let user = insert_invited(&mut tx, &organization.id, &invitation, &now).await?;
        self.issue_setup_link(&mut tx, &user, &now, Earlier::None)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("inviteUser", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&organization.id)
                .change(None, Some(audit_view(&user))),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Re-sends an unused invitation with the details of the new one.
    async fn resend_invitation(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        before: UserRecord,
        invitation: Invitation,
    ) -> AppResult<UserRecord> {
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        // Conditional on the account still being invited: a first login completed meanwhile wins.
        let updated = sqlx::query(
            "UPDATE users SET email = $2, display_name = $3, role = $4, is_org_admin = $5, updated_at = $6, \
             version = version + 1 WHERE id = $1 AND status = $7",
        )
        .bind(&before.id)
        .bind(invitation.email.trim())
        .bind(invitation.display_name.trim())
        .bind(invitation.role.as_db())
        .bind(i32::from(invitation.is_org_admin))
        .bind(now)
        .bind(UserStatus::Invited)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() != 1 {
            return Err(username_taken());
        }
        let user = store::user_by_id(tx.conn(), &before.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        self.issue_setup_link(&mut tx, &user, &now, Earlier::Revoke)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("inviteUser", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&user.organization_id)
                .change(Some(audit_view(&before)), Some(audit_view(&user)))
                .detail("unused invitation re-sent; earlier links revoked"),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sends an invited account a new set-up link, for one that expired or was lost (seed p. 8:
    /// "if it expired, contact the service desk"). Earlier links stop working.
    pub async fn reissue_setup_link(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
    ) -> AppResult<UserRecord> {
        let (user, organization) = self
            .user_for(
                meta,
                actor,
                user_id,
                Action::ReissueSetupLink,
                "reissueSetupLink",
            )
            .await?;
        if user.status != UserStatus::Invited {
            let error = AppError::Conflict(
                "the first login is already done: a forgotten password is reset instead / 初回ログインは完了しています（パスワードの再設定をご利用ください）".into(),
            );
            self.audit_refused(
                meta,
                actor,
                "reissueSetupLink",
                &organization.id,
                Some(&user.id),
                &error,
            )
            .await?;
            return Err(error);
        }
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        let touched = sqlx::query(
            "UPDATE users SET updated_at = $2, version = version + 1 WHERE id = $1 AND status = $3",
        )
        .bind(&user.id)
        .bind(now)
        .bind(UserStatus::Invited)
        .execute(tx.conn())
        .await?;
        if touched.rows_affected() != 1 {
            return Err(AppError::Conflict(
                "the account changed meanwhile: look again / アカウントが更新されました。再度確認してください".into(),
            ));
        }
        let revoked = self
            .issue_setup_link(&mut tx, &user, &now, Earlier::Revoke)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("reissueSetupLink", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&user.organization_id)
                .detail(format!(
                    "new set-up link mailed; {revoked} earlier link(s) revoked"
                )),
        )
        .await?;
        tx.commit().await?;
        self.user(&user.id).await
    }

    /// Stores a new set-up link and mails it; for an existing invitation, first revokes the
    /// unused links and first-login codes. Returns how many links were revoked.
    pub(super) async fn issue_setup_link(
        &self,
        tx: &mut WriteTx,
        user: &UserRecord,
        now: &Timestamp,
        earlier: Earlier,
    ) -> AppResult<u64> {
        let revoked = match earlier {
            Earlier::Revoke => revoke_setup_links(tx, &user.id, now).await?,
            Earlier::None => 0,
        };
        let token = random_token();
        sqlx::query("INSERT INTO setup_links (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(hash_token(&token))
            .bind(&user.id)
            .bind(self.from_now(time::Duration::hours(self.config.setup_link_hours)))
            .bind(now)
            .execute(tx.conn())
            .await?;
        let link = format!(
            "{}/setup#token={token}",
            self.config.public_url.trim_end_matches('/')
        );
        let (replaced_ja, replaced_en) = if revoked > 0 {
            (
                "以前にお送りしたリンクは使用できません。\n",
                "The link sent to you earlier no longer works.\n",
            )
        } else {
            ("", "")
        };
        mail::enqueue(
            tx,
            &Mail {
                to: user.email.clone(),
                subject: "【V-SYS】アカウント登録のご案内 / Your V-SYS account".into(),
                body: format!(
                    "{name} 様\n\nV-SYS のアカウントが作成されました。ユーザーID: {username}\n\
                     次のリンクから {hours} 時間以内に初回ログインを行ってください（1 回のみ有効）。\n\
                     {replaced_ja}{link}\n\n\
                     Dear {name},\n\nA V-SYS account was created for you. Username: {username}\n\
                     Complete your first login within {hours} hours with this link (usable once).\n\
                     {replaced_en}{link}\n\n\
                     Set-up token: {token}\n",
                    name = user.display_name,
                    username = user.username,
                    hours = self.config.setup_link_hours,
                ),
            },
        )
        .await?;
        Ok(revoked)
    }

    /// Lifts an account's lock and clears its failure count.
    pub async fn unlock_user(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
    ) -> AppResult<UserRecord> {
        let (user, _) = self
            .user_for(meta, actor, user_id, Action::UnlockUser, "unlockUser")
            .await?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = $2, version = version + 1 WHERE id = $1")
            .bind(&user.id)
            .bind(self.db.now())
            .execute(tx.conn())
            .await?;
        let after = store::user_by_id(tx.conn(), &user.id)
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

    /// The service desk clears a forgotten security question and answer (seed p. 15); the user
    /// chooses new ones at the next sign-in (an obligation) and is told by mail.
    pub async fn reset_security_answer(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
    ) -> AppResult<UserRecord> {
        let (user, organization) = self
            .user_for(
                meta,
                actor,
                user_id,
                Action::ResetSecurityAnswer,
                "resetSecurityAnswer",
            )
            .await?;
        let refusal = if user.id == actor.user_id {
            Some(AppError::invalid_field(
                "userId",
                "change your own question with setSecurityQuestion / ご自身の秘密の質問は setSecurityQuestion で変更してください",
            ))
        } else if user.status != UserStatus::Active {
            Some(AppError::Conflict(
                "only an active account has a security question to reset / 有効なアカウントではありません".into(),
            ))
        } else {
            None
        };
        if let Some(error) = refusal {
            self.audit_refused(
                meta,
                actor,
                "resetSecurityAnswer",
                &organization.id,
                Some(&user.id),
                &error,
            )
            .await?;
            return Err(error);
        }
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        let cleared = sqlx::query(
            "UPDATE users SET security_question = NULL, security_answer_hash = NULL, updated_at = $2, \
             version = version + 1 WHERE id = $1 AND status = $3",
        )
        .bind(&user.id)
        .bind(now)
        .bind(UserStatus::Active)
        .execute(tx.conn())
        .await?;
        if cleared.rows_affected() != 1 {
            return Err(AppError::Conflict(
                "the account changed meanwhile: look again / アカウントが更新されました。再度確認してください".into(),
            ));
        }
        // A reset started with the old question cannot be finished any more.
        expire_password_resets(&mut tx, &user.id, &now).await?;
        let after = store::user_by_id(tx.conn(), &user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        mail::enqueue(
            &mut tx,
            &Mail {
                to: user.email.clone(),
                subject: "【V-SYS】秘密の質問がリセットされました / Your security question was reset".into(),
                body: format!(
                    "{name} 様\n\nサービスデスクが秘密の質問と答えをリセットしました。次回ログイン時に新しい質問と答えを設定してください。\n\
                     心当たりがない場合は、すぐにヘルプデスクに連絡してください。\n\n\
                     Dear {name},\n\nThe service desk reset your security question and answer. Choose new ones at your next sign-in.\n\
                     If you did not ask for this, contact the service desk at once.\n",
                    name = user.display_name
                ),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("resetSecurityAnswer", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&user.organization_id)
                .change(Some(audit_view(&user)), Some(audit_view(&after))),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Disables or re-enables an account. A disabled account cannot sign in, its sessions end at
    /// once (websockets on every instance close), and its open links stop working.
    pub async fn set_user_status(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
        change: StatusChange,
        reason: Option<String>,
    ) -> AppResult<UserRecord> {
        let (user, organization) = self
            .user_for(meta, actor, user_id, Action::SetUserStatus, "setUserStatus")
            .await?;
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let (from, to) = match change {
            StatusChange::Disable => (UserStatus::Active, UserStatus::Disabled),
            StatusChange::Enable => (UserStatus::Disabled, UserStatus::Active),
        };
        let refusal = if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            Some(AppError::invalid_field(
                "reason",
                "a reason is at most 500 characters / 理由は500文字以内です",
            ))
        } else if change == StatusChange::Disable && user.id == actor.user_id {
            Some(AppError::invalid_field(
                "userId",
                "you cannot disable your own account / ご自身のアカウントは無効にできません",
            ))
        } else if user.status == UserStatus::Invited {
            Some(AppError::Conflict(
                "the invitation has not been used yet: it has no sign-in to disable / 初回ログイン前のアカウントです".into(),
            ))
        } else {
            None
        };
        if let Some(error) = refusal {
            self.audit_refused(
                meta,
                actor,
                "setUserStatus",
                &organization.id,
                Some(&user.id),
                &error,
            )
            .await?;
            return Err(error);
        }
        if user.status == to {
            // Asked twice (two administrators at once, a retried request): nothing to do.
            return Ok(user);
        }
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        let switched = sqlx::query(
            "UPDATE users SET status = $2, updated_at = $3, version = version + 1 WHERE id = $1 AND status = $4",
        )
        .bind(&user.id)
        .bind(to)
        .bind(now)
        .bind(from)
        .execute(tx.conn())
        .await?;
        if switched.rows_affected() != 1 {
            return Err(AppError::Conflict(
                "the account changed meanwhile: look again / アカウントが更新されました。再度確認してください".into(),
            ));
        }
        if change == StatusChange::Disable {
            revoke_setup_links(&mut tx, &user.id, &now).await?;
            expire_password_resets(&mut tx, &user.id, &now).await?;
        }
        let after = store::user_by_id(tx.conn(), &user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let mut entry = Entry::new("setUserStatus", Outcome::Success, Some(actor))
            .object("User", &user.id)
            .organization(&user.organization_id)
            .change(Some(audit_view(&user)), Some(audit_view(&after)));
        if let Some(reason) = reason {
            entry = entry.detail(reason);
        }
        audit::record(&mut tx, meta, entry).await?;
        if change == StatusChange::Disable {
            // Last: the session.ended events close the user's websockets on every instance.
            let all = Sessions::AllOf {
                user_id: &user.id,
                except: None,
            };
            self.end_sessions(&mut tx, all, &user.organization_id)
                .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// The account an administrative action is about, once `decide` allows it (a denial is
    /// audited). Unknown accounts and those outside the caller's area are not found.
    async fn user_for(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        user_id: &str,
        action: Action,
        operation: &'static str,
    ) -> AppResult<(UserRecord, OrgScope)> {
        let user = store::user_by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let organization = store::org_scope(self.db.pool(), &user.organization_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let target = Target::User {
            id: &user.id,
            organization: &organization,
        };
        if let Err(error) = decide(Some(actor), action, target) {
            self.audit_denied(meta, actor, operation, &organization.id)
                .await?;
            return Err(error);
        }
        Ok((user, organization))
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

    /// Audits an administrative request refused for its content (bad input, wrong state).
    pub(super) async fn audit_refused(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        operation: &'static str,
        organization_id: &str,
        user_id: Option<&str>,
        error: &AppError,
    ) -> AppResult<()> {
        let mut entry = Entry::new(operation, Outcome::Failure, Some(actor))
            .organization(organization_id)
            .detail(format!("{}: {error}", error.code()));
        if let Some(user_id) = user_id {
            entry = entry.object("User", user_id);
        }
        audit::record_alone(&self.db, meta, entry).await
    }
}

/// Inserts an INVITED account inside `tx` and returns it.
pub(super) async fn insert_invited(
    tx: &mut WriteTx,
    organization_id: &str,
    invitation: &Invitation,
    now: &Timestamp,
) -> AppResult<UserRecord> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO users (id, organization_id, username, email, display_name, role, is_org_admin, status, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8)",
    )
    .bind(&id)
    .bind(organization_id)
    .bind(invitation.username.trim())
    .bind(invitation.email.trim())
    .bind(invitation.display_name.trim())
    .bind(invitation.role.as_db())
    .bind(i32::from(invitation.is_org_admin))
    .bind(now)
    .bind(UserStatus::Invited)
    .execute(tx.conn())
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => username_taken(),
        other => other,
    })?;
    store::user_by_id(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// Revokes a user's unused set-up links and ends the first-login codes requested with them.
async fn revoke_setup_links(tx: &mut WriteTx, user_id: &str, now: &Timestamp) -> AppResult<u64> {
    let revoked = sqlx::query(
        "UPDATE setup_links SET revoked_at = $2 WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE challenges SET expires_at = $2 WHERE user_id = $1 AND purpose = 'FIRST_LOGIN' \
         AND consumed_at IS NULL AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(revoked.rows_affected())
}

/// Ends a user's unfinished self-service password resets.
async fn expire_password_resets(tx: &mut WriteTx, user_id: &str, now: &Timestamp) -> AppResult<()> {
    sqlx::query(
        "UPDATE password_resets SET expires_at = $2 WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

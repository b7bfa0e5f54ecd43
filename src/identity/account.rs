//! A user's own account: password change, self-service reset through the security question,
//! first login from the invitation, privacy policy, authenticator enrolment.

use super::model::{Actor, SecondFactorMethod, UserRecord, UserStatus};
use super::password::{hash_password, verify_against_dummy, verify_password};
use super::secrets::{hash_token, random_token};
use super::service::Identity;
use super::signin::{IssuedChallenge, IssuedSession, Sessions};
use super::{privacy, store, totp};
use crate::actor::Username;
use crate::audit::{self, Entry, Outcome, RequestMeta};

use crate::error::{AppError, AppResult};
use crate::mail::{self, Mail};

/// Minutes a password-reset token stays valid.
const RESET_MINUTES: i64 = 30;

/// The security questions a user chooses from (秘密の質問). A fixed list, so that the decoy
/// shown for a username that does not exist looks like any real one.
pub const SECURITY_QUESTIONS: [&str; 6] = [
    "好きな色は？ / Favourite colour?",
    "最初に飼ったペットの名前は？ / Name of your first pet?",
    "出身小学校の名前は？ / Name of your primary school?",
    "母親の旧姓は？ / Your mother's maiden name?",
    "初めて住んだ町の名前は？ / The first town you lived in?",
    "好きな食べ物は？ / Favourite food?",
];

/// A security answer as compared: trimmed, case and width folded, so "Tama " equals "tama".
fn normalise_answer(answer: &str) -> String {
    answer.trim().to_lowercase()
}

/// A question from the list and an answer of sensible length; the question as stored.
fn check_security_question<'a>(question: &'a str, answer: &str) -> AppResult<&'a str> {
    let question = question.trim();
    if !SECURITY_QUESTIONS.contains(&question) {
        return Err(AppError::invalid_field(
            "securityQuestion",
            "choose one of Query.securityQuestions / 秘密の質問は一覧から選んでください",
        ));
    }
    if normalise_answer(answer).chars().count() < 2 || answer.chars().count() > 200 {
        return Err(AppError::invalid_field(
            "securityAnswer",
            "the answer must be 2 to 200 characters / 答えは2〜200文字で入力してください",
        ));
    }
    Ok(question)
}

/// Why a real set-up link no longer works.
#[derive(Debug, Clone, Copy)]
enum SetupLinkState {
    Used,
    Replaced,
    Expired,
}

impl SetupLinkState {
    fn why(self) -> &'static str {
        match self {
            SetupLinkState::Used => "set-up link already used",
            SetupLinkState::Replaced => "set-up link replaced by a newer one",
            SetupLinkState::Expired => "set-up link expired",
        }
    }

    fn error(self) -> AppError {
        let (message, reason) = match self {
            SetupLinkState::Used => (
                "this set-up link has already been used: sign in with your username and password / このリンクは使用済みです。ユーザーIDとパスワードでログインしてください",
                "SETUP_LINK_USED",
            ),
            SetupLinkState::Replaced => (
                "a newer set-up link was sent: use the link in the latest mail / 新しいリンクが送信されています。最新のメールのリンクをご利用ください",
                "SETUP_LINK_REPLACED",
            ),
            SetupLinkState::Expired => (
                "this set-up link has expired: ask the service desk or your organisation's administrator for a new one / リンクの有効期限が切れています。サービスデスクまたは組織の管理者にご連絡ください",
                "SETUP_LINK_EXPIRED",
            ),
        };
        AppError::LinkUnusable { message, reason }
    }
}

/// What `requestPasswordReset` answers.
pub struct ResetChallenge {
    pub token: String,
    pub question: String,
}

/// What `enrollTotp` answers.
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_url: String,
}

impl Identity {
    pub async fn change_password(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        current: String,
        new: String,
    ) -> AppResult<()> {
        self.check_rate(meta.ip.as_deref(), Some(&actor.username))?;
        let user = self.user(&actor.user_id).await?;
        // A locked account proves nothing more until the lock runs out, and a guess does not
        // extend the lock.
        if user.is_locked_at(&self.db.now()) {
            return Err(AppError::InvalidCredentials);
        }
        self.policy.check("newPassword", &new, &user.username)?;
        if current == new {
            return Err(AppError::invalid_field(
                "newPassword",
                "the new password must differ from the current one / 現在と異なるパスワードを設定してください",
            ));
        }
        if !verify_password(user.password_hash.clone().unwrap_or_default(), current).await {
            return Err(self
                .count_failure(meta, "changePassword", &user, "wrong current password")
                .await?);
        }
        let hash = hash_password(new).await?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3, version = version + 1 WHERE id = $1")
            .bind(&user.id)
            .bind(hash)
            .bind(self.db.now())
            .execute(tx.conn())
            .await?;
        // Other sessions end: whoever else held the old password is out.
        let others = Sessions::AllOf {
            user_id: &user.id,
            except: Some(&actor.session_id),
        };
        self.end_sessions(&mut tx, others, &user.organization_id)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("changePassword", Outcome::Success, Some(actor)).object("User", &user.id),
        )
        .await?;
        mail::enqueue(&mut tx, &password_changed_mail(&user)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a self-service reset. Unknown usernames get a decoy question and a token that
    /// will never work, so the answer does not reveal which accounts exist: the decoy is
    /// chosen by a keyed hash of the name (see `keys::DecoyPicker`), stable for a name and not
    /// computable outside the server.
    pub async fn request_password_reset(
        &self,
        meta: &RequestMeta,
        username: &str,
    ) -> AppResult<ResetChallenge> {
        let username = &Username::from_input(username);
        self.check_rate(meta.ip.as_deref(), Some(username.as_str()))?;
        let token = random_token();
        let user = store::user_by_username(&self.db, username)
            .await?
            .filter(|u| u.status == UserStatus::Active && u.security_question.is_some());
        let Some(user) = user else {
            self.audit_failure(
                meta,
                "requestPasswordReset",
                username.as_str(),
                None,
                "no resettable account",
            )
            .await?;
            let index = self.keys.decoy.pick(username, SECURITY_QUESTIONS.len());
            return Ok(ResetChallenge {
                token,
                question: SECURITY_QUESTIONS[index].to_owned(),
            });
        };
        let mut tx = self.db.begin_write().await?;
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(hash_token(&token))
            .bind(&user.id)
            .bind(self.from_now(time::Duration::minutes(RESET_MINUTES)))
            .bind(self.db.now())
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("requestPasswordReset", Outcome::Success, None)
                .username(&user.username)
                .object("User", &user.id),
        )
        .await?;
        tx.commit().await?;
        Ok(ResetChallenge {
            token,
            question: user.security_question.clone().unwrap_or_default(),
        })
    }

    pub async fn reset_password(
        &self,
        meta: &RequestMeta,
        token: &str,
        answer: &str,
        new: String,
    ) -> AppResult<()> {
        self.check_rate(meta.ip.as_deref(), None)?;
        let now = self.db.now();
        let link = store::password_reset(&self.db, &hash_token(token)).await?;
        let Some(link) = link.filter(|l| l.used_at.is_none() && l.expires_at > now) else {
            verify_against_dummy(answer.to_owned()).await;
            return Err(AppError::InvalidCredentials);
        };
        let user = self.user(&link.user_id).await?;
        self.check_rate(None, Some(&user.username))?;
        // A disabled account is not brought back by a reset started before it was disabled.
        if user.status != UserStatus::Active {
            verify_against_dummy(answer.to_owned()).await;
            self.audit_failure(
                meta,
                "resetPasswordWithSecurityAnswer",
                &user.username,
                Some(&user),
                "account not active",
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        }
        // The answer first: a policy error on a wrong answer would confirm the token is real.
        let answer_ok = verify_password(
            user.security_answer_hash.clone().unwrap_or_default(),
            normalise_answer(answer),
        )
        .await;
        if user.is_locked_at(&now) || !answer_ok {
            return Err(self
                .count_failure(
                    meta,
                    "resetPasswordWithSecurityAnswer",
                    &user,
                    "wrong answer or locked",
                )
                .await?);
        }
        self.policy.check("newPassword", &new, &user.username)?;
        let hash = hash_password(new).await?;
        let mut tx = self.db.begin_write().await?;
        let used = sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        )
        .bind(hash_token(token))
        .bind(now)
        .execute(tx.conn())
        .await?;
        if used.rows_affected() != 1 {
            return Err(AppError::InvalidCredentials);
        }
        sqlx::query(
            "UPDATE users SET password_hash = $2, password_changed_at = $3, failed_attempts = 0, locked_until = NULL, \
             updated_at = $3, version = version + 1 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(hash)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let all = Sessions::AllOf {
            user_id: &user.id,
            except: None,
        };
        self.end_sessions(&mut tx, all, &user.organization_id)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("resetPasswordWithSecurityAnswer", Outcome::Success, None)
                .username(&user.username)
                .object("User", &user.id),
        )
        .await?;
        mail::enqueue(&mut tx, &password_changed_mail(&user)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// First login, step one: the set-up link is valid, so a code goes to the invited address.
    pub async fn request_first_login_code(
        &self,
        meta: &RequestMeta,
        setup_token: &str,
    ) -> AppResult<IssuedChallenge> {
        self.check_rate(meta.ip.as_deref(), None)?;
        let user = self
            .invited_user(meta, "requestFirstLoginCode", setup_token)
            .await?;
        let mut tx = self.db.begin_write().await?;
        let challenge = self
            .issue_challenge(&mut tx, &user, "FIRST_LOGIN", SecondFactorMethod::Email)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("requestFirstLoginCode", Outcome::Success, None)
                .username(&user.username)
                .object("User", &user.id),
        )
        .await?;
        tx.commit().await?;
        Ok(challenge)
    }

    /// First login, step two: the code, a new password, a security question and answer.
    /// The account becomes active and the user is signed in.
    pub async fn complete_first_login(
        &self,
        meta: &RequestMeta,
        setup_token: &str,
        code: &str,
        new_password: String,
        question: &str,
        answer: &str,
    ) -> AppResult<IssuedSession> {
        self.check_rate(meta.ip.as_deref(), None)?;
        let user = self
            .invited_user(meta, "completeFirstLogin", setup_token)
            .await?;
        self.policy
            .check("newPassword", &new_password, &user.username)?;
        let question = check_security_question(question, answer)?;
        let now = self.db.now();
        let challenge = store::open_first_login_challenge(&self.db, &user.id, &now).await?;
        let matched = match &challenge {
            Some(challenge) if !user.is_locked_at(&now) => {
                self.code_matches(challenge, &user, code).await?
            }
            _ => false,
        };
        let Some(challenge) = challenge.filter(|_| matched) else {
            // A locked account's attempts do not count (nor extend the lock).
            return Err(self
                .count_failure(meta, "completeFirstLogin", &user, "wrong or expired code")
                .await?);
        };
        let password_hash = hash_password(new_password).await?;
        let answer_hash = hash_password(normalise_answer(answer)).await?;
        let mut tx = self.db.begin_write().await?;
        if !store::consume_challenge(&mut tx, &challenge.id, &now).await? {
            return Err(AppError::InvalidCredentials);
        }
        let used = sqlx::query(
            "UPDATE setup_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(hash_token(setup_token))
        .bind(now)
        .execute(tx.conn())
        .await?;
        if used.rows_affected() != 1 {
            return Err(AppError::InvalidCredentials);
        }
        sqlx::query(
            "UPDATE users SET status = $6, password_hash = $2, password_changed_at = $3, security_question = $4, \
             security_answer_hash = $5, updated_at = $3, version = version + 1 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(password_hash)
        .bind(now)
        .bind(question)
        .bind(answer_hash)
        .bind(UserStatus::Active)
        .execute(tx.conn())
        .await?;
        let activated = store::user_by_id(tx.conn(), &user.id)
            .await?
            .ok_or(AppError::InvalidCredentials)?;
        let session = self.open_session(&mut tx, meta, &activated).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The invited (not yet active) user of a valid, unused, unexpired set-up link. A link that
    /// was real but is spent says why (used, replaced by a newer one, expired), so the invited
    /// person knows to sign in or to ask for a new link; every refusal is audited.
    async fn invited_user(
        &self,
        meta: &RequestMeta,
        operation: &'static str,
        setup_token: &str,
    ) -> AppResult<UserRecord> {
        let now = self.db.now();
        let Some(link) = store::setup_link(&self.db, &hash_token(setup_token)).await? else {
            audit::record_alone(
                &self.db,
                meta,
                Entry::new(operation, Outcome::Failure, None).detail("unknown set-up link"),
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        };
        let user = store::user_by_id(self.db.pool(), &link.user_id).await?;
        let refusal = match &user {
            _ if link.used_at.is_some() => Some(SetupLinkState::Used),
            _ if link.revoked_at.is_some() => Some(SetupLinkState::Replaced),
            _ if link.expires_at <= now => Some(SetupLinkState::Expired),
            Some(user) if user.status == UserStatus::Invited => None,
            _ => Some(SetupLinkState::Used),
        };
        let Some(user) = user else {
            return Err(AppError::InvalidCredentials);
        };
        if let Some(state) = refusal {
            self.audit_failure(meta, operation, &user.username, Some(&user), state.why())
                .await?;
            return Err(state.error());
        }
        Ok(user)
    }

    /// Records that the user accepted the personal-information policy in force. `version`, when
    /// given, is the version the user read: an older one is refused, so nobody accepts a text
    /// they have not seen.
    pub async fn accept_privacy_policy(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        version: Option<&str>,
    ) -> AppResult<UserRecord> {
        if let Some(version) = version.filter(|v| *v != privacy::CURRENT_VERSION) {
            let error = AppError::Conflict(format!(
                "version {version:?} is not the policy in force ({}): read it again / 最新の個人情報保護方針をお読みください",
                privacy::CURRENT_VERSION
            ));
            audit::record_alone(
                &self.db,
                meta,
                Entry::new("acceptPrivacyPolicy", Outcome::Failure, Some(actor))
                    .object("User", &actor.user_id)
                    .detail(format!("outdated version {version:?}")),
            )
            .await?;
            return Err(error);
        }
        let mut tx = self.db.begin_write().await?;
        let now = self.db.now();
        sqlx::query(
            "UPDATE users SET privacy_accepted_at = $2, privacy_policy_version = $3, updated_at = $2 WHERE id = $1",
        )
        .bind(&actor.user_id)
        .bind(now)
        .bind(privacy::CURRENT_VERSION)
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("acceptPrivacyPolicy", Outcome::Success, Some(actor))
                .object("User", &actor.user_id)
                .detail(format!("version {}", privacy::CURRENT_VERSION)),
        )
        .await?;
        tx.commit().await?;
        self.user(&actor.user_id).await
    }

    /// Sets a new security question and answer (after the service desk reset them, or at any
    /// time). The current password proves it is the user: a session left open is not enough.
    pub async fn set_security_question(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        current_password: String,
        question: &str,
        answer: &str,
    ) -> AppResult<UserRecord> {
        self.check_rate(meta.ip.as_deref(), Some(&actor.username))?;
        let user = self.user(&actor.user_id).await?;
        if user.is_locked_at(&self.db.now()) {
            return Err(AppError::InvalidCredentials);
        }
        let question = match check_security_question(question, answer) {
            Ok(question) => question,
            Err(error) => {
                audit::record_alone(
                    &self.db,
                    meta,
                    Entry::new("setSecurityQuestion", Outcome::Failure, Some(actor))
                        .object("User", &user.id)
                        .detail(error.to_string()),
                )
                .await?;
                return Err(error);
            }
        };
        if !verify_password(
            user.password_hash.clone().unwrap_or_default(),
            current_password,
        )
        .await
        {
            return Err(self
                .count_failure(meta, "setSecurityQuestion", &user, "wrong current password")
                .await?);
        }
        let answer_hash = hash_password(normalise_answer(answer)).await?;
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE users SET security_question = $2, security_answer_hash = $3, updated_at = $4, \
             version = version + 1 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(question)
        .bind(answer_hash)
        .bind(now)
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("setSecurityQuestion", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .detail(format!(
                    "security question {}",
                    if user.security_answer_hash.is_some() {
                        "changed"
                    } else {
                        "chosen after a reset"
                    }
                )),
        )
        .await?;
        tx.commit().await?;
        self.user(&user.id).await
    }

    /// Starts enrolling an authenticator app: a new secret, pending until a code confirms it.
    pub async fn enroll_totp(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
    ) -> AppResult<TotpEnrollment> {
        let secret = totp::new_secret();
        let otpauth_url = totp::otpauth_url(&secret, &actor.username)?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE users SET totp_pending_secret = $2, updated_at = $3 WHERE id = $1")
            .bind(&actor.user_id)
            .bind(self.keys.totp.seal(&actor.user_id, &secret))
            .bind(self.db.now())
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("enrollTotp", Outcome::Success, Some(actor)).object("User", &actor.user_id),
        )
        .await?;
        tx.commit().await?;
        Ok(TotpEnrollment {
            secret,
            otpauth_url,
        })
    }

    /// Confirms the pending authenticator with a code from it; from then on it is the second
    /// factor at every sign-in.
    pub async fn confirm_totp(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        code: &str,
    ) -> AppResult<UserRecord> {
        self.check_rate(meta.ip.as_deref(), Some(&actor.username))?;
        let user = self.user(&actor.user_id).await?;
        if user.is_locked_at(&self.db.now()) {
            return Err(AppError::InvalidCredentials);
        }
        let Some(sealed) = user.totp_pending_secret.as_deref() else {
            return Err(AppError::Conflict(
                "no authenticator enrolment is pending: call enrollTotp first".into(),
            ));
        };
        let secret = self.open_totp_secret(&user.id, sealed)?;
        if !self
            .accept_totp(&user.id, &secret, code, user.totp_last_step)
            .await?
        {
            return Err(self
                .count_failure(meta, "confirmTotp", &user, "wrong code")
                .await?);
        }
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, second_factor = $3, \
             updated_at = $2, version = version + 1 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(self.db.now())
        .bind(SecondFactorMethod::Totp)
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("confirmTotp", Outcome::Success, Some(actor)).object("User", &user.id),
        )
        .await?;
        tx.commit().await?;
        self.user(&user.id).await
    }

    pub async fn user(&self, id: &str) -> AppResult<UserRecord> {
        store::user_by_id(self.db.pool(), id)
            .await?
            .ok_or(AppError::NotFound("user"))
    }
}

fn password_changed_mail(user: &UserRecord) -> Mail {
    Mail {
        to: user.email.clone(),
        subject: "【V-SYS】パスワードが変更されました / Your password was changed".into(),
        body: format!(
            "{name} 様\n\nV-SYS のパスワードが変更されました。心当たりがない場合は、すぐにヘルプデスクに連絡してください。\n\n\
             Dear {name},\n\nYour V-SYS password was changed. If this was not you, contact the service desk at once.\n",
            name = user.display_name
        ),
    }
}

//! Sign-in: password, then a second factor at every login; sign-out.

use crate::clock::Timestamp;
use serde_json::json;

use super::model::{Actor, SecondFactorMethod, UserRecord, UserStatus};
use super::password::{verify_against_dummy, verify_password};
use super::secrets::{constant_time_eq, hash_token, random_token, six_digit_code};
use super::service::Identity;
use super::{store, totp};
use crate::actor::Username;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::{WriteTx, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::mail::{self, Mail};

/// The first step's answer: a challenge to answer with a code.
pub struct IssuedChallenge {
    pub token: String,
    pub method: SecondFactorMethod,
    pub expires_at: Timestamp,
}

/// A new session.
pub struct IssuedSession {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: UserRecord,
}

/// Which sessions to end.
pub enum Sessions<'a> {
    One(&'a str),
    /// Every session of a user, but `except` (the caller's own, when it changes its password).
    AllOf {
        user_id: &'a str,
        except: Option<&'a str>,
    },
}

/// Topic of the internal event that ends a session's websockets on every instance.
pub const SESSION_ENDED: &str = "session.ended";

impl Identity {
    /// Step one: username and password. Never a session: a challenge for the second factor.
    pub async fn sign_in(
        &self,
        meta: &RequestMeta,
        username: &str,
        password: String,
    ) -> AppResult<IssuedChallenge> {
        let username = &Username::from_input(username);
        self.check_rate(meta.ip.as_deref(), Some(username.as_str()))?;
        let now = self.db.now();
        let user = store::user_by_username(&self.db, username).await?;
        let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
            verify_against_dummy(password).await;
            self.audit_failure(
                meta,
                "signIn",
                username.as_str(),
                None,
                "unknown or inactive account",
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        };
        let hash = user.password_hash.clone().unwrap_or_default();
        let password_ok = verify_password(hash, password).await;
        if user.is_locked_at(&now) {
            self.audit_failure(
                meta,
                "signIn",
                username.as_str(),
                Some(&user),
                "account locked",
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        }
        if !password_ok {
            return Err(self
                .count_failure(meta, "signIn", &user, "wrong password")
                .await?);
        }
        // A correct password does not reset the failure count: only a completed sign-in does,
        // or someone holding the password could try codes for ever.
        let method = user.second_factor;
        let mut tx = self.db.begin_write().await?;
        let challenge = self
            .issue_challenge(&mut tx, &user, "SIGN_IN", method)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("signIn", Outcome::Success, None)
                .username(&user.username)
                .object("User", &user.id)
                .organization(&user.organization_id)
                .detail(format!(
                    "password accepted; {} code requested",
                    method.as_db()
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(challenge)
    }

    /// Creates a challenge; for the e-mail method, also the mail carrying its code.
    pub(super) async fn issue_challenge(
        &self,
        tx: &mut WriteTx,
        user: &UserRecord,
        purpose: &str,
        method: SecondFactorMethod,
    ) -> AppResult<IssuedChallenge> {
        let token = random_token();
        let expires_at = self.from_now(time::Duration::minutes(self.config.email_code_minutes));
        let code = (method == SecondFactorMethod::Email).then(six_digit_code);
        sqlx::query(
            "INSERT INTO challenges (id, token_hash, user_id, purpose, method, code_hash, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(hash_token(&token))
        .bind(&user.id)
        .bind(purpose)
        .bind(method.as_db())
        .bind(code.as_deref().map(hash_token))
        .bind(expires_at)
        .bind(self.db.now())
        .execute(tx.conn())
        .await?;
        if let Some(code) = code {
            let minutes = self.config.email_code_minutes;
            mail::enqueue(
                tx,
                &Mail {
                    to: user.email.clone(),
                    subject: "【V-SYS】認証コード / Verification code".into(),
                    body: format!(
                        "{name} 様\n\nV-SYS の認証コードは {code} です。{minutes} 分間、1 回だけ有効です。\n\
                         心当たりがない場合は、このメールを破棄し、ヘルプデスクに連絡してください。\n\n\
                         Dear {name},\n\nYour V-SYS verification code is {code}. It is valid for {minutes} minutes, once.\n\
                         If you did not try to sign in, ignore this message and tell the service desk.\n",
                        name = user.display_name,
                    ),
                },
            )
            .await?;
        }
        Ok(IssuedChallenge {
            token,
            method,
            expires_at,
        })
    }

    /// Step two: the code. Answers a session, or the one error for every failure.
    pub async fn verify_second_factor(
        &self,
        meta: &RequestMeta,
        challenge_token: &str,
        code: &str,
    ) -> AppResult<IssuedSession> {
        self.check_rate(meta.ip.as_deref(), None)?;
        let now = self.db.now();
        let challenge = store::challenge_by_token(&self.db, &hash_token(challenge_token))
            .await?
            .filter(|c| c.purpose == "SIGN_IN")
            .ok_or(AppError::InvalidCredentials)?;
        let user = store::user_by_id(self.db.pool(), &challenge.user_id)
            .await?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(AppError::InvalidCredentials)?;
        self.check_rate(None, Some(&user.username))?;
        if user.is_locked_at(&now) {
            self.audit_failure(
                meta,
                "verifySecondFactor",
                &user.username,
                Some(&user),
                "account locked",
            )
            .await?;
            return Err(AppError::InvalidCredentials);
        }
        let usable = challenge.consumed_at.is_none() && challenge.expires_at > now;
        if !usable || !self.code_matches(&challenge, &user, code).await? {
            let why = if usable {
                "wrong code"
            } else {
                "expired or used code"
            };
            return Err(self
                .count_failure(meta, "verifySecondFactor", &user, why)
                .await?);
        }
        let mut tx = self.db.begin_write().await?;
        if !store::consume_challenge(&mut tx, &challenge.id, &now).await? {
            // Another request used the same code a moment earlier.
            return Err(AppError::InvalidCredentials);
        }
        let session = self.open_session(&mut tx, meta, &user).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Whether `code` answers the challenge. A TOTP code is accepted once: its time step is
    /// recorded with a conditional update, so a replay (or a concurrent twin) finds it taken.
    pub(super) async fn code_matches(
        &self,
        challenge: &store::ChallengeRecord,
        user: &UserRecord,
        code: &str,
    ) -> AppResult<bool> {
        match challenge.method {
            SecondFactorMethod::Email => Ok(challenge
                .code_hash
                .as_deref()
                .is_some_and(|expected| constant_time_eq(&hash_token(code.trim()), expected))),
            SecondFactorMethod::Totp => {
                let Some(sealed) = user.totp_secret.as_deref() else {
                    return Ok(false);
                };
                let secret = self.open_totp_secret(&user.id, sealed)?;
                self.accept_totp(&user.id, &secret, code, user.totp_last_step)
                    .await
            }
        }
    }

    /// Decrypts a user's stored TOTP secret. A secret that does not open (a key missing from
    /// the configuration, a tampered row) is a server fault, not the user's: logged, INTERNAL.
    pub(super) fn open_totp_secret(&self, user_id: &str, sealed: &str) -> AppResult<String> {
        self.keys
            .totp
            .open(user_id, sealed)
            .map_err(|e| AppError::Internal(e.context(format!("user {user_id}"))))
    }

    /// Checks a TOTP code against `secret` and records its step as used.
    pub(super) async fn accept_totp(
        &self,
        user_id: &str,
        secret: &str,
        code: &str,
        last_step: Option<i64>,
    ) -> AppResult<bool> {
        let unix = self.db.clock().unix_seconds();
        let Some(step) = totp::verify(secret, code.trim(), unix, last_step) else {
            return Ok(false);
        };
        let taken = sqlx::query(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(self.db.pool())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Completes a sign-in inside `tx`: resets the failure count and creates the session.
    pub(super) async fn open_session(
        &self,
        tx: &mut WriteTx,
        meta: &RequestMeta,
        user: &UserRecord,
    ) -> AppResult<IssuedSession> {
        let now = self.db.now();
        let token = random_token();
        let expires_at = self.from_now(time::Duration::hours(self.config.session_lifetime_hours));
        let session_id = new_id();
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, ip) \
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(&session_id)
        .bind(hash_token(&token))
        .bind(&user.id)
        .bind(now)
        .bind(expires_at)
        .bind(meta.ip.clone())
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $2, updated_at = $2 WHERE id = $1",
        )
        .bind(&user.id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let actor = self.actor(user, session_id.clone()).await?;
        audit::record(
            tx,
            meta,
            Entry::new("verifySecondFactor", Outcome::Success, Some(&actor))
                .object("Session", &session_id)
                .organization(&user.organization_id)
                .detail("signed in"),
        )
        .await?;
        let user = store::user_by_id(tx.conn(), &user.id)
            .await?
            .unwrap_or_else(|| user.clone());
        Ok(IssuedSession {
            token,
            expires_at,
            user,
        })
    }

    /// Ends the caller's session; its websockets close on every instance.
    pub async fn sign_out(&self, meta: &RequestMeta, actor: &Actor) -> AppResult<()> {
        let mut tx = self.db.begin_write().await?;
        self.end_sessions(
            &mut tx,
            Sessions::One(&actor.session_id),
            &actor.organization.id,
        )
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("signOut", Outcome::Success, Some(actor))
                .object("Session", &actor.session_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes the selected live sessions and announces each one's end.
    pub(super) async fn end_sessions(
        &self,
        tx: &mut WriteTx,
        sessions: Sessions<'_>,
        organization_id: &str,
    ) -> AppResult<()> {
        let now = self.db.now();
        let ids: Vec<String> = match sessions {
            Sessions::One(id) => {
                sqlx::query_scalar("SELECT id FROM sessions WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .fetch_all(tx.conn())
                    .await?
            }
            Sessions::AllOf { user_id, except } => sqlx::query_scalar(
                "SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
            )
            .bind(user_id)
            .bind(except.unwrap_or_default())
            .fetch_all(tx.conn())
            .await?,
        };
        for id in ids {
            sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1")
                .bind(&id)
                .bind(now)
                .execute(tx.conn())
                .await?;
            let event = NewEvent {
                topic: SESSION_ENDED.into(),
                visibility: Visibility::Internal,
                organization_id: Some(organization_id.to_owned()),
                payload: json!({ "sessionId": id }),
            };
            append(tx, &event).await?;
        }
        Ok(())
    }

    /// One failed proof (password, code or answer) by a known user: counted toward the lock
    /// unless the account is already locked (a guess must not extend the lock), and audited.
    /// Returns the one answer every such failure gets.
    pub(super) async fn count_failure(
        &self,
        meta: &RequestMeta,
        operation: &'static str,
        user: &UserRecord,
        why: &str,
    ) -> AppResult<AppError> {
        let now = self.db.now();
        if !user.is_locked_at(&now) {
            store::record_failure(
                self.db.pool(),
                &user.id,
                &now,
                self.config.lockout_threshold,
                &self.lock_until(),
            )
            .await?;
        }
        self.audit_failure(meta, operation, &user.username, Some(user), why)
            .await?;
        Ok(AppError::InvalidCredentials)
    }

    pub(super) async fn audit_failure(
        &self,
        meta: &RequestMeta,
        operation: &'static str,
        username: &str,
        user: Option<&UserRecord>,
        why: &str,
    ) -> AppResult<()> {
        let mut entry = Entry::new(operation, Outcome::Failure, None)
            .username(username)
            .detail(why);
        if let Some(user) = user {
            entry = entry
                .object("User", &user.id)
                .organization(&user.organization_id);
        }
        audit::record_alone(&self.db, meta, entry).await
    }
}

//! The GraphQL face of identity: `Query.me`, `Query.users`, and the account mutations.

use async_graphql::{Context, Enum, ErrorExtensions, ID, InputObject, Object};

use super::admin::{Invitation, StatusChange};
use super::bulk::BulkError;
use super::context::{current_actor, request_meta, require_actor};
use super::model::{Role, SecondFactorMethod, UserRecord, UserStatus};
use super::service::Identity;
use super::signin::{IssuedChallenge, IssuedSession};
use super::store;
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::error::AppError;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::organizations::{OrganizationNode, load_organization};

fn identity<'a>(ctx: &Context<'a>) -> &'a Identity {
    ctx.data_unchecked::<std::sync::Arc<Identity>>()
}

pub struct User(pub UserRecord);

/// A user account. Visible to the user, to its organisation's administrators and to the
/// service desk; to anyone else it does not exist.
#[Object]
impl User {
    /// Globally unique, opaque id.
    pub async fn id(&self) -> ID {
        global_id("User", &self.0.id)
    }
    /// Login name (ユーザーID).
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Name shown to others.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Address for codes, links and notices.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// What the user may do.
    async fn role(&self) -> Role {
        self.0.role()
    }
    /// Whether the user administers its organisation's accounts.
    async fn is_organization_admin(&self) -> bool {
        self.0.is_org_admin
    }
    /// The organisation the user belongs to.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        Ok(load_organization(ctx, &self.0.organization_id)
            .await?
            .map(OrganizationNode::from))
    }
    /// Invited, active or disabled.
    async fn status(&self) -> UserStatus {
        self.0.status
    }
    /// How the user proves the second factor.
    async fn second_factor(&self) -> SecondFactorMethod {
        self.0.second_factor
    }
    /// Whether the personal-information policy in force has been accepted (medical
    /// institutions must); false again when a new version is published.
    async fn privacy_policy_accepted(&self) -> bool {
        super::privacy::accepted_current(&self.0)
    }
    /// The version of the personal-information policy the user last accepted.
    async fn privacy_policy_version(&self) -> Option<&str> {
        self.0.privacy_policy_version.as_deref()
    }
    /// Whether the user has a security question (false after the service desk reset it, until
    /// the user chooses a new one).
    async fn security_question_set(&self) -> bool {
        self.0.security_answer_hash.is_some()
    }
    /// When the password must be changed (3 months after it was set).
    async fn password_expires_at(&self, ctx: &Context<'_>) -> Option<Timestamp> {
        identity(ctx).password_expires_at(&self.0)
    }
    /// Until when the account is locked after too many failures; null when it is not.
    async fn locked_until(&self, ctx: &Context<'_>) -> Option<Timestamp> {
        let now = identity(ctx).now();
        self.0.locked_until.filter(|until| *until > now)
    }
    /// The last completed sign-in.
    async fn last_sign_in_at(&self) -> Option<Timestamp> {
        self.0.last_sign_in_at
    }
}

pub struct SignInChallenge(IssuedChallenge);

/// The answer to `signIn`: prove the second factor with `verifySecondFactor`.
#[Object]
impl SignInChallenge {
    /// Pass this to `verifySecondFactor` (or keep it for a first login) with the code.
    async fn challenge_id(&self) -> &str {
        &self.0.token
    }
    /// Where the code comes from: an e-mail, or the user's authenticator app.
    async fn method(&self) -> SecondFactorMethod {
        self.0.method
    }
    /// When the challenge expires.
    async fn expires_at(&self) -> Timestamp {
        self.0.expires_at
    }
}

pub struct SessionPayload(IssuedSession);

/// A signed-in session.
#[Object]
impl SessionPayload {
    /// The bearer token: send `Authorization: Bearer <token>` over HTTP, or
    /// `{"authorization": "Bearer <token>"}` in the websocket's `connection_init`.
    async fn token(&self) -> &str {
        &self.0.token
    }
    /// When the session ends at the latest; it also ends after 15 idle minutes.
    async fn expires_at(&self) -> Timestamp {
        self.0.expires_at
    }
    /// The signed-in user.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
    /// What the user must do before anything else (e.g. PRIVACY_POLICY_NOT_ACCEPTED, PASSWORD_EXPIRED).
    async fn obligations(&self, ctx: &Context<'_>) -> Vec<String> {
        identity(ctx)
            .obligations(&self.0.user)
            .into_iter()
            .map(|o| o.reason().to_owned())
            .collect()
    }
}

pub struct PasswordResetChallenge(super::account::ResetChallenge);

/// The answer to `requestPasswordReset`.
#[Object]
impl PasswordResetChallenge {
    /// Pass this to `resetPasswordWithSecurityAnswer`.
    async fn reset_token(&self) -> &str {
        &self.0.token
    }
    /// The user's security question.
    async fn security_question(&self) -> &str {
        &self.0.question
    }
}

pub struct TotpEnrollment(super::account::TotpEnrollment);

/// A pending authenticator enrolment: put the secret into the app, then confirm with a code.
#[Object]
impl TotpEnrollment {
    /// The shared secret (base32), for typing into the app.
    async fn secret(&self) -> &str {
        &self.0.secret
    }
    /// The otpauth:// URL, for a QR code.
    async fn otpauth_url(&self) -> &str {
        &self.0.otpauth_url
    }
    /// The otpauth:// URL as a QR code (SVG markup), for the app to scan from the screen.
    async fn qr_svg(&self) -> String {
        super::totp::qr_svg(&self.0.otpauth_url)
    }
}

/// A language the privacy policy is published in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum PolicyLanguage {
    /// Japanese (the authoritative text).
    Ja,
    /// English.
    En,
}

/// The personal-information policy (V-SYSにおける個人情報保護方針).
pub struct PrivacyPolicy(PolicyLanguage);

/// The personal-information policy in force (V-SYSにおける個人情報保護方針).
#[Object]
impl PrivacyPolicy {
    /// Its version; `acceptPrivacyPolicy` records it, and medical institutions accept each new
    /// version again.
    async fn version(&self) -> &'static str {
        super::privacy::CURRENT_VERSION
    }
    /// The language of `text`.
    async fn language(&self) -> PolicyLanguage {
        self.0
    }
    /// The policy, as plain text.
    async fn text(&self) -> &'static str {
        match self.0 {
            PolicyLanguage::Ja => super::privacy::TEXT_JA,
            PolicyLanguage::En => super::privacy::TEXT_EN,
        }
    }
}

/// What `setUserStatus` sets.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AccountSwitch {
    /// Re-enable a disabled account: it may sign in again.
    Active,
    /// Disable an active account: it cannot sign in and its sessions end at once.
    Disabled,
}

/// A bulk invitation's refusal as a GraphQL error: `INVALID_INPUT` on `csv`, with each refused
/// row in `extensions.rows` (`row`, `line`, `field`, `message`).
fn bulk_error(error: BulkError) -> async_graphql::Error {
    let rows = match error {
        BulkError::App(error) => return error.into(),
        BulkError::Rows(rows) => rows,
    };
    let summary = rows
        .iter()
        .take(5)
        .map(|e| format!("row {} (line {}) {}: {}", e.row, e.line, e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    let more = if rows.len() > 5 { "; …" } else { "" };
    let message = format!(
        "nothing was invited: {} row(s) refused / 1件も登録していません（{}行に誤りがあります）: {summary}{more}",
        rows.len(),
        rows.len()
    );
    let listed = serde_json::Value::Array(
        rows.iter()
            .map(|e| {
                serde_json::json!({ "row": e.row, "line": e.line, "field": e.field, "message": e.message })
            })
            .collect(),
    );
    AppError::invalid_field("csv", message)
        .extend()
        .extend_with(|_, ext| {
            if let Ok(value) = async_graphql::Value::from_json(listed.clone()) {
                ext.set("rows", value);
            }
        })
}

/// A new account.
#[derive(InputObject)]
pub struct InviteUserInput {
    /// The organisation the user will belong to (its global id).
    pub organization_id: ID,
    /// Login name: 3 to 64 letters, digits or . _ - @. Stored in lower case with full-width
    /// characters folded, and unique in that form (`MEGURO.ADMIN` is `meguro.admin`).
    pub username: String,
    /// Where the set-up link is sent.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// The role; it must fit the organisation's kind.
    pub role: Role,
    /// Whether the user will administer the organisation's accounts.
    #[graphql(default)]
    pub is_organization_admin: bool,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match current_actor(ctx) {
            Some(actor) => Ok(Some(User(identity(ctx).user(&actor.user_id).await?))),
            None => Ok(None),
        }
    }

    /// The security questions to choose from at the first login (秘密の質問).
    async fn security_questions(&self) -> Vec<&'static str> {
        super::account::SECURITY_QUESTIONS.to_vec()
    }

    /// The personal-information policy in force, readable by anyone (also before signing in
    /// and while its acceptance is pending).
    async fn privacy_policy(
        &self,
        #[graphql(
            desc = "The language of the text; Japanese by default.",
            default_with = "PolicyLanguage::Ja"
        )]
        language: PolicyLanguage,
    ) -> PrivacyPolicy {
        PrivacyPolicy(language)
    }

    /// The accounts of an organisation: for its administrators and the service desk.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's global id.")] organization_id: ID,
    ) -> async_graphql::Result<Vec<User>> {
        let actor = require_actor(ctx)?;
        let identity = identity(ctx);
        let org_row = row_of(&organization_id, ORGANIZATION_TYPES, "organization")?;
        let scope = store::org_scope(identity.db.pool(), &org_row)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        decide(Some(actor), Action::ListUsers, Target::Organization(&scope))?;
        let users = store::users_of_organization(&identity.db, &scope.id).await?;
        // Listing accounts reads personal data: it is logged.
        audit::record_alone(
            &identity.db,
            &request_meta(ctx),
            Entry::new("users", Outcome::Success, Some(actor))
                .organization(&scope.id)
                .detail(format!("{} accounts read", users.len())),
        )
        .await?;
        Ok(users.into_iter().map(User).collect())
    }
}

/// Loads a user for `Query.node`, or not found when the caller may not see it.
pub async fn load_user_node(ctx: &Context<'_>, id: &str) -> async_graphql::Result<User> {
    let identity = identity(ctx);
    let user = store::user_by_id(identity.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound("object"))?;
    let scope = store::org_scope(identity.db.pool(), &user.organization_id)
        .await?
        .ok_or(AppError::NotFound("object"))?;
    decide(
        current_actor(ctx),
        Action::ReadUser,
        Target::User {
            id: &user.id,
            organization: &scope,
        },
    )
    .map_err(|_| AppError::NotFound("object"))?;
    // Someone else's account is personal data: reading it is logged.
    if let Some(actor) = current_actor(ctx).filter(|a| a.user_id != user.id) {
        audit::record_alone(
            &identity.db,
            &request_meta(ctx),
            Entry::new("readUser", Outcome::Success, Some(actor))
                .object("User", &user.id)
                .organization(&user.organization_id),
        )
        .await?;
    }
    Ok(User(user))
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Step one of signing in: username and password. Answers a challenge, never a session:
    /// the second factor is required at every login. Ten consecutive failures lock the account
    /// for 60 minutes; an unknown user, a wrong password and a locked account get the same answer.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Login name (case and full-width letters are ignored).")] username: String,
        #[graphql(desc = "Password.", secret)] password: String,
    ) -> async_graphql::Result<SignInChallenge> {
        Ok(SignInChallenge(
            identity(ctx)
                .sign_in(&request_meta(ctx), &username, password)
                .await?,
        ))
    }

    /// Step two: the code from the e-mail (valid 10 minutes, once) or the authenticator app.
    async fn verify_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The challengeId from signIn.")] challenge_id: String,
        #[graphql(desc = "The six-digit code.", secret)] code: String,
    ) -> async_graphql::Result<SessionPayload> {
        let session = identity(ctx)
            .verify_second_factor(&request_meta(ctx), &challenge_id, &code)
            .await?;
        Ok(SessionPayload(session))
    }

    /// Ends the current session; the user's websockets on it close too.
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        identity(ctx).sign_out(&request_meta(ctx), actor).await?;
        Ok(true)
    }

    /// Changes the password (required when it has expired). Other sessions of the user end.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current password.", secret)] current_password: String,
        #[graphql(
            desc = "At least 8 characters with 3 of: upper case, lower case, digits, symbols.",
            secret
        )]
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        identity(ctx)
            .change_password(&request_meta(ctx), actor, current_password, new_password)
            .await?;
        Ok(true)
    }

    /// Starts a self-service password reset: answers the user's security question. A name with
    /// no resettable account gets a decoy question that stays the same for that name, so the
    /// answer does not reveal which accounts exist.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Login name (case and full-width letters are ignored).")] username: String,
    ) -> async_graphql::Result<PasswordResetChallenge> {
        let challenge = identity(ctx)
            .request_password_reset(&request_meta(ctx), &username)
            .await?;
        Ok(PasswordResetChallenge(challenge))
    }

    /// Completes a reset with the security answer and a new password. All sessions end.
    async fn reset_password_with_security_answer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resetToken from requestPasswordReset.")] reset_token: String,
        #[graphql(desc = "The answer to the security question.", secret)] answer: String,
        #[graphql(desc = "The new password.", secret)] new_password: String,
    ) -> async_graphql::Result<bool> {
        identity(ctx)
            .reset_password(&request_meta(ctx), &reset_token, &answer, new_password)
            .await?;
        Ok(true)
    }

    /// First login, step one: with the token from the invitation's set-up link, e-mails a code.
    async fn request_first_login_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the set-up link (valid 24 hours, once).")]
        setup_token: String,
    ) -> async_graphql::Result<SignInChallenge> {
        let challenge = identity(ctx)
            .request_first_login_code(&request_meta(ctx), &setup_token)
            .await?;
        Ok(SignInChallenge(challenge))
    }

    /// First login, step two: the code, a new password and a security question with its
    /// answer. Activates the account and signs the user in.
    async fn complete_first_login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the set-up link.")] setup_token: String,
        #[graphql(desc = "The e-mailed six-digit code.", secret)] code: String,
        #[graphql(desc = "The new password.", secret)] new_password: String,
        #[graphql(desc = "A question only the user can answer.")] security_question: String,
        #[graphql(
            desc = "Its answer (compared ignoring case and surrounding spaces).",
            secret
        )]
        security_answer: String,
    ) -> async_graphql::Result<SessionPayload> {
        let session = identity(ctx)
            .complete_first_login(
                &request_meta(ctx),
                &setup_token,
                &code,
                new_password,
                &security_question,
                &security_answer,
            )
            .await?;
        Ok(SessionPayload(session))
    }

    /// Accepts the personal-information policy in force (個人情報保護方針, `Query.privacyPolicy`);
    /// medical institutions must, before anything else works, and again for each new version.
    async fn accept_privacy_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The version the user read; when given and no longer in force, CONFLICT."
        )]
        version: Option<String>,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        Ok(User(
            identity(ctx)
                .accept_privacy_policy(&request_meta(ctx), actor, version.as_deref())
                .await?,
        ))
    }

    /// Sets a new security question and answer, with the current password. Required after the
    /// service desk reset them; allowed at any time.
    async fn set_security_question(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current password.", secret)] current_password: String,
        #[graphql(desc = "One of Query.securityQuestions.")] security_question: String,
        #[graphql(
            desc = "Its answer (compared ignoring case and surrounding spaces).",
            secret
        )]
        security_answer: String,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        Ok(User(
            identity(ctx)
                .set_security_question(
                    &request_meta(ctx),
                    actor,
                    current_password,
                    &security_question,
                    &security_answer,
                )
                .await?,
        ))
    }

    /// Starts enrolling an authenticator app (TOTP).
    async fn enroll_totp(&self, ctx: &Context<'_>) -> async_graphql::Result<TotpEnrollment> {
        let actor = require_actor(ctx)?;
        Ok(TotpEnrollment(
            identity(ctx).enroll_totp(&request_meta(ctx), actor).await?,
        ))
    }

    /// Confirms the enrolment with a code from the app; the app becomes the second factor.
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A six-digit code from the app.", secret)] code: String,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        Ok(User(
            identity(ctx)
                .confirm_totp(&request_meta(ctx), actor, &code)
                .await?,
        ))
    }

    /// Invites a user: creates the account and mails a set-up link valid 24 hours. For the
    /// service desk and the organisation's own administrators.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account to create.")] input: InviteUserInput,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        let invitation = Invitation {
            organization_id: row_of(&input.organization_id, ORGANIZATION_TYPES, "organization")?,
            username: input.username,
            email: input.email,
            display_name: input.display_name,
            role: input.role,
            is_org_admin: input.is_organization_admin,
        };
        Ok(User(
            identity(ctx)
                .invite_user(&request_meta(ctx), actor, invitation)
                .await?,
        ))
    }

    /// Invites many accounts at once from a CSV, all or none (service desk). The header names
    /// the columns `username,email,organizationCode,isOrganizationAdmin`, optionally
    /// `displayName`, `role` (default: the organisation's) and `organizationKind` (when a code
    /// is shared by several kinds). At most 1,000 rows; every refused row is listed in
    /// `extensions.rows`.
    async fn invite_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The accounts, as CSV text with a header row.")] csv: String,
    ) -> async_graphql::Result<Vec<User>> {
        let actor = require_actor(ctx)?;
        let users = identity(ctx)
            .invite_users_in_bulk(&request_meta(ctx), actor, &csv)
            .await
            .map_err(bulk_error)?;
        Ok(users.into_iter().map(User).collect())
    }

    /// Mails an invited account a new set-up link (valid 24 hours, once), for one that expired
    /// or was lost; earlier links stop working. For the service desk and the organisation's own
    /// administrators.
    async fn reissue_setup_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invited user's global id.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        let row = row_of(&user_id, &["User"], "user")?;
        Ok(User(
            identity(ctx)
                .reissue_setup_link(&request_meta(ctx), actor, &row)
                .await?,
        ))
    }

    /// Disables or re-enables an account. A disabled account cannot sign in; its sessions end
    /// at once and its websockets close. For the service desk and the organisation's own
    /// administrators; nobody disables their own account.
    async fn set_user_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] user_id: ID,
        #[graphql(desc = "DISABLED or ACTIVE.")] status: AccountSwitch,
        #[graphql(desc = "Why, for the audit log (at most 500 characters).")] reason: Option<
            String,
        >,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        let row = row_of(&user_id, &["User"], "user")?;
        let change = match status {
            AccountSwitch::Active => StatusChange::Enable,
            AccountSwitch::Disabled => StatusChange::Disable,
        };
        Ok(User(
            identity(ctx)
                .set_user_status(&request_meta(ctx), actor, &row, change, reason)
                .await?,
        ))
    }

    /// Clears a user's forgotten security question and answer (service desk, seed p. 15); the
    /// user must choose new ones (`setSecurityQuestion`) at the next sign-in.
    async fn reset_security_answer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        let row = row_of(&user_id, &["User"], "user")?;
        Ok(User(
            identity(ctx)
                .reset_security_answer(&request_meta(ctx), actor, &row)
                .await?,
        ))
    }

    /// Unlocks an account locked after too many failures. For the service desk and the
    /// organisation's own administrators.
    async fn unlock_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] user_id: ID,
    ) -> async_graphql::Result<User> {
        let actor = require_actor(ctx)?;
        let row = row_of(&user_id, &["User"], "user")?;
        Ok(User(
            identity(ctx)
                .unlock_user(&request_meta(ctx), actor, &row)
                .await?,
        ))
    }
}

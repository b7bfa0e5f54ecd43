//! Who is calling and from where: the signed-in actor, its role and organisation, and the
//! request's metadata. A low-level module: `authz`, `audit` and `events` import it, and it
//! imports no domain area but the organisation kinds.

mod username;

pub use username::Username;

use async_graphql::{Context, Enum};

use crate::error::AppError;
use crate::organizations::OrganizationKind;

/// What a user may do is decided by its role and its organisation (domain.md §1).
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// The ministry (国).
    Nation,
    /// A prefecture's staff (都道府県).
    Prefecture,
    /// A municipality's staff (市区町村).
    Municipality,
    /// A clinic, hospital or venue (医療機関・接種会場).
    MedicalInstitution,
    /// A collective-contract aggregator (集合契約のとりまとめ団体).
    Aggregator,
    /// A body organising healthcare-worker vaccination (医療関係団体).
    MedicalAssociation,
    /// A vaccine manufacturer (ワクチンメーカー).
    Manufacturer,
    /// A wholesaler (卸業者).
    Wholesaler,
    /// A dry-ice supplier (ドライアイスメーカー).
    DryIceSupplier,
    /// A needle and syringe warehouse (針・シリンジ倉庫).
    SupplyWarehouse,
    /// The service desk: accounts, bulk registration, unlocks.
    SystemAdmin,
    /// A municipality's booking call centre (予約受付コールセンター): books, changes and
    /// cancels reservations for the municipality's residents, and nothing else.
    ReservationOperator,
}

crate::db_enum!(Role);

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Nation,
        Role::Prefecture,
        Role::Municipality,
        Role::MedicalInstitution,
        Role::Aggregator,
        Role::MedicalAssociation,
        Role::Manufacturer,
        Role::Wholesaler,
        Role::DryIceSupplier,
        Role::SupplyWarehouse,
        Role::SystemAdmin,
        Role::ReservationOperator,
    ];

    /// Whether a user with this role may belong to an organisation of `kind`. An aggregator
    /// may be a medical association's or a municipality's office (domain.md §1).
    pub fn fits(self, kind: OrganizationKind) -> bool {
        use OrganizationKind as K;
        match self {
            Role::Nation => kind == K::Nation,
            Role::Prefecture => kind == K::Prefecture,
            Role::Municipality => kind == K::Municipality,
            Role::MedicalInstitution => kind == K::Facility,
            Role::Aggregator => matches!(
                kind,
                K::Aggregator | K::Municipality | K::MedicalAssociation
            ),
            Role::MedicalAssociation => kind == K::MedicalAssociation,
            Role::Manufacturer => kind == K::Manufacturer,
            Role::Wholesaler => kind == K::Wholesaler,
            Role::DryIceSupplier => kind == K::DryIceSupplier,
            Role::SupplyWarehouse => kind == K::SupplyWarehouse,
            Role::SystemAdmin => kind == K::ServiceDesk,
            Role::ReservationOperator => kind == K::Municipality,
        }
    }
}

/// Where an organisation sits: what area checks compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope {
    pub id: String,
    pub kind: OrganizationKind,
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
}

/// Why a signed-in user may do nothing but settle an obligation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obligation {
    /// Medical institutions accept the personal-information policy before anything else.
    AcceptPrivacyPolicy,
    /// The password is older than the policy allows.
    ChangePassword,
    /// The deployment requires an authenticator app and none is enrolled.
    EnrollTotp,
    /// The service desk reset the security question: the user chooses a new one.
    ChooseSecurityQuestion,
}

impl Obligation {
    pub fn reason(self) -> &'static str {
        match self {
            Obligation::AcceptPrivacyPolicy => "PRIVACY_POLICY_NOT_ACCEPTED",
            Obligation::ChangePassword => "PASSWORD_EXPIRED",
            Obligation::EnrollTotp => "TOTP_REQUIRED",
            Obligation::ChooseSecurityQuestion => "SECURITY_QUESTION_REQUIRED",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Obligation::AcceptPrivacyPolicy => {
                "accept the personal-information policy first / 個人情報保護方針に同意してください"
            }
            Obligation::ChangePassword => {
                "your password has expired: change it first / パスワードの有効期限が切れています"
            }
            Obligation::EnrollTotp => {
                "this deployment requires an authenticator app: enrol one first / 認証アプリの登録が必要です"
            }
            Obligation::ChooseSecurityQuestion => {
                "choose a new security question and answer first (setSecurityQuestion) / 秘密の質問と答えを設定し直してください"
            }
        }
    }

    /// The root fields still allowed while the obligation is open.
    pub fn allows(self, field: &str) -> bool {
        // Reading the policy and the list of questions is what settling an obligation needs.
        const ALWAYS: [&str; 6] = [
            "me",
            "signOut",
            "__typename",
            "__schema",
            "privacyPolicy",
            "securityQuestions",
        ];
        ALWAYS.contains(&field)
            || match self {
                Obligation::AcceptPrivacyPolicy => field == "acceptPrivacyPolicy",
                Obligation::ChangePassword => field == "changePassword",
                Obligation::EnrollTotp => matches!(field, "enrollTotp" | "confirmTotp"),
                Obligation::ChooseSecurityQuestion => field == "setSecurityQuestion",
            }
    }
}

/// The signed-in user making a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub organization: OrgScope,
    pub is_org_admin: bool,
    pub session_id: String,
    pub obligations: Vec<Obligation>,
}

/// Where a request came from, for the log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The `Idempotency-Key` header: a retried mutation that names the same key returns the
    /// first answer instead of acting twice (HTTP only).
    pub idempotency_key: Option<String>,
}

/// The caller, if signed in.
pub fn current_actor<'a>(ctx: &Context<'a>) -> Option<&'a Actor> {
    ctx.data_opt::<Actor>()
}

/// The caller, who must be signed in.
pub fn require_actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor, AppError> {
    current_actor(ctx).ok_or(AppError::Unauthenticated)
}

/// Where the request came from, for the audit log.
pub fn request_meta(ctx: &Context<'_>) -> RequestMeta {
    ctx.data_opt::<RequestMeta>().cloned().unwrap_or_default()
}

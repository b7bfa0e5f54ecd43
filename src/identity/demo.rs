//! Demo accounts: one user per role on the demo organisations (listed in the README).

use super::model::Role;
use super::password::hash_password;
use crate::db::{Db, new_id};
use crate::error::AppResult;
use crate::organizations::{OrganizationKind, store};

/// The password of every demo account. Documented, so never use `--demo` in production.
pub const DEMO_PASSWORD: &str = "Vsys-Demo-2021";
/// The security question and answer of every demo account.
pub const DEMO_SECURITY_QUESTION: &str = super::account::SECURITY_QUESTIONS[0];
pub const DEMO_SECURITY_ANSWER: &str = "blue";

/// (username, display name, role, organisation kind, organisation code, administrator)
pub const DEMO_ACCOUNTS: [(&str, &str, Role, OrganizationKind, &str, bool); 15] = [
    (
        "nation.admin",
        "厚生労働省 担当者 / MHLW officer",
        Role::Nation,
        OrganizationKind::Nation,
        "JP",
        true,
    ),
    (
        "tokyo.admin",
        "東京都 担当者 / Tokyo officer",
        Role::Prefecture,
        OrganizationKind::Prefecture,
        "13",
        true,
    ),
    (
        "kanagawa.admin",
        "神奈川県 担当者 / Kanagawa officer",
        Role::Prefecture,
        OrganizationKind::Prefecture,
        "14",
        true,
    ),
    (
        "meguro.admin",
        "目黒区 担当者 / Meguro officer",
        Role::Municipality,
        OrganizationKind::Municipality,
        "131105",
        true,
    ),
    (
        "meguro.staff",
        "目黒区 職員 / Meguro staff",
        Role::Municipality,
        OrganizationKind::Municipality,
        "131105",
        false,
    ),
    (
        "meguro.callcenter",
        "目黒区 予約受付コールセンター / Meguro booking call centre",
        Role::ReservationOperator,
        OrganizationKind::Municipality,
        "131105",
        false,
    ),
    (
        "yokohama.admin",
        "横浜市 担当者 / Yokohama officer",
        Role::Municipality,
        OrganizationKind::Municipality,
        "141003",
        true,
    ),
    (
        "meguro-hospital.admin",
        "目黒区病院01 事務 / Meguro Hospital 01 office",
        Role::MedicalInstitution,
        OrganizationKind::Facility,
        "1311000010",
        true,
    ),
    (
        "meguro-ma.admin",
        "目黒区医師会 事務局 / Meguro Medical Association office",
        Role::Aggregator,
        OrganizationKind::Aggregator,
        "AGG-131105",
        true,
    ),
    (
        "tokyo-ma.admin",
        "東京都医療関係団体連絡会 事務局 / Tokyo council office",
        Role::MedicalAssociation,
        OrganizationKind::MedicalAssociation,
        "MA-13",
        true,
    ),
    (
        "pfizer.admin",
        "ファイザー 担当者 / Pfizer officer",
        Role::Manufacturer,
        OrganizationKind::Manufacturer,
        "PFIZER",
        true,
    ),
    (
        "wholesaler.admin",
        "関東医薬品卸 担当者 / Wholesaler officer",
        Role::Wholesaler,
        OrganizationKind::Wholesaler,
        "WS-KANTO-01",
        true,
    ),
    (
        "dryice.admin",
        "東日本ドライアイス 担当者 / Dry-ice officer",
        Role::DryIceSupplier,
        OrganizationKind::DryIceSupplier,
        "DI-01",
        true,
    ),
    (
        "warehouse.admin",
        "針・シリンジ倉庫 担当者 / Warehouse officer",
        Role::SupplyWarehouse,
        OrganizationKind::SupplyWarehouse,
        "NS-01",
        true,
    ),
    (
        "helpdesk.admin",
        "ヘルプデスク / Service desk",
        Role::SystemAdmin,
        OrganizationKind::ServiceDesk,
        "HELPDESK",
        true,
    ),
];

/// A demo account whose password was last changed a year ago, so that signing in shows the
/// expired-password change first (as after the 3 months of the default policy). Kept apart
/// from [`DEMO_ACCOUNTS`]: until the password is changed it may do nothing else.
pub const DEMO_EXPIRED_PASSWORD_ACCOUNT: (&str, &str, Role, OrganizationKind, &str, bool) = (
    "yokohama.staff",
    "横浜市 職員（パスワード期限切れ）/ Yokohama staff (password expired)",
    Role::Municipality,
    OrganizationKind::Municipality,
    "141003",
    false,
);

/// How long ago the expired demo account last changed its password.
const EXPIRED_PASSWORD_AGE: time::Duration = time::Duration::days(365);

/// Creates the demo accounts (active, password set now, security question answered).
/// Medical institutions still have to accept the privacy policy, as in the seed's flow.
pub async fn create_demo_accounts(db: &Db) -> AppResult<()> {
    let password_hash = hash_password(DEMO_PASSWORD.to_owned()).await?;
    let answer_hash = hash_password(DEMO_SECURITY_ANSWER.to_owned()).await?;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let accounts = DEMO_ACCOUNTS
        .iter()
        .map(|account| (account, now))
        .chain([(&DEMO_EXPIRED_PASSWORD_ACCOUNT, now - EXPIRED_PASSWORD_AGE)]);
    for (&(username, display_name, role, kind, code, admin), password_changed_at) in accounts {
        let Some(organization) = store::find_by_code(db, kind, code).await? else {
            continue;
        };
        sqlx::query(
            "INSERT INTO users (id, organization_id, username, email, display_name, role, is_org_admin, status, \
             password_hash, password_changed_at, security_question, security_answer_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE', $8, $9, $10, $11, $12, $12)",
        )
        .bind(new_id())
        .bind(&organization.id)
        .bind(username)
        .bind(format!("{username}@demo.vsys.invalid"))
        .bind(display_name)
        .bind(role.as_db())
        .bind(i32::from(admin))
        .bind(&password_hash)
        .bind(password_changed_at)
        .bind(DEMO_SECURITY_QUESTION)
        .bind(&answer_hash)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

//! Invitations in bulk (seed p. 2: accounts issued per user group): the service desk sends a CSV
//! of accounts; all are invited or none, and every bad row is reported with its number.

use std::collections::{HashMap, HashSet};

use super::admin::{Earlier, Invitation, audit_view, insert_invited, validate_invitation};
use super::model::{Actor, OrgScope, Role, UserRecord};
use super::service::Identity;
use super::store;
use crate::actor::Username;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, Target, decide};

use crate::error::{AppError, AppResult};
use crate::organizations::OrganizationKind;

/// Most accounts in one file, as for every CSV of the product (seed p. 17).
pub const MAX_ROWS: usize = 1000;

/// Most row errors reported at once; the file is refused whatever their number.
const MAX_REPORTED: usize = 100;

/// One refused row.
#[derive(Debug, Clone)]
pub struct RowError {
    /// The data row, 1 for the first after the header.
    pub row: usize,
    /// The line in the file (the header is line 1), as a spreadsheet numbers it.
    pub line: u64,
    /// The column at fault.
    pub field: &'static str,
    pub message: String,
}

/// Why a bulk invitation was refused: the request as a whole, or some of its rows.
#[derive(Debug)]
pub enum BulkError {
    App(AppError),
    Rows(Vec<RowError>),
}

impl From<AppError> for BulkError {
    fn from(error: AppError) -> Self {
        BulkError::App(error)
    }
}

impl From<sqlx::Error> for BulkError {
    fn from(error: sqlx::Error) -> Self {
        BulkError::App(error.into())
    }
}

/// A row as read from the file.
#[derive(Debug, Clone)]
struct CsvRow {
    row: usize,
    line: u64,
    username: String,
    email: String,
    organization_code: String,
    organization_kind: Option<String>,
    admin: String,
    display_name: Option<String>,
    role: Option<String>,
}

/// The columns, by header name (English or Japanese, any case).
const COLUMNS: [(&str, &[&str]); 7] = [
    ("username", &["username", "ユーザーid", "ユーザー名"]),
    ("email", &["email", "e-mail", "mail", "メールアドレス"]),
    (
        "organizationCode",
        &["organizationcode", "organisationcode", "組織コード"],
    ),
    (
        "isOrganizationAdmin",
        &["isorganizationadmin", "isadmin", "admin", "管理者"],
    ),
    ("organizationKind", &["organizationkind", "組織種別"]),
    ("displayName", &["displayname", "name", "表示名", "氏名"]),
    ("role", &["role", "ロール"]),
];

const REQUIRED: [&str; 4] = [
    "username",
    "email",
    "organizationCode",
    "isOrganizationAdmin",
];

fn header_error(message: String) -> AppError {
    AppError::invalid_field("csv", message)
}

/// Reads the file: a header row naming the columns, then one account per row. Empty rows
/// (spreadsheet template lines) are skipped.
fn parse(csv_text: &str) -> AppResult<Vec<CsvRow>> {
    let text = csv_text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| {
        header_error(format!(
            "line 1: unreadable header ({e}) / 1行目（見出し）を読み取れません"
        ))
    })?;
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (position, header) in headers.iter().enumerate() {
        let header = header.to_lowercase().replace([' ', '_'], "");
        if let Some((name, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&header.as_str()))
        {
            index.insert(name, position);
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|name| !index.contains_key(name))
        .collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "line 1: the header must name the columns username,email,organizationCode,isOrganizationAdmin \
             (optional: displayName, role, organizationKind); missing: {} / 1行目の見出しに必要な列がありません",
            missing.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e
                .position()
                .map(|p| crate::error::csv_line(text, p) as u64)
                .unwrap_or_default();
            header_error(format!(
                "line {line}: unreadable row / {line}行目を読み取れません"
            ))
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |name: &str| {
            index
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        let optional = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
        rows.push(CsvRow {
            row: rows.len() + 1,
            line: record
                .position()
                .map(|p| crate::error::csv_line(text, p) as u64)
                .unwrap_or_default(),
            // Normalised once, as every username from outside (case and width folded).
            username: Username::from_input(&cell("username")).into_string(),
            email: cell("email"),
            organization_code: cell("organizationCode"),
            organization_kind: optional("organizationKind"),
            admin: cell("isOrganizationAdmin"),
            display_name: optional("displayName"),
            role: optional("role"),
        });
        if rows.len() > MAX_ROWS {
            return Err(header_error(format!(
                "row {}: at most {MAX_ROWS} accounts per file; split it / 1ファイル{MAX_ROWS}件までです。ファイルを分けてください",
                rows.len()
            )));
        }
    }
    if rows.is_empty() {
        return Err(header_error(
            "the file has no accounts / アカウントが1件もありません".into(),
        ));
    }
    Ok(rows)
}

/// The line (from 1) of the record the reader started at `offset`. The reader's own line count
/// and offsets include the blank lines it skipped before the record, so neither would match
/// what a spreadsheet or an editor shows.
fn parse_flag(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "はい" | "○" | "〇" => Some(true),
        "false" | "0" | "no" | "n" | "いいえ" | "" => Some(false),
        _ => None,
    }
}

/// The role a user of an organisation of `kind` has unless the file says otherwise.
fn default_role(kind: OrganizationKind) -> Role {
    use OrganizationKind as K;
    match kind {
        K::Nation => Role::Nation,
        K::Prefecture => Role::Prefecture,
        K::Municipality => Role::Municipality,
        K::Facility => Role::MedicalInstitution,
        K::Aggregator => Role::Aggregator,
        K::MedicalAssociation => Role::MedicalAssociation,
        K::Manufacturer => Role::Manufacturer,
        K::Wholesaler => Role::Wholesaler,
        K::DryIceSupplier => Role::DryIceSupplier,
        K::SupplyWarehouse => Role::SupplyWarehouse,
        K::ServiceDesk => Role::SystemAdmin,
    }
}

/// The organisations with `code`, of every kind (codes are unique per kind only).
async fn organizations_with_code(identity: &Identity, code: &str) -> AppResult<Vec<OrgScope>> {
    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, kind, prefecture_id, municipality_id FROM organizations WHERE code = $1",
    )
    .bind(code)
    .fetch_all(identity.db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, prefecture_id, municipality_id)| {
            Some(OrgScope {
                id,
                kind: OrganizationKind::from_db(&kind)?,
                prefecture_id,
                municipality_id,
            })
        })
        .collect())
}

impl Identity {
    /// Invites every account of the CSV, or none: each valid row becomes an INVITED account
    /// with its set-up link mailed, in one transaction.
    pub async fn invite_users_in_bulk(
        &self,
        meta: &RequestMeta,
        actor: &Actor,
        csv_text: &str,
    ) -> Result<Vec<UserRecord>, BulkError> {
        if let Err(error) = decide(Some(actor), Action::InviteUsersInBulk, Target::System) {
            self.audit_denied(meta, actor, "inviteUsers", &actor.organization.id)
                .await?;
            return Err(error.into());
        }
        let prepared = match self.prepare_bulk(csv_text).await {
            Ok(prepared) => prepared,
            Err(refusal) => {
                let detail = match &refusal {
                    BulkError::App(error) => format!("{}: {error}", error.code()),
                    BulkError::Rows(errors) => format!(
                        "{} row(s) refused: {}",
                        errors.len(),
                        errors
                            .iter()
                            .map(|e| format!("row {} {}", e.row, e.field))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                audit::record_alone(
                    &self.db,
                    meta,
                    Entry::new("inviteUsers", Outcome::Failure, Some(actor)).detail(detail),
                )
                .await?;
                return Err(refusal);
            }
        };
        let now = self.db.now();
        let mut tx = self.db.begin_write().await?;
        let mut users = Vec::with_capacity(prepared.len());
        for (row, organization, invitation) in &prepared {
            let user = insert_invited(&mut tx, &organization.id, invitation, &now)
                .await
                .map_err(|error| match error {
                    // Taken between the check and the insert.
                    AppError::Conflict(message) => BulkError::Rows(vec![RowError {
                        row: row.row,
                        line: row.line,
                        field: "username",
                        message,
                    }]),
                    other => BulkError::App(other),
                })?;
            self.issue_setup_link(&mut tx, &user, &now, Earlier::None)
                .await?;
            audit::record(
                &mut tx,
                meta,
                Entry::new("inviteUsers", Outcome::Success, Some(actor))
                    .object("User", &user.id)
                    .organization(&organization.id)
                    .change(None, Some(audit_view(&user)))
                    .detail(format!("bulk invitation, row {}", row.row)),
            )
            .await?;
            users.push(user);
        }
        tx.commit().await?;
        Ok(users)
    }

    /// Parses and checks every row; all the rows' errors, or the invitations to send.
    async fn prepare_bulk(
        &self,
        csv_text: &str,
    ) -> Result<Vec<(CsvRow, OrgScope, Invitation)>, BulkError> {
        let rows = parse(csv_text)?;
        let mut errors = Vec::new();
        let mut prepared = Vec::with_capacity(rows.len());
        let mut seen = HashSet::new();
        let mut organizations: HashMap<String, Vec<OrgScope>> = HashMap::new();
        for row in rows {
            if errors.len() >= MAX_REPORTED {
                break;
            }
            let refuse = |field: &'static str, message: String| RowError {
                row: row.row,
                line: row.line,
                field,
                message,
            };
            let Some(is_org_admin) = parse_flag(&row.admin) else {
                errors.push(refuse(
                    "isOrganizationAdmin",
                    "write true or false / true か false を入力してください".into(),
                ));
                continue;
            };
            if !organizations.contains_key(&row.organization_code) {
                let found = organizations_with_code(self, &row.organization_code).await?;
                organizations.insert(row.organization_code.clone(), found);
            }
            let candidates: Vec<&OrgScope> = organizations[&row.organization_code]
                .iter()
                .filter(|o| {
                    row.organization_kind
                        .as_deref()
                        .is_none_or(|kind| o.kind.as_db().eq_ignore_ascii_case(kind))
                })
                .collect();
            let organization = match candidates.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    errors.push(refuse(
                        "organizationCode",
                        format!(
                            "no organisation has the code {:?} / 組織コードに該当する組織がありません",
                            row.organization_code
                        ),
                    ));
                    continue;
                }
                _ => {
                    errors.push(refuse(
                        "organizationCode",
                        "several kinds of organisation share this code: add an organizationKind column \
                         / 複数の組織が該当します。組織種別の列を追加してください"
                            .into(),
                    ));
                    continue;
                }
            };
            let role = match row.role.as_deref() {
                None => default_role(organization.kind),
                Some(text) => match Role::from_db(&text.to_uppercase()) {
                    Some(role) => role,
                    None => {
                        errors.push(refuse(
                            "role",
                            format!("unknown role {text:?} / ロールが正しくありません"),
                        ));
                        continue;
                    }
                },
            };
            if !role.fits(organization.kind) {
                errors.push(refuse(
                    "role",
                    format!(
                        "a {} user cannot belong to this kind of organisation / この組織にはこのロールの利用者を登録できません",
                        role.as_db()
                    ),
                ));
                continue;
            }
            let invitation = Invitation {
                organization_id: organization.id.clone(),
                username: row.username.clone(),
                email: row.email.clone(),
                display_name: row.display_name.clone().unwrap_or(row.username.clone()),
                role,
                is_org_admin,
            };
            if let Err(AppError::InvalidInput { message, field }) = validate_invitation(&invitation)
            {
                let field = match field.as_deref() {
                    Some("email") => "email",
                    Some("displayName") => "displayName",
                    _ => "username",
                };
                errors.push(refuse(field, message));
                continue;
            }
            if !seen.insert(row.username.clone()) {
                errors.push(refuse(
                    "username",
                    "the username appears twice in the file / ファイル内でユーザーIDが重複しています"
                        .into(),
                ));
                continue;
            }
            if store::user_by_username(&self.db, &Username::from_input(&row.username))
                .await?
                .is_some()
            {
                errors.push(refuse(
                    "username",
                    "that username is taken / このユーザーIDは使用されています".into(),
                ));
                continue;
            }
            prepared.push((row, organization, invitation));
        }
        if errors.is_empty() {
            Ok(prepared)
        } else {
            Err(BulkError::Rows(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_by_its_header_names_in_any_order_and_skips_empty_rows() {
        let rows = parse(
            "\u{feff}Email, Username ,isAdmin,organizationCode,displayName\n\
             a@example.jp,user.a,true,131105,\"Name, with comma\"\n\
             ,,,,\n\
             \n\
             b@example.jp,user.b,0,131105,\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].username, "user.a");
        assert_eq!(rows[0].display_name.as_deref(), Some("Name, with comma"));
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].row, 2);
        assert_eq!(rows[1].line, 5);
        assert_eq!(rows[1].display_name, None);
    }

    #[test]
    fn lines_of_a_crlf_file_with_blank_lines_are_counted_as_an_editor_shows_them() {
        let rows = parse(
            "username,email,organizationCode,isOrganizationAdmin\r\n\r\n\
             a,a@example.jp,131105,false\r\n\r\n\r\n\
             b,b@example.jp,131105,false\r\n",
        )
        .unwrap();
        assert_eq!((rows[0].row, rows[0].line), (1, 3));
        assert_eq!((rows[1].row, rows[1].line), (2, 6));
    }

    #[test]
    fn a_header_without_a_required_column_is_refused() {
        let error = parse("username,email\nx,y@example.jp\n").unwrap_err();
        assert!(error.to_string().contains("organizationCode"), "{error}");
    }

    #[test]
    fn row_1001_is_refused() {
        let mut text = String::from("username,email,organizationCode,isOrganizationAdmin\n");
        for n in 0..=MAX_ROWS {
            text.push_str(&format!("u{n},u{n}@example.jp,131105,false\n"));
        }
        let error = parse(&text).unwrap_err();
        assert!(error.to_string().starts_with("row 1001"), "{error}");
    }

    #[test]
    fn admin_flags_in_english_digits_and_japanese() {
        for yes in ["true", "TRUE", "1", "yes", "はい"] {
            assert_eq!(parse_flag(yes), Some(true), "{yes}");
        }
        for no in ["false", "0", "no", "いいえ", ""] {
            assert_eq!(parse_flag(no), Some(false), "{no}");
        }
        assert_eq!(parse_flag("maybe"), None);
    }
}

//! Vaccination contracts (function 1): individual, or collective through an aggregator, with
//! join and withdrawal dates. Aggregators register and withdraw their members in bulk.

use super::access::{may_edit, scope_of};
use super::codes::{MedicalInstitutionCode, parse_date};
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::within_area;
use crate::db::{Db, Filter, new_id, now_utc};
use crate::error::{AppError, AppResult};
use crate::identity::{Actor, Role};
use crate::organizations::{OrganizationKind, OrganizationRecord, store};

/// Most rows one bulk registration may carry.
pub const MAX_BULK: usize = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractRecord {
    pub id: String,
    pub facility_id: String,
    pub kind: String,
    pub aggregator_id: Option<String>,
    pub join_date: String,
    pub withdrawal_date: Option<String>,
}

impl ContractRecord {
    /// In force on `today` (YYYY-MM-DD).
    pub fn is_current(&self, today: &str) -> bool {
        self.join_date.as_str() <= today
            && self.withdrawal_date.as_deref().is_none_or(|w| w > today)
    }
}

const COLUMNS: &str = "id, facility_id, kind, aggregator_id, join_date, withdrawal_date";

pub async fn by_id(db: &Db, id: &str) -> AppResult<Option<ContractRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM contracts WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn of_facility(db: &Db, facility_id: &str) -> AppResult<Vec<ContractRecord>> {
    let sql =
        format!("SELECT {COLUMNS} FROM contracts WHERE facility_id = $1 ORDER BY join_date, id");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .fetch_all(db.pool())
        .await?)
}

pub async fn latest_collective(db: &Db, facility_id: &str) -> AppResult<Option<ContractRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM contracts WHERE facility_id = $1 AND kind = 'COLLECTIVE' ORDER BY join_date DESC LIMIT 1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .fetch_optional(db.pool())
        .await?)
}

/// The contracts an actor may list: of facilities in its area, or held through its organisation.
pub async fn visible_to(
    db: &Db,
    actor: &Actor,
    facility_id: Option<&str>,
) -> AppResult<Vec<ContractRecord>> {
    let own = actor.organization.id.clone();
    let mut filter = Filter::default();
    match actor.role {
        Role::Nation | Role::SystemAdmin => {}
        Role::Prefecture => {
            filter.and("o.prefecture_id = ?", [own]);
        }
        Role::Municipality => {
            filter.and(
                "(o.municipality_id = ? OR c.aggregator_id = ?)",
                [own.clone(), own],
            );
        }
        _ => {
            filter.and("(o.id = ? OR c.aggregator_id = ?)", [own.clone(), own]);
        }
    }
    if let Some(facility_id) = facility_id {
        filter.and("c.facility_id = ?", [facility_id.to_owned()]);
    }
    let sql = format!(
        "SELECT c.id, c.facility_id, c.kind, c.aggregator_id, c.join_date, c.withdrawal_date FROM contracts c \
         JOIN organizations o ON o.id = c.facility_id{} ORDER BY o.code, c.join_date LIMIT 5000",
        filter.where_clause()
    );
    let query = sqlx::query_as::<_, ContractRecord>(sqlx::AssertSqlSafe(sql));
    Ok(filter.bind(query).fetch_all(db.pool()).await?)
}

/// One contract to register.
#[derive(Debug, Clone)]
pub struct NewContract {
    /// The facility, by medical-institution code.
    pub facility_code: String,
    pub collective: bool,
    pub join_date: String,
    pub withdrawal_date: Option<String>,
}

/// Parses a CSV of `facilityCode,kind,joinDate[,withdrawalDate]` with a header row; empty
/// lines are skipped. Errors name the line.
pub fn parse_csv(csv: &str) -> AppResult<Vec<NewContract>> {
    let mut rows = Vec::new();
    for (index, line) in csv.lines().enumerate().skip(1) {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.chars().all(|c| c == ',') {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() < 3 || cells.len() > 4 {
            return Err(AppError::invalid_field(
                "csv",
                format!(
                    "line {}: expected facilityCode,kind,joinDate[,withdrawalDate] / {}行目の列数が正しくありません",
                    index + 1,
                    index + 1
                ),
            ));
        }
        let collective = match cells[1].to_uppercase().as_str() {
            "COLLECTIVE" | "集合" => true,
            "INDIVIDUAL" | "個別" => false,
            other => {
                return Err(AppError::invalid_field(
                    "csv",
                    format!(
                        "line {}: unknown kind {other:?} / {}行目の契約種別が正しくありません",
                        index + 1,
                        index + 1
                    ),
                ));
            }
        };
        rows.push(NewContract {
            facility_code: cells[0].to_owned(),
            collective,
            join_date: cells[2].to_owned(),
            withdrawal_date: cells
                .get(3)
                .filter(|c| !c.is_empty())
                .map(|c| (*c).to_owned()),
        });
    }
    Ok(rows)
}

/// Registers contracts, all or none. Collective contracts are held by the actor's
/// organisation (an aggregator, a municipality or a medical association); individual ones are
/// registered by the facility itself (or its proxy municipality).
pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    rows: Vec<NewContract>,
) -> AppResult<Vec<ContractRecord>> {
    if rows.is_empty() || rows.len() > MAX_BULK {
        return Err(AppError::invalid_field(
            "contracts",
            format!("send 1 to {MAX_BULK} contracts / 1〜{MAX_BULK}件"),
        ));
    }
    let mut prepared = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let at = |e: AppError| match e {
            AppError::InvalidInput { message, field } => AppError::InvalidInput {
                message: format!("row {}: {message}", n + 1),
                field,
            },
            other => other,
        };
        let code = MedicalInstitutionCode::parse(&row.facility_code).map_err(at)?;
        let join = parse_date("joinDate", &row.join_date).map_err(at)?;
        let withdrawal = row
            .withdrawal_date
            .as_deref()
            .map(|d| parse_date("withdrawalDate", d))
            .transpose()
            .map_err(at)?;
        if withdrawal.is_some_and(|w| w < join) {
            return Err(at(AppError::invalid_field(
                "withdrawalDate",
                "the withdrawal date is before the join date / 脱退日が加入日より前です",
            )));
        }
        let facility = store::find_by_code(db, OrganizationKind::Facility, code.as_str())
            .await?
            .ok_or_else(|| {
                at(AppError::invalid_field(
                    "facilityCode",
                    "no facility has this code / この医療機関コードの施設はありません",
                ))
            })?;
        authorize(actor, &facility, row.collective).map_err(at)?;
        prepared.push((
            facility,
            row.collective,
            join.to_string(),
            withdrawal.map(|w| w.to_string()),
        ));
    }
    let now = now_utc();
    let mut tx = db.begin_write().await?;
    let mut ids = Vec::new();
    for (facility, collective, join, withdrawal) in prepared {
        let id = new_id();
        // An open contract of the same kind makes a second one a conflict.
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contracts WHERE facility_id = $1 AND kind = $2 AND (withdrawal_date IS NULL OR withdrawal_date > $3)",
        )
        .bind(&facility.id)
        .bind(if collective { "COLLECTIVE" } else { "INDIVIDUAL" })
        .bind(&join)
        .fetch_one(&mut **tx)
        .await?;
        if open > 0 {
            return Err(AppError::Conflict(format!(
                "{} already has an open contract of this kind / 既に有効な契約があります",
                facility.code
            )));
        }
        sqlx::query(
            "INSERT INTO contracts (id, facility_id, kind, aggregator_id, join_date, withdrawal_date, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&id)
        .bind(&facility.id)
        .bind(if collective { "COLLECTIVE" } else { "INDIVIDUAL" })
        .bind(collective.then(|| actor.organization.id.clone()))
        .bind(&join)
        .bind(withdrawal)
        .bind(&actor.user_id)
        .bind(&now)
        .execute(&mut **tx)
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("registerContract", Outcome::Success, Some(actor))
                .object("Contract", &id)
                .organization(&facility.id)
                .change(None, Some(serde_json::json!({ "facility": facility.code, "collective": collective, "joinDate": join }))),
        )
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    let mut records = Vec::new();
    for id in ids {
        let sql = format!("SELECT {COLUMNS} FROM contracts WHERE id = $1");
        records.push(
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(db.pool())
                .await?,
        );
    }
    Ok(records)
}

fn authorize(actor: &Actor, facility: &OrganizationRecord, collective: bool) -> AppResult<()> {
    if actor.role == Role::SystemAdmin {
        return Ok(());
    }
    if collective {
        let holder = matches!(
            actor.role,
            Role::Aggregator | Role::Municipality | Role::MedicalAssociation
        );
        if holder && within_area_or_partner(actor, facility) {
            return Ok(());
        }
        return Err(AppError::Forbidden);
    }
    may_edit(actor, facility).map(|_| ())
}

/// Aggregators outside the hierarchy (medical associations) hold contracts for facilities of
/// their prefecture; municipalities for their own facilities.
fn within_area_or_partner(actor: &Actor, facility: &OrganizationRecord) -> bool {
    match actor.role {
        Role::Municipality => within_area(actor, &scope_of(facility)),
        _ => match &actor.organization.prefecture_id {
            Some(prefecture) => facility.prefecture_id.as_ref() == Some(prefecture),
            None => true,
        },
    }
}

/// Sets the withdrawal date of contracts, all or none.
pub async fn withdraw(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    ids: &[String],
    date: &str,
) -> AppResult<Vec<ContractRecord>> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(AppError::invalid_field(
            "contractIds",
            format!("send 1 to {MAX_BULK} contracts / 1〜{MAX_BULK}件"),
        ));
    }
    let date = parse_date("withdrawalDate", date)?.to_string();
    let now = now_utc();
    let mut tx = db.begin_write().await?;
    let mut done = Vec::new();
    for id in ids {
        let sql = format!("SELECT {COLUMNS} FROM contracts WHERE id = $1");
        let contract: ContractRecord = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(AppError::NotFound("contract"))?;
        let facility = store::load_in(&mut tx, &contract.facility_id)
            .await?
            .ok_or(AppError::NotFound("contract"))?;
        let holder = contract.aggregator_id.as_deref() == Some(actor.organization.id.as_str());
        if !(holder || actor.role == Role::SystemAdmin) {
            may_edit(actor, &facility).map_err(|e| {
                if matches!(e, AppError::NotFound(_)) {
                    AppError::NotFound("contract")
                } else {
                    e
                }
            })?;
            // A facility changes its collective contract's dates only through a change
            // request its municipality approves; the aggregator withdraws it directly.
            if contract.kind == "COLLECTIVE" {
                return Err(AppError::Forbidden);
            }
        }
        if date < contract.join_date {
            return Err(AppError::invalid_field(
                "withdrawalDate",
                "the withdrawal date is before the join date / 脱退日が加入日より前です",
            ));
        }
        sqlx::query("UPDATE contracts SET withdrawal_date = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(&date)
            .bind(&now)
            .execute(&mut **tx)
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("withdrawContract", Outcome::Success, Some(actor))
                .object("Contract", id)
                .organization(&facility.id)
                .change(
                    Some(serde_json::json!({ "withdrawalDate": contract.withdrawal_date })),
                    Some(serde_json::json!({ "withdrawalDate": date })),
                ),
        )
        .await?;
        done.push(ContractRecord {
            withdrawal_date: Some(date.clone()),
            ..contract
        });
    }
    tx.commit().await?;
    Ok(done)
}

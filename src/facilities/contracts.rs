//! Vaccination contracts (function 1): individual, made with a counterpart municipality, or
//! collective through an aggregator, with join and withdrawal dates. Aggregators register and
//! withdraw their members in bulk. Every registration and withdrawal appends a RESTRICTED
//! `contract.registered` / `contract.withdrawn` event in its transaction.

use serde_json::json;

use super::access::scope_of;
use super::codes::{MedicalInstitutionCode, parse_date};
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, AreaFilter, Target, decide};
use crate::db::{Db, Exec, Filter, WriteTx, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::organizations::codes::MunicipalityCode;
use crate::organizations::{OrganizationKind, OrganizationRecord, store};

/// Topic of the event appended when a contract is registered.
pub const REGISTERED_TOPIC: &str = "contract.registered";
/// Topic of the event appended when a contract's withdrawal date is set.
pub const WITHDRAWN_TOPIC: &str = "contract.withdrawn";
/// Topic of the event appended when an approved change request moves a collective contract's
/// join date (and not its withdrawal date).
pub const UPDATED_TOPIC: &str = "contract.updated";

/// Most rows one bulk registration may carry.
pub const MAX_BULK: usize = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractRecord {
    pub id: String,
    pub facility_id: String,
    pub kind: ContractKind,
    pub aggregator_id: Option<String>,
    pub join_date: String,
    pub withdrawal_date: Option<String>,
    pub counterpart_municipality_id: Option<String>,
}

impl ContractRecord {
    /// In force on `today` (YYYY-MM-DD).
    pub fn is_current(&self, today: &str) -> bool {
        self.join_date.as_str() <= today
            && self.withdrawal_date.as_deref().is_none_or(|w| w > today)
    }
}

const COLUMNS: &str =
    "id, facility_id, kind, aggregator_id, join_date, withdrawal_date, counterpart_municipality_id";

/// The event describing a contract, with what a visibility decision needs (the facility, the
/// aggregator, the counterpart).
fn event(topic: &str, contract: &ContractRecord) -> NewEvent {
    NewEvent {
        topic: topic.to_owned(),
        visibility: Visibility::Restricted,
        organization_id: Some(contract.facility_id.clone()),
        payload: json!({
            "contractId": contract.id, "facilityId": contract.facility_id, "kind": contract.kind,
            "aggregatorId": contract.aggregator_id,
            "counterpartMunicipalityId": contract.counterpart_municipality_id,
            "joinDate": contract.join_date, "withdrawalDate": contract.withdrawal_date,
        }),
    }
}

pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<ContractRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM contracts WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The contracts of every facility in `area`, in one statement.
pub async fn in_area(db: &Db, area: &AreaFilter) -> AppResult<Vec<ContractRecord>> {
    let mut filter = Filter::default();
    if let Some((condition, value)) = area.condition("o") {
        filter.and(&condition, [value]);
    }
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM contracts t JOIN organizations o ON o.id = t.facility_id{} \
         ORDER BY t.facility_id, t.join_date, t.id",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
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

/// The facility's latest collective contract, if it has one.
pub async fn latest_collective<'c>(
    on: impl Exec<'c>,
    facility_id: &str,
) -> AppResult<Option<ContractRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM contracts WHERE facility_id = $1 AND kind = $2 ORDER BY join_date DESC LIMIT 1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .bind(ContractKind::Collective)
        .fetch_optional(on)
        .await?)
}

/// After an approved change request: when it moved the collective contract's dates, the
/// contract's event (`contract.withdrawn` when a withdrawal date was set, `contract.updated`
/// for the join date alone), appended in the decision's transaction.
pub async fn append_approved_date_change(
    tx: &mut WriteTx,
    facility_id: &str,
    after: &super::approval::ApprovalValues,
) -> AppResult<()> {
    use super::approval::ApprovalField;
    let topic = if after.contains(ApprovalField::CollectiveWithdrawalDate) {
        WITHDRAWN_TOPIC
    } else if after.contains(ApprovalField::CollectiveJoinDate) {
        UPDATED_TOPIC
    } else {
        return Ok(());
    };
    if let Some(contract) = latest_collective(tx.conn(), facility_id).await? {
        append(tx, &event(topic, &contract)).await?;
    }
    Ok(())
}

/// Which contracts to list. Every filter is optional; they combine with AND.
#[derive(Debug, Default, Clone)]
pub struct ContractFilter {
    pub facility_id: Option<String>,
    pub aggregator_id: Option<String>,
    /// "INDIVIDUAL" or "COLLECTIVE".
    pub kind: Option<ContractKind>,
    /// In force on this day (`Some(true)`), or not (`Some(false)`).
    pub in_force: Option<bool>,
    /// The day `in_force` refers to (YYYY-MM-DD, Japan time).
    pub today: String,
}

/// One page of the contracts an actor may see — of facilities in its area, held through its
/// organisation, or made with it — ordered by facility code, then id (the cursor's key).
pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &ContractFilter,
    after: Option<&[String]>,
    limit: i64,
) -> AppResult<Vec<(String, ContractRecord)>> {
    let own = actor.organization.id.clone();
    let mut sql_filter = Filter::default();
    // The contracts of facilities in the actor's area (the one area filter), plus those its
    // organisation holds (an aggregator's collective contracts) or is the counterpart of (a
    // municipality's individual contracts with facilities elsewhere).
    if let Some((area, value)) = crate::authz::area_filter(actor).condition("o") {
        sql_filter.and(
            &format!("({area} OR c.aggregator_id = ? OR c.counterpart_municipality_id = ?)"),
            [value, own.clone(), own],
        );
    }
    if let Some(facility_id) = &filter.facility_id {
        sql_filter.and("c.facility_id = ?", [facility_id.clone()]);
    }
    if let Some(aggregator_id) = &filter.aggregator_id {
        sql_filter.and("c.aggregator_id = ?", [aggregator_id.clone()]);
    }
    if let Some(kind) = filter.kind {
        sql_filter.and("c.kind = ?", [kind.as_db().to_owned()]);
    }
    match filter.in_force {
        Some(true) => {
            sql_filter.and(
                "(c.join_date <= ? AND (c.withdrawal_date IS NULL OR c.withdrawal_date > ?))",
                [filter.today.clone(), filter.today.clone()],
            );
        }
        Some(false) => {
            sql_filter.and(
                "(c.join_date > ? OR (c.withdrawal_date IS NOT NULL AND c.withdrawal_date <= ?))",
                [filter.today.clone(), filter.today.clone()],
            );
        }
        None => {}
    }
    if let Some(after) = after {
        sql_filter.and(
            "(o.code, c.id) > (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "SELECT o.code AS facility_code, c.id, c.facility_id, c.kind, c.aggregator_id, c.join_date, c.withdrawal_date, \
         c.counterpart_municipality_id FROM contracts c JOIN organizations o ON o.id = c.facility_id{} \
         ORDER BY o.code, c.id LIMIT {limit}",
        sql_filter.where_clause()
    );
    let query = sqlx::query_as::<_, ListedContract>(sqlx::AssertSqlSafe(sql));
    Ok(sql_filter
        .bind(query)
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(|row| {
            (
                row.facility_code,
                ContractRecord {
                    id: row.id,
                    facility_id: row.facility_id,
                    kind: row.kind,
                    aggregator_id: row.aggregator_id,
                    join_date: row.join_date,
                    withdrawal_date: row.withdrawal_date,
                    counterpart_municipality_id: row.counterpart_municipality_id,
                },
            )
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct ListedContract {
    facility_code: String,
    id: String,
    facility_id: String,
    kind: ContractKind,
    aggregator_id: Option<String>,
    join_date: String,
    withdrawal_date: Option<String>,
    counterpart_municipality_id: Option<String>,
}

/// One contract to register.
#[derive(Debug, Clone)]
pub struct NewContract {
    /// The facility, by medical-institution code.
    pub facility_code: String,
    pub collective: bool,
    pub join_date: String,
    pub withdrawal_date: Option<String>,
    /// An individual contract's counterpart, by local-government code (default: the
    /// facility's own municipality). A collective contract names none.
    pub municipality_code: Option<String>,
}

/// Parses a CSV of `facilityCode,kind,joinDate[,withdrawalDate[,municipalityCode]]` after a
/// header row (RFC 4180: quoted cells may hold commas; a UTF-8 BOM is allowed). Lines whose
/// cells are all empty are skipped. Errors name the line.
pub fn parse_csv(csv: &str) -> AppResult<Vec<NewContract>> {
    let csv = csv.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv.as_bytes());
    let line_error = |line: u64, en: &str, ja: &str| {
        AppError::invalid_field("csv", format!("line {line}: {en} / {line}行目{ja}"))
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            line_error(
                line,
                "the line cannot be read as CSV",
                "がCSVとして読めません",
            )
        })?;
        let line = record
            .position()
            .map_or(0, |p| crate::error::csv_line(csv, p) as u64);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() < 3 || record.len() > 5 {
            return Err(line_error(
                line,
                "expected facilityCode,kind,joinDate[,withdrawalDate[,municipalityCode]]",
                "の列数が正しくありません",
            ));
        }
        let collective = match record[1].to_uppercase().as_str() {
            "COLLECTIVE" | "集合" => true,
            "INDIVIDUAL" | "個別" => false,
            other => {
                return Err(line_error(
                    line,
                    &format!("unknown kind {other:?}"),
                    "の契約種別が正しくありません",
                ));
            }
        };
        let optional = |i: usize| record.get(i).filter(|c| !c.is_empty()).map(str::to_owned);
        rows.push(NewContract {
            facility_code: record[0].to_owned(),
            collective,
            join_date: record[2].to_owned(),
            withdrawal_date: optional(3),
            municipality_code: optional(4),
        });
    }
    Ok(rows)
}

/// A contract ready to insert.
struct Prepared {
    facility: OrganizationRecord,
    collective: bool,
    join: String,
    withdrawal: Option<String>,
    counterpart: Option<String>,
}

/// Registers contracts, all or none. Collective contracts are held by the actor's
/// organisation (an aggregator, a municipality or a medical association); individual ones are
/// registered by the facility itself (or its proxy municipality, or the service desk) and name
/// their counterpart municipality.
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
        let counterpart = counterpart(db, &facility, row).await.map_err(at)?;
        prepared.push(Prepared {
            facility,
            collective: row.collective,
            join: join.to_string(),
            withdrawal: withdrawal.map(|w| w.to_string()),
            counterpart,
        });
    }
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let mut records = Vec::with_capacity(prepared.len());
    for row in prepared {
        let id = new_id();
        let kind = if row.collective {
            ContractKind::Collective
        } else {
            ContractKind::Individual
        };
        // An open contract of the same kind makes a second one a conflict.
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contracts WHERE facility_id = $1 AND kind = $2 AND (withdrawal_date IS NULL OR withdrawal_date > $3)",
        )
        .bind(&row.facility.id)
        .bind(kind)
        .bind(&row.join)
        .fetch_one(tx.conn())
        .await?;
        if open > 0 {
            return Err(AppError::Conflict(format!(
                "{} already has an open contract of this kind / 既に有効な契約があります",
                row.facility.code
            )));
        }
        sqlx::query(
            "INSERT INTO contracts (id, facility_id, kind, aggregator_id, join_date, withdrawal_date, created_by, created_at, updated_at, \
             counterpart_municipality_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
        )
        .bind(&id)
        .bind(&row.facility.id)
        .bind(kind)
        .bind(row.collective.then(|| actor.organization.id.clone()))
        .bind(&row.join)
        .bind(row.withdrawal)
        .bind(&actor.user_id)
        .bind(now)
        .bind(row.counterpart.clone())
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("registerContract", Outcome::Success, Some(actor))
                .object("Contract", &id)
                .organization(&row.facility.id)
                .change(None, Some(json!({
                    "facility": row.facility.code, "collective": row.collective, "joinDate": row.join,
                    "counterpartMunicipality": row.counterpart,
                }))),
        )
        .await?;
        let record = by_id(tx.conn(), &id)
            .await?
            .ok_or(AppError::NotFound("contract"))?;
        records.push(record);
    }
    // Events last, just before the commit, so the sequence row is locked as briefly as possible.
    for record in &records {
        append(&mut tx, &event(REGISTERED_TOPIC, record)).await?;
    }
    tx.commit().await?;
    Ok(records)
}

/// The counterpart municipality of an individual contract (its row id).
async fn counterpart(
    db: &Db,
    facility: &OrganizationRecord,
    row: &NewContract,
) -> AppResult<Option<String>> {
    match (&row.municipality_code, row.collective) {
        (Some(_), true) => Err(AppError::invalid_field(
            "municipalityCode",
            "a collective contract names no counterpart municipality / 集合契約には契約先市町村を指定しません",
        )),
        (None, true) => Ok(None),
        (None, false) => Ok(facility.municipality_id.clone()),
        (Some(code), false) => {
            let code = MunicipalityCode::parse(code).map_err(|_| {
                AppError::invalid_field(
                    "municipalityCode",
                    "a local-government code is 6 digits with a valid check digit / 市町村コードが正しくありません",
                )
            })?;
            let municipality =
                store::find_by_code(db, OrganizationKind::Municipality, &code.as_string())
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid_field(
                            "municipalityCode",
                            "no municipality has this code / この市町村コードの市町村はありません",
                        )
                    })?;
            Ok(Some(municipality.id))
        }
    }
}

fn authorize(actor: &Actor, facility: &OrganizationRecord, collective: bool) -> AppResult<()> {
    if collective {
        let scope = scope_of(facility);
        return decide(
            Some(actor),
            Action::RegisterCollectiveContract,
            Target::Facility {
                scope: &scope,
                proxy_input: facility.proxy_input(),
                operator: facility.operating_municipality_id.as_deref(),
            },
        );
    }
    if facility.kind() != crate::organizations::OrganizationKind::Facility {
        return Err(AppError::NotFound("facility"));
    }
    let scope = scope_of(facility);
    decide(
        Some(actor),
        Action::RegisterIndividualContract,
        Target::Facility {
            scope: &scope,
            proxy_input: facility.proxy_input(),
            operator: facility.operating_municipality_id.as_deref(),
        },
    )
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
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let mut done = Vec::new();
    for id in ids {
        let contract = by_id(tx.conn(), id)
            .await?
            .ok_or(AppError::NotFound("contract"))?;
        let facility = store::load(tx.conn(), &contract.facility_id)
            .await?
            .ok_or(AppError::NotFound("contract"))?;
        let scope = scope_of(&facility);
        decide(
            Some(actor),
            Action::WithdrawContract,
            Target::Contract {
                facility: &scope,
                proxy_input: facility.proxy_input(),
                operator: facility.operating_municipality_id.as_deref(),
                collective: contract.kind == ContractKind::Collective,
                holder: contract.aggregator_id.as_deref(),
            },
        )?;
        if date < contract.join_date {
            return Err(AppError::invalid_field(
                "withdrawalDate",
                "the withdrawal date is before the join date / 脱退日が加入日より前です",
            ));
        }
        sqlx::query("UPDATE contracts SET withdrawal_date = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(&date)
            .bind(now)
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("withdrawContract", Outcome::Success, Some(actor))
                .object("Contract", id)
                .organization(&facility.id)
                .change(
                    Some(json!({ "withdrawalDate": contract.withdrawal_date })),
                    Some(json!({ "withdrawalDate": date })),
                ),
        )
        .await?;
        done.push(ContractRecord {
            withdrawal_date: Some(date.clone()),
            ..contract
        });
    }
    for record in &done {
        append(&mut tx, &event(WITHDRAWN_TOPIC, record)).await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// The kind of contract.
#[derive(
    async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ContractKind {
    /// The facility's own contract (個別契約).
    Individual,
    /// Through an aggregator (集合契約).
    Collective,
}

crate::db_enum!(ContractKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cells_may_hold_commas_and_a_bom_and_blank_lines_are_allowed() {
        let rows = parse_csv(
            "\u{feff}facilityCode,kind,joinDate\n\"1311000010\",集合,2021-04-01\n,,\n1311000028,INDIVIDUAL,\"2021-05-01\",,\"131105\"\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].collective);
        assert_eq!(rows[1].municipality_code.as_deref(), Some("131105"));
    }

    #[test]
    fn errors_name_the_line() {
        let short =
            parse_csv("h\n1311000010,COLLECTIVE,2021-04-01\n1311000028,COLLECTIVE\n").unwrap_err();
        assert!(short.to_string().contains("line 3"), "{short}");
        let kind = parse_csv("h\n1311000010,OTHER,2021-04-01\n").unwrap_err();
        assert!(kind.to_string().contains("line 2"), "{kind}");
        let quote = parse_csv("h\n\"1311000010,COLLECTIVE,2021-04-01\n").unwrap_err();
        assert!(quote.to_string().contains("line"), "{quote}");
    }
}

//! Doctors of a facility: the responsible doctor (ワクチン接種の責任者) and vaccinating doctors
//! (接種担当医). One person may hold both roles (seed p. 28: "register both even when it is the
//! same person"): registering the second role adds it to the registered doctor. Doctors are
//! corrected in place and withdrawn with a date; a withdrawn doctor stays on record but no
//! longer counts for eligibility from that date.

use serde_json::json;

use super::access::{Acting, may_edit};
use super::codes::{parse_date, parse_licence_number};
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::AreaFilter;
use crate::db::{Db, Exec, Filter, new_id};
use crate::error::{AppError, AppResult};
use crate::organizations::{OrganizationRecord, store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoctorRecord {
    pub id: String,
    pub facility_id: String,
    pub name: String,
    pub licence_number: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_responsible: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_vaccinating: bool,
    pub withdrawal_date: Option<String>,
}

impl DoctorRecord {
    /// Still counts on `today` (YYYY-MM-DD): not withdrawn, or withdrawn from a later date.
    pub fn is_active(&self, today: &str) -> bool {
        self.withdrawal_date.as_deref().is_none_or(|w| w > today)
    }

    fn audit_view(&self) -> serde_json::Value {
        json!({
            "name": self.name, "licenceNumber": self.licence_number,
            "responsible": self.is_responsible, "vaccinating": self.is_vaccinating,
            "withdrawalDate": self.withdrawal_date,
        })
    }
}

const COLUMNS: &str =
    "id, facility_id, name, licence_number, is_responsible, is_vaccinating, withdrawal_date";

pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<DoctorRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM doctors WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// The doctors of every facility in `area`, in one statement.
pub async fn in_area(db: &Db, area: &AreaFilter) -> AppResult<Vec<DoctorRecord>> {
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
        "SELECT {columns} FROM doctors t JOIN organizations o ON o.id = t.facility_id{} \
         ORDER BY t.facility_id, t.name, t.id",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

pub async fn of_facility(db: &Db, facility_id: &str) -> AppResult<Vec<DoctorRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM doctors WHERE facility_id = $1 ORDER BY name, id");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(facility_id)
        .fetch_all(db.pool())
        .await?)
}

/// A doctor to register.
pub struct NewDoctor<'a> {
    pub facility_id: &'a str,
    pub name: &'a str,
    pub licence_number: &'a str,
    pub responsible: bool,
    pub vaccinating: bool,
}

fn parse_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "name",
            "a name is 1 to 100 characters / 氏名は1〜100文字です",
        ));
    }
    Ok(name.to_owned())
}

fn no_role() -> AppError {
    AppError::invalid_field(
        "roles",
        "give at least one role / 役割を1つ以上指定してください",
    )
}

async fn facility_of(db: &Db, facility_id: &str) -> AppResult<OrganizationRecord> {
    store::load_by_ids(db, &[facility_id.to_owned()])
        .await?
        .remove(facility_id)
        .ok_or(AppError::NotFound("facility"))
}

/// The doctor and its facility, if the actor may edit them; a doctor outside the actor's area
/// is not found.
async fn editable(
    db: &Db,
    actor: &Actor,
    doctor_id: &str,
) -> AppResult<(DoctorRecord, OrganizationRecord, Acting)> {
    let doctor = by_id(db.pool(), doctor_id)
        .await?
        .ok_or(AppError::NotFound("doctor"))?;
    let facility = facility_of(db, &doctor.facility_id).await?;
    let acting = may_edit(actor, &facility).map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("doctor"),
        other => other,
    })?;
    Ok((doctor, facility, acting))
}

fn entry(
    operation: &'static str,
    actor: &Actor,
    acting: Acting,
    doctor_id: &str,
    facility_id: &str,
) -> Entry {
    let entry = Entry::new(operation, Outcome::Success, Some(actor))
        .object("Doctor", doctor_id)
        .organization(facility_id);
    if acting == Acting::Proxy {
        entry.detail(format!(
            "proxy input by {} for the facility",
            actor.organization.id
        ))
    } else {
        entry
    }
}

/// Registers a doctor. The licence number identifies the person: registering a doctor already
/// on record with another role adds that role; one withdrawn is reinstated with the given roles.
pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    doctor: NewDoctor<'_>,
) -> AppResult<DoctorRecord> {
    let facility = facility_of(db, doctor.facility_id).await?;
    let acting = may_edit(actor, &facility)?;
    let name = parse_name(doctor.name)?;
    let licence = parse_licence_number(doctor.licence_number)?;
    if !doctor.responsible && !doctor.vaccinating {
        return Err(no_role());
    }
    let now = db.now();
    let mut tx = db.begin_write().await?;
    let sql =
        format!("SELECT {COLUMNS} FROM doctors WHERE facility_id = $1 AND licence_number = $2");
    let existing: Option<DoctorRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&facility.id)
        .bind(&licence)
        .fetch_optional(tx.conn())
        .await?;
    let (id, before, detail) = match existing {
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO doctors (id, facility_id, name, licence_number, is_responsible, is_vaccinating, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(&id)
            .bind(&facility.id)
            .bind(&name)
            .bind(&licence)
            .bind(i32::from(doctor.responsible))
            .bind(i32::from(doctor.vaccinating))
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(|e| match AppError::from(e) {
                // Registered by someone else at the same moment.
                AppError::Conflict(_) => AppError::Conflict(
                    "a doctor with this licence number was registered here meanwhile: reload / この医籍登録番号は登録済みです".into(),
                ),
                other => other,
            })?;
            (id, None, None)
        }
        Some(found) if found.withdrawal_date.is_some() => {
            sqlx::query(
                "UPDATE doctors SET name = $2, is_responsible = $3, is_vaccinating = $4, withdrawal_date = NULL, \
                 updated_at = $5 WHERE id = $1",
            )
            .bind(&found.id)
            .bind(&name)
            .bind(i32::from(doctor.responsible))
            .bind(i32::from(doctor.vaccinating))
            .bind(now)
            .execute(tx.conn())
            .await?;
            let before = found.audit_view();
            (
                found.id,
                Some(before),
                Some("a withdrawn doctor reinstated"),
            )
        }
        Some(found) => {
            if found.name != name {
                return Err(AppError::Conflict(format!(
                    "this licence number is registered here under the name {}: correct it with updateDoctor / この医籍登録番号は別の氏名で登録済みです",
                    found.name
                )));
            }
            let responsible = found.is_responsible || doctor.responsible;
            let vaccinating = found.is_vaccinating || doctor.vaccinating;
            if responsible == (found.is_responsible) && vaccinating == (found.is_vaccinating) {
                return Err(AppError::Conflict(
                    "this doctor is already registered here with these roles / この医師はこの役割で登録済みです"
                        .into(),
                ));
            }
            sqlx::query(
                "UPDATE doctors SET is_responsible = $2, is_vaccinating = $3, updated_at = $4 WHERE id = $1",
            )
            .bind(&found.id)
            .bind(i32::from(responsible))
            .bind(i32::from(vaccinating))
            .bind(now)
            .execute(tx.conn())
            .await?;
            let before = found.audit_view();
            (
                found.id,
                Some(before),
                Some("a role added to the registered doctor"),
            )
        }
    };
    let record = by_id(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("doctor"))?;
    let mut entry = entry("registerDoctor", actor, acting, &id, &facility.id)
        .change(before, Some(record.audit_view()));
    if let Some(detail) = detail {
        entry.detail = Some(match entry.detail.take() {
            Some(proxy) => format!("{detail}; {proxy}"),
            None => detail.to_owned(),
        });
    }
    audit::record(&mut tx, meta, entry).await?;
    tx.commit().await?;
    Ok(record)
}

/// Corrections to a doctor. Leave out what does not change.
pub struct DoctorCorrection {
    pub name: Option<String>,
    pub licence_number: Option<String>,
    /// The roles as they should be (replacing the current ones).
    pub roles: Option<(bool, bool)>,
}

/// Corrects a doctor's name, licence number or roles.
pub async fn update(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    doctor_id: &str,
    correction: DoctorCorrection,
) -> AppResult<DoctorRecord> {
    let (doctor, facility, acting) = editable(db, actor, doctor_id).await?;
    let name = correction.name.as_deref().map(parse_name).transpose()?;
    let licence = correction
        .licence_number
        .as_deref()
        .map(parse_licence_number)
        .transpose()?;
    if correction.roles.is_some_and(|(r, v)| !r && !v) {
        return Err(no_role());
    }
    if name.is_none() && licence.is_none() && correction.roles.is_none() {
        return Err(AppError::invalid(
            "nothing to change / 変更内容がありません",
        ));
    }
    if let Some(date) = &doctor.withdrawal_date {
        return Err(AppError::Conflict(format!(
            "the doctor was withdrawn on {date}: register again to reinstate / この医師は{date}に削除されています"
        )));
    }
    let (responsible, vaccinating) = correction
        .roles
        .unwrap_or((doctor.is_responsible, doctor.is_vaccinating));
    let mut tx = db.begin_write().await?;
    // Conditional on the doctor still being active: a withdrawal committed meanwhile wins.
    let updated = sqlx::query(
        "UPDATE doctors SET name = $2, licence_number = $3, is_responsible = $4, is_vaccinating = $5, updated_at = $6 \
         WHERE id = $1 AND withdrawal_date IS NULL",
    )
    .bind(&doctor.id)
    .bind(name.as_deref().unwrap_or(&doctor.name))
    .bind(licence.as_deref().unwrap_or(&doctor.licence_number))
    .bind(i32::from(responsible))
    .bind(i32::from(vaccinating))
    .bind(db.now())
    .execute(tx.conn())
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(
            "another doctor of this facility has this licence number / この医籍登録番号は登録済みです"
                .into(),
        ),
        other => other,
    })?;
    if updated.rows_affected() != 1 {
        return Err(AppError::Conflict(
            "the doctor was withdrawn meanwhile / この医師は削除されています".into(),
        ));
    }
    let record = by_id(tx.conn(), &doctor.id)
        .await?
        .ok_or(AppError::NotFound("doctor"))?;
    audit::record(
        &mut tx,
        meta,
        entry("updateDoctor", actor, acting, &doctor.id, &facility.id)
            .change(Some(doctor.audit_view()), Some(record.audit_view())),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// Withdraws a doctor from `date` (YYYY-MM-DD) on. A doctor is withdrawn once.
pub async fn withdraw(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    doctor_id: &str,
    date: &str,
) -> AppResult<DoctorRecord> {
    let (doctor, facility, acting) = editable(db, actor, doctor_id).await?;
    let date = parse_date("withdrawalDate", date)?.to_string();
    let already = || {
        AppError::Conflict(
            "the doctor is already withdrawn / この医師は既に削除されています".to_owned(),
        )
    };
    if doctor.withdrawal_date.is_some() {
        return Err(already());
    }
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE doctors SET withdrawal_date = $2, updated_at = $3 WHERE id = $1 AND withdrawal_date IS NULL",
    )
    .bind(&doctor.id)
    .bind(&date)
    .bind(db.now())
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() != 1 {
        return Err(already());
    }
    let record = by_id(tx.conn(), &doctor.id)
        .await?
        .ok_or(AppError::NotFound("doctor"))?;
    audit::record(
        &mut tx,
        meta,
        entry("withdrawDoctor", actor, acting, &doctor.id, &facility.id)
            .change(Some(doctor.audit_view()), Some(record.audit_view())),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

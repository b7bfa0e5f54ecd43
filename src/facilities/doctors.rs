//! Doctors of a facility: the responsible doctor (ワクチン接種の責任者) and vaccinating doctors
//! (接種担当医). One person may hold both roles and is then registered with both.

use super::access::{Acting, may_edit};
use super::codes::parse_licence_number;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::{Db, new_id, now_utc};
use crate::error::{AppError, AppResult};
use crate::identity::Actor;
use crate::organizations::store;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoctorRecord {
    pub id: String,
    pub facility_id: String,
    pub name: String,
    pub licence_number: String,
    pub is_responsible: i32,
    pub is_vaccinating: i32,
}

pub async fn by_id(db: &Db, id: &str) -> AppResult<Option<DoctorRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, facility_id, name, licence_number, is_responsible, is_vaccinating FROM doctors WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn of_facility(db: &Db, facility_id: &str) -> AppResult<Vec<DoctorRecord>> {
    Ok(sqlx::query_as(
        "SELECT id, facility_id, name, licence_number, is_responsible, is_vaccinating FROM doctors \
         WHERE facility_id = $1 ORDER BY name, id",
    )
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

pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    doctor: NewDoctor<'_>,
) -> AppResult<DoctorRecord> {
    let NewDoctor {
        facility_id,
        name,
        licence_number,
        responsible,
        vaccinating,
    } = doctor;
    let facility = store::load_by_ids(db, &[facility_id.to_owned()])
        .await?
        .remove(facility_id)
        .ok_or(AppError::NotFound("facility"))?;
    let acting = may_edit(actor, &facility)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid_field(
            "name",
            "a name is 1 to 100 characters / 氏名は1〜100文字です",
        ));
    }
    let licence = parse_licence_number(licence_number)?;
    if !responsible && !vaccinating {
        return Err(AppError::invalid_field(
            "roles",
            "give at least one role / 役割を1つ以上指定してください",
        ));
    }
    let id = new_id();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO doctors (id, facility_id, name, licence_number, is_responsible, is_vaccinating, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&facility.id)
    .bind(name)
    .bind(&licence)
    .bind(i32::from(responsible))
    .bind(i32::from(vaccinating))
    .bind(now_utc())
    .execute(&mut **tx)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(
            "a doctor with this licence number is already registered here; register both roles at once / この医籍登録番号は登録済みです".into(),
        ),
        other => other,
    })?;
    let mut entry = Entry::new("registerDoctor", Outcome::Success, Some(actor))
        .object("Doctor", &id)
        .organization(&facility.id)
        .change(None, Some(serde_json::json!({ "name": name, "responsible": responsible, "vaccinating": vaccinating })));
    if acting == Acting::Proxy {
        entry = entry.detail(format!(
            "proxy input by {} for the facility",
            actor.organization.id
        ));
    }
    audit::record(&mut tx, meta, entry).await?;
    tx.commit().await?;
    Ok(DoctorRecord {
        id,
        facility_id: facility.id,
        name: name.to_owned(),
        licence_number: licence,
        is_responsible: i32::from(responsible),
        is_vaccinating: i32::from(vaccinating),
    })
}

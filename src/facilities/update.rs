//! `updateFacility`: ordinary fields apply at once; the approval fields (domain.md §4) become a
//! change request for the municipality.

use async_graphql::ID;
use serde_json::{Map, Value, json};

use super::access::{Acting, may_edit};
use super::change_requests::{self, ChangeRequestRecord};
use super::codes::{MedicalInstitutionCode, check_coordinates, parse_date};
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::append;
use crate::graphql::node::{global_id, row_of};
use crate::identity::Actor;
use crate::organizations::{OrganizationKind, OrganizationRecord, SupplyType, store};

/// Changes to a facility. Leave out what does not change.
#[derive(async_graphql::InputObject, Debug, Default, Clone)]
#[graphql(name = "UpdateFacilityInput")]
pub struct FacilityUpdate {
    /// Name in Japanese (applies at once).
    pub name: Option<String>,
    /// Reading in kana (applies at once).
    pub name_kana: Option<String>,
    /// Romanised name (applies at once).
    pub name_romaji: Option<String>,
    /// Postal code, "123-4567" (applies at once).
    pub postal_code: Option<String>,
    /// Address (applies at once).
    pub address: Option<String>,
    /// Latitude (applies at once; must lie in Japan).
    pub latitude: Option<f64>,
    /// Longitude (applies at once; must lie in Japan).
    pub longitude: Option<f64>,
    /// Telephone (applies at once).
    pub phone: Option<String>,
    /// Doses it can give per week, 接種可能量 (applies at once).
    pub weekly_capacity: Option<i64>,
    /// Opening hours for the navigator (applies at once).
    pub opening_hours: Option<String>,
    /// Parking notes for the navigator (applies at once).
    pub parking_notes: Option<String>,
    /// Access notes for the navigator (applies at once).
    pub access_notes: Option<String>,
    /// Medical-institution code, 10 digits (needs approval).
    pub medical_institution_code: Option<String>,
    /// Representative's name, 代表者名 (needs approval).
    pub representative_name: Option<String>,
    /// Collective contract join date, YYYY-MM-DD (needs approval).
    pub collective_join_date: Option<String>,
    /// Collective contract withdrawal date, YYYY-MM-DD (needs approval).
    pub collective_withdrawal_date: Option<String>,
    /// Proxy-input flag, 代行入力 (needs approval).
    pub proxy_input: Option<bool>,
    /// Vaccines handled, e.g. ["PFIZER"] (needs approval).
    pub vaccines_handled: Option<Vec<String>>,
    /// How it is supplied (needs approval). BASIC clears the basic-type facility; SATELLITE
    /// needs `basicFacilityId` (or keeps the current one).
    pub supply_type: Option<SupplyType>,
    /// The basic-type facility supplying it, 基本型接種施設 (needs approval; makes it a
    /// satellite). A basic-type facility of the same prefecture, not itself.
    pub basic_facility_id: Option<ID>,
    /// General acceptance, 一般受入 (needs approval).
    pub general_acceptance: Option<bool>,
}

/// What an update did.
pub struct UpdateOutcome {
    pub facility: OrganizationRecord,
    pub change_request: Option<ChangeRequestRecord>,
}

pub(super) fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(AppError::invalid_field(
            field,
            format!("at most {max} characters / {max}文字以内で入力してください"),
        ));
    }
    Ok(value.to_owned())
}

pub(super) fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = text(field, value, max)?;
    if value.is_empty() {
        return Err(AppError::invalid_field(
            field,
            "must not be empty / 入力してください",
        ));
    }
    Ok(value)
}

/// A postal code, "153-0061".
pub(super) fn postal_code(value: &str) -> AppResult<String> {
    let v = value.trim();
    let ok = v.len() == 8
        && v.as_bytes()[3] == b'-'
        && v.bytes()
            .enumerate()
            .all(|(i, b)| i == 3 || b.is_ascii_digit());
    if !ok {
        return Err(AppError::invalid_field(
            "postalCode",
            "a postal code looks like 153-0061 / 郵便番号は153-0061の形式です",
        ));
    }
    Ok(v.to_owned())
}

/// A telephone number: digits and hyphens, at most 20 characters.
pub(super) fn phone(value: &str) -> AppResult<String> {
    let v = text("phone", value, 20)?;
    if !v.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Err(AppError::invalid_field(
            "phone",
            "digits and hyphens only / 電話番号は数字とハイフンで入力してください",
        ));
    }
    Ok(v)
}

/// The approval fields' current values, as the change request shows them.
pub async fn approval_values(
    db: &Db,
    facility: &OrganizationRecord,
) -> AppResult<Map<String, Value>> {
    let contract = super::contracts::latest_collective(db, &facility.id).await?;
    let vaccines: Value = facility
        .vaccines_handled
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_else(|| json!([]));
    let mut values = Map::new();
    values.insert("medicalInstitutionCode".into(), json!(facility.code));
    values.insert(
        "representativeName".into(),
        json!(facility.representative_name),
    );
    values.insert(
        "collectiveJoinDate".into(),
        json!(contract.as_ref().map(|c| c.join_date.clone())),
    );
    values.insert(
        "collectiveWithdrawalDate".into(),
        json!(contract.and_then(|c| c.withdrawal_date)),
    );
    values.insert("proxyInput".into(), json!(facility.proxy_input()));
    values.insert("vaccinesHandled".into(), vaccines);
    values.insert("supplyType".into(), json!(facility.supply().as_db()));
    let basic = match &facility.basic_facility_id {
        Some(id) => store::load_by_ids(db, std::slice::from_ref(id))
            .await?
            .remove(id),
        None => None,
    };
    values.insert("basicFacility".into(), basic_facility_value(basic.as_ref()));
    values.insert(
        "generalAcceptance".into(),
        json!(facility.general_acceptance()),
    );
    Ok(values)
}

/// Validates the approval part of an update into the requested values, by field.
async fn requested_approval_values(
    db: &Db,
    facility: &OrganizationRecord,
    current: &Map<String, Value>,
    update: &FacilityUpdate,
) -> AppResult<Map<String, Value>> {
    let mut requested = Map::new();
    if let Some(code) = &update.medical_institution_code {
        let code = MedicalInstitutionCode::parse(code)?;
        let prefecture_ids: Vec<String> = facility.prefecture_id.iter().cloned().collect();
        let prefectures = store::load_by_ids(db, &prefecture_ids).await?;
        let prefecture_code = prefecture_ids
            .first()
            .and_then(|id| prefectures.get(id))
            .map(|p| p.code.clone());
        if prefecture_code.as_deref() != Some(&code.as_str()[..2]) {
            return Err(AppError::invalid_field(
                "medicalInstitutionCode",
                "the code's first two digits must be the facility's prefecture / 先頭2桁が施設の都道府県と一致しません",
            ));
        }
        let taken = store::find_by_code(
            db,
            crate::organizations::OrganizationKind::Facility,
            code.as_str(),
        )
        .await?;
        if taken.is_some_and(|other| other.id != facility.id) {
            return Err(AppError::Conflict(
                "another facility has this code / この医療機関コードは他の施設で使用されています"
                    .into(),
            ));
        }
        requested.insert("medicalInstitutionCode".into(), json!(code.as_str()));
    }
    if let Some(name) = &update.representative_name {
        requested.insert(
            "representativeName".into(),
            json!(required("representativeName", name, 100)?),
        );
    }
    let join = update
        .collective_join_date
        .as_deref()
        .map(|d| parse_date("collectiveJoinDate", d))
        .transpose()?;
    let withdrawal = update
        .collective_withdrawal_date
        .as_deref()
        .map(|d| parse_date("collectiveWithdrawalDate", d))
        .transpose()?;
    if join.is_some() || withdrawal.is_some() {
        // Their order (with the dates not changed) is checked when the request is filed.
        if current.get("collectiveJoinDate").is_none_or(Value::is_null) {
            return Err(AppError::invalid_field(
                "collectiveJoinDate",
                "the facility has no collective contract / 集合契約がありません",
            ));
        }
        if let Some(join) = join {
            requested.insert("collectiveJoinDate".into(), json!(join.to_string()));
        }
        if let Some(withdrawal) = withdrawal {
            requested.insert(
                "collectiveWithdrawalDate".into(),
                json!(withdrawal.to_string()),
            );
        }
    }
    if let Some(proxy) = update.proxy_input {
        requested.insert("proxyInput".into(), json!(proxy));
    }
    if let Some(vaccines) = &update.vaccines_handled {
        if vaccines.len() > 20 || vaccines.iter().any(|v| v.trim().is_empty() || v.len() > 32) {
            return Err(AppError::invalid_field(
                "vaccinesHandled",
                "up to 20 vaccine codes of 1 to 32 characters / ワクチンコードは20件まで",
            ));
        }
        let mut vaccines: Vec<String> = vaccines.iter().map(|v| v.trim().to_uppercase()).collect();
        vaccines.sort();
        vaccines.dedup();
        requested.insert("vaccinesHandled".into(), json!(vaccines));
    }
    if update.supply_type.is_some() || update.basic_facility_id.is_some() {
        // Both fields are always filed together, so the request never pairs a supply type
        // with a basic-type facility that contradicts it.
        let basic = match (&update.basic_facility_id, update.supply_type) {
            (Some(_), Some(SupplyType::Basic)) => {
                return Err(AppError::invalid_field(
                    "basicFacilityId",
                    "a basic-type facility is supplied directly and names no basic-type facility / 基本型接種施設は基本型接種施設を指定しません",
                ));
            }
            (Some(id), _) => {
                let row = row_of(id, &["Facility"], "facility")?;
                let basic = store::load_by_ids(db, std::slice::from_ref(&row))
                    .await?
                    .remove(&row)
                    .filter(|b| b.kind() == OrganizationKind::Facility)
                    .ok_or(AppError::NotFound("facility"))?;
                check_basic_facility(db, facility, &basic).await?;
                Some(basic)
            }
            (None, Some(SupplyType::Basic)) => None,
            (None, _) => {
                // SATELLITE alone keeps the current basic-type facility, if there is one.
                if current.get("basicFacility").is_none_or(Value::is_null) {
                    return Err(AppError::invalid_field(
                        "basicFacilityId",
                        "a satellite names the basic-type facility supplying it / サテライト型接種施設は基本型接種施設を指定してください",
                    ));
                }
                if let Some(value) = current.get("basicFacility") {
                    requested.insert("supplyType".into(), json!(SupplyType::Satellite.as_db()));
                    requested.insert("basicFacility".into(), value.clone());
                }
                return Ok(finish(requested, update));
            }
        };
        let supply = if basic.is_some() {
            SupplyType::Satellite
        } else {
            SupplyType::Basic
        };
        requested.insert("supplyType".into(), json!(supply.as_db()));
        requested.insert("basicFacility".into(), basic_facility_value(basic.as_ref()));
    }
    Ok(finish(requested, update))
}

fn finish(mut requested: Map<String, Value>, update: &FacilityUpdate) -> Map<String, Value> {
    if let Some(general) = update.general_acceptance {
        requested.insert("generalAcceptance".into(), json!(general));
    }
    requested
}

/// How a change request shows a basic-type facility: its global id, code and name, so the
/// municipality reads who it is side by side; null for none.
pub fn basic_facility_value(basic: Option<&OrganizationRecord>) -> Value {
    match basic {
        Some(b) => {
            json!({ "id": global_id("Facility", &b.id).to_string(), "code": b.code, "name": b.name })
        }
        None => Value::Null,
    }
}

/// The row id inside a change request's basic-facility value.
pub fn basic_facility_row(value: &Value) -> Option<String> {
    let id = value.get("id")?.as_str()?;
    row_of(id, &["Facility"], "facility").ok()
}

/// A facility may be supplied through `basic` only if it is another facility of the same
/// prefecture that is itself supplied directly; and a facility that supplies satellites cannot
/// become one.
pub async fn check_basic_facility(
    db: &Db,
    facility: &OrganizationRecord,
    basic: &OrganizationRecord,
) -> AppResult<()> {
    let field = "basicFacilityId";
    if basic.id == facility.id {
        return Err(AppError::invalid_field(
            field,
            "a facility cannot be its own basic-type facility / 自施設は基本型接種施設に指定できません",
        ));
    }
    if basic.supply() != SupplyType::Basic {
        return Err(AppError::invalid_field(
            field,
            "that facility is a satellite, not a basic-type facility / 指定された施設はサテライト型接種施設です",
        ));
    }
    if basic.prefecture_id != facility.prefecture_id {
        return Err(AppError::invalid_field(
            field,
            "the basic-type facility must be in the same prefecture / 基本型接種施設は同じ都道府県の施設を指定してください",
        ));
    }
    let satellites: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE basic_facility_id = $1")
            .bind(&facility.id)
            .fetch_one(db.pool())
            .await?;
    if satellites > 0 {
        return Err(AppError::invalid_field(
            field,
            "this facility supplies satellites and so stays a basic-type facility / サテライト型接種施設を持つ施設は基本型のままです",
        ));
    }
    Ok(())
}

/// Applies the ordinary fields and files (or amends, or revises) the change request. A refused
/// edit changes nothing and is audited (FAILURE for bad input, DENIED for no right).
pub async fn update_facility(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    update: FacilityUpdate,
) -> AppResult<UpdateOutcome> {
    let result = apply_update(db, meta, actor, facility_id, update).await;
    if let Err(error) = &result {
        super::audit_refusal(db, meta, actor, "updateFacility", Some(facility_id), error).await?;
    }
    result
}

async fn apply_update(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    facility_id: &str,
    update: FacilityUpdate,
) -> AppResult<UpdateOutcome> {
    let facility = store::load_by_ids(db, &[facility_id.to_owned()])
        .await?
        .remove(facility_id)
        .ok_or(AppError::NotFound("facility"))?;
    let acting = may_edit(actor, &facility)?;

    // Validate everything before changing anything.
    let mut immediate: Vec<(&'static str, &'static str, Value)> = Vec::new();
    if let Some(v) = &update.name {
        immediate.push(("organizations", "name", json!(required("name", v, 200)?)));
    }
    if let Some(v) = &update.name_kana {
        immediate.push((
            "organizations",
            "name_kana",
            json!(text("nameKana", v, 200)?),
        ));
    }
    if let Some(v) = &update.name_romaji {
        immediate.push((
            "organizations",
            "name_romaji",
            json!(text("nameRomaji", v, 200)?),
        ));
    }
    if let Some(v) = &update.postal_code {
        immediate.push(("facilities", "postal_code", json!(postal_code(v)?)));
    }
    if let Some(v) = &update.address {
        immediate.push(("facilities", "address", json!(required("address", v, 300)?)));
    }
    if update.latitude.is_some() || update.longitude.is_some() {
        let latitude = update.latitude.or(facility.latitude).unwrap_or_default();
        let longitude = update.longitude.or(facility.longitude).unwrap_or_default();
        check_coordinates(latitude, longitude)?;
        immediate.push(("facilities", "latitude", json!(latitude)));
        immediate.push(("facilities", "longitude", json!(longitude)));
    }
    if let Some(v) = &update.phone {
        immediate.push(("facilities", "phone", json!(phone(v)?)));
    }
    if let Some(v) = update.weekly_capacity {
        if !(0..=1_000_000).contains(&v) {
            return Err(AppError::invalid_field(
                "weeklyCapacity",
                "0 to 1,000,000 doses a week / 0〜1,000,000回",
            ));
        }
        immediate.push(("facilities", "weekly_capacity", json!(v)));
    }
    if let Some(v) = &update.opening_hours {
        immediate.push((
            "facilities",
            "opening_hours",
            json!(text("openingHours", v, 500)?),
        ));
    }
    if let Some(v) = &update.parking_notes {
        immediate.push((
            "facilities",
            "parking_notes",
            json!(text("parkingNotes", v, 500)?),
        ));
    }
    if let Some(v) = &update.access_notes {
        immediate.push((
            "facilities",
            "access_notes",
            json!(text("accessNotes", v, 500)?),
        ));
    }
    let current = approval_values(db, &facility).await?;
    // Values equal to the current ones stay in: in an amendment they withdraw that field.
    let requested = requested_approval_values(db, &facility, &current, &update).await?;
    if immediate.is_empty() && requested.is_empty() {
        return Err(AppError::invalid(
            "nothing to change / 変更内容がありません",
        ));
    }

    let mut tx = db.begin_write().await?;
    let before = store::load(tx.conn(), &facility.id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    let now = db.now();
    for (table, column, value) in &immediate {
        let sql = match *table {
            "organizations" => format!("UPDATE organizations SET {column} = $2 WHERE id = $1"),
            _ => format!("UPDATE facilities SET {column} = $2 WHERE organization_id = $1"),
        };
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&facility.id);
        let query = match value {
            Value::Number(n) if n.is_f64() => query.bind(n.as_f64()),
            Value::Number(n) => query.bind(n.as_i64()),
            Value::String(s) if s.is_empty() && *column != "name" => query.bind(None::<String>),
            Value::String(s) => query.bind(s.clone()),
            _ => query.bind(None::<String>),
        };
        query.execute(tx.conn()).await?;
    }
    if !immediate.is_empty() {
        sqlx::query(
            "UPDATE organizations SET updated_at = $2, version = version + 1 WHERE id = $1",
        )
        .bind(&facility.id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let change_request = if requested.is_empty() {
        None
    } else {
        change_requests::submit(&mut tx, meta, &facility, actor, acting, &current, requested)
            .await?
    };
    let after = store::load(tx.conn(), &facility.id)
        .await?
        .ok_or(AppError::NotFound("facility"))?;
    let mut entry = Entry::new("updateFacility", Outcome::Success, Some(actor))
        .object("Facility", &facility.id)
        .organization(&facility.id)
        .change(
            Some(super::graphql::audit_view(&before)),
            Some(super::graphql::audit_view(&after)),
        );
    match acting {
        Acting::Proxy => {
            entry = entry.detail(format!(
                "proxy input by {} for the facility",
                actor.organization.id
            ));
        }
        Acting::Operator => {
            entry = entry.detail(format!(
                "entered by {}, the venue's operating municipality",
                actor.organization.id
            ));
        }
        Acting::Itself => {}
    }
    audit::record(&mut tx, meta, entry).await?;
    // The row holds approved values only: what went into the change request is not announced.
    for event in super::events::facility_events(&before, &after, &Map::new()) {
        append(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(UpdateOutcome {
        facility: after,
        change_request,
    })
}

//! `updateFacility`: ordinary fields apply at once; the approval fields (domain.md §4) become a
//! change request for the municipality.

use async_graphql::ID;
use serde_json::{Map, Value, json};

use super::access::{Acting, may_edit};
use super::approval::{ApprovalField, ApprovalValues, basic_facility_value};
use super::change_requests::{self, ChangeRequestRecord};
use super::codes::{MedicalInstitutionCode, check_coordinates, parse_date};
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::db::{Db, Flag, Timestamp, WriteTx};
use crate::error::{AppError, AppResult};
use crate::events::append;
use crate::graphql::ids::row_of;
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

/// The validated fields that apply at once. `None`: unchanged; for the fields that may be
/// emptied, `Some(None)` clears them.
#[derive(Debug, Default)]
struct ImmediateChanges {
    name: Option<String>,
    name_kana: Option<Option<String>>,
    name_romaji: Option<Option<String>>,
    postal_code: Option<String>,
    address: Option<String>,
    coordinates: Option<(f64, f64)>,
    phone: Option<Option<String>>,
    weekly_capacity: Option<i64>,
    opening_hours: Option<Option<String>>,
    parking_notes: Option<Option<String>>,
    access_notes: Option<Option<String>>,
}

/// Empty text clears an optional field.
fn clearable(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

impl ImmediateChanges {
    fn validate(update: &FacilityUpdate, facility: &OrganizationRecord) -> AppResult<Self> {
        let optional = |value: &Option<String>, field: &str, max: usize| {
            value
                .as_deref()
                .map(|v| text(field, v, max).map(clearable))
                .transpose()
        };
        let coordinates = if update.latitude.is_some() || update.longitude.is_some() {
            let latitude = update.latitude.or(facility.latitude).unwrap_or_default();
            let longitude = update.longitude.or(facility.longitude).unwrap_or_default();
            check_coordinates(latitude, longitude)?;
            Some((latitude, longitude))
        } else {
            None
        };
        if let Some(v) = update.weekly_capacity
            && !(0..=1_000_000).contains(&v)
        {
            return Err(AppError::invalid_field(
                "weeklyCapacity",
                "0 to 1,000,000 doses a week / 0〜1,000,000回",
            ));
        }
        Ok(ImmediateChanges {
            name: update
                .name
                .as_deref()
                .map(|v| required("name", v, 200))
                .transpose()?,
            name_kana: optional(&update.name_kana, "nameKana", 200)?,
            name_romaji: optional(&update.name_romaji, "nameRomaji", 200)?,
            postal_code: update.postal_code.as_deref().map(postal_code).transpose()?,
            address: update
                .address
                .as_deref()
                .map(|v| required("address", v, 300))
                .transpose()?,
            coordinates,
            phone: update
                .phone
                .as_deref()
                .map(|v| phone(v).map(clearable))
                .transpose()?,
            weekly_capacity: update.weekly_capacity,
            opening_hours: optional(&update.opening_hours, "openingHours", 500)?,
            parking_notes: optional(&update.parking_notes, "parkingNotes", 500)?,
            access_notes: optional(&update.access_notes, "accessNotes", 500)?,
        })
    }

    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.name_kana.is_none()
            && self.name_romaji.is_none()
            && self.postal_code.is_none()
            && self.address.is_none()
            && self.coordinates.is_none()
            && self.phone.is_none()
            && self.weekly_capacity.is_none()
            && self.opening_hours.is_none()
            && self.parking_notes.is_none()
            && self.access_notes.is_none()
    }

    /// One statement per table; each column is written only when its flag says it changed.
    async fn write(&self, tx: &mut WriteTx, facility_id: &str, now: Timestamp) -> AppResult<()> {
        let set = |changed: bool| Flag(changed);
        sqlx::query(
            "UPDATE organizations SET \
             name = CASE WHEN $2 = 1 THEN $3 ELSE name END, \
             name_kana = CASE WHEN $4 = 1 THEN $5 ELSE name_kana END, \
             name_romaji = CASE WHEN $6 = 1 THEN $7 ELSE name_romaji END, \
             updated_at = $8, version = version + 1 WHERE id = $1",
        )
        .bind(facility_id)
        .bind(set(self.name.is_some()))
        .bind(self.name.as_deref())
        .bind(set(self.name_kana.is_some()))
        .bind(self.name_kana.clone().flatten())
        .bind(set(self.name_romaji.is_some()))
        .bind(self.name_romaji.clone().flatten())
        .bind(now)
        .execute(tx.conn())
        .await?;
        let (latitude, longitude) = self.coordinates.unzip();
        sqlx::query(
            "UPDATE facilities SET \
             postal_code = CASE WHEN $2 = 1 THEN $3 ELSE postal_code END, \
             address = CASE WHEN $4 = 1 THEN $5 ELSE address END, \
             latitude = CASE WHEN $6 = 1 THEN $7 ELSE latitude END, \
             longitude = CASE WHEN $6 = 1 THEN $8 ELSE longitude END, \
             phone = CASE WHEN $9 = 1 THEN $10 ELSE phone END, \
             weekly_capacity = CASE WHEN $11 = 1 THEN $12 ELSE weekly_capacity END, \
             opening_hours = CASE WHEN $13 = 1 THEN $14 ELSE opening_hours END, \
             parking_notes = CASE WHEN $15 = 1 THEN $16 ELSE parking_notes END, \
             access_notes = CASE WHEN $17 = 1 THEN $18 ELSE access_notes END \
             WHERE organization_id = $1",
        )
        .bind(facility_id)
        .bind(set(self.postal_code.is_some()))
        .bind(self.postal_code.as_deref())
        .bind(set(self.address.is_some()))
        .bind(self.address.as_deref())
        .bind(set(self.coordinates.is_some()))
        .bind(latitude)
        .bind(longitude)
        .bind(set(self.phone.is_some()))
        .bind(self.phone.clone().flatten())
        .bind(set(self.weekly_capacity.is_some()))
        .bind(self.weekly_capacity)
        .bind(set(self.opening_hours.is_some()))
        .bind(self.opening_hours.clone().flatten())
        .bind(set(self.parking_notes.is_some()))
        .bind(self.parking_notes.clone().flatten())
        .bind(set(self.access_notes.is_some()))
        .bind(self.access_notes.clone().flatten())
        .execute(tx.conn())
        .await?;
        Ok(())
    }
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
pub async fn approval_values(db: &Db, facility: &OrganizationRecord) -> AppResult<ApprovalValues> {
    let contract = super::contracts::latest_collective(db.pool(), &facility.id).await?;
    let vaccines = json!(facility.vaccines());
    let mut values = ApprovalValues::default();
    values.insert(ApprovalField::MedicalInstitutionCode, json!(facility.code));
    values.insert(
        ApprovalField::RepresentativeName,
        json!(facility.representative_name),
    );
    values.insert(
        ApprovalField::CollectiveJoinDate,
        json!(contract.as_ref().map(|c| c.join_date.clone())),
    );
    values.insert(
        ApprovalField::CollectiveWithdrawalDate,
        json!(contract.and_then(|c| c.withdrawal_date)),
    );
    values.insert(ApprovalField::ProxyInput, json!(facility.proxy_input()));
    values.insert(ApprovalField::VaccinesHandled, vaccines);
    values.insert(ApprovalField::SupplyType, json!(facility.supply().as_db()));
    let basic = match &facility.basic_facility_id {
        Some(id) => store::load_by_ids(db, std::slice::from_ref(id))
            .await?
            .remove(id),
        None => None,
    };
    values.insert(
        ApprovalField::BasicFacility,
        basic_facility_value(basic.as_ref()),
    );
    values.insert(
        ApprovalField::GeneralAcceptance,
        json!(facility.general_acceptance()),
    );
    Ok(values)
}

/// Validates the approval part of an update into the requested values, by field.
async fn requested_approval_values(
    db: &Db,
    facility: &OrganizationRecord,
    current: &ApprovalValues,
    update: &FacilityUpdate,
) -> AppResult<ApprovalValues> {
    let mut requested = ApprovalValues::default();
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
        requested.insert(ApprovalField::MedicalInstitutionCode, json!(code.as_str()));
    }
    if let Some(name) = &update.representative_name {
        requested.insert(
            ApprovalField::RepresentativeName,
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
        if current
            .get(ApprovalField::CollectiveJoinDate)
            .is_none_or(Value::is_null)
        {
            return Err(AppError::invalid_field(
                "collectiveJoinDate",
                "the facility has no collective contract / 集合契約がありません",
            ));
        }
        if let Some(join) = join {
            requested.insert(ApprovalField::CollectiveJoinDate, json!(join.to_string()));
        }
        if let Some(withdrawal) = withdrawal {
            requested.insert(
                ApprovalField::CollectiveWithdrawalDate,
                json!(withdrawal.to_string()),
            );
        }
    }
    if let Some(proxy) = update.proxy_input {
        requested.insert(ApprovalField::ProxyInput, json!(proxy));
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
        let known = crate::allocation::products::vaccine_codes(db).await?;
        if let Some(unknown) = vaccines.iter().find(|v| !known.contains(v)) {
            return Err(AppError::invalid_field(
                "vaccinesHandled",
                format!(
                    "{unknown} is not a vaccine of the product master / {unknown} はワクチンとして登録されていません"
                ),
            ));
        }
        requested.insert(ApprovalField::VaccinesHandled, json!(vaccines));
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
                if current
                    .get(ApprovalField::BasicFacility)
                    .is_none_or(Value::is_null)
                {
                    return Err(AppError::invalid_field(
                        "basicFacilityId",
                        "a satellite names the basic-type facility supplying it / サテライト型接種施設は基本型接種施設を指定してください",
                    ));
                }
                if let Some(value) = current.get(ApprovalField::BasicFacility) {
                    requested.insert(
                        ApprovalField::SupplyType,
                        json!(SupplyType::Satellite.as_db()),
                    );
                    requested.insert(ApprovalField::BasicFacility, value.clone());
                }
                return Ok(finish(requested, update));
            }
        };
        let supply = if basic.is_some() {
            SupplyType::Satellite
        } else {
            SupplyType::Basic
        };
        requested.insert(ApprovalField::SupplyType, json!(supply.as_db()));
        requested.insert(
            ApprovalField::BasicFacility,
            basic_facility_value(basic.as_ref()),
        );
    }
    Ok(finish(requested, update))
}

fn finish(mut requested: ApprovalValues, update: &FacilityUpdate) -> ApprovalValues {
    if let Some(general) = update.general_acceptance {
        requested.insert(ApprovalField::GeneralAcceptance, json!(general));
    }
    requested
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
        crate::audit::record_refusal(db, meta, actor, "updateFacility", Some(facility_id), error)
            .await?;
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
    let immediate = ImmediateChanges::validate(&update, &facility)?;
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
    if !immediate.is_empty() {
        immediate.write(&mut tx, &facility.id, now).await?;
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
            Some(super::audit_view(&before)),
            Some(super::audit_view(&after)),
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

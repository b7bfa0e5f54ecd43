//! Creating facilities. `registerFacilities`: the service desk loads the facility data that
//! came from the contract-intake system (seed p. 12), as a list or a CSV, all or none, every
//! bad row named by its number. `registerSpecialVenue`: a municipality registers a venue it runs
//! in its own area (特設会場, seed p. 28); it then edits the venue without the proxy flag.

use std::collections::{HashMap, HashSet};

use super::access::scope_of;
use super::codes::{MedicalInstitutionCode, check_coordinates};
use super::update::{phone, postal_code, required, text};
use crate::actor::Actor;
use crate::audit::{self, Entry, Outcome, RequestMeta};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult, RowError};
use crate::events::append;
use crate::organizations::codes::MunicipalityCode;
use crate::organizations::{
    FacilityType, NewFacility, NewOrganization, OrganizationKind, OrganizationRecord, SupplyType,
    store,
};

/// Most facilities one registration may carry.
pub const MAX_ROWS: usize = 1000;

/// One facility to register, as the list input or a CSV row gives it.
#[derive(Debug, Clone)]
pub struct FacilityRow {
    /// 1-based: the n-th item of the list, the n-th line after the CSV's header.
    pub row: usize,
    pub code: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub name_romaji: Option<String>,
    pub municipality_code: String,
    pub facility_type: FacilityType,
    pub supply_type: SupplyType,
    pub basic_facility_code: Option<String>,
    pub postal_code: Option<String>,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub phone: Option<String>,
}

/// The CSV's columns, as its header names them (the list input's field names).
const REQUIRED_COLUMNS: [&str; 7] = [
    "code",
    "name",
    "municipalityCode",
    "facilityType",
    "address",
    "latitude",
    "longitude",
];
const OPTIONAL_COLUMNS: [&str; 6] = [
    "nameKana",
    "nameRomaji",
    "supplyType",
    "basicFacilityCode",
    "postalCode",
    "phone",
];

fn too_many(row: usize, argument: &'static str) -> AppError {
    AppError::InvalidRows {
        argument,
        rows: vec![RowError {
            row,
            field: None,
            message: format!(
                "at most {MAX_ROWS} facilities per registration: split the file / 1回の登録は{MAX_ROWS}件までです"
            ),
        }],
    }
}

/// Reads the CSV: a header row naming the columns (any order), then one facility per line.
/// Lines whose cells are all empty are skipped. Cells that cannot be read are row errors, kept
/// with the rows that could be read so that one answer names every bad row.
pub fn parse_csv(csv: &str) -> AppResult<(Vec<FacilityRow>, Vec<RowError>)> {
    let csv = csv.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| {
            AppError::invalid_field(
                "csv",
                "the CSV has no readable header row / 見出し行が読めません",
            )
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    for header in &headers {
        if !REQUIRED_COLUMNS.contains(&header.as_str())
            && !OPTIONAL_COLUMNS.contains(&header.as_str())
        {
            return Err(AppError::invalid_field(
                "csv",
                format!("unknown column {header:?} / 不明な列です: {header}"),
            ));
        }
    }
    for column in REQUIRED_COLUMNS {
        if !headers.iter().any(|h| h == column) {
            return Err(AppError::invalid_field(
                "csv",
                format!("the header lacks the column {column:?} / 列 {column} がありません"),
            ));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let row = error
                    .position()
                    .map(|p| p.line() as usize - 1)
                    .unwrap_or(rows.len() + errors.len() + 1);
                errors.push(RowError {
                    row,
                    field: None,
                    message:
                        "the line cannot be read as CSV (UTF-8 text expected) / CSVとして読めません"
                            .into(),
                });
                continue;
            }
        };
        // The header is line 1, so line n holds row n − 1.
        let row = record
            .position()
            .map(|p| crate::error::csv_line(csv, p) - 1)
            .unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            return Err(too_many(row, "csv"));
        }
        if record.len() > headers.len() {
            errors.push(RowError {
                row,
                field: None,
                message: format!(
                    "{} cells for {} columns / 列数が見出しと合いません",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        let cell = |column: &str| -> Option<String> {
            let index = headers.iter().position(|h| h == column)?;
            record
                .get(index)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        };
        match row_from_cells(row, &cell) {
            Ok(parsed) => rows.push(parsed),
            Err(error) => errors.push(RowError::from_error(row, error)),
        }
    }
    Ok((rows, errors))
}

fn row_from_cells(row: usize, cell: &dyn Fn(&str) -> Option<String>) -> AppResult<FacilityRow> {
    let number = |column: &str| -> AppResult<f64> {
        let text = cell(column).unwrap_or_default();
        text.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| {
                AppError::invalid_field(
                    column,
                    format!("{text:?} is not a number / 数値ではありません"),
                )
            })
    };
    let facility_type = match cell("facilityType")
        .unwrap_or_default()
        .to_uppercase()
        .as_str()
    {
        "CLINIC" | "診療所" => FacilityType::Clinic,
        "HOSPITAL" | "病院" => FacilityType::Hospital,
        "SPECIAL_VENUE" | "特設会場" => FacilityType::SpecialVenue,
        other => {
            return Err(AppError::invalid_field(
                "facilityType",
                format!(
                    "{other:?} is not CLINIC, HOSPITAL or SPECIAL_VENUE / 施設種別が正しくありません"
                ),
            ));
        }
    };
    let supply_type = match cell("supplyType")
        .unwrap_or_default()
        .to_uppercase()
        .as_str()
    {
        "" | "BASIC" | "基本型" => SupplyType::Basic,
        "SATELLITE" | "サテライト型" => SupplyType::Satellite,
        other => {
            return Err(AppError::invalid_field(
                "supplyType",
                format!("{other:?} is not BASIC or SATELLITE / 供給形態が正しくありません"),
            ));
        }
    };
    Ok(FacilityRow {
        row,
        code: cell("code").unwrap_or_default(),
        name: cell("name").unwrap_or_default(),
        name_kana: cell("nameKana"),
        name_romaji: cell("nameRomaji"),
        municipality_code: cell("municipalityCode").unwrap_or_default(),
        facility_type,
        supply_type,
        basic_facility_code: cell("basicFacilityCode"),
        postal_code: cell("postalCode"),
        address: cell("address").unwrap_or_default(),
        latitude: number("latitude")?,
        longitude: number("longitude")?,
        phone: cell("phone"),
    })
}

/// A row whose own fields are valid, before the look-ups.
struct Checked {
    id: String,
    row: FacilityRow,
    code: MedicalInstitutionCode,
    municipality: MunicipalityCode,
    basic_code: Option<MedicalInstitutionCode>,
}

/// The checks a row passes on its own.
fn check_fields(row: &FacilityRow) -> AppResult<Checked> {
    let code = MedicalInstitutionCode::parse(&row.code).map_err(|e| rename_field(e, "code"))?;
    required("name", &row.name, 200)?;
    if let Some(kana) = &row.name_kana {
        text("nameKana", kana, 200)?;
    }
    if let Some(romaji) = &row.name_romaji {
        text("nameRomaji", romaji, 200)?;
    }
    let municipality = MunicipalityCode::parse(&row.municipality_code)
        .map_err(|e| rename_field(e, "municipalityCode"))?;
    required("address", &row.address, 300)?;
    check_coordinates(row.latitude, row.longitude)?;
    if let Some(v) = &row.postal_code {
        postal_code(v)?;
    }
    if let Some(v) = &row.phone {
        phone(v)?;
    }
    let basic_code = match (row.supply_type, &row.basic_facility_code) {
        (SupplyType::Satellite, Some(code)) => Some(
            MedicalInstitutionCode::parse(code)
                .map_err(|e| rename_field(e, "basicFacilityCode"))?,
        ),
        (SupplyType::Satellite, None) => {
            return Err(AppError::invalid_field(
                "basicFacilityCode",
                "a satellite names the basic-type facility supplying it / サテライト型接種施設は基本型接種施設を指定してください",
            ));
        }
        (SupplyType::Basic, Some(_)) => {
            return Err(AppError::invalid_field(
                "basicFacilityCode",
                "a basic-type facility is supplied directly and names no basic-type facility / 基本型接種施設は基本型接種施設を指定しません",
            ));
        }
        (SupplyType::Basic, None) => None,
    };
    Ok(Checked {
        id: new_id(),
        row: row.clone(),
        code,
        municipality,
        basic_code,
    })
}

fn rename_field(error: AppError, field: &str) -> AppError {
    match error {
        AppError::InvalidInput { message, .. } => AppError::invalid_field(field, message),
        other => other,
    }
}

/// Checks every row against the registry and each other; returns the organisations to insert
/// (basic-type facilities first, so a satellite's reference always points backwards) or
/// every row's errors.
async fn prepare(
    db: &Db,
    rows: &[FacilityRow],
    mut errors: Vec<RowError>,
    operator: Option<&str>,
) -> AppResult<Vec<NewOrganization>> {
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        match check_fields(row) {
            Ok(c) => checked.push(c),
            Err(error) => errors.push(RowError::from_error(row.row, error)),
        }
    }
    let municipality_codes: Vec<String> = checked
        .iter()
        .map(|c| c.municipality.as_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let municipalities =
        store::find_by_codes(db, OrganizationKind::Municipality, &municipality_codes).await?;
    let prefecture_ids: Vec<String> = municipalities
        .values()
        .filter_map(|m| m.prefecture_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let prefectures = store::load_by_ids(db, &prefecture_ids).await?;
    let facility_codes: Vec<String> = checked
        .iter()
        .flat_map(|c| {
            std::iter::once(c.code.as_str().to_owned())
                .chain(c.basic_code.as_ref().map(|b| b.as_str().to_owned()))
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let registered = store::find_by_codes(db, OrganizationKind::Facility, &facility_codes).await?;

    // The first row of each code in the file: later rows with the same code are duplicates.
    let mut first_row: HashMap<&str, usize> = HashMap::new();
    let mut in_file: HashMap<&str, &Checked> = HashMap::new();
    for c in &checked {
        first_row.entry(c.code.as_str()).or_insert(c.row.row);
        in_file.entry(c.code.as_str()).or_insert(c);
    }

    let mut prepared = Vec::with_capacity(checked.len());
    for c in &checked {
        let fail = |field: &str, message: String| RowError {
            row: c.row.row,
            field: Some(field.to_owned()),
            message,
        };
        let Some(municipality) = municipalities.get(&c.municipality.as_string()) else {
            errors.push(fail(
                "municipalityCode",
                format!(
                    "no municipality has the code {} / 市区町村コード {} は登録されていません",
                    c.municipality.as_string(),
                    c.municipality.as_string()
                ),
            ));
            continue;
        };
        let prefecture_code = municipality
            .prefecture_id
            .as_ref()
            .and_then(|id| prefectures.get(id))
            .map(|p| p.code.clone())
            .unwrap_or_default();
        if c.code.prefecture() != prefecture_code {
            errors.push(fail(
                "code",
                "the code's first two digits must be the municipality's prefecture / 先頭2桁が市区町村の都道府県と一致しません".into(),
            ));
            continue;
        }
        let first = first_row[c.code.as_str()];
        if first != c.row.row {
            errors.push(fail(
                "code",
                format!("the same code as row {first} / {first}行目と同じ医療機関コードです"),
            ));
            continue;
        }
        if registered.contains_key(c.code.as_str()) {
            errors.push(fail(
                "code",
                "a facility with this code is already registered / この医療機関コードの施設は登録済みです".into(),
            ));
            continue;
        }
        let basic_facility_id = match &c.basic_code {
            None => None,
            Some(basic) => {
                // Registered already, or a basic-type facility earlier or later in the file.
                let target = match (registered.get(basic.as_str()), in_file.get(basic.as_str())) {
                    (Some(record), _) => Some((
                        record.id.clone(),
                        record.supply(),
                        record.prefecture_id.clone(),
                    )),
                    (None, Some(other)) => Some((
                        other.id.clone(),
                        other.row.supply_type,
                        municipalities
                            .get(&other.municipality.as_string())
                            .and_then(|m| m.prefecture_id.clone()),
                    )),
                    (None, None) => None,
                };
                match target {
                    None => {
                        errors.push(fail(
                            "basicFacilityCode",
                            "no facility has this code, here or in the registry / この医療機関コードの施設はありません".into(),
                        ));
                        continue;
                    }
                    Some((id, _, _)) if id == c.id || basic.as_str() == c.code.as_str() => {
                        errors.push(fail(
                            "basicFacilityCode",
                            "a facility cannot be its own basic-type facility / 自施設は基本型接種施設に指定できません".into(),
                        ));
                        continue;
                    }
                    Some((_, SupplyType::Satellite, _)) => {
                        errors.push(fail(
                            "basicFacilityCode",
                            "that facility is a satellite, not a basic-type facility / 指定された施設はサテライト型接種施設です".into(),
                        ));
                        continue;
                    }
                    Some((_, _, prefecture)) if prefecture != municipality.prefecture_id => {
                        errors.push(fail(
                            "basicFacilityCode",
                            "the basic-type facility must be in the same prefecture / 基本型接種施設は同じ都道府県の施設を指定してください".into(),
                        ));
                        continue;
                    }
                    Some((id, _, _)) => Some(id),
                }
            }
        };
        let row = &c.row;
        let venue = row.facility_type == FacilityType::SpecialVenue;
        prepared.push(NewOrganization {
            id: c.id.clone(),
            kind: OrganizationKind::Facility,
            code: c.code.as_str().to_owned(),
            name: row.name.trim().to_owned(),
            name_kana: row.name_kana.as_deref().map(|v| v.trim().to_owned()),
            name_romaji: row.name_romaji.as_deref().map(|v| v.trim().to_owned()),
            parent_id: Some(municipality.id.clone()),
            prefecture_id: municipality.prefecture_id.clone(),
            municipality_id: Some(municipality.id.clone()),
            facility: Some(NewFacility {
                facility_type: row.facility_type,
                postal_code: row.postal_code.as_deref().map(|v| v.trim().to_owned()),
                address: row.address.trim().to_owned(),
                latitude: row.latitude,
                longitude: row.longitude,
                phone: row.phone.as_deref().map(|v| v.trim().to_owned()),
                supply_type: row.supply_type,
                basic_facility_id,
                // A special venue is run by a municipality: the registering one, or else the
                // one it lies in.
                operating_municipality_id: venue
                    .then(|| operator.unwrap_or(&municipality.id).to_owned()),
            }),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::InvalidRows {
            argument: "facilities",
            rows: errors,
        });
    }
    prepared.sort_by_key(|o| {
        o.facility
            .as_ref()
            .is_some_and(|f| f.basic_facility_id.is_some())
    });
    Ok(prepared)
}

/// What the audit log keeps of a new facility.
fn audit_after(org: &NewOrganization) -> serde_json::Value {
    let f = org.facility.as_ref();
    serde_json::json!({
        "code": org.code, "name": org.name, "municipalityId": org.municipality_id,
        "facilityType": f.map(|f| f.facility_type.as_db()),
        "supplyType": f.map(|f| f.supply_type.as_db()),
        "basicFacilityId": f.and_then(|f| f.basic_facility_id.clone()),
        "operatingMunicipalityId": f.and_then(|f| f.operating_municipality_id.clone()),
        "address": f.map(|f| f.address.clone()),
    })
}

/// Inserts the prepared facilities with one audit row each, in one transaction, and reads
/// them back in the order given.
async fn insert(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    operation: &'static str,
    organizations: Vec<NewOrganization>,
    order: &[String],
) -> AppResult<Vec<OrganizationRecord>> {
    let mut tx = db.begin_write().await?;
    store::insert_in(&mut tx, &organizations).await?;
    for org in &organizations {
        audit::record(
            &mut tx,
            meta,
            Entry::new(operation, Outcome::Success, Some(actor))
                .object("Facility", &org.id)
                .organization(&org.id)
                .change(None, Some(audit_after(org))),
        )
        .await?;
    }
    // A new facility is a change like any other: its public fields reach the navigator
    // (`facility.updated`), the rest its area (`facility.changed`). Events go last.
    for org in &organizations {
        let created = store::load(tx.conn(), &org.id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("facility {} vanished", org.id)))?;
        for event in super::events::facility_events(
            &OrganizationRecord::default(),
            &created,
            &serde_json::Map::new(),
        ) {
            append(&mut tx, &event).await?;
        }
    }
    tx.commit().await?;
    let mut records = store::load_by_ids(db, order).await?;
    Ok(order.iter().filter_map(|id| records.remove(id)).collect())
}

/// `registerFacilities`: all or none. `errors` are the rows a CSV could not even read;
/// `argument` names the argument the rows came in ("facilities" or "csv").
pub async fn register_facilities(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    argument: &'static str,
    rows: Vec<FacilityRow>,
    errors: Vec<RowError>,
) -> AppResult<Vec<OrganizationRecord>> {
    let result = async {
        decide(Some(actor), Action::RegisterFacilities, Target::System)?;
        if rows.len() + errors.len() > MAX_ROWS {
            return Err(too_many(MAX_ROWS + 1, argument));
        }
        if rows.is_empty() && errors.is_empty() {
            return Err(AppError::invalid_field(
                argument,
                "no facility to register / 登録する施設がありません",
            ));
        }
        let prepared = prepare(db, &rows, errors, None).await?;
        // Read back in the order given, not the insertion order.
        let by_code: HashMap<&str, &str> = prepared
            .iter()
            .map(|o| (o.code.as_str(), o.id.as_str()))
            .collect();
        let order: Vec<String> = rows
            .iter()
            .filter_map(|r| MedicalInstitutionCode::parse(&r.code).ok())
            .filter_map(|c| by_code.get(c.as_str()).map(|id| (*id).to_owned()))
            .collect();
        insert(db, meta, actor, "registerFacilities", prepared, &order).await
    }
    .await
    .map_err(|error| match error {
        AppError::InvalidRows { rows, .. } => AppError::InvalidRows { argument, rows },
        other => other,
    });
    if let Err(error) = &result {
        crate::audit::record_refusal(db, meta, actor, "registerFacilities", None, error).await?;
    }
    result
}

/// What a municipality gives for a special venue.
#[derive(Debug, Clone)]
pub struct NewVenue {
    /// The municipality the venue lies in; the caller's own when absent.
    pub municipality_code: Option<String>,
    pub row: FacilityRow,
}

/// `registerSpecialVenue`: a municipality registers a venue it runs, in its own area.
pub async fn register_special_venue(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    venue: NewVenue,
) -> AppResult<OrganizationRecord> {
    let mut area = None;
    let result = async {
        let municipality = match &venue.municipality_code {
            Some(code) => {
                let code = MunicipalityCode::parse(code)
                    .map_err(|e| rename_field(e, "municipalityCode"))?;
                store::find_by_code(db, OrganizationKind::Municipality, &code.as_string())
                    .await?
                    .ok_or(AppError::NotFound("municipality"))?
            }
            None => store::load_by_ids(db, std::slice::from_ref(&actor.organization.id))
                .await?
                .remove(&actor.organization.id)
                .ok_or(AppError::NotFound("municipality"))?,
        };
        area = Some(municipality.id.clone());
        decide(
            Some(actor),
            Action::RegisterSpecialVenue,
            Target::Organization(&scope_of(&municipality)),
        )?;
        let mut row = venue.row.clone();
        row.municipality_code = municipality.code.clone();
        row.facility_type = FacilityType::SpecialVenue;
        let prepared = prepare(
            db,
            std::slice::from_ref(&row),
            Vec::new(),
            Some(&actor.organization.id),
        )
        .await
        .map_err(|error| match error {
            // One venue: its first problem as an ordinary field error.
            AppError::InvalidRows { mut rows, .. } if !rows.is_empty() => {
                let first = rows.remove(0);
                AppError::InvalidInput {
                    message: first.message,
                    field: first.field,
                }
            }
            other => other,
        })?;
        let order: Vec<String> = prepared.iter().map(|o| o.id.clone()).collect();
        insert(db, meta, actor, "registerSpecialVenue", prepared, &order)
            .await?
            .pop()
            .ok_or(AppError::NotFound("facility"))
    }
    .await;
    if let Err(error) = &result {
        crate::audit::record_refusal(
            db,
            meta,
            actor,
            "registerSpecialVenue",
            area.as_deref(),
            error,
        )
        .await?;
    }
    result
}

/// One facility for `registerFacilities` (the CSV's columns carry the same names).
#[derive(async_graphql::InputObject)]
pub struct RegisterFacilityInput {
    /// Medical-institution code, 10 digits with its check digit; its first two digits are the
    /// municipality's prefecture.
    pub code: String,
    /// Name in Japanese.
    pub name: String,
    /// Reading in kana.
    pub name_kana: Option<String>,
    /// Romanised name.
    pub name_romaji: Option<String>,
    /// Local-government code of the municipality it lies in, six digits (e.g. "131105").
    pub municipality_code: String,
    /// What kind of place it is.
    pub facility_type: FacilityType,
    /// How it is supplied (default BASIC).
    pub supply_type: Option<SupplyType>,
    /// For a satellite: the code of its basic-type facility (registered, or in the same list).
    pub basic_facility_code: Option<String>,
    /// Postal code, "123-4567".
    pub postal_code: Option<String>,
    /// Address.
    pub address: String,
    /// Latitude (must lie in Japan).
    pub latitude: f64,
    /// Longitude (must lie in Japan).
    pub longitude: f64,
    /// Telephone.
    pub phone: Option<String>,
}

/// A special venue for `registerSpecialVenue`.
#[derive(async_graphql::InputObject)]
pub struct RegisterSpecialVenueInput {
    /// Local-government code of the municipality it lies in; the caller's own when left out.
    /// It must be the caller's municipality.
    pub municipality_code: Option<String>,
    /// Medical-institution code, 10 digits with its check digit.
    pub code: String,
    /// Name in Japanese.
    pub name: String,
    /// Reading in kana.
    pub name_kana: Option<String>,
    /// Romanised name.
    pub name_romaji: Option<String>,
    /// How it is supplied (default BASIC).
    pub supply_type: Option<SupplyType>,
    /// For a satellite: the code of its basic-type facility.
    pub basic_facility_code: Option<String>,
    /// Postal code, "123-4567".
    pub postal_code: Option<String>,
    /// Address.
    pub address: String,
    /// Latitude (must lie in Japan).
    pub latitude: f64,
    /// Longitude (must lie in Japan).
    pub longitude: f64,
    /// Telephone.
    pub phone: Option<String>,
}

#[derive(Default)]
pub struct RegistrationMutation;

#[async_graphql::Object]
impl RegistrationMutation {
    /// Registers facilities from the contract-intake data, all or none: a list, or a CSV
    /// whose header names the columns (`code,name,nameKana,nameRomaji,municipalityCode,
    /// facilityType,supplyType,basicFacilityCode,postalCode,address,latitude,longitude,phone`;
    /// the optional ones may be left out). At most 1,000 facilities. Bad rows are INVALID_INPUT
    /// with `extensions.rows` (row number, field, message) for every one of them; row n is the
    /// n-th list item or the n-th line after the header. The service desk only.
    async fn register_facilities(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(desc = "The facilities, as a list.")] facilities: Option<
            Vec<RegisterFacilityInput>,
        >,
        #[graphql(desc = "The facilities, as CSV text with a header row.")] csv: Option<String>,
    ) -> async_graphql::Result<Vec<crate::organizations::Facility>> {
        let actor = crate::actor::require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = crate::actor::request_meta(ctx);
        let argument = if csv.is_some() { "csv" } else { "facilities" };
        let (rows, errors) = match (facilities, csv) {
            (Some(list), None) => {
                let rows = list
                    .into_iter()
                    .enumerate()
                    .map(|(n, f)| FacilityRow {
                        row: n + 1,
                        code: f.code,
                        name: f.name,
                        name_kana: f.name_kana,
                        name_romaji: f.name_romaji,
                        municipality_code: f.municipality_code,
                        facility_type: f.facility_type,
                        supply_type: f.supply_type.unwrap_or(SupplyType::Basic),
                        basic_facility_code: f.basic_facility_code,
                        postal_code: f.postal_code,
                        address: f.address,
                        latitude: f.latitude,
                        longitude: f.longitude,
                        phone: f.phone,
                    })
                    .collect();
                (rows, Vec::new())
            }
            (None, Some(csv)) => match parse_csv(&csv) {
                Ok(parsed) => parsed,
                Err(error) => {
                    crate::audit::record_refusal(
                        db,
                        &meta,
                        actor,
                        "registerFacilities",
                        None,
                        &error,
                    )
                    .await?;
                    return Err(error.into());
                }
            },
            _ => {
                let error = AppError::invalid(
                    "give either facilities or csv / facilities か csv のどちらかを指定してください",
                );
                crate::audit::record_refusal(db, &meta, actor, "registerFacilities", None, &error)
                    .await?;
                return Err(error.into());
            }
        };
        let records = register_facilities(db, &meta, actor, argument, rows, errors).await?;
        Ok(records
            .into_iter()
            .map(crate::organizations::Facility)
            .collect())
    }

    /// Registers a special venue (特設会場) that the caller's municipality runs in its own
    /// area. The venue records its operating municipality, which then edits it without the
    /// proxy flag. Another municipality's area is NOT_FOUND.
    async fn register_special_venue(
        &self,
        ctx: &async_graphql::Context<'_>,
        #[graphql(desc = "The venue.")] input: RegisterSpecialVenueInput,
    ) -> async_graphql::Result<crate::organizations::Facility> {
        let actor = crate::actor::require_actor(ctx)?;
        let venue = NewVenue {
            municipality_code: input.municipality_code,
            row: FacilityRow {
                row: 1,
                code: input.code,
                name: input.name,
                name_kana: input.name_kana,
                name_romaji: input.name_romaji,
                municipality_code: String::new(),
                facility_type: FacilityType::SpecialVenue,
                supply_type: input.supply_type.unwrap_or(SupplyType::Basic),
                basic_facility_code: input.basic_facility_code,
                postal_code: input.postal_code,
                address: input.address,
                latitude: input.latitude,
                longitude: input.longitude,
                phone: input.phone,
            },
        };
        let record = register_special_venue(
            ctx.data_unchecked::<Db>(),
            &crate::actor::request_meta(ctx),
            actor,
            venue,
        )
        .await?;
        Ok(crate::organizations::Facility(record))
    }
}

//! The priority phase (先行接種・優先接種, seed p. 22): the amounts for healthcare workers were
//! decided beforehand and registered in bulk by the service desk — nation → prefecture →
//! municipality → venue in one go — and delivery started. `importPriorityAllocations` takes a
//! CSV of facility code and vaccine boxes (needles and syringes follow the vaccine unless
//! given), writes every line of the chain as the sums, marks each level confirmed and complete
//! and locks the prefectures concerned. All or nothing; every bad row is named.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use super::apportion::boxes_for_doses;
use super::cycle::{self, MAX_BOXES};
use super::lines::{self, NewLine, Stamp};
use super::products::{self, ProductKind, ProductRecord};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::Db;
use crate::error::{AppError, AppResult, RowError};
use crate::organizations::{OrganizationKind, OrganizationRecord, SupplyType, store};

/// Most facilities one import may name.
const MAX_ROWS: usize = 20_000;

/// One row of the CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PriorityRow {
    row: usize,
    facility_code: String,
    vaccine_boxes: i64,
    needle_boxes: Option<i64>,
    syringe_boxes: Option<i64>,
}

/// Reads the CSV: header `facilityCode,vaccineBoxes` with optional `needleBoxes,syringeBoxes`;
/// empty lines are skipped; every unreadable cell is a row error.
fn parse(csv: &str) -> AppResult<(Vec<PriorityRow>, Vec<RowError>)> {
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
    let known = [
        "facilityCode",
        "vaccineBoxes",
        "needleBoxes",
        "syringeBoxes",
    ];
    if let Some(unknown) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(AppError::invalid_field(
            "csv",
            format!("unknown column {unknown:?} / 不明な列です: {unknown}"),
        ));
    }
    for required in ["facilityCode", "vaccineBoxes"] {
        if !headers.iter().any(|h| h == required) {
            return Err(AppError::invalid_field(
                "csv",
                format!("the header lacks the column {required:?} / 列 {required} がありません"),
            ));
        }
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let fallback = index + 1;
        let record = match record {
            Ok(record) => record,
            Err(_) => {
                errors.push(RowError {
                    row: fallback,
                    field: None,
                    message: "the line cannot be read as CSV / CSVとして読めません".into(),
                });
                continue;
            }
        };
        let row = record
            .position()
            .map_or(fallback, |p| crate::error::csv_line(csv, p) - 1);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            return Err(AppError::InvalidRows {
                argument: "csv",
                rows: vec![RowError {
                    row,
                    field: None,
                    message: format!(
                        "at most {MAX_ROWS} facilities per import / 1回の登録は{MAX_ROWS}件までです"
                    ),
                }],
            });
        }
        let cell = |name: &str| column(name).and_then(|i| record.get(i)).unwrap_or("");
        let boxes = |name: &str, required: bool| -> Result<Option<i64>, RowError> {
            let text = cell(name);
            if text.is_empty() && !required {
                return Ok(None);
            }
            match text.parse::<i64>() {
                Ok(n) if (0..=MAX_BOXES).contains(&n) => Ok(Some(n)),
                _ => Err(RowError {
                    row,
                    field: Some(name.to_owned()),
                    message: "whole boxes, 0 to 10,000,000 / 0〜10,000,000の整数".into(),
                }),
            }
        };
        let parsed = (|| {
            let facility_code = cell("facilityCode").to_owned();
            if facility_code.is_empty() {
                return Err(RowError {
                    row,
                    field: Some("facilityCode".into()),
                    message: "required / 必須です".into(),
                });
            }
            Ok(PriorityRow {
                row,
                facility_code,
                vaccine_boxes: boxes("vaccineBoxes", true)?.unwrap_or(0),
                needle_boxes: boxes("needleBoxes", false)?,
                syringe_boxes: boxes("syringeBoxes", false)?,
            })
        })();
        match parsed {
            Ok(parsed) => rows.push(parsed),
            Err(error) => errors.push(error),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(AppError::invalid_field(
            "csv",
            "no rows / データ行がありません",
        ));
    }
    Ok((rows, errors))
}

/// What an import wrote.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    pub facilities: usize,
    pub vaccine_boxes: i64,
    pub prefectures_locked: usize,
}

/// Imports the priority phase's allocations of a cool (`importPriorityAllocations`).
pub async fn import(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    csv: &str,
) -> AppResult<ImportSummary> {
    let result = import_checked(db, meta, actor, cool_id, csv).await;
    audit::record_if_refused(db, meta, actor, "importPriorityAllocations", None, result).await
}

async fn import_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    csv: &str,
) -> AppResult<ImportSummary> {
    decide(Some(actor), Action::ImportAllocations, Target::System)?;
    let cool = cycle::cool(db, cool_id).await?;
    let (rows, mut errors) = parse(csv)?;
    let codes: Vec<String> = rows.iter().map(|r| r.facility_code.clone()).collect();
    let found = store::find_by_codes(db, OrganizationKind::Facility, &codes).await?;
    let mut seen = HashMap::new();
    let mut facilities: Vec<(&PriorityRow, &OrganizationRecord)> = Vec::new();
    for row in &rows {
        let error = |field: &str, message: &str| RowError {
            row: row.row,
            field: Some(field.to_owned()),
            message: message.to_owned(),
        };
        if let Some(first) = seen.insert(row.facility_code.clone(), row.row) {
            errors.push(error(
                "facilityCode",
                &format!("the facility is also on row {first} / {first}行目と重複しています"),
            ));
            continue;
        }
        match found.get(&row.facility_code) {
            None => errors.push(error("facilityCode", "no such facility / 該当する医療機関がありません")),
            Some(f) if f.supply() == SupplyType::Satellite => errors.push(error(
                "facilityCode",
                "a satellite facility is supplied through its basic-type facility / サテライト型施設には配分できません",
            )),
            Some(f) => facilities.push((row, f)),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::InvalidRows {
            argument: "csv",
            rows: errors,
        });
    }
    let vaccine = products::by_id(db.pool(), &cool.product_id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let follow_ons: Vec<ProductRecord> = products::list(db, None)
        .await?
        .into_iter()
        .filter(|p| matches!(p.kind, ProductKind::Needle | ProductKind::Syringe))
        .collect();
    // Each facility's boxes per product; needles and syringes follow the vaccine unless given.
    let mut amounts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (row, facility) in &facilities {
        amounts.insert((vaccine.id.clone(), facility.id.clone()), row.vaccine_boxes);
        let doses = u64::try_from(row.vaccine_boxes * vaccine.doses_per_box()).unwrap_or(0);
        for product in &follow_ons {
            let given = match product.kind {
                ProductKind::Needle => row.needle_boxes,
                _ => row.syringe_boxes,
            };
            let boxes = given.unwrap_or_else(|| {
                i64::try_from(boxes_for_doses(
                    doses,
                    product.doses_per_box().max(1) as u64,
                ))
                .unwrap_or(i64::MAX)
            });
            amounts.insert((product.id.clone(), facility.id.clone()), boxes);
        }
    }
    // Up the chain: municipality and prefecture lines are the sums below them.
    let mut chain: BTreeMap<(String, String, String), i64> = BTreeMap::new(); // (product, allocator, recipient)
    let by_id: HashMap<&str, &OrganizationRecord> = facilities
        .iter()
        .map(|(_, f)| (f.id.as_str(), *f))
        .collect();
    let nation = store::the_nation(db).await?;
    for ((product, facility_id), boxes) in &amounts {
        let facility = by_id[facility_id.as_str()];
        let (Some(municipality), Some(prefecture)) = (
            facility.municipality_id.clone(),
            facility.prefecture_id.clone(),
        ) else {
            continue;
        };
        *chain
            .entry((product.clone(), municipality.clone(), facility_id.clone()))
            .or_default() += boxes;
        *chain
            .entry((product.clone(), prefecture.clone(), municipality))
            .or_default() += boxes;
        *chain
            .entry((product.clone(), nation.id.clone(), prefecture))
            .or_default() += boxes;
    }
    // Never more than the cool's supply of each product (when registered).
    let mut products_by_id: HashMap<String, &ProductRecord> = HashMap::new();
    products_by_id.insert(vaccine.id.clone(), &vaccine);
    for p in &follow_ons {
        products_by_id.insert(p.id.clone(), p);
    }
    for (product_id, product) in &products_by_id {
        let total: i64 = chain
            .iter()
            .filter(|((p, allocator, _), _)| p == product_id && allocator == &nation.id)
            .map(|(_, b)| b)
            .sum();
        let supply = lines::received(db.pool(), &cool.id, product_id, &nation).await?;
        let vaccine_line = product.kind == ProductKind::Vaccine;
        if total > supply && (vaccine_line || supply > 0) {
            return Err(AppError::invalid_field(
                "csv",
                format!(
                    "{}: {total} boxes imported but the cool's supply is {supply} / 供給量を超えています",
                    product.code
                ),
            ));
        }
        if !vaccine_line && supply == 0 {
            // No needle or syringe supply registered: those lines are not imported.
            chain.retain(|(p, _, _), _| p != product_id);
        }
    }

    let mut tx = db.begin_write().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM allocations WHERE cool_id = $1")
        .bind(&cool.id)
        .fetch_one(tx.conn())
        .await?;
    if existing > 0 {
        return Err(AppError::refused(
            "COOL_IN_USE",
            "this cool already has allocations; the priority import fills a new cool / このクールには既に配分があります",
        ));
    }
    let mut by_allocator: BTreeMap<String, Vec<NewLine>> = BTreeMap::new();
    for ((product, allocator, recipient), boxes) in &chain {
        by_allocator
            .entry(allocator.clone())
            .or_default()
            .push(NewLine {
                product: products_by_id[product],
                recipient_id: recipient,
                boxes: *boxes,
            });
    }
    let mut organizations: Vec<&str> = Vec::new();
    for (allocator, new_lines) in &by_allocator {
        lines::write_lines(&mut tx, &cool.id, allocator, &actor.user_id, new_lines).await?;
        organizations.push(allocator);
    }
    let prefectures: Vec<&str> = chain
        .keys()
        .filter(|(_, allocator, _)| allocator == &nation.id)
        .map(|(_, _, recipient)| recipient.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for id in &organizations {
        lines::hold_progress(&mut tx, &cool.id, id).await?;
    }
    let receivers: Vec<&str> = organizations
        .iter()
        .copied()
        .filter(|id| *id != nation.id)
        .collect();
    lines::stamp(
        &mut tx,
        &cool.id,
        &receivers,
        Stamp::Confirmed,
        Some(&actor.user_id),
    )
    .await?;
    lines::stamp(
        &mut tx,
        &cool.id,
        &organizations,
        Stamp::Completed,
        Some(&actor.user_id),
    )
    .await?;
    lines::stamp(
        &mut tx,
        &cool.id,
        &prefectures,
        Stamp::Locked,
        Some(&actor.user_id),
    )
    .await?;
    let vaccine_boxes: i64 = facilities.iter().map(|(r, _)| r.vaccine_boxes).sum();
    audit::record(
        &mut tx,
        meta,
        Entry::new("importPriorityAllocations", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .change(
                None,
                Some(json!({
                    "cool": cool.number, "facilities": facilities.len(),
                    "vaccineBoxes": vaccine_boxes, "prefectures": prefectures.len(),
                })),
            ),
    )
    .await?;
    // Last: the lock's events, as `lockAllocations` sends them.
    for prefecture_id in &prefectures {
        let locked = lines::in_prefecture(tx.conn(), &cool.id, prefecture_id).await?;
        super::lock::announce_locked(&mut tx, &cool, prefecture_id, &locked).await?;
    }
    tx.commit().await?;
    Ok(ImportSummary {
        facilities: facilities.len(),
        vaccine_boxes,
        prefectures_locked: prefectures.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_with_optional_columns_and_bad_cells_named() {
        let (rows, errors) =
            parse("facilityCode,vaccineBoxes,needleBoxes\n1311000010,2,\n\n1411000019,x,3\n,1,\n")
                .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].vaccine_boxes, 2);
        assert_eq!(rows[0].needle_boxes, None);
        let named: Vec<(usize, Option<String>)> =
            errors.iter().map(|e| (e.row, e.field.clone())).collect();
        assert_eq!(
            named,
            [
                (3, Some("vaccineBoxes".into())),
                (4, Some("facilityCode".into()))
            ]
        );
        assert!(parse("code,boxes\n1,2\n").is_err());
        assert!(parse("facilityCode,vaccineBoxes\n").is_err());
    }
}

//! Vaccination reports (domain.md §7, seed p. 42): after vaccinating, a facility enters the
//! cumulative doses administered per vaccine, dose number and recipient category, and the
//! cumulative doses wasted with a reason. Every report is kept. A figure lower than the last
//! one is a correction the reporter must say it is; an unchanged report asks for confirmation,
//! as the original's form did.

use async_graphql::Enum;
use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::allocation::products::{self, ProductKind, ProductRecord};
use crate::audit::{self, Entry, Outcome};
use crate::db::{Db, Exec, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::codes::past_day;
use crate::facilities::may_edit;
use crate::organizations::{OrganizationKind, store as organizations};

/// A facility reported vaccinations (its area sees it; the statistics read it).
pub const REPORTED_TOPIC: &str = "vaccination.reported";

/// Who was vaccinated (the priority order of 2021: healthcare workers first).
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum RecipientCategory {
    /// Healthcare workers (医療従事者等).
    HealthcareWorker,
    /// People aged 65 and over (高齢者).
    Elderly,
    /// People with underlying conditions (基礎疾患を有する者).
    UnderlyingCondition,
    /// Everyone else aged 12 and over (一般).
    General,
    /// Children (小児).
    Child,
}

crate::db_enum!(RecipientCategory);

/// One cumulative figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub dose_number: i64,
    pub category: RecipientCategory,
    pub administered: i64,
}

/// A report as entered.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub facility_id: String,
    pub product_code: String,
    /// The day the figures stand at (Japan); today when absent.
    pub reported_on: Option<String>,
    pub lines: Vec<ReportLine>,
    /// Cumulative doses wasted, with the reason for the latest.
    pub wasted: Option<i64>,
    pub waste_reason: Option<String>,
    /// The reporter says lower figures are corrections.
    pub correction: bool,
    /// The reporter confirms that unchanged figures are meant.
    pub confirm_unchanged: bool,
}

/// The current (latest) figure per dose and category of a facility and product.
pub async fn current<'c>(
    on: impl Exec<'c>,
    facility_id: &str,
    product_id: &str,
) -> AppResult<Vec<ReportLine>> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT r.dose_number, r.recipient_category, r.administered FROM vaccination_reports r \
         WHERE r.facility_id = $1 AND r.product_id = $2 AND r.created_at = \
           (SELECT MAX(r2.created_at) FROM vaccination_reports r2 WHERE r2.facility_id = r.facility_id \
            AND r2.product_id = r.product_id AND r2.dose_number = r.dose_number \
            AND r2.recipient_category = r.recipient_category) \
         ORDER BY r.dose_number, r.recipient_category",
    )
    .bind(facility_id)
    .bind(product_id)
    .fetch_all(on)
    .await?;
    rows.into_iter()
        .map(|(dose_number, category, administered)| {
            Ok(ReportLine {
                dose_number,
                category: RecipientCategory::from_db(&category).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("unknown category {category}"))
                })?,
                administered,
            })
        })
        .collect()
}

/// The current cumulative waste of a facility and product.
pub async fn current_waste<'c>(
    on: impl Exec<'c>,
    facility_id: &str,
    product_id: &str,
) -> AppResult<Option<(i64, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT wasted, reason FROM waste_reports WHERE facility_id = $1 AND product_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(facility_id)
    .bind(product_id)
    .fetch_optional(on)
    .await?)
}

/// Records a report (`reportVaccinations`). Audited, with its event; a refusal is audited and
/// changes nothing.
pub async fn report(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewReport,
) -> AppResult<(ProductRecord, Vec<ReportLine>)> {
    let result = report_checked(db, meta, actor, &new).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "reportVaccinations",
        Some(new.facility_id.as_str()),
        result,
    )
    .await
}

/// Validates the figures themselves: 1 to 50 lines, dose 1–10, no key twice, 0 to 10,000,000.
fn checked_lines(lines: &[ReportLine]) -> AppResult<()> {
    if lines.is_empty() || lines.len() > 50 {
        return Err(AppError::invalid_field(
            "lines",
            "1 to 50 figures / 1〜50件で入力してください",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for line in lines {
        if !(1..=10).contains(&line.dose_number) {
            return Err(AppError::invalid_field(
                "lines",
                "the dose number is 1 to 10 / 接種回数は1〜10回目です",
            ));
        }
        if !(0..=10_000_000).contains(&line.administered) {
            return Err(AppError::invalid_field(
                "lines",
                "0 to 10,000,000 doses / 0〜10,000,000回",
            ));
        }
        if !seen.insert((line.dose_number, line.category)) {
            return Err(AppError::invalid_field(
                "lines",
                "a dose and category is listed twice / 同じ接種回数・対象者区分が重複しています",
            ));
        }
    }
    Ok(())
}

async fn report_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewReport,
) -> AppResult<(ProductRecord, Vec<ReportLine>)> {
    let facility = organizations::load(db.pool(), &new.facility_id)
        .await?
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))?;
    may_edit(actor, &facility)?;
    let product = products::by_code(db.pool(), new.product_code.trim().to_uppercase().as_str())
        .await?
        .filter(|p| p.kind == ProductKind::Vaccine)
        .ok_or_else(products::unknown_code)?;
    checked_lines(&new.lines)?;
    let reported_on = past_day(
        "reportedOn",
        new.reported_on.as_deref(),
        &db.clock().today_in_japan(),
    )?;
    if new.wasted.is_some_and(|w| !(0..=10_000_000).contains(&w)) {
        return Err(AppError::invalid_field(
            "wasted",
            "0 to 10,000,000 doses / 0〜10,000,000回",
        ));
    }
    let reason = new
        .waste_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(AppError::invalid_field(
            "wasteReason",
            "at most 500 characters / 500文字以内",
        ));
    }

    let mut tx = db.begin_write().await?;
    let before = current(tx.conn(), &facility.id, &product.id).await?;
    let before_waste = current_waste(tx.conn(), &facility.id, &product.id).await?;
    let previous = |line: &ReportLine| {
        before
            .iter()
            .find(|b| b.dose_number == line.dose_number && b.category == line.category)
            .map(|b| b.administered)
    };
    let lower: Vec<_> = new
        .lines
        .iter()
        .filter_map(|l| previous(l).filter(|p| l.administered < *p).map(|p| (l, p)))
        .map(|(l, p)| json!({ "doseNumber": l.dose_number, "category": l.category.as_db(), "previous": p, "reported": l.administered }))
        .collect();
    let waste_lower = matches!((new.wasted, &before_waste), (Some(w), Some((p, _))) if w < *p);
    if (!lower.is_empty() || waste_lower) && !new.correction {
        return Err(AppError::Refused {
            message: "lower than the last report: send it as a correction / 前回より少ない値です。訂正として登録してください".into(),
            reason: "LOWER_THAN_BEFORE",
            current: Some(json!({ "lines": lower, "wasted": before_waste.as_ref().map(|w| w.0) })),
        });
    }
    let unchanged = !before.is_empty()
        && new
            .lines
            .iter()
            .all(|l| previous(l) == Some(l.administered))
        && new
            .wasted
            .is_none_or(|w| before_waste.as_ref().map(|b| b.0) == Some(w));
    if unchanged && !new.confirm_unchanged {
        return Err(AppError::refused(
            "UNCHANGED_NEEDS_CONFIRMATION",
            "the figures are the same as last time: confirm to report them again / 前回と同じ値です。よろしければ確認して登録してください",
        ));
    }
    let now = tx.now();
    for line in &new.lines {
        let correction = previous(line).is_some_and(|p| line.administered < p);
        sqlx::query(
            "INSERT INTO vaccination_reports (id, facility_id, product_id, dose_number, \
             recipient_category, administered, reported_on, correction, reported_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(&facility.id)
        .bind(&product.id)
        .bind(line.dose_number)
        .bind(line.category.as_db())
        .bind(line.administered)
        .bind(&reported_on)
        .bind(i32::from(correction))
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    if let Some(wasted) = new.wasted {
        sqlx::query(
            "INSERT INTO waste_reports (id, facility_id, product_id, wasted, reason, reported_on, \
             correction, reported_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(&facility.id)
        .bind(&product.id)
        .bind(wasted)
        .bind(reason)
        .bind(&reported_on)
        .bind(i32::from(waste_lower))
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let view = |lines: &[ReportLine], wasted: Option<i64>| {
        json!({
            "product": product.code,
            "lines": lines.iter().map(|l| json!({ "doseNumber": l.dose_number, "category": l.category.as_db(), "administered": l.administered })).collect::<Vec<_>>(),
            "wasted": wasted,
        })
    };
    let mut entry = Entry::new("reportVaccinations", Outcome::Success, Some(actor))
        .object("Facility", &facility.id)
        .organization(&facility.id)
        .change(
            Some(view(&before, before_waste.as_ref().map(|w| w.0))),
            Some(view(&new.lines, new.wasted)),
        );
    if !lower.is_empty() || waste_lower {
        entry = entry.detail("correction: figures lower than the previous report");
    }
    audit::record(&mut tx, meta, entry).await?;
    let total: i64 = new.lines.iter().map(|l| l.administered).sum();
    append(
        &mut tx,
        &NewEvent {
            topic: REPORTED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(facility.id.clone()),
            payload: json!({
                "facilityId": facility.id, "productCode": product.code, "reportedOn": reported_on,
                "administeredInReport": total, "wasted": new.wasted,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    let after = current(db.pool(), &facility.id, &product.id).await?;
    Ok((product, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(dose: i64, category: RecipientCategory, administered: i64) -> ReportLine {
        ReportLine {
            dose_number: dose,
            category,
            administered,
        }
    }

    #[test]
    fn figures_are_checked_before_anything_is_read() {
        use RecipientCategory::*;
        assert!(
            checked_lines(&[line(1, HealthcareWorker, 10), line(2, HealthcareWorker, 3)]).is_ok()
        );
        for bad in [
            vec![],
            vec![line(0, Elderly, 1)],
            vec![line(11, Elderly, 1)],
            vec![line(1, Elderly, -1)],
            vec![line(1, Elderly, 1), line(1, Elderly, 2)],
        ] {
            assert!(checked_lines(&bad).is_err(), "{bad:?}");
        }
    }
}

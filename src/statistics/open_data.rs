//! Open data: doses administered per day, prefecture, dose and recipient category, with the
//! running cumulative figure, as CSV and as NDJSON at stable URLs (`/open-data/…`). A row is
//! written for each day on which a figure changed.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::figures::{self, Scope};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::organizations::{OrganizationKind, store};

/// One row of the open data.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    pub date: String,
    pub prefecture_code: String,
    pub prefecture_name: String,
    pub dose_number: i64,
    pub category: &'static str,
    pub daily: i64,
    pub cumulative: i64,
}

/// Every row, oldest first.
pub async fn rows(db: &Db) -> AppResult<Vec<Row>> {
    let today = db.clock().japan_date();
    let changes = figures::changes(db, &Scope::default(), today).await?;
    let prefectures: HashMap<String, (String, String)> =
        store::of_kind(db, OrganizationKind::Prefecture, None)
            .await?
            .into_iter()
            .map(|p| (p.id, (p.code, p.name)))
            .collect();
    let mut running: BTreeMap<(String, i64, &'static str), i64> = BTreeMap::new();
    Ok(changes
        .into_iter()
        .filter(|c| c.delta != 0)
        .map(|c| {
            let (code, name) = c
                .prefecture_id
                .as_ref()
                .and_then(|p| prefectures.get(p))
                .cloned()
                .unwrap_or_default();
            let category = c.category.as_db();
            let total = running
                .entry((code.clone(), c.dose_number, category))
                .or_default();
            *total += c.delta;
            Row {
                date: c.day,
                prefecture_code: code,
                prefecture_name: name,
                dose_number: c.dose_number,
                category,
                daily: c.delta,
                cumulative: *total,
            }
        })
        .collect())
}

/// The rows as CSV with a header line (UTF-8).
pub fn csv(rows: &[Row]) -> AppResult<Vec<u8>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    writer
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// The rows as newline-delimited JSON.
pub fn ndjson(rows: &[Row]) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    for row in rows {
        serde_json::to_writer(&mut out, row).map_err(|e| AppError::Internal(e.into()))?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_and_one_line_per_row() {
        let rows = [Row {
            date: "2021-05-01".into(),
            prefecture_code: "13".into(),
            prefecture_name: "東京都".into(),
            dose_number: 1,
            category: "ELDERLY",
            daily: 300,
            cumulative: 300,
        }];
        let text = String::from_utf8(csv(&rows).unwrap()).unwrap();
        assert_eq!(
            text,
            "date,prefecture_code,prefecture_name,dose_number,category,daily,cumulative\n\
             2021-05-01,13,東京都,1,ELDERLY,300,300\n"
        );
        let json = String::from_utf8(ndjson(&rows).unwrap()).unwrap();
        assert_eq!(json.lines().count(), 1);
        assert!(json.contains("\"cumulative\":300"));
    }
}

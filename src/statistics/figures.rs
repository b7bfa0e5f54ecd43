//! Doses administered, from the facilities' cumulative vaccination reports (seed p. 42).
//!
//! A report is cumulative per facility, vaccine, dose and recipient category. The change it
//! brings (this figure minus the key's previous one, negative for a correction) is attributed
//! to the day it reports on. A day's doses are the sum of the changes of that day, and the
//! cumulative figure up to a day is the sum of every change up to it; summed to the end, the
//! changes give exactly the latest figures.

use std::collections::BTreeMap;

use time::Date;

use crate::db::{Db, Filter};
use crate::error::AppResult;
use crate::reports::vaccinations::RecipientCategory;

/// One change of a cumulative figure.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Change {
    pub day: String,
    pub prefecture_id: Option<String>,
    pub dose_number: i64,
    pub category: RecipientCategory,
    pub delta: i64,
}

/// Which reports count.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
    pub product_id: Option<String>,
}

/// The changes in `scope` up to the day `to`, oldest day first.
pub async fn changes(db: &Db, scope: &Scope, to: Date) -> AppResult<Vec<Change>> {
    let mut filter = Filter::default();
    if let Some(p) = &scope.prefecture_id {
        filter.and("o.prefecture_id = ?", [p.clone()]);
    }
    if let Some(m) = &scope.municipality_id {
        filter.and("o.municipality_id = ?", [m.clone()]);
    }
    if let Some(product) = &scope.product_id {
        filter.and("r.product_id = ?", [product.clone()]);
    }
    // The previous figure of the same key, in the order the reports were made. `to` is a
    // date formatted here, never user text.
    let sql = format!(
        "SELECT day, prefecture_id, dose_number, category, CAST(SUM(delta) AS BIGINT) AS delta \
         FROM (SELECT r.reported_on AS day, o.prefecture_id, r.dose_number, \
           r.recipient_category AS category, \
           r.administered - COALESCE(LAG(r.administered) OVER (PARTITION BY r.facility_id, \
             r.product_id, r.dose_number, r.recipient_category ORDER BY r.created_at, r.id), 0) \
             AS delta \
           FROM vaccination_reports r JOIN organizations o ON o.id = r.facility_id{}) x \
         WHERE day <= '{to}' GROUP BY day, prefecture_id, dose_number, category \
         ORDER BY day, prefecture_id, dose_number, category",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

/// A figure of one day: that day's doses and the cumulative total at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figure {
    pub daily: i64,
    pub cumulative: i64,
}

/// One day of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    pub total: Figure,
    pub by_dose: BTreeMap<i64, Figure>,
    pub by_category: BTreeMap<RecipientCategory, Figure>,
}

/// Every day from `from` to `to`, each with its doses and the cumulative totals, from the
/// changes (which may start before `from`).
pub fn series(changes: &[Change], from: Date, to: Date) -> Vec<Day> {
    let mut total = 0;
    let mut by_dose: BTreeMap<i64, i64> = BTreeMap::new();
    let mut by_category: BTreeMap<RecipientCategory, i64> = BTreeMap::new();
    let mut per_day: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for change in changes {
        per_day.entry(change.day.clone()).or_default().push(change);
    }
    let first = from.to_string();
    // Everything before the first day is the starting total.
    for change in changes.iter().filter(|c| c.day < first) {
        total += change.delta;
        *by_dose.entry(change.dose_number).or_default() += change.delta;
        *by_category.entry(change.category).or_default() += change.delta;
    }
    let mut days = Vec::new();
    let mut date = from;
    while date <= to {
        let mut day = Day {
            date,
            total: Figure::default(),
            by_dose: BTreeMap::new(),
            by_category: BTreeMap::new(),
        };
        for change in per_day.get(&date.to_string()).into_iter().flatten() {
            total += change.delta;
            day.total.daily += change.delta;
            *by_dose.entry(change.dose_number).or_default() += change.delta;
            day.by_dose.entry(change.dose_number).or_default().daily += change.delta;
            *by_category.entry(change.category).or_default() += change.delta;
            day.by_category.entry(change.category).or_default().daily += change.delta;
        }
        day.total.cumulative = total;
        for (dose, cumulative) in &by_dose {
            day.by_dose.entry(*dose).or_default().cumulative = *cumulative;
        }
        for (category, cumulative) in &by_category {
            day.by_category.entry(*category).or_default().cumulative = *cumulative;
        }
        days.push(day);
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    days
}

/// The latest cumulative totals per prefecture and dose.
pub fn totals_by_prefecture(changes: &[Change]) -> BTreeMap<String, BTreeMap<i64, i64>> {
    let mut totals: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for change in changes {
        let prefecture = change.prefecture_id.clone().unwrap_or_default();
        *totals
            .entry(prefecture)
            .or_default()
            .entry(change.dose_number)
            .or_default() += change.delta;
    }
    totals
}

/// A percentage of the population, to one decimal; `None` without a population.
pub fn coverage(doses: i64, population: Option<i64>) -> Option<f64> {
    population
        .filter(|p| *p > 0)
        .map(|p| (doses as f64 * 1000.0 / p as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn change(day: &str, dose: i64, category: RecipientCategory, delta: i64) -> Change {
        Change {
            day: day.into(),
            prefecture_id: Some("tokyo".into()),
            dose_number: dose,
            category,
            delta,
        }
    }

    #[test]
    fn days_add_up_to_cumulative_figures_with_corrections() {
        use RecipientCategory::*;
        let changes = [
            change("2021-05-01", 1, HealthcareWorker, 100),
            change("2021-05-03", 1, HealthcareWorker, 50),
            change("2021-05-03", 2, Elderly, 20),
            // A correction: the facility had over-reported.
            change("2021-05-04", 1, HealthcareWorker, -10),
        ];
        let days = series(&changes, date!(2021 - 05 - 02), date!(2021 - 05 - 04));
        assert_eq!(days.len(), 3);
        assert_eq!(
            days[0].total,
            Figure {
                daily: 0,
                cumulative: 100
            }
        );
        assert_eq!(
            days[1].total,
            Figure {
                daily: 70,
                cumulative: 170
            }
        );
        assert_eq!(
            days[1].by_dose[&2],
            Figure {
                daily: 20,
                cumulative: 20
            }
        );
        assert_eq!(
            days[2].total,
            Figure {
                daily: -10,
                cumulative: 160
            }
        );
        assert_eq!(
            days[2].by_category[&HealthcareWorker],
            Figure {
                daily: -10,
                cumulative: 140
            }
        );
        assert_eq!(days[2].by_category[&Elderly].cumulative, 20);
        assert_eq!(totals_by_prefecture(&changes)["tokyo"][&1], 140);
    }

    #[test]
    fn coverage_is_a_percentage_of_the_known_population() {
        assert_eq!(coverage(1_234, Some(10_000)), Some(12.3));
        assert_eq!(coverage(5, None), None);
        assert_eq!(coverage(5, Some(0)), None);
    }
}

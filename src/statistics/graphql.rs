//! Public statistics (function 6), no sign-in: doses administered by area, day, dose and
//! recipient category, cumulative and daily, coverage of the population, and live counters.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};

use super::figures::{self, Day, Figure, Scope, coverage, series};
use crate::allocation::products;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::Events;
use crate::organizations::{OrganizationKind, OrganizationRecord, store};
use crate::reports::vaccinations::{REPORTED_TOPIC, RecipientCategory};
use crate::reservations::schedule::parse_date;

/// Days one statistics query may span.
const MAX_DAYS: i64 = 366;

/// One dose's figure of a day.
#[derive(SimpleObject)]
pub struct DoseFigure {
    /// Which dose.
    pub dose_number: i64,
    /// Doses that day.
    pub daily: i64,
    /// Doses up to the end of that day.
    pub cumulative: i64,
}

/// One recipient category's figure of a day.
#[derive(SimpleObject)]
pub struct CategoryFigure {
    /// Who was vaccinated.
    pub category: RecipientCategory,
    /// Doses that day.
    pub daily: i64,
    /// Doses up to the end of that day.
    pub cumulative: i64,
}

/// One day of the statistics.
#[derive(SimpleObject)]
pub struct StatisticsDay {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Doses that day (negative when reports were corrected down).
    pub daily: i64,
    /// Doses up to the end of that day.
    pub cumulative: i64,
    /// Per dose number.
    pub by_dose: Vec<DoseFigure>,
    /// Per recipient category.
    pub by_category: Vec<CategoryFigure>,
}

impl From<Day> for StatisticsDay {
    fn from(day: Day) -> Self {
        StatisticsDay {
            date: day.date.to_string(),
            daily: day.total.daily,
            cumulative: day.total.cumulative,
            by_dose: day
                .by_dose
                .into_iter()
                .map(|(dose_number, Figure { daily, cumulative })| DoseFigure {
                    dose_number,
                    daily,
                    cumulative,
                })
                .collect(),
            by_category: day
                .by_category
                .into_iter()
                .map(|(category, Figure { daily, cumulative })| CategoryFigure {
                    category,
                    daily,
                    cumulative,
                })
                .collect(),
        }
    }
}

/// How far one dose has reached.
#[derive(SimpleObject, Clone)]
pub struct DoseCoverage {
    /// Which dose.
    pub dose_number: i64,
    /// Doses given so far.
    pub administered: i64,
    /// Per cent of the population (null when the population is not known).
    pub percent_of_population: Option<f64>,
}

/// An area's figures: the nation, a prefecture or a municipality.
#[derive(SimpleObject, Clone)]
pub struct AreaCoverage {
    /// The local-government code (null for the nation).
    pub area_code: Option<String>,
    /// The area's name.
    pub area_name: String,
    /// Residents (2020 census where loaded).
    pub population: Option<i64>,
    /// Doses given so far, all doses together.
    pub administered: i64,
    /// Per dose.
    pub doses: Vec<DoseCoverage>,
}

/// Doses administered in an area over a period.
#[derive(SimpleObject)]
pub struct VaccinationStatistics {
    /// The area and its totals at the end of the period.
    pub area: AreaCoverage,
    /// Each day of the period.
    pub days: Vec<StatisticsDay>,
}

/// The area asked for: the nation, a prefecture by its two-digit code, or a municipality by
/// its six-digit code.
async fn area(
    db: &Db,
    prefecture_code: Option<&str>,
    municipality_code: Option<&str>,
) -> AppResult<(Scope, Option<OrganizationRecord>)> {
    match (prefecture_code, municipality_code) {
        (Some(_), Some(_)) => Err(AppError::invalid_field(
            "municipalityCode",
            "name a prefecture or a municipality, not both / 都道府県か市区町村のどちらかを指定してください",
        )),
        (Some(code), None) => {
            let prefecture = store::find_by_code(db, OrganizationKind::Prefecture, code.trim())
                .await?
                .ok_or(AppError::NotFound("prefecture"))?;
            Ok((
                Scope {
                    prefecture_id: Some(prefecture.id.clone()),
                    ..Scope::default()
                },
                Some(prefecture),
            ))
        }
        (None, Some(code)) => {
            let municipality = store::find_by_code(db, OrganizationKind::Municipality, code.trim())
                .await?
                .ok_or(AppError::NotFound("municipality"))?;
            Ok((
                Scope {
                    municipality_id: Some(municipality.id.clone()),
                    ..Scope::default()
                },
                Some(municipality),
            ))
        }
        (None, None) => Ok((Scope::default(), None)),
    }
}

/// The nation's population: the prefectures' together, when every one is known.
async fn national_population(db: &Db) -> AppResult<Option<i64>> {
    let populations: Vec<(Option<i64>,)> =
        sqlx::query_as("SELECT population FROM organizations WHERE kind = $1")
            .bind(OrganizationKind::Prefecture.as_db())
            .fetch_all(db.pool())
            .await?;
    Ok(populations
        .iter()
        .map(|(p,)| *p)
        .sum::<Option<i64>>()
        .filter(|_| !populations.is_empty()))
}

fn area_coverage(
    record: Option<&OrganizationRecord>,
    population: Option<i64>,
    by_dose: &std::collections::BTreeMap<i64, i64>,
) -> AreaCoverage {
    AreaCoverage {
        area_code: record.map(|r| r.code.clone()),
        area_name: record.map_or_else(|| "全国 / Japan".to_owned(), |r| r.name.clone()),
        population,
        administered: by_dose.values().sum(),
        doses: by_dose
            .iter()
            .map(|(dose, administered)| DoseCoverage {
                dose_number: *dose,
                administered: *administered,
                percent_of_population: coverage(*administered, population),
            })
            .collect(),
    }
}

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Doses administered (from the facilities' vaccination reports) in the nation, a
    /// prefecture or a municipality, per day with the cumulative totals, by dose and by
    /// recipient category, over at most 366 days. No sign-in needed.
    async fn vaccination_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A prefecture's two-digit code (e.g. \"13\").")] prefecture_code: Option<
            String,
        >,
        #[graphql(desc = "A municipality's six-digit code (e.g. \"131105\").")]
        municipality_code: Option<String>,
        #[graphql(desc = "Only this vaccine.")] product_code: Option<String>,
        #[graphql(desc = "First day, YYYY-MM-DD (default 29 days before `to`).")] from: Option<
            String,
        >,
        #[graphql(desc = "Last day, YYYY-MM-DD (default today).")] to: Option<String>,
    ) -> async_graphql::Result<VaccinationStatistics> {
        let db = ctx.data_unchecked::<Db>();
        let to = match to {
            Some(d) => parse_date("to", &d)?,
            None => db.clock().japan_date(),
        };
        let from = match from {
            Some(d) => parse_date("from", &d)?,
            None => to - time::Duration::days(29),
        };
        if to < from || (to - from).whole_days() >= MAX_DAYS {
            return Err(AppError::invalid_field(
                "to",
                format!(
                    "1 to {MAX_DAYS} days, ending after the start / 期間は{MAX_DAYS}日以内です"
                ),
            )
            .into());
        }
        let (mut scope, record) =
            area(db, prefecture_code.as_deref(), municipality_code.as_deref()).await?;
        if let Some(code) = product_code {
            scope.product_id = Some(
                products::by_code(db.pool(), code.trim().to_uppercase().as_str())
                    .await?
                    .ok_or_else(products::unknown_code)?
                    .id,
            );
        }
        let changes = figures::changes(db, &scope, to).await?;
        let days = series(&changes, from, to);
        let population = match &record {
            Some(r) => r.population,
            None => national_population(db).await?,
        };
        let last = days.last().map(|d| {
            d.by_dose
                .iter()
                .map(|(dose, f)| (*dose, f.cumulative))
                .collect()
        });
        Ok(VaccinationStatistics {
            area: area_coverage(record.as_ref(), population, &last.unwrap_or_default()),
            days: days.into_iter().map(StatisticsDay::from).collect(),
        })
    }

    /// Coverage now: per prefecture, or per municipality of one prefecture, with the nation
    /// first. No sign-in needed.
    async fn vaccination_coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Per municipality of this prefecture (two-digit code).")]
        prefecture_code: Option<String>,
    ) -> async_graphql::Result<Vec<AreaCoverage>> {
        let db = ctx.data_unchecked::<Db>();
        Ok(coverage_now(db, prefecture_code.as_deref()).await?)
    }
}

/// The totals now per area: the nation (or the prefecture) first, then its parts.
pub async fn coverage_now(db: &Db, prefecture_code: Option<&str>) -> AppResult<Vec<AreaCoverage>> {
    let (scope, prefecture) = area(db, prefecture_code, None).await?;
    let changes = figures::changes(db, &scope, db.clock().japan_date()).await?;
    let mut whole: std::collections::BTreeMap<i64, i64> = Default::default();
    for change in &changes {
        *whole.entry(change.dose_number).or_default() += change.delta;
    }
    let population = match &prefecture {
        Some(p) => p.population,
        None => national_population(db).await?,
    };
    let mut areas = vec![area_coverage(prefecture.as_ref(), population, &whole)];
    match &prefecture {
        None => {
            let totals = figures::totals_by_prefecture(&changes);
            let prefectures = store::of_kind(db, OrganizationKind::Prefecture, None).await?;
            for p in &prefectures {
                let by_dose = totals.get(&p.id).cloned().unwrap_or_default();
                areas.push(area_coverage(Some(p), p.population, &by_dose));
            }
        }
        Some(prefecture) => {
            let by_municipality = municipality_totals(db, &prefecture.id).await?;
            let municipalities =
                store::of_kind(db, OrganizationKind::Municipality, Some(&prefecture.id)).await?;
            for m in &municipalities {
                let by_dose = by_municipality.get(&m.id).cloned().unwrap_or_default();
                areas.push(area_coverage(Some(m), m.population, &by_dose));
            }
        }
    }
    Ok(areas)
}

/// Latest totals per municipality and dose in a prefecture.
async fn municipality_totals(
    db: &Db,
    prefecture_id: &str,
) -> AppResult<std::collections::BTreeMap<String, std::collections::BTreeMap<i64, i64>>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT municipality_id, dose_number, CAST(SUM(administered) AS BIGINT) FROM ( \
           SELECT o.municipality_id, r.dose_number, r.administered, ROW_NUMBER() OVER ( \
             PARTITION BY r.facility_id, r.product_id, r.dose_number, r.recipient_category \
             ORDER BY r.created_at DESC, r.id DESC) AS newest \
           FROM vaccination_reports r JOIN organizations o ON o.id = r.facility_id \
           WHERE o.prefecture_id = $1) x \
         WHERE newest = 1 GROUP BY municipality_id, dose_number",
    )
    .bind(prefecture_id)
    .fetch_all(db.pool())
    .await?;
    let mut totals: std::collections::BTreeMap<String, std::collections::BTreeMap<i64, i64>> =
        Default::default();
    for (municipality, dose, administered) in rows {
        totals
            .entry(municipality)
            .or_default()
            .insert(dose, administered);
    }
    Ok(totals)
}

/// Live counters: an area's totals after new reports.
#[derive(SimpleObject, Clone)]
pub struct StatisticsUpdate {
    /// The area and its totals now.
    pub area: AreaCoverage,
    /// When the latest report counted was committed.
    pub updated_at: Timestamp,
}

#[derive(Default)]
pub struct StatisticsSubscription;

#[Subscription]
impl StatisticsSubscription {
    /// The nation's (or a prefecture's) totals, pushed after new vaccination reports, at most
    /// once a second; the latest totals always arrive. No sign-in needed.
    async fn statistics_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A prefecture's two-digit code; the nation without it.")]
        prefecture_code: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = StatisticsUpdate> + use<>> {
        let db = ctx.data_unchecked::<Db>();
        // Refuse an unknown prefecture at once rather than on the first report.
        area(db, prefecture_code.as_deref(), None).await?;
        let events = ctx.data_unchecked::<Arc<Events>>().clone();
        let reports = events.stream_topic(REPORTED_TOPIC, None);
        // Bursts of reports: wait a second after the first, then answer with the totals as
        // they are then (computed once per instance per event and prefecture choice).
        Ok(reports
            .ready_chunks(1024)
            .then(move |batch| {
                let events = events.clone();
                let prefecture_code = prefecture_code.clone();
                async move {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let last = batch.last()?.clone();
                    let areas = events
                        .attachment(&last, |db| async move {
                            let mut all = coverage_now(&db, None).await?;
                            let nation = all.remove(0);
                            Ok(Some((nation, all)))
                        })
                        .await;
                    let (nation, prefectures) = areas.as_deref()?.clone();
                    let area = match &prefecture_code {
                        None => nation,
                        Some(code) => prefectures
                            .into_iter()
                            .find(|a| a.area_code.as_deref() == Some(code.trim()))?,
                    };
                    Some(StatisticsUpdate {
                        area,
                        updated_at: last.occurred_at,
                    })
                }
            })
            .filter_map(std::future::ready))
    }
}

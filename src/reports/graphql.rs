//! The GraphQL face of the reports: `reportVaccinations`, `transferStock`, and a facility's
//! current figures and stock on hand.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::transfers::{self, NewTransfer};
use super::vaccinations::{self, NewReport, RecipientCategory, ReportLine};
use crate::actor::{current_actor, request_meta, require_actor};
use crate::allocation::products::{self, ProductKind};
use crate::allocation::stock::{self as ledger, Ledger};
use crate::db::Db;
use crate::facilities::may_see;
use crate::graphql::ids::{ORGANIZATION_TYPES, row_of};
use crate::organizations::OrganizationRecord;

/// One cumulative figure of a report.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "VaccinationFigureInput")]
pub struct VaccinationFigure {
    /// Which dose (1 for the first, 2 for the second, …).
    pub dose_number: i64,
    /// Who received it.
    pub category: RecipientCategory,
    /// Cumulative doses administered.
    pub administered: i64,
}

impl From<ReportLine> for VaccinationFigure {
    fn from(line: ReportLine) -> Self {
        VaccinationFigure {
            dose_number: line.dose_number,
            category: line.category,
            administered: line.administered,
        }
    }
}

/// A facility's report, as entered (p. 42).
#[derive(InputObject)]
pub struct VaccinationReportInput {
    /// The facility reporting (yours, or one your municipality enters for).
    pub facility_id: ID,
    /// The vaccine.
    pub product_code: String,
    /// The day the figures stand at, YYYY-MM-DD (default today, Japan).
    pub reported_on: Option<String>,
    /// Cumulative doses per dose number and recipient category (1 to 50 figures).
    pub figures: Vec<VaccinationFigure>,
    /// Cumulative doses wasted.
    pub wasted: Option<i64>,
    /// Why doses were wasted.
    pub waste_reason: Option<String>,
    /// Lower figures than last time are corrections (else CONFLICT, LOWER_THAN_BEFORE).
    #[graphql(default)]
    pub correction: bool,
    /// Unchanged figures are meant (else CONFLICT, UNCHANGED_NEEDS_CONFIRMATION).
    #[graphql(default)]
    pub confirm_unchanged: bool,
}

/// A facility's current figures for one vaccine.
#[derive(SimpleObject)]
pub struct VaccinationReport {
    /// The vaccine.
    pub product_code: String,
    /// The latest cumulative figure per dose and category.
    pub figures: Vec<VaccinationFigure>,
    /// Cumulative doses administered, all figures together.
    pub administered: i64,
    /// Cumulative doses wasted.
    pub wasted: i64,
    /// The reason given with the latest waste figure.
    pub waste_reason: Option<String>,
}

/// A facility's stock of one vaccine, in doses: delivered − administered − wasted ± transfers.
#[derive(SimpleObject)]
pub struct StockOnHand {
    /// The vaccine.
    pub product_code: String,
    /// Doses delivered to the facility.
    pub delivered: i64,
    /// Doses administered (latest cumulative reports).
    pub administered: i64,
    /// Doses wasted (latest cumulative report).
    pub wasted: i64,
    /// Doses received from other facilities.
    pub transferred_in: i64,
    /// Doses handed to other facilities.
    pub transferred_out: i64,
    /// Doses on hand.
    pub on_hand: i64,
    /// Doses administered in the last 14 days (the usage rate).
    pub recent_usage: i64,
}

fn stock_view(product_code: String, l: &Ledger) -> StockOnHand {
    StockOnHand {
        product_code,
        delivered: l.delivered,
        administered: l.administered,
        wasted: l.wasted,
        transferred_in: l.transferred_in,
        transferred_out: l.transferred_out,
        on_hand: l.on_hand(),
        recent_usage: l.recent_usage,
    }
}

/// A transfer of doses to another facility of the same municipality.
#[derive(InputObject)]
pub struct TransferStockInput {
    /// The facility handing the doses over.
    pub from_facility_id: ID,
    /// The facility receiving them (e.g. its satellite).
    pub to_facility_id: ID,
    /// The vaccine.
    pub product_code: String,
    /// Doses (1 or more, at most the stock on hand).
    pub doses: i64,
    /// The day, YYYY-MM-DD (default today).
    pub transferred_on: Option<String>,
    /// A note (at most 500 characters).
    pub note: Option<String>,
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Reports cumulative vaccinations and waste (p. 42). Every report is kept; a lower figure
    /// needs `correction`, an unchanged report `confirmUnchanged`. Audited.
    async fn report_vaccinations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: VaccinationReportInput,
    ) -> async_graphql::Result<VaccinationReport> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let facility_id = row_of(&input.facility_id, ORGANIZATION_TYPES, "facility")?;
        let (product, figures) = vaccinations::report(
            db,
            &request_meta(ctx),
            actor,
            NewReport {
                facility_id: facility_id.clone(),
                product_code: input.product_code,
                reported_on: input.reported_on,
                lines: input
                    .figures
                    .into_iter()
                    .map(|f| ReportLine {
                        dose_number: f.dose_number,
                        category: f.category,
                        administered: f.administered,
                    })
                    .collect(),
                wasted: input.wasted,
                waste_reason: input.waste_reason,
                correction: input.correction,
                confirm_unchanged: input.confirm_unchanged,
            },
        )
        .await?;
        let waste = vaccinations::current_waste(db.pool(), &facility_id, &product.id).await?;
        Ok(report_view(product.code, figures, waste))
    }

    /// Hands doses to another facility of the same municipality (e.g. a basic-type facility
    /// to its satellite); returns the sender's stock on hand after it. Audited.
    async fn transfer_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The transfer.")] input: TransferStockInput,
    ) -> async_graphql::Result<i64> {
        let actor = require_actor(ctx)?;
        let from = row_of(&input.from_facility_id, ORGANIZATION_TYPES, "facility")?;
        let to = row_of(&input.to_facility_id, ORGANIZATION_TYPES, "facility")?;
        Ok(transfers::transfer(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            NewTransfer {
                from_facility_id: &from,
                to_facility_id: &to,
                product_code: &input.product_code,
                doses: input.doses,
                transferred_on: input.transferred_on.as_deref(),
                note: input.note.as_deref(),
            },
        )
        .await?)
    }
}

fn report_view(
    product_code: String,
    figures: Vec<ReportLine>,
    waste: Option<(i64, Option<String>)>,
) -> VaccinationReport {
    let administered = figures.iter().map(|f| f.administered).sum();
    let (wasted, waste_reason) = waste.unwrap_or((0, None));
    VaccinationReport {
        product_code,
        figures: figures.into_iter().map(VaccinationFigure::from).collect(),
        administered,
        wasted,
        waste_reason,
    }
}

/// `Facility.vaccinationReports`: the current figures per vaccine (the facility's area only).
pub async fn facility_reports(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Vec<VaccinationReport>> {
    may_see(current_actor(ctx), facility)?;
    let db = ctx.data_unchecked::<Db>();
    let mut reports = Vec::new();
    for product in products::list(db, Some(ProductKind::Vaccine)).await? {
        let figures = vaccinations::current(db.pool(), &facility.id, &product.id).await?;
        let waste = vaccinations::current_waste(db.pool(), &facility.id, &product.id).await?;
        if !figures.is_empty() || waste.is_some() {
            reports.push(report_view(product.code, figures, waste));
        }
    }
    Ok(reports)
}

/// `Facility.stock`: the stock on hand per vaccine (the facility's area only).
pub async fn facility_stock(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Vec<StockOnHand>> {
    may_see(current_actor(ctx), facility)?;
    let db = ctx.data_unchecked::<Db>();
    let mut stock = Vec::new();
    for product in products::list(db, Some(ProductKind::Vaccine)).await? {
        let ledger = ledger::ledger_of(db, &facility.id, &product.id).await?;
        if ledger != Ledger::default() {
            stock.push(stock_view(product.code, &ledger));
        }
    }
    Ok(stock)
}

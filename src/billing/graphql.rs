//! The GraphQL face of billing.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::assemble::summary_of;
use super::claims::{self, Attendance, AttendanceInput, ClaimRecord, LineInput, Month};
use super::fees::{self, Counts, FeeTable};
use super::summary::{self, MunicipalityShare, Route, Summary};
use crate::actor::{request_meta, require_actor};
use crate::audit;
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::documents::files::{FileStore, LinkSigner, NewFile, Retention};
use crate::error::AppError;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::reports::vaccinations::RecipientCategory;

/// How a booked resident's visit went.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum AttendanceKind {
    /// Screened and vaccinated (fee: vaccination).
    Vaccinated,
    /// Screened; the doctor decided against vaccinating (予診のみ; fee: pre-screening).
    ScreenedOnly,
    /// Did not come (no fee).
    NotAttended,
}

impl From<AttendanceKind> for Attendance {
    fn from(kind: AttendanceKind) -> Self {
        match kind {
            AttendanceKind::Vaccinated => Attendance::Vaccinated,
            AttendanceKind::ScreenedOnly => Attendance::ScreenedOnly,
            AttendanceKind::NotAttended => Attendance::NotAttended,
        }
    }
}

/// Counts of a claim line.
#[derive(SimpleObject, InputObject, Debug, Clone, Copy, Default)]
#[graphql(input_name = "ClaimCountsInput")]
pub struct ClaimCounts {
    /// Vaccinations (each with its pre-screening).
    pub vaccinations: i64,
    /// Pre-screenings without vaccination.
    pub screenings_only: i64,
    /// Visits of children under six (add-on).
    pub under_six: i64,
    /// Visits out of hours (add-on).
    pub out_of_hours: i64,
    /// Visits on holidays (add-on).
    pub holidays: i64,
}

impl From<Counts> for ClaimCounts {
    fn from(c: Counts) -> Self {
        ClaimCounts {
            vaccinations: c.vaccinations,
            screenings_only: c.screenings_only,
            under_six: c.under_six,
            out_of_hours: c.out_of_hours,
            holidays: c.holidays,
        }
    }
}

impl From<ClaimCounts> for Counts {
    fn from(c: ClaimCounts) -> Self {
        Counts {
            vaccinations: c.vaccinations,
            screenings_only: c.screenings_only,
            under_six: c.under_six,
            out_of_hours: c.out_of_hours,
            holidays: c.holidays,
        }
    }
}

/// One line of a claim to save.
#[derive(InputObject)]
pub struct ClaimLineInput {
    /// The paying municipality's 6-digit code (the coupon's).
    pub municipality_code: String,
    /// The recipients' category.
    pub category: RecipientCategory,
    /// The counts.
    pub counts: ClaimCounts,
}

/// A claim line as drafted or saved.
#[derive(SimpleObject)]
pub struct ClaimLine {
    /// The paying municipality's 6-digit code.
    pub municipality_code: String,
    /// Its name.
    pub municipality_name: String,
    /// The recipients' category.
    pub category: RecipientCategory,
    /// The counts.
    pub counts: ClaimCounts,
    /// The amount under the month's fee table, in yen.
    pub amount: i64,
}

/// The fee table of a period.
#[derive(SimpleObject, InputObject, Debug, Clone)]
#[graphql(input_name = "FeeTableInput")]
pub struct Fees {
    /// From this day on (YYYY-MM-DD).
    pub valid_from: String,
    /// Yen per vaccination (2021: 2,070).
    pub vaccination: i64,
    /// Yen per pre-screening without vaccination (2021: 1,540).
    pub screening_only: i64,
    /// Add-on for a child under six (2021: 660).
    pub under_six: i64,
    /// Add-on out of hours (2021: 730).
    pub out_of_hours: i64,
    /// Add-on on holidays (2021: 2,130).
    pub holiday: i64,
}

impl From<FeeTable> for Fees {
    fn from(t: FeeTable) -> Self {
        Fees {
            valid_from: t.valid_from,
            vaccination: t.vaccination,
            screening_only: t.screening_only,
            under_six: t.under_six,
            out_of_hours: t.out_of_hours,
            holiday: t.holiday,
        }
    }
}

/// A facility's claim for a month.
pub struct BillingClaim(ClaimRecord);

/// A facility's claim for a month: a draft until submitted.
#[Object]
impl BillingClaim {
    /// The claim's id.
    async fn id(&self) -> ID {
        global_id("BillingClaim", &self.0.id)
    }
    /// The month, YYYY-MM.
    async fn month(&self) -> &str {
        &self.0.month
    }
    /// DRAFT or SUBMITTED.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> Option<Timestamp> {
        self.0.submitted_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// Moves on every change.
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// How a municipality's share is claimed.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ClaimRoute {
    /// From the municipality directly (in-area, not entrusted).
    Direct,
    /// Through the 国保連 of the facility's prefecture.
    Federation,
}

/// One paying municipality's share of a summary.
pub struct BillingShare(MunicipalityShare);

/// What one municipality pays (市区町村別請求書).
#[Object]
impl BillingShare {
    /// Its 6-digit code.
    async fn municipality_code(&self) -> &str {
        &self.0.payer.code
    }
    /// Its name.
    async fn municipality_name(&self) -> &str {
        &self.0.payer.name
    }
    /// In-area (the facility's own municipality) or out-of-area.
    async fn in_area(&self) -> bool {
        self.0.in_area
    }
    /// How it is claimed.
    async fn route(&self) -> ClaimRoute {
        match self.0.route {
            Route::Direct => ClaimRoute::Direct,
            Route::Federation => ClaimRoute::Federation,
        }
    }
    /// Its counts over every category.
    async fn counts(&self) -> ClaimCounts {
        self.0.counts.into()
    }
    /// The amount, in yen.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    /// Per category.
    async fn lines(&self) -> Vec<ClaimLine> {
        self.0
            .lines
            .iter()
            .map(|l| ClaimLine {
                municipality_code: self.0.payer.code.clone(),
                municipality_name: self.0.payer.name.clone(),
                category: l.category,
                counts: l.counts.into(),
                amount: l.amount,
            })
            .collect()
    }
}

/// A facility's billing summary for a month.
pub struct BillingSummary(Summary);

/// The billing summary (費用請求用の総括表): the month's totals per paying municipality, with
/// routes, amounts and the due date.
#[Object]
impl BillingSummary {
    /// The month, YYYY-MM.
    async fn month(&self) -> &str {
        &self.0.month
    }
    /// The facility's 10-digit code.
    async fn facility_code(&self) -> &str {
        &self.0.facility_code
    }
    /// The facility's name.
    async fn facility_name(&self) -> &str {
        &self.0.facility_name
    }
    /// SUBMITTED, DRAFT, or NOT_SAVED (the figures are attendance's draft).
    async fn status(&self) -> &str {
        self.0.status
    }
    /// Due by this day (the 10th of the next month).
    async fn due_on(&self) -> &str {
        &self.0.due_on
    }
    /// Submitted after the due date, or still not submitted after it.
    async fn late(&self) -> bool {
        self.0.late
    }
    /// The fee table applied.
    async fn fees(&self) -> Fees {
        self.0.fees.clone().into()
    }
    /// Per paying municipality, in code order.
    async fn municipalities(&self) -> Vec<BillingShare> {
        self.0.shares.iter().cloned().map(BillingShare).collect()
    }
    /// All counts.
    async fn counts(&self) -> ClaimCounts {
        self.0.counts.into()
    }
    /// Claimed from municipalities directly, in yen.
    async fn direct_amount(&self) -> i64 {
        self.0.direct_amount
    }
    /// Claimed through the 国保連 (請求総括書), in yen.
    async fn federation_amount(&self) -> i64 {
        self.0.federation_amount
    }
    /// Everything, in yen.
    async fn total_amount(&self) -> i64 {
        self.0.total_amount
    }
}

/// A format to export the summary in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ExportFormat {
    /// The claims per municipality and the summary sheet, for printing.
    Pdf,
    /// One row per municipality and category (UTF-8 with BOM; formula cells defused).
    Csv,
}

/// An exported file and its link.
#[derive(SimpleObject)]
pub struct ExportedFile {
    /// Its name.
    pub file_name: String,
    /// Size in bytes.
    pub byte_size: i64,
    /// A link that downloads it without signing in, until `downloadExpiresAt`.
    pub download_url: String,
    /// When the link stops working.
    pub download_expires_at: Timestamp,
}

fn month_of(text: &str) -> async_graphql::Result<Month> {
    Ok(Month::parse(text)?)
}

fn facility_row(id: &ID) -> async_graphql::Result<String> {
    Ok(row_of(id, ORGANIZATION_TYPES, "facilityId")?)
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The claim lines attendance gives for a month (visits per coupon municipality and
    /// category, add-ons included, amounts under the month's fees): what `saveBillingClaim`
    /// is pre-filled with.
    async fn billing_claim_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "The month, YYYY-MM.")] month: String,
    ) -> async_graphql::Result<Vec<ClaimLine>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let month = month_of(&month)?;
        let facility = facility_row(&facility_id)?;
        let lines = claims::draft(db, actor, &facility, &month).await?;
        let fees = fees::for_month(db, &month.text).await?;
        let ids: Vec<&str> = lines
            .iter()
            .map(|l| l.paying_municipality_id.as_str())
            .collect();
        let payers = super::assemble::payers(db, &ids).await?;
        let mut out = Vec::new();
        for line in lines {
            let payer = payers
                .get(&line.paying_municipality_id)
                .ok_or(AppError::NotFound("municipality"))?;
            out.push(ClaimLine {
                municipality_code: payer.code.clone(),
                municipality_name: payer.name.clone(),
                category: line.category,
                amount: fees.amount(&line.counts),
                counts: line.counts.into(),
            });
        }
        Ok(out)
    }

    /// The billing summary of a facility's month: the saved claim, or attendance's draft when
    /// none is saved.
    async fn billing_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "The month, YYYY-MM.")] month: String,
    ) -> async_graphql::Result<BillingSummary> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let month = month_of(&month)?;
        let facility = facility_row(&facility_id)?;
        Ok(BillingSummary(
            summary_of(db, actor, &facility, &month).await?,
        ))
    }

    /// The fee tables, oldest first. Anyone signed in.
    async fn billing_fees(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Fees>> {
        require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        Ok(fees::all(db).await?.into_iter().map(Fees::from).collect())
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Records how a booked resident's visit went, on or after its day: vaccinated, screened
    /// only, or not attended; with the recipients' category and the add-ons that applied. The
    /// venue (or the municipality running a special venue); not once the month's claim is
    /// submitted. Audited.
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reservation.")] reservation_id: ID,
        #[graphql(desc = "How the visit went.")] attendance: AttendanceKind,
        #[graphql(desc = "The recipient's category (GENERAL when not given).")] category: Option<
            RecipientCategory,
        >,
        #[graphql(desc = "Out of hours (an add-on; false when not given).")] out_of_hours: Option<
            bool,
        >,
        #[graphql(desc = "On a holiday (an add-on; false when not given).")] holiday: Option<bool>,
    ) -> async_graphql::Result<ID> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            let id = row_of(&reservation_id, &["Reservation"], "reservationId")?;
            claims::record_attendance(
                db,
                &meta,
                actor,
                &id,
                &AttendanceInput {
                    attendance: attendance.into(),
                    category: category.unwrap_or(RecipientCategory::General),
                    out_of_hours: out_of_hours.unwrap_or(false),
                    holiday: holiday.unwrap_or(false),
                },
            )
            .await
        }
        .await;
        let id =
            audit::record_if_refused(db, &meta, actor, "recordAttendance", None, result).await?;
        Ok(global_id("Reservation", &id))
    }

    /// Saves a facility's claim for a month as a draft, replacing its lines (pre-fill them
    /// from `billingClaimDraft`). All or nothing: every bad line is named. Audited.
    async fn save_billing_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "The month, YYYY-MM.")] month: String,
        #[graphql(desc = "The lines.")] lines: Vec<ClaimLineInput>,
    ) -> async_graphql::Result<BillingClaim> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            let facility = row_of(&facility_id, ORGANIZATION_TYPES, "facilityId")?;
            let month = Month::parse(&month)?;
            let lines = lines
                .into_iter()
                .map(|l| LineInput {
                    municipality_code: l.municipality_code,
                    category: l.category,
                    counts: l.counts.into(),
                })
                .collect();
            claims::save(db, &meta, actor, &facility, &month, lines).await
        }
        .await;
        let claim =
            audit::record_if_refused(db, &meta, actor, "saveBillingClaim", None, result).await?;
        Ok(BillingClaim(claim))
    }

    /// Submits a facility's saved claim for a month; due by the 10th of the next month (a
    /// later one is marked late). Once. Audited.
    async fn submit_billing_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "The month, YYYY-MM.")] month: String,
    ) -> async_graphql::Result<BillingClaim> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            let facility = row_of(&facility_id, ORGANIZATION_TYPES, "facilityId")?;
            let month = Month::parse(&month)?;
            claims::submit(db, &meta, actor, &facility, &month).await
        }
        .await;
        let claim =
            audit::record_if_refused(db, &meta, actor, "submitBillingClaim", None, result).await?;
        Ok(BillingClaim(claim))
    }

    /// Exports a facility's billing summary for a month as PDF (a claim per municipality and
    /// the summary sheet for the 国保連) or CSV, and gives a download link that expires.
    /// Audited.
    async fn export_billing_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facility.")] facility_id: ID,
        #[graphql(desc = "The month, YYYY-MM.")] month: String,
        #[graphql(desc = "PDF or CSV.")] format: ExportFormat,
    ) -> async_graphql::Result<ExportedFile> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let files = ctx.data_unchecked::<Arc<dyn FileStore>>();
        let links = ctx.data_unchecked::<Arc<LinkSigner>>();
        let retention = *ctx.data_unchecked::<Retention>();
        let result = async {
            let facility = row_of(&facility_id, ORGANIZATION_TYPES, "facilityId")?;
            let month = Month::parse(&month)?;
            let summary = summary_of(db, actor, &facility, &month).await?;
            let (bytes, content_type, extension) = match format {
                ExportFormat::Csv => (summary::csv(&summary), "text/csv; charset=utf-8", "csv"),
                ExportFormat::Pdf => {
                    let copy = summary.clone();
                    let bytes = tokio::task::spawn_blocking(move || summary::pdf(&copy))
                        .await
                        .map_err(|e| AppError::Internal(e.into()))?
                        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
                    (bytes, "application/pdf", "pdf")
                }
            };
            let mut tx = db.begin_write().await?;
            let info = files
                .put(
                    &mut tx,
                    NewFile {
                        organization_id: &facility,
                        job_id: None,
                        part: 1,
                        file_name: format!(
                            "seikyu-{}-{}.{extension}",
                            summary.facility_code, summary.month
                        ),
                        content_type,
                        items: summary.shares.len() as i64,
                        content: &bytes,
                        keep_for: Some(retention.0),
                    },
                )
                .await?;
            audit::record(
                &mut tx,
                &meta,
                audit::Entry::new("exportBillingSummary", audit::Outcome::Success, Some(actor))
                    .object("GeneratedFile", &info.id)
                    .organization(&facility)
                    .change(
                        None,
                        Some(serde_json::json!({ "month": summary.month, "format": extension })),
                    ),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, AppError>(info)
        }
        .await;
        let info = audit::record_if_refused(db, &meta, actor, "exportBillingSummary", None, result)
            .await?;
        let link = links.link(&info.id, db.now());
        Ok(ExportedFile {
            file_name: info.file_name,
            byte_size: info.byte_size,
            download_url: link.url,
            download_expires_at: link.expires_at,
        })
    }

    /// Sets the fee table from a day on (replacing one of the same day). The nation. Audited.
    async fn set_billing_fees(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fees and the day they apply from.")] fees: Fees,
    ) -> async_graphql::Result<Fees> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let table = FeeTable {
            valid_from: fees.valid_from.trim().to_owned(),
            vaccination: fees.vaccination,
            screening_only: fees.screening_only,
            under_six: fees.under_six,
            out_of_hours: fees.out_of_hours,
            holiday: fees.holiday,
        };
        let result = fees::set(db, &meta, actor, table).await;
        let table =
            audit::record_if_refused(db, &meta, actor, "setBillingFees", None, result).await?;
        Ok(table.into())
    }

    /// Whether the signed-in municipality's in-area claims go through the prefecture's 国保連
    /// (true) or come to it directly (false, the default). Audited.
    async fn set_claims_route(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: through the 国保連.")] via_federation: bool,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            decide(
                Some(actor),
                Action::SetClaimsRoute,
                Target::Organization(&actor.organization),
            )?;
            let mut tx = db.begin_write().await?;
            sqlx::query("UPDATE organizations SET claims_via_federation = $1 WHERE id = $2")
                .bind(crate::db::Flag(via_federation))
                .bind(&actor.organization.id)
                .execute(tx.conn())
                .await?;
            audit::record(
                &mut tx,
                &meta,
                audit::Entry::new("setClaimsRoute", audit::Outcome::Success, Some(actor))
                    .organization(&actor.organization.id)
                    .change(
                        None,
                        Some(serde_json::json!({ "viaFederation": via_federation })),
                    ),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, AppError>(via_federation)
        }
        .await;
        Ok(audit::record_if_refused(db, &meta, actor, "setClaimsRoute", None, result).await?)
    }
}

//! The GraphQL face of the coupon ledger and the residents' requests.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Subscription};
use futures_util::{Stream, StreamExt};

use super::coupons::{self, CouponRecord, CouponStatus, NewCoupon};
use super::requests::{
    self, DECIDED_TOPIC, RequestInput, RequestKind, RequestRecord, RequestStatus, SUBMITTED_TOPIC,
    reference_of,
};
use crate::actor::{current_actor, request_meta, require_actor};
use crate::audit;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::events::Events;
use crate::graphql::ids::{global_id, row_of};
use crate::organizations::{OrganizationNode, load_organization};

/// Which request.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ResidentRequestKind {
    /// Out-of-area vaccination notification (住所地外接種の届出).
    OutOfArea,
    /// Coupon reissue request (クーポン券再発行依頼).
    CouponReissue,
}

impl From<RequestKind> for ResidentRequestKind {
    fn from(kind: RequestKind) -> Self {
        match kind {
            RequestKind::OutOfArea => ResidentRequestKind::OutOfArea,
            RequestKind::CouponReissue => ResidentRequestKind::CouponReissue,
        }
    }
}

/// Where a request stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ResidentRequestStatus {
    /// Waiting for the municipality (受付中).
    Submitted,
    /// Accepted (受理); for a reissue, the new coupon is issued.
    Accepted,
    /// Returned with a reason (差戻し).
    Returned,
}

impl From<RequestStatus> for ResidentRequestStatus {
    fn from(status: RequestStatus) -> Self {
        match status {
            RequestStatus::Submitted => ResidentRequestStatus::Submitted,
            RequestStatus::Accepted => ResidentRequestStatus::Accepted,
            RequestStatus::Returned => ResidentRequestStatus::Returned,
        }
    }
}

impl From<ResidentRequestStatus> for RequestStatus {
    fn from(status: ResidentRequestStatus) -> Self {
        match status {
            ResidentRequestStatus::Submitted => RequestStatus::Submitted,
            ResidentRequestStatus::Accepted => RequestStatus::Accepted,
            ResidentRequestStatus::Returned => RequestStatus::Returned,
        }
    }
}

/// A resident's request in the municipality's queue.
pub struct ResidentRequest(RequestRecord);

/// A resident's request (out-of-area notification or coupon reissue), as the deciding
/// municipality sees it.
#[Object]
impl ResidentRequest {
    /// The request's id (the resident's receipt).
    async fn id(&self) -> ID {
        global_id("ResidentRequest", &self.0.id)
    }
    /// The short reference the resident was given, `XXXX-XXXX`, to find the request when
    /// the resident calls.
    async fn reference(&self) -> String {
        reference_of(&self.0.id)
    }
    /// Which request.
    async fn kind(&self) -> ResidentRequestKind {
        self.0.kind.into()
    }
    /// Where it stands.
    async fn status(&self) -> ResidentRequestStatus {
        self.0.status.into()
    }
    /// The municipality that issued the coupon (the resident's home).
    async fn coupon_municipality(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        Ok(load_organization(ctx, &self.0.coupon_municipality_id)
            .await?
            .map(OrganizationNode::from))
    }
    /// The coupon's 10-digit number.
    async fn coupon_number(&self) -> &str {
        &self.0.coupon_number
    }
    /// The resident's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The name in kana.
    async fn name_kana(&self) -> &str {
        &self.0.name_kana
    }
    /// Date of birth (YYYY-MM-DD).
    async fn birth_date(&self) -> &str {
        &self.0.birth_date
    }
    /// A phone number to reach the resident.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// Why the resident asks.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The facility that submitted it for the resident, if one did.
    async fn submitted_by_facility(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<OrganizationNode>> {
        match &self.0.submitted_by_facility_id {
            Some(id) => Ok(load_organization(ctx, id)
                .await?
                .map(OrganizationNode::from)),
            None => Ok(None),
        }
    }
    /// Why it was returned (or a note on its acceptance).
    async fn decision_reason(&self) -> Option<&str> {
        self.0.decision_reason.as_deref()
    }
    /// When it was decided.
    async fn decided_at(&self) -> Option<Timestamp> {
        self.0.decided_at
    }
    /// An accepted reissue: the number of the coupon issued in place of the old one.
    async fn new_coupon_number(&self) -> Option<&str> {
        self.0.new_coupon_number.as_deref()
    }
    /// When it was submitted.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

/// What the person who submitted a request is told.
pub struct ResidentRequestReceipt {
    id: String,
}

/// The receipt of a submitted request: quote its number when calling the municipality.
#[Object]
impl ResidentRequestReceipt {
    /// The request's id.
    async fn id(&self) -> ID {
        global_id("ResidentRequest", &self.id)
    }
    /// The receipt number to quote when calling the municipality, `XXXX-XXXX` (also shown in
    /// the municipality's queue).
    async fn reference(&self) -> String {
        reference_of(&self.id)
    }
    /// Always SUBMITTED: the municipality decides next.
    async fn status(&self) -> ResidentRequestStatus {
        ResidentRequestStatus::Submitted
    }
}

/// Where a coupon stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CouponState {
    /// Valid: it books.
    Issued,
    /// Used up.
    Used,
    /// Replaced by a reissue or withdrawn: refused at booking.
    Invalidated,
}

/// One coupon in a municipality's ledger.
pub struct Coupon(CouponRecord);

/// A coupon (接種券) as the municipality's ledger keeps it.
#[Object]
impl Coupon {
    /// The 10-digit number.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// The municipality's reference for the resident it was issued to.
    async fn resident_reference(&self) -> &str {
        &self.0.resident_reference
    }
    /// Whether it still books.
    async fn status(&self) -> CouponState {
        match self.0.status {
            CouponStatus::Issued => CouponState::Issued,
            CouponStatus::Used => CouponState::Used,
            CouponStatus::Invalidated => CouponState::Invalidated,
        }
    }
    /// When it was issued.
    async fn issued_at(&self) -> Timestamp {
        self.0.issued_at
    }
    /// When it was invalidated (a reissue replaced it).
    async fn invalidated_at(&self) -> Option<Timestamp> {
        self.0.invalidated_at
    }
}

/// A coupon to register.
#[derive(InputObject)]
pub struct CouponInput {
    /// The 10-digit number printed on it.
    pub number: String,
    /// The municipality's own reference for the resident (e.g. the resident register's
    /// internal number): 1 to 64 characters. Not a name.
    pub resident_reference: String,
    /// ISSUED when not given; USED or INVALIDATED to record coupons already spent or withdrawn.
    pub status: Option<CouponState>,
}

/// The resident and the coupon, as on the original forms.
#[derive(InputObject)]
pub struct ResidentRequestInput {
    /// The 6-digit code of the municipality that issued the coupon.
    pub coupon_municipality_code: String,
    /// The coupon's 10-digit number.
    pub coupon_number: String,
    /// Name (1–100 characters).
    pub name: String,
    /// Name in kana.
    pub name_kana: String,
    /// Date of birth, YYYY-MM-DD.
    pub birth_date: String,
    /// A phone number (10 or 11 digits) the municipality can call.
    pub phone: String,
    /// Why (a stay away from home, a hospital stay; a lost coupon …), 1–500 characters.
    pub reason: String,
}

impl ResidentRequestInput {
    fn as_request<'a>(
        &'a self,
        kind: RequestKind,
        destination: Option<&'a str>,
    ) -> RequestInput<'a> {
        RequestInput {
            kind,
            destination_municipality_code: destination,
            coupon_municipality_code: &self.coupon_municipality_code,
            coupon_number: &self.coupon_number,
            name: &self.name,
            name_kana: &self.name_kana,
            birth_date: &self.birth_date,
            phone: &self.phone,
            reason: &self.reason,
        }
    }
}

#[derive(Default)]
pub struct ResidentQuery;

#[Object]
impl ResidentQuery {
    /// The signed-in municipality's queue of residents' requests, newest first (at most 100),
    /// optionally of one status.
    async fn resident_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests in this state.")] status: Option<ResidentRequestStatus>,
    ) -> async_graphql::Result<Vec<ResidentRequest>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let records = requests::queue(db, actor, status.map(Into::into), 100).await?;
        Ok(records.into_iter().map(ResidentRequest).collect())
    }

    /// A coupon of the signed-in municipality's ledger, by number.
    async fn coupon(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The 10-digit number.")] number: String,
    ) -> async_graphql::Result<Option<Coupon>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        crate::authz::decide(
            Some(actor),
            crate::authz::Action::RegisterCoupons,
            crate::authz::Target::Organization(&actor.organization),
        )?;
        let coupon = coupons::find(db.pool(), &actor.organization.id, number.trim()).await?;
        Ok(coupon.map(Coupon))
    }
}

#[derive(Default)]
pub struct ResidentMutation;

#[Object]
impl ResidentMutation {
    /// Registers coupons the signed-in municipality issued in its ledger (at most 1,000 at a
    /// time; all or none, bad rows named in `extensions.rows`). From then on a booking with a
    /// number the ledger does not hold is refused. Returns how many were registered. Audited.
    async fn register_coupons(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The coupons.")] coupons: Vec<CouponInput>,
    ) -> async_graphql::Result<i64> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let list = coupons
            .into_iter()
            .map(|c| NewCoupon {
                number: super::text::folded(&c.number),
                resident_reference: c.resident_reference,
                status: match c.status.unwrap_or(CouponState::Issued) {
                    CouponState::Issued => CouponStatus::Issued,
                    CouponState::Used => CouponStatus::Used,
                    CouponState::Invalidated => CouponStatus::Invalidated,
                },
            })
            .collect();
        let result = coupons::register(db, &meta, actor, list).await;
        let count =
            audit::record_if_refused(db, &meta, actor, "registerCoupons", None, result).await?;
        Ok(count as i64)
    }

    /// Notifies out-of-area vaccination (住所地外接種の届出) to the municipality where it will
    /// take place. No account needed (limited per address); a facility may submit it for the
    /// resident. The municipality accepts it (the resident may then book there) or returns it.
    async fn submit_out_of_area_notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The 6-digit code of the municipality where the vaccination will take place."
        )]
        destination_municipality_code: String,
        #[graphql(desc = "The resident, the coupon and the reason.")] input: ResidentRequestInput,
    ) -> async_graphql::Result<ResidentRequestReceipt> {
        submit(
            ctx,
            input.as_request(RequestKind::OutOfArea, Some(&destination_municipality_code)),
        )
        .await
    }

    /// Asks the coupon's municipality to reissue a lost or damaged coupon
    /// (クーポン券再発行依頼). No account needed (limited per address). When approved, a new
    /// number is issued and the old one no longer books.
    async fn request_coupon_reissue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The resident, the coupon and the reason.")] input: ResidentRequestInput,
    ) -> async_graphql::Result<ResidentRequestReceipt> {
        submit(ctx, input.as_request(RequestKind::CouponReissue, None)).await
    }

    /// Accepts or returns an out-of-area notification in the signed-in municipality's queue.
    /// Returning needs a reason. Audited.
    async fn decide_out_of_area_notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] request_id: ID,
        #[graphql(desc = "True accepts, false returns it.")] accept: bool,
        #[graphql(desc = "Why (required to return it).")] reason: Option<String>,
    ) -> async_graphql::Result<ResidentRequest> {
        decide(
            ctx,
            &request_id,
            RequestKind::OutOfArea,
            accept,
            reason.as_deref(),
        )
        .await
    }

    /// Approves or returns a coupon reissue request of the signed-in municipality. Approval
    /// issues the new number (`newCouponNumber`) and invalidates the old one. Returning needs a
    /// reason. Audited.
    async fn decide_coupon_reissue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] request_id: ID,
        #[graphql(desc = "True approves, false returns it.")] approve: bool,
        #[graphql(desc = "Why (required to return it).")] reason: Option<String>,
    ) -> async_graphql::Result<ResidentRequest> {
        decide(
            ctx,
            &request_id,
            RequestKind::CouponReissue,
            approve,
            reason.as_deref(),
        )
        .await
    }
}

async fn submit(
    ctx: &Context<'_>,
    input: RequestInput<'_>,
) -> async_graphql::Result<ResidentRequestReceipt> {
    let db = ctx.data_unchecked::<Db>();
    let meta = request_meta(ctx);
    let id = requests::submit(db, &meta, current_actor(ctx), &input).await?;
    Ok(ResidentRequestReceipt { id })
}

async fn decide(
    ctx: &Context<'_>,
    request_id: &ID,
    kind: RequestKind,
    accept: bool,
    reason: Option<&str>,
) -> async_graphql::Result<ResidentRequest> {
    let actor = require_actor(ctx)?;
    let db = ctx.data_unchecked::<Db>();
    let meta = request_meta(ctx);
    let operation = match kind {
        RequestKind::OutOfArea => "decideOutOfAreaNotification",
        RequestKind::CouponReissue => "decideCouponReissue",
    };
    let result = async {
        let id = row_of(request_id, &["ResidentRequest"], "requestId")?;
        requests::decide_request(db, &meta, actor, &id, kind, accept, reason).await
    }
    .await;
    let record = audit::record_if_refused(db, &meta, actor, operation, None, result).await?;
    Ok(ResidentRequest(record))
}

/// A change in a municipality's queue.
pub struct ResidentRequestEvent {
    sequence: i64,
    request_id: String,
    kind: ResidentRequestKind,
    status: ResidentRequestStatus,
}

/// A request arrived in the queue, or was decided.
#[Object]
impl ResidentRequestEvent {
    /// Position in the global event order; pass the last one seen as `after` to resume.
    async fn sequence(&self) -> i64 {
        self.sequence
    }
    /// The request (read it with `residentRequests`).
    async fn request_id(&self) -> ID {
        global_id("ResidentRequest", &self.request_id)
    }
    /// Which request.
    async fn kind(&self) -> ResidentRequestKind {
        self.kind
    }
    /// Where it stands now.
    async fn status(&self) -> ResidentRequestStatus {
        self.status
    }
}

#[derive(Default)]
pub struct ResidentSubscription;

#[Subscription]
impl ResidentSubscription {
    /// The signed-in municipality's queue live: new residents' requests and decisions. With
    /// `after` (an event sequence number), first replays what happened since.
    async fn resident_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = ResidentRequestEvent> + use<>> {
        let actor = require_actor(ctx)?.clone();
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        if actor.role != crate::actor::Role::Municipality {
            return Err(AppError::Forbidden.into());
        }
        let events = ctx.data_unchecked::<Arc<Events>>();
        let municipality = actor.organization.id;
        Ok(events.stream(after).filter_map(move |event| {
            let item = ((event.topic == SUBMITTED_TOPIC || event.topic == DECIDED_TOPIC)
                && event.organization_id.as_deref() == Some(municipality.as_str()))
            .then(|| {
                let kind: RequestKind = event.payload_str("kind")?.parse().ok()?;
                let status: RequestStatus = event.payload_str("status")?.parse().ok()?;
                Some(ResidentRequestEvent {
                    sequence: event.seq,
                    request_id: event.payload_str("requestId")?.to_owned(),
                    kind: kind.into(),
                    status: status.into(),
                })
            })
            .flatten();
            std::future::ready(item)
        }))
    }
}

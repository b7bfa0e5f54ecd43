//! Residents' requests to a municipality (function 8):
//!
//! - **Out-of-area vaccination** (住所地外接種の届出): a resident who will be vaccinated
//!   outside the municipality that issued the coupon (a stay away from home, a hospital stay)
//!   notifies the municipality where it will happen. That municipality accepts it — the
//!   resident may then book there — or returns it with a reason.
//! - **Coupon reissue** (クーポン券再発行依頼): a lost or damaged coupon. The coupon's
//!   municipality approves it: a new number is issued and the old one invalidated.
//!
//! Both are submitted without an account (a public form, limited per address like every
//! anonymous request) or by a facility for the resident, and wait in the deciding
//! municipality's queue: SUBMITTED → ACCEPTED | RETURNED. The events carry no personal data:
//! the queue is read through the API, where the area rule applies.

use serde_json::json;

use super::coupons;
use super::text::{self, folded};
use crate::actor::{Actor, OrgScope, RequestMeta, Role};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::organizations::codes::MunicipalityCode;
use crate::organizations::{OrganizationKind, OrganizationRecord, store as orgs};

/// Topics of the municipality's queue.
pub const SUBMITTED_TOPIC: &str = "resident_request.submitted";
pub const DECIDED_TOPIC: &str = "resident_request.decided";

/// Open requests one coupon may have of one kind: enough for a correction, not for a flood.
const OPEN_PER_COUPON: i64 = 3;

/// Which request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestKind {
    OutOfArea,
    CouponReissue,
}

crate::db_enum!(RequestKind);

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestStatus {
    Submitted,
    Accepted,
    Returned,
}

crate::db_enum!(RequestStatus);

/// A request as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRecord {
    pub id: String,
    pub kind: RequestKind,
    pub status: RequestStatus,
    pub municipality_id: String,
    pub coupon_municipality_id: String,
    pub coupon_number: String,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub phone: String,
    pub reason: String,
    pub submitted_by_facility_id: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub new_coupon_number: Option<String>,
    pub created_at: Timestamp,
    pub version: i64,
}

const SELECT: &str = "SELECT r.id, r.kind, r.status, r.municipality_id, r.coupon_municipality_id, \
     r.coupon_number, r.name, r.name_kana, r.birth_date, r.phone, r.reason, \
     r.submitted_by_facility_id, r.decision_reason, r.decided_at, c.number AS new_coupon_number, \
     r.created_at, r.version FROM resident_requests r LEFT JOIN coupons c ON c.id = r.new_coupon_id";

/// What a resident (or a facility for them) submits.
pub struct RequestInput<'a> {
    pub kind: RequestKind,
    /// Out-of-area: the municipality where the vaccination will take place. Reissue: unused
    /// (the coupon's municipality decides).
    pub destination_municipality_code: Option<&'a str>,
    pub coupon_municipality_code: &'a str,
    pub coupon_number: &'a str,
    pub name: &'a str,
    pub name_kana: &'a str,
    pub birth_date: &'a str,
    pub phone: &'a str,
    pub reason: &'a str,
}

/// The checked input.
struct Checked {
    coupon_municipality: OrganizationRecord,
    deciding_municipality: OrganizationRecord,
    coupon_number: String,
    name: String,
    name_kana: String,
    birth_date: String,
    phone: String,
    reason: String,
}

async fn municipality(db: &Db, field: &str, code: &str) -> AppResult<OrganizationRecord> {
    let code = folded(code);
    MunicipalityCode::parse(&code).map_err(|_| {
        AppError::invalid_field(
            field,
            "a 6-digit municipality code / 6桁の市区町村コードです",
        )
    })?;
    orgs::find_by_code(db, OrganizationKind::Municipality, &code)
        .await?
        .ok_or_else(|| {
            AppError::invalid_field(
                field,
                "no municipality has this code / この市区町村コードの自治体はありません",
            )
        })
}

async fn check(db: &Db, input: &RequestInput<'_>) -> AppResult<Checked> {
    let coupon_municipality =
        municipality(db, "couponMunicipalityCode", input.coupon_municipality_code).await?;
    let deciding_municipality = match input.kind {
        RequestKind::OutOfArea => {
            let code = input.destination_municipality_code.ok_or_else(|| {
                AppError::invalid_field(
                    "destinationMunicipalityCode",
                    "where the vaccination will take place / 接種を受ける市区町村を入力してください",
                )
            })?;
            let destination = municipality(db, "destinationMunicipalityCode", code).await?;
            if destination.id == coupon_municipality.id {
                return Err(AppError::invalid_field(
                    "destinationMunicipalityCode",
                    "in the coupon's own municipality no notification is needed / 住所地の市区町村では届出は不要です",
                ));
            }
            destination
        }
        RequestKind::CouponReissue => coupon_municipality.clone(),
    };
    let coupon_number =
        text::coupon_number(input.coupon_number).map_err(text::in_field("couponNumber"))?;
    let name = text::name(input.name).map_err(text::in_field("name"))?;
    let name_kana = text::name_kana(input.name_kana).map_err(text::in_field("nameKana"))?;
    let birth = crate::facilities::codes::parse_date("birthDate", &folded(input.birth_date))?;
    let birth =
        text::birth_date(birth, db.clock().japan_date()).map_err(text::in_field("birthDate"))?;
    let phone = text::phone(input.phone).map_err(text::in_field("phone"))?;
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::invalid_field(
            "reason",
            "a reason of 1 to 500 characters / 理由を1〜500文字で入力してください",
        ));
    }
    Ok(Checked {
        coupon_municipality,
        deciding_municipality,
        coupon_number,
        name,
        name_kana,
        birth_date: birth.to_string(),
        phone,
        reason,
    })
}

/// The short reference a resident quotes on the phone: the random end of the request's id,
/// `XXXX-XXXX` (the id is a UUIDv7, whose start is the time and alike for requests of a day).
pub fn reference_of(id: &str) -> String {
    let hex: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase();
    let tail = &hex[hex.len().saturating_sub(8)..];
    let (a, b) = tail.split_at(tail.len().min(4));
    format!("{a}-{b}")
}

/// Submits a request; `actor` is absent for a resident without an account. Returns its id,
/// the receipt the resident keeps. Audited (without the personal details).
pub async fn submit(
    db: &Db,
    meta: &RequestMeta,
    actor: Option<&Actor>,
    input: &RequestInput<'_>,
) -> AppResult<String> {
    let checked = check(db, input).await?;
    let mut tx = db.begin_write().await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM resident_requests WHERE coupon_municipality_id = $1 \
         AND coupon_number = $2 AND kind = $3 AND status = 'SUBMITTED'",
    )
    .bind(&checked.coupon_municipality.id)
    .bind(&checked.coupon_number)
    .bind(input.kind)
    .fetch_one(tx.conn())
    .await?;
    if open >= OPEN_PER_COUPON {
        return Err(AppError::refused(
            "TOO_MANY_OPEN_REQUESTS",
            "this coupon already has requests waiting for the municipality / この接種券の申請は既に受付中です",
        ));
    }
    let facility = actor
        .filter(|a| a.role == Role::MedicalInstitution)
        .map(|a| a.organization.id.clone());
    let id = new_id();
    let now = tx.now();
    sqlx::query(
        "INSERT INTO resident_requests (id, kind, status, municipality_id, coupon_municipality_id, \
         coupon_number, name, name_kana, birth_date, phone, reason, submitted_by_facility_id, \
         submitted_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(input.kind)
    .bind(RequestStatus::Submitted)
    .bind(&checked.deciding_municipality.id)
    .bind(&checked.coupon_municipality.id)
    .bind(&checked.coupon_number)
    .bind(&checked.name)
    .bind(&checked.name_kana)
    .bind(&checked.birth_date)
    .bind(&checked.phone)
    .bind(&checked.reason)
    .bind(&facility)
    .bind(actor.map(|a| a.user_id.clone()))
    .bind(now)
    .execute(tx.conn())
    .await?;
    let operation = match input.kind {
        RequestKind::OutOfArea => "submitOutOfAreaNotification",
        RequestKind::CouponReissue => "requestCouponReissue",
    };
    audit::record(
        &mut tx,
        meta,
        Entry::new(operation, Outcome::Success, actor)
            .object("ResidentRequest", &id)
            .organization(&checked.deciding_municipality.id)
            .change(
                None,
                Some(json!({ "kind": input.kind, "status": "SUBMITTED" })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &queue_event(
            SUBMITTED_TOPIC,
            &checked.deciding_municipality.id,
            &id,
            input.kind,
            RequestStatus::Submitted,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn queue_event(
    topic: &str,
    municipality_id: &str,
    id: &str,
    kind: RequestKind,
    status: RequestStatus,
) -> NewEvent {
    NewEvent {
        topic: topic.to_owned(),
        visibility: Visibility::Restricted,
        organization_id: Some(municipality_id.to_owned()),
        payload: json!({ "requestId": id, "kind": kind, "status": status }),
    }
}

/// The municipality as an authorization target.
fn scope_of(municipality_id: &str, prefecture_id: Option<String>) -> OrgScope {
    OrgScope {
        id: municipality_id.to_owned(),
        kind: OrganizationKind::Municipality,
        prefecture_id,
        municipality_id: Some(municipality_id.to_owned()),
    }
}

/// One request, for an actor who may decide it (else NOT_FOUND: others do not learn it exists).
pub async fn for_decision(db: &Db, actor: &Actor, id: &str) -> AppResult<RequestRecord> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    let record: Option<RequestRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let record = record.ok_or(AppError::NotFound("ResidentRequest"))?;
    let scope = scope_of(&record.municipality_id, None);
    decide(
        Some(actor),
        Action::DecideResidentRequest,
        Target::Organization(&scope),
    )
    .map_err(|_| AppError::NotFound("ResidentRequest"))?;
    Ok(record)
}

/// Accepts or returns a request; an accepted reissue issues the new coupon and invalidates the
/// old number. A return needs a reason. Audited.
pub async fn decide_request(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    id: &str,
    kind: RequestKind,
    accept: bool,
    reason: Option<&str>,
) -> AppResult<RequestRecord> {
    let record = for_decision(db, actor, id).await?;
    if record.kind != kind {
        return Err(AppError::NotFound("ResidentRequest"));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::invalid_field(
            "reason",
            "say why it is returned / 差し戻しの理由を入力してください",
        ));
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(AppError::invalid_field(
            "reason",
            "at most 500 characters / 500文字以内です",
        ));
    }
    let status = if accept {
        RequestStatus::Accepted
    } else {
        RequestStatus::Returned
    };
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let new_coupon = if accept && kind == RequestKind::CouponReissue {
        let reference: Option<String> = sqlx::query_scalar(
            "SELECT resident_reference FROM coupons WHERE municipality_id = $1 AND number = $2",
        )
        .bind(&record.coupon_municipality_id)
        .bind(&record.coupon_number)
        .fetch_optional(tx.conn())
        .await?;
        let reference = reference.unwrap_or_else(|| format!("request:{}", record.id));
        coupons::invalidate(
            &mut tx,
            &record.coupon_municipality_id,
            &record.coupon_number,
            &reference,
        )
        .await?;
        let issued = coupons::issue(
            &mut tx,
            &record.coupon_municipality_id,
            &[reference.as_str()],
        )
        .await?;
        issued.into_iter().next().map(|(id, _)| id)
    } else {
        None
    };
    // Only a submitted request is decided, once: the condition is in the statement.
    let updated = sqlx::query(
        "UPDATE resident_requests SET status = $1, decision_reason = $2, decided_by = $3, \
         decided_at = $4, new_coupon_id = $5, updated_at = $4, version = version + 1 \
         WHERE id = $6 AND status = 'SUBMITTED'",
    )
    .bind(status)
    .bind(reason)
    .bind(&actor.user_id)
    .bind(now)
    .bind(&new_coupon)
    .bind(&record.id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::refused(
            "ALREADY_DECIDED",
            "this request was already decided / この申請は処理済みです",
        ));
    }
    let operation = match kind {
        RequestKind::OutOfArea => "decideOutOfAreaNotification",
        RequestKind::CouponReissue => "decideCouponReissue",
    };
    audit::record(
        &mut tx,
        meta,
        Entry::new(operation, Outcome::Success, Some(actor))
            .object("ResidentRequest", &record.id)
            .organization(&record.municipality_id)
            .change(
                Some(json!({ "status": "SUBMITTED" })),
                Some(json!({ "status": status, "reason": reason })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &queue_event(
            DECIDED_TOPIC,
            &record.municipality_id,
            &record.id,
            kind,
            status,
        ),
    )
    .await?;
    tx.commit().await?;
    let sql = format!("{SELECT} WHERE r.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&record.id)
        .fetch_one(db.pool())
        .await?)
}

/// The municipality's queue: its requests, optionally of one status, newest first.
pub async fn queue(
    db: &Db,
    actor: &Actor,
    status: Option<RequestStatus>,
    limit: i64,
) -> AppResult<Vec<RequestRecord>> {
    let scope = scope_of(
        &actor.organization.id,
        actor.organization.prefecture_id.clone(),
    );
    decide(
        Some(actor),
        Action::DecideResidentRequest,
        Target::Organization(&scope),
    )?;
    let by_status = if status.is_some() {
        "AND r.status = $3"
    } else {
        ""
    };
    let sql = format!(
        "{SELECT} WHERE r.municipality_id = $1 {by_status} \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $2"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&actor.organization.id)
        .bind(limit);
    if let Some(status) = status {
        query = query.bind(status);
    }
    Ok(query.fetch_all(db.pool()).await?)
}

/// Whether the resident with this coupon may book in `venue_municipality_id`: an accepted
/// out-of-area notification there.
pub async fn accepted_out_of_area(
    db: &Db,
    coupon_municipality_id: &str,
    coupon_number: &str,
    venue_municipality_id: &str,
) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM resident_requests WHERE coupon_municipality_id = $1 \
         AND coupon_number = $2 AND kind = 'OUT_OF_AREA' AND status = 'ACCEPTED' \
         AND municipality_id = $3 LIMIT 1",
    )
    .bind(coupon_municipality_id)
    .bind(coupon_number)
    .bind(venue_municipality_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod reference_tests {
    use super::reference_of;

    #[test]
    fn the_reference_is_the_random_end_of_the_id() {
        assert_eq!(
            reference_of("0192f3a4-5b6c-7d8e-9f01-23456789abcd"),
            "6789-ABCD"
        );
    }
}

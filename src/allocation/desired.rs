//! Desired quantities (希望量, domain.md §5 stage 2, seed p. 23): the boxes each facility would
//! like in a cool. Entered by the facility, or for it by its municipality (proxy input, or the
//! municipality running a special venue). Prefectures and municipalities read their area's.

use serde_json::json;

use super::cools;
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::AreaFilter;
use crate::clock::Timestamp;
use crate::db::{Db, Filter, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::may_edit;
use crate::organizations::{OrganizationKind, store as organizations};

/// A facility's desired quantity was entered (RESTRICTED to its area).
pub const REGISTERED_TOPIC: &str = "desired_quantity.registered";

/// Most boxes one facility may ask for in one cool.
const MAX_BOXES: i64 = 100_000;

/// One desired-quantity row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DesiredRecord {
    pub id: String,
    pub cool_id: String,
    pub facility_id: String,
    pub boxes: i64,
    pub updated_at: Timestamp,
    pub version: i64,
}

const COLUMNS: &str = "d.id, d.cool_id, d.facility_id, d.boxes, d.updated_at, d.version";

/// The desired quantities of a cool in `area`, by facility code.
pub async fn of_cool(db: &Db, cool_id: &str, area: &AreaFilter) -> AppResult<Vec<DesiredRecord>> {
    let mut filter = Filter::default();
    filter.and("d.cool_id = ?", [cool_id.to_owned()]);
    if let Some((condition, value)) = area.condition("o") {
        filter.and(&condition, [value]);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM desired_quantities d JOIN organizations o ON o.id = d.facility_id{} \
         ORDER BY o.code",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

/// Enters (or replaces) a facility's desired boxes for a cool. Audited, with its event; a
/// refusal is audited and changes nothing.
pub async fn register(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    facility_id: &str,
    boxes: i64,
) -> AppResult<DesiredRecord> {
    let result = register_checked(db, meta, actor, cool_id, facility_id, boxes).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "registerDesiredQuantity",
        Some(facility_id),
        result,
    )
    .await
}

async fn register_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    facility_id: &str,
    boxes: i64,
) -> AppResult<DesiredRecord> {
    let cool = cools::by_id(db.pool(), cool_id)
        .await?
        .ok_or(AppError::NotFound("cool"))?;
    let facility = organizations::load_by_ids(db, &[facility_id.to_owned()])
        .await?
        .remove(facility_id)
        .filter(|f| f.kind() == OrganizationKind::Facility)
        .ok_or(AppError::NotFound("facility"))?;
    let acting = may_edit(actor, &facility)?;
    if !(0..=MAX_BOXES).contains(&boxes) {
        return Err(AppError::invalid_field(
            "boxes",
            "0 to 100,000 whole boxes / 0〜100,000箱",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT boxes FROM desired_quantities WHERE cool_id = $1 AND facility_id = $2",
    )
    .bind(&cool.id)
    .bind(&facility.id)
    .fetch_optional(tx.conn())
    .await?;
    if before.is_some() {
        sqlx::query(
            "UPDATE desired_quantities SET boxes = $3, registered_by = $4, updated_at = $5, \
             version = version + 1 WHERE cool_id = $1 AND facility_id = $2",
        )
        .bind(&cool.id)
        .bind(&facility.id)
        .bind(boxes)
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO desired_quantities (id, cool_id, facility_id, boxes, registered_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(&cool.id)
        .bind(&facility.id)
        .bind(boxes)
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM desired_quantities d WHERE d.cool_id = $1 AND d.facility_id = $2"
    );
    let record: DesiredRecord = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&cool.id)
        .bind(&facility.id)
        .fetch_one(tx.conn())
        .await?;
    let view = |boxes: i64| json!({ "cool": cool.number, "boxes": boxes });
    let mut entry = Entry::new("registerDesiredQuantity", Outcome::Success, Some(actor))
        .object("Facility", &facility.id)
        .organization(&facility.id)
        .change(before.map(view), Some(view(boxes)));
    if acting != crate::facilities::Acting::Itself {
        entry = entry.detail(format!(
            "entered for the facility by {}",
            actor.organization.id
        ));
    }
    audit::record(&mut tx, meta, entry).await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    append(
        &mut tx,
        &NewEvent {
            topic: REGISTERED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(facility.id.clone()),
            payload: json!({ "coolId": cool.id, "facilityId": facility.id, "boxes": boxes }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

//! Cools (クール, domain.md §5): allocation cycles of about three weeks, one vaccine each, with
//! a deadline per stage. The nation opens them (seed p. 30, クールマスタ).

use serde_json::json;
use time::Date;

use super::products::{self, ProductKind};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::codes::parse_date;

/// A cool was opened (RESTRICTED to no one organisation: every signed-in area sees it).
pub const OPENED_TOPIC: &str = "cool.opened";

/// Days a cool lasts when its end is not given (about three weeks).
const DEFAULT_DAYS: i64 = 21;

/// The stages of a cool, in order, each with its deadline (its last day).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CoolStage {
    /// Facilities register their desired quantity (希望量).
    DesiredQuantity,
    /// The nation allocates to prefectures, which confirm.
    NationAllocation,
    /// Prefectures allocate to municipalities and complete (1–2 days).
    PrefectureAllocation,
    /// Municipalities allocate to facilities and complete (about 5 days).
    MunicipalityAllocation,
    /// Prefectures check and lock (データロック); delivery starts.
    DataLock,
}

impl CoolStage {
    pub const ALL: [CoolStage; 5] = [
        CoolStage::DesiredQuantity,
        CoolStage::NationAllocation,
        CoolStage::PrefectureAllocation,
        CoolStage::MunicipalityAllocation,
        CoolStage::DataLock,
    ];

    /// The default deadline, in days after the cool's first day.
    fn default_offset(self) -> i64 {
        match self {
            CoolStage::DesiredQuantity => 2,
            CoolStage::NationAllocation => 4,
            CoolStage::PrefectureAllocation => 6,
            CoolStage::MunicipalityAllocation => 11,
            CoolStage::DataLock => 13,
        }
    }

    /// The input field that sets this stage's deadline.
    fn field(self) -> &'static str {
        match self {
            CoolStage::DesiredQuantity => "desiredQuantityDeadline",
            CoolStage::NationAllocation => "nationAllocationDeadline",
            CoolStage::PrefectureAllocation => "prefectureAllocationDeadline",
            CoolStage::MunicipalityAllocation => "municipalityAllocationDeadline",
            CoolStage::DataLock => "dataLockDeadline",
        }
    }
}

/// One cool row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CoolRecord {
    pub id: String,
    pub number: i64,
    pub product_id: String,
    pub starts_on: String,
    pub ends_on: String,
    pub desired_quantity_deadline: String,
    pub nation_allocation_deadline: String,
    pub prefecture_allocation_deadline: String,
    pub municipality_allocation_deadline: String,
    pub data_lock_deadline: String,
    pub created_at: Timestamp,
    pub version: i64,
}

impl CoolRecord {
    /// The deadline (last day, YYYY-MM-DD) of `stage`.
    pub fn deadline(&self, stage: CoolStage) -> &str {
        match stage {
            CoolStage::DesiredQuantity => &self.desired_quantity_deadline,
            CoolStage::NationAllocation => &self.nation_allocation_deadline,
            CoolStage::PrefectureAllocation => &self.prefecture_allocation_deadline,
            CoolStage::MunicipalityAllocation => &self.municipality_allocation_deadline,
            CoolStage::DataLock => &self.data_lock_deadline,
        }
    }
}

const COLUMNS: &str = "id, number, product_id, starts_on, ends_on, desired_quantity_deadline, \
     nation_allocation_deadline, prefecture_allocation_deadline, municipality_allocation_deadline, \
     data_lock_deadline, created_at, version";

/// Every cool, newest first (by first day, then number).
pub async fn list(db: &Db) -> AppResult<Vec<CoolRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM cools ORDER BY starts_on DESC, number DESC");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?)
}

/// One cool by its row id.
pub async fn by_id<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<CoolRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM cools WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// A cool as `openCool` gives it; absent dates take their defaults from the first day.
pub struct NewCool {
    pub number: i64,
    pub product_code: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    /// Deadlines by stage, in [`CoolStage::ALL`] order; `None` takes the default.
    pub deadlines: [Option<String>; 5],
}

/// The cool's dates, validated: every deadline within the period and in stage order.
fn dates(new: &NewCool) -> AppResult<(Date, Date, [Date; 5])> {
    let starts = parse_date("startsOn", &new.starts_on)?;
    let ends = match &new.ends_on {
        Some(text) => parse_date("endsOn", text)?,
        None => starts + time::Duration::days(DEFAULT_DAYS - 1),
    };
    if ends < starts {
        return Err(AppError::invalid_field(
            "endsOn",
            "the cool ends before it starts / 終了日が開始日より前です",
        ));
    }
    let mut deadlines = [starts; 5];
    let mut previous = starts;
    for (i, stage) in CoolStage::ALL.into_iter().enumerate() {
        let deadline = match &new.deadlines[i] {
            Some(text) => parse_date(stage.field(), text)?,
            None => (starts + time::Duration::days(stage.default_offset())).max(previous),
        };
        if deadline < previous || deadline > ends {
            return Err(AppError::invalid_field(
                stage.field(),
                "deadlines fall within the cool, stage after stage / 締切はクール期間内で段階順に設定してください",
            ));
        }
        deadlines[i] = deadline;
        previous = deadline;
    }
    Ok((starts, ends, deadlines))
}

/// Opens a cool (the nation), audited, with its event. A refusal is audited and changes
/// nothing.
pub async fn open(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewCool,
) -> AppResult<CoolRecord> {
    let result = open_checked(db, meta, actor, &new).await;
    audit::record_if_refused(db, meta, actor, "openCool", None, result).await
}

async fn open_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    new: &NewCool,
) -> AppResult<CoolRecord> {
    decide(Some(actor), Action::OpenCool, Target::System)?;
    if !(1..=10_000).contains(&new.number) {
        return Err(AppError::invalid_field("number", "1 to 10,000 / 1〜10,000"));
    }
    let product = products::by_code(db.pool(), new.product_code.trim().to_uppercase().as_str())
        .await?
        .ok_or_else(products::unknown_code)?;
    if product.kind != ProductKind::Vaccine {
        return Err(AppError::invalid_field(
            "productCode",
            "a cool allocates a vaccine; needles and syringes follow it / クールはワクチンごとです",
        ));
    }
    let (starts, ends, deadlines) = dates(new)?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM cools WHERE product_id = $1 AND number = $2")
            .bind(&product.id)
            .bind(new.number)
            .fetch_one(tx.conn())
            .await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "cool {} of {} is already open / このクールは登録済みです",
            new.number, product.code
        )));
    }
    let id = new_id();
    let mut query = sqlx::query(
        "INSERT INTO cools (id, number, product_id, starts_on, ends_on, desired_quantity_deadline, \
         nation_allocation_deadline, prefecture_allocation_deadline, municipality_allocation_deadline, \
         data_lock_deadline, opened_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(new.number)
    .bind(&product.id)
    .bind(starts.to_string())
    .bind(ends.to_string());
    for deadline in deadlines {
        query = query.bind(deadline.to_string());
    }
    query
        .bind(&actor.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let cool = by_id(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("cool"))?;
    let view = json!({
        "number": cool.number, "productCode": product.code, "startsOn": cool.starts_on,
        "endsOn": cool.ends_on,
        "deadlines": CoolStage::ALL.map(|s| cool.deadline(s).to_owned()),
    });
    audit::record(
        &mut tx,
        meta,
        Entry::new("openCool", Outcome::Success, Some(actor))
            .object("Cool", &id)
            .change(None, Some(view.clone())),
    )
    .await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    append(
        &mut tx,
        &NewEvent {
            topic: OPENED_TOPIC.into(),
            visibility: Visibility::Public,
            organization_id: None,
            payload: json!({ "coolId": id, "cool": view }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(cool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cool(starts: &str, ends: Option<&str>, deadlines: [Option<&str>; 5]) -> NewCool {
        NewCool {
            number: 1,
            product_code: "PFIZER".into(),
            starts_on: starts.into(),
            ends_on: ends.map(str::to_owned),
            deadlines: deadlines.map(|d| d.map(str::to_owned)),
        }
    }

    #[test]
    fn defaults_give_three_weeks_and_deadlines_in_stage_order() {
        let (starts, ends, deadlines) = dates(&cool("2021-05-10", None, [None; 5])).unwrap();
        assert_eq!(starts.to_string(), "2021-05-10");
        assert_eq!(ends.to_string(), "2021-05-30");
        let days: Vec<String> = deadlines.iter().map(Date::to_string).collect();
        assert_eq!(
            days,
            [
                "2021-05-12",
                "2021-05-14",
                "2021-05-16",
                "2021-05-21",
                "2021-05-23"
            ]
        );
    }

    #[test]
    fn a_deadline_out_of_order_or_outside_the_period_names_its_field() {
        let early = cool(
            "2021-05-10",
            None,
            [Some("2021-05-15"), Some("2021-05-14"), None, None, None],
        );
        assert!(
            matches!(dates(&early), Err(AppError::InvalidInput { field: Some(field), .. }) if field == "nationAllocationDeadline")
        );
        let late = cool("2021-05-10", Some("2021-05-22"), [None; 5]);
        assert!(
            matches!(dates(&late), Err(AppError::InvalidInput { field: Some(field), .. }) if field == "dataLockDeadline")
        );
        let backwards = cool("2021-05-10", Some("2021-05-01"), [None; 5]);
        assert!(
            matches!(dates(&backwards), Err(AppError::InvalidInput { field: Some(field), .. }) if field == "endsOn")
        );
    }
}

//! Stage deadlines (domain.md §5): who still has work in a stage, which stages are late for an
//! organisation, and the reminder mailed one day before a deadline to those whose work is not
//! done. The reminder check is idempotent and safe on several instances (one row per cool,
//! stage and organisation); the server runs it periodically and tests call it after moving the
//! clock.

use super::cools::{self, CoolRecord, CoolStage};
use super::lines::Progress;
use crate::db::Db;
use crate::error::AppResult;
use crate::mail::{self, Mail};
use crate::organizations::OrganizationKind;

/// What an organisation of `kind` must have done by the end of `stage`, given where it stands
/// and whether it received anything: `None` when the stage asks nothing of it.
pub fn done(
    kind: OrganizationKind,
    stage: CoolStage,
    progress: &Progress,
    received: bool,
) -> Option<bool> {
    match (kind, stage) {
        (OrganizationKind::Nation, CoolStage::NationAllocation) => {
            Some(progress.completed_at.is_some())
        }
        (OrganizationKind::Prefecture, CoolStage::NationAllocation) if received => {
            Some(progress.confirmed_at.is_some())
        }
        (OrganizationKind::Prefecture, CoolStage::PrefectureAllocation) if received => {
            Some(progress.completed_at.is_some())
        }
        (OrganizationKind::Prefecture, CoolStage::DataLock) if received => {
            Some(progress.locked_at.is_some())
        }
        (OrganizationKind::Municipality, CoolStage::MunicipalityAllocation) if received => {
            Some(progress.confirmed_at.is_some() && progress.completed_at.is_some())
        }
        _ => None,
    }
}

/// Every organisation's progress in a cool, with its kind and whether it received anything.
async fn standing(
    db: &Db,
    cool_id: &str,
) -> AppResult<Vec<(String, OrganizationKind, Progress, bool)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        kind: OrganizationKind,
        confirmed_at: Option<crate::clock::Timestamp>,
        completed_at: Option<crate::clock::Timestamp>,
        locked_at: Option<crate::clock::Timestamp>,
        received: i64,
    }
    let sql = format!(
        "SELECT o.id, o.kind, g.confirmed_at, g.completed_at, g.locked_at, \
           CAST((SELECT COUNT(*) FROM allocations a WHERE a.cool_id = $1 \
                 AND a.allocator_id = {} AND a.recipient_id = o.id \
                 AND a.boxes > 0) AS BIGINT) AS received \
         FROM organizations o \
         LEFT JOIN allocation_progress g ON g.cool_id = $1 AND g.organization_id = o.id \
         WHERE o.kind IN ($2, $3, $4)",
        super::lines::allocator_of_sql("o")
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(cool_id)
        .bind(OrganizationKind::Nation.as_db())
        .bind(OrganizationKind::Prefecture.as_db())
        .bind(OrganizationKind::Municipality.as_db())
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let progress = Progress {
                confirmed_at: r.confirmed_at,
                completed_at: r.completed_at,
                locked_at: r.locked_at,
            };
            (r.id, r.kind, progress, r.received > 0)
        })
        .collect())
}

/// The stages past their deadline in which `organization` has work not done.
pub async fn late_stages(
    db: &Db,
    cool: &CoolRecord,
    organization_id: &str,
    kind: OrganizationKind,
) -> AppResult<Vec<CoolStage>> {
    let today = db.clock().today_in_japan();
    let progress = super::lines::progress(db.pool(), &cool.id, organization_id).await?;
    let Some(organization) = crate::organizations::store::load(db.pool(), organization_id).await?
    else {
        return Ok(Vec::new());
    };
    let received = !super::lines::received_by(db.pool(), &cool.id, &organization)
        .await?
        .iter()
        .all(|l| l.boxes == 0);
    Ok(CoolStage::ALL
        .into_iter()
        .filter(|stage| today.as_str() > cool.deadline(*stage))
        .filter(|stage| done(kind, *stage, &progress, received) == Some(false))
        .collect())
}

/// Queues the reminders due today: for each cool whose stage deadline is tomorrow (Japan),
/// one mail to every active user of each organisation whose work in that stage is not done,
/// once. Returns how many organisations were reminded.
pub async fn send_due_reminders(db: &Db) -> AppResult<usize> {
    let today = crate::facilities::codes::parse_date("date", &db.clock().today_in_japan())?;
    let tomorrow = (today + time::Duration::days(1)).to_string();
    let mut reminded = 0;
    for cool in cools::list(db).await? {
        let stages: Vec<CoolStage> = CoolStage::ALL
            .into_iter()
            .filter(|s| *s != CoolStage::DesiredQuantity && cool.deadline(*s) == tomorrow)
            .collect();
        if stages.is_empty() {
            continue;
        }
        let standing = standing(db, &cool.id).await?;
        for stage in stages {
            for (organization_id, kind, progress, received) in &standing {
                if done(*kind, stage, progress, *received) != Some(false) {
                    continue;
                }
                if remind(db, &cool, stage, organization_id).await? {
                    reminded += 1;
                }
            }
        }
    }
    Ok(reminded)
}

/// Records and queues one organisation's reminder, unless it went out already.
async fn remind(
    db: &Db,
    cool: &CoolRecord,
    stage: CoolStage,
    organization_id: &str,
) -> AppResult<bool> {
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let inserted = sqlx::query(
        "INSERT INTO deadline_reminders (cool_id, stage, organization_id, sent_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (cool_id, stage, organization_id) DO NOTHING",
    )
    .bind(&cool.id)
    .bind(stage_key(stage))
    .bind(organization_id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    let users: Vec<(String,)> = sqlx::query_as(
        "SELECT email FROM users WHERE organization_id = $1 AND status = $2 ORDER BY username",
    )
    .bind(organization_id)
    .bind(crate::identity::UserStatus::Active.as_db())
    .fetch_all(tx.conn())
    .await?;
    let (ja, en) = stage_names(stage);
    let deadline = cool.deadline(stage);
    for (email,) in users {
        mail::enqueue(
            &mut tx,
            &Mail {
                to: email,
                subject: format!("【V-SYS】第{}クール {ja}の締切は明日です / Cool {} {en} is due tomorrow", cool.number, cool.number),
                body: format!(
                    "第{n}クールの「{ja}」の締切は {deadline} です。未了の作業があります。期限までに完了してください。\n\n\
                     The deadline of “{en}” in cool {n} is {deadline}, and your part of it is not done yet. Please complete it by then.\n",
                    n = cool.number
                ),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

fn stage_key(stage: CoolStage) -> &'static str {
    match stage {
        CoolStage::DesiredQuantity => "DESIRED_QUANTITY",
        CoolStage::NationAllocation => "NATION_ALLOCATION",
        CoolStage::PrefectureAllocation => "PREFECTURE_ALLOCATION",
        CoolStage::MunicipalityAllocation => "MUNICIPALITY_ALLOCATION",
        CoolStage::DataLock => "DATA_LOCK",
    }
}

fn stage_names(stage: CoolStage) -> (&'static str, &'static str) {
    match stage {
        CoolStage::DesiredQuantity => ("希望量登録", "desired quantities"),
        CoolStage::NationAllocation => (
            "国から都道府県への分配・確認",
            "the nation's allocation and its confirmation",
        ),
        CoolStage::PrefectureAllocation => (
            "都道府県から市区町村への分配作業",
            "the prefecture's allocation to municipalities",
        ),
        CoolStage::MunicipalityAllocation => (
            "市区町村の確認と医療機関への分配作業",
            "the municipality's confirmation and allocation to facilities",
        ),
        CoolStage::DataLock => ("データロック", "the data lock"),
    }
}

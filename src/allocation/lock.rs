//! The prefecture's check and data lock (seed p. 37, データロック): per municipality, 〇 when
//! what it received covers what it gave its facilities and X when not, and who has not
//! completed; the lock, only when every municipality that received something is complete and
//! 〇, makes the prefecture's part of the cool final and hands it to the deliverers.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use super::cools::CoolRecord;
use super::cycle::{self, LOCKED_TOPIC, reason};
use super::lines::{self, AllocationRecord, Stamp};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append_all};
use crate::organizations::{OrganizationKind, OrganizationRecord};

/// One municipality's line of the check.
#[derive(Debug, Clone)]
pub struct MunicipalityCheck {
    pub municipality_id: String,
    /// Per product id: (boxes received from the prefecture, boxes given to facilities).
    pub products: BTreeMap<String, (i64, i64)>,
    pub confirmed_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
}

impl MunicipalityCheck {
    /// 〇: for every product, what it received covers what it gave.
    pub fn balanced(&self) -> bool {
        self.products
            .values()
            .all(|(received, given)| received >= given)
    }

    /// Whether it received anything at all (a municipality with nothing has nothing to do).
    pub fn received_any(&self) -> bool {
        self.products.values().any(|(received, _)| *received > 0)
    }

    /// Whether it received something and has not completed its allocation to facilities.
    pub fn not_completed(&self) -> bool {
        self.received_any() && self.completed_at.is_none()
    }

    /// Whether it stands in the way of the lock: an X, or not completed.
    pub fn blocks_lock(&self) -> bool {
        !self.balanced() || self.not_completed()
    }
}

/// The check of a prefecture's municipalities (in `municipality_ids`' order) from the lines
/// of the prefecture and its organisations' progress.
fn check(
    all_lines: &[AllocationRecord],
    progress: &HashMap<String, lines::Progress>,
    municipality_ids: &[String],
) -> Vec<MunicipalityCheck> {
    let mut checks: BTreeMap<String, MunicipalityCheck> = municipality_ids
        .iter()
        .map(|id| {
            let stage = progress.get(id).cloned().unwrap_or_default();
            (
                id.clone(),
                MunicipalityCheck {
                    municipality_id: id.clone(),
                    products: BTreeMap::new(),
                    confirmed_at: stage.confirmed_at,
                    completed_at: stage.completed_at,
                },
            )
        })
        .collect();
    for line in all_lines {
        if let Some(check) = checks.get_mut(&line.recipient_id) {
            check.products.entry(line.product_id.clone()).or_default().0 += line.boxes;
        }
        if let Some(check) = checks.get_mut(&line.allocator_id) {
            check.products.entry(line.product_id.clone()).or_default().1 += line.boxes;
        }
    }
    municipality_ids
        .iter()
        .filter_map(|id| checks.remove(id))
        .collect()
}

/// Everything the check and the lock read about a prefecture's part of a cool.
pub struct PrefectureState {
    pub lines: Vec<AllocationRecord>,
    pub progress: HashMap<String, lines::Progress>,
    pub municipalities: Vec<MunicipalityCheck>,
}

/// Reads the prefecture's state (inside the lock's transaction, or from the pool for a query).
pub async fn prefecture_state(
    db: &Db,
    tx: Option<&mut crate::db::WriteTx>,
    cool_id: &str,
    prefecture_id: &str,
) -> AppResult<PrefectureState> {
    let municipality_ids = municipalities_of(db, prefecture_id).await?;
    let (all_lines, progress) = match tx {
        Some(tx) => (
            lines::in_prefecture(tx.conn(), cool_id, prefecture_id).await?,
            lines::progress_of_all(tx.conn(), cool_id, prefecture_id).await?,
        ),
        None => (
            lines::in_prefecture(db.pool(), cool_id, prefecture_id).await?,
            lines::progress_of_all(db.pool(), cool_id, prefecture_id).await?,
        ),
    };
    let municipalities = check(&all_lines, &progress, &municipality_ids);
    Ok(PrefectureState {
        lines: all_lines,
        progress,
        municipalities,
    })
}

/// The municipality ids of a prefecture, by code.
async fn municipalities_of(db: &Db, prefecture_id: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM organizations WHERE prefecture_id = $1 AND kind = $2 ORDER BY code",
    )
    .bind(prefecture_id)
    .bind(OrganizationKind::Municipality.as_db())
    .fetch_all(db.pool())
    .await?)
}

/// Locks the actor's prefecture's allocation of a cool (データロック). Refused (CHECK_FAILED,
/// with the municipalities in the way) unless the prefecture completed its own allocation and
/// every municipality that received something is complete and 〇. Audited, with one event per
/// municipality and facility that received something.
pub async fn lock(db: &Db, meta: &RequestMeta, actor: &Actor, cool_id: &str) -> AppResult<()> {
    let result = lock_checked(db, meta, actor, cool_id).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "lockAllocations",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn lock_checked(db: &Db, meta: &RequestMeta, actor: &Actor, cool_id: &str) -> AppResult<()> {
    let cool = cycle::cool(db, cool_id).await?;
    decide(
        Some(actor),
        Action::LockAllocations,
        Target::Organization(&actor.organization),
    )?;
    let prefecture_id = actor.organization.id.clone();
    let mut tx = db.begin_write().await?;
    let own = lines::hold_progress(&mut tx, &cool.id, &prefecture_id).await?;
    if own.locked_at.is_some() {
        return Err(AppError::refused(
            reason::DATA_LOCKED,
            "this cool is already locked / データロック済みです",
        ));
    }
    let state = prefecture_state(db, Some(&mut tx), &cool.id, &prefecture_id).await?;
    let blocking: Vec<_> = state
        .municipalities
        .iter()
        .filter(|m| m.blocks_lock())
        .map(|m| {
            json!({
                "municipalityId": m.municipality_id,
                "mark": if m.balanced() { "〇" } else { "X" },
                "completed": m.completed_at.is_some(),
            })
        })
        .collect();
    if own.completed_at.is_none() || !blocking.is_empty() {
        return Err(AppError::Refused {
            message: "the lock needs your own allocation complete and every municipality complete and 〇 / 全市区町村の分配作業完了と〇が必要です".into(),
            reason: reason::CHECK_FAILED,
            current: Some(json!({
                "prefectureCompleted": own.completed_at.is_some(),
                "municipalities": blocking,
            })),
        });
    }
    lines::stamp(
        &mut tx,
        &cool.id,
        &[&prefecture_id],
        Stamp::Locked,
        Some(&actor.user_id),
    )
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("lockAllocations", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .organization(&prefecture_id)
            .change(
                None,
                Some(json!({ "cool": cool.number, "lines": state.lines.len() })),
            ),
    )
    .await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    announce_locked(&mut tx, &cool, &prefecture_id, &state.lines).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends the lock's events for a prefecture's `lines`: one per municipality and facility that
/// received something, each with its own amounts (the facility learns them now, seed p. 43).
pub(super) async fn announce_locked(
    tx: &mut crate::db::WriteTx,
    cool: &CoolRecord,
    prefecture_id: &str,
    lines: &[AllocationRecord],
) -> AppResult<()> {
    let events: Vec<NewEvent> = received_by_recipient(lines, prefecture_id)
        .into_iter()
        .map(|(recipient_id, amounts)| NewEvent {
            topic: LOCKED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(recipient_id.clone()),
            payload: locked_payload(cool, prefecture_id, &recipient_id, amounts),
        })
        .collect();
    // A prefecture's lock tells a thousand facilities or more: a few statements of 200 events
    // (seven parameters each) instead of two statements per event.
    for chunk in events.chunks(200) {
        append_all(tx, chunk).await?;
    }
    Ok(())
}

/// The lines of each recipient below the prefecture that received something, by recipient.
fn received_by_recipient<'a>(
    all: &'a [AllocationRecord],
    prefecture_id: &str,
) -> BTreeMap<String, Vec<&'a AllocationRecord>> {
    let mut by: BTreeMap<String, Vec<&AllocationRecord>> = BTreeMap::new();
    for line in all
        .iter()
        .filter(|l| l.recipient_id != prefecture_id && l.boxes > 0)
    {
        by.entry(line.recipient_id.clone()).or_default().push(line);
    }
    by
}

fn locked_payload(
    cool: &CoolRecord,
    prefecture_id: &str,
    recipient_id: &str,
    amounts: Vec<&AllocationRecord>,
) -> serde_json::Value {
    let amounts: Vec<_> = amounts
        .iter()
        .map(|l| json!({ "productId": l.product_id, "boxes": l.boxes, "doses": l.doses() }))
        .collect();
    json!({
        "coolId": cool.id, "coolNumber": cool.number, "prefectureId": prefecture_id,
        "organizationId": recipient_id, "amounts": amounts,
    })
}

/// Whether lines to `recipient` are locked in a cool.
pub async fn is_locked(db: &Db, cool_id: &str, recipient: &OrganizationRecord) -> AppResult<bool> {
    match lines::lock_scope_of(recipient) {
        Some(prefecture_id) => Ok(lines::progress(db.pool(), cool_id, prefecture_id)
            .await?
            .locked_at
            .is_some()),
        None => Ok(false),
    }
}

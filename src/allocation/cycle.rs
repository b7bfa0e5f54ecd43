//! The allocation cycle's state machine (domain.md §5 stages 3–7, seed pp. 31–37): setting an
//! amount by hand, confirming what one received (確認済), completing what one gave
//! (分配作業完了) and the prefecture's data lock (データロック).
//!
//! The rules, each enforced here and nowhere else:
//! - amounts are whole boxes, and nobody gives more than it received;
//! - an organisation allocates down only after confirming what it received (the nation
//!   receives the registered supply and confirms nothing);
//! - a changed amount clears the recipient's confirmation and the allocator's completion;
//! - after a prefecture's lock nothing in its part of the cool changes (`DATA_LOCKED`).

use serde_json::json;

use super::cools::{self, CoolRecord};
use super::lines::{self, AllocationRecord, NewLine, Stamp};
use super::products::{self, ProductRecord};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, WriteTx};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::facilities::scope_of;
use crate::organizations::{OrganizationKind, OrganizationRecord, store as organizations};

/// An amount was proposed (pre-filled) for the organisation, or for the facilities of a
/// municipality. Administration only: a facility sees nothing before the lock.
pub const PROPOSED_TOPIC: &str = "allocation.proposed";
/// An amount was set by hand.
pub const CHANGED_TOPIC: &str = "allocation.changed";
/// A prefecture or municipality confirmed what it received.
pub const CONFIRMED_TOPIC: &str = "allocation.confirmed";
/// An organisation completed its allocation down.
pub const COMPLETED_TOPIC: &str = "allocation.completed";
/// A prefecture locked the cool: one event for each of its municipalities and facilities that
/// received something, so that each learns it in its own area (facilities: from now on).
pub const LOCKED_TOPIC: &str = "allocation.locked";

/// Most boxes one line may hold (far above a national cool).
pub const MAX_BOXES: i64 = 10_000_000;

/// Refusal reasons (`extensions.reason`).
pub mod reason {
    /// The prefecture locked this cool; nothing in its area changes any more.
    pub const DATA_LOCKED: &str = "DATA_LOCKED";
    /// The version given is not the line's current one (`extensions.current` has it).
    pub const STALE_VERSION: &str = "STALE_VERSION";
    /// The organisation has not confirmed what it received, so it cannot allocate it yet.
    pub const NOT_CONFIRMED: &str = "NOT_CONFIRMED";
    pub const ALREADY_CONFIRMED: &str = "ALREADY_CONFIRMED";
    pub const ALREADY_COMPLETED: &str = "ALREADY_COMPLETED";
    /// The lock needs every municipality complete and 〇 (`extensions.current` lists them).
    pub const CHECK_FAILED: &str = "CHECK_FAILED";
    pub const NOTHING_RECEIVED: &str = "NOTHING_RECEIVED";
}

pub fn data_locked() -> AppError {
    AppError::refused(
        reason::DATA_LOCKED,
        "the prefecture has locked this cool's allocation / データロック済みのため変更できません",
    )
}

/// Loads a cool or NOT_FOUND.
pub async fn cool(db: &Db, cool_id: &str) -> AppResult<CoolRecord> {
    cools::by_id(db.pool(), cool_id)
        .await?
        .ok_or(AppError::NotFound("cool"))
}

/// The product of a line of `cool`: its vaccine by default, or needles or syringes by code.
pub async fn line_product(
    db: &Db,
    cool: &CoolRecord,
    product_code: Option<&str>,
) -> AppResult<ProductRecord> {
    let product = match product_code {
        None => products::by_id(db.pool(), &cool.product_id).await?,
        Some(code) => products::by_code(db.pool(), code.trim().to_uppercase().as_str()).await?,
    }
    .ok_or_else(products::unknown_code)?;
    if !lines::is_line_of(&product, &cool.product_id) {
        return Err(AppError::invalid_field(
            "productCode",
            "the cool allocates another vaccine / このクールの対象ワクチンではありません",
        ));
    }
    Ok(product)
}

/// Takes the progress rows a change under `prefecture_id` by `allocator_id` needs, prefecture
/// first (the one order every writer follows), and refuses when the prefecture has locked.
/// Returns the allocator's progress.
async fn hold_for_change(
    tx: &mut WriteTx,
    cool_id: &str,
    prefecture_id: &str,
    allocator_id: &str,
    allocator_kind: OrganizationKind,
) -> AppResult<lines::Progress> {
    let prefecture = lines::take_lock_scope(tx, cool_id, prefecture_id, allocator_kind).await?;
    if prefecture.locked_at.is_some() {
        return Err(data_locked());
    }
    if allocator_id == prefecture_id {
        Ok(prefecture)
    } else {
        lines::hold_progress(tx, cool_id, allocator_id).await
    }
}

/// Whether `allocator` may allocate now: the nation always; others once they confirmed what
/// they received.
fn require_confirmed(allocator: &OrganizationRecord, progress: &lines::Progress) -> AppResult<()> {
    if allocator.kind() == OrganizationKind::Nation || progress.confirmed_at.is_some() {
        Ok(())
    } else {
        Err(AppError::refused(
            reason::NOT_CONFIRMED,
            "confirm what you received before allocating it / 受領した配分量を確認してから配分してください",
        ))
    }
}

/// An amount to set by hand.
pub struct SetAllocation<'a> {
    pub cool_id: &'a str,
    pub recipient_id: &'a str,
    pub product_code: Option<&'a str>,
    pub boxes: i64,
    pub expected_version: Option<i64>,
}

/// Sets the boxes of one line by hand (`setAllocation`). Audited, with its event; a refusal
/// is audited and changes nothing.
pub async fn set(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: SetAllocation<'_>,
) -> AppResult<AllocationRecord> {
    let result = set_checked(db, meta, actor, &input).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "setAllocation",
        Some(input.recipient_id),
        result,
    )
    .await
}

async fn set_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: &SetAllocation<'_>,
) -> AppResult<AllocationRecord> {
    let cool = cool(db, input.cool_id).await?;
    let recipient = organizations::load(db.pool(), input.recipient_id)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    let allocator_id = lines::allocator_of(&recipient).ok_or_else(lines::not_a_recipient)?;
    decide(
        Some(actor),
        Action::Allocate,
        Target::Allocation {
            recipient: &scope_of(&recipient),
            allocator: allocator_id,
        },
    )?;
    if recipient.supply() == crate::organizations::SupplyType::Satellite {
        return Err(AppError::invalid_field(
            "recipientId",
            "a satellite facility is supplied through its basic-type facility / サテライト型施設には基本型施設を通じて配分します",
        ));
    }
    let product = line_product(db, &cool, input.product_code).await?;
    if !(0..=MAX_BOXES).contains(&input.boxes) {
        return Err(AppError::invalid_field(
            "boxes",
            "0 to 10,000,000 whole boxes / 0〜10,000,000箱の整数で入力してください",
        ));
    }
    let allocator = organizations::load(db.pool(), allocator_id)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    let prefecture_id = lines::lock_scope_of(&recipient).ok_or_else(lines::not_a_recipient)?;

    let mut tx = db.begin_write().await?;
    let progress = hold_for_change(
        &mut tx,
        &cool.id,
        prefecture_id,
        &allocator.id,
        allocator.kind(),
    )
    .await?;
    require_confirmed(&allocator, &progress)?;
    let before = lines::line(tx.conn(), &cool.id, &product.id, &recipient).await?;
    if let Some(line) = &before
        && input.expected_version != Some(line.version)
    {
        return Err(AppError::Refused {
            message: "someone changed this amount meanwhile; here is the current one / 他の利用者が先に変更しました。最新の値を確認してください".into(),
            reason: reason::STALE_VERSION,
            current: Some(line.current()),
        });
    }
    let received = lines::received(tx.conn(), &cool.id, &product.id, &allocator).await?;
    let others = lines::given_except(
        tx.conn(),
        &cool.id,
        &product.id,
        &allocator.id,
        &recipient.id,
    )
    .await?;
    if others + input.boxes > received {
        return Err(AppError::invalid_field(
            "boxes",
            format!(
                "more than received: {received} boxes received, {others} already given to others / 受領量（{received}箱）を超えて配分できません（他への配分 {others}箱）"
            ),
        ));
    }
    let changed = lines::write_lines(
        &mut tx,
        &cool.id,
        &allocator.id,
        &actor.user_id,
        &[NewLine {
            product: &product,
            recipient_id: &recipient.id,
            boxes: input.boxes,
        }],
    )
    .await?;
    if !changed.is_empty() {
        lines::withdraw_after_change(&mut tx, &cool.id, &allocator.id, &[&recipient.id]).await?;
    }
    let record = lines::line(tx.conn(), &cool.id, &product.id, &recipient)
        .await?
        .ok_or(AppError::NotFound("allocation"))?;
    let view = |boxes: i64| json!({ "cool": cool.number, "product": product.code, "boxes": boxes });
    audit::record(
        &mut tx,
        meta,
        Entry::new("setAllocation", Outcome::Success, Some(actor))
            .object("Allocation", &record.id)
            .organization(&recipient.id)
            .change(
                before.as_ref().map(|l| view(l.boxes)),
                Some(view(input.boxes)),
            ),
    )
    .await?;
    // Last in the transaction: the event sequence row stays locked from here to the commit.
    append(
        &mut tx,
        &NewEvent {
            topic: CHANGED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(recipient.id.clone()),
            payload: line_payload(&cool, &product, &allocator.id, &recipient.id, &record),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// What an allocation event says about one line.
pub fn line_payload(
    cool: &CoolRecord,
    product: &ProductRecord,
    allocator_id: &str,
    recipient_id: &str,
    line: &AllocationRecord,
) -> serde_json::Value {
    json!({
        "coolId": cool.id, "coolNumber": cool.number, "productCode": product.code,
        "allocatorId": allocator_id, "recipientId": recipient_id,
        "boxes": line.boxes, "doses": line.doses(), "version": line.version,
    })
}

/// Confirms what the actor's organisation received in a cool (確認済). Audited, with its
/// event; confirming twice is CONFLICT.
pub async fn confirm(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
) -> AppResult<Vec<AllocationRecord>> {
    let result = confirm_checked(db, meta, actor, cool_id).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "confirmAllocation",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn confirm_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
) -> AppResult<Vec<AllocationRecord>> {
    let cool = cool(db, cool_id).await?;
    decide(
        Some(actor),
        Action::ConfirmAllocation,
        Target::Organization(&actor.organization),
    )?;
    let own = &actor.organization.id;
    let prefecture_id = actor
        .organization
        .prefecture_id
        .as_deref()
        .ok_or(AppError::Forbidden)?;
    // Read before the transaction: its lines are found through the organisation above it,
    // which does not change in a cool (and SQLite's writer is not held for the read).
    let organization = organizations::load(db.pool(), own)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    let mut tx = db.begin_write().await?;
    let progress = hold_for_change(
        &mut tx,
        &cool.id,
        prefecture_id,
        own,
        actor.organization.kind,
    )
    .await?;
    if progress.confirmed_at.is_some() {
        return Err(AppError::refused(
            reason::ALREADY_CONFIRMED,
            "already confirmed / 確認済みです",
        ));
    }
    let received = lines::received_by(tx.conn(), &cool.id, &organization).await?;
    if received.is_empty() {
        return Err(AppError::refused(
            reason::NOTHING_RECEIVED,
            "nothing has been allocated to you in this cool yet / このクールの配分はまだありません",
        ));
    }
    lines::stamp(
        &mut tx,
        &cool.id,
        &[own],
        Stamp::Confirmed,
        Some(&actor.user_id),
    )
    .await?;
    let amounts: Vec<_> = received
        .iter()
        .map(|l| json!({ "productId": l.product_id, "boxes": l.boxes, "version": l.version }))
        .collect();
    audit::record(
        &mut tx,
        meta,
        Entry::new("confirmAllocation", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .organization(own)
            .change(
                None,
                Some(json!({ "cool": cool.number, "received": amounts })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &NewEvent {
            topic: CONFIRMED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(own.clone()),
            payload: json!({
                "coolId": cool.id, "coolNumber": cool.number, "organizationId": own,
                "received": amounts,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(received)
}

/// Marks the actor's allocation down complete (分配作業完了). Audited, with its event;
/// completing twice is CONFLICT.
pub async fn complete(db: &Db, meta: &RequestMeta, actor: &Actor, cool_id: &str) -> AppResult<()> {
    let result = complete_checked(db, meta, actor, cool_id).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "completeAllocation",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn complete_checked(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
) -> AppResult<()> {
    let cool = cool(db, cool_id).await?;
    decide(
        Some(actor),
        Action::CompleteAllocation,
        Target::Organization(&actor.organization),
    )?;
    let own = organizations::load(db.pool(), &actor.organization.id)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    let mut tx = db.begin_write().await?;
    let progress = match own.prefecture_id.as_deref() {
        Some(prefecture_id) => {
            hold_for_change(&mut tx, &cool.id, prefecture_id, &own.id, own.kind()).await?
        }
        None => lines::hold_progress(&mut tx, &cool.id, &own.id).await?,
    };
    require_confirmed(&own, &progress)?;
    if progress.completed_at.is_some() {
        return Err(AppError::refused(
            reason::ALREADY_COMPLETED,
            "already marked complete / 分配作業完了済みです",
        ));
    }
    let given = lines::given_by(tx.conn(), &cool.id, &own.id).await?;
    lines::stamp(
        &mut tx,
        &cool.id,
        &[&own.id],
        Stamp::Completed,
        Some(&actor.user_id),
    )
    .await?;
    let total: i64 = given.iter().map(|l| l.boxes).sum();
    audit::record(
        &mut tx,
        meta,
        Entry::new("completeAllocation", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .organization(&own.id)
            .change(
                None,
                Some(json!({ "cool": cool.number, "lines": given.len(), "boxes": total })),
            ),
    )
    .await?;
    append(
        &mut tx,
        &NewEvent {
            topic: COMPLETED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(own.id.clone()),
            payload: json!({
                "coolId": cool.id, "coolNumber": cool.number, "organizationId": own.id,
                "lines": given.len(), "boxes": total,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

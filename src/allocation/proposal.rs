//! Proposals (domain.md §5 stages 3–6, seed pp. 31–36): the system pre-fills every child's
//! amount from what the allocating organisation received, by the weights it chooses, in whole
//! boxes by the largest-remainder method; needles and syringes follow the vaccine. The same
//! computation serves the simulation (分配シミュレーション), which writes nothing, and
//! `proposeAllocations`, which stores it.

use std::collections::{BTreeMap, HashMap};

use async_graphql::Enum;
use serde_json::json;

use super::apportion::{apportion, boxes_for_doses, follow_on_boxes};
use super::cools::CoolRecord;
use super::cycle::{self, PROPOSED_TOPIC};
use super::lines::{self, NewLine};
use super::products::{self, ProductKind, ProductRecord};
use crate::actor::{Actor, RequestMeta, Role};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, AreaFilter, Target, decide};
use crate::db::{Backend, Db, Filter, WriteTx};
use crate::error::{AppError, AppResult};
use crate::events::{Deferred, GroupedWrites, NewEvent, Visibility};
use crate::facilities::scope_of;
use crate::facilities::{EligibilityReason, eligibility_in};
use crate::organizations::{OrganizationKind, OrganizationRecord, SupplyType, store};

/// What a proposal divides by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Weighting {
    /// Residents (prefectures and municipalities). V-SYS proposed about 80% of the national
    /// amount by population, the rest kept as an adjustment share.
    Population,
    /// The desired quantities (希望量) registered for the cool, summed over the child's area.
    DesiredQuantity,
    /// Weekly vaccination capacity of the eligible facilities, summed over the child's area.
    Capacity,
    /// Stock on hand and usage rate: what each would use in the next 14 days at its recent
    /// rate beyond the doses it holds (the shortfall), summed over the child's area.
    StockAndUsage,
    /// Every eligible child the same.
    Equal,
}

/// Why a child gets nothing from a proposal.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Exclusion {
    /// No vaccination contract is in force today.
    NoCurrentContract,
    /// A special venue without a responsible doctor.
    NoResponsibleDoctor,
    /// A special venue without a vaccinating doctor.
    NoVaccinatingDoctor,
    /// The facility does not handle the cool's vaccine.
    VaccineNotHandled,
    /// A satellite facility, supplied through its basic-type facility.
    SuppliedThroughBasicFacility,
}

impl From<EligibilityReason> for Exclusion {
    fn from(reason: EligibilityReason) -> Self {
        match reason {
            EligibilityReason::NoCurrentContract => Exclusion::NoCurrentContract,
            EligibilityReason::NoResponsibleDoctor => Exclusion::NoResponsibleDoctor,
            EligibilityReason::NoVaccinatingDoctor => Exclusion::NoVaccinatingDoctor,
        }
    }
}

/// A warning a proposal carries (codes are stable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// How to propose.
#[derive(Debug, Clone)]
pub struct ProposalSpec {
    pub weighting: Weighting,
    /// Percent of the vaccine kept back for adjustment by hand (0–50).
    pub adjustment_percent: u32,
    /// Vaccine boxes fixed by hand for some children (by organisation id).
    pub overrides: Vec<(String, i64)>,
}

/// One child of a proposal.
#[derive(Debug, Clone)]
pub struct ProposedChild {
    pub organization: OrganizationRecord,
    pub weight: u64,
    pub exclusions: Vec<Exclusion>,
    /// Whether its vaccine amount was fixed by an override.
    pub overridden: bool,
    /// Boxes per product id.
    pub boxes: BTreeMap<String, i64>,
}

/// One product's totals.
#[derive(Debug, Clone)]
pub struct ProductTotal {
    pub product: ProductRecord,
    pub received: i64,
    pub allocated: i64,
}

/// A computed proposal.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub allocator: OrganizationRecord,
    pub children: Vec<ProposedChild>,
    pub totals: Vec<ProductTotal>,
    pub warnings: Vec<Warning>,
}

/// Computes the proposal of the actor's organisation for a cool (the simulation). Reads only.
pub async fn simulate(
    db: &Db,
    actor: &Actor,
    cool: &CoolRecord,
    spec: &ProposalSpec,
) -> AppResult<Proposal> {
    // The role decides, not the organisation's kind: a municipality's call centre or
    // aggregator office shares the municipality's organisation but allocates nothing.
    if !matches!(
        actor.role,
        Role::Nation | Role::Prefecture | Role::Municipality
    ) {
        return Err(AppError::Forbidden);
    }
    let allocator = store::load(db.pool(), &actor.organization.id)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    if !matches!(
        allocator.kind(),
        OrganizationKind::Nation | OrganizationKind::Prefecture | OrganizationKind::Municipality
    ) {
        return Err(AppError::Forbidden);
    }
    if !(0..=50).contains(&spec.adjustment_percent) {
        return Err(AppError::invalid_field(
            "adjustmentPercent",
            "0 to 50 percent / 0〜50%",
        ));
    }
    let children = store::allocation_children(db, &allocator).await?;
    let known: HashMap<&str, &OrganizationRecord> =
        children.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut overrides: HashMap<String, i64> = HashMap::new();
    for (id, boxes) in &spec.overrides {
        let Some(child) = known.get(id.as_str()) else {
            return Err(AppError::invalid_field(
                "overrides",
                "an override names an organisation you do not allocate to / 配分先ではない組織が含まれています",
            ));
        };
        if !(0..=cycle::MAX_BOXES).contains(boxes) {
            return Err(AppError::invalid_field(
                "overrides",
                "0 to 10,000,000 whole boxes / 0〜10,000,000箱の整数で入力してください",
            ));
        }
        decide(
            Some(actor),
            Action::Allocate,
            Target::Allocation {
                recipient: &scope_of(child),
                allocator: &allocator.id,
            },
        )?;
        if overrides.insert(id.clone(), *boxes).is_some() {
            return Err(AppError::invalid_field(
                "overrides",
                "one override per organisation / 同じ配分先が重複しています",
            ));
        }
    }
    // The cool's vaccine and the needles and syringes that follow it, from one read.
    let (vaccine, others): (Vec<ProductRecord>, Vec<ProductRecord>) = products::list(db, None)
        .await?
        .into_iter()
        .partition(|p| p.id == cool.product_id);
    let vaccine = vaccine
        .into_iter()
        .next()
        .ok_or(AppError::NotFound("product"))?;
    let follow_ons: Vec<ProductRecord> = others
        .into_iter()
        .filter(|p| matches!(p.kind, ProductKind::Needle | ProductKind::Syringe))
        .collect();
    let received = lines::received_all(db.pool(), &cool.id, &allocator).await?;
    let weights = weights_of(db, cool, &vaccine, &allocator, &children, spec.weighting).await?;
    Ok(compute(
        allocator,
        children,
        weights,
        &vaccine,
        &follow_ons,
        &received,
        spec,
        &overrides,
    ))
}

/// Each child's weight and why it is excluded (weight 0), in the children's order.
async fn weights_of(
    db: &Db,
    cool: &CoolRecord,
    vaccine: &ProductRecord,
    allocator: &OrganizationRecord,
    children: &[OrganizationRecord],
    weighting: Weighting,
) -> AppResult<Vec<(u64, Vec<Exclusion>)>> {
    let to_facilities = allocator.kind() == OrganizationKind::Municipality;
    if to_facilities && weighting == Weighting::Population {
        return Err(AppError::invalid_field(
            "weighting",
            "facilities have no population: weigh by CAPACITY, DESIRED_QUANTITY or EQUAL / 医療機関への配分は人口以外で按分してください",
        ));
    }
    let mut exclusions: Vec<Vec<Exclusion>> = vec![Vec::new(); children.len()];
    if to_facilities {
        let ids: Vec<(String, _)> = children
            .iter()
            .map(|c| (c.id.clone(), c.facility_type))
            .collect();
        let area = AreaFilter::Municipality(allocator.id.clone());
        let eligibility = eligibility_in(db, &area, &ids).await?;
        for (child, excluded) in children.iter().zip(exclusions.iter_mut()) {
            if child.supply() == SupplyType::Satellite {
                excluded.push(Exclusion::SuppliedThroughBasicFacility);
            }
            if let Some(verdict) = eligibility.get(&child.id) {
                excluded.extend(verdict.reasons.iter().copied().map(Exclusion::from));
            }
            if !child.vaccines().iter().any(|code| code == &vaccine.code) {
                excluded.push(Exclusion::VaccineNotHandled);
            }
        }
    }
    let area_column = match allocator.kind() {
        OrganizationKind::Nation => "prefecture_id",
        OrganizationKind::Prefecture => "municipality_id",
        _ => "id",
    };
    // The allocator's whole area: what a child's weight is summed over.
    let area = match allocator.kind() {
        OrganizationKind::Nation => AreaFilter::Everywhere,
        OrganizationKind::Prefecture => AreaFilter::Prefecture(allocator.id.clone()),
        _ => AreaFilter::Municipality(allocator.id.clone()),
    };
    let sums: HashMap<String, i64> = match weighting {
        Weighting::Population | Weighting::Equal => HashMap::new(),
        Weighting::DesiredQuantity => {
            let mut filter = Filter::default();
            filter.and("d.cool_id = ?", [cool.id.clone()]);
            sum_by_area(
                db,
                area_column,
                &area,
                "d.boxes",
                "desired_quantities d JOIN organizations o ON o.id = d.facility_id",
                filter,
            )
            .await?
        }
        Weighting::Capacity => {
            let mut filter = Filter::default();
            filter.and("f.weekly_capacity IS NOT NULL", []);
            sum_by_area(
                db,
                area_column,
                &area,
                "f.weekly_capacity",
                "facilities f JOIN organizations o ON o.id = f.organization_id",
                filter,
            )
            .await?
        }
        Weighting::StockAndUsage => {
            let ledgers = super::stock::ledgers_in(db, &area, &vaccine.id).await?;
            let facilities = store::facility_areas(db, &area).await?;
            let mut sums: HashMap<String, i64> = HashMap::new();
            for (facility, ledger) in ledgers {
                let Some((prefecture, municipality)) = facilities.get(&facility) else {
                    continue;
                };
                let key = match area_column {
                    "prefecture_id" => prefecture.clone(),
                    "municipality_id" => municipality.clone(),
                    _ => facility,
                };
                *sums.entry(key).or_default() += ledger.shortfall();
            }
            sums
        }
    };
    Ok(children
        .iter()
        .zip(exclusions)
        .map(|(child, excluded)| {
            let weight = if !excluded.is_empty() {
                0
            } else {
                match weighting {
                    Weighting::Population => child.population.unwrap_or(0),
                    Weighting::Equal => 1,
                    _ => sums.get(&child.id).copied().unwrap_or(0),
                }
            };
            (u64::try_from(weight).unwrap_or(0), excluded)
        })
        .collect())
}

/// Sums `sum` per child area (`o.{area_column}`) over the rows of `from` (organisations aliased
/// `o`) in `area` that pass `filter`, with one grouped statement.
async fn sum_by_area(
    db: &Db,
    area_column: &str,
    area: &AreaFilter,
    sum: &str,
    from: &str,
    mut filter: Filter,
) -> AppResult<HashMap<String, i64>> {
    if let Some((condition, value)) = area.condition("o") {
        filter.and(&condition, [value]);
    }
    let sql = format!(
        "SELECT o.{area_column} AS area, CAST(SUM({sum}) AS BIGINT) AS total FROM {from}{} \
         GROUP BY o.{area_column}",
        filter.where_clause()
    );
    let rows: Vec<(Option<String>, Option<i64>)> = filter
        .bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(area, total)| Some((area?, total.unwrap_or(0))))
        .collect())
}

/// The arithmetic of a proposal, pure: overrides first, the adjustment share held back, the
/// rest apportioned by weight; needles and syringes follow each child's vaccine doses, capped
/// at what the allocator received of them.
#[allow(clippy::too_many_arguments)]
fn compute(
    allocator: OrganizationRecord,
    children: Vec<OrganizationRecord>,
    weights: Vec<(u64, Vec<Exclusion>)>,
    vaccine: &ProductRecord,
    follow_ons: &[ProductRecord],
    received: &HashMap<String, i64>,
    spec: &ProposalSpec,
    overrides: &HashMap<String, i64>,
) -> Proposal {
    let mut warnings = Vec::new();
    let vaccine_received = received.get(&vaccine.id).copied().unwrap_or(0).max(0);
    if vaccine_received == 0 {
        warnings.push(Warning {
            code: "NOTHING_RECEIVED",
            message: "nothing of the vaccine has been received to allocate / 配分可能なワクチンがありません".into(),
        });
    }
    let fixed: i64 = overrides.values().sum();
    if fixed > vaccine_received {
        warnings.push(Warning {
            code: "OVER_RECEIVED",
            message: format!(
                "the overrides give {fixed} boxes but {vaccine_received} were received / 指定量の合計が受領量を超えています"
            ),
        });
    }
    let free = (vaccine_received - fixed).max(0);
    let held = free * i64::from(spec.adjustment_percent) / 100;
    if held > 0 {
        warnings.push(Warning {
            code: "ADJUSTMENT_HELD",
            message: format!("{held} boxes are kept back for adjustment by hand / {held}箱を調整枠として残しています"),
        });
    }
    let weighted: Vec<(usize, u64)> = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| !overrides.contains_key(&children[*i].id))
        .map(|(i, (w, _))| (i, *w))
        .collect();
    if free - held > 0 && weighted.iter().all(|(_, w)| *w == 0) {
        warnings.push(Warning {
            code: "NO_WEIGHTS",
            message: "no child has a weight to divide by; nothing was proposed / 按分の基準となる値がありません".into(),
        });
    }
    let shares = apportion(u64::try_from(free - held).unwrap_or(0), &weighted);
    let mut vaccine_boxes: Vec<i64> = vec![0; children.len()];
    for (i, boxes) in shares {
        vaccine_boxes[i] = i64::try_from(boxes).unwrap_or(i64::MAX);
    }
    for (i, child) in children.iter().enumerate() {
        if let Some(boxes) = overrides.get(&child.id) {
            vaccine_boxes[i] = *boxes;
        }
    }
    let mut boxes: Vec<BTreeMap<String, i64>> = vaccine_boxes
        .iter()
        .map(|b| BTreeMap::from([(vaccine.id.clone(), *b)]))
        .collect();
    let mut totals = vec![ProductTotal {
        product: vaccine.clone(),
        received: vaccine_received,
        allocated: vaccine_boxes.iter().sum(),
    }];
    let per_child: Vec<(usize, u64)> = vaccine_boxes
        .iter()
        .enumerate()
        .map(|(i, b)| (i, u64::try_from(*b).unwrap_or(0)))
        .collect();
    for product in follow_ons {
        let got = received.get(&product.id).copied().unwrap_or(0).max(0);
        let amounts = follow_on_boxes(
            &per_child,
            u64::try_from(vaccine.doses_per_box()).unwrap_or(0),
            u64::try_from(product.doses_per_box()).unwrap_or(1),
            u64::try_from(got).unwrap_or(0),
        );
        let needed: i64 = per_child
            .iter()
            .map(|(_, b)| {
                let doses = b.saturating_mul(u64::try_from(vaccine.doses_per_box()).unwrap_or(0));
                let per_box = u64::try_from(product.doses_per_box()).unwrap_or(1);
                i64::try_from(boxes_for_doses(doses, per_box)).unwrap_or(i64::MAX)
            })
            .sum();
        if needed > got && needed > 0 {
            warnings.push(Warning {
                code: "FOLLOW_ON_SHORT",
                message: format!(
                    "{}: {needed} boxes are needed for the vaccine but {got} were received; divided by need / {}が不足しています",
                    product.code, product.name
                ),
            });
        }
        let mut allocated = 0;
        for (i, amount) in amounts {
            let amount = i64::try_from(amount).unwrap_or(0);
            allocated += amount;
            boxes[i].insert(product.id.clone(), amount);
        }
        totals.push(ProductTotal {
            product: product.clone(),
            received: got,
            allocated,
        });
    }
    let children = children
        .into_iter()
        .zip(weights)
        .zip(boxes)
        .map(
            |((organization, (weight, exclusions)), boxes)| ProposedChild {
                overridden: overrides.contains_key(&organization.id),
                organization,
                weight,
                exclusions,
                boxes,
            },
        )
        .collect();
    Proposal {
        allocator,
        children,
        totals,
        warnings,
    }
}

/// Computes and stores the proposal of the actor's organisation (`proposeAllocations`),
/// replacing its current amounts. Refused when it would give more than received, before the
/// actor confirmed what it received, or after the lock. Audited, with events.
pub async fn propose(
    db: &Db,
    writes: &GroupedWrites,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    spec: &ProposalSpec,
) -> AppResult<Proposal> {
    let result = propose_checked(db, writes, meta, actor, cool_id, spec).await;
    audit::record_if_refused(
        db,
        meta,
        actor,
        "proposeAllocations",
        Some(actor.organization.id.as_str()),
        result,
    )
    .await
}

async fn propose_checked(
    db: &Db,
    writes: &GroupedWrites,
    meta: &RequestMeta,
    actor: &Actor,
    cool_id: &str,
    spec: &ProposalSpec,
) -> AppResult<Proposal> {
    let cool = cycle::cool(db, cool_id).await?;
    let proposal = simulate(db, actor, &cool, spec).await?;
    if let Some(over) = proposal.warnings.iter().find(|w| w.code == "OVER_RECEIVED") {
        return Err(AppError::invalid_field("overrides", over.message.clone()));
    }
    let how = json!({
        "cool": cool.number, "weighting": format!("{:?}", spec.weighting),
        "adjustmentPercent": spec.adjustment_percent, "overrides": spec.overrides.len(),
    });
    match db.backend() {
        // SQLite writes one transaction at a time on one connection: proposals that arrive
        // together (the officers of many municipalities on the same day) are written in one
        // transaction, each in its own savepoint, and share its commit — the same order of
        // writes, fewer commits (docs/performance.md, allocation).
        Backend::Sqlite => {
            let (meta, actor) = (meta.clone(), actor.clone());
            writes
                .write(move |tx, deferred| {
                    Box::pin(async move {
                        store(tx, deferred, &meta, &actor, &cool, how, proposal).await
                    })
                })
                .await
        }
        // On PostgreSQL each proposal is its own transaction, for now. A group would hold
        // the rows of several prefectures at once, in the order its proposals arrived, and
        // could deadlock with the nation's proposal, which takes every prefecture's row in
        // its own order; grouping there needs a retry of the unit PostgreSQL picks as the
        // deadlock's victim. It would pay: the event sequence row, held from each append to
        // its commit, makes concurrent proposals commit one after another
        // (docs/performance.md, allocation, tenth session).
        Backend::Postgres => {
            let mut tx = db.begin_write().await?;
            let mut deferred = Deferred::default();
            let proposal = store(&mut tx, &mut deferred, meta, actor, &cool, how, proposal).await?;
            deferred.write(&mut tx).await?;
            tx.commit().await?;
            Ok(proposal)
        }
    }
}

/// Stores a computed proposal in `tx`, after the checks that must see the latest commit (the
/// lock, the confirmation), leaving its audit entry and events to `deferred`.
async fn store(
    tx: &mut WriteTx,
    deferred: &mut Deferred,
    meta: &RequestMeta,
    actor: &Actor,
    cool: &CoolRecord,
    mut audited: serde_json::Value,
    proposal: Proposal,
) -> AppResult<Proposal> {
    let allocator = &proposal.allocator;
    // The lock is per prefecture: the nation's proposal touches every prefecture's line.
    let prefectures: Vec<String> = match allocator.kind() {
        OrganizationKind::Nation => proposal
            .children
            .iter()
            .map(|c| c.organization.id.clone())
            .collect(),
        _ => allocator.prefecture_id.iter().cloned().collect(),
    };
    let mut progress = lines::Progress::default();
    for prefecture_id in &prefectures {
        let held = lines::take_lock_scope(tx, &cool.id, prefecture_id, allocator.kind()).await?;
        if held.locked_at.is_some() {
            return Err(cycle::data_locked());
        }
        if prefecture_id == &allocator.id {
            progress = held;
        }
    }
    if allocator.kind() != OrganizationKind::Prefecture {
        progress = lines::hold_progress(tx, &cool.id, &allocator.id).await?;
    }
    if allocator.kind() != OrganizationKind::Nation && progress.confirmed_at.is_none() {
        return Err(AppError::refused(
            cycle::reason::NOT_CONFIRMED,
            "confirm what you received before allocating it / 受領した配分量を確認してから配分してください",
        ));
    }
    let new_lines: Vec<NewLine> = proposal
        .children
        .iter()
        .flat_map(|child| {
            proposal.totals.iter().map(move |total| NewLine {
                product: &total.product,
                recipient_id: &child.organization.id,
                boxes: child.boxes.get(&total.product.id).copied().unwrap_or(0),
            })
        })
        .collect();
    let changed =
        lines::write_lines(tx, &cool.id, &allocator.id, &actor.user_id, &new_lines).await?;
    if !changed.is_empty() {
        let ids: Vec<&str> = changed.iter().map(String::as_str).collect();
        lines::withdraw_after_change(tx, &cool.id, &allocator.id, &ids).await?;
    }
    let totals: Vec<_> = proposal
        .totals
        .iter()
        .map(|t| json!({ "product": t.product.code, "received": t.received, "allocated": t.allocated }))
        .collect();
    audited["changed"] = json!(changed.len());
    audited["totals"] = json!(totals);
    deferred.audit(
        meta,
        Entry::new("proposeAllocations", Outcome::Success, Some(actor))
            .object("Cool", &cool.id)
            .organization(&allocator.id)
            .change(None, Some(audited)),
    );
    // A prefecture or municipality hears of its own proposed amount; a municipality's
    // facilities hear nothing before the lock, so their proposal is one event of the
    // municipality's.
    if allocator.kind() == OrganizationKind::Municipality {
        deferred.announce([NewEvent {
            topic: PROPOSED_TOPIC.into(),
            visibility: Visibility::Restricted,
            organization_id: Some(allocator.id.clone()),
            payload: json!({
                "coolId": cool.id, "coolNumber": cool.number, "allocatorId": allocator.id,
                "changed": changed.len(), "totals": totals,
            }),
        }]);
    } else {
        // One event per recipient whose amount changed.
        deferred.announce(
            proposal
                .children
                .iter()
                .filter(|c| changed.binary_search(&c.organization.id).is_ok())
                .map(|child| {
                    let amounts: Vec<_> = proposal
                        .totals
                        .iter()
                        .map(|t| {
                            let boxes = child.boxes.get(&t.product.id).copied().unwrap_or(0);
                            json!({ "productCode": t.product.code, "boxes": boxes, "doses": boxes * t.product.doses_per_box() })
                        })
                        .collect();
                    NewEvent {
                        topic: PROPOSED_TOPIC.into(),
                        visibility: Visibility::Restricted,
                        organization_id: Some(child.organization.id.clone()),
                        payload: json!({
                            "coolId": cool.id, "coolNumber": cool.number, "allocatorId": allocator.id,
                            "recipientId": child.organization.id, "amounts": amounts,
                        }),
                    }
                }),
        );
    }
    Ok(proposal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organizations::OrganizationKind;

    fn product(id: &str, kind: ProductKind, units: i64, doses: i64) -> ProductRecord {
        ProductRecord {
            id: id.into(),
            code: id.to_uppercase(),
            kind,
            name: id.into(),
            manufacturer_id: None,
            units_per_box: units,
            doses_per_unit: doses,
            storage: None,
            minimum_interval_days: None,
            dry_ice_refill_days: None,
            created_at: Default::default(),
            updated_at: Default::default(),
            version: 1,
        }
    }

    fn org(id: &str) -> OrganizationRecord {
        OrganizationRecord {
            id: id.into(),
            kind: OrganizationKind::Facility,
            ..Default::default()
        }
    }

    fn run(
        received: [i64; 2],
        weights: &[u64],
        adjustment_percent: u32,
        overrides: &[(&str, i64)],
    ) -> Proposal {
        let vaccine = product("pfizer", ProductKind::Vaccine, 195, 5);
        let needle = product("needle", ProductKind::Needle, 100, 1);
        let children: Vec<_> = (0..weights.len()).map(|i| org(&format!("c{i}"))).collect();
        let weights = weights.iter().map(|w| (*w, Vec::new())).collect();
        let received = HashMap::from([
            ("pfizer".to_owned(), received[0]),
            ("needle".to_owned(), received[1]),
        ]);
        let spec = ProposalSpec {
            weighting: Weighting::Equal,
            adjustment_percent,
            overrides: vec![],
        };
        let overrides = overrides.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        compute(
            org("allocator"),
            children,
            weights,
            &vaccine,
            &[needle],
            &received,
            &spec,
            &overrides,
        )
    }

    fn boxes(p: &Proposal, product: &str) -> Vec<i64> {
        p.children.iter().map(|c| c.boxes[product]).collect()
    }

    #[test]
    fn meguro_gives_five_facilities_one_box_and_needles_are_capped_at_forty_nine() {
        let p = run([5, 49], &[1, 1, 1, 1, 1], 0, &[]);
        assert_eq!(boxes(&p, "pfizer"), [1, 1, 1, 1, 1]);
        assert_eq!(boxes(&p, "needle").iter().sum::<i64>(), 49);
        assert!(boxes(&p, "needle").iter().all(|b| *b == 9 || *b == 10));
        assert!(p.warnings.iter().any(|w| w.code == "FOLLOW_ON_SHORT"));
    }

    #[test]
    fn the_adjustment_share_is_held_back_and_overrides_are_kept() {
        let p = run([2_000, 19_500], &[3, 1], 20, &[]);
        assert_eq!(boxes(&p, "pfizer"), [1_200, 400]);
        assert!(p.warnings.iter().any(|w| w.code == "ADJUSTMENT_HELD"));
        let p = run([10, 100], &[1, 1], 0, &[("c0", 7)]);
        assert_eq!(boxes(&p, "pfizer"), [7, 3]);
        let p = run([10, 100], &[1, 1], 0, &[("c0", 11)]);
        assert!(p.warnings.iter().any(|w| w.code == "OVER_RECEIVED"));
    }

    #[test]
    fn zero_weights_give_nothing_and_say_so() {
        let p = run([10, 100], &[0, 0], 0, &[]);
        assert_eq!(boxes(&p, "pfizer"), [0, 0]);
        assert!(p.warnings.iter().any(|w| w.code == "NO_WEIGHTS"));
    }
}

//! The GraphQL face of deliveries: what to deliver where, the deliverer's entries, the totals
//! per deliverer, wholesalers' receipts and stock, the dry-ice check, a facility's allocations
//! with their delivery, and `Subscription.deliveryEvents`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};

use super::dry_ice;
use super::record::{self, DELIVERED_TOPIC, SCHEDULED_TOPIC};
use super::shipments::{self, NewShipment, ShipmentRecord};
use super::store::{self, DeliveryFilter, DeliveryLine, DeliveryStatus, Lot};
use crate::actor::{Role, current_actor, request_meta, require_actor};
use crate::allocation::{Cool, Product, cool_row, load_cool_node, load_product_node, products};
use crate::authz::may_receive;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::AppError;
use crate::events::{Events, StoredEvent};
use crate::facilities::may_see;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::graphql::pagination::{PageRequest, page_complexity, split_page};
use crate::organizations::{
    Facility, OrganizationKind, OrganizationRecord, PartnerOrganization, load_organization,
};

fn delivery_row(id: &ID) -> Result<String, AppError> {
    row_of(id, &["Delivery"], "delivery")
}

pub struct Delivery(pub DeliveryLine);

/// One facility's locked allocation line as its deliverer sees it: what to deliver, the
/// scheduled date (納入予定日) and the actual delivery with its lots (納入実績).
#[Object]
impl Delivery {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Delivery", &self.0.allocation_id)
    }
    /// The cool.
    async fn cool(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cool>> {
        load_cool_node(ctx, &self.0.cool_id).await
    }
    /// The vaccine, needles or syringes.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_product_node(ctx, &self.0.product_id).await
    }
    /// Where it goes.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        Ok(load_organization(ctx, &self.0.facility_id)
            .await?
            .map(Facility))
    }
    /// Who delivers: the facility's wholesaler, or the manufacturer or warehouse itself.
    async fn deliverer(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        match &self.0.deliverer_id {
            Some(id) => Ok(load_organization(ctx, id).await?.map(PartnerOrganization)),
            None => Ok(None),
        }
    }
    /// Boxes allocated: what is to be delivered.
    async fn boxes(&self) -> i64 {
        self.0.boxes
    }
    /// Doses the boxes give.
    async fn doses(&self) -> i64 {
        self.0.boxes * self.0.doses_per_box
    }
    /// The day of the data lock (Japan): no delivery is dated before it.
    async fn released_on(&self) -> String {
        self.0.released_on()
    }
    /// Unscheduled, scheduled or delivered.
    async fn status(&self) -> DeliveryStatus {
        self.0.status()
    }
    /// The scheduled day (納入予定日), YYYY-MM-DD.
    async fn scheduled_on(&self) -> Option<&str> {
        self.0.scheduled_on.as_deref()
    }
    /// The day it was delivered (納入実績), YYYY-MM-DD.
    async fn delivered_on(&self) -> Option<&str> {
        self.0.delivered_on.as_deref()
    }
    /// Boxes delivered.
    async fn delivered_boxes(&self) -> Option<i64> {
        self.0.delivered_boxes
    }
    /// The lots delivered.
    async fn lots(&self) -> Vec<DeliveredLot> {
        self.0
            .lots
            .as_ref()
            .map(|l| {
                l.0.iter()
                    .map(|lot| DeliveredLot {
                        lot_number: lot.lot_number.clone(),
                        boxes: lot.boxes,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The version of the deliverer's entry (null before the first).
    async fn version(&self) -> Option<i64> {
        self.0.delivery_version
    }
}

/// A lot of a delivery.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "LotInput")]
pub struct DeliveredLot {
    /// The manufacturer's lot number (letters, digits, -).
    pub lot_number: String,
    /// Boxes of this lot.
    pub boxes: i64,
}

/// Per deliverer and product, what a cool asks of it and how far it got.
#[derive(SimpleObject)]
pub struct DeliveryTotal {
    /// The deliverer's id.
    pub deliverer_id: Option<ID>,
    /// The product.
    pub product_code: String,
    /// Facility lines to deliver.
    pub deliveries: i64,
    /// Boxes allocated.
    pub boxes: i64,
    /// Boxes on lines with a scheduled date.
    pub scheduled_boxes: i64,
    /// Boxes delivered.
    pub delivered_boxes: i64,
}

/// A destination of vaccines shipped on dry ice and its refill dates.
#[derive(SimpleObject)]
pub struct DryIceStop {
    /// The delivery.
    pub delivery_id: ID,
    /// Where: the facility's id.
    pub facility_id: ID,
    /// The product.
    pub product_code: String,
    /// The day the vaccine arrives (delivered, else scheduled; null while unscheduled).
    pub arrives_on: Option<String>,
    /// Whether `arrivesOn` is the actual delivery day.
    pub delivered: bool,
    /// The days its thermal shipping box needs fresh dry ice.
    pub exchange_dates: Vec<String>,
}

pub struct Shipment(ShipmentRecord);

/// A shipment to a wholesaler's logistics warehouse (入荷).
#[Object]
impl Shipment {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Shipment", &self.0.id)
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        load_product_node(ctx, &self.0.product_id).await
    }
    /// Who sent it: the manufacturer or the warehouse.
    async fn sender(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        Ok(load_organization(ctx, &self.0.sender_id)
            .await?
            .map(PartnerOrganization))
    }
    /// The wholesaler receiving it.
    async fn wholesaler(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PartnerOrganization>> {
        Ok(load_organization(ctx, &self.0.wholesaler_id)
            .await?
            .map(PartnerOrganization))
    }
    /// Boxes shipped.
    async fn boxes(&self) -> i64 {
        self.0.boxes
    }
    /// The day it was shipped.
    async fn shipped_on(&self) -> &str {
        &self.0.shipped_on
    }
    /// The day the wholesaler received it; null until then.
    async fn received_on(&self) -> Option<&str> {
        self.0.received_on.as_deref()
    }
    /// When it was recorded (UTC).
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

/// A wholesaler's stock of a product in a cool.
#[derive(SimpleObject)]
pub struct WholesalerStock {
    /// The wholesaler's id.
    pub wholesaler_id: ID,
    /// The product.
    pub product_code: String,
    /// Boxes received (shipments with a receipt).
    pub received: i64,
    /// Boxes delivered to facilities.
    pub delivered: i64,
    /// Boxes on hand: received − delivered.
    pub on_hand: i64,
}

#[derive(Default)]
pub struct DeliveryQuery;

#[Object]
impl DeliveryQuery {
    /// Deliveries (locked facility lines) you may see, by facility code: the nation and the
    /// service desk all; a prefecture or municipality its area; a facility its own; a
    /// deliverer what it delivers; a manufacturer its vaccine's; the dry-ice supplier those
    /// shipped on dry ice.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // one per filter, as GraphQL arguments
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this cool.")] cool_id: Option<ID>,
        #[graphql(desc = "Only to this facility.")] facility_id: Option<ID>,
        #[graphql(desc = "Only by this deliverer.")] deliverer_id: Option<ID>,
        #[graphql(desc = "Only in this state.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Page size (default 50, at most 100).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the last row of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Delivery>> {
        let actor = require_actor(ctx)?;
        let page = PageRequest::parse("deliveries", first, after, 2)?;
        let wanted = DeliveryFilter {
            cool_id: cool_id.as_ref().map(cool_row).transpose()?,
            facility_id: facility_id
                .as_ref()
                .map(|id| row_of(id, ORGANIZATION_TYPES, "facility"))
                .transpose()?,
            deliverer_id: deliverer_id
                .as_ref()
                .map(|id| row_of(id, ORGANIZATION_TYPES, "organization"))
                .transpose()?,
            status,
        };
        let rows = store::page(ctx.data_unchecked::<Db>(), actor, &wanted, &page).await?;
        let (rows, has_next) = split_page(rows, &page);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|(line, code, id)| Edge::new(page.cursor(&[&code, &id]), Delivery(line))),
        );
        Ok(connection)
    }

    /// Per deliverer and product, the cool's deliveries you may see in total (a manufacturer:
    /// per wholesaler, for its vaccine).
    async fn delivery_totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<Vec<DeliveryTotal>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let lines = store::all_of_cool(db, actor, &cool_row(&cool_id)?).await?;
        let codes = products::codes_by_id(db).await?;
        let mut totals: BTreeMap<(String, String), DeliveryTotal> = BTreeMap::new();
        for line in lines {
            let deliverer = line.deliverer_id.clone().unwrap_or_default();
            let code = codes.get(&line.product_id).cloned().unwrap_or_default();
            let total = totals
                .entry((deliverer.clone(), code.clone()))
                .or_insert_with(|| DeliveryTotal {
                    deliverer_id: line
                        .deliverer_id
                        .as_ref()
                        .map(|d| global_id("Organization", d)),
                    product_code: code,
                    deliveries: 0,
                    boxes: 0,
                    scheduled_boxes: 0,
                    delivered_boxes: 0,
                });
            total.deliveries += 1;
            total.boxes += line.boxes;
            if line.scheduled_on.is_some() {
                total.scheduled_boxes += line.boxes;
            }
            total.delivered_boxes += line.delivered_boxes.unwrap_or(0);
        }
        Ok(totals.into_values().collect())
    }

    /// The dry-ice supplier's check: each destination of a vaccine shipped on dry ice in the
    /// cool, with the day it arrives and the days its box needs fresh dry ice. For the
    /// dry-ice supplier and the nation.
    async fn dry_ice_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<Vec<DryIceStop>> {
        let actor = require_actor(ctx)?;
        if !matches!(
            actor.role,
            Role::DryIceSupplier | Role::Nation | Role::SystemAdmin
        ) {
            return Err(AppError::Forbidden.into());
        }
        let db = ctx.data_unchecked::<Db>();
        let lines = store::all_of_cool(db, actor, &cool_row(&cool_id)?).await?;
        let products: std::collections::HashMap<String, products::ProductRecord> =
            products::list(db, None)
                .await?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        let mut stops = Vec::new();
        for line in lines {
            let Some(product) = products.get(&line.product_id) else {
                continue;
            };
            let Some(refill) = product.dry_ice_refill_days else {
                continue;
            };
            let arrives_on = line.delivered_on.clone().or(line.scheduled_on.clone());
            let exchange_dates = match &arrives_on {
                Some(day) => dry_ice::exchange_dates_from(day, refill)?,
                None => Vec::new(),
            };
            stops.push(DryIceStop {
                delivery_id: global_id("Delivery", &line.allocation_id),
                facility_id: global_id("Facility", &line.facility_id),
                product_code: product.code.clone(),
                delivered: line.delivered_on.is_some(),
                arrives_on,
                exchange_dates,
            });
        }
        Ok(stops)
    }

    /// Shipments to wholesalers in the cool: yours as sender or wholesaler (the nation: all).
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<Vec<Shipment>> {
        let actor = require_actor(ctx)?;
        let rows =
            shipments::of_cool(ctx.data_unchecked::<Db>(), actor, &cool_row(&cool_id)?).await?;
        Ok(rows.into_iter().map(Shipment).collect())
    }

    /// Wholesalers' stock in the cool (入荷・在庫): received less delivered, per wholesaler and
    /// product. A wholesaler sees its own; senders their products'; the nation all.
    async fn wholesaler_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cool.")] cool_id: ID,
    ) -> async_graphql::Result<Vec<WholesalerStock>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let cool_id = cool_row(&cool_id)?;
        let codes = products::codes_by_id(db).await?;
        let mut stock: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        for shipment in shipments::of_cool(db, actor, &cool_id).await? {
            if shipment.received_on.is_some() {
                stock
                    .entry((shipment.wholesaler_id.clone(), shipment.product_id.clone()))
                    .or_default()
                    .0 += shipment.boxes;
            }
        }
        let wholesalers: Vec<String> = stock.keys().map(|(w, _)| w.clone()).collect();
        for line in store::all_of_cool(db, actor, &cool_id).await? {
            let Some(deliverer) = line.deliverer_id.clone() else {
                continue;
            };
            if actor.role != Role::Wholesaler && !wholesalers.contains(&deliverer) {
                continue;
            }
            if let Some(boxes) = line.delivered_boxes {
                stock
                    .entry((deliverer, line.product_id.clone()))
                    .or_default()
                    .1 += boxes;
            }
        }
        Ok(stock
            .into_iter()
            .map(
                |((wholesaler, product), (received, delivered))| WholesalerStock {
                    wholesaler_id: global_id("Organization", &wholesaler),
                    product_code: codes.get(&product).cloned().unwrap_or_default(),
                    received,
                    delivered,
                    on_hand: received - delivered,
                },
            )
            .collect())
    }
}

/// A shipment to record.
#[derive(InputObject)]
pub struct RecordShipmentInput {
    /// The cool.
    pub cool_id: ID,
    /// The product: the cool's vaccine (manufacturer), NEEDLE or SYRINGE (warehouse).
    pub product_code: String,
    /// The wholesaler receiving it.
    pub wholesaler_id: ID,
    /// Whole boxes (1 or more).
    pub boxes: i64,
    /// The day it was shipped, YYYY-MM-DD.
    pub shipped_on: String,
}

#[derive(Default)]
pub struct DeliveryMutation;

#[Object]
impl DeliveryMutation {
    /// Registers or moves the scheduled delivery date (納入予定日) of one facility line: its
    /// deliverer only, on or after the data lock. The facility sees it at once. Audited.
    async fn schedule_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] delivery_id: ID,
        #[graphql(desc = "The day, YYYY-MM-DD.")] scheduled_on: String,
    ) -> async_graphql::Result<Delivery> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let line = record::schedule(
            db,
            &request_meta(ctx),
            actor,
            &delivery_row(&delivery_id)?,
            &scheduled_on,
        )
        .await?;
        Ok(Delivery(line))
    }

    /// Records the actual delivery (納入実績) with its lots: never more boxes than allocated,
    /// not before the lock, not ahead of today; once. Audited.
    async fn record_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] delivery_id: ID,
        #[graphql(desc = "The day it was delivered, YYYY-MM-DD.")] delivered_on: String,
        #[graphql(desc = "The lots delivered (1 to 50).")] lots: Vec<DeliveredLot>,
    ) -> async_graphql::Result<Delivery> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let lots = lots
            .into_iter()
            .map(|l| Lot {
                lot_number: l.lot_number,
                boxes: l.boxes,
            })
            .collect();
        let line = record::record(
            db,
            &request_meta(ctx),
            actor,
            &delivery_row(&delivery_id)?,
            &delivered_on,
            lots,
        )
        .await?;
        Ok(Delivery(line))
    }

    /// Records a shipment to a wholesaler: the manufacturer its cool's vaccine, the warehouse
    /// needles and syringes. Audited.
    async fn record_shipment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipment.")] input: RecordShipmentInput,
    ) -> async_graphql::Result<Shipment> {
        let actor = require_actor(ctx)?;
        let cool_id = cool_row(&input.cool_id)?;
        let wholesaler_id = row_of(&input.wholesaler_id, ORGANIZATION_TYPES, "wholesaler")?;
        let record = shipments::ship(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            NewShipment {
                cool_id: &cool_id,
                product_code: &input.product_code,
                wholesaler_id: &wholesaler_id,
                boxes: input.boxes,
                shipped_on: &input.shipped_on,
            },
        )
        .await?;
        Ok(Shipment(record))
    }

    /// Records that your wholesaler received a shipment (入荷); once. Audited.
    async fn receive_shipment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipment.")] shipment_id: ID,
        #[graphql(desc = "The day it arrived, YYYY-MM-DD.")] received_on: String,
    ) -> async_graphql::Result<Shipment> {
        let actor = require_actor(ctx)?;
        let id = row_of(&shipment_id, &["Shipment"], "shipment")?;
        let record = shipments::receive(
            ctx.data_unchecked::<Db>(),
            &request_meta(ctx),
            actor,
            &id,
            &received_on,
        )
        .await?;
        Ok(Shipment(record))
    }
}

/// What happened to a delivery.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryEventKind {
    /// The deliverer registered or moved the scheduled date (`delivery.scheduled`).
    Scheduled,
    /// The deliverer recorded the delivery (`delivery.delivered`).
    Delivered,
}

pub struct DeliveryEvent {
    kind: DeliveryEventKind,
    event: Arc<StoredEvent>,
}

/// A delivery's date registered or its delivery recorded.
#[Object]
impl DeliveryEvent {
    /// Position in the global event order; pass the last one seen as `after` to resume.
    async fn sequence(&self) -> i64 {
        self.event.seq
    }
    /// What happened.
    async fn kind(&self) -> DeliveryEventKind {
        self.kind
    }
    /// The delivery's id.
    async fn delivery_id(&self) -> Option<ID> {
        self.event
            .payload_str("deliveryId")
            .map(|id| global_id("Delivery", id))
    }
    /// The facility it goes to.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Facility>> {
        match &self.event.organization_id {
            Some(id) => Ok(load_organization(ctx, id).await?.map(Facility)),
            None => Ok(None),
        }
    }
    /// The scheduled day, YYYY-MM-DD.
    async fn scheduled_on(&self) -> Option<&str> {
        self.event.payload_str("scheduledOn")
    }
    /// The day it was delivered, YYYY-MM-DD.
    async fn delivered_on(&self) -> Option<&str> {
        self.event.payload_str("deliveredOn")
    }
    /// When it was committed (UTC).
    async fn occurred_at(&self) -> Timestamp {
        self.event.occurred_at
    }
    /// The details: boxes, doses, lots.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.event.payload.clone())
    }
}

#[derive(Default)]
pub struct DeliverySubscription;

#[Subscription]
impl DeliverySubscription {
    /// Delivery dates and deliveries as the deliverers enter them: a clinic sees its own the
    /// moment they are registered; its municipality, prefecture and the nation their area's.
    /// Sign in first. With `after` (an event sequence number), first replays what happened
    /// since.
    async fn delivery_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay events after this sequence number first.")] after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = DeliveryEvent> + use<>> {
        let actor = require_actor(ctx)?.clone();
        if after.is_some_and(|a| a < 0) {
            return Err(AppError::invalid_field("after", "after must not be negative").into());
        }
        let events = ctx.data_unchecked::<Arc<Events>>();
        Ok(events.stream(after).filter_map(move |event| {
            let kind = match event.topic.as_str() {
                SCHEDULED_TOPIC => Some(DeliveryEventKind::Scheduled),
                DELIVERED_TOPIC => Some(DeliveryEventKind::Delivered),
                _ => None,
            }
            .filter(|_| may_receive(Some(&actor), &event));
            std::future::ready(kind.map(|kind| DeliveryEvent { kind, event }))
        }))
    }
}

/// A facility's allocation in one cool and product, with its delivery.
#[derive(SimpleObject)]
pub struct FacilityAllocation {
    /// The cool's id.
    pub cool_id: ID,
    /// The product.
    pub product_code: String,
    /// Whole boxes.
    pub boxes: i64,
    /// Doses the boxes give.
    pub doses: i64,
    /// Whether the prefecture locked it (final).
    pub locked: bool,
    /// The delivery, once locked.
    pub delivery: Option<Delivery>,
}

/// `Facility.allocations`: the facility sees its amounts from the data lock on (seed p. 43);
/// its municipality, prefecture and the nation see them as they are being made.
pub async fn facility_allocations(
    ctx: &Context<'_>,
    facility: &OrganizationRecord,
) -> async_graphql::Result<Vec<FacilityAllocation>> {
    let actor = current_actor(ctx);
    may_see(actor, facility)?;
    let actor = actor.ok_or(AppError::Unauthenticated)?;
    let db = ctx.data_unchecked::<Db>();
    let codes = products::codes_by_id(db).await?;
    let mut delivered: std::collections::HashMap<String, DeliveryLine> =
        store::of_facility(db.pool(), &facility.id)
            .await?
            .into_iter()
            .map(|l| (l.allocation_id.clone(), l))
            .collect();
    let own = actor.organization.kind == OrganizationKind::Facility;
    let lines = crate::allocation::lines::of_recipient_all(db.pool(), facility).await?;
    Ok(lines
        .into_iter()
        .filter_map(|line| {
            let delivery = delivered.remove(&line.id);
            let locked = delivery.is_some();
            if own && !locked {
                return None;
            }
            Some(FacilityAllocation {
                cool_id: global_id("Cool", &line.cool_id),
                product_code: codes.get(&line.product_id).cloned().unwrap_or_default(),
                boxes: line.boxes,
                doses: line.doses(),
                locked,
                delivery: delivery.map(Delivery),
            })
        })
        .collect())
}

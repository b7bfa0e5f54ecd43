//! The navigator's GraphQL face: `navigatorSearch` and `availabilityChanged` for anyone, and
//! `publishOnNavigator` for a venue or its municipality. Only public data: a venue's public
//! details and its availability, never a link to anything personal.

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use serde_json::json;
use tokio::time::{Duration, Instant};

use super::search::{self, Criteria, CriteriaInput, Point};
use super::service::Navigator;
use crate::actor::{request_meta, require_actor};
use crate::allocation::products;
use crate::audit::{self, Entry, Outcome};
use crate::authz::Action;
use crate::clock::Timestamp;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::events::{Events, StoredEvent};
use crate::facilities::decide_on;
use crate::graphql::ids::{ORGANIZATION_TYPES, global_id, row_of};
use crate::organizations::{OrganizationKind, OrganizationRecord, ReservationMode, store};
use crate::reservations::AVAILABILITY_TOPIC;
use crate::reservations::availability::{self, Availability, AvailabilityStatus};
use crate::reservations::schedule::parse_date;
use crate::reservations::slots::japan_minute;

/// At most one update per venue per this interval on `availabilityChanged`.
const COALESCE: Duration = Duration::from_secs(1);

/// A venue as the navigator shows it.
#[derive(Debug, Clone)]
pub struct VenueView {
    pub record: OrganizationRecord,
    pub availability: Availability,
    pub distance_km: Option<f64>,
}

/// Shared: one view of a venue serves every subscriber and every cached answer that shows it.
pub struct NavigatorVenue(pub Arc<VenueView>);

/// A published venue with its availability (コロナワクチンナビ): public data only.
#[Object]
impl NavigatorVenue {
    /// The facility's globally unique id.
    async fn id(&self) -> ID {
        global_id("Facility", &self.0.record.id)
    }
    /// Medical-institution code.
    async fn code(&self) -> &str {
        &self.0.record.code
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.record.name
    }
    /// Name in kana.
    async fn name_kana(&self) -> Option<&str> {
        self.0.record.name_kana.as_deref()
    }
    /// Name in Latin letters.
    async fn name_romaji(&self) -> Option<&str> {
        self.0.record.name_romaji.as_deref()
    }
    /// Postal code, "123-4567".
    async fn postal_code(&self) -> Option<&str> {
        self.0.record.postal_code.as_deref()
    }
    /// Address in Japanese.
    async fn address(&self) -> Option<&str> {
        self.0.record.address.as_deref()
    }
    /// Telephone for the public.
    async fn phone(&self) -> Option<&str> {
        self.0.record.phone.as_deref()
    }
    /// Access by public transport.
    async fn access_notes(&self) -> Option<&str> {
        self.0.record.access_notes.as_deref()
    }
    /// Parking.
    async fn parking_notes(&self) -> Option<&str> {
        self.0.record.parking_notes.as_deref()
    }
    /// Opening hours.
    async fn opening_hours(&self) -> Option<&str> {
        self.0.record.opening_hours.as_deref()
    }
    /// Vaccines handled, as product codes.
    async fn vaccines(&self) -> Vec<String> {
        self.0.record.vaccines().to_vec()
    }
    /// Whether it vaccinates the general public (一般受入).
    async fn general_acceptance(&self) -> bool {
        self.0.record.general_acceptance()
    }
    /// Latitude (WGS 84).
    async fn latitude(&self) -> Option<f64> {
        self.0.record.latitude
    }
    /// Longitude (WGS 84).
    async fn longitude(&self) -> Option<f64> {
        self.0.record.longitude
    }
    /// Kilometres from the searched point (null without one).
    async fn distance_km(&self) -> Option<f64> {
        self.0.distance_km.map(|d| (d * 100.0).round() / 100.0)
    }
    /// The municipality it lies in.
    async fn municipality_id(&self) -> Option<ID> {
        self.0
            .record
            .municipality_id
            .as_deref()
            .map(|id| global_id("Municipality", id))
    }
    /// How it takes bookings.
    async fn reservation_mode(&self) -> ReservationMode {
        self.0
            .record
            .reservation_mode
            .unwrap_or(ReservationMode::External)
    }
    /// One of the five statuses.
    async fn status(&self) -> AvailabilityStatus {
        self.0.availability.status
    }
    /// The status as the original showed it (Japanese), with "要確認" when unconfirmed.
    async fn status_label(&self) -> String {
        let label = self.0.availability.status.label_ja();
        if self.0.availability.unconfirmed {
            format!("{label}（要確認・お電話でご確認ください）")
        } else {
            label.to_owned()
        }
    }
    /// The status in English, with "call to confirm" when unconfirmed.
    async fn status_label_en(&self) -> String {
        let label = self.0.availability.status.label_en();
        if self.0.availability.unconfirmed {
            format!("{label} (unconfirmed: call to confirm)")
        } else {
            label.to_owned()
        }
    }
    /// The venue's own declaration is older than the allowed age: call to confirm.
    async fn unconfirmed(&self) -> bool {
        self.0.availability.unconfirmed
    }
    /// The first day with a free place, `YYYY-MM-DD`.
    async fn next_free_date(&self) -> Option<&str> {
        self.0.availability.next_free_date.as_deref()
    }
    /// Free places over the coming four weeks (venues booking in vsys).
    async fn free_places(&self) -> i64 {
        self.0.availability.free_places
    }
    /// When the status last changed: recorded within about a second of the change, and null
    /// until then, or when the passing of time changed it since.
    async fn status_changed_at(&self) -> Option<Timestamp> {
        self.0.availability.changed_at
    }
    /// When a venue booking elsewhere last declared its status.
    async fn declared_at(&self) -> Option<Timestamp> {
        self.0.availability.declared_at
    }
}

/// A point (WGS 84).
#[derive(InputObject)]
pub struct GeoPointInput {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}

/// What a navigator search found.
#[derive(SimpleObject)]
pub struct NavigatorSearchResult {
    /// The venues, nearest first when a point was given.
    pub venues: Vec<NavigatorVenue>,
    /// Whether more venues matched than `first`.
    pub truncated: bool,
}

/// A published venue and its availability now, or `None`.
pub async fn load_view(
    db: &Db,
    facility_id: &str,
    declaration_max_age: time::Duration,
) -> AppResult<Option<VenueView>> {
    let Some(record) = store::load(db.pool(), facility_id)
        .await?
        .filter(|r| r.kind() == OrganizationKind::Facility && is_published(r))
    else {
        return Ok(None);
    };
    let Some(availability) = availability::of_venue(db, facility_id, declaration_max_age).await?
    else {
        return Ok(None);
    };
    Ok(Some(VenueView {
        record,
        availability,
        distance_km: None,
    }))
}

fn is_published(record: &OrganizationRecord) -> bool {
    record.navigator_published.is_some_and(bool::from)
}

#[derive(Default)]
pub struct NavigatorQuery;

#[Object]
impl NavigatorQuery {
    /// Finds venues (コロナワクチンナビ): near a point, in a municipality, by postal code or by
    /// a word, filtered by vaccine, dates with a free place, and acceptance of the general
    /// public; nearest first. No sign-in needed. Statuses of venues booking in vsys come from
    /// their slots at the moment of the search.
    #[allow(clippy::too_many_arguments)] // one per filter, as GraphQL arguments
    async fn navigator_search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Near this point.")] near: Option<GeoPointInput>,
        #[graphql(desc = "Within this many kilometres of `near` (default 10, at most 50).")]
        radius_km: Option<f64>,
        #[graphql(desc = "In this municipality.")] municipality_id: Option<ID>,
        #[graphql(desc = "At this postal code (7 digits).")] postal_code: Option<String>,
        #[graphql(desc = "Name or address containing this (1 to 50 characters).")] text: Option<
            String,
        >,
        #[graphql(desc = "Handling this vaccine.")] product_code: Option<String>,
        #[graphql(desc = "With a free place from this day (YYYY-MM-DD).")] from: Option<String>,
        #[graphql(desc = "With a free place until this day (YYYY-MM-DD).")] to: Option<String>,
        #[graphql(desc = "Only venues vaccinating the general public.", default)]
        general_public_only: bool,
        #[graphql(desc = "At most this many venues (default 20, at most 100).")] first: Option<i32>,
    ) -> async_graphql::Result<NavigatorSearchResult> {
        let db = ctx.data_unchecked::<Db>();
        let navigator = ctx.data_unchecked::<Arc<Navigator>>();
        let mut criteria = Criteria::validate(CriteriaInput {
            near: near.map(|p| Point {
                latitude: p.latitude,
                longitude: p.longitude,
            }),
            radius_km,
            municipality_id: municipality_id
                .map(|id| row_of(&id, ORGANIZATION_TYPES, "municipality"))
                .transpose()?,
            postal_code,
            text,
            first: first.map(i64::from),
            general_public_only,
        })?;
        if let Some(code) = product_code {
            let product = products::by_code(db.pool(), code.trim().to_uppercase().as_str())
                .await?
                .ok_or_else(products::unknown_code)?;
            criteria.product = Some((product.id, product.code));
        }
        criteria.dates = dates(db, from, to)?;
        // The minute is part of the key: slots that start and declarations that age change
        // answers without any event.
        let key = format!("{}|{criteria:?}", japan_minute(db));
        let answer = match navigator.cached(&key) {
            Some(answer) => answer,
            None => {
                let version = navigator.version();
                let answer = Arc::new(search_now(db, navigator, &criteria).await?);
                navigator.keep(key, version, answer.clone());
                answer
            }
        };
        Ok(NavigatorSearchResult {
            venues: answer.0.iter().cloned().map(NavigatorVenue).collect(),
            truncated: answer.1,
        })
    }
}

/// A date range of at most 62 days, or none.
fn dates(db: &Db, from: Option<String>, to: Option<String>) -> AppResult<Option<(String, String)>> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let today = db.clock().japan_date();
    let from = from
        .map(|d| parse_date("from", &d))
        .transpose()?
        .unwrap_or(today);
    let to = to
        .map(|d| parse_date("to", &d))
        .transpose()?
        .unwrap_or(from + time::Duration::days(13));
    if to < from || (to - from).whole_days() > 62 {
        return Err(AppError::invalid_field(
            "to",
            "a range of up to 62 days, ending after it starts / 期間は62日以内です",
        ));
    }
    Ok(Some((from.to_string(), to.to_string())))
}

async fn search_now(
    db: &Db,
    navigator: &Navigator,
    criteria: &Criteria,
) -> AppResult<(Vec<Arc<VenueView>>, bool)> {
    let mut found = search::find(db, criteria, &japan_minute(db)).await?;
    let truncated = found.len() as i64 > criteria.first;
    found.truncate(criteria.first as usize);
    let ids: Vec<String> = found.iter().map(|(r, _)| r.id.clone()).collect();
    let mut conn = db.pool().acquire().await?;
    let mut statuses =
        availability::of_venues(&mut conn, &ids, db.now(), navigator.declaration_max_age).await?;
    let venues = found
        .into_iter()
        .filter_map(|(record, distance_km)| {
            let availability = statuses.remove(&record.id)?;
            Some(Arc::new(VenueView {
                record,
                availability,
                distance_km,
            }))
        })
        .collect();
    Ok((venues, truncated))
}

#[derive(Default)]
pub struct NavigatorMutation;

#[Object]
impl NavigatorMutation {
    /// Agrees (or stops agreeing) to appear on the public navigator: the venue or its
    /// municipality. Audited.
    async fn publish_on_navigator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue.")] facility_id: ID,
        #[graphql(desc = "Whether it appears.")] published: bool,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let id = row_of(&facility_id, ORGANIZATION_TYPES, "facility")?;
        let result = publish(db, &meta, actor, &id, published).await;
        Ok(
            audit::record_if_refused(db, &meta, actor, "publishOnNavigator", Some(&id), result)
                .await?,
        )
    }
}

async fn publish(
    db: &Db,
    meta: &crate::actor::RequestMeta,
    actor: &crate::actor::Actor,
    id: &str,
    published: bool,
) -> AppResult<bool> {
    let venue = crate::reservations::slots::venue(db, id).await?;
    decide_on(Some(actor), Action::ManageReservations, &venue)?;
    if is_published(&venue) != published {
        let mut tx = db.begin_write().await?;
        sqlx::query("UPDATE facilities SET navigator_published = $1 WHERE organization_id = $2")
            .bind(i32::from(published))
            .bind(&venue.id)
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            meta,
            Entry::new("publishOnNavigator", Outcome::Success, Some(actor))
                .object("Facility", &venue.id)
                .organization(&venue.id)
                .change(
                    Some(json!({ "published": !published })),
                    Some(json!({ "published": published })),
                ),
        )
        .await?;
        availability::announce(&mut tx, &venue.id, json!({ "published": published })).await?;
        tx.commit().await?;
    }
    Ok(published)
}

/// Which venues a subscriber follows.
#[derive(Clone, Default)]
struct Scope {
    municipality_id: Option<String>,
    prefecture_id: Option<String>,
    facility_ids: Option<HashSet<String>>,
}

impl Scope {
    fn covers(&self, event: &StoredEvent) -> bool {
        let Some(facility) = event.organization_id.as_deref() else {
            return false;
        };
        self.municipality_id
            .as_deref()
            .is_none_or(|m| event.municipality_id.as_deref() == Some(m))
            && self
                .prefecture_id
                .as_deref()
                .is_none_or(|p| event.prefecture_id.as_deref() == Some(p))
            && self
                .facility_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(facility))
    }
}

/// Holds a burst back: a venue's first change goes out at once, later ones at most once per
/// second, and always the latest.
struct Coalescer {
    events: Pin<Box<dyn Stream<Item = Arc<StoredEvent>> + Send>>,
    scope: Scope,
    /// The latest held-back change per venue.
    pending: HashMap<String, Arc<StoredEvent>>,
    last_sent: HashMap<String, Instant>,
    ready: VecDeque<Arc<StoredEvent>>,
}

impl Coalescer {
    async fn next(&mut self) -> Option<Arc<StoredEvent>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            let due = self
                .pending
                .keys()
                .filter_map(|f| self.last_sent.get(f).map(|at| *at + COALESCE))
                .min();
            tokio::select! {
                event = self.events.next() => {
                    let event = event?;
                    if !self.scope.covers(&event) {
                        continue;
                    }
                    let facility = event.organization_id.clone().unwrap_or_default();
                    let now = Instant::now();
                    let recently = self
                        .last_sent
                        .get(&facility)
                        .is_some_and(|at| now < *at + COALESCE);
                    if recently || self.pending.contains_key(&facility) {
                        self.pending.insert(facility, event);
                    } else {
                        self.last_sent.insert(facility, now);
                        self.ready.push_back(event);
                    }
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    let now = Instant::now();
                    let due_now: Vec<String> = self
                        .pending
                        .keys()
                        .filter(|f| self.last_sent.get(*f).is_none_or(|at| *at + COALESCE <= now))
                        .cloned()
                        .collect();
                    for facility in due_now {
                        if let Some(event) = self.pending.remove(&facility) {
                            self.last_sent.insert(facility, now);
                            self.ready.push_back(event);
                        }
                    }
                }
            }
        }
    }
}

#[derive(Default)]
pub struct NavigatorSubscription;

#[Subscription]
impl NavigatorSubscription {
    /// Venues' availability as it changes (a booking, a cancellation, new slots, a
    /// declaration), in an area or for given venues. A burst is coalesced to at most one update
    /// per venue per second, and the latest state always arrives. No sign-in needed. A page
    /// that reads so slowly that it falls 1,024 updates behind receives an `error` and should
    /// search and subscribe again.
    async fn availability_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only venues in this municipality.")] municipality_id: Option<ID>,
        #[graphql(desc = "Only venues in this prefecture.")] prefecture_id: Option<ID>,
        #[graphql(desc = "Only these venues (at most 100).")] facility_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<impl Stream<Item = NavigatorVenue> + use<>> {
        if facility_ids.as_ref().is_some_and(|ids| ids.len() > 100) {
            return Err(AppError::invalid_field(
                "facilityIds",
                "at most 100 venues / 会場は100件までです",
            )
            .into());
        }
        let scope = Scope {
            municipality_id: municipality_id
                .map(|id| row_of(&id, ORGANIZATION_TYPES, "municipality"))
                .transpose()?,
            prefecture_id: prefecture_id
                .map(|id| row_of(&id, ORGANIZATION_TYPES, "prefecture"))
                .transpose()?,
            facility_ids: facility_ids
                .map(|ids| {
                    ids.iter()
                        .map(|id| row_of(id, ORGANIZATION_TYPES, "facility"))
                        .collect::<Result<HashSet<_>, _>>()
                })
                .transpose()?,
        };
        let events = ctx.data_unchecked::<Arc<Events>>().clone();
        let max_age = ctx.data_unchecked::<Arc<Navigator>>().declaration_max_age;
        let coalescer = Coalescer {
            events: Box::pin(events.stream_topic(AVAILABILITY_TOPIC, None)),
            scope,
            pending: HashMap::new(),
            last_sent: HashMap::new(),
            ready: VecDeque::new(),
        };
        Ok(futures_util::stream::unfold(
            (coalescer, events),
            move |(mut coalescer, events)| async move {
                loop {
                    let event = coalescer.next().await?;
                    let facility = event.organization_id.clone().unwrap_or_default();
                    // One load per change per instance, shared by every subscriber sending it.
                    let view = events
                        .attachment(&event, |db| async move {
                            load_view(&db, &facility, max_age).await
                        })
                        .await;
                    if let Some(view) = view {
                        return Some((NavigatorVenue(view), (coalescer, events)));
                    }
                }
            },
        ))
    }
}

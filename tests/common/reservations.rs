//! Reservation fixtures: dates relative to the server's clock, slot schedules and bookings.

use serde_json::{Value, json};

use super::TestServer;

pub const CREATE: &str = "mutation($i: ReservationScheduleInput!) { createReservationSlots(input: $i) { created warnings { code message } } }";
pub const AVAILABLE: &str = "query($m: ID, $f: ID, $from: String, $to: String, $after: String, $before: String, $first: Int) { availableSlots(municipalityId: $m, facilityId: $f, from: $from, to: $to, productCode: \"PFIZER\", startsAfter: $after, startsBefore: $before, first: $first) { freePlaces truncated slots { id date startsAt endsAt capacity booked free productCode facility { name } } } }";
pub const BOOK: &str = "mutation($i: BookReservationInput!) { bookReservation(input: $i) { id status date startsAt doseNumber couponNumber name slotId facility { name } } }";
pub const CHANGE: &str = "mutation($r: ID!, $s: ID!) { changeReservation(reservationId: $r, slotId: $s) { id status date startsAt slotId version } }";
pub const CANCEL: &str = "mutation($r: ID!, $why: String) { cancelReservation(reservationId: $r, reason: $why) { id status cancelledAt cancelReason } }";
pub const LIST: &str = "query($f: ID, $c: String, $s: ReservationStatus) { reservations(facilityId: $f, couponNumber: $c, status: $s, first: 100) { edges { node { id status name nameKana phone couponNumber doseNumber date startsAt } } } }";

/// The day `offset` days from the server's today in Japan, `YYYY-MM-DD`.
pub fn day(server: &TestServer, offset: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = time::Date::parse(&server.state.db.clock().today_in_japan(), format).unwrap();
    (today + time::Duration::days(offset)).to_string()
}

/// A schedule for every day from `from` to `to` days ahead, with these opening periods.
pub fn schedule(
    server: &TestServer,
    venue: &Value,
    days: (i64, i64),
    periods: &[(&str, &str)],
    slot_minutes: i64,
    capacity: i64,
) -> Value {
    let hours: Vec<Value> = periods
        .iter()
        .map(|(opens, closes)| json!({ "opens": opens, "closes": closes }))
        .collect();
    json!({ "i": {
        "facilityId": venue, "productCode": "PFIZER",
        "from": day(server, days.0), "to": day(server, days.1),
        "daysOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
        "openingHours": hours, "slotMinutes": slot_minutes, "capacityPerSlot": capacity,
    } })
}

/// Free slots of a venue over the next `days` days, in time order.
pub async fn free_slots(server: &TestServer, venue: &Value, days: i64) -> Vec<Value> {
    let found = server
        .data(
            AVAILABLE,
            json!({ "f": venue, "from": day(server, 0), "to": day(server, days), "first": 500 }),
        )
        .await;
    found["availableSlots"]["slots"].as_array().unwrap().clone()
}

/// Variables of a booking for coupon `coupon` of Meguro (131105), dose `dose`.
pub fn booking(venue: &Value, slot: &Value, coupon: &str, dose: i64) -> Value {
    json!({ "i": {
        "facilityId": venue, "slotId": slot, "productCode": "PFIZER",
        "couponMunicipalityCode": "131105", "couponNumber": coupon,
        "name": "目黒 花子", "nameKana": "メグロ ハナコ", "birthDate": "1950-04-01",
        "phone": "03-1234-5678", "doseNumber": dose,
    } })
}

/// Two slots tomorrow at the venue (09:00 and 09:30, one place each), the first booked by
/// `token` for coupon 0000000001: the reservation's id and the second slot's.
pub async fn booked_at(server: &TestServer, token: &str, venue: &Value) -> (Value, Value) {
    server
        .data_as(
            token,
            CREATE,
            schedule(server, venue, (1, 1), &[("09:00", "10:00")], 30, 1),
        )
        .await;
    let slots = free_slots(server, venue, 1).await;
    let booked = server
        .data_as(
            token,
            BOOK,
            booking(venue, &slots[0]["id"], "0000000001", 1),
        )
        .await;
    (
        booked["bookReservation"]["id"].clone(),
        slots[1]["id"].clone(),
    )
}

/// Meguro's special venue (目黒区特設会場01) with one-place, 30-minute slots tomorrow in
/// `hours`, on a server whose users sign in freely.
pub struct MeguroVenue {
    pub server: TestServer,
    /// Meguro's booking call centre.
    pub operator: String,
    /// Meguro's officer (runs the special venue).
    pub meguro: String,
    pub venue: Value,
    /// Tomorrow's free slots, in time order.
    pub slots: Vec<Value>,
}

pub async fn meguro_venue_tomorrow(hours: (&str, &str)) -> MeguroVenue {
    let server = TestServer::start_signing_in_freely().await;
    let operator = server.sign_in("meguro.callcenter").await;
    let meguro = server.sign_in("meguro.admin").await;
    let venue = super::api::facility_id(&server, "目黒区特設会場01").await;
    server
        .data_as(
            &meguro,
            CREATE,
            schedule(&server, &venue, (1, 1), &[hours], 30, 1),
        )
        .await;
    let slots = free_slots(&server, &venue, 1).await;
    MeguroVenue {
        server,
        operator,
        meguro,
        venue,
        slots,
    }
}

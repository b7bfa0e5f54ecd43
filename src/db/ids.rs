//! Identifiers and timestamps as the database stores them (portable TEXT).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A new time-ordered identifier (UUIDv7), so keyset pagination by id follows creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current instant as RFC 3339 UTC with millisecond precision (sorts as text).
pub fn now_utc() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    now.format(&Rfc3339)
        .expect("a UTC instant always formats as RFC 3339")
}

pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

//! Identifiers and timestamps as the database stores them (portable TEXT).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A new time-ordered identifier (UUIDv7), so keyset pagination by id follows creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current instant as RFC 3339 UTC with millisecond precision (sorts as text).
pub fn now_utc() -> String {
    format_timestamp(OffsetDateTime::now_utc())
}

/// The instant `offset` from now, formatted like [`now_utc`] (negative offsets are the past).
pub fn timestamp_after(offset: time::Duration) -> String {
    format_timestamp(OffsetDateTime::now_utc() + offset)
}

/// An instant formatted for storage: RFC 3339 UTC with milliseconds, so timestamps compare
/// correctly as text.
pub fn format_timestamp(instant: OffsetDateTime) -> String {
    // A fixed shape (always three fraction digits): RFC 3339 formatting drops a zero fraction,
    // and "…:16Z" sorts after "…:16.500Z" as text.
    const SHAPE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(SHAPE)
        .expect("a UTC instant always formats")
}

pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_one_shape_so_text_order_is_time_order() {
        let earlier = timestamp_after(time::Duration::seconds(-1));
        let now = now_utc();
        let later = timestamp_after(time::Duration::minutes(15));
        assert!(earlier < now && now < later, "{earlier} {now} {later}");
        assert_eq!(now.len(), "2026-11-25T13:29:16.123Z".len());
        assert!(parse_timestamp(&later).is_some());
    }
}

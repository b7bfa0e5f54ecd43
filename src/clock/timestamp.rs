//! The one timestamp type: an instant in UTC, stored as RFC 3339 text with exactly three
//! fraction digits, so that text order is time order on both databases.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant, as stored and as shown (`2026-11-25T13:29:16.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses any RFC 3339 instant (any offset); `None` for anything else.
    pub fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(Timestamp::from)
    }

    pub fn instant(self) -> OffsetDateTime {
        self.0
    }
}

impl std::ops::Add<time::Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, offset: time::Duration) -> Timestamp {
        Timestamp::from(self.0 + offset)
    }
}

impl std::ops::Sub<time::Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, offset: time::Duration) -> Timestamp {
        Timestamp::from(self.0 - offset)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(instant: OffsetDateTime) -> Timestamp {
        // Stored with millisecond precision; truncating here keeps a value equal to itself
        // after a round trip through the database.
        let instant = instant.to_offset(time::UtcOffset::UTC);
        let millis = instant.millisecond();
        Timestamp(
            instant
                .replace_millisecond(millis)
                .expect("a millisecond read from an instant is valid"),
        )
    }
}

/// The Unix epoch: only so that row structs can derive `Default` for test fixtures.
impl Default for Timestamp {
    fn default() -> Timestamp {
        Timestamp(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Serialised as its stored text (audit snapshots, event payloads).
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A fixed shape (always three fraction digits): RFC 3339 formatting drops a zero
        // fraction, and "…:16Z" sorts after "…:16.500Z" as text.
        const SHAPE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let text = self.0.format(SHAPE).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl sqlx::Type<sqlx::Any> for Timestamp {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <str as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Any>>::encode(self.to_string(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Timestamp {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        Timestamp::parse(text).ok_or_else(|| format!("not a timestamp: {text:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let at = |s: &str| Timestamp::parse(s).unwrap();
        let whole = at("2026-11-25T13:29:16Z");
        let later = at("2026-11-25T13:29:16.5+00:00");
        assert_eq!(whole.to_string(), "2026-11-25T13:29:16.000Z");
        assert_eq!(later.to_string(), "2026-11-25T13:29:16.500Z");
        assert!(whole < later && whole.to_string() < later.to_string());
    }

    #[test]
    fn other_offsets_are_stored_in_utc() {
        let jst = Timestamp::parse("2026-11-26T09:00:00+09:00").unwrap();
        assert_eq!(jst.to_string(), "2026-11-26T00:00:00.000Z");
    }

    #[test]
    fn sub_millisecond_digits_are_dropped_so_a_value_survives_storage() {
        let precise = Timestamp::parse("2026-11-25T13:29:16.123456Z").unwrap();
        assert_eq!(Timestamp::parse(&precise.to_string()), Some(precise));
    }

    #[test]
    fn anything_else_is_not_a_timestamp() {
        for text in ["", "2026-11-25", "2026-11-25 13:29:16", "yesterday"] {
            assert_eq!(Timestamp::parse(text), None, "{text}");
        }
    }
}

//! What time it is, asked in one place.
//!
//! Deadlines, expiries, lock-outs, contract dates and (later) reservation slots all depend on
//! "now". The server reads it from one [`Clock`], held by the database handle and the
//! application state, so a test moves time by advancing the clock instead of rewriting rows.
//! Rate limits and timeouts measure elapsed time with the monotonic clock, not this one.

mod timestamp;

pub use timestamp::Timestamp;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime, UtcOffset};

/// Japan Standard Time: calendar days in the product (contract dates, delivery days) are
/// Japanese days.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+09:00 is a valid offset"),
};

/// The wall clock, shifted by an offset that only tests change. Cheap to clone; clones share
/// the offset, so advancing a test server's clock moves every part of that server.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        let offset = Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        Timestamp::from(OffsetDateTime::now_utc() + offset)
    }

    /// The instant `offset` from now (negative offsets are the past).
    pub fn after(&self, offset: Duration) -> Timestamp {
        Timestamp::from(self.now().instant() + offset)
    }

    /// Today's date in Japan, `YYYY-MM-DD` (how calendar dates are stored).
    pub fn today_in_japan(&self) -> String {
        self.japan_date().to_string()
    }

    /// Today's date in Japan, for date arithmetic.
    pub fn japan_date(&self) -> time::Date {
        self.now().instant().to_offset(JST).date()
    }

    /// Seconds since the Unix epoch (for time-based one-time codes).
    pub fn unix_seconds(&self) -> u64 {
        self.now().instant().unix_timestamp().max(0) as u64
    }

    /// Moves this clock (and every clone of it) forward by `by`; a negative duration moves it
    /// back. For tests: the server keeps running on the moved time.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(Duration::days(2));
        let after = clone.now();
        assert!(after.instant() - before.instant() >= Duration::days(2));
        assert!(after.instant() - before.instant() < Duration::days(2) + Duration::minutes(1));
    }

    #[test]
    fn japanese_days_start_at_15_utc() {
        let clock = Clock::system();
        let now = clock.now().instant();
        // Move to 15:00 UTC today, which is 00:00 tomorrow in Japan.
        let target = now.replace_time(time::Time::from_hms(15, 0, 0).unwrap());
        clock.advance(target - now);
        assert_eq!(
            clock.today_in_japan(),
            (target.date() + Duration::days(1)).to_string()
        );
        clock.advance(Duration::seconds(-1));
        assert_eq!(clock.today_in_japan(), target.date().to_string());
    }
}

//! The dry-ice supplier's check (seed p. 43): where vaccines shipped on dry ice go, and when
//! their thermal shipping boxes need fresh dry ice, derived from the delivery (or its scheduled
//! date) and the product's refill interval. A box is used for up to 30 days after delivery
//! (Pfizer's 2021 handling guidance: re-iced every 5 days, up to 30 days).

use time::Date;

use crate::error::AppResult;
use crate::facilities::codes::parse_date;

/// Days a thermal shipping box may be kept as a store after delivery.
pub const SHIPPER_DAYS: i64 = 30;

/// The refill dates after `arrival`: every `refill_days`, within [`SHIPPER_DAYS`].
pub fn exchange_dates(arrival: Date, refill_days: i64) -> Vec<Date> {
    if refill_days <= 0 {
        return Vec::new();
    }
    (1..)
        .map(|n| n * refill_days)
        .take_while(|days| *days <= SHIPPER_DAYS)
        .map(|days| arrival + time::Duration::days(days))
        .collect()
}

/// [`exchange_dates`] from the stored text of a date.
pub fn exchange_dates_from(arrival: &str, refill_days: i64) -> AppResult<Vec<String>> {
    let arrival = parse_date("date", arrival)?;
    Ok(exchange_dates(arrival, refill_days)
        .iter()
        .map(Date::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_five_days_for_thirty_days() {
        let dates = exchange_dates_from("2021-05-24", 5).unwrap();
        assert_eq!(
            dates,
            [
                "2021-05-29",
                "2021-06-03",
                "2021-06-08",
                "2021-06-13",
                "2021-06-18",
                "2021-06-23"
            ]
        );
        assert!(exchange_dates_from("2021-05-24", 0).unwrap().is_empty());
    }
}

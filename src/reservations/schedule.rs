//! A slot schedule (seed p. 39: 予約枠の一括作成): a date range, the days of the week, the
//! opening hours with their breaks, the slot length and the places per slot, expanded into the
//! slots it describes. Pure: validated and expanded without the database.

use async_graphql::Enum;
use time::{Date, Duration, Time, Weekday};

use crate::error::{AppError, AppResult};
pub use crate::facilities::codes::parse_date;

/// At most this many days in one call: a year of slots.
pub const MAX_DAYS: i64 = 366;
/// At most this many slots a day at one venue for one vaccine (a five-minute slot all day long
/// is 288); what lies beyond is a typing error, such as one-minute slots.
pub const MAX_SLOTS_PER_DAY: usize = 300;
/// At most this many opening periods a day (breaks are the gaps between them).
const MAX_PERIODS: usize = 12;

/// A day of the week.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DayOfWeek {
    /// Monday (月曜日).
    Monday,
    /// Tuesday (火曜日).
    Tuesday,
    /// Wednesday (水曜日).
    Wednesday,
    /// Thursday (木曜日).
    Thursday,
    /// Friday (金曜日).
    Friday,
    /// Saturday (土曜日).
    Saturday,
    /// Sunday (日曜日).
    Sunday,
}

impl DayOfWeek {
    /// Every day of the week, Monday first.
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Monday,
        DayOfWeek::Tuesday,
        DayOfWeek::Wednesday,
        DayOfWeek::Thursday,
        DayOfWeek::Friday,
        DayOfWeek::Saturday,
        DayOfWeek::Sunday,
    ];

    fn weekday(self) -> Weekday {
        match self {
            DayOfWeek::Monday => Weekday::Monday,
            DayOfWeek::Tuesday => Weekday::Tuesday,
            DayOfWeek::Wednesday => Weekday::Wednesday,
            DayOfWeek::Thursday => Weekday::Thursday,
            DayOfWeek::Friday => Weekday::Friday,
            DayOfWeek::Saturday => Weekday::Saturday,
            DayOfWeek::Sunday => Weekday::Sunday,
        }
    }
}

/// A schedule as entered: dates as `YYYY-MM-DD`, times as `HH:MM` (Japan time).
pub struct ScheduleInput<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub days_of_week: &'a [DayOfWeek],
    /// Opening periods of a day, `(opens, closes)`.
    pub periods: Vec<(&'a str, &'a str)>,
    pub slot_minutes: i64,
    pub capacity: i64,
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub from: Date,
    pub to: Date,
    days: Vec<Weekday>,
    periods: Vec<(Time, Time)>,
    slot: Duration,
    pub capacity: i64,
}

/// One slot, in Japan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTime {
    pub date: Date,
    pub starts: Time,
    pub ends: Time,
}

impl SlotTime {
    /// `YYYY-MM-DDTHH:MM`, as stored: text order is time order.
    pub fn starts_at(&self) -> String {
        local_minute(self.date, self.starts)
    }

    pub fn ends_at(&self) -> String {
        local_minute(self.date, self.ends)
    }
}

/// A local date and time to the minute, `YYYY-MM-DDTHH:MM`.
pub fn local_minute(date: Date, at: Time) -> String {
    format!("{date}T{:02}:{:02}", at.hour(), at.minute())
}

/// Parses `HH:MM` (24-hour).
pub fn parse_time(field: &str, text: &str) -> AppResult<Time> {
    let format = time::macros::format_description!("[hour]:[minute]");
    Time::parse(text.trim(), format)
        .map_err(|_| AppError::invalid_field(field, "a time as HH:MM / 時刻はHH:MM形式です"))
}

impl Schedule {
    /// Checks a schedule against the rules; `today` is Japan's date (no slots in the past).
    pub fn validate(input: &ScheduleInput<'_>, today: Date) -> AppResult<Schedule> {
        let from = parse_date("from", input.from)?;
        let to = parse_date("to", input.to)?;
        if to < from {
            return Err(AppError::invalid_field(
                "to",
                "the end date is before the start date / 終了日が開始日より前です",
            ));
        }
        if from < today {
            return Err(AppError::invalid_field(
                "from",
                "slots cannot start in the past / 過去の日付には予約枠を作成できません",
            ));
        }
        if (to - from).whole_days() >= MAX_DAYS {
            return Err(AppError::invalid_field(
                "to",
                format!(
                    "at most {MAX_DAYS} days in one call / 一度に作成できるのは{MAX_DAYS}日分までです"
                ),
            ));
        }
        if input.days_of_week.is_empty() {
            return Err(AppError::invalid_field(
                "daysOfWeek",
                "name at least one day of the week / 曜日を一つ以上指定してください",
            ));
        }
        if !(1..=480).contains(&input.slot_minutes) {
            return Err(AppError::invalid_field(
                "slotMinutes",
                "a slot lasts 1 to 480 minutes / 枠の長さは1〜480分です",
            ));
        }
        if !(1..=1000).contains(&input.capacity) {
            return Err(AppError::invalid_field(
                "capacityPerSlot",
                "1 to 1,000 places per slot / 1枠の定員は1〜1,000人です",
            ));
        }
        if input.periods.is_empty() || input.periods.len() > MAX_PERIODS {
            return Err(AppError::invalid_field(
                "openingHours",
                format!(
                    "1 to {MAX_PERIODS} opening periods a day / 受付時間帯は1〜{MAX_PERIODS}件です"
                ),
            ));
        }
        let mut periods = Vec::with_capacity(input.periods.len());
        for (opens, closes) in &input.periods {
            let opens = parse_time("openingHours", opens)?;
            let closes = parse_time("openingHours", closes)?;
            if closes <= opens {
                return Err(AppError::invalid_field(
                    "openingHours",
                    "a period closes after it opens / 終了時刻は開始時刻より後にしてください",
                ));
            }
            periods.push((opens, closes));
        }
        periods.sort();
        if periods.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(AppError::invalid_field(
                "openingHours",
                "opening periods overlap / 受付時間帯が重なっています",
            ));
        }
        let slot = Duration::minutes(input.slot_minutes);
        let schedule = Schedule {
            from,
            to,
            days: input.days_of_week.iter().map(|d| d.weekday()).collect(),
            periods,
            slot,
            capacity: input.capacity,
        };
        let per_day = schedule.day_slots(from).len();
        if per_day == 0 {
            return Err(AppError::invalid_field(
                "slotMinutes",
                "no slot fits in the opening hours / 受付時間内に枠が収まりません",
            ));
        }
        if per_day > MAX_SLOTS_PER_DAY {
            return Err(AppError::invalid_field(
                "slotMinutes",
                format!(
                    "{per_day} slots a day; at most {MAX_SLOTS_PER_DAY} / 1日{per_day}枠は多すぎます（上限{MAX_SLOTS_PER_DAY}枠）"
                ),
            ));
        }
        Ok(schedule)
    }

    /// The slots of one day: each opening period cut into slots; a remainder shorter than a
    /// slot at the end of a period is left unbooked.
    fn day_slots(&self, date: Date) -> Vec<SlotTime> {
        let mut slots = Vec::new();
        for &(opens, closes) in &self.periods {
            let mut starts = opens;
            loop {
                let ends = starts + self.slot;
                // `Time` wraps at midnight: a slot running past it does not fit.
                if ends <= starts || ends > closes {
                    break;
                }
                slots.push(SlotTime { date, starts, ends });
                starts = ends;
            }
        }
        slots
    }

    /// Every slot of the schedule, in time order.
    pub fn slots(&self) -> Vec<SlotTime> {
        let mut slots = Vec::new();
        let mut date = self.from;
        while date <= self.to {
            if self.days.contains(&date.weekday()) {
                slots.extend(self.day_slots(date));
            }
            match date.next_day() {
                Some(next) => date = next,
                None => break,
            }
        }
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input<'a>(days: &'a [DayOfWeek], periods: Vec<(&'a str, &'a str)>) -> ScheduleInput<'a> {
        ScheduleInput {
            from: "2026-12-07",
            to: "2026-12-13",
            days_of_week: days,
            periods,
            slot_minutes: 30,
            capacity: 6,
        }
    }

    const TODAY: Date = date!(2026 - 12 - 01);

    #[test]
    fn a_week_of_weekday_mornings_and_afternoons_with_a_lunch_break() {
        let days = [
            DayOfWeek::Monday,
            DayOfWeek::Tuesday,
            DayOfWeek::Wednesday,
            DayOfWeek::Thursday,
            DayOfWeek::Friday,
        ];
        let schedule = Schedule::validate(
            &input(&days, vec![("13:00", "15:00"), ("09:00", "12:00")]),
            TODAY,
        )
        .unwrap();
        let slots = schedule.slots();
        // 6 morning + 4 afternoon slots on 5 days (2026-12-07 is a Monday).
        assert_eq!(slots.len(), 50);
        assert_eq!(slots[0].starts_at(), "2026-12-07T09:00");
        assert_eq!(slots[0].ends_at(), "2026-12-07T09:30");
        assert_eq!(slots[5].ends_at(), "2026-12-07T12:00");
        assert_eq!(slots[6].starts_at(), "2026-12-07T13:00");
        assert_eq!(slots[49].ends_at(), "2026-12-11T15:00");
        assert!(slots.iter().all(|s| s.date.weekday() != Weekday::Saturday));
    }

    #[test]
    fn a_remainder_shorter_than_a_slot_is_left_out() {
        let mut i = input(&[DayOfWeek::Monday], vec![("09:00", "10:10")]);
        i.slot_minutes = 20;
        let slots = Schedule::validate(&i, TODAY).unwrap().slots();
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[2].ends_at(), "2026-12-07T10:00");
    }

    #[test]
    fn a_slot_never_runs_past_midnight() {
        let mut i = input(&[DayOfWeek::Monday], vec![("23:00", "23:59")]);
        i.slot_minutes = 45;
        assert_eq!(Schedule::validate(&i, TODAY).unwrap().slots().len(), 1);
    }

    fn refused_field(i: &ScheduleInput<'_>) -> String {
        match Schedule::validate(i, TODAY) {
            Err(AppError::InvalidInput { field, .. }) => field.unwrap(),
            other => panic!(
                "expected invalid input, got {:?}",
                other.map(|s| s.slots().len())
            ),
        }
    }

    #[test]
    fn bad_schedules_name_their_field() {
        let days = [DayOfWeek::Monday];
        let mut i = input(&days, vec![("09:00", "12:00")]);
        i.to = "2026-12-01";
        assert_eq!(refused_field(&i), "to");
        let mut i = input(&days, vec![("09:00", "12:00")]);
        i.from = "2026-11-30";
        assert_eq!(refused_field(&i), "from");
        let mut i = input(&days, vec![("09:00", "12:00")]);
        i.to = "2027-12-08";
        assert_eq!(refused_field(&i), "to");
        let mut i = input(&days, vec![("09:00", "12:00")]);
        i.capacity = 0;
        assert_eq!(refused_field(&i), "capacityPerSlot");
        let i = input(&[], vec![("09:00", "12:00")]);
        assert_eq!(refused_field(&i), "daysOfWeek");
        let i = input(&days, vec![("12:00", "09:00")]);
        assert_eq!(refused_field(&i), "openingHours");
        let i = input(&days, vec![("09:00", "12:00"), ("11:00", "13:00")]);
        assert_eq!(refused_field(&i), "openingHours");
        let i = input(&days, vec![("9 o'clock", "12:00")]);
        assert_eq!(refused_field(&i), "openingHours");
        // One-minute slots all day: 1,439 a day.
        let mut i = input(&days, vec![("00:00", "23:59")]);
        i.slot_minutes = 1;
        assert_eq!(refused_field(&i), "slotMinutes");
        let mut i = input(&days, vec![("09:00", "09:20")]);
        i.slot_minutes = 30;
        assert_eq!(refused_field(&i), "slotMinutes");
    }

    #[test]
    fn a_year_of_slots_is_allowed() {
        let mut i = input(&DayOfWeek::ALL, vec![("09:00", "10:00")]);
        i.to = "2027-12-06";
        i.slot_minutes = 60;
        assert_eq!(Schedule::validate(&i, TODAY).unwrap().slots().len(), 365);
    }
}

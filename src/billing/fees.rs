//! The fee table (費用): what one vaccination, one pre-screening without vaccination and each
//! add-on is paid, per period. The 2021 figures are seeded; the nation sets new periods.

use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Yen per item, tax excluded, from `valid_from` on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeTable {
    pub valid_from: String,
    pub vaccination: i64,
    pub screening_only: i64,
    pub under_six: i64,
    pub out_of_hours: i64,
    pub holiday: i64,
}

/// Counts of one claim line, as billed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub vaccinations: i64,
    pub screenings_only: i64,
    pub under_six: i64,
    pub out_of_hours: i64,
    pub holidays: i64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.vaccinations += other.vaccinations;
        self.screenings_only += other.screenings_only;
        self.under_six += other.under_six;
        self.out_of_hours += other.out_of_hours;
        self.holidays += other.holidays;
    }

    /// Add-ons apply to a visit (vaccinated or screened), so none may exceed the visits.
    pub fn check(&self) -> Result<(), &'static str> {
        let values = [
            self.vaccinations,
            self.screenings_only,
            self.under_six,
            self.out_of_hours,
            self.holidays,
        ];
        if values.iter().any(|v| *v < 0) {
            return Err("counts are not negative / 件数は0以上です");
        }
        let visits = self.vaccinations + self.screenings_only;
        if self.under_six > visits || self.out_of_hours > visits || self.holidays > visits {
            return Err(
                "an add-on applies to a visit: no more add-ons than visits / 加算は接種・予診の件数以下です",
            );
        }
        if visits > 1_000_000 {
            return Err("at most 1,000,000 visits a line / 1行100万件までです");
        }
        Ok(())
    }
}

impl FeeTable {
    /// The amount of `counts` under this table, in yen.
    pub fn amount(&self, counts: &Counts) -> i64 {
        counts.vaccinations * self.vaccination
            + counts.screenings_only * self.screening_only
            + counts.under_six * self.under_six
            + counts.out_of_hours * self.out_of_hours
            + counts.holidays * self.holiday
    }
}

/// The table in force on the first day of `month` (YYYY-MM).
pub async fn for_month(db: &Db, month: &str) -> AppResult<FeeTable> {
    let first_day = format!("{month}-01");
    sqlx::query_as(
        "SELECT valid_from, vaccination, screening_only, under_six, out_of_hours, holiday \
         FROM billing_fee_tables WHERE valid_from <= $1 ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(first_day)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| {
        AppError::invalid_field(
            "month",
            "no fee table covers this month / この月に適用される単価がありません",
        )
    })
}

/// Every table, oldest first.
pub async fn all(db: &Db) -> AppResult<Vec<FeeTable>> {
    Ok(sqlx::query_as(
        "SELECT valid_from, vaccination, screening_only, under_six, out_of_hours, holiday \
         FROM billing_fee_tables ORDER BY valid_from",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Sets the fees from `table.valid_from` on (replacing a table of the same day). The nation
/// only. Audited.
pub async fn set(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    table: FeeTable,
) -> AppResult<FeeTable> {
    decide(Some(actor), Action::SetBillingFees, Target::System)?;
    crate::facilities::codes::parse_date("validFrom", &table.valid_from)?;
    let fees = [
        table.vaccination,
        table.screening_only,
        table.under_six,
        table.out_of_hours,
        table.holiday,
    ];
    if fees.iter().any(|f| !(0..=1_000_000).contains(f)) {
        return Err(AppError::invalid_field(
            "fees",
            "each fee is 0 to 1,000,000 yen / 単価は0〜1,000,000円です",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    sqlx::query(
        "INSERT INTO billing_fee_tables (valid_from, vaccination, screening_only, under_six, \
         out_of_hours, holiday, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (valid_from) DO UPDATE SET vaccination = excluded.vaccination, \
         screening_only = excluded.screening_only, under_six = excluded.under_six, \
         out_of_hours = excluded.out_of_hours, holiday = excluded.holiday, \
         created_by = excluded.created_by, created_at = excluded.created_at",
    )
    .bind(&table.valid_from)
    .bind(table.vaccination)
    .bind(table.screening_only)
    .bind(table.under_six)
    .bind(table.out_of_hours)
    .bind(table.holiday)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("setBillingFees", Outcome::Success, Some(actor))
            .object("FeeTable", &table.valid_from)
            .change(None, Some(json!(table))),
    )
    .await?;
    tx.commit().await?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees_2021() -> FeeTable {
        FeeTable {
            valid_from: "2021-02-17".into(),
            vaccination: 2070,
            screening_only: 1540,
            under_six: 660,
            out_of_hours: 730,
            holiday: 2130,
        }
    }

    #[test]
    fn the_amount_adds_visits_and_add_ons() {
        let counts = Counts {
            vaccinations: 10,
            screenings_only: 2,
            under_six: 1,
            out_of_hours: 3,
            holidays: 2,
        };
        assert_eq!(
            fees_2021().amount(&counts),
            10 * 2070 + 2 * 1540 + 660 + 3 * 730 + 2 * 2130
        );
    }

    #[test]
    fn add_ons_never_exceed_visits_and_nothing_is_negative() {
        let mut counts = Counts {
            vaccinations: 1,
            ..Counts::default()
        };
        assert!(counts.check().is_ok());
        counts.holidays = 2;
        assert!(counts.check().is_err());
        let negative = Counts {
            vaccinations: -1,
            ..Counts::default()
        };
        assert!(negative.check().is_err());
    }
}

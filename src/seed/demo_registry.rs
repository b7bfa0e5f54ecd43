//! What the demo's facilities need before allocation can run (seed pp. 26–28): contracts,
//! doctors, vaccines handled, weekly capacity and the delivering wholesaler — so that
//! `eligibility` is ELIGIBLE for most of them, and each ineligibility reason is shown by one:
//!
//! | facility | contract | doctors | eligibility |
//! |---|---|---|---|
//! | 目黒区病院01 | collective, through the Meguro medical association | — | eligible |
//! | 目黒区診療所01 (satellite of 目黒区病院01) | individual, with Meguro | — | eligible |
//! | 目黒区特設会場01 | individual, with Meguro | one person, both roles | eligible |
//! | 世田谷区病院01, 横浜病院01, 横浜診療所01 | individual | — | eligible |
//! | 港区診療所01 | none | — | NO_CURRENT_CONTRACT |
//! | 横浜特設会場01 | individual, with Yokohama | none | NO_RESPONSIBLE_DOCTOR, NO_VACCINATING_DOCTOR |

use crate::facilities::ContractKind;
use crate::organizations::ReservationMode;
use std::collections::HashMap;

use crate::db::{Db, new_id};
use crate::error::AppResult;

/// The date the demo's contracts start (the first vaccinations in Japan, 2021-02-17).
const JOINED: &str = "2021-02-15";

enum Contract {
    /// Through the aggregator with this code.
    Collective(&'static str),
    /// With the facility's own municipality.
    Individual,
    None,
}

struct Registry {
    code: &'static str,
    contract: Contract,
    /// (name, licence number): one person registered as responsible and vaccinating doctor.
    doctor: Option<(&'static str, &'static str)>,
    weekly_capacity: i64,
}

const REGISTRY: [Registry; 8] = [
    Registry {
        code: "1311000010",
        contract: Contract::Collective("AGG-131105"),
        doctor: None,
        weekly_capacity: 600,
    },
    Registry {
        code: "1311000028",
        contract: Contract::Individual,
        doctor: None,
        weekly_capacity: 150,
    },
    Registry {
        code: "1319000012",
        contract: Contract::Individual,
        doctor: Some(("目黒 一郎", "123456")),
        weekly_capacity: 1200,
    },
    Registry {
        code: "1311000036",
        contract: Contract::Individual,
        doctor: None,
        weekly_capacity: 500,
    },
    Registry {
        code: "1311000044",
        contract: Contract::None,
        doctor: None,
        weekly_capacity: 100,
    },
    Registry {
        code: "1411000019",
        contract: Contract::Individual,
        doctor: None,
        weekly_capacity: 800,
    },
    Registry {
        code: "1411000027",
        contract: Contract::Individual,
        doctor: None,
        weekly_capacity: 200,
    },
    Registry {
        code: "1419000011",
        contract: Contract::Individual,
        doctor: None,
        weekly_capacity: 1500,
    },
];

/// Every demo facility handles this vaccine, and is delivered to by this wholesaler.
const VACCINE: &str = "PFIZER";
const WHOLESALER: &str = "WS-KANTO-01";
/// The special venue Meguro runs takes its bookings in vsys (the navigator shows its slots);
/// the other facilities book elsewhere.
const VSYS_VENUE: &str = "1319000012";
/// The one demo facility that has not agreed to appear on the navigator (Setagaya Hospital
/// 01): the others have.
const UNPUBLISHED: &str = "1311000036";
/// The aggregator's account that recorded the power of attorney it received.
const AGGREGATOR_USER: &str = "meguro-ma.admin";

/// Writes the registry data in one transaction. Runs after the organisations and the demo
/// accounts exist.
pub async fn seed(db: &Db) -> AppResult<()> {
    let organizations: Vec<(String, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, kind, code, municipality_id FROM organizations")
            .fetch_all(db.pool())
            .await?;
    let id_of = |kind: &str, code: &str| -> String {
        organizations
            .iter()
            .find(|(_, k, c, _)| k == kind && c == code)
            .map(|(id, ..)| id.clone())
            .unwrap_or_else(|| panic!("demo organisation {kind} {code}"))
    };
    let municipality_of: HashMap<&str, Option<String>> = organizations
        .iter()
        .map(|(id, _, _, m)| (id.as_str(), m.clone()))
        .collect();
    let wholesaler = id_of("WHOLESALER", WHOLESALER);
    let recorder: String = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(AGGREGATOR_USER)
        .fetch_one(db.pool())
        .await?;
    let now = db.now();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE facilities SET reservation_mode = $1 WHERE organization_id = $2")
        .bind(ReservationMode::Vsys.as_db())
        .bind(id_of("FACILITY", VSYS_VENUE))
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE facilities SET navigator_published = 1 WHERE organization_id <> $1")
        .bind(id_of("FACILITY", UNPUBLISHED))
        .execute(tx.conn())
        .await?;
    for facility in &REGISTRY {
        let id = id_of("FACILITY", facility.code);
        sqlx::query(
            "UPDATE facilities SET vaccines_handled = $2, weekly_capacity = $3, \
             delivering_wholesaler_id = $4 WHERE organization_id = $1",
        )
        .bind(&id)
        .bind(serde_json::json!([VACCINE]).to_string())
        .bind(facility.weekly_capacity)
        .bind(&wholesaler)
        .execute(tx.conn())
        .await?;
        let (kind, aggregator, counterpart) = match facility.contract {
            Contract::None => (None, None, None),
            Contract::Collective(code) => (
                Some(ContractKind::Collective),
                Some(id_of("AGGREGATOR", code)),
                None,
            ),
            Contract::Individual => (
                Some(ContractKind::Individual),
                None,
                municipality_of[id.as_str()].clone(),
            ),
        };
        if let Some(kind) = kind {
            sqlx::query(
                "INSERT INTO contracts (id, facility_id, kind, aggregator_id, join_date, \
                 counterpart_municipality_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(new_id())
            .bind(&id)
            .bind(kind)
            .bind(aggregator.as_deref())
            .bind(JOINED)
            .bind(counterpart.as_deref())
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        if let Some(aggregator) = &aggregator {
            sqlx::query(
                "INSERT INTO powers_of_attorney (id, aggregator_id, facility_id, received_date, \
                 status, recorded_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'RECEIVED', $5, $6, $6)",
            )
            .bind(new_id())
            .bind(aggregator)
            .bind(&id)
            .bind(JOINED)
            .bind(&recorder)
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        if let Some((name, licence)) = facility.doctor {
            // Seed p. 28: the same person is registered in both roles.
            sqlx::query(
                "INSERT INTO doctors (id, facility_id, name, licence_number, is_responsible, \
                 is_vaccinating, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 1, $5, $5)",
            )
            .bind(new_id())
            .bind(&id)
            .bind(name)
            .bind(licence)
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
    }
    // The product master: the vaccine every demo facility handles and Moderna, needles and
    // syringes.
    super::products::insert(&mut tx, &super::products::ALL, |code| {
        Some(id_of("MANUFACTURER", code))
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

//! Whether a facility may receive allocations and offer reservations, and if not, why. The
//! allocation and reservation features call the same function.

use async_graphql::{Enum, SimpleObject};

use super::{contracts, doctors};
use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::{FacilityType, OrganizationRecord};

/// Why a facility is not eligible.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum EligibilityReason {
    /// No vaccination contract is in force today (契約なし).
    NoCurrentContract,
    /// A special venue without a responsible doctor (ワクチン接種の責任者).
    NoResponsibleDoctor,
    /// A special venue without a vaccinating doctor (接種担当医).
    NoVaccinatingDoctor,
}

/// The verdict, with every reason that applies.
#[derive(SimpleObject, Debug, Clone)]
pub struct Eligibility {
    /// Whether the facility may receive allocations and offer reservations.
    pub eligible: bool,
    /// Why not (empty when eligible).
    pub reasons: Vec<EligibilityReason>,
}

pub async fn eligibility_of(db: &Db, facility: &OrganizationRecord) -> AppResult<Eligibility> {
    let today = db.clock().today_in_japan();
    let mut reasons = Vec::new();
    let contracts = contracts::of_facility(db, &facility.id).await?;
    if !contracts.iter().any(|c| c.is_current(&today)) {
        reasons.push(EligibilityReason::NoCurrentContract);
    }
    if facility.facility_type == Some(FacilityType::SpecialVenue) {
        // A withdrawn doctor no longer counts from the withdrawal date on.
        let doctors: Vec<_> = doctors::of_facility(db, &facility.id)
            .await?
            .into_iter()
            .filter(|d| d.is_active(&today))
            .collect();
        if !doctors.iter().any(|d| d.is_responsible) {
            reasons.push(EligibilityReason::NoResponsibleDoctor);
        }
        if !doctors.iter().any(|d| d.is_vaccinating) {
            reasons.push(EligibilityReason::NoVaccinatingDoctor);
        }
    }
    Ok(Eligibility {
        eligible: reasons.is_empty(),
        reasons,
    })
}

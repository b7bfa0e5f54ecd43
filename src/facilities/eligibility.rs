//! Whether a facility may receive allocations and offer reservations, and if not, why. The
//! allocation and reservation features call the same function.

use async_graphql::{Enum, SimpleObject};

use super::{contracts, doctors};
use std::collections::HashMap;

use crate::authz::AreaFilter;
use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::{FacilityType, OrganizationRecord};

/// Why a facility is not eligible.
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
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
    let contracts = contracts::of_facility(db, &facility.id).await?;
    let doctors = doctors::of_facility(db, &facility.id).await?;
    Ok(judge(facility.facility_type, &contracts, &doctors, &today))
}

/// The eligibility of every facility in `area` (by facility id) in two statements, for the
/// allocation proposals that weigh thousands of facilities at once. Same rule as
/// [`eligibility_of`]; a facility without contracts is in the map too when `facilities` names it.
pub async fn eligibility_in(
    db: &Db,
    area: &AreaFilter,
    facilities: &[(String, Option<FacilityType>)],
) -> AppResult<HashMap<String, Eligibility>> {
    let today = db.clock().today_in_japan();
    let mut contracts_by: HashMap<String, Vec<contracts::ContractRecord>> = HashMap::new();
    for contract in contracts::in_area(db, area).await? {
        contracts_by
            .entry(contract.facility_id.clone())
            .or_default()
            .push(contract);
    }
    let mut doctors_by: HashMap<String, Vec<doctors::DoctorRecord>> = HashMap::new();
    for doctor in doctors::in_area(db, area).await? {
        doctors_by
            .entry(doctor.facility_id.clone())
            .or_default()
            .push(doctor);
    }
    Ok(facilities
        .iter()
        .map(|(id, facility_type)| {
            let contracts = contracts_by.get(id).map(Vec::as_slice).unwrap_or_default();
            let doctors = doctors_by.get(id).map(Vec::as_slice).unwrap_or_default();
            (
                id.clone(),
                judge(*facility_type, contracts, doctors, &today),
            )
        })
        .collect())
}

/// The rule itself: a contract in force today; a special venue also needs an active
/// responsible doctor and an active vaccinating doctor.
fn judge(
    facility_type: Option<FacilityType>,
    contracts: &[contracts::ContractRecord],
    doctors: &[doctors::DoctorRecord],
    today: &str,
) -> Eligibility {
    let mut reasons = Vec::new();
    if !contracts.iter().any(|c| c.is_current(today)) {
        reasons.push(EligibilityReason::NoCurrentContract);
    }
    if facility_type == Some(FacilityType::SpecialVenue) {
        // A withdrawn doctor no longer counts from the withdrawal date on.
        let active = || doctors.iter().filter(|d| d.is_active(today));
        if !active().any(|d| d.is_responsible) {
            reasons.push(EligibilityReason::NoResponsibleDoctor);
        }
        if !active().any(|d| d.is_vaccinating) {
            reasons.push(EligibilityReason::NoVaccinatingDoctor);
        }
    }
    Eligibility {
        eligible: reasons.is_empty(),
        reasons,
    }
}

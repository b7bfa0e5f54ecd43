//! Who may act on a facility: its own users, and its municipality where the facility allows
//! proxy input (代行入力). Everyone else: not found outside their area, forbidden inside it.

use crate::authz::within_area;
use crate::error::AppError;
use crate::identity::{Actor, OrgScope, Role};
use crate::organizations::{OrganizationKind, OrganizationRecord};

/// How the actor acts on the facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// One of the facility's own users.
    Itself,
    /// Its municipality, entering data for it.
    Proxy,
}

pub fn scope_of(record: &OrganizationRecord) -> OrgScope {
    OrgScope {
        id: record.id.clone(),
        kind: record.kind(),
        prefecture_id: record.prefecture_id.clone(),
        municipality_id: record.municipality_id.clone(),
    }
}

/// May `actor` edit the facility's data (details, doctors, individual contract)?
pub fn may_edit(actor: &Actor, facility: &OrganizationRecord) -> Result<Acting, AppError> {
    if facility.kind() != OrganizationKind::Facility {
        return Err(AppError::NotFound("facility"));
    }
    if actor.organization.id == facility.id {
        return Ok(Acting::Itself);
    }
    let own_municipality = actor.role == Role::Municipality
        && facility.municipality_id.as_deref() == Some(actor.organization.id.as_str());
    if own_municipality && facility.proxy_input == Some(1) {
        return Ok(Acting::Proxy);
    }
    if within_area(actor, &scope_of(facility)) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound("facility"))
    }
}

/// May `actor` approve or reject the facility's change requests? Only its own municipality.
pub fn may_decide(actor: &Actor, facility: &OrganizationRecord) -> Result<(), AppError> {
    let own_municipality = actor.role == Role::Municipality
        && facility.municipality_id.as_deref() == Some(actor.organization.id.as_str());
    if own_municipality {
        Ok(())
    } else if within_area(actor, &scope_of(facility)) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound("change request"))
    }
}

/// May `actor` see the facility's private data (doctors, contracts, requests, eligibility)?
pub fn may_see(actor: Option<&Actor>, facility: &OrganizationRecord) -> Result<(), AppError> {
    let actor = actor.ok_or(AppError::Unauthenticated)?;
    if within_area(actor, &scope_of(facility)) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

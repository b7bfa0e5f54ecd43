//! Who may act on a facility, asked of the one authorization function (`authz::decide`):
//! its own users, and its municipality where the facility allows proxy input (代行入力).

use crate::actor::{Actor, OrgScope};
use crate::authz::{Action, Target, decide};
use crate::error::AppError;
use crate::organizations::{OrganizationKind, OrganizationRecord};

/// How the actor acts on the facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// One of the facility's own users.
    Itself,
    /// Its municipality, entering data for it.
    Proxy,
    /// The municipality running it (a special venue).
    Operator,
}

pub fn scope_of(record: &OrganizationRecord) -> OrgScope {
    OrgScope {
        id: record.id.clone(),
        kind: record.kind(),
        prefecture_id: record.prefecture_id.clone(),
        municipality_id: record.municipality_id.clone(),
    }
}

fn target<'a>(scope: &'a OrgScope, facility: &'a OrganizationRecord) -> Target<'a> {
    Target::Facility {
        scope,
        proxy_input: facility.proxy_input(),
        operator: facility.operating_municipality_id.as_deref(),
    }
}

/// Decides `action` on a facility with the facility's own target (its proxy flag and the
/// municipality running it), for the areas built on facilities (reservations).
pub fn decide_on(
    actor: Option<&Actor>,
    action: Action,
    facility: &OrganizationRecord,
) -> Result<(), AppError> {
    if facility.kind() != OrganizationKind::Facility {
        return Err(AppError::NotFound("facility"));
    }
    let scope = scope_of(facility);
    decide(actor, action, target(&scope, facility))
}

/// May `actor` edit the facility's data (details, doctors, individual contract)?
pub fn may_edit(actor: &Actor, facility: &OrganizationRecord) -> Result<Acting, AppError> {
    if facility.kind() != OrganizationKind::Facility {
        return Err(AppError::NotFound("facility"));
    }
    let scope = scope_of(facility);
    decide(Some(actor), Action::EditFacility, target(&scope, facility))?;
    Ok(if actor.organization.id == facility.id {
        Acting::Itself
    } else if facility.operating_municipality_id.as_deref() == Some(actor.organization.id.as_str())
    {
        Acting::Operator
    } else {
        Acting::Proxy
    })
}

/// May `actor` approve or reject the facility's change requests?
pub fn may_decide(actor: &Actor, facility: &OrganizationRecord) -> Result<(), AppError> {
    let scope = scope_of(facility);
    decide(
        Some(actor),
        Action::DecideFacilityChange,
        target(&scope, facility),
    )
}

/// May `actor` see the facility's private data (doctors, contracts, requests, eligibility)?
pub fn may_see(actor: Option<&Actor>, facility: &OrganizationRecord) -> Result<(), AppError> {
    let scope = scope_of(facility);
    decide(actor, Action::ReadFacilityPrivate, target(&scope, facility))
}

//! Authorization: one function answers "may actor X do action Y on object Z".
//!
//! Two layers, as everywhere in vsys: resolvers first require a signed-in actor (the coarse
//! guard), then ask [`decide`] about the object at hand (the resource check). An object outside
//! the actor's area is `NOT_FOUND`, so a probe cannot learn that it exists; an object inside the
//! area that the role may not touch is `FORBIDDEN`.

use crate::error::AppError;
use crate::identity::{Actor, OrgScope, Role};

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create an account in an organisation.
    InviteUser,
    /// Lift the lock of an account after too many failures.
    UnlockUser,
    /// See an account's details.
    ReadUser,
    /// List an organisation's accounts.
    ListUsers,
    /// Read the audit log.
    ReadAuditLog,
    /// Change a facility's data, doctors or individual contract.
    EditFacility,
    /// Approve or reject a facility's change request.
    DecideFacilityChange,
    /// Read a facility's private data (doctors, contracts, requests, eligibility).
    ReadFacilityPrivate,
    /// Send an invited account a new set-up link (the earlier ones stop working).
    ReissueSetupLink,
    /// Disable or re-enable an account.
    SetUserStatus,
    /// Clear a user's forgotten security question, so that a new one is chosen (service desk).
    ResetSecurityAnswer,
    /// Invite many accounts across organisations from a CSV (service desk).
    InviteUsersInBulk,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::InviteUser,
        Action::UnlockUser,
        Action::ReadUser,
        Action::ListUsers,
        Action::ReadAuditLog,
        Action::EditFacility,
        Action::DecideFacilityChange,
        Action::ReadFacilityPrivate,
        Action::ReissueSetupLink,
        Action::SetUserStatus,
        Action::ResetSecurityAnswer,
        Action::InviteUsersInBulk,
    ];
}

/// What the action is about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An organisation (where to invite, whose accounts to list).
    Organization(&'a OrgScope),
    /// An account, with the organisation it belongs to.
    User {
        id: &'a str,
        organization: &'a OrgScope,
    },
    /// The system as a whole (the audit log).
    System,
    /// A facility, and whether its municipality may enter data for it (代行入力).
    Facility {
        scope: &'a OrgScope,
        proxy_input: bool,
    },
}

/// Whether `organization` lies in the area of `actor`: its own organisation or below it.
pub fn within_area(actor: &Actor, organization: &OrgScope) -> bool {
    let own = &actor.organization.id;
    match actor.role {
        Role::Nation | Role::SystemAdmin => true,
        Role::Prefecture => organization.prefecture_id.as_ref() == Some(own),
        Role::Municipality => {
            organization.municipality_id.as_ref() == Some(own) || &organization.id == own
        }
        _ => &organization.id == own,
    }
}

/// The decision. `None` actor means an anonymous caller.
pub fn decide(actor: Option<&Actor>, action: Action, target: Target<'_>) -> Result<(), AppError> {
    let actor = actor.ok_or(AppError::Unauthenticated)?;
    let is_admin_of = |org: &OrgScope| actor.is_org_admin && actor.organization.id == org.id;
    let own_municipality_of = |facility: &OrgScope| {
        actor.role == Role::Municipality
            && facility.municipality_id.as_ref() == Some(&actor.organization.id)
    };
    // Outside the area the object is not confirmed to exist; inside, the role may lack the right.
    let refuse = |facility: &OrgScope, what: &'static str| {
        if within_area(actor, facility) {
            Err(AppError::Forbidden)
        } else {
            Err(AppError::NotFound(what))
        }
    };
    match (action, target) {
        (Action::ReadAuditLog, _) => {
            allow_if(matches!(actor.role, Role::Nation | Role::SystemAdmin))
        }
        // Facility data is the facility's own, entered by it or by its municipality as proxy;
        // not even the service desk edits it.
        (Action::EditFacility, Target::Facility { scope, proxy_input }) => {
            if actor.organization.id == scope.id || (proxy_input && own_municipality_of(scope)) {
                Ok(())
            } else {
                refuse(scope, "facility")
            }
        }
        // Only the facility's municipality decides (seed p. 28).
        (Action::DecideFacilityChange, Target::Facility { scope, .. }) => {
            if own_municipality_of(scope) {
                Ok(())
            } else {
                refuse(scope, "change request")
            }
        }
        (Action::ReadFacilityPrivate, Target::Facility { scope, .. }) => {
            allow_if(within_area(actor, scope))
        }
        (_, _) if actor.role == Role::SystemAdmin => Ok(()),
        // The service desk's own work (seed p. 15: a forgotten answer; p. 2: accounts issued in
        // bulk per user group).
        (Action::InviteUsersInBulk, Target::System) => Err(AppError::Forbidden),
        (Action::ResetSecurityAnswer, Target::User { organization, .. }) => {
            if within_area(actor, organization) {
                Err(AppError::Forbidden)
            } else {
                Err(AppError::NotFound("user"))
            }
        }
        (Action::InviteUser | Action::ListUsers, Target::Organization(org)) => {
            if !within_area(actor, org) {
                return Err(AppError::NotFound("organization"));
            }
            allow_if(is_admin_of(org))
        }
        (
            Action::UnlockUser | Action::ReissueSetupLink | Action::SetUserStatus,
            Target::User { organization, .. },
        ) => {
            if !within_area(actor, organization) {
                return Err(AppError::NotFound("user"));
            }
            allow_if(is_admin_of(organization))
        }
        (Action::ReadUser, Target::User { id, organization }) => {
            if id == actor.user_id || is_admin_of(organization) {
                Ok(())
            } else {
                // Other people's accounts are not confirmed to exist.
                Err(AppError::NotFound("user"))
            }
        }
        // An action asked about the wrong kind of object is a programming error: refuse.
        _ => Err(AppError::Forbidden),
    }
}

fn allow_if(allowed: bool) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organizations::OrganizationKind as K;

    fn org(id: &str, kind: K, prefecture: Option<&str>, municipality: Option<&str>) -> OrgScope {
        OrgScope {
            id: id.into(),
            kind,
            prefecture_id: prefecture.map(Into::into),
            municipality_id: municipality.map(Into::into),
        }
    }

    /// The demo's shape: Tokyo ⊃ Meguro ⊃ Meguro Hospital; Kanagawa ⊃ Yokohama; partners.
    fn tokyo() -> OrgScope {
        org("tokyo", K::Prefecture, Some("tokyo"), None)
    }
    fn meguro() -> OrgScope {
        org("meguro", K::Municipality, Some("tokyo"), Some("meguro"))
    }
    fn hospital() -> OrgScope {
        org("hospital", K::Facility, Some("tokyo"), Some("meguro"))
    }
    fn yokohama() -> OrgScope {
        org(
            "yokohama",
            K::Municipality,
            Some("kanagawa"),
            Some("yokohama"),
        )
    }

    fn home(role: Role) -> OrgScope {
        match role {
            Role::Nation => org("nation", K::Nation, None, None),
            Role::Prefecture => tokyo(),
            Role::Municipality => meguro(),
            Role::MedicalInstitution => hospital(),
            Role::Aggregator => org("aggregator", K::Aggregator, Some("tokyo"), Some("meguro")),
            Role::MedicalAssociation => {
                org("association", K::MedicalAssociation, Some("tokyo"), None)
            }
            Role::Manufacturer => org("pfizer", K::Manufacturer, None, None),
            Role::Wholesaler => org("wholesaler", K::Wholesaler, None, None),
            Role::DryIceSupplier => org("dryice", K::DryIceSupplier, None, None),
            Role::SupplyWarehouse => org("warehouse", K::SupplyWarehouse, None, None),
            Role::SystemAdmin => org("desk", K::ServiceDesk, None, None),
        }
    }

    fn actor(role: Role, admin: bool) -> Actor {
        Actor {
            user_id: format!("{}-user", role.as_db()),
            username: role.as_db().to_lowercase(),
            role,
            organization: home(role),
            is_org_admin: admin,
            session_id: "s".into(),
            obligations: vec![],
        }
    }

    fn code(result: Result<(), AppError>) -> &'static str {
        match result {
            Ok(()) => "ALLOW",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn anonymous_callers_are_unauthenticated_for_every_action() {
        let o = tokyo();
        for action in Action::ALL {
            assert_eq!(
                code(decide(None, action, Target::Organization(&o))),
                "UNAUTHENTICATED"
            );
        }
    }

    #[test]
    fn every_role_times_every_action() {
        for role in Role::ALL {
            for admin in [false, true] {
                let a = actor(role, admin);
                let own = home(role);
                let other_user_own_org = Target::User {
                    id: "someone",
                    organization: &own,
                };
                let yoko = yokohama();
                let foreign_user = Target::User {
                    id: "someone",
                    organization: &yoko,
                };
                let desk = role == Role::SystemAdmin;

                let expected_invite_own = if desk || admin { "ALLOW" } else { "FORBIDDEN" };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::InviteUser,
                        Target::Organization(&own)
                    )),
                    expected_invite_own,
                    "{role:?} {admin}"
                );
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::ListUsers,
                        Target::Organization(&own)
                    )),
                    expected_invite_own,
                    "{role:?} {admin}"
                );
                for action in [
                    Action::UnlockUser,
                    Action::ReissueSetupLink,
                    Action::SetUserStatus,
                ] {
                    assert_eq!(
                        code(decide(Some(&a), action, other_user_own_org)),
                        expected_invite_own,
                        "{action:?} {role:?} {admin}"
                    );
                }
                // The desk's own work: nobody else, whatever their flag.
                let desk_only = if desk { "ALLOW" } else { "FORBIDDEN" };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::ResetSecurityAnswer,
                        other_user_own_org
                    )),
                    desk_only,
                    "{role:?} {admin}"
                );
                assert_eq!(
                    code(decide(Some(&a), Action::InviteUsersInBulk, Target::System)),
                    desk_only,
                    "{role:?} {admin}"
                );

                // Another prefecture's municipality: outside every area but the nation's and
                // the service desk's.
                let foreign = match role {
                    Role::SystemAdmin => "ALLOW",
                    Role::Nation => "FORBIDDEN",
                    _ => "NOT_FOUND",
                };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::InviteUser,
                        Target::Organization(&yoko)
                    )),
                    foreign,
                    "{role:?} {admin}"
                );
                for action in [
                    Action::UnlockUser,
                    Action::ReissueSetupLink,
                    Action::SetUserStatus,
                    Action::ResetSecurityAnswer,
                ] {
                    assert_eq!(
                        code(decide(Some(&a), action, foreign_user)),
                        foreign,
                        "{action:?} {role:?} {admin}"
                    );
                }

                let self_target = Target::User {
                    id: &a.user_id,
                    organization: &own,
                };
                assert_eq!(
                    code(decide(Some(&a), Action::ReadUser, self_target)),
                    "ALLOW"
                );
                let read_other = if desk || admin { "ALLOW" } else { "NOT_FOUND" };
                assert_eq!(
                    code(decide(Some(&a), Action::ReadUser, other_user_own_org)),
                    read_other,
                    "{role:?} {admin}"
                );
                let read_foreign = if desk { "ALLOW" } else { "NOT_FOUND" };
                assert_eq!(
                    code(decide(Some(&a), Action::ReadUser, foreign_user)),
                    read_foreign,
                    "{role:?} {admin}"
                );

                let audit = if matches!(role, Role::Nation | Role::SystemAdmin) {
                    "ALLOW"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(
                    code(decide(Some(&a), Action::ReadAuditLog, Target::System)),
                    audit,
                    "{role:?}"
                );
            }
        }
    }

    #[test]
    fn facility_actions_for_every_role() {
        let hospital = hospital();
        let yokohama_clinic = org(
            "yokohama-clinic",
            K::Facility,
            Some("kanagawa"),
            Some("yokohama"),
        );
        for role in Role::ALL {
            let a = actor(role, true);
            for proxy_input in [false, true] {
                let own = Target::Facility {
                    scope: &hospital,
                    proxy_input,
                };
                let foreign = Target::Facility {
                    scope: &yokohama_clinic,
                    proxy_input,
                };
                let inside = within_area(&a, &hospital);
                let edit = match role {
                    Role::MedicalInstitution => "ALLOW",
                    Role::Municipality if proxy_input => "ALLOW",
                    _ if inside => "FORBIDDEN",
                    _ => "NOT_FOUND",
                };
                assert_eq!(
                    code(decide(Some(&a), Action::EditFacility, own)),
                    edit,
                    "{role:?} proxy={proxy_input}"
                );
                let decide_own = match role {
                    Role::Municipality => "ALLOW",
                    _ if inside => "FORBIDDEN",
                    _ => "NOT_FOUND",
                };
                assert_eq!(
                    code(decide(Some(&a), Action::DecideFacilityChange, own)),
                    decide_own,
                    "{role:?}"
                );
                let read = if inside { "ALLOW" } else { "FORBIDDEN" };
                assert_eq!(
                    code(decide(Some(&a), Action::ReadFacilityPrivate, own)),
                    read,
                    "{role:?}"
                );
                // Another prefecture's clinic: only the nation and the desk even see it.
                let far = if within_area(&a, &yokohama_clinic) {
                    "FORBIDDEN"
                } else {
                    "NOT_FOUND"
                };
                assert_eq!(
                    code(decide(Some(&a), Action::EditFacility, foreign)),
                    far,
                    "{role:?}"
                );
                assert_eq!(
                    code(decide(Some(&a), Action::DecideFacilityChange, foreign)),
                    far,
                    "{role:?}"
                );
            }
        }
    }

    #[test]
    fn areas_nest_prefecture_over_municipality_over_facility() {
        let prefecture = actor(Role::Prefecture, true);
        assert!(within_area(&prefecture, &meguro()));
        assert!(within_area(&prefecture, &hospital()));
        assert!(!within_area(&prefecture, &yokohama()));
        let municipality = actor(Role::Municipality, true);
        assert!(within_area(&municipality, &hospital()));
        assert!(!within_area(&municipality, &tokyo()));
        let clinic = actor(Role::MedicalInstitution, true);
        assert!(within_area(&clinic, &hospital()));
        assert!(!within_area(&clinic, &meguro()));
    }
}

//! Authorization: one function answers "may actor X do action Y on object Z".
//!
//! Two layers, as everywhere in vsys: resolvers first require a signed-in actor (the coarse
//! guard), then ask [`decide`] about the object at hand (the resource check). An object outside
//! the actor's area is `NOT_FOUND`, so a probe cannot learn that it exists; an object inside the
//! area that the role may not touch is `FORBIDDEN`.

use crate::actor::{Actor, OrgScope, Role};
use crate::error::AppError;
use crate::events::{Audience, StoredEvent, Visibility};

/// What an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Import the people a pre-screening questionnaire is printed for (a facility, a medical
    /// association, a prefecture or a municipality, for itself).
    ImportQuestionnaireRecipients,
    /// Print the questionnaires of the people it imported (the same organisations, for
    /// themselves).
    GenerateQuestionnaires,
    /// Register the coupons a municipality issued in its ledger (the municipality, for itself).
    RegisterCoupons,
    /// Read and decide residents' requests in a municipality's queue (its own staff).
    DecideResidentRequest,
    /// Record attendance and make, submit and export a facility's monthly claim (the facility,
    /// or the municipality running a special venue).
    ManageBilling,
    /// Set the fee table (the nation).
    SetBillingFees,
    /// Choose whether in-area claims go through the 国保連 (the municipality, for itself).
    SetClaimsRoute,
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
    /// Register facilities in bulk from the contract-intake data (the service desk).
    RegisterFacilities,
    /// Register a special venue (特設会場) that a municipality runs in its own area.
    RegisterSpecialVenue,
    /// Name the wholesaler delivering to a facility (an approval-free field).
    SetDeliveringWholesaler,
    /// Register a facility's collective contract, held by the actor's organisation.
    RegisterCollectiveContract,
    /// Record a power of attorney received from a facility (委任状受領管理).
    RecordPowerOfAttorney,
    /// Read what a partner serves: a wholesaler's delivery destinations, an aggregator's
    /// members and the powers of attorney it received.
    ReadPartnerRoster,
    /// Send an invited account a new set-up link (the earlier ones stop working).
    ReissueSetupLink,
    /// Disable or re-enable an account.
    SetUserStatus,
    /// Register a facility's individual contract.
    RegisterIndividualContract,
    /// Set the withdrawal date of a contract.
    WithdrawContract,
    /// Clear a user's forgotten security question, so that a new one is chosen (service desk).
    ResetSecurityAnswer,
    /// Invite many accounts across organisations from a CSV (service desk).
    InviteUsersInBulk,
    /// Create or change a product of the allocation master (vaccine, needle, syringe).
    UpsertProduct,
    /// Open an allocation cycle (クール) of a vaccine, with its stage deadlines.
    OpenCool,
    /// Register the boxes of a product available for a cool (manufacturer, warehouse).
    RegisterSupply,
    /// Set or propose the boxes an organisation gives one directly below it.
    Allocate,
    /// Confirm what one's organisation received in a cool (確認済).
    ConfirmAllocation,
    /// Mark one's allocation down complete (分配作業完了).
    CompleteAllocation,
    /// Lock a prefecture's allocation of a cool (データロック).
    LockAllocations,
    /// Import the priority phase's allocations in bulk (the service desk).
    ImportAllocations,
    /// Schedule or record a delivery to a facility (its deliverer).
    Deliver,
    /// Ship products to a wholesaler (manufacturer: its vaccine; warehouse: needles, syringes).
    Ship,
    /// Record the receipt of a shipment (the receiving wholesaler).
    ReceiveShipment,
    /// Set how a venue takes bookings, create its reservation slots.
    ManageReservations,
    /// Book, change or cancel a reservation for a resident (the venue's municipality: its call
    /// centre or staff).
    BookReservation,
    /// Read reservations, which hold residents' personal data.
    ReadReservations,
    /// Publish or withdraw a public notice, write the FAQ (the nation).
    WritePublicContent,
    /// Write or delete the users' knowledge base: manuals and FAQ per role (the nation).
    WriteKnowledge,
}

impl Action {
    pub const ALL: [Action; 43] = [
        Action::ImportQuestionnaireRecipients,
        Action::GenerateQuestionnaires,
        Action::RegisterCoupons,
        Action::DecideResidentRequest,
        Action::ManageBilling,
        Action::SetBillingFees,
        Action::SetClaimsRoute,
        Action::WriteKnowledge,
        Action::InviteUser,
        Action::UnlockUser,
        Action::ReadUser,
        Action::ListUsers,
        Action::ReadAuditLog,
        Action::EditFacility,
        Action::DecideFacilityChange,
        Action::ReadFacilityPrivate,
        Action::RegisterFacilities,
        Action::RegisterSpecialVenue,
        Action::SetDeliveringWholesaler,
        Action::RegisterCollectiveContract,
        Action::RecordPowerOfAttorney,
        Action::ReadPartnerRoster,
        Action::ReissueSetupLink,
        Action::SetUserStatus,
        Action::RegisterIndividualContract,
        Action::WithdrawContract,
        Action::ResetSecurityAnswer,
        Action::InviteUsersInBulk,
        Action::UpsertProduct,
        Action::OpenCool,
        Action::RegisterSupply,
        Action::Allocate,
        Action::ConfirmAllocation,
        Action::CompleteAllocation,
        Action::LockAllocations,
        Action::ImportAllocations,
        Action::Deliver,
        Action::Ship,
        Action::ReceiveShipment,
        Action::ManageReservations,
        Action::BookReservation,
        Action::ReadReservations,
        Action::WritePublicContent,
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
    /// A facility, whether its municipality may enter data for it (代行入力), and the
    /// municipality running it when it is a special venue.
    Facility {
        scope: &'a OrgScope,
        proxy_input: bool,
        operator: Option<&'a str>,
    },
    /// A facility's contract: the facility (as for `Facility`), whether the contract is
    /// collective, and the organisation holding it (a collective contract's aggregator).
    Contract {
        facility: &'a OrgScope,
        proxy_input: bool,
        operator: Option<&'a str>,
        collective: bool,
        holder: Option<&'a str>,
    },
    /// A product: whether it is a vaccine, and the manufacturer it names (vaccines only).
    Product {
        vaccine: bool,
        manufacturer: Option<&'a str>,
    },
    /// A delivery: the facility it goes to and the organisation delivering it.
    Delivery {
        facility: &'a OrgScope,
        deliverer: &'a str,
    },
    /// A shipment's receipt, by the wholesaler it was sent to.
    Receipt { wholesaler: &'a str },
    /// An allocation line: who receives it, and the organisation directly above it that gives.
    Allocation {
        recipient: &'a OrgScope,
        allocator: &'a str,
    },
}

/// Whether `organization` lies in the area of `actor`: its own organisation or below it.
pub fn within_area(actor: &Actor, organization: &OrgScope) -> bool {
    within_area_of(
        actor,
        &organization.id,
        organization.prefecture_id.as_deref(),
        organization.municipality_id.as_deref(),
    )
}

/// [`within_area`] for an organisation known by its id, prefecture and municipality (as an
/// event row records them).
pub fn within_area_of(
    actor: &Actor,
    organization_id: &str,
    prefecture_id: Option<&str>,
    municipality_id: Option<&str>,
) -> bool {
    let own = actor.organization.id.as_str();
    match actor.role {
        Role::Nation | Role::SystemAdmin => true,
        Role::Prefecture => prefecture_id == Some(own),
        Role::Municipality => municipality_id == Some(own) || organization_id == own,
        _ => organization_id == own,
    }
}

/// Whether a subscriber receives an event: decided from the event row alone, in memory, by the
/// same area rule as queries. Public events reach everyone; restricted ones signed-in users
/// whose area includes the event's organisation (for the administration audience, only the
/// administrative chain above it); internal ones no subscriber.
pub fn may_receive(actor: Option<&Actor>, event: &StoredEvent) -> bool {
    match event.visibility {
        Visibility::Public => true,
        Visibility::Internal => false,
        Visibility::Restricted => {
            let (Some(actor), Some(organization_id)) = (actor, event.organization_id.as_deref())
            else {
                return false;
            };
            let in_audience = match event.audience {
                Audience::Area => true,
                Audience::Administration => matches!(
                    actor.role,
                    Role::Nation | Role::Prefecture | Role::Municipality | Role::SystemAdmin
                ),
            };
            in_audience
                && within_area_of(
                    actor,
                    organization_id,
                    event.prefecture_id.as_deref(),
                    event.municipality_id.as_deref(),
                )
        }
    }
}

/// The area a list shows an actor: the one filter every list applies (the same rule as
/// [`within_area`], as SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaFilter {
    /// The nation and the service desk see the whole country.
    Everywhere,
    /// Rows whose organisation lies in this prefecture.
    Prefecture(String),
    /// Rows whose organisation lies in this municipality.
    Municipality(String),
    /// Rows of this organisation only.
    Organization(String),
}

impl AreaFilter {
    /// The organisation column to compare and its value; `None` for the whole country.
    pub fn column(&self) -> Option<(&'static str, String)> {
        match self {
            AreaFilter::Everywhere => None,
            AreaFilter::Prefecture(id) => Some(("prefecture_id", id.clone())),
            AreaFilter::Municipality(id) => Some(("municipality_id", id.clone())),
            AreaFilter::Organization(id) => Some(("id", id.clone())),
        }
    }

    /// The condition on the organisations table aliased `alias`, with its one `?` value.
    pub fn condition(&self, alias: &str) -> Option<(String, String)> {
        self.column()
            .map(|(column, value)| (format!("{alias}.{column} = ?"), value))
    }
}

pub fn area_filter(actor: &Actor) -> AreaFilter {
    let own = actor.organization.id.clone();
    match actor.role {
        Role::Nation | Role::SystemAdmin => AreaFilter::Everywhere,
        Role::Prefecture => AreaFilter::Prefecture(own),
        Role::Municipality => AreaFilter::Municipality(own),
        _ => AreaFilter::Organization(own),
    }
}

/// Whether `actor` may hold collective contracts (and receive powers of attorney) for
/// `facility`: a municipality for its own facilities; an aggregator or medical association for
/// the facilities of its prefecture (of the whole country when it belongs to none).
pub fn holds_contracts_for(actor: &Actor, facility: &OrgScope) -> bool {
    match actor.role {
        Role::Municipality => within_area(actor, facility),
        Role::Aggregator | Role::MedicalAssociation => match &actor.organization.prefecture_id {
            Some(prefecture) => facility.prefecture_id.as_ref() == Some(prefecture),
            None => true,
        },
        _ => false,
    }
}

/// The decision. `None` actor means an anonymous caller.
pub fn decide(actor: Option<&Actor>, action: Action, target: Target<'_>) -> Result<(), AppError> {
    let actor = actor.ok_or(AppError::Unauthenticated)?;
    // A call-centre account administers nothing: it shares its municipality's organisation,
    // whose accounts are the municipality's staff.
    let is_admin_of = |org: &OrgScope| {
        actor.is_org_admin
            && actor.role != Role::ReservationOperator
            && actor.organization.id == org.id
    };
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
        // Seed p. 17: the clinic, the association or the prefecture (municipality) collects
        // the list; each imports for itself, and prints what it imported.
        (
            Action::ImportQuestionnaireRecipients | Action::GenerateQuestionnaires,
            Target::Organization(org),
        ) => allow_if(
            org.id == actor.organization.id
                && matches!(
                    actor.role,
                    Role::MedicalInstitution
                        | Role::MedicalAssociation
                        | Role::Prefecture
                        | Role::Municipality
                ),
        ),
        // A claim is the facility's own; a special venue's is its operating municipality's.
        (
            Action::ManageBilling,
            Target::Facility {
                scope, operator, ..
            },
        ) => {
            let facility_itself =
                actor.role == Role::MedicalInstitution && actor.organization.id == scope.id;
            let operator = actor.role == Role::Municipality
                && operator == Some(actor.organization.id.as_str());
            if facility_itself || operator {
                Ok(())
            } else {
                refuse(scope, "facility")
            }
        }
        (Action::SetBillingFees, Target::System) => allow_if(actor.role == Role::Nation),
        (Action::SetClaimsRoute, Target::Organization(org)) => {
            allow_if(org.id == actor.organization.id && actor.role == Role::Municipality)
        }
        // The coupons and the residents' requests are the municipality's own business: its
        // staff (not its call centre, which books but does not administer).
        (Action::RegisterCoupons | Action::DecideResidentRequest, Target::Organization(org)) => {
            allow_if(org.id == actor.organization.id && actor.role == Role::Municipality)
        }
        // A manufacturer supplies its own vaccine; the needle and syringe warehouse supplies
        // needles and syringes (seed p. 30).
        (
            Action::RegisterSupply,
            Target::Product {
                vaccine,
                manufacturer,
            },
        ) => allow_if(if vaccine {
            actor.role == Role::Manufacturer && manufacturer == Some(actor.organization.id.as_str())
        } else {
            actor.role == Role::SupplyWarehouse
        }),
        // Each level allocates to the level directly below it, and only its own organisation
        // does (seed pp. 31–36): the nation to prefectures, a prefecture to its
        // municipalities, a municipality to its facilities. Not even the service desk.
        (
            Action::Allocate,
            Target::Allocation {
                recipient,
                allocator,
            },
        ) => {
            let allocating = matches!(
                actor.role,
                Role::Nation | Role::Prefecture | Role::Municipality
            );
            if allocating && actor.organization.id == allocator {
                Ok(())
            } else {
                refuse(recipient, "organization")
            }
        }
        // An organisation confirms what it received and completes what it gave; a prefecture
        // locks its own area (seed p. 37). Facilities confirm nothing: they see their amounts
        // from the lock on.
        (
            Action::ConfirmAllocation | Action::CompleteAllocation | Action::LockAllocations,
            Target::Organization(own),
        ) => allow_if(
            actor.organization.id == own.id
                && match action {
                    Action::ConfirmAllocation => {
                        matches!(actor.role, Role::Prefecture | Role::Municipality)
                    }
                    Action::CompleteAllocation => matches!(
                        actor.role,
                        Role::Nation | Role::Prefecture | Role::Municipality
                    ),
                    _ => actor.role == Role::Prefecture,
                },
        ),
        // The priority phase's allocations come from the service desk in bulk (seed p. 22).
        (Action::ImportAllocations, _) => allow_if(actor.role == Role::SystemAdmin),
        // The deliverer alone enters what it delivers (seed p. 43): the facility's wholesaler,
        // or the manufacturer or warehouse delivering itself. The facility's area sees it.
        (
            Action::Deliver,
            Target::Delivery {
                facility,
                deliverer,
            },
        ) => {
            let delivers = matches!(
                actor.role,
                Role::Wholesaler | Role::Manufacturer | Role::SupplyWarehouse
            );
            if delivers && actor.organization.id == deliverer {
                Ok(())
            } else {
                refuse(facility, "delivery")
            }
        }
        // What goes to wholesalers: the manufacturer its own vaccine, the warehouse needles
        // and syringes; the wholesaler records what it received.
        (
            Action::Ship,
            Target::Product {
                vaccine,
                manufacturer,
            },
        ) => allow_if(if vaccine {
            actor.role == Role::Manufacturer && manufacturer == Some(actor.organization.id.as_str())
        } else {
            actor.role == Role::SupplyWarehouse
        }),
        (Action::ReceiveShipment, Target::Receipt { wholesaler }) => {
            allow_if(actor.role == Role::Wholesaler && actor.organization.id == wholesaler)
        }
        // The nation runs the campaign's calendar (seed p. 30: クールマスタ).
        (Action::OpenCool, _) => allow_if(actor.role == Role::Nation),
        // The product master is the nation's; a manufacturer keeps its own vaccines' data
        // (vials per box, doses per vial change during a campaign: Pfizer went from 5 to 6).
        (
            Action::UpsertProduct,
            Target::Product {
                vaccine,
                manufacturer,
            },
        ) => allow_if(
            actor.role == Role::Nation
                || (actor.role == Role::Manufacturer
                    && vaccine
                    && manufacturer == Some(actor.organization.id.as_str())),
        ),
        // Facility data is the facility's own, entered by it or by its municipality as proxy;
        // a special venue's data is also its operating municipality's, without the proxy flag
        // (seed p. 28: the municipality runs the venue). Not even the service desk edits it.
        (
            Action::EditFacility,
            Target::Facility {
                scope,
                proxy_input,
                operator,
            },
        ) => {
            let operates = actor.role == Role::Municipality
                && operator == Some(actor.organization.id.as_str());
            if actor.organization.id == scope.id
                || (proxy_input && own_municipality_of(scope))
                || operates
            {
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
        // Facility data arrives from the contract-intake system through the service desk.
        (Action::RegisterFacilities, Target::System) => allow_if(actor.role == Role::SystemAdmin),
        // A municipality registers the venues it runs, in its own area only (seed p. 28).
        (Action::RegisterSpecialVenue, Target::Organization(municipality)) => {
            if actor.role == Role::Municipality && actor.organization.id == municipality.id {
                Ok(())
            } else {
                refuse(municipality, "municipality")
            }
        }
        // The delivering wholesaler needs no approval and no proxy flag: the facility, or its
        // municipality, names it.
        (Action::SetDeliveringWholesaler, Target::Facility { scope, .. }) => {
            if actor.organization.id == scope.id || own_municipality_of(scope) {
                Ok(())
            } else {
                refuse(scope, "facility")
            }
        }
        // Facilities are public, so refusing one outside the holder's area reveals nothing:
        // FORBIDDEN. The service desk holds no contracts and receives no powers of attorney.
        (
            Action::RegisterCollectiveContract | Action::RecordPowerOfAttorney,
            Target::Facility { scope, .. },
        ) => allow_if(holds_contracts_for(actor, scope)),
        // A partner's roster is its own; the nation and the service desk oversee every one.
        (Action::ReadPartnerRoster, Target::Organization(partner)) => {
            if actor.organization.id == partner.id
                || matches!(actor.role, Role::Nation | Role::SystemAdmin)
            {
                Ok(())
            } else {
                Err(AppError::NotFound("organization"))
            }
        }
        // Individual contracts: the service desk enters those received through the
        // contract-intake system (seed p. 12); otherwise whoever may edit the facility.
        (
            Action::RegisterIndividualContract,
            Target::Facility {
                scope,
                proxy_input,
                operator,
            },
        ) => {
            if actor.role == Role::SystemAdmin {
                return Ok(());
            }
            decide(
                Some(actor),
                Action::EditFacility,
                Target::Facility {
                    scope,
                    proxy_input,
                    operator,
                },
            )
        }
        // The holder of a collective contract (its aggregator) and the service desk withdraw
        // it directly. Whoever may edit the facility withdraws an individual contract; a
        // facility changes its collective contract's dates only through a change request
        // that its municipality approves. Contracts outside the area are not confirmed to
        // exist.
        (
            Action::WithdrawContract,
            Target::Contract {
                facility,
                proxy_input,
                operator,
                collective,
                holder,
            },
        ) => {
            if actor.role == Role::SystemAdmin || holder == Some(actor.organization.id.as_str()) {
                return Ok(());
            }
            let edit = decide(
                Some(actor),
                Action::EditFacility,
                Target::Facility {
                    scope: facility,
                    proxy_input,
                    operator,
                },
            );
            match edit {
                Ok(()) if collective => Err(AppError::Forbidden),
                Ok(()) => Ok(()),
                Err(AppError::NotFound(_)) => Err(AppError::NotFound("contract")),
                Err(other) => Err(other),
            }
        }
        // A venue's bookings are run by the venue or its municipality (the one it lies in, or
        // the one running a special venue), never by the service desk or a higher level: they
        // are residents' personal data, which the municipality holds (seed p. 40).
        (
            Action::ManageReservations,
            Target::Facility {
                scope, operator, ..
            },
        ) => {
            let venue_itself =
                actor.role == Role::MedicalInstitution && actor.organization.id == scope.id;
            let municipality = actor.role == Role::Municipality
                && (own_municipality_of(scope) || operator == Some(actor.organization.id.as_str()));
            if venue_itself || municipality {
                Ok(())
            } else {
                refuse(scope, "facility")
            }
        }
        // The call centre books for the residents of its own municipality, at its venues;
        // municipality staff may do the same.
        (Action::BookReservation, Target::Organization(municipality)) => allow_if(
            matches!(actor.role, Role::ReservationOperator | Role::Municipality)
                && actor.organization.id == municipality.id,
        ),
        // Reservations are read by the venue and by its municipality's staff and call centre.
        (Action::ReadReservations, Target::Facility { scope, .. }) => {
            let venue_itself =
                actor.role == Role::MedicalInstitution && actor.organization.id == scope.id;
            let municipality = matches!(actor.role, Role::Municipality | Role::ReservationOperator)
                && scope.municipality_id.as_deref() == Some(actor.organization.id.as_str());
            if venue_itself || municipality {
                Ok(())
            } else {
                Err(AppError::NotFound("reservation"))
            }
        }
        // What the public reads on the navigator is the nation's word (not the service desk's).
        (Action::WritePublicContent, _) => allow_if(actor.role == Role::Nation),
        (Action::WriteKnowledge, _) => allow_if(actor.role == Role::Nation),
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
            Role::ReservationOperator => meguro(),
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
    fn bookings_belong_to_the_venues_municipality() {
        let venue = hospital();
        let facility = Target::Facility {
            scope: &venue,
            proxy_input: false,
            operator: None,
        };
        let meguro = meguro();
        for role in Role::ALL {
            let a = actor(role, true);
            let manage = match role {
                Role::MedicalInstitution | Role::Municipality => "ALLOW",
                Role::Nation | Role::Prefecture | Role::SystemAdmin => "FORBIDDEN",
                _ => "NOT_FOUND",
            };
            assert_eq!(
                code(decide(Some(&a), Action::ManageReservations, facility)),
                manage,
                "{role:?}"
            );
            let book = match role {
                Role::Municipality | Role::ReservationOperator => "ALLOW",
                _ => "FORBIDDEN",
            };
            assert_eq!(
                code(decide(
                    Some(&a),
                    Action::BookReservation,
                    Target::Organization(&meguro)
                )),
                book,
                "{role:?}"
            );
            let read = match role {
                Role::MedicalInstitution | Role::Municipality | Role::ReservationOperator => {
                    "ALLOW"
                }
                _ => "NOT_FOUND",
            };
            assert_eq!(
                code(decide(Some(&a), Action::ReadReservations, facility)),
                read,
                "{role:?}"
            );
        }
        // Another facility declares nothing and creates no slots for this one.
        let mut other_facility = actor(Role::MedicalInstitution, true);
        other_facility.organization = org("clinic", K::Facility, Some("tokyo"), Some("meguro"));
        assert_eq!(
            code(decide(
                Some(&other_facility),
                Action::ManageReservations,
                facility
            )),
            "NOT_FOUND"
        );
        // Another municipality's call centre books nothing in Meguro and sees none of it.
        let mut yokohama_operator = actor(Role::ReservationOperator, false);
        yokohama_operator.organization = yokohama();
        assert_eq!(
            code(decide(
                Some(&yokohama_operator),
                Action::BookReservation,
                Target::Organization(&meguro)
            )),
            "FORBIDDEN"
        );
        assert_eq!(
            code(decide(
                Some(&yokohama_operator),
                Action::ReadReservations,
                facility
            )),
            "NOT_FOUND"
        );
    }

    #[test]
    fn a_claim_is_the_facilitys_own_or_its_operating_municipalitys() {
        let clinic = hospital();
        let billing = |role: Role, operator: Option<&str>| {
            code(decide(
                Some(&actor(role, true)),
                Action::ManageBilling,
                Target::Facility {
                    scope: &clinic,
                    proxy_input: true,
                    operator,
                },
            ))
        };
        assert_eq!(billing(Role::MedicalInstitution, None), "ALLOW");
        // Its municipality does not claim for a clinic, even with proxy input granted …
        assert_ne!(billing(Role::Municipality, None), "ALLOW");
        // … only for a special venue it runs.
        assert_eq!(billing(Role::Municipality, Some("meguro")), "ALLOW");
        assert_ne!(billing(Role::ReservationOperator, Some("meguro")), "ALLOW");
        for role in [
            Role::Nation,
            Role::Prefecture,
            Role::SystemAdmin,
            Role::Wholesaler,
        ] {
            assert_ne!(billing(role, None), "ALLOW", "{role:?}");
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
                let admin = admin && role != Role::ReservationOperator;

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
                    operator: None,
                };
                let foreign = Target::Facility {
                    scope: &yokohama_clinic,
                    proxy_input,
                    operator: None,
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
    fn the_area_filter_selects_exactly_the_facilities_within_the_area() {
        let facilities = [
            hospital(),
            org(
                "yokohama-clinic",
                K::Facility,
                Some("kanagawa"),
                Some("yokohama"),
            ),
        ];
        for role in Role::ALL {
            let a = actor(role, false);
            for facility in &facilities {
                let selected = match area_filter(&a).column() {
                    None => true,
                    Some(("prefecture_id", v)) => facility.prefecture_id.as_deref() == Some(&v),
                    Some(("municipality_id", v)) => facility.municipality_id.as_deref() == Some(&v),
                    Some((_, v)) => facility.id == v,
                };
                assert_eq!(
                    selected,
                    within_area(&a, facility),
                    "{role:?} {}",
                    facility.id
                );
            }
        }
    }

    #[test]
    fn a_venues_operating_municipality_edits_it_without_the_proxy_flag() {
        let venue = org("venue", K::Facility, Some("tokyo"), Some("meguro"));
        for role in Role::ALL {
            let a = actor(role, false);
            let operated = Target::Facility {
                scope: &venue,
                proxy_input: false,
                operator: Some("meguro"),
            };
            let expected = match role {
                Role::Municipality => "ALLOW",
                _ if within_area(&a, &venue) => "FORBIDDEN",
                _ => "NOT_FOUND",
            };
            assert_eq!(
                code(decide(Some(&a), Action::EditFacility, operated)),
                expected,
                "{role:?}"
            );
        }
        // Operating is what grants it, not lying in the municipality.
        let meguro_user = actor(Role::Municipality, true);
        let other_operator = Target::Facility {
            scope: &venue,
            proxy_input: false,
            operator: Some("setagaya"),
        };
        assert_eq!(
            code(decide(
                Some(&meguro_user),
                Action::EditFacility,
                other_operator
            )),
            "FORBIDDEN"
        );
    }

    #[test]
    fn registering_facilities_is_the_service_desks_and_venues_the_municipalitys_own() {
        for role in Role::ALL {
            for admin in [false, true] {
                let a = actor(role, admin);
                let bulk = if role == Role::SystemAdmin {
                    "ALLOW"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(
                    code(decide(Some(&a), Action::RegisterFacilities, Target::System)),
                    bulk,
                    "{role:?}"
                );
                let own_area = meguro();
                let venue_here = match role {
                    Role::Municipality => "ALLOW",
                    _ if within_area(&a, &own_area) => "FORBIDDEN",
                    _ => "NOT_FOUND",
                };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::RegisterSpecialVenue,
                        Target::Organization(&own_area)
                    )),
                    venue_here,
                    "{role:?}"
                );
                let far = yokohama();
                let venue_far = if within_area(&a, &far) {
                    "FORBIDDEN"
                } else {
                    "NOT_FOUND"
                };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::RegisterSpecialVenue,
                        Target::Organization(&far)
                    )),
                    venue_far,
                    "{role:?}"
                );
            }
        }
    }

    #[test]
    fn partner_actions_for_every_role() {
        let hospital = hospital();
        let yokohama_clinic = org(
            "yokohama-clinic",
            K::Facility,
            Some("kanagawa"),
            Some("yokohama"),
        );
        let wholesaler = home(Role::Wholesaler);
        let aggregator = home(Role::Aggregator);
        for role in Role::ALL {
            let a = actor(role, false);
            let own = Target::Facility {
                scope: &hospital,
                proxy_input: false,
                operator: None,
            };
            let foreign = Target::Facility {
                scope: &yokohama_clinic,
                proxy_input: false,
                operator: None,
            };
            let inside = within_area(&a, &hospital);
            let set = match role {
                Role::MedicalInstitution | Role::Municipality => "ALLOW",
                _ if inside => "FORBIDDEN",
                _ => "NOT_FOUND",
            };
            assert_eq!(
                code(decide(Some(&a), Action::SetDeliveringWholesaler, own)),
                set,
                "{role:?}"
            );
            let far = if within_area(&a, &yokohama_clinic) {
                "FORBIDDEN"
            } else {
                "NOT_FOUND"
            };
            assert_eq!(
                code(decide(Some(&a), Action::SetDeliveringWholesaler, foreign)),
                far,
                "{role:?}"
            );
            let holder = matches!(
                role,
                Role::Municipality | Role::Aggregator | Role::MedicalAssociation
            );
            for action in [
                Action::RegisterCollectiveContract,
                Action::RecordPowerOfAttorney,
            ] {
                assert_eq!(
                    code(decide(Some(&a), action, own)),
                    if holder { "ALLOW" } else { "FORBIDDEN" },
                    "{role:?} {action:?}"
                );
                // Every holder in the demo belongs to Tokyo: Kanagawa's clinic is not theirs.
                assert_eq!(
                    code(decide(Some(&a), action, foreign)),
                    "FORBIDDEN",
                    "{role:?} {action:?}"
                );
            }
            for partner in [&wholesaler, &aggregator] {
                let expected = if a.organization.id == partner.id
                    || matches!(role, Role::Nation | Role::SystemAdmin)
                {
                    "ALLOW"
                } else {
                    "NOT_FOUND"
                };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::ReadPartnerRoster,
                        Target::Organization(partner)
                    )),
                    expected,
                    "{role:?} {}",
                    partner.id
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

    fn event_about(scope: &OrgScope, visibility: Visibility, audience: Audience) -> StoredEvent {
        StoredEvent {
            seq: 1,
            topic: "t".into(),
            visibility,
            audience,
            organization_id: Some(scope.id.clone()),
            prefecture_id: scope.prefecture_id.clone(),
            municipality_id: scope.municipality_id.clone(),
            payload: serde_json::json!({}),
            occurred_at: Default::default(),
        }
    }

    #[test]
    fn events_are_received_by_the_area_rule_and_the_topic_audience() {
        let hospital = hospital();
        for role in Role::ALL {
            let a = actor(role, false);
            let in_area = within_area(&a, &hospital);
            let administrative = matches!(
                role,
                Role::Nation | Role::Prefecture | Role::Municipality | Role::SystemAdmin
            );
            let area = event_about(&hospital, Visibility::Restricted, Audience::Area);
            assert_eq!(may_receive(Some(&a), &area), in_area, "{role:?} area");
            let admin_only =
                event_about(&hospital, Visibility::Restricted, Audience::Administration);
            assert_eq!(
                may_receive(Some(&a), &admin_only),
                in_area && administrative,
                "{role:?} administration"
            );
            let public = event_about(&hospital, Visibility::Public, Audience::Area);
            assert!(may_receive(Some(&a), &public));
            let internal = event_about(&hospital, Visibility::Internal, Audience::Area);
            assert!(!may_receive(Some(&a), &internal));
        }
        // The facility itself is in its own area but not in the administration audience.
        let clinic = actor(Role::MedicalInstitution, false);
        assert!(may_receive(
            Some(&clinic),
            &event_about(&hospital, Visibility::Restricted, Audience::Area)
        ));
        // Anonymous callers receive public events only.
        assert!(!may_receive(
            None,
            &event_about(&hospital, Visibility::Restricted, Audience::Area)
        ));
        assert!(may_receive(
            None,
            &event_about(&hospital, Visibility::Public, Audience::Area)
        ));
        // Another area's event never arrives.
        let yokohama_admin = Actor {
            organization: yokohama(),
            ..actor(Role::Municipality, true)
        };
        assert!(!may_receive(
            Some(&yokohama_admin),
            &event_about(&hospital, Visibility::Restricted, Audience::Area)
        ));
    }

    #[test]
    fn contracts_are_registered_and_withdrawn_by_their_rules_for_every_role() {
        let hospital = hospital();
        let yokohama_clinic = org(
            "yokohama-clinic",
            K::Facility,
            Some("kanagawa"),
            Some("yokohama"),
        );
        for role in Role::ALL {
            let a = actor(role, false);
            let facility = |scope| Target::Facility {
                scope,
                proxy_input: false,
                operator: None,
            };
            // Individual: the facility itself or the desk; a foreign facility is not found.
            let expected = match role {
                Role::MedicalInstitution | Role::SystemAdmin => "ALLOW",
                _ if within_area(&a, &hospital) => "FORBIDDEN",
                _ => "NOT_FOUND",
            };
            assert_eq!(
                code(decide(
                    Some(&a),
                    Action::RegisterIndividualContract,
                    facility(&hospital)
                )),
                expected,
                "{role:?} register"
            );
            for collective in [false, true] {
                let contract = |scope, holder| Target::Contract {
                    facility: scope,
                    proxy_input: false,
                    operator: None,
                    collective,
                    holder,
                };
                let expected = match role {
                    Role::SystemAdmin => "ALLOW",
                    // The facility withdraws its individual contract, never its collective one.
                    Role::MedicalInstitution if collective => "FORBIDDEN",
                    Role::MedicalInstitution => "ALLOW",
                    _ if within_area(&a, &hospital) => "FORBIDDEN",
                    _ => "NOT_FOUND",
                };
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::WithdrawContract,
                        contract(&hospital, None)
                    )),
                    expected,
                    "{role:?} withdraw, collective {collective}"
                );
                // The holder withdraws its contract wherever the facility lies.
                let own = a.organization.id.clone();
                assert_eq!(
                    code(decide(
                        Some(&a),
                        Action::WithdrawContract,
                        contract(&yokohama_clinic, Some(own.as_str()))
                    )),
                    "ALLOW",
                    "{role:?} as holder"
                );
            }
        }
    }
}

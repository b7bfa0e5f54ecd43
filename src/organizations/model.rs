//! What an organisation is, as stored.

use crate::clock::Timestamp;
use async_graphql::Enum;

/// The kinds of organisation in the hierarchy (domain.md §1).
// `Default` only so that an empty record can stand for "before" when a facility is created.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum OrganizationKind {
    /// The ministry (国).
    Nation,
    /// One of the 47 prefectures (都道府県).
    Prefecture,
    /// A city, ward, town or village (市区町村).
    Municipality,
    /// A clinic, hospital or vaccination venue (医療機関・接種会場).
    #[default]
    Facility,
    /// A body holding collective contracts for its members (集合契約のとりまとめ団体).
    Aggregator,
    /// A body organising healthcare-worker vaccination (医療関係団体).
    MedicalAssociation,
    /// A vaccine manufacturer (ワクチンメーカー).
    Manufacturer,
    /// A pharmaceutical wholesaler (卸業者).
    Wholesaler,
    /// A dry-ice supplier (ドライアイスメーカー).
    DryIceSupplier,
    /// A needle and syringe warehouse (針・シリンジ倉庫).
    SupplyWarehouse,
    /// The service desk that administers accounts (ヘルプデスク).
    ServiceDesk,
}

crate::db_enum!(OrganizationKind);

impl OrganizationKind {
    pub const ALL: [OrganizationKind; 11] = [
        OrganizationKind::Nation,
        OrganizationKind::Prefecture,
        OrganizationKind::Municipality,
        OrganizationKind::Facility,
        OrganizationKind::Aggregator,
        OrganizationKind::MedicalAssociation,
        OrganizationKind::Manufacturer,
        OrganizationKind::Wholesaler,
        OrganizationKind::DryIceSupplier,
        OrganizationKind::SupplyWarehouse,
        OrganizationKind::ServiceDesk,
    ];

    /// Partners are the organisations outside the administrative hierarchy.
    pub fn is_partner(self) -> bool {
        !matches!(
            self,
            OrganizationKind::Nation
                | OrganizationKind::Prefecture
                | OrganizationKind::Municipality
                | OrganizationKind::Facility
        )
    }
}

/// What kind of place a facility is. How it is supplied is its [`SupplyType`].
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum FacilityType {
    /// A clinic (診療所).
    Clinic,
    /// A hospital (病院).
    Hospital,
    /// A special mass-vaccination venue run by a municipality (特設会場).
    SpecialVenue,
}

crate::db_enum!(FacilityType);

impl FacilityType {
    // The database's CHECK still admits the retired BASIC_TYPE_FACILITY / SATELLITE_FACILITY;
    // migration 20261126000001 moved every row off them and nothing writes them any more.
    pub const ALL: [FacilityType; 3] = [
        FacilityType::Clinic,
        FacilityType::Hospital,
        FacilityType::SpecialVenue,
    ];
}

/// How a facility receives vaccine.
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum SupplyType {
    /// A basic-type facility (基本型接種施設): receives vaccine directly.
    Basic,
    /// A satellite facility (サテライト型接種施設): supplied through a basic-type facility.
    Satellite,
}

crate::db_enum!(SupplyType);

/// How a venue takes bookings (seed p. 40: only venues using V-SYS's booking function have
/// slots here).
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ReservationMode {
    /// Slots and bookings in vsys; the navigator's status comes from the slots.
    Vsys,
    /// The venue books elsewhere (its own phone, web form) and declares its status.
    External,
    /// No booking needed (予約不要).
    NotRequired,
}

crate::db_enum!(ReservationMode);

/// Where a facility's approval fields stand: the state of its latest change request (seed
/// p. 27).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum ApprovalStatus {
    /// Nothing waits for the municipality: no request, or the latest one was approved.
    #[graphql(name = "NONE")]
    #[strum(serialize = "NONE")]
    Settled,
    /// A request waits for the municipality (申請中).
    #[graphql(name = "PENDING")]
    #[strum(serialize = "PENDING")]
    Pending,
    /// The latest request was rejected and has not been revised yet.
    #[graphql(name = "REJECTED")]
    #[strum(serialize = "REJECTED")]
    Rejected,
}

crate::db_enum!(ApprovalStatus);

/// The vaccines a facility handles, as product codes (e.g. `PFIZER`); a JSON array.
pub type VaccineCodes = crate::db::JsonText<Vec<String>>;

/// One organisation row, with the facility columns when it is a facility.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct OrganizationRecord {
    pub id: String,
    pub kind: OrganizationKind,
    pub code: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub name_romaji: Option<String>,
    pub parent_id: Option<String>,
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub facility_type: Option<FacilityType>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: Option<String>,
    pub representative_name: Option<String>,
    pub vaccines_handled: Option<VaccineCodes>,
    pub general_acceptance: Option<crate::db::Flag>,
    pub proxy_input: Option<crate::db::Flag>,
    /// NONE / PENDING / REJECTED: the state of the latest change request (facilities only).
    pub approval_status: Option<ApprovalStatus>,
    pub weekly_capacity: Option<i64>,
    pub opening_hours: Option<String>,
    pub parking_notes: Option<String>,
    pub access_notes: Option<String>,
    pub supply_type: Option<SupplyType>,
    pub basic_facility_id: Option<String>,
    pub operating_municipality_id: Option<String>,
    /// How the venue takes bookings (facilities only).
    pub reservation_mode: Option<ReservationMode>,
    /// Whether the facility agreed to appear on the public navigator.
    pub navigator_published: Option<crate::db::Flag>,
    pub version: i64,
    /// Residents (prefectures and municipalities; the 2020 census in the demo), which weighs
    /// allocation proposals.
    pub population: Option<i64>,
}

impl OrganizationRecord {
    /// The vaccines the facility handles (none for other organisations).
    pub fn vaccines(&self) -> &[String] {
        self.vaccines_handled.as_ref().map_or(&[], |v| &v.0)
    }

    /// Whether the facility accepts the general public (false for other organisations).
    pub fn general_acceptance(&self) -> bool {
        self.general_acceptance.is_some_and(bool::from)
    }

    /// Whether the municipality enters this facility's data for it (false for other
    /// organisations).
    pub fn proxy_input(&self) -> bool {
        self.proxy_input.is_some_and(bool::from)
    }

    pub fn kind(&self) -> OrganizationKind {
        self.kind
    }

    /// A facility's supply type (BASIC when the row is not a facility).
    pub fn supply(&self) -> SupplyType {
        self.supply_type.unwrap_or(SupplyType::Basic)
    }
}

/// A new organisation to insert (seeding and, later, the registry's mutations).
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub id: String,
    pub kind: OrganizationKind,
    pub code: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub name_romaji: Option<String>,
    pub parent_id: Option<String>,
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
    pub facility: Option<NewFacility>,
}

#[derive(Debug, Clone)]
pub struct NewFacility {
    pub facility_type: FacilityType,
    pub postal_code: Option<String>,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub phone: Option<String>,
    pub supply_type: SupplyType,
    /// For a satellite: the basic-type facility supplying it.
    pub basic_facility_id: Option<String>,
    /// For a special venue: the municipality running it.
    pub operating_municipality_id: Option<String>,
}

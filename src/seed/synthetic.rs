//! National-scale synthetic data: the 47 real prefectures, 1,741 municipalities with valid
//! local-government codes, 50,000 facilities near their prefectural offices. Deterministic:
//! the same random seed gives the same rows, ids included.

use crate::db::Db;
use crate::error::AppResult;
use crate::facilities::codes::MedicalInstitutionCode;
use crate::organizations::codes::{MunicipalityCode, PrefectureCode};
use crate::organizations::prefectures::PREFECTURES;
use crate::organizations::{
    FacilityType, NewFacility, NewOrganization, OrganizationKind, SupplyType, store,
};

use super::ensure_nation_and_prefectures;

pub const FACILITY_COUNT: usize = 50_000;

/// What was loaded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyntheticSummary {
    pub municipalities: usize,
    pub facilities: usize,
}

/// splitmix64: tiny, fast and stable across versions, which is all deterministic test data
/// needs (a library generator may change its stream between releases).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn id(&mut self) -> String {
        let bytes = (u128::from(self.next()) << 64 | u128::from(self.next())).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// The synthetic municipality body numbers start at 201 (where real cities start), so they
/// never collide with the demo's wards (1xx).
const FIRST_BODY: u32 = 201;

pub async fn seed_national(db: &Db, random_seed: u64) -> AppResult<SyntheticSummary> {
    let first_code = MunicipalityCode::from_base(1000 + FIRST_BODY).expect("valid base");
    if store::find_by_code(db, OrganizationKind::Municipality, &first_code.as_string())
        .await?
        .is_some()
    {
        return Ok(SyntheticSummary::default());
    }
    let (_, prefecture_ids) = ensure_nation_and_prefectures(db).await?;
    let mut rng = SplitMix64(random_seed);
    let mut municipalities = Vec::new();
    // (municipality id, prefecture index) for assigning facilities.
    let mut places = Vec::new();
    for (index, fact) in PREFECTURES.iter().enumerate() {
        let prefecture = PrefectureCode::parse(fact.code).expect("table codes are valid");
        let prefecture_id = prefecture_ids[fact.code].clone();
        let short_name = fact.name.trim_end_matches(['都', '道', '府', '県']);
        for n in 0..fact.municipality_count {
            let code =
                MunicipalityCode::from_base(u32::from(prefecture.number()) * 1000 + FIRST_BODY + n)
                    .expect("body numbers stay below 1000");
            let id = rng.id();
            places.push((id.clone(), index));
            municipalities.push(NewOrganization {
                id: id.clone(),
                kind: OrganizationKind::Municipality,
                code: code.as_string(),
                name: format!("{short_name}第{}市", n + 1),
                name_kana: None,
                name_romaji: Some(format!("{} City {}", fact.name_romaji, n + 1)),
                parent_id: Some(prefecture_id.clone()),
                prefecture_id: Some(prefecture_id.clone()),
                municipality_id: Some(id),
                facility: None,
            });
        }
    }
    store::insert_all(db, &municipalities).await?;
    // Each municipality a share of its prefecture's residents (a separate stream, so that the
    // facilities stay what they were).
    let mut shares = SplitMix64(random_seed ^ 0x706f_7075_6c61_7469);
    let mut tx = db.begin_write().await?;
    for (municipality, (_, index)) in municipalities.iter().zip(&places) {
        let fact = &PREFECTURES[*index];
        let average = super::population::PREFECTURES[*index].1 / i64::from(fact.municipality_count);
        let residents = (average as f64 * (0.2 + 1.6 * shares.unit())) as i64;
        sqlx::query("UPDATE organizations SET population = $1 WHERE id = $2")
            .bind(residents)
            .bind(&municipality.id)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;

    let mut facilities = Vec::with_capacity(FACILITY_COUNT);
    // The latest hospital of each prefecture: the basic-type facility of the next satellites.
    let mut last_hospital: Vec<Option<String>> = vec![None; PREFECTURES.len()];
    for n in 0..FACILITY_COUNT {
        let (municipality_id, index) = &places[n % places.len()];
        let fact = &PREFECTURES[*index];
        let (facility_type, satellite) = match rng.unit() {
            x if x < 0.65 => (FacilityType::Clinic, false),
            x if x < 0.70 => (FacilityType::Clinic, true),
            x if x < 0.90 => (FacilityType::Hospital, false),
            _ => (FacilityType::SpecialVenue, false),
        };
        let latitude = (fact.office.0 + (rng.unit() - 0.5) * 0.5).clamp(20.5, 45.5);
        let longitude = (fact.office.1 + (rng.unit() - 0.5) * 0.5).clamp(123.0, 153.9);
        let municipality_name = &municipalities[n % places.len()].name;
        let kind_name = match facility_type {
            FacilityType::Clinic => "診療所",
            FacilityType::Hospital => "病院",
            FacilityType::SpecialVenue => "特設会場",
        };
        let id = rng.id();
        let basic_facility_id = if satellite {
            last_hospital[*index].clone()
        } else {
            None
        };
        if facility_type == FacilityType::Hospital {
            last_hospital[*index] = Some(id.clone());
        }
        facilities.push(NewOrganization {
            id,
            kind: OrganizationKind::Facility,
            // Prefecture, point table 1 (medical), a running number and its check digit.
            code: MedicalInstitutionCode::from_parts(fact.code, 1, n as u32 + 1)
                .as_str()
                .to_owned(),
            name: format!("{municipality_name}{kind_name}{:05}", n + 1),
            name_kana: None,
            name_romaji: Some(format!("Facility {:05}", n + 1)),
            parent_id: Some(municipality_id.clone()),
            prefecture_id: Some(prefecture_ids[fact.code].clone()),
            municipality_id: Some(municipality_id.clone()),
            facility: Some(NewFacility {
                facility_type,
                postal_code: None,
                address: format!("{}{municipality_name}{}番地", fact.name, n % 999 + 1),
                latitude,
                longitude,
                phone: None,
                supply_type: if basic_facility_id.is_some() {
                    SupplyType::Satellite
                } else {
                    SupplyType::Basic
                },
                basic_facility_id,
                operating_municipality_id: (facility_type == FacilityType::SpecialVenue)
                    .then(|| municipality_id.clone()),
            }),
        });
    }
    store::insert_all(db, &facilities).await?;
    let mut masters = SplitMix64(random_seed ^ 0x616c_6c6f_6361_7465);
    super::synthetic_allocation::seed(db, &facilities, move || masters.unit()).await?;
    super::synthetic_reservations::seed(db, &facilities).await?;
    Ok(SyntheticSummary {
        municipalities: municipalities.len(),
        facilities: facilities.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        assert_eq!(a.id(), b.id());
        assert_eq!(a.unit().to_bits(), b.unit().to_bits());
        assert_ne!(SplitMix64(8).id(), SplitMix64(7).id());
    }
}

//! The seed document's worked example (domain.md §5): Tokyo with Meguro-ku, Setagaya-ku and
//! Minato-ku; Kanagawa with Yokohama-shi; "Meguro Hospital 01" and "Yokohama Hospital 01"; a
//! few more facilities (Meguro Clinic 01 is a satellite supplied through Meguro Hospital 01; the
//! special venues are run by their municipalities); Pfizer and one wholesaler. Facility names follow the seed's pattern;
//! coordinates are real places in each ward; partner names other than Pfizer are invented.

use std::collections::HashMap;

use super::ensure_nation_and_prefectures;
use crate::db::{Db, new_id};
use crate::error::AppResult;
use crate::organizations::codes::MunicipalityCode;
use crate::organizations::{
    FacilityType, NewFacility, NewOrganization, OrganizationKind, SupplyType, store,
};

struct DemoMunicipality {
    code: &'static str,
    name: &'static str,
    kana: &'static str,
    romaji: &'static str,
}

const MUNICIPALITIES: [DemoMunicipality; 4] = [
    DemoMunicipality {
        code: "131105",
        name: "目黒区",
        kana: "めぐろく",
        romaji: "Meguro-ku",
    },
    DemoMunicipality {
        code: "131121",
        name: "世田谷区",
        kana: "せたがやく",
        romaji: "Setagaya-ku",
    },
    DemoMunicipality {
        code: "131032",
        name: "港区",
        kana: "みなとく",
        romaji: "Minato-ku",
    },
    DemoMunicipality {
        code: "141003",
        name: "横浜市",
        kana: "よこはまし",
        romaji: "Yokohama-shi",
    },
];

struct DemoFacility {
    municipality: &'static str,
    code: &'static str,
    name: &'static str,
    kana: &'static str,
    romaji: &'static str,
    facility_type: FacilityType,
    postal_code: &'static str,
    address: &'static str,
    position: (f64, f64),
    phone: &'static str,
    /// For a satellite: the code of the basic-type facility supplying it.
    basic: Option<&'static str>,
}

const FACILITIES: [DemoFacility; 8] = [
    DemoFacility {
        municipality: "131105",
        code: "1311000010",
        name: "目黒区病院01",
        kana: "めぐろくびょういん01",
        romaji: "Meguro Hospital 01",
        facility_type: FacilityType::Hospital,
        postal_code: "153-0061",
        address: "東京都目黒区中目黒二丁目1番1号",
        position: (35.6414, 139.6986),
        phone: "03-0000-0101",
        basic: None,
    },
    DemoFacility {
        municipality: "131105",
        code: "1311000028",
        name: "目黒区診療所01",
        kana: "めぐろくしんりょうじょ01",
        romaji: "Meguro Clinic 01",
        facility_type: FacilityType::Clinic,
        postal_code: "152-0002",
        address: "東京都目黒区目黒本町三丁目2番2号",
        position: (35.6213, 139.7016),
        phone: "03-0000-0102",
        basic: Some("1311000010"),
    },
    DemoFacility {
        municipality: "131105",
        code: "1319000012",
        name: "目黒区特設会場01",
        kana: "めぐろくとくせつかいじょう01",
        romaji: "Meguro Special Venue 01",
        facility_type: FacilityType::SpecialVenue,
        postal_code: "153-0063",
        address: "東京都目黒区目黒二丁目4番36号",
        position: (35.6339, 139.7079),
        phone: "03-0000-0103",
        basic: None,
    },
    DemoFacility {
        municipality: "131121",
        code: "1311000036",
        name: "世田谷区病院01",
        kana: "せたがやくびょういん01",
        romaji: "Setagaya Hospital 01",
        facility_type: FacilityType::Hospital,
        postal_code: "154-0017",
        address: "東京都世田谷区世田谷四丁目21番27号",
        position: (35.6466, 139.6532),
        phone: "03-0000-0201",
        basic: None,
    },
    DemoFacility {
        municipality: "131032",
        code: "1311000044",
        name: "港区診療所01",
        kana: "みなとくしんりょうじょ01",
        romaji: "Minato Clinic 01",
        facility_type: FacilityType::Clinic,
        postal_code: "105-0011",
        address: "東京都港区芝公園一丁目5番25号",
        position: (35.6581, 139.7516),
        phone: "03-0000-0301",
        basic: None,
    },
    DemoFacility {
        municipality: "141003",
        code: "1411000019",
        name: "横浜病院01",
        kana: "よこはまびょういん01",
        romaji: "Yokohama Hospital 01",
        facility_type: FacilityType::Hospital,
        postal_code: "231-0005",
        address: "神奈川県横浜市中区本町六丁目50番地10",
        position: (35.4509, 139.6340),
        phone: "045-000-0401",
        basic: None,
    },
    DemoFacility {
        municipality: "141003",
        code: "1411000027",
        name: "横浜診療所01",
        kana: "よこはましんりょうじょ01",
        romaji: "Yokohama Clinic 01",
        facility_type: FacilityType::Clinic,
        postal_code: "220-0011",
        address: "神奈川県横浜市西区高島二丁目16番1号",
        position: (35.4660, 139.6223),
        phone: "045-000-0402",
        basic: None,
    },
    DemoFacility {
        municipality: "141003",
        code: "1419000011",
        name: "横浜特設会場01",
        kana: "よこはまとくせつかいじょう01",
        romaji: "Yokohama Special Venue 01",
        facility_type: FacilityType::SpecialVenue,
        postal_code: "220-0012",
        address: "神奈川県横浜市西区みなとみらい一丁目1番1号",
        position: (35.4576, 139.6317),
        phone: "045-000-0403",
        basic: None,
    },
];

struct DemoPartner {
    kind: OrganizationKind,
    code: &'static str,
    name: &'static str,
    kana: &'static str,
    romaji: &'static str,
    /// Local-government code of the area the partner belongs to, if any.
    area: Option<&'static str>,
}

const PARTNERS: [DemoPartner; 8] = [
    DemoPartner {
        kind: OrganizationKind::Manufacturer,
        code: "PFIZER",
        name: "ファイザー株式会社",
        kana: "ふぁいざーかぶしきがいしゃ",
        romaji: "Pfizer Japan Inc.",
        area: None,
    },
    // Moderna's vaccine was supplied in Japan through Takeda.
    DemoPartner {
        kind: OrganizationKind::Manufacturer,
        code: "TAKEDA",
        name: "武田薬品工業株式会社",
        kana: "たけだやくひんこうぎょうかぶしきがいしゃ",
        romaji: "Takeda Pharmaceutical Company Limited",
        area: None,
    },
    DemoPartner {
        kind: OrganizationKind::Wholesaler,
        code: "WS-KANTO-01",
        name: "関東医薬品卸株式会社",
        kana: "かんとういやくひんおろしかぶしきがいしゃ",
        romaji: "Kanto Pharmaceutical Wholesale Co.",
        area: None,
    },
    DemoPartner {
        kind: OrganizationKind::DryIceSupplier,
        code: "DI-01",
        name: "東日本ドライアイス株式会社",
        kana: "ひがしにほんどらいあいすかぶしきがいしゃ",
        romaji: "East Japan Dry Ice Co.",
        area: None,
    },
    DemoPartner {
        kind: OrganizationKind::SupplyWarehouse,
        code: "NS-01",
        name: "針・シリンジ東日本倉庫",
        kana: "はり・しりんじひがしにほんそうこ",
        romaji: "East Japan Needle and Syringe Warehouse",
        area: None,
    },
    DemoPartner {
        kind: OrganizationKind::Aggregator,
        code: "AGG-131105",
        name: "目黒区医師会",
        kana: "めぐろくいしかい",
        romaji: "Meguro Medical Association",
        area: Some("131105"),
    },
    DemoPartner {
        kind: OrganizationKind::MedicalAssociation,
        code: "MA-13",
        name: "東京都医療関係団体連絡会",
        kana: "とうきょうといりょうかんけいだんたいれんらくかい",
        romaji: "Tokyo Healthcare Workers Liaison Council",
        area: Some("130001"),
    },
    DemoPartner {
        kind: OrganizationKind::ServiceDesk,
        code: "HELPDESK",
        name: "V-SYSヘルプデスク",
        kana: "ぶいしすへるぷですく",
        romaji: "V-SYS Service Desk",
        area: None,
    },
];

/// Loads the demo data unless the database already holds municipalities. Returns whether it
/// loaded anything.
pub async fn seed_if_empty(db: &Db) -> AppResult<bool> {
    // Already seeded, or holding other data (e.g. the national synthetic set the benchmarks
    // load): the demo is for an empty database only.
    let facilities: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE kind = $1")
        .bind(OrganizationKind::Facility.as_db())
        .fetch_one(db.pool())
        .await?;
    if facilities > 0
        || store::find_by_code(db, OrganizationKind::Municipality, MUNICIPALITIES[0].code)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    let (nation_id, prefecture_ids) = ensure_nation_and_prefectures(db).await?;
    let prefecture_of = |code: &str| -> String {
        let code = MunicipalityCode::parse(code).expect("demo codes are valid");
        prefecture_ids[&code.prefecture().as_string()].clone()
    };

    let mut rows = Vec::new();
    let mut municipality_ids = HashMap::new();
    for m in &MUNICIPALITIES {
        let id = new_id();
        municipality_ids.insert(m.code, id.clone());
        let prefecture_id = prefecture_of(m.code);
        rows.push(NewOrganization {
            id: id.clone(),
            kind: OrganizationKind::Municipality,
            code: m.code.into(),
            name: m.name.into(),
            name_kana: Some(m.kana.into()),
            name_romaji: Some(m.romaji.into()),
            parent_id: Some(prefecture_id.clone()),
            prefecture_id: Some(prefecture_id),
            municipality_id: Some(id),
            facility: None,
        });
    }
    let facility_ids: HashMap<&str, String> =
        FACILITIES.iter().map(|f| (f.code, new_id())).collect();
    for f in &FACILITIES {
        let municipality_id = municipality_ids[f.municipality].clone();
        let basic_facility_id = f.basic.map(|code| facility_ids[code].clone());
        rows.push(NewOrganization {
            id: facility_ids[f.code].clone(),
            kind: OrganizationKind::Facility,
            code: f.code.into(),
            name: f.name.into(),
            name_kana: Some(f.kana.into()),
            name_romaji: Some(f.romaji.into()),
            parent_id: Some(municipality_id.clone()),
            prefecture_id: Some(prefecture_of(f.municipality)),
            municipality_id: Some(municipality_id.clone()),
            facility: Some(NewFacility {
                facility_type: f.facility_type,
                postal_code: Some(f.postal_code.into()),
                address: f.address.into(),
                latitude: f.position.0,
                longitude: f.position.1,
                phone: Some(f.phone.into()),
                supply_type: if basic_facility_id.is_some() {
                    SupplyType::Satellite
                } else {
                    SupplyType::Basic
                },
                basic_facility_id,
                // A special venue is run by the municipality it lies in.
                operating_municipality_id: (f.facility_type == FacilityType::SpecialVenue)
                    .then(|| municipality_id.clone()),
            }),
        });
    }
    for p in &PARTNERS {
        let (prefecture_id, municipality_id, parent_id) = match p.area {
            // Body number 000 is the prefecture itself (e.g. Tokyo 130001).
            Some(code) if &code[2..5] == "000" => {
                let prefecture = prefecture_of(code);
                (Some(prefecture.clone()), None, prefecture)
            }
            Some(code) => {
                let municipality = municipality_ids[code].clone();
                (
                    Some(prefecture_of(code)),
                    Some(municipality.clone()),
                    municipality,
                )
            }
            None => (None, None, nation_id.clone()),
        };
        rows.push(NewOrganization {
            id: new_id(),
            kind: p.kind,
            code: p.code.into(),
            name: p.name.into(),
            name_kana: Some(p.kana.into()),
            name_romaji: Some(p.romaji.into()),
            parent_id: Some(parent_id),
            prefecture_id,
            municipality_id,
            facility: None,
        });
    }
    store::insert_all(db, &rows).await?;
    super::population::apply(
        db,
        OrganizationKind::Municipality,
        &super::population::DEMO_MUNICIPALITIES,
    )
    .await?;
    crate::identity::demo::create_demo_accounts(db).await?;
    super::demo_registry::seed(db).await?;
    super::demo_slots::seed(db).await?;
    Ok(true)
}

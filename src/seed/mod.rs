//! Data loaders: the seed document's worked example (`--demo`) and national-scale synthetic
//! data (`--synthetic national`).

pub mod demo;
mod demo_registry;
mod demo_slots;
mod population;
mod products;
pub mod synthetic;
pub mod synthetic_allocation;
mod synthetic_reservations;

use std::collections::HashMap;

use crate::db::{Db, new_id};
use crate::error::AppResult;
use crate::organizations::prefectures::PREFECTURES;
use crate::organizations::{NewOrganization, OrganizationKind, store};

/// The nation's registry code.
pub const NATION_CODE: &str = "JP";

/// Ensures the nation and the 47 prefectures exist; returns the nation's id and the
/// prefectures' ids by JIS code.
pub async fn ensure_nation_and_prefectures(
    db: &Db,
) -> AppResult<(String, HashMap<String, String>)> {
    if let Some(nation) = store::find_by_code(db, OrganizationKind::Nation, NATION_CODE).await? {
        return Ok((nation.id, store::prefecture_ids_by_code(db).await?));
    }
    let nation_id = new_id();
    let mut rows = vec![NewOrganization {
        id: nation_id.clone(),
        kind: OrganizationKind::Nation,
        code: NATION_CODE.into(),
        name: "国（厚生労働省）".into(),
        name_kana: Some("くに（こうせいろうどうしょう）".into()),
        name_romaji: Some("Nation (Ministry of Health, Labour and Welfare)".into()),
        parent_id: None,
        prefecture_id: None,
        municipality_id: None,
        facility: None,
    }];
    let mut prefecture_ids = HashMap::new();
    for fact in &PREFECTURES {
        let id = new_id();
        prefecture_ids.insert(fact.code.to_owned(), id.clone());
        rows.push(NewOrganization {
            id: id.clone(),
            kind: OrganizationKind::Prefecture,
            code: fact.code.into(),
            name: fact.name.into(),
            name_kana: Some(fact.name_kana.into()),
            name_romaji: Some(fact.name_romaji.into()),
            parent_id: Some(nation_id.clone()),
            prefecture_id: Some(id),
            municipality_id: None,
            facility: None,
        });
    }
    store::insert_all(db, &rows).await?;
    population::apply(db, OrganizationKind::Prefecture, &population::PREFECTURES).await?;
    Ok((nation_id, prefecture_ids))
}

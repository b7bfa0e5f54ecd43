//! Residents per prefecture and of the demo's municipalities, which weigh the nation's and the
//! prefectures' allocation proposals (V-SYS proposed about 80% of the national amount by
//! population). Source: 総務省統計局「令和2年国勢調査」(2020 Census of Japan), population by
//! prefecture and municipality as of 1 October 2020.

use crate::db::Db;
use crate::error::AppResult;
use crate::organizations::OrganizationKind;

/// (JIS X 0401 code, residents) of the 47 prefectures.
pub const PREFECTURES: [(&str, i64); 47] = [
    ("01", 5_224_614),
    ("02", 1_237_984),
    ("03", 1_210_534),
    ("04", 2_301_996),
    ("05", 959_502),
    ("06", 1_068_027),
    ("07", 1_833_152),
    ("08", 2_867_009),
    ("09", 1_933_146),
    ("10", 1_939_110),
    ("11", 7_344_765),
    ("12", 6_284_480),
    ("13", 14_047_594),
    ("14", 9_237_337),
    ("15", 2_201_272),
    ("16", 1_034_814),
    ("17", 1_132_526),
    ("18", 766_863),
    ("19", 809_974),
    ("20", 2_048_011),
    ("21", 1_978_742),
    ("22", 3_633_202),
    ("23", 7_542_415),
    ("24", 1_770_254),
    ("25", 1_413_610),
    ("26", 2_578_087),
    ("27", 8_837_685),
    ("28", 5_465_002),
    ("29", 1_324_473),
    ("30", 922_584),
    ("31", 553_407),
    ("32", 671_126),
    ("33", 1_888_432),
    ("34", 2_799_702),
    ("35", 1_342_059),
    ("36", 719_559),
    ("37", 950_244),
    ("38", 1_334_841),
    ("39", 691_527),
    ("40", 5_135_214),
    ("41", 811_442),
    ("42", 1_312_317),
    ("43", 1_738_301),
    ("44", 1_123_852),
    ("45", 1_069_576),
    ("46", 1_588_256),
    ("47", 1_467_480),
];

/// (local-government code, residents) of the demo's municipalities.
pub const DEMO_MUNICIPALITIES: [(&str, i64); 4] = [
    ("131105", 288_088),   // 目黒区
    ("131121", 943_664),   // 世田谷区
    ("131032", 260_486),   // 港区
    ("141003", 3_777_491), // 横浜市
];

/// Sets the population of organisations of `kind` by code (unknown codes are skipped).
pub async fn apply(db: &Db, kind: OrganizationKind, figures: &[(&str, i64)]) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    for (code, population) in figures {
        sqlx::query("UPDATE organizations SET population = $1 WHERE kind = $2 AND code = $3")
            .bind(*population)
            .bind(kind.as_db())
            .bind(*code)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_figure_per_prefecture_in_jis_order() {
        let codes: Vec<&str> = PREFECTURES.iter().map(|(code, _)| *code).collect();
        let facts: Vec<&str> = crate::organizations::prefectures::PREFECTURES
            .iter()
            .map(|p| p.code)
            .collect();
        assert_eq!(codes, facts);
        // The 2020 census counted 126,146,099 residents.
        assert_eq!(PREFECTURES.iter().map(|(_, n)| n).sum::<i64>(), 126_146_099);
    }
}

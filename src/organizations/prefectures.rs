//! The 47 prefectures: JIS X 0401 code, names, the prefectural office's location, and the
//! number of municipalities (市区町村, Tokyo's 23 special wards included).
//! Sources: JIS X 0401; 総務省「市区町村数を調べる」(1,741 municipalities since 2014);
//! office coordinates from 国土地理院「都道府県庁所在地の経緯度」, rounded.

pub struct PrefectureFact {
    pub code: &'static str,
    pub name: &'static str,
    pub name_kana: &'static str,
    pub name_romaji: &'static str,
    /// Latitude and longitude of the prefectural office.
    pub office: (f64, f64),
    pub municipality_count: u32,
}

const fn p(
    code: &'static str,
    name: &'static str,
    name_kana: &'static str,
    name_romaji: &'static str,
    office: (f64, f64),
    municipality_count: u32,
) -> PrefectureFact {
    PrefectureFact {
        code,
        name,
        name_kana,
        name_romaji,
        office,
        municipality_count,
    }
}

pub const PREFECTURES: [PrefectureFact; 47] = [
    p("01", "北海道", "ほっかいどう", "Hokkaido", (43.0642, 141.3469), 179),
    p("02", "青森県", "あおもりけん", "Aomori", (40.8244, 140.7400), 40),
    p("03", "岩手県", "いわてけん", "Iwate", (39.7036, 141.1527), 33),
    p("04", "宮城県", "みやぎけん", "Miyagi", (38.2689, 140.8721), 35),
    p("05", "秋田県", "あきたけん", "Akita", (39.7186, 140.1024), 25),
    p("06", "山形県", "やまがたけん", "Yamagata", (38.2404, 140.3633), 35),
    p("07", "福島県", "ふくしまけん", "Fukushima", (37.7503, 140.4676), 59),
    p("08", "茨城県", "いばらきけん", "Ibaraki", (36.3418, 140.4468), 44),
    p("09", "栃木県", "とちぎけん", "Tochigi", (36.5657, 139.8836), 25),
    p("10", "群馬県", "ぐんまけん", "Gunma", (36.3911, 139.0608), 35),
    p("11", "埼玉県", "さいたまけん", "Saitama", (35.8569, 139.6489), 63),
    p("12", "千葉県", "ちばけん", "Chiba", (35.6047, 140.1233), 54),
    p("13", "東京都", "とうきょうと", "Tokyo", (35.6895, 139.6917), 62),
    p("14", "神奈川県", "かながわけん", "Kanagawa", (35.4478, 139.6425), 33),
    p("15", "新潟県", "にいがたけん", "Niigata", (37.9026, 139.0236), 30),
    p("16", "富山県", "とやまけん", "Toyama", (36.6953, 137.2113), 15),
    p("17", "石川県", "いしかわけん", "Ishikawa", (36.5947, 136.6256), 19),
    p("18", "福井県", "ふくいけん", "Fukui", (36.0652, 136.2216), 17),
    p("19", "山梨県", "やまなしけん", "Yamanashi", (35.6642, 138.5684), 27),
    p("20", "長野県", "ながのけん", "Nagano", (36.6513, 138.1810), 77),
    p("21", "岐阜県", "ぎふけん", "Gifu", (35.3912, 136.7223), 42),
    p("22", "静岡県", "しずおかけん", "Shizuoka", (34.9769, 138.3831), 35),
    p("23", "愛知県", "あいちけん", "Aichi", (35.1802, 136.9066), 54),
    p("24", "三重県", "みえけん", "Mie", (34.7303, 136.5086), 29),
    p("25", "滋賀県", "しがけん", "Shiga", (35.0045, 135.8686), 19),
    p("26", "京都府", "きょうとふ", "Kyoto", (35.0212, 135.7556), 26),
    p("27", "大阪府", "おおさかふ", "Osaka", (34.6863, 135.5200), 43),
    p("28", "兵庫県", "ひょうごけん", "Hyogo", (34.6913, 135.1830), 41),
    p("29", "奈良県", "ならけん", "Nara", (34.6851, 135.8329), 39),
    p("30", "和歌山県", "わかやまけん", "Wakayama", (34.2260, 135.1675), 30),
    p("31", "鳥取県", "とっとりけん", "Tottori", (35.5036, 134.2383), 19),
    p("32", "島根県", "しまねけん", "Shimane", (35.4723, 133.0505), 19),
    p("33", "岡山県", "おかやまけん", "Okayama", (34.6618, 133.9344), 27),
    p("34", "広島県", "ひろしまけん", "Hiroshima", (34.3966, 132.4596), 23),
    p("35", "山口県", "やまぐちけん", "Yamaguchi", (34.1861, 131.4706), 19),
    p("36", "徳島県", "とくしまけん", "Tokushima", (34.0658, 134.5593), 24),
    p("37", "香川県", "かがわけん", "Kagawa", (34.3401, 134.0434), 17),
    p("38", "愛媛県", "えひめけん", "Ehime", (33.8417, 132.7657), 20),
    p("39", "高知県", "こうちけん", "Kochi", (33.5597, 133.5311), 34),
    p("40", "福岡県", "ふくおかけん", "Fukuoka", (33.6064, 130.4181), 60),
    p("41", "佐賀県", "さがけん", "Saga", (33.2494, 130.2988), 20),
    p("42", "長崎県", "ながさきけん", "Nagasaki", (32.7448, 129.8737), 21),
    p("43", "熊本県", "くまもとけん", "Kumamoto", (32.7898, 130.7417), 45),
    p("44", "大分県", "おおいたけん", "Oita", (33.2382, 131.6126), 18),
    p("45", "宮崎県", "みやざきけん", "Miyazaki", (31.9111, 131.4239), 26),
    p("46", "鹿児島県", "かごしまけん", "Kagoshima", (31.5602, 130.5581), 43),
    p("47", "沖縄県", "おきなわけん", "Okinawa", (26.2124, 127.6809), 41),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_1741_municipalities_in_47_prefectures_in_code_order() {
        let total: u32 = PREFECTURES.iter().map(|p| p.municipality_count).sum();
        assert_eq!(total, 1741);
        for (index, prefecture) in PREFECTURES.iter().enumerate() {
            assert_eq!(prefecture.code, format!("{:02}", index + 1));
        }
    }
}

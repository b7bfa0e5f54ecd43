//! The billing summary (費用請求用の総括表): a facility's month, grouped by the municipality
//! that pays (the recipient's home, as on the coupon), each with its route, as the original's
//! two documents did — a claim per municipality (市区町村別請求書) and the summary sheet for the
//! national health insurance federation (請求総括書). Pure: built from the lines, the fee table
//! and the municipalities; rendered as CSV and PDF.
//!
//! The route follows where the recipient lives:
//! - in-area (住所地内接種: the facility's own municipality): claimed from that municipality
//!   directly, or through the prefecture's 国保連 where the municipality entrusted it;
//! - out-of-area (住所地外接種): through the 国保連 of the facility's prefecture, which bills
//!   the home municipality.

use std::collections::BTreeMap;

use super::claims::Line;
use super::fees::{Counts, FeeTable};
use crate::documents::pdf::{Align, Document};
use crate::reports::vaccinations::RecipientCategory;

/// How a municipality's share is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Claimed from the municipality directly.
    Direct,
    /// Through the 国保連 of the facility's prefecture.
    Federation,
}

impl Route {
    pub fn japanese(self) -> &'static str {
        match self {
            Route::Direct => "市区町村へ直接請求",
            Route::Federation => "国保連経由",
        }
    }
}

/// A paying municipality as the summary needs it.
#[derive(Debug, Clone)]
pub struct Payer {
    pub id: String,
    pub code: String,
    pub name: String,
    /// It entrusts its in-area claims to the 国保連.
    pub via_federation: bool,
}

/// One category's line under a municipality.
#[derive(Debug, Clone)]
pub struct CategoryLine {
    pub category: RecipientCategory,
    pub counts: Counts,
    pub amount: i64,
}

/// What one municipality pays.
#[derive(Debug, Clone)]
pub struct MunicipalityShare {
    pub payer: Payer,
    pub in_area: bool,
    pub route: Route,
    pub lines: Vec<CategoryLine>,
    pub counts: Counts,
    pub amount: i64,
}

/// The whole month.
#[derive(Debug, Clone)]
pub struct Summary {
    pub facility_code: String,
    pub facility_name: String,
    pub prefecture_name: String,
    pub month: String,
    /// DRAFT, SUBMITTED, or NOT_SAVED (the figures are attendance's draft).
    pub status: &'static str,
    pub due_on: String,
    pub late: bool,
    pub fees: FeeTable,
    pub shares: Vec<MunicipalityShare>,
    pub counts: Counts,
    pub direct_amount: i64,
    pub federation_amount: i64,
    pub total_amount: i64,
}

/// The facility's side of a summary.
pub struct Header<'a> {
    pub facility_code: &'a str,
    pub facility_name: &'a str,
    pub facility_municipality_id: Option<&'a str>,
    pub prefecture_name: &'a str,
    pub month: &'a str,
    pub status: &'static str,
    pub due_on: String,
    pub late: bool,
}

/// Groups `lines` by paying municipality (in code order), with routes and amounts.
pub fn build(
    header: Header<'_>,
    lines: &[Line],
    fees: FeeTable,
    payers: &BTreeMap<String, Payer>,
) -> Summary {
    let mut by_payer: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
    for line in lines {
        by_payer
            .entry(line.paying_municipality_id.as_str())
            .or_default()
            .push(line);
    }
    let mut shares: Vec<MunicipalityShare> = by_payer
        .into_iter()
        .filter_map(|(payer_id, lines)| {
            let payer = payers.get(payer_id)?.clone();
            let in_area = header.facility_municipality_id == Some(payer_id);
            let route = if in_area && !payer.via_federation {
                Route::Direct
            } else {
                Route::Federation
            };
            let mut counts = Counts::default();
            let lines: Vec<CategoryLine> = lines
                .into_iter()
                .map(|line| {
                    counts.add(&line.counts);
                    CategoryLine {
                        category: line.category,
                        counts: line.counts,
                        amount: fees.amount(&line.counts),
                    }
                })
                .collect();
            Some(MunicipalityShare {
                amount: fees.amount(&counts),
                payer,
                in_area,
                route,
                lines,
                counts,
            })
        })
        .collect();
    shares.sort_by(|a, b| a.payer.code.cmp(&b.payer.code));
    let mut counts = Counts::default();
    let (mut direct_amount, mut federation_amount) = (0, 0);
    for share in &shares {
        counts.add(&share.counts);
        match share.route {
            Route::Direct => direct_amount += share.amount,
            Route::Federation => federation_amount += share.amount,
        }
    }
    Summary {
        facility_code: header.facility_code.to_owned(),
        facility_name: header.facility_name.to_owned(),
        prefecture_name: header.prefecture_name.to_owned(),
        month: header.month.to_owned(),
        status: header.status,
        due_on: header.due_on,
        late: header.late,
        fees,
        shares,
        counts,
        direct_amount,
        federation_amount,
        total_amount: direct_amount + federation_amount,
    }
}

/// The Japanese name of a recipient category, as the forms print it.
pub fn category_japanese(category: RecipientCategory) -> &'static str {
    match category {
        RecipientCategory::HealthcareWorker => "医療従事者等",
        RecipientCategory::Elderly => "高齢者",
        RecipientCategory::UnderlyingCondition => "基礎疾患を有する者",
        RecipientCategory::General => "一般",
        RecipientCategory::Child => "小児",
    }
}

/// A CSV cell that a spreadsheet will not run: text starting with `=`, `+`, `-`, `@` (or a
/// tab or carriage return, which some spreadsheets skip before such a sign) gets a leading
/// apostrophe; the csv writer quotes what needs quoting.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The summary as CSV (UTF-8 with a byte-order mark, which Excel needs to read Japanese): one
/// row per municipality and category, then the totals per route.
pub fn csv(summary: &Summary) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "請求月",
        "医療機関コード",
        "医療機関名",
        "請求先市区町村コード",
        "請求先市区町村名",
        "住所地",
        "請求経路",
        "区分",
        "接種回数",
        "予診のみ",
        "6歳未満加算",
        "時間外加算",
        "休日加算",
        "金額（円）",
    ];
    let _ = writer.write_record(header);
    for share in &summary.shares {
        for line in &share.lines {
            let c = &line.counts;
            let record = [
                summary.month.clone(),
                spreadsheet_safe(&summary.facility_code),
                spreadsheet_safe(&summary.facility_name),
                spreadsheet_safe(&share.payer.code),
                spreadsheet_safe(&share.payer.name),
                if share.in_area {
                    "住所地内"
                } else {
                    "住所地外"
                }
                .to_owned(),
                share.route.japanese().to_owned(),
                category_japanese(line.category).to_owned(),
                c.vaccinations.to_string(),
                c.screenings_only.to_string(),
                c.under_six.to_string(),
                c.out_of_hours.to_string(),
                c.holidays.to_string(),
                line.amount.to_string(),
            ];
            let _ = writer.write_record(&record);
        }
    }
    for (label, amount) in [
        ("市区町村へ直接請求 計", summary.direct_amount),
        ("国保連経由 計", summary.federation_amount),
        ("合計", summary.total_amount),
    ] {
        let mut record = vec![String::new(); header.len()];
        record[0] = summary.month.clone();
        record[7] = label.to_owned();
        record[13] = amount.to_string();
        let _ = writer.write_record(&record);
    }
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(writer.into_inner().unwrap_or_default());
    bytes
}

fn yen(amount: i64) -> String {
    let digits = amount.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}円", if amount < 0 { "-" } else { "" })
}

/// The summary as PDF: a claim per municipality, then the summary sheet for the 国保連.
pub fn pdf(summary: &Summary) -> Result<Vec<u8>, String> {
    let mut document = Document::new("新型コロナワクチン接種費用 請求書");
    for share in &summary.shares {
        document.page(|page| {
            page.text(
                105.0,
                20.0,
                16.0,
                Align::Centre,
                "新型コロナウイルスワクチン接種費用 請求書",
            );
            page.text(105.0, 27.0, 9.0, Align::Centre, "（市区町村別請求書）");
            page.text(
                20.0,
                42.0,
                12.0,
                Align::Left,
                &format!("{} 様", share.payer.name),
            );
            page.text(
                20.0,
                49.0,
                9.0,
                Align::Left,
                &format!("市区町村コード {}", share.payer.code),
            );
            page.text(
                190.0,
                42.0,
                9.0,
                Align::Right,
                &format!("請求月 {}", summary.month),
            );
            page.text(
                190.0,
                49.0,
                9.0,
                Align::Right,
                &format!("{}（{}）", summary.facility_name, summary.facility_code),
            );
            page.text(
                20.0,
                60.0,
                9.0,
                Align::Left,
                &format!(
                    "{}・{}　提出期限 {}",
                    if share.in_area {
                        "住所地内接種"
                    } else {
                        "住所地外接種"
                    },
                    share.route.japanese(),
                    summary.due_on
                ),
            );
            page.frame(20.0, 66.0, 170.0, 14.0, 1.0);
            page.text(25.0, 75.5, 11.0, Align::Left, "請求金額");
            page.text(185.0, 76.0, 14.0, Align::Right, &yen(share.amount));
            counts_table(page, 90.0, &share.lines, &summary.fees);
        });
    }
    document.page(|page| {
        page.text(105.0, 20.0, 16.0, Align::Centre, "新型コロナウイルスワクチン接種費用 請求総括書");
        page.text(105.0, 27.0, 9.0, Align::Centre, &format!("{} 国民健康保険団体連合会 御中", summary.prefecture_name));
        page.text(20.0, 42.0, 10.0, Align::Left, &format!("{}（医療機関コード {}）", summary.facility_name, summary.facility_code));
        page.text(190.0, 42.0, 9.0, Align::Right, &format!("請求月 {}　提出期限 {}", summary.month, summary.due_on));
        let mut y = 55.0;
        page.fill(20.0, y, 170.0, 7.0, 0.9);
        page.frame(20.0, y, 170.0, 7.0, 0.5);
        for (x, title, align) in [
            (22.0, "市区町村コード", Align::Left),
            (55.0, "市区町村名", Align::Left),
            (110.0, "住所地", Align::Left),
            (135.0, "接種回数", Align::Right),
            (150.0, "予診のみ", Align::Right),
            (188.0, "金額", Align::Right),
        ] {
            page.text(x, y + 5.0, 8.5, align, title);
        }
        y += 7.0;
        for share in summary.shares.iter().filter(|s| s.route == Route::Federation) {
            page.frame(20.0, y, 170.0, 7.0, 0.3);
            page.text(22.0, y + 5.0, 9.0, Align::Left, &share.payer.code);
            page.text(55.0, y + 5.0, 9.0, Align::Left, &share.payer.name);
            page.text(110.0, y + 5.0, 9.0, Align::Left, if share.in_area { "住所地内" } else { "住所地外" });
            page.text(135.0, y + 5.0, 9.0, Align::Right, &share.counts.vaccinations.to_string());
            page.text(150.0, y + 5.0, 9.0, Align::Right, &share.counts.screenings_only.to_string());
            page.text(188.0, y + 5.0, 9.0, Align::Right, &yen(share.amount));
            y += 7.0;
            if y > 250.0 {
                break; // the CSV carries every line; a sheet this long is rare
            }
        }
        y += 6.0;
        for (label, amount) in [
            ("国保連経由 計", summary.federation_amount),
            ("市区町村へ直接請求 計（参考）", summary.direct_amount),
            ("合計（参考）", summary.total_amount),
        ] {
            page.text(120.0, y, 10.0, Align::Right, label);
            page.text(188.0, y, 10.0, Align::Right, &yen(amount));
            y += 7.0;
        }
        page.text(
            20.0,
            285.0,
            7.5,
            Align::Left,
            &format!(
                "単価（{}から）: 接種 {} ／ 予診のみ {} ／ 6歳未満加算 {} ／ 時間外加算 {} ／ 休日加算 {}",
                summary.fees.valid_from,
                yen(summary.fees.vaccination),
                yen(summary.fees.screening_only),
                yen(summary.fees.under_six),
                yen(summary.fees.out_of_hours),
                yen(summary.fees.holiday)
            ),
        );
    });
    document.finish()
}

fn counts_table(
    page: &mut crate::documents::pdf::Page<'_>,
    top: f32,
    lines: &[CategoryLine],
    fees: &FeeTable,
) {
    let columns = [
        ("区分", 22.0, Align::Left),
        ("接種", 88.0, Align::Right),
        ("予診のみ", 106.0, Align::Right),
        ("6歳未満", 124.0, Align::Right),
        ("時間外", 142.0, Align::Right),
        ("休日", 160.0, Align::Right),
        ("金額", 188.0, Align::Right),
    ];
    page.fill(20.0, top, 170.0, 7.0, 0.9);
    page.frame(20.0, top, 170.0, 7.0, 0.5);
    for (title, x, align) in columns {
        page.text(x, top + 5.0, 8.5, align, title);
    }
    let mut y = top + 7.0;
    for line in lines {
        let c = &line.counts;
        page.frame(20.0, y, 170.0, 7.0, 0.3);
        let values = [
            category_japanese(line.category).to_owned(),
            c.vaccinations.to_string(),
            c.screenings_only.to_string(),
            c.under_six.to_string(),
            c.out_of_hours.to_string(),
            c.holidays.to_string(),
            yen(line.amount),
        ];
        for ((_, x, align), value) in columns.iter().zip(values.iter()) {
            page.text(*x, y + 5.0, 9.0, *align, value);
        }
        y += 7.0;
    }
    page.text(
        20.0,
        y + 8.0,
        7.5,
        Align::Left,
        &format!(
            "単価: 接種 {} ／ 予診のみ {} ／ 加算 6歳未満 {}・時間外 {}・休日 {}",
            yen(fees.vaccination),
            yen(fees.screening_only),
            yen(fees.under_six),
            yen(fees.out_of_hours),
            yen(fees.holiday)
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees() -> FeeTable {
        FeeTable {
            valid_from: "2021-02-17".into(),
            vaccination: 2070,
            screening_only: 1540,
            under_six: 660,
            out_of_hours: 730,
            holiday: 2130,
        }
    }

    fn payer(id: &str, code: &str, name: &str, via_federation: bool) -> (String, Payer) {
        (
            id.to_owned(),
            Payer {
                id: id.to_owned(),
                code: code.to_owned(),
                name: name.to_owned(),
                via_federation,
            },
        )
    }

    fn line(payer: &str, category: RecipientCategory, vaccinations: i64) -> Line {
        Line {
            paying_municipality_id: payer.to_owned(),
            category,
            counts: Counts {
                vaccinations,
                ..Counts::default()
            },
        }
    }

    fn header(municipality: &str) -> Header<'_> {
        Header {
            facility_code: "1311000010",
            facility_name: "目黒区病院01",
            facility_municipality_id: Some(municipality),
            prefecture_name: "東京都",
            month: "2021-06",
            status: "DRAFT",
            due_on: "2021-07-10".into(),
            late: false,
        }
    }

    #[test]
    fn in_area_is_direct_unless_entrusted_and_out_of_area_goes_through_the_federation() {
        let payers: BTreeMap<String, Payer> = [
            payer("meguro", "131105", "目黒区", false),
            payer("setagaya", "131121", "世田谷区", false),
        ]
        .into();
        let lines = [
            line("meguro", RecipientCategory::Elderly, 10),
            line("meguro", RecipientCategory::General, 5),
            line("setagaya", RecipientCategory::Elderly, 2),
        ];
        let summary = build(header("meguro"), &lines, fees(), &payers);
        assert_eq!(summary.shares.len(), 2);
        let meguro = &summary.shares[0];
        assert!(meguro.in_area);
        assert_eq!(meguro.route, Route::Direct);
        assert_eq!(meguro.amount, 15 * 2070);
        let setagaya = &summary.shares[1];
        assert!(!setagaya.in_area);
        assert_eq!(setagaya.route, Route::Federation);
        assert_eq!(summary.direct_amount, 15 * 2070);
        assert_eq!(summary.federation_amount, 2 * 2070);
        assert_eq!(summary.total_amount, 17 * 2070);

        // Meguro entrusts its claims to the federation: everything goes through it.
        let entrusted: BTreeMap<String, Payer> = [
            payer("meguro", "131105", "目黒区", true),
            payer("setagaya", "131121", "世田谷区", false),
        ]
        .into();
        let summary = build(header("meguro"), &lines, fees(), &entrusted);
        assert_eq!(summary.shares[0].route, Route::Federation);
        assert_eq!(summary.direct_amount, 0);
        assert_eq!(summary.federation_amount, 17 * 2070);
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        for (text, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+81", "'+81"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("目黒区", "目黒区"),
        ] {
            assert_eq!(spreadsheet_safe(text), safe);
        }
        let payers: BTreeMap<String, Payer> =
            [payer("evil", "131105", "=cmd|' /C calc'!A0", false)].into();
        let summary = build(
            header("evil"),
            &[line("evil", RecipientCategory::General, 1)],
            fees(),
            &payers,
        );
        let text = String::from_utf8(csv(&summary)).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("'=cmd"), "{text}");
        assert!(!text.contains(",=cmd"), "{text}");
    }

    #[test]
    fn yen_is_grouped_by_thousands() {
        assert_eq!(yen(2070), "2,070円");
        assert_eq!(yen(1234567), "1,234,567円");
        assert_eq!(yen(0), "0円");
    }

    #[test]
    fn the_pdf_has_a_claim_per_municipality_and_the_summary_sheet() {
        let payers: BTreeMap<String, Payer> = [
            payer("meguro", "131105", "目黒区", false),
            payer("setagaya", "131121", "世田谷区", false),
        ]
        .into();
        let lines = [
            line("meguro", RecipientCategory::Elderly, 10),
            line("setagaya", RecipientCategory::Elderly, 2),
        ];
        let bytes = pdf(&build(header("meguro"), &lines, fees(), &payers)).unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        if let Ok(path) = std::env::var("VSYS_SAMPLE_BILLING_PDF") {
            std::fs::write(path, &bytes).unwrap();
        }
    }
}

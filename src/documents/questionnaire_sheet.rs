//! The printed pre-screening questionnaire with its coupon (接種券付き予診票, seed pp. 17–21):
//! one A4 page per person, in Japanese.
//!
//! The page follows the national standard form for COVID-19 vaccination (新型コロナワクチン
//! 接種の予診票, Ministry of Health, Labour and Welfare): the person's particulars, the
//! questions answered はい／いいえ, the doctor's section and the person's consent. Above it sits
//! the coupon area: the municipality code, the 10-digit coupon number, the 18-digit line read by
//! OCR and a QR code carrying the same digits, so that a clinic's scanner and a billing office
//! read the same number.

use time::Date;

use super::pdf::{Align, Document, Page};

/// What one page prints.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The 6-digit local government code of the municipality that issued the coupon (the
    /// person's home, which pays for the vaccination).
    pub municipality_code: String,
    pub prefecture_name: String,
    pub municipality_name: String,
    /// 10 digits.
    pub coupon_number: String,
    /// Which dose the coupon is for (1 or 2).
    pub dose: u8,
    pub name: String,
    pub name_kana: String,
    pub birth_date: Date,
    /// 男 or 女, as printed.
    pub sex: &'static str,
    pub worker_category: String,
    pub workplace: String,
    /// Who printed it (the facility or body that imported the people).
    pub issued_by: String,
}

/// The coupon kind in the OCR line: 1, a coupon attached to a pre-screening questionnaire.
const COUPON_KIND: char = '1';

impl Sheet {
    /// The 18 digits read by OCR and carried by the QR code: the coupon kind (1), the dose (1),
    /// the municipality code (6) and the coupon number (10).
    pub fn ocr_digits(&self) -> String {
        format!(
            "{COUPON_KIND}{}{}{}",
            self.dose, self.municipality_code, self.coupon_number
        )
    }
}

/// The questions of the national standard form, answered はい／いいえ.
const QUESTIONS: [&str; 12] = [
    "新型コロナワクチンの接種を初めて受けますか。（受けた方は回数と最後の接種日を医師にお伝えください）",
    "現時点で住民票のある市町村と、接種券に記載されている市町村は同じですか。",
    "「新型コロナワクチンの説明書」を読み、効果や副反応などについて理解しましたか。",
    "現在、何らかの病気にかかって治療（投薬など）を受けていますか。",
    "その病気を診てもらっている医師に、今日の接種を受けてよいと言われましたか。",
    "最近1か月以内に熱が出たり、病気にかかったりしましたか。",
    "今日、体に具合が悪いところがありますか。",
    "けいれん（ひきつけ）を起こしたことがありますか。",
    "薬や食品などで重いアレルギー症状（アナフィラキシーなど）を起こしたことがありますか。",
    "これまでに予防接種を受けて具合が悪くなったことはありますか。",
    "現在妊娠している可能性（生理が予定より遅れているなど）はありますか。または授乳中ですか。",
    "2週間以内に予防接種を受けましたか。受けた場合は種類と接種日をお書きください。",
];

/// Renders the pages, one per sheet, in order.
pub fn render(sheets: &[Sheet]) -> Result<Vec<u8>, String> {
    let mut document = Document::new("新型コロナワクチン接種の予診票");
    for sheet in sheets {
        document.page(|page| draw(page, sheet));
    }
    document.finish()
}

fn draw(page: &mut Page, sheet: &Sheet) {
    let left = 15.0;
    let right = 195.0;
    page.text(
        105.0,
        16.0,
        15.0,
        Align::Centre,
        "新型コロナワクチン接種の予診票（接種券付き）",
    );
    coupon_area(page, sheet, left, 21.0);
    let y = particulars(page, sheet, left, right, 66.0);
    let y = questions(page, left, right, y + 4.0);
    doctor_and_consent(page, left, right, y + 4.0);
    page.text(
        left,
        290.0,
        7.0,
        Align::Left,
        &format!(
            "発行: {}　／　この予診票は接種を受ける方ご本人が記入してください。",
            sheet.issued_by
        ),
    );
}

/// The coupon: who issued it and its numbers, with the OCR line and the QR code.
fn coupon_area(page: &mut Page, sheet: &Sheet, x: f32, y: f32) {
    let width = 180.0;
    let height = 40.0;
    page.frame(x, y, width, height, 1.0);
    page.fill(x, y, 28.0, height, 0.9);
    page.text(x + 14.0, y + 17.0, 11.0, Align::Centre, "接種券");
    page.text(x + 14.0, y + 24.0, 7.0, Align::Centre, "（クーポン券）");
    let column = x + 32.0;
    page.text(
        column,
        y + 7.0,
        9.0,
        Align::Left,
        &format!("{}　{}", sheet.prefecture_name, sheet.municipality_name),
    );
    page.text(column, y + 15.0, 8.0, Align::Left, "市町村コード");
    page.text(
        column + 24.0,
        y + 15.0,
        11.0,
        Align::Left,
        &sheet.municipality_code,
    );
    page.text(column, y + 23.0, 8.0, Align::Left, "券番号");
    page.text(
        column + 24.0,
        y + 23.0,
        13.0,
        Align::Left,
        &sheet.coupon_number,
    );
    page.text(
        column + 72.0,
        y + 23.0,
        9.0,
        Align::Left,
        &format!("第{}回接種用", sheet.dose),
    );
    // The OCR line: spaced digits in a box, as the scanners read them.
    page.frame(column, y + 27.0, 106.0, 9.0, 0.5);
    let digits: String = sheet
        .ocr_digits()
        .chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    page.text(column + 3.0, y + 33.5, 10.5, Align::Left, &digits);
    page.qr(x + width - 38.0, y + 1.0, 38.0, &sheet.ocr_digits());
}

/// The person: address, name, date of birth, sex, work.
fn particulars(page: &mut Page, sheet: &Sheet, left: f32, right: f32, y: f32) -> f32 {
    let label = 30.0;
    let row = 8.5;
    let rows: [(&str, String); 5] = [
        (
            "住所",
            format!("{}{}", sheet.prefecture_name, sheet.municipality_name),
        ),
        ("フリガナ", sheet.name_kana.clone()),
        ("氏名", sheet.name.clone()),
        (
            "生年月日",
            format!(
                "{}年{}月{}日　（性別: {}）",
                sheet.birth_date.year(),
                u8::from(sheet.birth_date.month()),
                sheet.birth_date.day(),
                sheet.sex
            ),
        ),
        (
            "医療従事者等",
            format!("{}　／　{}", sheet.worker_category, sheet.workplace),
        ),
    ];
    for (i, (name, value)) in rows.iter().enumerate() {
        let top = y + i as f32 * row;
        page.fill(left, top, label, row, 0.92);
        page.frame(left, top, right - left, row, 0.5);
        page.rule(left + label, top, left + label, top + row, 0.5);
        page.text(left + 2.0, top + 5.8, 8.5, Align::Left, name);
        let size = if *name == "氏名" { 12.0 } else { 9.5 };
        page.text(left + label + 3.0, top + 6.0, size, Align::Left, value);
    }
    page.text(
        right,
        y + rows.len() as f32 * row + 5.0,
        8.0,
        Align::Right,
        "診察前の体温　　　　度　　　分",
    );
    y + rows.len() as f32 * row + 7.0
}

/// The questions, each with はい／いいえ boxes.
fn questions(page: &mut Page, left: f32, right: f32, y: f32) -> f32 {
    let answer_width = 30.0;
    page.fill(left, y, right - left, 6.5, 0.85);
    page.frame(left, y, right - left, 6.5, 0.5);
    page.text(left + 2.0, y + 4.7, 8.5, Align::Left, "質問事項");
    page.text(
        right - answer_width / 2.0,
        y + 4.7,
        8.5,
        Align::Centre,
        "回答欄",
    );
    let mut top = y + 6.5;
    for (i, question) in QUESTIONS.iter().enumerate() {
        let lines = super::pdf::wrap(question, right - left - answer_width - 10.0, 8.5);
        let height = 3.0 + lines.len() as f32 * 3.9;
        page.frame(left, top, right - left, height, 0.5);
        page.rule(
            right - answer_width,
            top,
            right - answer_width,
            top + height,
            0.5,
        );
        page.text(
            left + 2.0,
            top + 4.6,
            8.5,
            Align::Left,
            &format!("{}.", i + 1),
        );
        for (n, line) in lines.iter().enumerate() {
            page.text(
                left + 8.0,
                top + 4.6 + n as f32 * 3.9,
                8.5,
                Align::Left,
                line,
            );
        }
        page.text(
            right - answer_width / 2.0,
            top + 4.6,
            8.5,
            Align::Centre,
            "□はい　□いいえ",
        );
        top += height;
    }
    top
}

/// The doctor's finding and the person's consent, and what the clinic records.
fn doctor_and_consent(page: &mut Page, left: f32, right: f32, y: f32) {
    let width = right - left;
    page.frame(left, y, width, 24.0, 0.8);
    page.text(left + 2.0, y + 5.0, 8.5, Align::Left, "医師記入欄");
    page.text(
        left + 2.0,
        y + 11.0,
        8.5,
        Align::Left,
        "以上の問診及び診察の結果、今日の接種は（　可能　・　見合わせる　）",
    );
    page.text(
        left + 2.0,
        y + 16.5,
        8.0,
        Align::Left,
        "本人に対して、接種の効果、副反応及び予防接種健康被害救済制度について説明した。",
    );
    page.text(
        left + 2.0,
        y + 22.0,
        8.5,
        Align::Left,
        "医師署名又は記名押印",
    );
    let consent = y + 27.0;
    page.frame(left, consent, width, 18.0, 0.8);
    page.paragraph(
        left + 2.0,
        consent + 5.0,
        width - 4.0,
        8.5,
        "医師の診察・説明を受け、接種の効果や目的、重篤な副反応の可能性などについて理解した上で、接種を（　希望します　・　希望しません　）",
    );
    page.text(
        left + 2.0,
        consent + 15.5,
        8.5,
        Align::Left,
        "本人署名又は代筆者署名",
    );
    let record = consent + 21.0;
    page.frame(left, record, width, 14.0, 0.8);
    page.fill(left, record, width, 5.5, 0.9);
    let columns = [
        "ワクチン名・ロット番号",
        "接種量",
        "実施場所・医師名",
        "接種年月日",
    ];
    let column = width / columns.len() as f32;
    for (i, title) in columns.iter().enumerate() {
        let x = left + i as f32 * column;
        if i > 0 {
            page.rule(x, record, x, record + 14.0, 0.5);
        }
        page.text(x + column / 2.0, record + 4.0, 7.5, Align::Centre, title);
    }
    page.rule(left, record + 5.5, right, record + 5.5, 0.5);
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn sample() -> Sheet {
        Sheet {
            municipality_code: "131105".into(),
            prefecture_name: "東京都".into(),
            municipality_name: "目黒区".into(),
            coupon_number: "0000000123".into(),
            dose: 1,
            name: "目黒 花子".into(),
            name_kana: "メグロ ハナコ".into(),
            birth_date: date!(1980 - 04 - 01),
            sex: "女",
            worker_category: "医師".into(),
            workplace: "目黒区病院01".into(),
            issued_by: "目黒区病院01".into(),
        }
    }

    #[test]
    fn the_ocr_line_is_kind_dose_municipality_and_coupon_in_eighteen_digits() {
        let digits = sample().ocr_digits();
        assert_eq!(digits, "111311050000000123");
        assert_eq!(digits.len(), 18);
    }

    #[test]
    fn a_page_per_person_with_the_font_subset() {
        let one = render(&[sample()]).unwrap();
        assert!(one.starts_with(b"%PDF"));
        let many = render(&vec![sample(); 20]).unwrap();
        // Twenty pages share one subset font: far less than twenty times one page.
        assert!(
            many.len() < one.len() * 4,
            "{} vs {}",
            many.len(),
            one.len()
        );
        assert!(
            one.len() < 200_000,
            "the font is subset: {} bytes",
            one.len()
        );
        if let Ok(path) = std::env::var("VSYS_SAMPLE_PDF") {
            std::fs::write(path, &one).unwrap();
        }
    }
}

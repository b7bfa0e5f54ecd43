//! Codes and numbers of the facility registry, validated at construction.

use crate::error::AppError;
use crate::organizations::codes::PrefectureCode;

/// A medical-institution code (医療機関コード), 10 digits: prefecture (2), point table (1:
/// 医科 medical, 3: 歯科 dental), district (2), institution (4), check digit (1). The check
/// digit is the Luhn method over all nine digits before it — prefecture and point table
/// included: weights 2, 1, 2, … from the right, the digits of each product summed, check =
/// (10 − sum mod 10) mod 10. Public examples: `0110113719`, Tokushima University Hospital
/// `3618010015`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalInstitutionCode(String);

impl MedicalInstitutionCode {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let field = "medicalInstitutionCode";
        let text = text.trim();
        if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid_field(
                field,
                "a medical-institution code is 10 digits / 医療機関コードは10桁の数字です",
            ));
        }
        PrefectureCode::parse(&text[..2]).map_err(|_| {
            AppError::invalid_field(
                field,
                "the code must start with a prefecture number 01–47 / 先頭2桁は都道府県番号です",
            )
        })?;
        if !matches!(&text[2..3], "1" | "3") {
            return Err(AppError::invalid_field(
                field,
                "the third digit must be 1 (medical) or 3 (dental) / 3桁目は点数表番号（1または3）です",
            ));
        }
        let expected = check_digit(&text[..9]);
        if text[9..].parse::<u32>().ok() != Some(expected) {
            return Err(AppError::invalid_field(
                field,
                "the code has a wrong check digit / 医療機関コードの検証番号が正しくありません",
            ));
        }
        Ok(MedicalInstitutionCode(text.to_owned()))
    }

    /// Builds a valid code from its parts (demo and synthetic data): the prefecture's JIS
    /// code, the point table, and six digits of district (2) and institution (4).
    pub fn from_parts(prefecture: &str, point_table: u8, six_digits: u32) -> Self {
        let nine = format!("{prefecture}{point_table}{:06}", six_digits % 1_000_000);
        let check = check_digit(&nine);
        MedicalInstitutionCode(format!("{nine}{check}"))
    }

    /// The prefecture's JIS code, the first two digits.
    pub fn prefecture(&self) -> &str {
        &self.0[..2]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Luhn over the nine digits before the check digit.
fn check_digit(nine: &str) -> u32 {
    let sum: u32 = nine
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let product = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            product / 10 + product % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A doctor's registration number in the medical register (医籍登録番号): up to six digits.
pub fn parse_licence_number(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid_field(
            "licenceNumber",
            "a medical licence number is 1 to 6 digits / 医籍登録番号は1〜6桁の数字です",
        ));
    }
    Ok(format!("{:0>6}", text))
}

/// A calendar date, "YYYY-MM-DD".
pub fn parse_date(field: &str, text: &str) -> Result<time::Date, AppError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format).map_err(|_| {
        AppError::invalid_field(
            field,
            format!("{text:?} is not a date (YYYY-MM-DD) / 日付はYYYY-MM-DD形式です"),
        )
    })
}

/// The day something already happened, YYYY-MM-DD: today (Japan) when absent, never after
/// today — deliveries, receipts, reports and transfers are recorded once they happened.
pub fn past_day(field: &str, text: Option<&str>, today: &str) -> Result<String, AppError> {
    let day = match text {
        Some(text) => parse_date(field, text)?.to_string(),
        None => today.to_owned(),
    };
    if day.as_str() > today {
        return Err(AppError::invalid_field(
            field,
            "recorded once it happened: not after today / 未来の日付は登録できません",
        ));
    }
    Ok(day)
}

/// Japan's extent: Okinotorishima to Benten-jima, Yonaguni to Minamitorishima.
pub fn check_coordinates(latitude: f64, longitude: f64) -> Result<(), AppError> {
    if !(20.0..=46.0).contains(&latitude) || !(122.0..=154.0).contains(&longitude) {
        return Err(AppError::invalid_field(
            "latitude",
            "the coordinates are outside Japan / 座標が日本国外です",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_pass_and_each_defect_is_named() {
        for good in ["1311000010", "1419000011", "0110113719", "3618010015"] {
            assert!(MedicalInstitutionCode::parse(good).is_ok(), "{good}");
        }
        for (bad, part) in [
            ("131100001", "10 digits"),
            ("13110000a0", "10 digits"),
            ("4811000010", "prefecture"),
            ("1321000010", "third digit"),
            ("1311000017", "check digit"),
            // The six-digit span alone would give 2: the prefecture and point table count.
            ("0110113712", "check digit"),
        ] {
            let error = MedicalInstitutionCode::parse(bad).unwrap_err();
            assert!(error.to_string().contains(part), "{bad}: {error}");
        }
    }

    #[test]
    fn the_public_examples_are_what_the_constructor_builds() {
        assert_eq!(
            MedicalInstitutionCode::from_parts("01", 1, 11_371).as_str(),
            "0110113719"
        );
        assert_eq!(
            MedicalInstitutionCode::from_parts("36", 1, 801_001).as_str(),
            "3618010015"
        );
        assert_eq!(
            MedicalInstitutionCode::from_parts("13", 1, 100_001).as_str(),
            "1311000010"
        );
    }

    /// Property: every code the constructor builds parses, and every single-digit change of it
    /// is refused. The codes come from a deterministic generator (a linear congruential walk
    /// over all prefectures, both point tables and the whole six-digit range).
    #[test]
    fn every_built_code_parses_and_every_single_digit_change_is_refused() {
        let mut state: u64 = 0x2021_0217;
        let mut checked = 0;
        for round in 0..3_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let prefecture = format!("{:02}", (state >> 33) % 47 + 1);
            let point_table = if round % 2 == 0 { 1 } else { 3 };
            let six = ((state >> 13) % 1_000_000) as u32;
            let code = MedicalInstitutionCode::from_parts(&prefecture, point_table, six);
            assert!(
                MedicalInstitutionCode::parse(code.as_str()).is_ok(),
                "{code:?}"
            );
            let digits = code.as_str().as_bytes();
            for position in 0..10 {
                for digit in b'0'..=b'9' {
                    if digit == digits[position] {
                        continue;
                    }
                    let mut changed = digits.to_vec();
                    changed[position] = digit;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(
                        MedicalInstitutionCode::parse(&changed).is_err(),
                        "{changed} (from {code:?}) must be refused"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 3_000 * 10 * 9);
    }

    #[test]
    fn licence_numbers_are_up_to_six_digits() {
        assert_eq!(parse_licence_number("12345").unwrap(), "012345");
        for bad in ["", "1234567", "12a45", "-1"] {
            assert!(parse_licence_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coordinates_outside_japan_are_refused() {
        assert!(check_coordinates(35.6, 139.7).is_ok());
        assert!(check_coordinates(51.5, -0.1).is_err());
        assert!(check_coordinates(19.0, 139.0).is_err());
    }
}

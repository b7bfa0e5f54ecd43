//! Codes and numbers of the facility registry, validated at construction.

use crate::error::AppError;
use crate::organizations::codes::PrefectureCode;

/// A medical-institution code (医療機関コード), 10 digits: prefecture (2), point table (1:
/// 医科 medical, 3: 歯科 dental), then the 7-digit institution code, whose last digit checks the
/// six before it (modulus 10, weights 2-1 from the right, digits of products summed — the
/// "モジュラス10 ウェイト2・1分割" of the health-insurance coding rules).
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
        let expected = check_digit(&text[3..9]);
        if text[9..].parse::<u32>().ok() != Some(expected) {
            return Err(AppError::invalid_field(
                field,
                "the code has a wrong check digit / 医療機関コードの検証番号が正しくありません",
            ));
        }
        Ok(MedicalInstitutionCode(text.to_owned()))
    }

    /// Builds a valid code from its parts (demo and synthetic data).
    pub fn from_parts(prefecture: &str, point_table: u8, six_digits: u32) -> Self {
        let six = format!("{:06}", six_digits % 1_000_000);
        MedicalInstitutionCode(format!(
            "{prefecture}{point_table}{six}{}",
            check_digit(&six)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_digit(six: &str) -> u32 {
    let sum: u32 = six
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
        assert!(MedicalInstitutionCode::parse("1311000017").is_ok());
        assert!(MedicalInstitutionCode::parse("1419000019").is_ok());
        for (bad, part) in [
            ("131100001", "10 digits"),
            ("13110000a7", "10 digits"),
            ("4811000017", "prefecture"),
            ("1321000017", "third digit"),
            ("1311000018", "check digit"),
        ] {
            let error = MedicalInstitutionCode::parse(bad).unwrap_err();
            assert!(error.to_string().contains(part), "{bad}: {error}");
        }
    }

    #[test]
    fn built_codes_are_valid() {
        for n in [0, 1, 99, 123_456, 999_999] {
            let code = MedicalInstitutionCode::from_parts("47", 1, n);
            assert!(
                MedicalInstitutionCode::parse(code.as_str()).is_ok(),
                "{code:?}"
            );
        }
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

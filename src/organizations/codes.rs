//! Codes that identify public bodies, validated at construction.

use crate::error::AppError;

/// A prefecture's JIS X 0401 code: "01" (Hokkaido) to "47" (Okinawa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefectureCode(u8);

impl PrefectureCode {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let invalid = || {
            AppError::invalid_field(
                "prefectureCode",
                format!("{text:?} is not a prefecture code (two digits, 01 to 47)"),
            )
        };
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let number: u8 = text.parse().map_err(|_| invalid())?;
        if (1..=47).contains(&number) {
            Ok(PrefectureCode(number))
        } else {
            Err(invalid())
        }
    }

    pub fn from_number(number: u8) -> Option<Self> {
        (1..=47).contains(&number).then_some(PrefectureCode(number))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn as_string(self) -> String {
        format!("{:02}", self.0)
    }

    /// The prefecture's own six-digit local-government code, e.g. Tokyo "130001".
    pub fn local_government_code(self) -> MunicipalityCode {
        MunicipalityCode::from_base(u32::from(self.0) * 1000)
            .expect("a prefecture base is always in range")
    }
}

/// A six-digit local-government code (全国地方公共団体コード, JIS X 0402 with check digit):
/// two digits of prefecture, three of the body, one check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode(u32);

impl MunicipalityCode {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let field = "municipalityCode";
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid_field(
                field,
                format!("{text:?} is not a local-government code (six digits)"),
            ));
        }
        let value: u32 = text.parse().expect("six ASCII digits always parse");
        let base = value / 10;
        if PrefectureCode::from_number((base / 1000) as u8).is_none() {
            return Err(AppError::invalid_field(
                field,
                format!("{text:?} does not start with a prefecture code (01 to 47)"),
            ));
        }
        if check_digit(base) != value % 10 {
            return Err(AppError::invalid_field(
                field,
                format!("{text:?} has a wrong check digit"),
            ));
        }
        Ok(MunicipalityCode(value))
    }

    /// The code for the five-digit body number `base` (prefecture × 1000 + body), with its
    /// check digit appended.
    pub fn from_base(base: u32) -> Option<Self> {
        PrefectureCode::from_number((base / 1000) as u8)?;
        Some(MunicipalityCode(base * 10 + check_digit(base)))
    }

    pub fn prefecture(self) -> PrefectureCode {
        PrefectureCode((self.0 / 10_000) as u8)
    }

    pub fn as_string(self) -> String {
        format!("{:06}", self.0)
    }
}

/// Weights 6, 5, 4, 3, 2 over the five digits; the check digit is the last digit of
/// 11 − (sum mod 11). Source: 総務省「全国地方公共団体コード」の検査数字の算出方法.
fn check_digit(base: u32) -> u32 {
    let digits = [
        base / 10_000,
        base / 1_000 % 10,
        base / 100 % 10,
        base / 10 % 10,
        base % 10,
    ];
    let sum: u32 = digits.iter().zip([6, 5, 4, 3, 2]).map(|(d, w)| d * w).sum();
    (11 - sum % 11) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_their_check_digit() {
        for code in [
            "131105", // 目黒区
            "131121", // 世田谷区
            "131032", // 港区
            "141003", // 横浜市
            "011002", // 札幌市
            "011011", // 札幌市中央区: sum ≡ 0 (mod 11) gives check digit 1
            "130001", // 東京都
            "472018", // 那覇市
        ] {
            assert!(MunicipalityCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_a_clear_message() {
        let error = MunicipalityCode::parse("131106").unwrap_err();
        assert_eq!(error.code(), "INVALID_INPUT");
        assert!(error.to_string().contains("check digit"));
    }

    #[test]
    fn malformed_codes_are_refused() {
        for code in [
            "13110",
            "1311055",
            "13110a",
            "",
            "481009",
            "001007",
            "１３１１０５",
        ] {
            assert!(MunicipalityCode::parse(code).is_err(), "{code}");
        }
    }

    #[test]
    fn generated_codes_round_trip() {
        let code = MunicipalityCode::from_base(13_110).unwrap();
        assert_eq!(code.as_string(), "131105");
        assert_eq!(code.prefecture().as_string(), "13");
        assert_eq!(
            PrefectureCode::parse("13")
                .unwrap()
                .local_government_code()
                .as_string(),
            "130001"
        );
    }

    #[test]
    fn prefecture_codes_are_01_to_47() {
        assert!(PrefectureCode::parse("01").is_ok());
        assert!(PrefectureCode::parse("47").is_ok());
        for code in ["00", "48", "1", "013", "ab"] {
            assert!(PrefectureCode::parse(code).is_err(), "{code}");
        }
    }
}

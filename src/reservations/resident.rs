//! The resident a booking is for, as the call centre takes it down: the coupon (接種券: the
//! issuing municipality's code and the 10-digit coupon number printed on it), name, kana, date
//! of birth, phone and which dose. Pure validation; full-width digits typed on a Japanese
//! keyboard are accepted and stored half-width.

use time::Date;

use super::schedule::parse_date;
use crate::error::{AppError, AppResult};
use crate::organizations::codes::MunicipalityCode;

/// What was typed.
pub struct ResidentInput<'a> {
    pub municipality_code: &'a str,
    pub coupon_number: &'a str,
    pub name: &'a str,
    pub name_kana: &'a str,
    pub birth_date: &'a str,
    pub phone: &'a str,
    pub dose_number: i64,
}

/// A resident's booking details, checked and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub municipality_code: String,
    pub coupon_number: String,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub phone: String,
    pub dose_number: i64,
}

use crate::residents::text::{self, folded};

impl Resident {
    pub fn validate(input: &ResidentInput<'_>, today: Date) -> AppResult<Resident> {
        let municipality_code = folded(input.municipality_code);
        MunicipalityCode::parse(&municipality_code)?;
        let coupon_number =
            text::coupon_number(input.coupon_number).map_err(text::in_field("couponNumber"))?;
        let name = text::name(input.name).map_err(text::in_field("name"))?;
        let name_kana = text::name_kana(input.name_kana).map_err(text::in_field("nameKana"))?;
        let birth = parse_date("birthDate", &folded(input.birth_date))?;
        let birth = text::birth_date(birth, today).map_err(text::in_field("birthDate"))?;
        let phone = text::phone(input.phone).map_err(text::in_field("phone"))?;
        if !(1..=10).contains(&input.dose_number) {
            return Err(AppError::invalid_field(
                "doseNumber",
                "dose 1 to 10 / 接種回数は1〜10回目です",
            ));
        }
        Ok(Resident {
            municipality_code,
            coupon_number,
            name,
            name_kana,
            birth_date: birth.to_string(),
            phone,
            dose_number: input.dose_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> ResidentInput<'static> {
        ResidentInput {
            municipality_code: "131105",
            coupon_number: "0000012345",
            name: "目黒 花子",
            name_kana: "メグロ ハナコ",
            birth_date: "1950-04-01",
            phone: "03-1234-5678",
            dose_number: 1,
        }
    }

    const TODAY: Date = date!(2026 - 12 - 01);

    fn field_of(input: &ResidentInput<'_>) -> String {
        match Resident::validate(input, TODAY) {
            Err(AppError::InvalidInput { field, .. }) => field.unwrap(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn full_width_digits_and_half_width_kana_are_folded() {
        let mut i = input();
        i.coupon_number = "０００００１２３４５";
        i.name_kana = "ﾒｸﾞﾛ ﾊﾅｺ";
        i.phone = "０３－１２３４－５６７８";
        let r = Resident::validate(&i, TODAY).unwrap();
        assert_eq!(r.coupon_number, "0000012345");
        assert_eq!(r.name_kana, "メグロ ハナコ");
        assert_eq!(r.phone, "03-1234-5678");
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let mut i = input();
        i.coupon_number = "123456789";
        assert_eq!(field_of(&i), "couponNumber");
        i.coupon_number = "12345678901";
        assert_eq!(field_of(&i), "couponNumber");
        i.coupon_number = "12345abcde";
        assert_eq!(field_of(&i), "couponNumber");
        let mut i = input();
        i.municipality_code = "131106";
        assert_eq!(field_of(&i), "municipalityCode");
        let mut i = input();
        i.name = " ";
        assert_eq!(field_of(&i), "name");
        let mut i = input();
        i.name_kana = "Hanako";
        assert_eq!(field_of(&i), "nameKana");
        let mut i = input();
        i.birth_date = "2027-01-01";
        assert_eq!(field_of(&i), "birthDate");
        let mut i = input();
        i.phone = "12345";
        assert_eq!(field_of(&i), "phone");
        let mut i = input();
        i.dose_number = 0;
        assert_eq!(field_of(&i), "doseNumber");
    }
}

//! What residents type, checked the same way wherever they type it (a booking, a request to
//! the municipality, a questionnaire list): Japanese keyboards give full-width digits and
//! kana in several forms. Each check answers the normalised value or the message to show;
//! the caller names the field.

use time::Date;
use unicode_normalization::UnicodeNormalization;

/// Full-width digits and spaces to half-width (NFKC), trimmed.
pub(crate) fn folded(text: &str) -> String {
    text.nfkc().collect::<String>().trim().to_owned()
}

/// Hiragana, katakana and the spaces between names.
pub(crate) fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | ' ' | '\u{3000}')
}

/// The 10 digits printed on a coupon.
pub(crate) fn coupon_number(text: &str) -> Result<String, &'static str> {
    let number = folded(text);
    if number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(number)
    } else {
        Err("the coupon number is the 10 digits printed on the coupon / 接種券番号は10桁の数字です")
    }
}

/// A name of 1 to 100 characters, kept as written (trimmed).
pub(crate) fn name(text: &str) -> Result<String, &'static str> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 100 {
        Err("a name of 1 to 100 characters / 氏名は1〜100文字です")
    } else {
        Ok(name.to_owned())
    }
}

/// The name in kana (full-width katakana or hiragana; NFKC turns half-width katakana into
/// full-width).
pub(crate) fn name_kana(text: &str) -> Result<String, &'static str> {
    let kana = folded(text);
    if kana.is_empty() || kana.chars().count() > 100 || !kana.chars().all(is_kana) {
        Err("the name in kana (katakana or hiragana) / 氏名のふりがなをカナで入力してください")
    } else {
        Ok(kana)
    }
}

/// A date of birth between 1900 and today.
pub(crate) fn birth_date(date: Date, today: Date) -> Result<Date, &'static str> {
    if date > today || date.year() < 1900 {
        Err("a date of birth between 1900 and today / 生年月日を確認してください")
    } else {
        Ok(date)
    }
}

/// A Japanese phone number of 10 or 11 digits, hyphens allowed.
pub(crate) fn phone(text: &str) -> Result<String, &'static str> {
    let phone = folded(text);
    let digits = phone.bytes().filter(u8::is_ascii_digit).count();
    if phone.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && (10..=11).contains(&digits)
        && phone.len() <= 13
    {
        Ok(phone)
    } else {
        Err("a Japanese phone number of 10 or 11 digits / 電話番号は10桁または11桁です")
    }
}

/// Turns a check's message into the error of `field`: `.map_err(in_field("phone"))`.
pub(crate) fn in_field(field: &'static str) -> impl Fn(&'static str) -> crate::error::AppError {
    move |message| crate::error::AppError::invalid_field(field, message)
}

//! What residents type: Japanese keyboards give full-width digits and kana in several forms.

use unicode_normalization::UnicodeNormalization;

/// Full-width digits and spaces to half-width (NFKC), trimmed.
pub(crate) fn folded(text: &str) -> String {
    text.nfkc().collect::<String>().trim().to_owned()
}

/// Hiragana, katakana and the spaces between names.
pub(crate) fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | ' ' | '\u{3000}')
}

//! Usernames (ユーザーID) are compared in one form: width folded (NFKC, so full-width
//! `ＭＥＧＵＲＯ` is `MEGURO`), trimmed and lower-cased. Every path that takes a username from
//! outside — invitation, sign-in, password reset, rate limits, the audit filter — goes through
//! [`Username::from_input`], and the database holds only this form (a unique index on
//! `lower(username)` guards it), so `MEGURO.ADMIN`, `ｍｅｇｕｒｏ．ａｄｍｉｎ` and `meguro.admin`
//! are one account.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A username in its one comparable form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Normalises what someone typed. Never fails: a name that cannot exist simply matches no
    /// account (invitations check the allowed characters separately).
    pub fn from_input(raw: &str) -> Username {
        // NFKC first (it turns the ideographic space into a plain one), then trim, then case.
        // Lower-casing can leave a non-NFKC sequence for a few scripts, so fold once more.
        let folded: String = raw.nfkc().collect();
        let lower = folded.trim().to_lowercase();
        Username(lower.nfkc().collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_width_variants_are_one_name() {
        for variant in [
            "meguro.admin",
            "MEGURO.ADMIN",
            "Meguro.Admin",
            "ｍｅｇｕｒｏ．ａｄｍｉｎ",
            "ＭＥＧＵＲＯ．ＡＤＭＩＮ",
            "  meguro.admin\u{3000}",
        ] {
            assert_eq!(
                Username::from_input(variant).as_str(),
                "meguro.admin",
                "{variant:?}"
            );
        }
    }

    #[test]
    fn full_width_digits_and_symbols_fold_to_ascii() {
        assert_eq!(
            Username::from_input("ｕｓｅｒ＿０１＠ｘ－ｙ").as_str(),
            "user_01@x-y"
        );
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(
            Username::from_input("meguro.admin"),
            Username::from_input("meguro.staff")
        );
        // Letters that merely look alike are not folded: Cyrillic "а" is not Latin "a".
        assert_ne!(
            Username::from_input("\u{430}dmin"),
            Username::from_input("admin")
        );
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for raw in ["ＡＢＣ", "Straße", "İstanbul", "ﬁle", "x"] {
            let once = Username::from_input(raw);
            assert_eq!(Username::from_input(once.as_str()), once, "{raw:?}");
        }
    }
}

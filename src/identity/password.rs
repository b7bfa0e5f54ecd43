//! Password rules and hashing.
//!
//! The rules are the seed document's (MHLW V-SYS briefing 2021, pp. 7–15): at least eight
//! characters mixing at least three of upper case, lower case, digits and the listed symbols,
//! changed every three months. Hashes are Argon2id PHC strings.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::password_hash::{Salt, SaltString};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use super::secrets::fill_random;
use crate::error::AppError;

/// The symbols that count as the "special character" class, exactly as the seed document lists
/// them. The backslash is there too: on Japanese keyboards ¥ and \ are the same key (0x5C), so
/// a user who types ¥ may send either.
const SPECIAL_CHARACTERS: &[char] = &[
    '@', '%', '+', '¥', '\\', '/', ',', '!', '#', '$', '^', '?', ':', '.', '(', ')', '{', '}', '[',
    ']', '~', '-', '_',
];

/// The symbol list as shown to users (the backslash is the same key as ¥, so it is not repeated).
/// Unspaced, so that " / " in a message only ever separates English from Japanese.
const SPECIAL_CHARACTERS_SHOWN: &str = "@%+¥/,!#$^?:.(){}[]~-_";

/// Passwords refused however many classes they mix, compared case-insensitively.
///
/// A selection of the most frequent entries of public leaked-password frequency lists, plus
/// guesses an attacker would try first against a Japanese vaccination system.
const COMMON_PASSWORDS: &[&str] = &[
    // Digits and keyboard walks.
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "987654321",
    "11111111",
    "00000000",
    "88888888",
    "12341234",
    "11223344",
    "12344321",
    "147258369",
    "159357456",
    "qwerty",
    "qwerty1",
    "qwerty12",
    "qwerty123",
    "qwerty1234",
    "qwerty123!",
    "qwerty!23",
    "qwertyuiop",
    "qwertyui",
    "asdfghjkl",
    "asdf1234",
    "asdfasdf",
    "zxcvbnm",
    "zxcvbnm1",
    "zxcvbn123",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1q2w3e4r!",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "1qaz2wsx",
    "1qaz2wsx3edc",
    "1qaz@wsx",
    "1qaz!qaz",
    "zaq12wsx",
    "zaq1zaq1",
    "zaq1@wsx",
    "qazwsx123",
    "qwer1234",
    "1234qwer",
    "12345qwert",
    "123qweasd",
    "qweasdzxc",
    "a1b2c3d4",
    "abc12345",
    "abcd1234",
    "abc123456",
    "aa123456",
    "aa12345678",
    "a1234567",
    "a12345678",
    "123456789a",
    "12345678a",
    // "password" and its disguises.
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password!",
    "password1!",
    "password01",
    "password2020",
    "password2021",
    "passw0rd",
    "passw0rd!",
    "passw0rd1",
    "p@ssword",
    "p@ssword1",
    "p@ssw0rd",
    "p@ssw0rd!",
    "p@ssw0rd1",
    "p@$$w0rd",
    "pa$$word",
    "pa$$w0rd",
    "passpass",
    "pass1234",
    "passwort",
    // Accounts, defaults and greetings.
    "admin123",
    "admin1234",
    "admin@123",
    "administrator",
    "root1234",
    "changeme",
    "changeme1",
    "default1",
    "welcome1",
    "welcome123",
    "welcome1!",
    "letmein",
    "letmein1",
    "letmein!",
    "trustno1",
    "iloveyou",
    "iloveyou1",
    "iloveyou!",
    "hello123",
    "hello1234",
    "test1234",
    "test@123",
    "guest123",
    "login123",
    "secret123",
    "access14",
    "master123",
    "superman1",
    "batman123",
    "sunshine1",
    "princess1",
    "football1",
    "baseball1",
    "starwars",
    "monkey123",
    "dragon123",
    "shadow123",
    "whatever",
    "computer",
    "internet",
    "michael1",
    "jordan23",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "superman",
    "1password",
    // Japanese context: common words, places, characters and the year of the rollout.
    "sakura123",
    "sakura2021",
    "sakura01",
    "tokyo2020",
    "tokyo2021",
    "tokyo2021!",
    "tokyo123",
    "osaka123",
    "kyoto123",
    "japan123",
    "japan2021",
    "nippon123",
    "doraemon",
    "pikachu1",
    "naruto123",
    "totoro123",
    "gundam123",
    "arigatou",
    "daisuki1",
    "konnichiwa",
    "ohayou123",
    "hokkaido",
    "fujisan1",
    "tanaka123",
    "suzuki123",
    "sato1234",
    "vaccine1",
    "vaccine2021",
    "vaccine!",
    "covid19!",
    "covid2021",
    "corona2021",
    "wakuchin",
    "vsys2021",
    "vsys1234",
    "v-sys2021",
    "mhlw2021",
];

/// The seed document's password rules. `Default` gives the document's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values, not bytes).
    pub min_length: usize,
    /// Fewest of the four character classes (upper, lower, digit, symbol) a password must mix.
    pub min_classes: usize,
    /// Most characters; longer passwords are refused, never truncated.
    pub max_length: usize,
    /// Days after which a password must be changed.
    pub expiry_days: i64,
}

impl Default for PasswordPolicy {
    /// Eight characters, three classes, at most 256 characters, changed every three months.
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            min_classes: 3,
            max_length: 256,
            expiry_days: 90,
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password: Err(AppError::invalid_field(field, message)) naming the first problem.
    ///
    /// Messages are English, then " / " and Japanese; they never repeat the password.
    pub fn check(&self, field: &str, password: &str, username: &str) -> Result<(), AppError> {
        let refuse = |message: String| Err(AppError::invalid_field(field, message));

        // Counting stops past the maximum, so a huge input costs no more than a long one.
        let length = password
            .chars()
            .take(self.max_length.saturating_add(1))
            .count();
        if length > self.max_length {
            let max = self.max_length;
            return refuse(format!(
                "the password must be at most {max} characters / パスワードは{max}文字以下にしてください"
            ));
        }
        if password.chars().any(char::is_control) {
            return refuse(
                "the password must not contain control characters / パスワードに制御文字は使えません"
                    .into(),
            );
        }
        if length < self.min_length {
            let min = self.min_length;
            return refuse(format!(
                "the password must be at least {min} characters / パスワードは{min}文字以上にしてください"
            ));
        }
        if character_classes(password) < self.min_classes {
            let n = self.min_classes;
            return refuse(format!(
                "the password must mix at least {n} of: upper-case letters, lower-case letters, \
                 digits, symbols ({SPECIAL_CHARACTERS_SHOWN}) / パスワードには英大文字・英小文字・\
                 数字・記号（{SPECIAL_CHARACTERS_SHOWN}）のうち{n}種類以上を含めてください"
            ));
        }

        let username = username.trim().to_lowercase();
        let lowered = password.to_lowercase();
        if !username.is_empty() && lowered.trim() == username {
            return refuse(
                "the password must not be the same as the user ID / パスワードにユーザーIDと同じ文字列は使えません"
                    .into(),
            );
        }
        // Short IDs would forbid too many ordinary passwords, so only longer ones are looked for.
        if username.chars().count() >= 4 && lowered.contains(&username) {
            return refuse(
                "the password must not contain the user ID / パスワードにユーザーIDを含めないでください"
                    .into(),
            );
        }

        let trimmed = password.trim();
        if COMMON_PASSWORDS
            .iter()
            .any(|common| common.eq_ignore_ascii_case(trimmed))
        {
            return refuse(
                "this password is too common, choose another / このパスワードはよく使われているため使えません"
                    .into(),
            );
        }
        Ok(())
    }
}

/// How many of the four classes the password uses. Characters outside them (spaces, kana,
/// kanji, unlisted symbols) are allowed but count toward none.
fn character_classes(password: &str) -> usize {
    let has = |class: fn(&char) -> bool| password.chars().any(|c| class(&c));
    [
        has(|c| c.is_uppercase()),
        has(|c| c.is_lowercase()),
        has(char::is_ascii_digit),
        has(|c| SPECIAL_CHARACTERS.contains(c)),
    ]
    .into_iter()
    .filter(|&present| present)
    .count()
}

/// Hashes a password with Argon2id (the crate's default parameters) and a fresh random salt.
fn hash_blocking(password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    fill_random(&mut salt);
    let salt = SaltString::encode_b64(&salt).context("encoding the password salt")?;
    let hash = Argon2::default()
        .hash_password(password, &salt)
        .context("hashing the password")?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`; false when the hash does not parse.
fn verify_blocking(hash: &str, password: &[u8]) -> bool {
    // The parameters come from the stored string, so older hashes keep verifying.
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password, &parsed).is_ok())
}

/// Hashes a password as an Argon2id PHC string (`$argon2id$v=19$...`), off the async runtime.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(password.as_bytes()))
        .await
        .context("the password hashing task failed")?
}

/// Whether `password` matches `hash`, checked off the async runtime; false on a malformed hash.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(&hash, password.as_bytes()))
        .await
        .unwrap_or(false)
}

/// A hash of a random password with the current parameters, made on first use.
///
/// None only if hashing itself fails, and then real sign-ins fail the same way.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut password = [0u8; 32];
    fill_random(&mut password);
    hash_blocking(&password).ok()
});

/// Burns the same time as a verification, for unknown users, so timing does not reveal whether an account exists.
///
/// The first call also makes the dummy hash, so it takes about twice as long.
pub async fn verify_against_dummy(password: String) {
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(hash) = DUMMY_HASH.as_deref() {
            // black_box: the result is unused, and the work must not be optimised away.
            std::hint::black_box(verify_blocking(hash, password.as_bytes()));
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const FIELD: &str = "newPassword";
    const USER: &str = "tanaka01";

    /// The message `check` gives, after asserting it names `FIELD`.
    fn rejection(policy: &PasswordPolicy, password: &str, username: &str) -> String {
        match policy.check(FIELD, password, username) {
            Ok(()) => panic!("{password:?} was accepted"),
            Err(AppError::InvalidInput {
                message,
                field: Some(field),
            }) => {
                assert_eq!(field, FIELD);
                message
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    fn accepted(password: &str) {
        let result = PasswordPolicy::default().check(FIELD, password, USER);
        assert!(result.is_ok(), "{password:?}: {result:?}");
    }

    fn rejected_because(password: &str, username: &str, reason: &str) {
        let message = rejection(&PasswordPolicy::default(), password, username);
        assert!(
            message.contains(reason),
            "{password:?}: {message:?} does not mention {reason:?}"
        );
    }

    const TOO_SHORT: &str = "at least 8 characters";
    const TOO_LONG: &str = "at most 256 characters";
    const TOO_FEW_CLASSES: &str = "at least 3 of";
    const CONTROL: &str = "control characters";
    const SAME_AS_USER: &str = "same as the user ID";
    const CONTAINS_USER: &str = "contain the user ID";
    const COMMON: &str = "too common";

    #[test]
    fn defaults_are_the_seed_documents() {
        assert_eq!(
            PasswordPolicy::default(),
            PasswordPolicy {
                min_length: 8,
                min_classes: 3,
                max_length: 256,
                expiry_days: 90,
            }
        );
    }

    #[test]
    fn messages_are_english_then_japanese() {
        let message = rejection(&PasswordPolicy::default(), "Abc1", USER);
        assert_eq!(
            message,
            "the password must be at least 8 characters / パスワードは8文字以上にしてください"
        );
        for (password, username) in [
            ("Abc1", USER),
            (&"Abcdefg1".repeat(40), USER),
            ("abcdefg1", USER),
            ("Tanaka01x", "tanaka01x"),
            ("Tanaka01x", USER),
            ("P@ssw0rd", USER),
            ("Abcdefg1\n", USER),
        ] {
            let message = rejection(&PasswordPolicy::default(), password, username);
            assert_eq!(message.matches(" / ").count(), 1, "{message}");
            let (english, japanese) = message.split_once(" / ").unwrap();
            let is_japanese = |c: char| ('\u{3000}'..='\u{9fff}').contains(&c);
            assert!(!english.chars().any(is_japanese), "{message}");
            assert!(japanese.chars().any(is_japanese), "{message}");
        }
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        rejected_because("Abcde1!", USER, TOO_SHORT);
        accepted("Abcdef1!");
        // Six characters, twelve bytes.
        rejected_because("Aa1あいう", USER, TOO_SHORT);
        accepted("Aa1あいうえお");
    }

    #[test]
    fn long_passwords_are_refused_not_truncated() {
        let too_long = format!("Aa1{}", "x".repeat(297));
        assert_eq!(too_long.chars().count(), 300);
        rejected_because(&too_long, USER, TOO_LONG);
        let longest = format!("Aa1{}", "x".repeat(253));
        accepted(&longest);
        rejected_because(&format!("{longest}x"), USER, TOO_LONG);
        // 256 characters but 768 bytes.
        accepted(&format!("Aa1{}", "あ".repeat(253)));
    }

    #[test]
    fn long_japanese_password_with_three_classes_is_accepted() {
        let password: String = "Aa1"
            .chars()
            .chain("ワクチン接種の予約はお早めに".chars().cycle())
            .take(64)
            .collect();
        assert_eq!(password.chars().count(), 64);
        assert!(password.len() > 64);
        accepted(&password);
        // The same without the digit mixes only two classes.
        rejected_because(&password.replacen('1', "ー", 1), USER, TOO_FEW_CLASSES);
    }

    #[test]
    fn three_of_four_classes_are_needed() {
        accepted("Abcdefg1");
        rejected_because("abcdefg1", USER, TOO_FEW_CLASSES);
        rejected_because("ABCDEFG1", USER, TOO_FEW_CLASSES);
        rejected_because("Abcdefgh", USER, TOO_FEW_CLASSES);
        rejected_because("abcdefgh", USER, TOO_FEW_CLASSES);
        accepted("abcdefg1!");
        accepted("ABCDEFG1!");
        accepted("Abcdefg!");
        accepted("Abcd!fg1");
    }

    #[test]
    fn yen_sign_and_backslash_are_both_the_yen_symbol() {
        accepted("Abc¥defg");
        accepted("Abc\\defg");
        rejected_because("Abcdefgh", USER, TOO_FEW_CLASSES);
    }

    #[test]
    fn every_listed_symbol_counts() {
        for symbol in "@%+¥/,!#$^?:.(){}[]~-_\\".chars() {
            // Lower case and a digit are two classes; the symbol must be the third.
            accepted(&format!("abcdefg1{symbol}"));
        }
    }

    #[test]
    fn other_characters_count_toward_no_class() {
        for other in [" ", "&", "*", "=", "'", "\"", "<", "あ", "漢", "￥", "＠"] {
            let password = format!("abcdefg1{other}");
            rejected_because(&password, USER, TOO_FEW_CLASSES);
            // Allowed all the same.
            accepted(&format!("A{password}"));
        }
        // Full-width digits are not ASCII digits.
        rejected_because("Abcdefg１", USER, TOO_FEW_CLASSES);
    }

    #[test]
    fn case_classes_are_unicode() {
        // Upper and lower case outside ASCII, plus a digit.
        accepted("ÄÖÜäöü12");
        accepted("ΑΒΓαβγ12");
        rejected_because("äöüäöü12", USER, TOO_FEW_CLASSES);
    }

    #[test]
    fn min_classes_is_configurable() {
        let lenient = PasswordPolicy {
            min_classes: 2,
            ..PasswordPolicy::default()
        };
        assert!(lenient.check(FIELD, "abcdefg1", USER).is_ok());
        assert!(rejection(&lenient, "abcdefgh", USER).contains("at least 2 of"));
    }

    #[test]
    fn control_characters_are_refused() {
        for password in [
            "Abcdefg1\n",
            "Abc\tdefg1",
            "Abcdefg1\0",
            "Abc\u{7f}defg1",
            "Abc\u{85}defg1",
        ] {
            rejected_because(password, USER, CONTROL);
        }
        accepted("Abc defg1");
    }

    #[test]
    fn password_equal_to_username_is_refused() {
        rejected_because("Yamada2021", "yamada2021", SAME_AS_USER);
        rejected_because("yamada2021!", "YAMADA2021!", SAME_AS_USER);
        rejected_because("Yamada2021", "  yamada2021 ", SAME_AS_USER);
        rejected_because(" Yamada2021 ", "yamada2021", SAME_AS_USER);
        assert!(
            PasswordPolicy::default()
                .check(FIELD, "Yamada2021", "")
                .is_ok()
        );
    }

    #[test]
    fn password_containing_username_is_refused() {
        rejected_because("Yamada2021!", "yamada", CONTAINS_USER);
        rejected_because("xTANAKA01x", USER, CONTAINS_USER);
        rejected_because("Abcdefg1", "abcd", CONTAINS_USER);
        rejected_because("山田太郎Abc1!", "山田太郎", CONTAINS_USER);
        // IDs shorter than four characters are not looked for.
        assert!(
            PasswordPolicy::default()
                .check(FIELD, "Abcdefg1", "abc")
                .is_ok()
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        // Four classes, yet among the first guesses of any attacker.
        rejected_because("P@ssw0rd", USER, COMMON);
        rejected_because("p@SSW0RD", USER, COMMON);
        rejected_because("Passw0rd!", USER, COMMON);
        rejected_because("Password1", USER, COMMON);
        rejected_because("Tokyo2021!", USER, COMMON);
        // Surrounding spaces do not disguise one.
        rejected_because(" P@ssw0rd ", USER, COMMON);
        accepted("Tokyo2022!x");
    }

    #[test]
    fn blocklist_is_lower_case_and_without_duplicates() {
        assert!(COMMON_PASSWORDS.len() >= 150, "{}", COMMON_PASSWORDS.len());
        let mut seen = HashSet::new();
        for entry in COMMON_PASSWORDS {
            assert_eq!(*entry, entry.to_lowercase(), "{entry}");
            assert!(seen.insert(*entry), "duplicate {entry}");
        }
    }

    #[tokio::test]
    async fn hash_round_trips_and_wrong_password_fails() {
        let hash = hash_password("Abcdefg1".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password(hash.clone(), "Abcdefg1".into()).await);
        assert!(!verify_password(hash.clone(), "Abcdefg2".into()).await);
        assert!(!verify_password(hash.clone(), "abcdefg1".into()).await);
        // A fresh salt each time.
        assert_ne!(hash, hash_password("Abcdefg1".into()).await.unwrap());
    }

    #[tokio::test]
    async fn malformed_hash_verifies_nothing() {
        assert!(!verify_password(String::new(), String::new()).await);
        assert!(!verify_password("not a hash".into(), "Abcdefg1".into()).await);
        assert!(!verify_password("$argon2id$v=19$garbage".into(), "Abcdefg1".into()).await);
    }

    #[tokio::test]
    async fn dummy_verification_completes() {
        verify_against_dummy("Abcdefg1".into()).await;
        assert!(
            DUMMY_HASH
                .as_deref()
                .is_some_and(|h| h.starts_with("$argon2id$"))
        );
    }
}

//! Random tokens, one-time codes, token hashing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Bytes of entropy in a session or reset token (256 bits).
const TOKEN_BYTES: usize = 32;

/// Fills `buf` from the operating system's generator.
///
/// Without a working OS generator no token can be made safely, so failing loudly is the only
/// sound outcome; it does not happen on any supported platform.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// A new random token: 32 bytes from the OS generator, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    fill_random(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token as lowercase hex (64 characters): tokens are stored only hashed, so a
/// leaked table does not hand out live sessions.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How many six-digit codes there are.
const CODE_RANGE: u32 = 1_000_000;

/// The largest multiple of `CODE_RANGE` not above `u32::MAX`. Draws at or above it would make the
/// low codes slightly more likely than the high ones, so they are drawn again.
const CODE_DRAW_LIMIT: u32 = u32::MAX - u32::MAX % CODE_RANGE;

/// A uniformly random six-digit code, "000000" to "999999".
pub fn six_digit_code() -> String {
    loop {
        let mut bytes = [0u8; 4];
        fill_random(&mut bytes);
        let value = u32::from_le_bytes(bytes);
        if value < CODE_DRAW_LIMIT {
            return format!("{:06}", value % CODE_RANGE);
        }
    }
}

/// Compares two strings in time that depends only on their lengths, not on where they differ
/// (`subtle`). The lengths themselves are not secret here (codes and hashes have fixed lengths).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn token_is_43_url_safe_characters() {
        let token = random_token();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), TOKEN_BYTES);
    }

    #[test]
    fn tokens_are_unique() {
        let tokens: HashSet<String> = (0..1000).map(|_| random_token()).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn token_hash_is_64_lowercase_hex_and_stable() {
        let token = random_token();
        let hash = hash_token(&token);
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(hash, hash_token(&token));
        assert_ne!(hash, hash_token(&random_token()));
        // Known SHA-256 of "abc" (FIPS 180-2), so the digest is the one expected.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn code_is_six_ascii_digits() {
        for _ in 0..1000 {
            let code = six_digit_code();
            assert_eq!(code.len(), 6, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn codes_vary() {
        let codes: HashSet<String> = (0..100).map(|_| six_digit_code()).collect();
        // 100 draws from a million values: a handful of repeats at most.
        assert!(codes.len() > 90, "{}", codes.len());
    }

    #[test]
    fn draw_limit_is_the_largest_whole_number_of_ranges() {
        // 2^32 = 4_294_967_296, so 4294 whole ranges fit and the rest is redrawn.
        assert_eq!(CODE_DRAW_LIMIT, 4_294_000_000);
        assert_eq!(CODE_DRAW_LIMIT % CODE_RANGE, 0);
        assert!(u64::from(CODE_DRAW_LIMIT) + u64::from(CODE_RANGE) > u64::from(u32::MAX) + 1);
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq("123456", "123456"));
        assert!(!constant_time_eq("123456", "123457"));
        assert!(!constant_time_eq("123456", "023456"));
        assert!(!constant_time_eq("123456", "1234567"));
        assert!(!constant_time_eq("12345", "123456"));
        assert!(!constant_time_eq("", "a"));
    }
}

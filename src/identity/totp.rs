//! TOTP (RFC 6238) authenticator codes.
//!
//! The parameters are the ones every authenticator app assumes when the otpauth URL names none:
//! HMAC-SHA-1, six digits, a 30-second step, and one step of clock drift either way.

use anyhow::Context;
use totp_rs::{Algorithm, Secret, TOTP};

use super::secrets::{constant_time_eq, fill_random};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "vsys";

/// Digits in a code.
const DIGITS: usize = 6;
/// Seconds per time step.
const STEP_SECONDS: u64 = 30;
/// Bytes in a new secret: 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// A new shared secret: 20 random bytes, base32 (RFC 4648, no padding) as authenticator apps
/// expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    fill_random(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

/// Builds the generator for a base32 secret; fails on malformed base32, a secret shorter than
/// 128 bits, or an account name with ':' (which would break the otpauth label).
fn generator(secret_base32: &str, account: &str) -> anyhow::Result<TOTP> {
    let secret = Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .context("the TOTP secret is not valid base32")?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .context("invalid TOTP parameters")
}

/// The provisioning URL for an authenticator app (usually shown as a QR code):
/// `otpauth://totp/vsys:<account>?secret=...&issuer=vsys`, with the account URL-encoded.
pub fn otpauth_url(secret_base32: &str, account: &str) -> anyhow::Result<String> {
    Ok(generator(secret_base32, account)?.get_url())
}

/// The time step a code matches within ±1 step of `unix_time`, if any, and only if that step is
/// later than `last_used_step` (a code is accepted once).
///
/// A malformed secret, or a code that is not exactly six ASCII digits, matches nothing.
pub fn verify(
    secret_base32: &str,
    code: &str,
    unix_time: u64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = generator(secret_base32, "").ok()?;
    let current = i64::try_from(unix_time / STEP_SECONDS).ok()?;
    // Earliest first, so a code from the previous step is recorded as that step and the
    // current step's code stays usable.
    [current - 1, current, current + 1]
        .into_iter()
        .filter(|&step| step >= 0 && last_used_step.is_none_or(|last| step > last))
        .find(|&step| {
            let step_start = step as u64 * STEP_SECONDS;
            constant_time_eq(&totp.generate(step_start), code)
        })
}

/// The code for `unix_time`, for tests and demo tooling.
pub fn code_at(secret_base32: &str, unix_time: u64) -> anyhow::Result<String> {
    Ok(generator(secret_base32, "")?.generate(unix_time))
}

/// `text` as a QR code in SVG (error correction M, four modules of quiet zone), drawn as one
/// path of unit squares so that any page can show it as an image.
pub fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) else {
        return String::new(); // an otpauth URL is far below the capacity
    };
    let width = code.width();
    let size = width + 8;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (row, column) = (i / width, i % width);
            path.push_str(&format!("M{} {}h1v1h-1z", column + 4, row + 4));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret, the ASCII string "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    /// An arbitrary moment well after the epoch, at the start of a step.
    const T: u64 = 1_700_000_010 - 1_700_000_010 % STEP_SECONDS;

    #[test]
    fn rfc_secret_is_the_rfc_ascii_string() {
        assert_eq!(
            Secret::Encoded(RFC_SECRET.to_owned()).to_bytes().unwrap(),
            b"12345678901234567890"
        );
    }

    #[test]
    fn rfc_6238_sha1_vector() {
        // The RFC's 8-digit value at time 59 is 94287082; six digits keep the last six.
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(verify(RFC_SECRET, "287082", 59, None), Some(1));
        // Another vector from the same table: 07081804 at 1111111109.
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
    }

    #[test]
    fn new_secret_is_160_bits_of_unpadded_base32() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
            "{secret}"
        );
        assert_eq!(
            Secret::Encoded(secret.clone()).to_bytes().unwrap().len(),
            20
        );
        assert_ne!(secret, new_secret());
        assert!(code_at(&secret, T).is_ok());
    }

    #[test]
    fn code_verifies_within_one_step_either_way() {
        let secret = new_secret();
        let code = code_at(&secret, T).unwrap();
        let step = (T / STEP_SECONDS) as i64;
        assert_eq!(verify(&secret, &code, T, None), Some(step));
        assert_eq!(verify(&secret, &code, T + 29, None), Some(step));
        assert_eq!(verify(&secret, &code, T + 30, None), Some(step));
        assert_eq!(verify(&secret, &code, T - 30, None), Some(step));
        assert_eq!(verify(&secret, &code, T + 90, None), None);
        assert_eq!(verify(&secret, &code, T - 90, None), None);
    }

    #[test]
    fn a_step_is_accepted_once() {
        let secret = new_secret();
        let code = code_at(&secret, T).unwrap();
        let step = (T / STEP_SECONDS) as i64;
        assert_eq!(verify(&secret, &code, T, Some(step - 1)), Some(step));
        assert_eq!(verify(&secret, &code, T, Some(step)), None);
        assert_eq!(verify(&secret, &code, T + 30, Some(step)), None);
        assert_eq!(verify(&secret, &code, T, Some(step + 1)), None);
        // The next step's code is still good after this one was used.
        let next = code_at(&secret, T + 30).unwrap();
        assert_eq!(verify(&secret, &next, T + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn wrong_code_fails() {
        let secret = new_secret();
        let window: Vec<String> = [T - 30, T, T + 30]
            .iter()
            .map(|&t| code_at(&secret, t).unwrap())
            .collect();
        let wrong = (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| !window.contains(c))
            .unwrap();
        assert_eq!(verify(&secret, &wrong, T, None), None);
    }

    #[test]
    fn another_secrets_code_fails() {
        // Fixed secrets, so the outcome is the same on every run.
        let other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let code = code_at(RFC_SECRET, T).unwrap();
        assert_ne!(code_at(other, T).unwrap(), code);
        assert_eq!(verify(other, &code, T, None), None);
    }

    #[test]
    fn only_six_ascii_digits_verify() {
        let secret = new_secret();
        let code = code_at(&secret, T).unwrap();
        assert!(verify(&secret, &code, T, None).is_some());
        for bad in [
            format!(" {code}"),
            format!("{code} "),
            format!("{code}0"),
            code[..5].to_owned(),
            // Full-width digits look the same on screen but are not ASCII.
            code.chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
                .collect(),
            String::new(),
        ] {
            assert_eq!(verify(&secret, &bad, T, None), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_secrets_verify_nothing() {
        // Not base32, and base32 that decodes to only 64 bits.
        for secret in ["not base32!", "GEZDGNBVGY3TQOJQ", ""] {
            assert!(code_at(secret, T).is_err(), "{secret}");
            for step in [T - 30, T, T + 30] {
                let code = code_at(RFC_SECRET, step).unwrap();
                assert_eq!(verify(secret, &code, T, None), None, "{secret}");
            }
        }
    }

    #[test]
    fn the_qr_code_is_an_svg_of_dark_modules() {
        let svg =
            super::qr_svg("otpauth://totp/vsys:meguro.admin?secret=JBSWY3DPEHPK3PXP&issuer=vsys");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Version 4 or above for a URL this long: at least 33 modules plus the quiet zone.
        assert!(svg.contains("viewBox=\"0 0 4"), "{}", &svg[..80]);
        assert!(svg.matches('M').count() > 200, "dark modules are drawn");
    }

    #[test]
    fn otpauth_url_names_issuer_account_and_secret() {
        let secret = new_secret();
        let url = otpauth_url(&secret, "tanaka@example.jp").unwrap();
        assert_eq!(
            url,
            format!("otpauth://totp/vsys:tanaka%40example.jp?secret={secret}&issuer=vsys")
        );
        assert!(otpauth_url(&secret, "with:colon").is_err());
        assert!(otpauth_url("not base32!", "tanaka").is_err());
    }

    #[test]
    fn early_times_do_not_underflow() {
        let code = code_at(RFC_SECRET, 0).unwrap();
        assert_eq!(verify(RFC_SECRET, &code, 0, None), Some(0));
        assert_eq!(verify(RFC_SECRET, &code, 0, Some(0)), None);
    }
}

//! An admin's second factor: TOTP codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, as
//! every authenticator app makes them, by the `totp-rs` crate) and one-time recovery codes.

use totp_rs::{Algorithm, TOTP};

/// Seconds per TOTP step.
pub const STEP_SECONDS: u64 = 30;
/// How many recovery codes an admin gets when the authenticator is set up.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8], account: &str) -> TOTP {
    // 160-bit secrets (what `new_secret` makes) always pass the crate's checks; the account
    // name only labels the entry in the authenticator app.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some("CredentialConnect".into()),
        account.replace(':', ""),
    )
}

/// A new TOTP secret: 160 random bits (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    crate::secrets::fill_random(&mut secret);
    secret
}

/// The secret as authenticator apps take it typed in (base32).
pub fn secret_text(secret: &[u8]) -> String {
    totp(secret, "").get_secret_base32()
}

/// The `otpauth://` URI apps take from a link or a QR code.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    totp(secret, account).get_url()
}

/// The time step a code was made for, if it is right for the step of `now_seconds` or the
/// one before or after it (a clock a little off, a code typed as it changed). The caller
/// accepts each step once.
pub fn matching_step(secret: &[u8], code: &str, now_seconds: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "");
    let now = now_seconds / STEP_SECONDS;
    (now.saturating_sub(1)..=now + 1).find(|step| {
        let expected = totp.generate(step * STEP_SECONDS);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            code.as_bytes(),
        ))
    })
}

/// A new recovery code: ten characters of a 31-letter alphabet without look-alikes,
/// grouped as `xxxxx-xxxxx` (about 50 bits; each works once, and tries are rate limited).
pub fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    crate::secrets::fill_random(&mut bytes);
    let letters: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &letters[..5], &letters[5..])
}

/// A recovery code as typed, in the form its digest was made from: lower case, without
/// spaces or dashes.
pub fn normalise_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_6238_test_vectors_hold_for_six_digits() {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890": the last six digits of
        // its eight-digit values.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp(secret, "").generate(time), code, "at {time}");
            assert_eq!(matching_step(secret, code, time), Some(time / STEP_SECONDS));
        }
    }

    #[test]
    fn a_code_works_one_step_either_side_and_no_further() {
        let secret = new_secret();
        let code = totp(&secret, "").generate(3_000_000_000);
        let step = 3_000_000_000 / STEP_SECONDS;
        assert_eq!(
            matching_step(&secret, &code, 3_000_000_000 + 30),
            Some(step)
        );
        assert_eq!(
            matching_step(&secret, &code, 3_000_000_000 - 30),
            Some(step)
        );
        assert_eq!(matching_step(&secret, &code, 3_000_000_000 + 90), None);
        assert_eq!(matching_step(&secret, "12345", 3_000_000_000), None);
        assert_eq!(matching_step(&secret, "abcdef", 3_000_000_000), None);
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        let typed = format!(" {} ", code.to_uppercase().replace('-', " - "));
        assert_eq!(
            normalise_recovery_code(&typed),
            normalise_recovery_code(&code)
        );
    }

    #[test]
    fn the_otpauth_url_names_the_service_and_the_account() {
        let url = otpauth_url(&new_secret(), "ops@example.org");
        assert!(
            url.starts_with("otpauth://totp/CredentialConnect:ops%40example.org?"),
            "{url}"
        );
        assert!(url.contains("issuer=CredentialConnect"), "{url}");
    }
}

//! Random secrets and their digests. Tokens and client secrets are 256-bit random strings
//! stored only as SHA-256 digests; comparisons are constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Fills `buf` from the operating system's CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    // The OS generator failing leaves no safe way to go on.
    #[expect(clippy::expect_used, reason = "no randomness means no safe tokens")]
    getrandom::fill(buf).expect("the operating system's random generator failed");
}

/// A new secret: `prefix` followed by 256 random bits in base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: its SHA-256 digest in hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one whose digest is `stored`, in constant time.
pub fn matches(secret: &str, stored: &str) -> bool {
    digest(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let a = new_secret("cc_");
        let b = new_secret("cc_");
        assert!(a.starts_with("cc_") && a.len() == 3 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_right_secret_matches_its_digest() {
        let stored = digest("open sesame");
        assert!(matches("open sesame", &stored));
        assert!(!matches("open sesame!", &stored));
        assert_ne!(stored, "open sesame");
    }
}

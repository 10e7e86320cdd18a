//! Random secrets and their digests. Tokens and client secrets are 256-bit random strings
//! stored only as SHA-256 digests; comparisons are constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Fills `buf` with cryptographically secure random bytes.
///
/// From `rand`'s thread-local generator (ChaCha12 seeded from the operating system and
/// reseeded from it as it goes): an upload needs two secrets (its package id and claim
/// token), and a system call for each showed up under load.
pub fn fill_random(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}

/// Lower-case hex. `hex::encode` builds its string a `char` at a time, which costs several
/// times more; digests are encoded on every request.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// A new secret: `prefix` followed by 256 random bits in base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: its SHA-256 digest in hex.
pub fn digest(secret: &str) -> String {
    to_hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` is the one whose digest is `stored`, in constant time.
pub fn matches(secret: &str, stored: &str) -> bool {
    digest(secret).as_bytes().ct_eq(stored.as_bytes()).into()
}

/// A claim token names its package and proves the bearer was given it: the package id (32
/// hex characters) followed by a 256-bit secret. Only the secret's digest is stored, and the
/// lookup is by id, so claim tokens never need an index of random digests.
pub fn claim_token(package_id: &str) -> (String, String) {
    let secret = new_secret("");
    let digest = digest(&secret);
    (format!("{package_id}{secret}"), digest)
}

/// Splits a claim token into (package id, secret); `None` when it has the wrong shape.
pub fn split_claim_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_at_checked(32)?;
    let well_formed = id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 43;
    well_formed.then_some((id, secret))
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
    fn claim_tokens_split_into_their_package_and_secret() {
        let (token, digest) = claim_token("0123456789abcdef0123456789abcdef");
        let (id, secret) = split_claim_token(&token).expect("well formed");
        assert_eq!(id, "0123456789abcdef0123456789abcdef");
        assert!(matches(secret, &digest));
        assert_eq!(split_claim_token("short"), None);
        assert_eq!(
            split_claim_token(&format!("{}{}", "z".repeat(32), "a".repeat(43))),
            None
        );
    }

    #[test]
    fn hex_is_lower_case_like_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(to_hex(&bytes), hex::encode(&bytes));
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn random_bytes_are_never_handed_out_twice() {
        // Enough draws, of uneven sizes, to cross the generator's blocks many times.
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let mut id = vec![0u8; 10 + i % 23];
            fill_random(&mut id);
            assert!(seen.insert(id), "draw {i} repeated an earlier one");
        }
        let mut large = [0u8; 4096];
        fill_random(&mut large);
        assert!(large.iter().any(|&b| b != 0));
        // Across threads too: each thread's generator is seeded on its own.
        let other = std::thread::spawn(|| new_secret(""))
            .join()
            .expect("thread");
        assert_ne!(other, new_secret(""));
    }

    #[test]
    fn only_the_right_secret_matches_its_digest() {
        let stored = digest("open sesame");
        assert!(matches("open sesame", &stored));
        assert!(!matches("open sesame!", &stored));
        assert_ne!(stored, "open sesame");
    }
}

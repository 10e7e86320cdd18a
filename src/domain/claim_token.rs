//! The tokens that open a claim page (`/createmyresume/{token}`), and what each kind means.
//!
//! Two kinds open the same page:
//! - the partner's claim token, given out at upload: the package id (32 hex characters)
//!   followed by a secret; it works, again and again, until its package expires;
//! - a one-time link the activation page mails: [`ONE_TIME_LINK_PREFIX`] followed by a
//!   secret; it works for one claim or sign-up, for [`ONE_TIME_LINK_LIFETIME_MS`] or until
//!   its package expires if that is sooner.
//!
//! Only digests of the secrets are stored.

use crate::secrets;

/// One-time link tokens start with this (claim tokens start with a package id in hex, so
/// the two never look alike).
pub const ONE_TIME_LINK_PREFIX: &str = "f_";

/// A one-time link works for a day, or until its package expires if that is sooner.
pub const ONE_TIME_LINK_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// A token from a claim page's address, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimToken<'a> {
    /// The partner's claim token, split into (package id, secret).
    Partner {
        package_id: &'a str,
        secret: &'a str,
    },
    /// A one-time link from the activation page; `digest` is what is stored of it.
    OneTimeLink { digest: String },
    /// Neither shape: opens nothing.
    Malformed,
}

impl<'a> ClaimToken<'a> {
    pub fn parse(token: &'a str) -> ClaimToken<'a> {
        if token.starts_with(ONE_TIME_LINK_PREFIX) {
            return ClaimToken::OneTimeLink {
                digest: secrets::digest(token),
            };
        }
        match secrets::split_claim_token(token) {
            Some((package_id, secret)) => ClaimToken::Partner { package_id, secret },
            None => ClaimToken::Malformed,
        }
    }

    /// Whether a claim (or a sign-up that delivers the package) uses the token up.
    pub fn is_one_time(&self) -> bool {
        matches!(self, ClaimToken::OneTimeLink { .. })
    }
}

/// A new one-time link token, and the digest to store with it.
pub fn new_one_time_link() -> (String, String) {
    let token = secrets::new_secret(ONE_TIME_LINK_PREFIX);
    let digest = secrets::digest(&token);
    (token, digest)
}

/// When a one-time link made at `now` stops working (its package's expiry may end it
/// sooner).
pub fn one_time_link_expiry(now: i64) -> i64 {
    now + ONE_TIME_LINK_LIFETIME_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_token_is_told_apart_by_its_shape() {
        let (link, digest) = new_one_time_link();
        assert!(link.starts_with(ONE_TIME_LINK_PREFIX));
        assert_eq!(ClaimToken::parse(&link), ClaimToken::OneTimeLink { digest });
        assert!(ClaimToken::parse(&link).is_one_time());

        let (partner, _) = secrets::claim_token("0123456789abcdef0123456789abcdef");
        assert!(matches!(
            ClaimToken::parse(&partner),
            ClaimToken::Partner {
                package_id: "0123456789abcdef0123456789abcdef",
                ..
            }
        ));
        assert!(!ClaimToken::parse(&partner).is_one_time());

        for junk in ["", "abc", "0123456789abcdef0123456789abcdefshort", "f"] {
            assert_eq!(ClaimToken::parse(junk), ClaimToken::Malformed, "{junk}");
        }
    }

    #[test]
    fn a_one_time_link_lasts_a_day() {
        assert_eq!(one_time_link_expiry(1_000), 1_000 + 86_400_000);
    }
}

//! What a talent marketplace shows: an operator routes issuer ids to it, and a claim page for
//! a package from one of them shows its landing.

use super::logo::LogoRef;

/// What the claim page shows of a marketplace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landing {
    pub name: String,
    pub text: Option<String>,
    pub logo: Option<LogoRef>,
}

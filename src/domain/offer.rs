//! A package as the person choosing from it sees it: what it offers, who may claim it, and
//! what a claim did. The store reads them (`store::resume`); pages show them.

use super::package::Recipient;
use super::sections::Section;

/// A package as a person choosing from it sees it.
#[derive(Debug, Clone)]
pub struct PackageContents {
    pub id: String,
    pub partner_name: String,
    pub recipient: Recipient,
    pub expires_at: i64,
    /// Who took it (`None`: nobody yet).
    pub claimed_by: Option<String>,
    /// The person it was delivered to (use cases 2 and 3), if any.
    pub inbox_user_id: Option<String>,
    /// The address the viewer must confirm before claiming it (see
    /// [`unconfirmed_recipient`]).
    pub unconfirmed_recipient: Option<String>,
    pub credentials: Vec<OfferedCredential>,
    pub skills: Vec<OfferedSkill>,
}

#[derive(Debug, Clone)]
pub struct OfferedCredential {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub section: Section,
    pub awarded: Option<String>,
    pub description: Option<String>,
    pub verification: String,
    pub verification_reason: String,
    /// The name in every language it was given in (`domain::language_tagged`).
    pub name_languages: Option<String>,
    pub revoked: bool,
    /// Someone else already has it on their resume.
    pub taken: bool,
}

#[derive(Debug, Clone)]
pub struct OfferedSkill {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub level: Option<String>,
    pub category: String,
    pub verified: bool,
    pub verified_by: Option<String>,
    /// The verification state of the credential that carries it (who vouches for
    /// `verified_by`).
    pub carrier_verification: String,
    pub taken: bool,
}

/// Why a package could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// Someone else claimed it (or it was delivered to someone else's inbox).
    NotYours,
    Expired,
    /// It was sent for this address, which the person has not confirmed is theirs.
    RecipientUnconfirmed(String),
}

/// What a claim did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimed {
    pub added: usize,
    /// Names of credentials someone else already had: shown, not attached.
    pub taken: Vec<String>,
}

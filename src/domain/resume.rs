//! A person's resume as the builder and every export read it: the lines (credentials and
//! the person's own entries) and the skills, with their hide choices and verification.

use super::sections::Section;

/// One line of the resume.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub from_partner: bool,
    pub section: Section,
    pub hidden: bool,
    pub title: String,
    pub organisation: Option<String>,
    /// The date as written: the award date, or the person's own start–end.
    pub date: Option<String>,
    pub description: Option<String>,
    pub verification: Option<String>,
    /// What the last check of the proofs found, and when (partner credentials only).
    pub verification_reason: Option<String>,
    pub verification_checked_at: Option<i64>,
    /// The partner that sent it (partner credentials only).
    pub partner_name: Option<String>,
    pub revoked: bool,
    /// The title in every language the issuer gave it in (`domain::language_tagged`).
    pub name_languages: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ResumeSkill {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub level: Option<String>,
    pub category: String,
    pub verified: bool,
    pub verified_by: Option<String>,
    pub verified_on: Option<String>,
    pub evidence_url: Option<String>,
    pub hidden: bool,
    pub revoked: bool,
    /// The verification state of the credential that carries it, and the partner that sent it.
    pub carrier_verification: String,
    pub partner_name: String,
}

/// The person's own entry.
#[derive(Debug, Clone)]
pub struct OwnEntry {
    pub section: Section,
    pub title: String,
    pub organisation: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub description: Option<String>,
}

/// Why a skill edit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkillEditRefusal {
    NotFound,
    /// Nothing of a verified skill is editable.
    Verified,
}

/// What a shared resume, its PDF and every export show: not what the person hid, nor what
/// the issuer revoked. One rule for the shared page and the exports.
impl Entry {
    pub fn is_shown(&self) -> bool {
        !self.hidden && !self.revoked
    }
}

impl ResumeSkill {
    pub fn is_shown(&self) -> bool {
        !self.hidden && !self.revoked
    }
}

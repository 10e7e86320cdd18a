//! The resume leaving the platform: a PDF typeset on the server (with a QR code to the
//! online resume, and the machine-readable forms attached), the resume as a credential this
//! deployment signs, HR Open LER-RS JSON and JSON Resume.
//!
//! Every export is made from one [`ResumeDocument`]: the resume as an employer sees it
//! (hidden and revoked items left out), each item marked with how it was verified and
//! carrying its issuer's original credential.

pub mod json_resume;
pub mod ler_rs;
pub mod pdf;
pub mod resume_vc;

use crate::domain::dates::{DateText, in_words, range_in_words};
use crate::domain::resume::{Entry, ResumeSkill};
use crate::domain::sections::Section;
use crate::domain::verification::VerificationState;
use crate::services::signing_key::{self, SigningError};
use crate::services::{App, resume, sharing};
use crate::store::StoreError;
use crate::store::export::{self as originals, Original};
use serde_json::Value;

/// How an item on the resume was verified, in the words every view uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    SignatureVerified,
    VerifiedByPartner,
    VerificationFailed,
    NotVerified,
    SelfReported,
}

impl Mark {
    fn of_credential(state: Option<&str>) -> Mark {
        match state.and_then(VerificationState::parse) {
            Some(VerificationState::Verified) => Mark::SignatureVerified,
            Some(VerificationState::Attested) => Mark::VerifiedByPartner,
            Some(VerificationState::Failed) => Mark::VerificationFailed,
            _ => Mark::NotVerified,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mark::SignatureVerified => "signature verified",
            Mark::VerifiedByPartner => "verified by the partner",
            Mark::VerificationFailed => "verification failed",
            Mark::NotVerified => "not verified",
            Mark::SelfReported => "self-reported",
        }
    }
}

/// The resume every export is made from.
#[derive(Debug, Clone)]
pub struct ResumeDocument {
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub additional_name: Option<String>,
    pub email: String,
    pub headline: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub summary: Option<String>,
    /// The online resume (the person's share link) the QR code opens.
    pub share_url: String,
    /// When this export was made (Unix milliseconds).
    pub generated_at: i64,
    pub skills: Vec<Skill>,
    pub sections: Vec<ResumeSection>,
}

#[derive(Debug, Clone)]
pub struct Skill {
    pub name: String,
    pub category: String,
    pub level: Option<String>,
    pub description: Option<String>,
    /// Who verified it (`None`: self-reported).
    pub verified_by: Option<String>,
    /// When, in words.
    pub verified_on: Option<String>,
    pub original: Option<Original>,
}

#[derive(Debug, Clone)]
pub struct ResumeSection {
    pub section: Section,
    pub title: &'static str,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub title: String,
    pub organisation: Option<String>,
    /// The date in words ("May 2023", "2019 – June 2021"), or as written when it is free text.
    pub date: Option<String>,
    /// Start and end as ISO 8601 (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`) when they parse.
    pub start_iso: Option<String>,
    pub end_iso: Option<String>,
    pub description: Option<String>,
    pub mark: Mark,
    pub original: Option<Original>,
}

impl ResumeDocument {
    /// Builds the document from a loaded resume: what the person hid and what issuers
    /// revoked is left out.
    pub fn new(
        loaded: resume::Resume,
        mut entry_originals: std::collections::HashMap<String, Original>,
        mut skill_originals: std::collections::HashMap<String, Original>,
        share_url: String,
        generated_at: i64,
    ) -> ResumeDocument {
        let profile = &loaded.user.profile;
        let name = [
            &profile.given_name,
            &profile.additional_name,
            &profile.family_name,
        ]
        .iter()
        .filter_map(|p| p.as_deref())
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let skills = loaded
            .skills
            .into_iter()
            .filter(ResumeSkill::is_shown)
            .map(|s| {
                let verified = s.verified;
                Skill {
                    original: skill_originals.remove(&s.id),
                    name: s.name,
                    category: s.category,
                    level: s.level,
                    description: s.description,
                    verified_by: verified
                        .then(|| s.verified_by.unwrap_or_else(|| "the issuer".into())),
                    verified_on: if verified {
                        s.verified_on.as_deref().map(in_words)
                    } else {
                        None
                    },
                }
            })
            .collect();
        let mut entries: Vec<_> = loaded.entries.into_iter().filter(Entry::is_shown).collect();
        let mut sections = Vec::new();
        for section in Section::PLACEABLE.into_iter().chain([Section::Unassigned]) {
            let (these, rest): (Vec<_>, Vec<_>) =
                entries.into_iter().partition(|e| e.section == section);
            entries = rest;
            if these.is_empty() {
                continue;
            }
            let items = these
                .into_iter()
                .map(|entry| {
                    let original = entry_originals.remove(&entry.id);
                    let (start, end) = if entry.from_partner {
                        let awarded = original
                            .as_ref()
                            .and_then(|o| o.awarded_at.clone())
                            .or_else(|| entry.date.clone());
                        (awarded, None)
                    } else {
                        split_range(entry.date.as_deref())
                    };
                    Item {
                        date: entry.date.as_deref().map(range_in_words),
                        start_iso: start.as_deref().and_then(iso_date),
                        end_iso: end.as_deref().and_then(iso_date),
                        title: entry.title,
                        organisation: entry.organisation,
                        description: entry.description,
                        mark: if entry.from_partner {
                            Mark::of_credential(entry.verification.as_deref())
                        } else {
                            Mark::SelfReported
                        },
                        original,
                    }
                })
                .collect();
            sections.push(ResumeSection {
                section,
                title: if section == Section::Unassigned {
                    "Other credentials"
                } else {
                    section.title()
                },
                items,
            });
        }
        let text = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        ResumeDocument {
            name: if name.is_empty() {
                loaded.user.email.clone()
            } else {
                name
            },
            given_name: text(&profile.given_name),
            family_name: text(&profile.family_name),
            additional_name: text(&profile.additional_name),
            email: loaded.user.email.clone(),
            headline: text(&profile.headline),
            phone: text(&profile.phone),
            address: text(&profile.address),
            summary: text(&profile.summary),
            share_url,
            generated_at,
            skills,
            sections,
        }
    }
}

/// Own entries store their range as "start – end" (see `store::resume::entries`).
fn split_range(date: Option<&str>) -> (Option<String>, Option<String>) {
    match date {
        Some(date) => match date.split_once(" – ") {
            Some((start, end)) => (Some(start.to_string()), Some(end.to_string())),
            None => (Some(date.to_string()), None),
        },
        None => (None, None),
    }
}

/// The ISO 8601 form of a date (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`) when it is one.
pub fn iso_date(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if let Some(parsed) = DateText::new(trimmed).parsed {
        return parsed.get(..10).map(str::to_string);
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match trimmed.split_once('-') {
        None if trimmed.len() == 4 && digits(trimmed) => Some(trimmed.to_string()),
        Some((year, month))
            if year.len() == 4
                && digits(year)
                && month.len() == 2
                && digits(month)
                && (1..=12).contains(&month.parse::<u8>().unwrap_or(0)) =>
        {
            Some(trimmed.to_string())
        }
        _ => None,
    }
}

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("the PDF could not be typeset: {0}")]
    Typesetting(String),
}

/// Which resume to export, and through which link.
pub enum Whose<'a> {
    /// The signed-in person: the QR code opens their share link (made if they have none).
    Owner(&'a str),
    /// The owner of a share link, exported through that link.
    Shared { owner: &'a str, token: &'a str },
}

/// Loads the document for `whose`; `None` when the person no longer exists.
pub async fn load(app: &App, whose: Whose<'_>) -> Result<Option<ResumeDocument>, StoreError> {
    let (user, token) = match whose {
        Whose::Owner(user) => (user, sharing::current_or_new(app, user).await?),
        Whose::Shared { owner, token } => (owner, token.to_string()),
    };
    let Some(loaded) = resume::load(app, user).await? else {
        return Ok(None);
    };
    let owner = user.to_string();
    let (entries, skills) = app
        .store
        .read(move |conn| {
            Ok((
                originals::entry_originals(conn, &owner)?,
                originals::skill_originals(conn, &owner)?,
            ))
        })
        .await?;
    Ok(Some(ResumeDocument::new(
        loaded,
        entries,
        skills,
        format!("{}/r/{token}", app.config.public_url),
        app.clock.now_ms(),
    )))
}

/// The LER-RS JSON of a document.
pub fn ler_rs_json(document: &ResumeDocument) -> Value {
    ler_rs::build(document)
}

/// The signed resume credential, and the PDF it holds (typeset with the LER-RS attached).
pub async fn signed_credential(
    app: &App,
    document: &ResumeDocument,
    paper: pdf::Paper,
) -> Result<Value, ExportError> {
    let ler = ler_rs::build(document);
    let ler_bytes = serde_json::to_vec_pretty(&ler).unwrap_or_default();
    let inner = render(document, paper, vec![pdf::Attachment::ler_rs(ler_bytes)]).await?;
    let unsigned = resume_vc::unsigned(&signing_key::did(app), document, &ler, &inner);
    Ok(signing_key::sign(app, unsigned).await?)
}

/// The PDF as served: the resume, with the LER-RS JSON and the signed resume credential
/// (which itself holds the same resume typeset without the credential) attached.
pub async fn pdf_with_attachments(
    app: &App,
    document: &ResumeDocument,
    paper: pdf::Paper,
) -> Result<Vec<u8>, ExportError> {
    let credential = signed_credential(app, document, paper).await?;
    let ler_bytes = serde_json::to_vec_pretty(&ler_rs::build(document)).unwrap_or_default();
    let credential_bytes = serde_json::to_vec_pretty(&credential).unwrap_or_default();
    render(
        document,
        paper,
        vec![
            pdf::Attachment::ler_rs(ler_bytes),
            pdf::Attachment::credential(credential_bytes),
        ],
    )
    .await
}

/// Typesets on the blocking pool: a resume takes milliseconds of CPU.
async fn render(
    document: &ResumeDocument,
    paper: pdf::Paper,
    attachments: Vec<pdf::Attachment>,
) -> Result<Vec<u8>, ExportError> {
    let document = document.clone();
    tokio::task::spawn_blocking(move || pdf::render(&document, paper, &attachments))
        .await
        .map_err(|e| ExportError::Typesetting(format!("the typesetting task failed: {e}")))?
        .map_err(ExportError::Typesetting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_an_iso_form_only_when_they_are_dates() {
        assert_eq!(iso_date("2019"), Some("2019".into()));
        assert_eq!(iso_date("2019-13"), None);
        assert_eq!(iso_date("2023-05-14T10:00:00Z"), Some("2023-05-14".into()));
        assert_eq!(iso_date("present"), None);
    }
}

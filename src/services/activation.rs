//! The partner's activation page: a person the partner did not send a claim link finds their
//! package by names and email or student id, and gets a one-time link to its claim page at the
//! email address the partner has on record.
//!
//! A search never tells whether anything matched: the answer, and the work done before it,
//! are the same either way (one index probe, one write); the mail goes through the outbox.

use super::App;
use crate::domain::activation::{self, Identifier};
use crate::domain::email::EmailAddress;
use crate::domain::package::Recipient;
use crate::domain::partner::Partner;
use crate::forms::FieldError;
use crate::secrets;
use crate::store::activation::{self as found, KeyKind};
use crate::store::outbox::{self, Link};
use crate::store::{Conn, StoreError};

/// At most this many packages are mailed for one search (one message each, newest first).
pub const MAX_MESSAGES: usize = 3;

/// Longest name or student id a search accepts.
const MAX_FIELD_CHARS: usize = 200;

/// The partner whose activation page this is, if it exists and is enabled.
pub async fn partner(app: &App, slug: &str) -> Result<Option<Partner>, StoreError> {
    Ok(super::partners::by_slug(app, slug)
        .await?
        .filter(|p| !p.disabled))
}

/// What the person typed, as text (kept to show the form again).
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub student_id: String,
}

/// A valid search: both names, and an email address or a student id (or both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    given_name: String,
    family_name: String,
    email: Option<EmailAddress>,
    student_id: Option<String>,
}

impl SearchForm {
    /// The search, or what is wrong with each field.
    pub fn parse(&self) -> Result<Search, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut text = |field: &'static str, value: &str, missing: &str| {
            let value = value.trim();
            if value.is_empty() {
                problems.push(FieldError::new(field, missing));
            } else if value.chars().count() > MAX_FIELD_CHARS {
                problems.push(FieldError::new(
                    field,
                    format!("use at most {MAX_FIELD_CHARS} characters"),
                ));
            }
            value.to_string()
        };
        let given_name = text("given_name", &self.given_name, "enter your first name");
        let family_name = text("family_name", &self.family_name, "enter your last name");
        let email = match self.email.trim() {
            "" => None,
            raw => EmailAddress::parse(raw)
                .map_err(|invalid| problems.push(FieldError::new("email", invalid.to_string())))
                .ok(),
        };
        let student_id = match self.student_id.trim() {
            "" => None,
            id if id.chars().count() > MAX_FIELD_CHARS => {
                problems.push(FieldError::new(
                    "student_id",
                    format!("use at most {MAX_FIELD_CHARS} characters"),
                ));
                None
            }
            id => Some(id.to_string()),
        };
        if self.email.trim().is_empty()
            && student_id.is_none()
            && problems.iter().all(|p| p.field != "student_id")
        {
            for field in ["email", "student_id"] {
                problems.push(FieldError::new(
                    field,
                    "enter your email address or your student id",
                ));
            }
        }
        if problems.is_empty() {
            Ok(Search {
                given_name,
                family_name,
                email,
                student_id,
            })
        } else {
            Err(problems)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("too many searches; wait and try again")]
    RateLimited,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Search {
    /// (which key, the key) for each identifier given.
    fn keys(&self, partner_id: &str) -> Vec<(KeyKind, String)> {
        let key = |id| activation::key(partner_id, &self.given_name, &self.family_name, id);
        let mut keys = Vec::new();
        if let Some(email) = &self.email {
            keys.push((KeyKind::Email, key(Identifier::Email(email.as_str()))));
        }
        if let Some(student_id) = &self.student_id {
            keys.push((KeyKind::StudentId, key(Identifier::StudentId(student_id))));
        }
        keys
    }

    /// What the identity rate limit counts: the partner and each identifier, digested.
    fn identities(&self, partner_id: &str) -> Vec<String> {
        // (an `EmailAddress` is already in the form addresses are compared in)
        let email = self
            .email
            .as_ref()
            .map(|email| format!("{partner_id}\u{0}email\u{0}{email}"));
        let student_id = self.student_id.as_deref().map(|s| {
            format!(
                "{partner_id}\u{0}studentId\u{0}{}",
                activation::normalise_student_id(s)
            )
        });
        email
            .into_iter()
            .chain(student_id)
            .map(|identity| secrets::digest(&identity))
            .collect()
    }
}

/// Searches the partner's searchable packages and mails each match's recipient a one-time
/// link, at the address the package has on record. Says nothing about the outcome.
pub async fn search(
    app: &App,
    partner: &Partner,
    search: &Search,
    client: &str,
) -> Result<(), SearchError> {
    let identities = search.identities(&partner.id);
    let allowed = app.limiters.activation_client.allow(client)
        && identities
            .iter()
            .all(|identity| app.limiters.activation_identity.allow(identity));
    if !allowed {
        return Err(SearchError::RateLimited);
    }
    let keys = search.keys(&partner.id);
    let now = app.clock.now_ms();
    let (partner_id, partner_name) = (partner.id.clone(), partner.name.clone());
    let unsendable = app
        .store
        .write(move |conn| mail_matches(conn, &partner_id, &partner_name, &keys, now))
        .await?;
    for package_id in unsendable {
        tracing::info!(
            partner = %partner.slug,
            package = %package_id,
            "an activation search matched a package without a usable email address on record: no link was sent"
        );
    }
    Ok(())
}

/// Finds the packages and queues their messages; returns the matched packages that have no
/// address to send to.
fn mail_matches(
    conn: &mut dyn Conn,
    partner_id: &str,
    partner_name: &str,
    keys: &[(KeyKind, String)],
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let mut matches: Vec<found::Found> = Vec::new();
    for (kind, key) in keys {
        for package in found::packages_with_key(conn, *kind, key, now, MAX_MESSAGES as i64)? {
            if !matches.iter().any(|m| m.package_id == package.package_id) {
                matches.push(package);
            }
        }
    }
    matches.truncate(MAX_MESSAGES);
    let mut unsendable = Vec::new();
    let mut queued = 0;
    for package in &matches {
        let Some(to) = email_on_record(&package.recipient) else {
            unsendable.push(package.package_id.clone());
            continue;
        };
        outbox::enqueue(
            conn,
            to.as_str(),
            &format!("Your credentials from {partner_name}"),
            &format!(
                "Someone (we hope you) looked for credentials from {partner_name} on CredentialConnect with your name.\n\nOpen this link to see them and add them to a free SmartResume:\n{{link}}\n\nThe link works once, for 24 hours. If it was not you, ignore this message: nothing happens without the link."
            ),
            Some(&Link::Package {
                package_id: package.package_id.clone(),
            }),
            now,
        )?;
        queued += 1;
    }
    // Written whether or not anything matched: a search costs the same either way.
    found::record_search(conn, partner_id, matches.len(), queued, now)?;
    Ok(unsendable)
}

/// The package's recipient email, when it is one we can send to.
fn email_on_record(recipient: &Recipient) -> Option<EmailAddress> {
    EmailAddress::parse(recipient.email.as_deref()?).ok()
}

/// Gives packages stored before lookup keys existed their keys (the start-up step after the
/// migration that added them), in batches; returns how many it looked at.
pub async fn index_existing(app: &App) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let batch = app.store.read(|conn| found::unindexed(conn, 200)).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        done += batch.len();
        let keyed: Vec<(String, Option<String>, Option<String>)> = batch
            .into_iter()
            .map(|package| {
                let (email, student_id) =
                    activation::recipient_keys(&package.partner_id, &package.recipient);
                (package.package_id, email, student_id)
            })
            .collect();
        app.store
            .write(move |conn| {
                for (package_id, email, student_id) in &keyed {
                    found::set_keys(conn, package_id, email.as_deref(), student_id.as_deref())?;
                }
                Ok(())
            })
            .await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(given: &str, family: &str, email: &str, student_id: &str) -> SearchForm {
        SearchForm {
            given_name: given.into(),
            family_name: family.into(),
            email: email.into(),
            student_id: student_id.into(),
        }
    }

    fn fields(problems: &[FieldError]) -> Vec<&str> {
        problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_search_needs_both_names_and_an_email_or_a_student_id() {
        assert!(
            form("Jamie", "Smith", "jamie@example.edu", "")
                .parse()
                .is_ok()
        );
        assert!(form("Jamie", "Smith", "", "S-1").parse().is_ok());
        let problems = form(" ", "", "", "").parse().expect_err("empty");
        assert_eq!(
            fields(&problems),
            ["given_name", "family_name", "email", "student_id"]
        );
        let problems = form("Jamie", "Smith", "not an address", "")
            .parse()
            .expect_err("bad email");
        assert_eq!(fields(&problems), ["email"]);
        let long = "x".repeat(201);
        let problems = form(&long, "Smith", "", &long).parse().expect_err("long");
        assert_eq!(fields(&problems), ["given_name", "student_id"]);
    }

    #[test]
    fn searches_for_the_same_identity_count_together_whatever_the_case_of_the_email() {
        let one = form("Jamie", "Smith", "Jamie@Example.edu", "")
            .parse()
            .expect("ok");
        let two = form("J", "S", " jamie@example.EDU ", "")
            .parse()
            .expect("ok");
        assert_eq!(one.identities("p1"), two.identities("p1"));
        assert_ne!(one.identities("p1"), one.identities("p2"));
    }

    #[test]
    fn the_address_on_record_must_be_one_we_can_send_to() {
        let with_email = |email: Option<&str>| Recipient {
            email: email.map(str::to_string),
            student_id: Some("S-1".into()),
            ..Recipient::default()
        };
        assert_eq!(
            email_on_record(&with_email(Some(" JSmith@InstitutionX.edu ")))
                .as_ref()
                .map(EmailAddress::as_str),
            Some("jsmith@institutionx.edu")
        );
        assert_eq!(email_on_record(&with_email(Some("not an address"))), None);
        assert_eq!(email_on_record(&with_email(None)), None);
    }
}

//! Finding a package on the partner's activation page (a package can be searched for when
//! its recipient has an id, both names, and an email or student id): how names, email addresses
//! and student ids are compared, and the lookup keys a package is found by.
//!
//! A key is a SHA-256 digest of the partner and the normalised names and email (or student
//! id), so packages can be found by one index probe without storing the person's details a
//! second time in plain text. Nothing here does I/O.

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The versioned domain of the keys: a change to the normalisation below needs a new one
/// (and keys computed again). Its text is part of every stored key, so it keeps the word
/// "find" the page was once called by: renaming it would be such a change.
const KEY_DOMAIN: &[u8] = b"credentialconnect find key v1";

/// A name as compared: trimmed, runs of white space as one space, in Unicode normal form C
/// (an "é" typed as one character or as "e" and an accent is the same letter), lowercase.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

/// A student id as compared: trimmed, otherwise exact.
pub fn normalise_student_id(student_id: &str) -> String {
    student_id.trim().to_string()
}

/// What identifies the person besides their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier<'a> {
    Email(&'a str),
    StudentId(&'a str),
}

/// The lookup key of (partner, given name, family name, email or student id). Each part is
/// length-prefixed, so no choice of names can make two different people's keys equal.
pub fn key(partner_id: &str, given_name: &str, family_name: &str, id: Identifier<'_>) -> String {
    let (kind, value) = match id {
        Identifier::Email(email) => ("email", super::email::normalise(email)),
        Identifier::StudentId(student_id) => ("studentId", normalise_student_id(student_id)),
    };
    let mut hasher = Sha256::new();
    hasher.update(KEY_DOMAIN);
    for part in [
        partner_id,
        &normalise_name(given_name),
        &normalise_name(family_name),
        kind,
        &value,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    crate::secrets::to_hex(&hasher.finalize())
}

/// The keys a searchable recipient is found by: (names + email, names + student id), each
/// present when the recipient has it. Both `None` when the recipient is not searchable.
pub fn recipient_keys(
    partner_id: &str,
    recipient: &super::package::Recipient,
) -> (Option<String>, Option<String>) {
    if !recipient.is_searchable() {
        return (None, None);
    }
    let (Some(given), Some(family)) = (&recipient.given_name, &recipient.family_name) else {
        return (None, None);
    };
    let email = recipient
        .email
        .as_deref()
        .map(|email| key(partner_id, given, family, Identifier::Email(email)));
    let student_id = recipient
        .student_id
        .as_deref()
        .map(|id| key(partner_id, given, family, Identifier::StudentId(id)));
    (email, student_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::package::Recipient;

    fn recipient() -> Recipient {
        Recipient {
            id: Some("474989023199323".into()),
            given_name: Some("José".into()),
            family_name: Some("Smith Jones".into()),
            email: Some("JSmith@InstitutionX.edu".into()),
            student_id: Some("S-0042".into()),
            ..Recipient::default()
        }
    }

    #[test]
    fn names_and_emails_match_whatever_their_case_and_surrounding_space() {
        let (email_key, student_key) = recipient_keys("p1", &recipient());
        assert_eq!(
            email_key.as_deref(),
            Some(
                key(
                    "p1",
                    "  JOSÉ ",
                    "smith   jones",
                    Identifier::Email(" jsmith@institutionx.EDU ")
                )
                .as_str()
            )
        );
        assert_eq!(
            student_key.as_deref(),
            Some(
                key(
                    "p1",
                    "josé",
                    "SMITH JONES",
                    Identifier::StudentId(" S-0042 ")
                )
                .as_str()
            )
        );
    }

    #[test]
    fn a_letter_with_an_accent_matches_however_it_was_typed() {
        let composed = key("p1", "Jos\u{e9}", "Smith", Identifier::Email("a@b.c"));
        let decomposed = key("p1", "Jose\u{301}", "SMITH", Identifier::Email("a@b.c"));
        assert_eq!(composed, decomposed);
    }

    #[test]
    fn student_ids_partners_and_identifier_kinds_are_compared_exactly() {
        let base = key("p1", "a", "b", Identifier::StudentId("S-0042"));
        assert_ne!(base, key("p1", "a", "b", Identifier::StudentId("s-0042")));
        assert_ne!(base, key("p2", "a", "b", Identifier::StudentId("S-0042")));
        assert_ne!(base, key("p1", "a", "b", Identifier::Email("S-0042")));
        assert_ne!(base, key("p1", "ab", "", Identifier::StudentId("S-0042")));
    }

    #[test]
    fn a_recipient_without_names_or_an_identifier_has_no_keys() {
        let mut nameless = recipient();
        nameless.family_name = None;
        assert_eq!(recipient_keys("p1", &nameless), (None, None));
        let mut no_id = recipient();
        no_id.id = None;
        assert_eq!(recipient_keys("p1", &no_id), (None, None));
        let mut email_only = recipient();
        email_only.student_id = None;
        let (email, student) = recipient_keys("p1", &email_only);
        assert!(email.is_some() && student.is_none());
    }

    #[test]
    fn keys_do_not_contain_what_they_were_made_from() {
        let (email_key, _) = recipient_keys("p1", &recipient());
        let email_key = email_key.expect("a key");
        assert_eq!(email_key.len(), 64);
        assert!(!email_key.contains("smith"));
    }
}

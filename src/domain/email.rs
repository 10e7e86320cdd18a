//! An email address a person typed (or a partner sent), checked once: an [`EmailAddress`]
//! is one the mailer can send to, in the form it is stored and compared (trimmed,
//! lowercase).

use std::fmt;

/// An email address the mailer can send to, normalised (trimmed, lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

/// Why a text is not an [`EmailAddress`] (one message, whatever the reason: the person
/// needs the shape of an address, not a grammar lesson).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enter an email address like name@example.com")]
pub struct InvalidEmail;

impl EmailAddress {
    /// Normalises an email address, or says it is not one.
    ///
    /// What a person types into a sign-up form: a dot-atom local part (RFC 5322 §3.2.3,
    /// letters beyond ASCII allowed as RFC 6531 does) and a domain name of at least two
    /// labels (letters, digits, hyphens; not an IP address), that the mailer can also send
    /// to. Quoted local parts, comments, IP literals and anything with control characters
    /// are refused.
    pub fn parse(raw: &str) -> Result<EmailAddress, InvalidEmail> {
        let email = normalise(raw);
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| valid_local_part(local) && valid_domain(domain))
            && email.parse::<lettre::Address>().is_ok();
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An email address as compared, whether or not it is valid: trimmed and lowercase (what a
/// log-in looks up, and what the activation page's keys are made of).
pub fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A whitelist entry as stored: an address (`person@example.org`) or a domain
/// (`example.org`, also typed `@example.org`), lowercase. `Err` says what is wrong.
pub fn whitelist_entry(typed: &str) -> Result<String, String> {
    let entry = normalise(typed);
    let entry = entry.trim_start_matches('@');
    if entry.contains('@') {
        return EmailAddress::parse(entry)
            .map(EmailAddress::into_string)
            .map_err(|e| format!("{typed:?}: {e}"));
    }
    let labels: Vec<&str> = entry.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(entry.to_string())
    } else {
        Err(format!(
            "{typed:?} is neither an email address nor a domain such as example.org"
        ))
    }
}

/// Whether test mode lets mail to `address` go out under these whitelist entries: the
/// address itself, or its domain, is listed.
pub fn whitelisted(entries: &[String], address: &str) -> bool {
    let address = normalise(address);
    let domain = address.rsplit('@').next().unwrap_or("");
    entries.iter().any(|entry| {
        let entry = normalise(entry);
        entry == address || entry.trim_start_matches('@') == domain
    })
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn valid_local_part(local: &str) -> bool {
    let atext = |c: char| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+/=?^_`{|}~-".contains(c)
            || (!c.is_ascii() && c.is_alphanumeric())
    };
    local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c == '-' || c.is_alphanumeric())
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<String, InvalidEmail> {
        EmailAddress::parse(raw).map(EmailAddress::into_string)
    }

    #[test]
    fn emails_are_normalised_or_explained() {
        assert_eq!(
            parse("  JSmith@InstitutionX.edu "),
            Ok("jsmith@institutionx.edu".into())
        );
        assert_eq!(
            InvalidEmail.to_string(),
            "enter an email address like name@example.com"
        );
        for bad in ["", "jsmith", "@x.edu", "a@b", "a b@c.d", "a@b.c@d.e"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn junk_that_merely_has_an_at_sign_and_a_dot_is_refused() {
        for bad in [
            "a@b..c",
            "a@-b.c",
            "a@b-.c",
            "a@b.c,evil@x.y",
            "a@b.c>",
            "<a@b.c>",
            "a<script>@b.c",
            "\"a b\"@b.c",
            "a\u{7}b@c.d",
            "a@c\u{0}.d",
            ".a@b.c",
            "a.@b.c",
            "a..b@c.d",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "a@b.c;d",
            "a@b_c.d",
            "a(comment)@b.c",
            &format!("{}@b.c", "x".repeat(65)),
            &format!("a@{}.c", "x".repeat(64)),
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "o'brien+jobs@mail.institution-x.edu",
            "first.last@example.co.uk",
            "josé@exämple.de",
            "x@y.io",
        ] {
            assert!(parse(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn whitelist_entries_are_addresses_or_domains() {
        assert_eq!(
            whitelist_entry(" Ops@Example.org ").as_deref(),
            Ok("ops@example.org")
        );
        assert_eq!(
            whitelist_entry("@Example.org").as_deref(),
            Ok("example.org")
        );
        assert_eq!(
            whitelist_entry("mail.example.org").as_deref(),
            Ok("mail.example.org")
        );
        for bad in [
            "",
            "example",
            "exa mple.org",
            "-x.org",
            "a@b@c.org",
            "x..org",
        ] {
            assert!(whitelist_entry(bad).is_err(), "{bad:?} was taken");
        }
        let entries = vec!["example.org".to_string(), "one@other.org".to_string()];
        assert!(whitelisted(&entries, "Anyone@Example.org"));
        assert!(whitelisted(&entries, "one@other.org"));
        assert!(!whitelisted(&entries, "two@other.org"));
        assert!(!whitelisted(&entries, "x@notexample.org"));
    }
}

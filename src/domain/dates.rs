//! Dates as partners send them: RFC 3339, a plain date, or free text such as "Spring 2023".
//! The text is always kept (it is what the resume shows when nothing parses).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// A date field: the partner's text, and what it means when it parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateText {
    pub text: String,
    /// RFC 3339 (UTC) for date-times, `YYYY-MM-DD` for plain dates.
    pub parsed: Option<String>,
}

impl DateText {
    pub fn new(text: &str) -> DateText {
        DateText {
            text: text.to_string(),
            parsed: parse(text),
        }
    }

    /// The instant it names, for validity checks (a plain date means its first moment, UTC).
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        let parsed = self.parsed.as_deref()?;
        DateTime::parse_from_rfc3339(parsed)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(parsed, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
            })
    }
}

fn parse(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(
            instant
                .with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        );
    }
    // XML Schema dateTime without a zone (seen in VCDM 1.1 credentials): read as UTC.
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(naive.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_normalised_to_utc() {
        let d = DateText::new("2025-02-14T12:07:16-05:00");
        assert_eq!(d.parsed.as_deref(), Some("2025-02-14T17:07:16Z"));
        assert!(d.instant().is_some());
    }

    #[test]
    fn plain_date_parses() {
        assert_eq!(
            DateText::new("2023-05-01").parsed.as_deref(),
            Some("2023-05-01")
        );
    }

    #[test]
    fn free_text_is_kept_and_unparsed() {
        let d = DateText::new("Spring 2023");
        assert_eq!(d.text, "Spring 2023");
        assert_eq!(d.parsed, None);
        assert_eq!(d.instant(), None);
    }
}

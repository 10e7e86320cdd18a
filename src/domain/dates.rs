//! Dates as partners send them: RFC 3339, a plain date, or free text such as "Spring 2023".
//! The text is always kept (it is what the resume shows when nothing parses).
//!
//! And dates as people read them: every page, the PDF included, writes dates in words
//! ("2 January 2027, 04:07 UTC", "2 January 2027", "May 2023") with the functions here, never
//! as timestamps.

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

/// A moment of ours (a link's expiry), as pages say it: "2 January 2027, 04:07 UTC".
pub fn moment_in_words(ms: i64) -> String {
    instant(ms).format("%-d %B %Y, %H:%M UTC").to_string()
}

/// The day of a moment of ours (a check, a link made), as pages say it: "2 January 2027".
pub fn day_in_words(ms: i64) -> String {
    instant(ms).format("%-d %B %Y").to_string()
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A date someone wrote, as a resume says it: "May 2023". Text that is not a date is kept
/// as written.
pub fn in_words(text: &str) -> String {
    let trimmed = text.trim();
    if let Some(date) = written_day(trimmed) {
        return date.format("%B %Y").to_string();
    }
    if let Ok(date) = NaiveDate::parse_from_str(&format!("{trimmed}-01"), "%Y-%m-%d")
        && trimmed.len() == 7
    {
        return date.format("%B %Y").to_string();
    }
    trimmed.to_string()
}

/// A day someone wrote (when a skill was verified), to the day: "14 February 2025". Text
/// that is not a date reads as [`in_words`] has it.
pub fn written_day_in_words(text: &str) -> String {
    match written_day(text.trim()) {
        Some(date) => date.format("%-d %B %Y").to_string(),
        None => in_words(text),
    }
}

/// A person's own "start – end", each side in words.
pub fn range_in_words(text: &str) -> String {
    match text.split_once(" – ") {
        Some((start, end)) => format!("{} – {}", in_words(start), in_words(end)),
        None => in_words(text),
    }
}

/// The day a written date names (UTC), when it is a date.
fn written_day(text: &str) -> Option<NaiveDate> {
    let parsed = DateText::new(text).parsed?;
    NaiveDate::parse_from_str(parsed.get(..10)?, "%Y-%m-%d").ok()
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
    fn dates_read_as_words_and_free_text_is_kept() {
        // 2027-01-02T04:07:06Z
        assert_eq!(
            moment_in_words(1_798_862_826_000),
            "2 January 2027, 04:07 UTC"
        );
        assert_eq!(day_in_words(1_798_862_826_000), "2 January 2027");
        assert_eq!(in_words("2023-05-14"), "May 2023");
        assert_eq!(in_words("2023-05-14T10:00:00Z"), "May 2023");
        assert_eq!(in_words("2021-11"), "November 2021");
        assert_eq!(in_words("Spring 2023"), "Spring 2023");
        assert_eq!(
            written_day_in_words("2025-02-14T17:07:18Z"),
            "14 February 2025"
        );
        assert_eq!(written_day_in_words("Spring 2023"), "Spring 2023");
        assert_eq!(
            range_in_words("2019-09 – 2021-06"),
            "September 2019 – June 2021"
        );
        assert_eq!(range_in_words("2021 – present"), "2021 – present");
    }

    #[test]
    fn free_text_is_kept_and_unparsed() {
        let d = DateText::new("Spring 2023");
        assert_eq!(d.text, "Spring 2023");
        assert_eq!(d.parsed, None);
        assert_eq!(d.instant(), None);
    }
}

//! Viewing a shared resume: who is counted when a share link is opened (anonymous views are
//! counted, viewer accounts are named, the owner is neither), what the person is told about
//! who viewed, and what a viewer account sees of one credential (its dates, evidence and
//! every check of its proof). Pure: the services fill these in, pages show them.

use super::dates::{self, DateText};
use super::verification::VerificationState;
use serde_json::Value;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// How many days of views the person is shown (and housekeeping keeps): today and the 89
/// before it.
pub const COUNTED_DAYS: i64 = 90;

/// The first day whose views count on `today`.
pub fn first_counted_day(today: i64) -> i64 {
    today - (COUNTED_DAYS - 1)
}

/// The day views are counted in: days since 1970-01-01, UTC.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The first moment of a counted day.
pub fn start_of_day(day: i64) -> i64 {
    day.saturating_mul(DAY_MS)
}

/// Who opened a share link, as far as counting goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opener {
    /// Anyone not signed in, or a job seeker other than the owner: counted, never named.
    Anonymous,
    /// The person whose resume it is: not counted (they look at their own link).
    Owner,
    /// A viewer account: counted, and named to the person.
    Viewer(String),
}

impl Opener {
    /// Who is opening `owner`'s link: `who` is the signed-in account, if any, as (id, is a
    /// viewer account).
    pub fn of(owner: &str, who: Option<(&str, bool)>) -> Opener {
        match who {
            Some((id, _)) if id == owner => Opener::Owner,
            Some((id, true)) => Opener::Viewer(id.to_string()),
            _ => Opener::Anonymous,
        }
    }

    pub fn is_counted(&self) -> bool {
        *self != Opener::Owner
    }

    pub fn viewer(&self) -> Option<&str> {
        match self {
            Opener::Viewer(id) => Some(id),
            _ => None,
        }
    }
}

/// How often a share link was opened on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayViews {
    pub day: i64,
    pub views: i64,
}

/// A viewer account's opens of a shared resume, or of one credential's details on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerOpen {
    pub viewer_name: String,
    pub organisation: Option<String>,
    /// The credential whose details were opened; `None` for the resume itself.
    pub credential: Option<String>,
    pub first_opened_at: i64,
    pub last_opened_at: i64,
    pub opens: i64,
}

/// Who viewed the person's current share link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareViews {
    /// Newest day first; only days with views.
    pub days: Vec<DayViews>,
    /// Most recently opened first.
    pub viewers: Vec<ViewerOpen>,
}

impl ShareViews {
    pub fn total(&self) -> i64 {
        self.days.iter().map(|d| d.views).sum()
    }
}

/// A resume a viewer account opened, for the viewer's own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedResume {
    /// Whose resume it is.
    pub name: String,
    pub last_opened_at: i64,
    /// The share link's token (it still works: rows go with their link).
    pub token: String,
}

/// One check of a credential's proof, as the verifier reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub check: String,
    /// In words: "passed", "failed", "could not be checked", "not needed".
    pub outcome: &'static str,
    pub detail: String,
}

/// A piece of evidence the credential points to (OB 3.0 `evidence`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub name: Option<String>,
    pub description: Option<String>,
    pub narrative: Option<String>,
    /// Where it is, as sent (a page shows it as a link only when it is a web address).
    pub url: Option<String>,
}

/// A credential's dates, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialDates {
    pub issued: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
}

/// One credential on a shared resume as a viewer account sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialDetails {
    /// Whose resume it is on.
    pub owner_name: String,
    pub title: String,
    pub issuer_name: Option<String>,
    pub issuer_id: String,
    /// The partner that sent it.
    pub partner_name: String,
    pub dates: CredentialDates,
    pub evidence: Vec<Evidence>,
    /// The proof's state after the check made for this view, and why.
    pub state: VerificationState,
    pub reason: String,
    pub checks: Vec<CheckLine>,
    pub checked_at: i64,
    /// The credential as the partner sent it, pretty-printed, and the compact JWS it came
    /// as, if it came as one.
    pub original: String,
    pub jws: Option<String>,
}

/// At most this many evidence items are shown (the original credential holds them all).
const MAX_EVIDENCE: usize = 20;

/// The dates a credential states: issued (`awardedDate`, `issuanceDate`, `issuedOn`),
/// valid from (`validFrom`) and valid until (`validUntil`, `expirationDate`), the first
/// given of each.
pub fn dates_of(document: &Value) -> CredentialDates {
    let first = |fields: &[&str]| {
        fields
            .iter()
            .find_map(|field| document.get(*field).and_then(Value::as_str))
            .map(date_in_words)
    };
    CredentialDates {
        issued: first(&["awardedDate", "issuanceDate", "issuedOn"]),
        valid_from: first(&["validFrom"]),
        valid_until: first(&["validUntil", "expirationDate"]),
    }
}

/// A credential's date in words: a date-time to the minute (UTC), a date to the day, text
/// that is not a date as written.
fn date_in_words(text: &str) -> String {
    let date = DateText::new(text);
    match (date.parsed.as_deref(), date.instant()) {
        (Some(parsed), Some(instant)) if parsed.len() > 10 => {
            dates::moment_in_words(instant.timestamp_millis())
        }
        (Some(_), Some(instant)) => dates::day_in_words(instant.timestamp_millis()),
        _ => text.trim().to_string(),
    }
}

/// The evidence a credential lists (`evidence`: one object or a list of them).
pub fn evidence_of(document: &Value) -> Vec<Evidence> {
    let items = match document.get("evidence") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| {
            let text = |field: &str| {
                item.get(field)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
            };
            let evidence = Evidence {
                name: text("name"),
                description: text("description"),
                narrative: text("narrative"),
                url: text("id"),
            };
            (evidence != Evidence::default()).then_some(evidence)
        })
        .take(MAX_EVIDENCE)
        .collect()
}

/// The stored document, pretty-printed for people; text that is not JSON as stored.
pub fn pretty(document: &str) -> String {
    serde_json::from_str::<Value>(document)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_owner_is_not_counted_and_only_viewer_accounts_are_named() {
        assert_eq!(Opener::of("owner", None), Opener::Anonymous);
        assert_eq!(Opener::of("owner", Some(("owner", false))), Opener::Owner);
        assert!(!Opener::of("owner", Some(("owner", false))).is_counted());
        assert_eq!(
            Opener::of("owner", Some(("someone", false))),
            Opener::Anonymous,
            "another job seeker is counted, not named"
        );
        let viewer = Opener::of("owner", Some(("employer", true)));
        assert!(viewer.is_counted());
        assert_eq!(viewer.viewer(), Some("employer"));
    }

    #[test]
    fn days_are_utc_days_since_1970() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_MS - 1), 0);
        assert_eq!(day_of(DAY_MS), 1);
        assert_eq!(start_of_day(day_of(5 * DAY_MS + 17)), 5 * DAY_MS);
        assert_eq!(
            (first_counted_day(100)..=100).count(),
            90,
            "today and the 89 days before it"
        );
    }

    #[test]
    fn dates_are_read_in_words_and_free_text_is_kept() {
        let dates = dates_of(&json!({
            "awardedDate": "2024-05-01",
            "validFrom": "2024-05-01T10:30:00Z",
            "expirationDate": "Spring 2030",
        }));
        assert_eq!(dates.issued.as_deref(), Some("1 May 2024"));
        assert_eq!(dates.valid_from.as_deref(), Some("1 May 2024, 10:30 UTC"));
        assert_eq!(dates.valid_until.as_deref(), Some("Spring 2030"));
        assert_eq!(dates_of(&json!({})), CredentialDates::default());
    }

    #[test]
    fn evidence_is_one_object_or_a_list_and_empty_items_are_left_out() {
        let one = evidence_of(&json!({"evidence": {"id": "https://e.example/1", "name": "Essay"}}));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].url.as_deref(), Some("https://e.example/1"));
        let many = evidence_of(&json!({"evidence": [
            {"narrative": "Built a bridge"}, {"genre": 3}, "text"
        ]}));
        assert_eq!(many.len(), 1);
        assert_eq!(many[0].narrative.as_deref(), Some("Built a bridge"));
        let lots = json!({"evidence": vec![json!({"name": "x"}); 100]});
        assert_eq!(evidence_of(&lots).len(), MAX_EVIDENCE);
    }

    #[test]
    fn the_original_is_pretty_printed_when_it_is_json() {
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty("not json"), "not json");
    }
}

//! `/admin/audit`: the audit log, filtered, a page at a time; `/admin/audit.jsonl` the same
//! entries as JSON Lines, streamed a page at a time so a long log is never held at once.

use super::{AdminNav, AdminVisitor};
use crate::domain::audit::{Action, Entry, Filter};
use crate::http::AppState;
use crate::http::web::error::PageError;
use crate::http::web::{Nav, render};
use crate::services::{alerts, audit};
use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Entries per page.
const PAGE: usize = 100;

/// The filter as the page's form sends it: every field optional, dates as `YYYY-MM-DD`
/// (UTC days; `until` includes its day).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct FilterFields {
    action: String,
    actor: String,
    subject: String,
    since: String,
    until: String,
    after: String,
}

impl FilterFields {
    /// The filter, and what was not understood (the page says so; the rest still applies).
    fn filter(&self) -> (Filter, Vec<String>) {
        let mut problems = Vec::new();
        let day = |text: &str, name: &str, next: bool, problems: &mut Vec<String>| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) => {
                    let date = if next {
                        date.succ_opt().unwrap_or(date)
                    } else {
                        date
                    };
                    date.and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc().timestamp_millis())
                }
                Err(_) => {
                    problems.push(format!("“{text}” is not a date ({name}): use YYYY-MM-DD."));
                    None
                }
            }
        };
        let action = match self.action.trim() {
            "" => None,
            name => {
                let found = Action::parse(name);
                if found.is_none() {
                    problems.push(format!("“{name}” is not an action the log records."));
                }
                found
            }
        };
        let text = |value: &str| Some(value.trim().to_string()).filter(|v| !v.is_empty());
        let filter = Filter {
            action,
            actor: text(&self.actor),
            subject: text(&self.subject),
            since: day(&self.since, "from", false, &mut problems),
            until: day(&self.until, "to", true, &mut problems),
        };
        (filter, problems)
    }

    fn query(&self, after: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        query.finish()
    }
}

struct ActionChoice {
    name: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    nav: Nav,
    admin_nav: AdminNav,
    fields: FilterFields,
    actions: Vec<ActionChoice>,
    problems: Vec<String>,
    entries: Vec<EntryView>,
    next: Option<String>,
    download: String,
}

struct EntryView {
    at: String,
    who: String,
    action: String,
    subject: String,
    address: String,
    detail: String,
}

impl EntryView {
    fn of(entry: Entry) -> EntryView {
        EntryView {
            at: entry.at.replace('T', " ").replace('Z', " UTC"),
            who: format!("{} {}", entry.actor_kind, entry.actor),
            action: entry.action,
            subject: match (entry.subject_kind, entry.subject) {
                (Some(kind), Some(id)) => format!("{kind} {id}"),
                _ => String::new(),
            },
            address: entry.address.unwrap_or_default(),
            detail: entry.detail.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// `GET /admin/audit`
pub async fn page(
    State(state): State<AppState>,
    admin: AdminVisitor,
    Query(fields): Query<FilterFields>,
) -> Result<Response, PageError> {
    let (filter, problems) = fields.filter();
    let after = Some(fields.after.trim().to_string()).filter(|a| !a.is_empty());
    let mut entries = audit::entries(&state.app, filter, after, PAGE + 1).await?;
    let more = entries.len() > PAGE;
    entries.truncate(PAGE);
    let next = more
        .then(|| {
            entries
                .last()
                .map(|e| format!("/admin/audit?{}", fields.query(Some(&e.id))))
        })
        .flatten();
    let page = AuditPage {
        nav: Nav::of(&admin.visitor),
        admin_nav: AdminNav {
            alerts: alerts::count(&state.app).await?,
        },
        actions: Action::ALL
            .iter()
            .map(|a| ActionChoice {
                name: a.as_str(),
                selected: a.as_str() == fields.action.trim(),
            })
            .collect(),
        problems,
        entries: entries.into_iter().map(EntryView::of).collect(),
        next,
        download: format!("/admin/audit.jsonl?{}", fields.query(None)),
        fields,
    };
    Ok(admin.visitor.finish(render(&page)))
}

/// `GET /admin/audit.jsonl`: every entry the filter matches, one JSON object per line.
pub async fn json_lines(
    State(state): State<AppState>,
    _: AdminVisitor,
    Query(fields): Query<FilterFields>,
) -> Response {
    let (filter, _) = fields.filter();
    let app = state.app.clone();
    // Each step reads the next page after the last entry sent; a failure ends the stream,
    // which the client sees as a cut-off download rather than a complete-looking file.
    let pages = futures_util::stream::unfold(Some(None::<String>), move |after| {
        let (app, filter) = (app.clone(), filter.clone());
        async move {
            let after = after?;
            match audit::entries(&app, filter, after, 1000).await {
                Ok(page) if page.is_empty() => None,
                Ok(page) => {
                    let last = page.last().map(|e| e.id.clone());
                    let mut chunk = String::new();
                    for entry in &page {
                        chunk.push_str(&serde_json::to_string(entry).unwrap_or_default());
                        chunk.push('\n');
                    }
                    Some((Ok::<_, std::io::Error>(chunk), Some(last)))
                }
                Err(error) => Some((Err(std::io::Error::other(error.to_string())), None)),
            }
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jsonl"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit-log.jsonl\""),
            ),
        ],
        Body::from_stream(pages),
    )
        .into_response()
}

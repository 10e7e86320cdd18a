//! Web pages for people: the home page, the claim link a partner sends (a preview of the
//! package until accounts exist) and the partner's activation page. Everything a partner
//! sent is escaped.

use crate::clock;
use crate::domain::sections::Section;
use crate::http::AppState;
use crate::secrets;
use crate::services::verification;
use crate::store::{holding, partners};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(health))
        .route("/createmyresume/{token}", get(claim))
        .route("/find/{partner}", get(find))
        .route("/static/style.css", get(style))
        .fallback(not_found)
}

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around `body` (already escaped HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} — CredentialConnect</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><header><a href=\"/\">CredentialConnect</a></header><main>{body}</main></body></html>",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}header{background:#123c69;padding:.75rem 1rem}header a{color:#fff;font-weight:600;text-decoration:none}main{max-width:48rem;margin:0 auto;padding:1rem}code{background:#f1f1f1;padding:0 .2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}section{border-top:1px solid #ddd;margin-top:1.5rem}.badge{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85rem;background:#e6f0e6;color:#1d4d1d}.muted{color:#555}a{color:#0b4f9c}";

async fn style() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/css")], STYLE).into_response()
}

async fn home() -> Html<String> {
    Html(page(
        "Welcome",
        "<h1>CredentialConnect</h1><p>Turn your verified credentials into a skills-first resume.</p><p class=\"muted\">Partners: see the <a href=\"/api/v1/docs\">API reference</a>.</p>",
    ))
}

async fn health(State(state): State<AppState>) -> Response {
    match state
        .app
        .store
        .read(|conn| conn.query("SELECT 1", &[]).map(|_| ()))
        .await
    {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Not found",
            "<h1>Not found</h1><p>There is no page here.</p>",
        )),
    )
        .into_response()
}

fn describe_verification(state: &str) -> &'static str {
    match state {
        "verified" => "signature verified",
        "attested" => "verified by the partner",
        "failed" => "verification failed",
        _ => "not verified",
    }
}

/// `GET /createmyresume/{identifierToken}`: what the package holds. Signing up and adding it
/// to a resume come with accounts; until then this page previews the package.
async fn claim(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let hash = secrets::digest(&token);
    // Proofs are checked again when their last check is older than the configured TTL, so
    // a revocation since upload shows here; a failure to re-check keeps the stored state.
    if let Err(error) = verification::recheck_package(&state.app, &hash).await {
        tracing::warn!(error = %error, "re-checking verification failed");
    }
    let now = state.app.clock.now_ms();
    let view = match state
        .app
        .store
        .read(move |conn| holding::package_view(conn, &hash, now))
        .await
    {
        Ok(view) => view,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(page(
                    "Try again",
                    "<h1>Please try again</h1><p>The service is briefly unavailable.</p>",
                )),
            )
                .into_response();
        }
    };
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Link not valid", "<h1>This link is not valid</h1><p>It may have expired or been mistyped. Ask the organisation that sent it for a new one.</p>")),
        )
            .into_response();
    };
    let mut body = format!(
        "<h1>Your credentials from {}</h1>",
        escape(&view.partner_name)
    );
    if let Some(given) = view.recipient.get("given_name").and_then(|v| v.as_str()) {
        body.push_str(&format!("<p>Hello {}.</p>", escape(given)));
    }
    if view.claimed {
        body.push_str("<p>These credentials have already been added to a resume.</p>");
    }
    body.push_str(&format!(
        "<p class=\"muted\">This link is valid until {}.</p>",
        escape(&clock::rfc3339(view.expires_at))
    ));
    if !view.items.is_empty() {
        body.push_str("<h2>Credentials</h2><ul>");
        for item in &view.items {
            body.push_str(&format!(
                "<li><strong>{}</strong> — {}{}{} <span class=\"badge\">{}</span>{}</li>",
                escape(&item.name),
                escape(&item.issuer),
                item.awarded
                    .as_deref()
                    .map(|d| format!(", {}", escape(d)))
                    .unwrap_or_default(),
                item.section
                    .as_deref()
                    .and_then(|s| s.parse::<Section>().ok())
                    .map(|s| format!(" <span class=\"muted\">({})</span>", escape(s.title())))
                    .unwrap_or_default(),
                describe_verification(&item.verification),
                if item.revoked {
                    " <em>revoked by the issuer</em>"
                } else {
                    ""
                },
            ));
            if let Some(description) = &item.description {
                body.push_str(&format!(
                    "<details><summary>Details</summary><p>{}</p></details>",
                    escape(description)
                ));
            }
            if item.verification != "none" {
                // What was checked, in the verifier's words, for the person and for anyone
                // they show it to.
                body.push_str(&format!(
                    "<details><summary>How this was verified</summary><p class=\"muted\">{}</p></details>",
                    escape(&item.verification_reason)
                ));
            }
        }
        body.push_str("</ul>");
    }
    if !view.skills.is_empty() {
        body.push_str("<h2>Skills</h2><ul>");
        for skill in &view.skills {
            body.push_str(&format!(
                "<li><strong>{}</strong>{} <span class=\"muted\">{}</span>{}</li>",
                escape(&skill.name),
                skill
                    .level
                    .as_deref()
                    .map(|l| format!(" — {}", escape(l)))
                    .unwrap_or_default(),
                escape(&skill.category),
                if skill.verified {
                    format!(
                        " <span class=\"badge\">verified{}</span>",
                        skill
                            .verified_by
                            .as_deref()
                            .map(|b| format!(" by {}", escape(b)))
                            .unwrap_or_default()
                    )
                } else {
                    String::new()
                },
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("<p>Creating your SmartResume from this link opens soon. Keep this link: it stays valid until the date above.</p>");
    Html(page("Your credentials", &body)).into_response()
}

/// `GET /find/{partner}`: the partner's activation page (use case 2, option 2).
async fn find(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let wanted = slug.clone();
    let partner = match state
        .app
        .store
        .read(move |conn| partners::by_slug(conn, &wanted))
        .await
    {
        Ok(partner) => partner,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(page("Try again", "<h1>Please try again</h1>")),
            )
                .into_response();
        }
    };
    match partner.filter(|p| !p.disabled) {
        Some(partner) => Html(page(
            "Find your credentials",
            &format!(
                "<h1>Find your credentials from {}</h1><p>Searching for your credentials by name and email or student id opens soon. Until then, use the link {} sent you.</p>",
                escape(&partner.name),
                escape(&partner.name)
            ),
        ))
        .into_response(),
        None => not_found().await,
    }
}

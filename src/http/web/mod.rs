//! Web pages for people: accounts, the claim link a partner sends, the partner's activation
//! page, the import inbox, importing from a partner (pull), the resume builder, and the
//! shared resume with employers' viewer accounts. Every
//! page works without JavaScript (one small script adds a copy button to the share link);
//! templates escape everything; every state-changing form carries a CSRF token.

mod accounts;
mod activation;
mod admin;
mod claim;
pub mod error;
mod export;
pub mod logos;
mod personal_data;
mod pull;
mod recipient_code;
pub mod resume;
pub mod sharing;
pub mod viewer;
pub mod visitor;
pub mod wallet;

use crate::domain::verification::VerificationState;
use crate::http::AppState;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use visitor::Visitor;

pub fn router() -> Router<AppState> {
    let routes = Router::new()
        .route("/", get(home))
        .route("/healthz", get(health))
        .route("/static/style.css", get(style))
        .route("/static/copy.js", get(copy_script))
        .route("/logos/{file}", get(logos::serve))
        .route("/signup", get(accounts::signup_page).post(accounts::signup))
        .route("/login", get(accounts::login_page).post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route(
            "/verify/{token}",
            get(accounts::verify_page).post(accounts::verify),
        )
        .route(
            "/reset",
            get(accounts::reset_page).post(accounts::reset_request),
        )
        .route(
            "/reset/{token}",
            get(accounts::reset_form).post(accounts::reset),
        )
        .route(
            "/createmyresume/{token}",
            get(claim::page).post(claim::claim),
        )
        .route(
            "/createmyresume/{token}/code",
            post(recipient_code::send_for_link),
        )
        .route(
            "/claims/{package}/code",
            get(recipient_code::page).post(recipient_code::send_again),
        )
        .route("/claims/{package}/confirm", post(recipient_code::confirm))
        // The activation page keeps the path the partner contract gives it (docs/partner-api.md:
        // uploads answer it as `activationUrl`), though everything behind it says "activation".
        .route(
            "/find/{partner}",
            get(activation::page).post(activation::search),
        )
        .route("/inbox", get(claim::inbox))
        .route(
            "/inbox/{package}",
            get(claim::inbox_package).post(claim::inbox_claim),
        )
        .route("/inbox/{package}/dismiss", post(claim::inbox_dismiss))
        .route("/import", get(pull::page))
        .route("/import/{partner}", post(pull::start))
        .route("/import/return/{partner}", get(pull::returned))
        .route("/resume", get(resume::page))
        .route("/resume/contact", post(resume::contact))
        .route("/resume/entries", post(resume::add_entry))
        .route("/resume/entries/{id}/{action}", post(resume::entry_action))
        .route(
            "/resume/entries/{id}/delete",
            get(resume::confirm_delete).post(resume::delete_entry),
        )
        .route("/resume/skills/{id}/{action}", post(resume::skill_action))
        .route(
            "/resume/skills/{id}/delete",
            get(resume::confirm_delete_skill).post(resume::delete_skill),
        )
        .route("/resume/share", post(sharing::create))
        .route("/resume/share/stop", post(sharing::stop))
        .route("/resume/wallet/{partner}", post(wallet::push))
        .route("/r/{token}", get(sharing::page))
        .route("/r/{token}/resume.pdf", get(export::shared_pdf))
        .route(
            "/r/{token}/signup",
            get(viewer::signup_form).post(viewer::signup),
        )
        .route("/r/{token}/credentials/{entry}", get(viewer::details))
        .route("/viewer", get(viewer::home))
        .route("/resume/preview", get(sharing::preview))
        .route("/resume/export/resume.pdf", get(export::own_pdf))
        .route(
            "/resume/export/resume-credential.json",
            get(export::own_credential),
        )
        .route("/resume/export/ler-rs.json", get(export::own_ler_rs))
        .route(
            "/resume/export/json-resume.json",
            get(export::own_json_resume),
        )
        .route("/.well-known/did.json", get(export::did_document))
        .route("/account", get(personal_data::show))
        .route("/account/export", post(personal_data::export))
        .route("/account/erase", post(personal_data::erase))
        .merge(admin::routes())
        .fallback(not_found);
    with_page_errors(routes)
        // Pages carry personal data (a resume, a package's recipient, what was typed into a
        // form) and CSRF tokens: no browser or shared cache keeps them. The stylesheet sets
        // its own caching.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Every failure of a page, a panic included, answered by the error page (see [`error`]).
pub fn with_page_errors<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(CatchPanicLayer::custom(error::panicked))
        .layer(axum::middleware::from_fn(error::render_failures))
}

/// A page whose forms' answers redirect to other sites (a partner's pull URL, a wallet's
/// landing page): a browser applies the Content-Security-Policy's `form-action` to where a
/// form's answer redirects, so the page's policy lists those sites' origins. The URLs were
/// checked when an operator set them: https, or plain http only to loopback where outbound
/// loopback is allowed (development and tests).
pub fn form_redirects_to<'a>(
    mut response: Response,
    urls: impl Iterator<Item = &'a str>,
) -> Response {
    let mut origins: Vec<String> = urls
        .filter_map(|url| url::Url::parse(url).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin.starts_with("https://") || origin.starts_with("http://"))
        .collect();
    origins.sort();
    origins.dedup();
    if origins.is_empty() {
        return response;
    }
    let directive = "form-action 'self'";
    let policy = crate::http::CONTENT_SECURITY_POLICY
        .replace(directive, &format!("{directive} {}", origins.join(" ")));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What the header shows.
pub struct Nav {
    pub signed_in: bool,
    /// Signed in with a viewer account: its own page instead of a job seeker's links.
    pub viewer: bool,
    pub csrf: String,
    pub inbox: usize,
}

impl Nav {
    pub fn of(visitor: &Visitor) -> Nav {
        Nav {
            signed_in: visitor.signed_in.is_some(),
            viewer: visitor.user().is_some_and(|user| user.is_viewer()),
            csrf: visitor.csrf(),
            inbox: 0,
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    nav: Nav,
    title: &'a str,
    paragraphs: Vec<&'a str>,
    link: Option<(&'a str, &'a str)>,
}

/// Renders a template as a page (a template error is a bug: 500).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => error::PageError::bug(format!("rendering a page: {error}")).into_response(),
    }
}

/// A short page that says one thing, with a status.
pub fn message(status: StatusCode, title: &str, paragraphs: &[&str]) -> Response {
    let page = MessagePage {
        nav: Nav {
            signed_in: false,
            viewer: false,
            csrf: String::new(),
            inbox: 0,
        },
        title,
        paragraphs: paragraphs.to_vec(),
        link: None,
    };
    (status, render(&page)).into_response()
}

/// A message page for a known visitor (keeps their header), with an optional link.
pub fn message_for(
    visitor: &Visitor,
    status: StatusCode,
    title: &str,
    paragraphs: &[&str],
    link: Option<(&str, &str)>,
) -> Response {
    let page = MessagePage {
        nav: Nav::of(visitor),
        title,
        paragraphs: paragraphs.to_vec(),
        link,
    };
    visitor.finish((status, render(&page)).into_response())
}

/// The answer to a form whose CSRF token is missing or wrong: nothing changes.
pub fn csrf_refused(visitor: &Visitor) -> Response {
    message_for(
        visitor,
        StatusCode::FORBIDDEN,
        "This form has expired",
        &[
            "It was not sent from this page, or your session has changed since. Nothing was changed: go back, reload the page and try again.",
        ],
        Some(("/", "Go to the start page")),
    )
}

/// Pages that need a signed-in person send others to log in, then back.
pub fn to_login(path: &str) -> Response {
    let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// How a verification state reads to a person: (CSS class, label).
pub fn verification_badge(state: &str) -> (&'static str, &'static str) {
    match VerificationState::parse(state) {
        Some(VerificationState::Verified) => ("verified", "signature verified"),
        Some(VerificationState::Attested) => ("attested", "verified by the partner"),
        Some(VerificationState::Failed) => ("failed", "verification failed"),
        _ => ("none", "not verified"),
    }
}

/// Who a page names beside an issuer: the partner that sent the credential, unless its
/// proof was checked here (`verified`), which establishes the issuer. Any other issuer name
/// is only the partner's word.
pub fn sent_by(state: &str, partner: &str) -> Option<String> {
    (VerificationState::parse(state) != Some(VerificationState::Verified))
        .then(|| partner.to_string())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
}

async fn home(visitor: Visitor) -> Response {
    visitor.finish(render(&HomePage {
        nav: Nav::of(&visitor),
    }))
}

/// How long the health check waits for the store: a writer that cannot commit within this
/// is as good as down to whoever routes traffic here.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// 200 only when the store takes writes as well as reads (see `Store::ping`).
async fn health(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.app.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::warn!("health check: the store took too long to commit a write");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        &["There is no page here."],
    )
}

const STYLE: &str = include_str!("../../../static/style.css");

async fn style() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

const COPY_SCRIPT: &str = include_str!("../../../static/copy.js");

/// The share link's copy button (the only script; the Content-Security-Policy allows
/// scripts from this origin only, never inline).
async fn copy_script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        COPY_SCRIPT,
    )
        .into_response()
}

/// A URL a partner sent, as a link target: only a web address (`https:` or `http:`) is
/// followed. Anything else (`javascript:`, `data:`, a relative path) is `None`, and pages
/// show it as text: escaping keeps it inside the attribute, but a browser would still run
/// or open it when clicked.
pub fn web_link(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "https" | "http").then(|| parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_are_links() {
        assert_eq!(
            web_link(" https://evidence.example/a?b=1 ").as_deref(),
            Some("https://evidence.example/a?b=1")
        );
        assert!(web_link("http://evidence.example/").is_some());
        for text in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:x",
            "file:///etc/passwd",
            "/resume",
            "//evil.example/",
            "evidence.example/page",
            "",
        ] {
            assert_eq!(web_link(text), None, "{text:?}");
        }
    }
}

//! The reference partner's portal: a small "university portal" that answers CredentialConnect's
//! pull (use case 3). CredentialConnect sends a person's browser to its pull URL with
//! `recipientToken` and `redirectURL`; the portal gets an OAuth token with its client
//! credentials, uploads its package carrying that recipient token (the credentials go to
//! that person's import inbox), and sends the browser back to `redirectURL` (303).
//!
//! A real portal would first sign its student in and send that student's credentials; this
//! one sends the same package to everyone. It is included by `examples/reference_partner.rs`
//! and by the tests (`#[path]`), so both run the same code.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// What the portal needs to know.
#[derive(Clone, Debug)]
pub struct Portal {
    /// CredentialConnect's base URL (its `CC_PUBLIC_URL`), e.g. `https://cc.example`.
    pub service_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The package uploaded for whoever comes by. Its `recipient` is left out of the upload:
    /// the recipient token names the person, so no personal data need travel.
    pub package: Value,
    /// The portal's name, on its pages.
    pub name: String,
}

struct Shared {
    portal: Portal,
    client: reqwest::Client,
}

/// Serves the portal on `listener` until the task is dropped: `/` says what it is, `/pull`
/// is the pull URL to register with `credentialconnect partner set SLUG --pull-url`.
pub async fn serve(listener: tokio::net::TcpListener, portal: Portal) -> std::io::Result<()> {
    // reqwest is built without a TLS crypto provider of its own: ring, as the service uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(std::io::Error::other)?;
    let shared = Arc::new(Shared { portal, client });
    let router = Router::new()
        .route("/", get(home))
        .route("/pull", get(pull))
        .with_state(shared);
    axum::serve(listener, router).await
}

async fn home(State(shared): State<Arc<Shared>>) -> Response {
    page(
        StatusCode::OK,
        &shared.portal.name,
        &format!(
            "This portal sends its students' credentials to CredentialConnect at {}. Start from CredentialConnect's Import Credentials page.",
            shared.portal.service_url
        ),
    )
}

/// The query CredentialConnect sends a person here with.
#[derive(Deserialize)]
struct PullQuery {
    #[serde(rename = "recipientToken")]
    recipient_token: Option<String>,
    #[serde(rename = "redirectURL")]
    redirect_url: Option<String>,
}

async fn pull(State(shared): State<Arc<Shared>>, Query(query): Query<PullQuery>) -> Response {
    let portal = &shared.portal;
    // Checked first, before anything is sent: a link anyone can craft must not make this
    // portal send a person (with credentials just uploaded for them) anywhere else.
    let Some(redirect) = query
        .redirect_url
        .as_deref()
        .filter(|url| is_under(url, &portal.service_url))
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            &format!(
                "redirectURL must be an address on CredentialConnect ({}). Nothing was sent.",
                portal.service_url
            ),
        );
    };
    let Some(token) = query
        .recipient_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "recipientToken is missing. Start again from CredentialConnect's Import Credentials page. Nothing was sent.",
        );
    };
    match upload(&shared, token).await {
        Ok(()) => Redirect::to(redirect).into_response(),
        Err(why) => page(
            StatusCode::BAD_GATEWAY,
            "Your credentials could not be sent",
            &format!("CredentialConnect did not take them: {why}"),
        ),
    }
}

/// Whether `candidate` is an address under `base`: the same scheme, host and port, no user
/// name, and a path inside the base's. Compared as parsed URLs, never as text, so
/// `https://cc.example.evil.test/` or `https://cc.example@evil.test/` are not under
/// `https://cc.example`.
pub fn is_under(candidate: &str, base: &str) -> bool {
    let (Ok(candidate), Ok(base)) = (url::Url::parse(candidate), url::Url::parse(base)) else {
        return false;
    };
    let base_path = base.path().trim_end_matches('/');
    candidate.scheme() == base.scheme()
        && candidate.host_str().is_some()
        && candidate.host_str() == base.host_str()
        && candidate.port_or_known_default() == base.port_or_known_default()
        && candidate.username().is_empty()
        && candidate.password().is_none()
        && candidate.path().starts_with(&format!("{base_path}/"))
}

/// An OAuth token, then the package with the recipient token.
async fn upload(shared: &Shared, recipient_token: &str) -> Result<(), String> {
    let portal = &shared.portal;
    let base = portal.service_url.trim_end_matches('/');
    let answer = shared
        .client
        .post(format!("{base}/api/v1/token"))
        .basic_auth(&portal.client_id, Some(&portal.client_secret))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| format!("the token request failed: {e}"))?;
    let (status, body) = json_of(answer).await?;
    let access_token = body["access_token"]
        .as_str()
        .filter(|_| status == StatusCode::OK)
        .ok_or_else(|| format!("no token (HTTP {status}): {body}"))?;
    let mut package = portal.package.clone();
    if let Some(envelope) = package.as_object_mut() {
        envelope.remove("recipient");
        envelope.remove("recipientToken");
        envelope.insert("recipienttoken".into(), recipient_token.into());
    }
    let answer = shared
        .client
        .post(format!("{base}/api/v1/credentials"))
        .bearer_auth(access_token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(package.to_string())
        .send()
        .await
        .map_err(|e| format!("the upload failed: {e}"))?;
    let (status, body) = json_of(answer).await?;
    if status != StatusCode::OK {
        let problems: Vec<String> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| format!("{} {}", e["pointer"], e["message"].as_str().unwrap_or("")))
            .collect();
        return Err(format!(
            "HTTP {status}: {} {}",
            body["imsx_description"].as_str().unwrap_or(""),
            problems.join("; ")
        ));
    }
    if body["delivered"] != "inbox" {
        return Err(format!("the package was stored but not delivered: {body}"));
    }
    Ok(())
}

async fn json_of(response: reqwest::Response) -> Result<(StatusCode, Value), String> {
    let status = StatusCode::from_u16(response.status().as_u16())
        .map_err(|e| format!("an unknown status: {e}"))?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let body = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "HTTP {status}, not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    Ok((status, body))
}

/// A page of the portal: a title and one paragraph, escaped.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let (title, text) = (escape(title), escape(text));
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
    );
    (status, Html(html)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

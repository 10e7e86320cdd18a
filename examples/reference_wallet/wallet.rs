//! The reference wallet: what a wallet partner runs for CredentialConnect's wallet push (use
//! case 4). It has an OAuth 2.0 token endpoint (client credentials), an OB 3.0-style
//! `POST /credentials` that verifies each credential it receives with CredentialConnect's
//! verifier and keeps it (an upsert by the credential's id: 201 when new, 200 when it replaces
//! one), `GET /credentials` listing what it holds (OB 3.0's `getCredentials` shape), and a
//! landing page the person's browser is sent to.
//!
//! It is included by `examples/reference_wallet.rs` and by the tests (`#[path]`), so both run
//! the same code. What it holds lives in memory, in a [`Held`] the caller owns, so a test can
//! stop the server, start it again on the same port with the same `Held`, and see what arrived.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use credentialconnect::domain::verification::VerificationState;
use credentialconnect::verify::Verifier;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the wallet needs to know.
pub struct Wallet {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// Checks every credential received; its fetcher resolves the issuer's did:web.
    pub verifier: Arc<Verifier>,
    pub held: Arc<Held>,
}

/// What the wallet has received, and the switches a test flips to make it misbehave.
#[derive(Default)]
pub struct Held {
    credentials: Mutex<BTreeMap<String, Kept>>,
    tokens: Mutex<HashSet<String>>,
    /// Token requests answered with a token.
    pub tokens_issued: AtomicUsize,
    /// Pushes received, whatever became of them.
    pub pushes_received: AtomicUsize,
    /// Answer this many of the next pushes with 500 (before reading them).
    pub fail_next: AtomicUsize,
    /// Keep the next push, then crash before answering it, as a wallet killed mid-push.
    pub crash_after_keeping: AtomicBool,
}

/// A credential the wallet holds.
#[derive(Clone, Debug)]
pub struct Kept {
    pub credential: Value,
    pub state: VerificationState,
    /// How many times it arrived (an upsert keeps one copy).
    pub received: usize,
}

impl Held {
    /// The credentials held, by id.
    pub fn credentials(&self) -> BTreeMap<String, Kept> {
        self.credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The largest credential accepted: a resume credential carries its PDF.
const MAX_CREDENTIAL_BYTES: usize = 16 * 1024 * 1024;

/// Serves the wallet on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, wallet: Wallet) -> std::io::Result<()> {
    let router = Router::new()
        .route("/", get(landing))
        .route("/landing", get(landing))
        .route("/token", post(token))
        .route("/credentials", post(upsert).get(list))
        .layer(DefaultBodyLimit::max(MAX_CREDENTIAL_BYTES))
        .with_state(Arc::new(wallet));
    axum::serve(listener, router).await
}

async fn landing(State(wallet): State<Arc<Wallet>>) -> Response {
    let name = escape(&wallet.name);
    let items: String = wallet
        .held
        .credentials()
        .values()
        .map(|kept| {
            let title = kept.credential["name"].as_str().unwrap_or("A credential");
            format!("<li>{} ({})</li>", escape(title), kept.state)
        })
        .collect();
    let held = if items.is_empty() {
        "<p>It holds nothing yet.</p>".to_string()
    } else {
        format!("<p>It holds:</p><ul>{items}</ul>")
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name}</title></head>\
         <body><main><h1>{name}</h1><p>Your resume is on its way to this wallet.</p>{held}</main></body></html>"
    ))
    .into_response()
}

/// `POST /token`: the client credentials grant, the client authenticated by HTTP Basic
/// (RFC 6749 §2.3.1) or by `client_id` and `client_secret` in the form.
async fn token(State(wallet): State<Arc<Wallet>>, headers: HeaderMap, body: String) -> Response {
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let (id, secret) = basic_credentials(&headers).unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    if id != wallet.client_id || secret != wallet.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut bytes = [0u8; 24];
    credentialconnect::secrets::fill_random(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    wallet
        .held
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token.clone());
    wallet.held.tokens_issued.fetch_add(1, Ordering::SeqCst);
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})),
    )
        .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({"error": error}))).into_response()
}

/// Whether the request carries a token this wallet issued.
fn authorised(wallet: &Wallet, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| {
            wallet
                .held
                .tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(token.trim())
        })
}

/// An OB 3.0 API status answer.
fn imsx(status: StatusCode, description: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": description,
        })),
    )
        .into_response()
}

/// `POST /credentials`: verifies the credential and keeps it, by id.
async fn upsert(State(wallet): State<Arc<Wallet>>, headers: HeaderMap, body: String) -> Response {
    if !authorised(&wallet, &headers) {
        return imsx(StatusCode::UNAUTHORIZED, "no valid access token");
    }
    wallet.held.pushes_received.fetch_add(1, Ordering::SeqCst);
    if wallet
        .held
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return imsx(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the wallet is briefly unavailable",
        );
    }
    let Ok(credential) = serde_json::from_str::<Value>(&body) else {
        return imsx(StatusCode::BAD_REQUEST, "the body is not a JSON credential");
    };
    let Some(id) = credential["id"].as_str().map(str::to_string) else {
        return imsx(StatusCode::BAD_REQUEST, "the credential has no id");
    };
    let report = wallet.verifier.verify(&credential, None).await;
    if report.state != VerificationState::Verified {
        return imsx(
            StatusCode::BAD_REQUEST,
            &format!("the credential does not verify: {}", report.reason()),
        );
    }
    let created = {
        let mut held = wallet
            .held
            .credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let received = held.get(&id).map_or(0, |kept| kept.received);
        held.insert(
            id,
            Kept {
                credential,
                state: report.state,
                received: received + 1,
            },
        );
        received == 0
    };
    if wallet
        .held
        .crash_after_keeping
        .swap(false, Ordering::SeqCst)
    {
        // The connection dies with this task: the sender gets no answer.
        panic!("the reference wallet crashes after keeping a push, as asked");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(json!({"status": "kept"}))).into_response()
}

/// `GET /credentials`: what the wallet holds (OB 3.0 `getCredentials`).
async fn list(State(wallet): State<Arc<Wallet>>, headers: HeaderMap) -> Response {
    if !authorised(&wallet, &headers) {
        return imsx(StatusCode::UNAUTHORIZED, "no valid access token");
    }
    let credentials: Vec<Value> = wallet
        .held
        .credentials()
        .into_values()
        .map(|kept| kept.credential)
        .collect();
    axum::Json(json!({"credential": credentials})).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

//! Wallet push (use case 4): "Share To My Wallet" sends the person's signed resume credential
//! to a wallet partner.
//!
//! Asking for a push signs the resume once and queues it (`store::wallets`, an outbox with a
//! lease per job); a worker delivers it: an OAuth 2.0 token from the wallet's token URL
//! (client credentials, cached until it expires), then a `POST` of the credential to the push
//! URL, OB 3.0 upsert style (`application/json`; 200 or 201 is success). Network errors,
//! timeouts and 5xx answers are retried with backoff (the first retry within 30 s, at most
//! `MAX_ATTEMPTS` attempts); other answers end the push as failed with the wallet's reason.
//! Every call goes through the SSRF-safe outbound client (`verify::fetch::outbound_client`).
//! Retrying is safe because every attempt sends the same credential, which the wallet upserts
//! by its id.

use super::partners::{PartnerError, parse_partner_url};
use super::{App, deployment_keys};
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::wallet::{Push, Wallet};
use crate::export::{self, ExportError, Whose, pdf::Paper};
use crate::store::wallets::{self, Leased, WalletSettings};
use crate::store::{StoreError, audit};
use crate::verify::fetch;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts before a push that keeps failing in ways that may pass is given up (with the
/// backoff of `retry_delay`, about two hours).
pub const MAX_ATTEMPTS: i64 = 8;

/// How long one attempt holds its push before another worker may take it: longer than the
/// two requests an attempt makes, each bounded by the wallet timeout.
const LEASE_MS: i64 = 60_000;

/// At most this much of a wallet's answer is read (for its reason); the rest is not.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// A person may have this many pushes waiting at once.
const MAX_QUEUED_PER_PERSON: i64 = 3;

/// What `partner set --wallet-…` asks for: every part of a wallet, or its removal.
#[derive(Debug, Clone)]
pub enum WalletChange {
    Set {
        push_url: String,
        token_url: String,
        client_id: String,
        client_secret: String,
        landing_url: String,
    },
    Remove,
}

/// The outbound side of wallets, one per instance: the HTTP client and the tokens it holds.
pub struct Outbound {
    client: Result<reqwest::Client, String>,
    /// Tokens by the wallet settings they were issued under (a changed secret or URL on any
    /// instance gives a new key, so a token is never used past its settings).
    tokens: Mutex<HashMap<String, CachedToken>>,
    /// Wakes the worker when a push is queued, so it goes out at once.
    wake: tokio::sync::Notify,
}

struct CachedToken {
    token: String,
    expires: Instant,
}

impl Outbound {
    pub fn new(allow_loopback: bool, timeout: Duration) -> Outbound {
        crate::verify::fetch::install_crypto_provider();
        Outbound {
            client: fetch::outbound_client(
                allow_loopback,
                timeout,
                concat!("CredentialConnect/", env!("CARGO_PKG_VERSION")),
            ),
            tokens: Mutex::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        // Plain data: a panic elsewhere cannot leave it inconsistent.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sets or removes the partner's wallet. URLs must be https (plain http only to loopback
/// where outbound loopback is allowed); the secret is sealed before it is stored.
pub async fn set(
    app: &App,
    actor: &Actor,
    slug: &str,
    change: WalletChange,
) -> Result<(), PartnerError> {
    let Some(partner) = super::partners::by_slug(app, slug).await? else {
        return Err(PartnerError::NotFound(slug.to_string()));
    };
    let now = app.clock.now_ms();
    let (actor, subject) = (actor.clone(), Subject::new("partner", &partner.slug));
    match change {
        WalletChange::Remove => {
            let id = partner.id;
            app.store
                .write(move |conn| {
                    wallets::remove(conn, &id, now)?;
                    let detail = serde_json::json!({ "wallet": "removed" });
                    audit::append(
                        conn,
                        &actor,
                        Action::PartnerChanged,
                        Some(&subject),
                        Some(detail),
                        now,
                    )
                })
                .await?;
        }
        WalletChange::Set {
            push_url,
            token_url,
            client_id,
            client_secret,
            landing_url,
        } => {
            let settings = check_settings(
                app,
                &partner.id,
                [&push_url, &token_url, &landing_url],
                &client_id,
                &client_secret,
            )?;
            let id = partner.id;
            // The secret is never recorded, sealed or not.
            let detail = serde_json::json!({
                "wallet": "set",
                "push_url": push_url,
                "token_url": token_url,
                "client_id": client_id,
                "landing_url": landing_url,
            });
            app.store
                .write(move |conn| {
                    wallets::set(conn, &id, &settings, now)?;
                    audit::append(
                        conn,
                        &actor,
                        Action::PartnerChanged,
                        Some(&subject),
                        Some(detail),
                        now,
                    )
                })
                .await?;
        }
    }
    Ok(())
}

/// Checks every part of a wallet before anything is stored, and seals its secret.
fn check_settings(
    app: &App,
    partner_id: &str,
    [push_url, token_url, landing_url]: [&str; 3],
    client_id: &str,
    client_secret: &str,
) -> Result<WalletSettings, PartnerError> {
    let allow_loopback = app.config.fetch.allow_loopback;
    let called = |what: &str, raw: &str| -> Result<String, PartnerError> {
        let url = parse_partner_url(what, raw, allow_loopback)?;
        // A private address given as an IP literal is refused now; a name that resolves to
        // one is refused when it is called.
        fetch::check_url(&url, allow_loopback)
            .map_err(|e| PartnerError::Invalid(format!("{what} {raw:?}: {e}")))?;
        Ok(url)
    };
    let push_url = called("wallet push URL", push_url)?;
    let token_url = called("wallet token URL", token_url)?;
    let landing_url = parse_partner_url("wallet landing URL", landing_url, allow_loopback)?;
    let client_id = client_id.trim();
    if client_id.is_empty() || client_id.len() > 256 {
        return Err(PartnerError::Invalid(
            "the wallet client id must be 1 to 256 characters".into(),
        ));
    }
    if client_secret.is_empty() || client_secret.len() > 1024 {
        return Err(PartnerError::Invalid(
            "the wallet client secret must be 1 to 1024 characters".into(),
        ));
    }
    Ok(WalletSettings {
        push_url,
        token_url,
        client_id: client_id.to_string(),
        client_secret_sealed: deployment_keys::seal(
            app,
            &secret_context(partner_id),
            client_secret,
        )?,
        landing_url,
    })
}

/// What a wallet's sealed secret is bound to: its partner.
fn secret_context(partner_id: &str) -> String {
    format!("wallet client secret of partner {partner_id}")
}

/// The wallets a person can push to, by name.
pub async fn offered(app: &App) -> Result<Vec<Wallet>, StoreError> {
    app.store.read(wallets::offered).await
}

/// The wallet settings of a partner (for `partner list`), enabled or not.
pub async fn of_partner(app: &App, partner_id: &str) -> Result<Option<Wallet>, StoreError> {
    let id = partner_id.to_string();
    app.store
        .read(move |conn| wallets::of_partner(conn, &id))
        .await
}

/// The person's latest pushes, newest first.
pub async fn pushes(app: &App, user_id: &str) -> Result<Vec<Push>, StoreError> {
    let user = user_id.to_string();
    app.store
        .read(move |conn| wallets::of_user(conn, &user, 5))
        .await
}

/// Why a push was not queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no wallet {0:?} is offered here")]
    UnknownWallet(String),
    #[error("you have pushes waiting to go out; try again once they have")]
    TooManyWaiting,
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// "Share To My Wallet": signs the person's resume and queues its push to the wallet of
/// partner `slug`; returns the wallet, whose landing URL the browser goes to next.
pub async fn queue(app: &App, user_id: &str, slug: &str) -> Result<Wallet, QueueError> {
    let wanted = slug.to_string();
    let Some(wallet) = app
        .store
        .read(move |conn| wallets::offered_by_slug(conn, &wanted))
        .await?
    else {
        return Err(QueueError::UnknownWallet(slug.to_string()));
    };
    let user = user_id.to_string();
    let waiting = app
        .store
        .read(move |conn| wallets::queued_of_user(conn, &user))
        .await?;
    if waiting >= MAX_QUEUED_PER_PERSON {
        return Err(QueueError::TooManyWaiting);
    }
    let Some(document) = export::load(app, Whose::Owner(user_id)).await? else {
        return Err(QueueError::Store(StoreError::Other(
            "the person no longer exists".into(),
        )));
    };
    let credential = export::signed_credential(app, &document, Paper::A4).await?;
    let body = serde_json::to_string(&credential).unwrap_or_default();
    let (user, partner, now) = (
        user_id.to_string(),
        wallet.partner_id.clone(),
        app.clock.now_ms(),
    );
    app.store
        .write(move |conn| wallets::queue(conn, &user, &partner, &body, now))
        .await?;
    app.wallets.wake.notify_one();
    Ok(wallet)
}

/// How one attempt ended, when it did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// It may pass later (network error, timeout, 5xx): retried with backoff.
    Retry(String),
    /// It will not pass by trying again (4xx, a redirect, an address we do not call).
    Refused(String),
}

/// Delivers every push that is due, one attempt each; returns how many it attempted. Tests
/// call this directly; `spawn_worker` calls it in a loop.
pub async fn deliver_due(app: &App) -> Result<usize, StoreError> {
    let mut attempted = 0;
    loop {
        let now = app.clock.now_ms();
        let Some(push) = app
            .store
            .write(move |conn| wallets::lease_next(conn, now, LEASE_MS))
            .await?
        else {
            return Ok(attempted);
        };
        attempted += 1;
        let outcome = attempt(app, &push).await;
        let (id, now) = (push.id.clone(), app.clock.now_ms());
        match outcome {
            Ok(()) => {
                tracing::info!(push = %id, attempts = push.attempts, "wallet push delivered");
                app.store
                    .write(move |conn| wallets::mark_sent(conn, &id, now))
                    .await?;
            }
            Err(Failure::Refused(reason)) => {
                tracing::warn!(push = %id, %reason, "wallet push refused; not retried");
                app.store
                    .write(move |conn| wallets::mark_failed(conn, &id, &reason, now))
                    .await?;
            }
            Err(Failure::Retry(reason)) if push.attempts >= MAX_ATTEMPTS => {
                let reason = format!("given up after {} attempts: {reason}", push.attempts);
                tracing::warn!(push = %id, %reason, "wallet push given up");
                app.store
                    .write(move |conn| wallets::mark_failed(conn, &id, &reason, now))
                    .await?;
            }
            Err(Failure::Retry(reason)) => {
                let retry_at = now + super::millis(super::retry_delay(push.attempts));
                tracing::warn!(push = %id, %reason, attempts = push.attempts, "wallet push failed; will retry");
                app.store
                    .write(move |conn| wallets::mark_retry(conn, &id, &reason, retry_at))
                    .await?;
            }
        }
    }
}

/// One attempt: a token (cached, or asked for), then the push. A cached token the wallet
/// refuses with 401 is dropped and the push made once more with a new one.
async fn attempt(app: &App, push: &Leased) -> Result<(), Failure> {
    let partner = push.partner_id.clone();
    let (wallet, sealed) = app
        .store
        .read(move |conn| {
            Ok((
                wallets::of_partner(conn, &partner)?,
                wallets::sealed_secret(conn, &partner)?,
            ))
        })
        .await
        .map_err(|e| Failure::Retry(format!("the push could not be read: {e}")))?;
    let (Some(wallet), Some(sealed)) = (wallet, sealed) else {
        return Err(Failure::Refused(
            "the wallet is no longer offered here".into(),
        ));
    };
    let client =
        app.wallets.client.as_ref().map_err(|e| {
            Failure::Retry(format!("the outbound HTTP client could not be built: {e}"))
        })?;
    let cache_key = crate::secrets::digest(&format!(
        "{}\n{}\n{}\n{sealed}",
        wallet.partner_id, wallet.token_url, wallet.client_id
    ));
    let cached = {
        let tokens = app.wallets.tokens();
        tokens
            .get(&cache_key)
            .filter(|t| t.expires > Instant::now())
            .map(|t| t.token.clone())
    };
    let from_cache = cached.is_some();
    let token = match cached {
        Some(token) => token,
        None => fetch_token(app, client, &wallet, &sealed, &cache_key).await?,
    };
    match send(client, &wallet, &token, &push.credential).await {
        Ok(result) => result,
        Err(Unauthorised(_)) if from_cache => {
            app.wallets.tokens().remove(&cache_key);
            let token = fetch_token(app, client, &wallet, &sealed, &cache_key).await?;
            send(client, &wallet, &token, &push.credential)
                .await
                .unwrap_or_else(|Unauthorised(reason)| Err(Failure::Refused(reason)))
        }
        Err(Unauthorised(reason)) => Err(Failure::Refused(reason)),
    }
}

/// The wallet refused the token it was given (401): a cached one may have been revoked.
struct Unauthorised(String);

/// Asks the wallet's token URL for a token (client credentials, the secret by HTTP Basic
/// authentication as RFC 6749 §2.3.1 asks every server to accept) and caches it until shortly
/// before it expires.
async fn fetch_token(
    app: &App,
    client: &reqwest::Client,
    wallet: &Wallet,
    sealed: &str,
    cache_key: &str,
) -> Result<String, Failure> {
    let secret = deployment_keys::open(app, &secret_context(&wallet.partner_id), sealed)
        .map_err(|e| Failure::Refused(format!("the wallet's client secret: {e}")))?;
    let response = client
        .post(&wallet.token_url)
        .basic_auth(&wallet.client_id, Some(secret))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| no_answer("the wallet's token endpoint", &e))?;
    let status = response.status();
    let body = read_capped(response).await;
    if !status.is_success() {
        let what = format!("the wallet's token endpoint answered {}", status.as_u16());
        return Err(classify(status, what, &body));
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(token) = parsed["access_token"].as_str().filter(|t| !t.is_empty()) else {
        return Err(Failure::Refused(
            "the wallet's token endpoint answered without an access_token".into(),
        ));
    };
    // Kept until a minute before it expires (an hour when the wallet does not say).
    let lifetime = parsed["expires_in"].as_u64().unwrap_or(3600);
    let keep = Duration::from_secs(lifetime.saturating_sub(60));
    if !keep.is_zero() {
        app.wallets.tokens().insert(
            cache_key.to_string(),
            CachedToken {
                token: token.to_string(),
                expires: Instant::now() + keep,
            },
        );
    }
    Ok(token.to_string())
}

/// POSTs the credential to the wallet. 200 and 201 are success.
async fn send(
    client: &reqwest::Client,
    wallet: &Wallet,
    token: &str,
    credential: &str,
) -> Result<Result<(), Failure>, Unauthorised> {
    let response = match client
        .post(&wallet.push_url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(credential.to_string())
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => return Ok(Err(no_answer("the wallet", &e))),
    };
    let status = response.status();
    if status == reqwest::StatusCode::OK || status == reqwest::StatusCode::CREATED {
        // The body is not needed, and not read: a wallet answering with a huge one costs
        // nothing.
        return Ok(Ok(()));
    }
    let body = read_capped(response).await;
    let what = format!("the wallet answered {}", status.as_u16());
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Unauthorised(with_reason(what, &body)));
    }
    Ok(Err(classify(status, what, &body)))
}

/// A failed answer: 5xx may pass (retried), anything else will not.
fn classify(status: reqwest::StatusCode, what: String, body: &[u8]) -> Failure {
    if status.is_redirection() {
        Failure::Refused(format!("{what}, a redirect, which is not followed"))
    } else if status.is_server_error() {
        Failure::Retry(with_reason(what, body))
    } else {
        Failure::Refused(with_reason(what, body))
    }
}

/// A request that got no answer. The person sees what kind of failure it was, never the
/// addresses a name resolved to (those go to the log).
fn no_answer(what: &str, error: &reqwest::Error) -> Failure {
    tracing::warn!(detail = %fetch::describe(error), "a wallet request failed");
    if fetch::refused_as_non_public(error) {
        Failure::Refused(format!(
            "{what} is not at a public address, and only public addresses are called"
        ))
    } else if error.is_timeout() {
        Failure::Retry(format!("{what} did not answer in time"))
    } else {
        Failure::Retry(format!("{what} could not be reached"))
    }
}

/// At most `MAX_ANSWER_BYTES` of an answer's body; the rest is left unread.
async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ANSWER_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    body
}

/// `what`, with the wallet's own reason where its answer gives one: an OB 3.0 API status
/// (`imsx_description`), an OAuth error (`error_description`, `error`), or short plain text.
/// Shown to the person as text, at most 300 characters.
fn with_reason(what: String, body: &[u8]) -> String {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let reason = ["imsx_description", "error_description", "error"]
        .iter()
        .find_map(|key| parsed[key].as_str().map(str::to_string))
        .or_else(|| {
            if parsed.is_null() {
                std::str::from_utf8(body).ok().map(str::to_string)
            } else {
                None
            }
        })
        .map(|text| {
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty());
    match reason {
        Some(reason) => {
            let mut reason: String = reason.chars().take(300).collect();
            if reason.chars().count() == 300 {
                reason.push('…');
            }
            format!("{what}: {reason}")
        }
        None => what,
    }
}

/// Delivers pushes until the process ends: at once when one is queued here, and every few
/// seconds for retries and for pushes queued on other instances.
pub fn spawn_worker(app: App) {
    tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(2), app.wallets.wake.notified()).await;
            if let Err(error) = deliver_due(&app).await {
                tracing::warn!(%error, "wallet worker");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wallets_reason_is_taken_from_its_answer_and_kept_short() {
        assert_eq!(
            with_reason(
                "the wallet answered 400".into(),
                br#"{"imsx_codeMajor":"failure","imsx_description":"the credential\nis not an OB 3.0 one"}"#
            ),
            "the wallet answered 400: the credential is not an OB 3.0 one"
        );
        assert_eq!(
            with_reason(
                "the wallet's token endpoint answered 401".into(),
                br#"{"error":"invalid_client"}"#
            ),
            "the wallet's token endpoint answered 401: invalid_client"
        );
        assert_eq!(
            with_reason("the wallet answered 503".into(), b""),
            "the wallet answered 503"
        );
        let long = "x".repeat(5000);
        let shown = with_reason("the wallet answered 400".into(), long.as_bytes());
        assert!(shown.chars().count() < 340, "{}", shown.len());
        assert!(shown.ends_with('…'));
        assert_eq!(
            with_reason("the wallet answered 400".into(), &[0xff, 0xfe]),
            "the wallet answered 400"
        );
    }

    #[test]
    fn server_errors_are_retried_and_the_rest_are_not() {
        let answer = |code| {
            classify(
                reqwest::StatusCode::from_u16(code).expect("a status"),
                format!("the wallet answered {code}"),
                b"",
            )
        };
        assert!(matches!(answer(500), Failure::Retry(_)));
        assert!(matches!(answer(503), Failure::Retry(_)));
        assert!(matches!(answer(400), Failure::Refused(_)));
        assert!(matches!(answer(404), Failure::Refused(_)));
        assert!(matches!(answer(302), Failure::Refused(ref why) if why.contains("redirect")));
    }
}

//! Partner authentication (docs/partner-api.md, "Tokens"): OAuth 2.0 client credentials in, opaque
//! bearer tokens out. Tokens expire after an idle period (each accepted request slides it) and at
//! an absolute cap. Only digests of secrets and tokens are stored.

use super::{App, millis};
use crate::domain::partner::Partner;
use crate::domain::scopes::{Scope, Scopes};
use crate::secrets;
use crate::store::StoreError;
use crate::store::partners;

/// RFC 6749 §5.2 errors of the token endpoint.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("client authentication failed: unknown client, wrong secret, or disabled partner")]
    InvalidClient,
    #[error("grant_type must be client_credentials")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    /// Over a rate limit: the text says which.
    #[error("{0}")]
    SlowDown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A newly issued access token.
#[derive(Debug)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u64,
    pub scopes: Scopes,
}

/// Issues a token to a client that proved its secret, for the requested scopes (all it
/// holds when `scope` is absent).
pub async fn issue_token(
    app: &App,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
) -> Result<IssuedToken, TokenError> {
    let requested = scope
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Scopes::parse);
    let access_token = secrets::new_secret("cc_at_");
    let hash = secrets::digest(&access_token);
    let now = app.clock.now_ms();
    let expires_at = now.saturating_add(millis(app.config.token_max_age));
    // The usual request (a known client, its secret, scopes it holds) is one statement; a
    // refused one is then read again to say why, client before scope.
    let well_formed = match &requested {
        None => Some(None),
        Some(Ok(scopes)) => Some(Some(*scopes)),
        Some(Err(_)) => None,
    };
    if let Some(requested) = well_formed {
        let secret = secrets::digest(client_secret);
        let statement =
            partners::issue_token(&hash, requested, now, expires_at, client_id, &secret);
        let issued = partners::issued_scopes(&app.store.write_one(statement).await?)?;
        if let Some(scopes) = issued {
            return Ok(IssuedToken {
                access_token,
                expires_in: app.config.token_idle.as_secs(),
                scopes,
            });
        }
    }
    let wanted = client_id.to_string();
    let found = app
        .store
        .read(move |conn| partners::by_client_id(conn, &wanted))
        .await?;
    let Some((partner, secret_hash)) = found else {
        return Err(TokenError::InvalidClient);
    };
    if !secrets::matches(client_secret, &secret_hash) || partner.disabled {
        return Err(TokenError::InvalidClient);
    }
    match requested {
        Some(Err(problem)) => Err(TokenError::InvalidScope(problem)),
        Some(Ok(requested)) if !requested.is_subset_of(partner.scopes) => Err(
            TokenError::InvalidScope(format!("this client may request only: {}", partner.scopes)),
        ),
        // The partner changed between the two (a new secret, new scopes, re-enabled): the
        // client is told to try again as a refused client would be.
        _ => Err(TokenError::InvalidClient),
    }
}

/// Why a bearer token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "send an access token: Authorization: Bearer <token> (get one from POST /api/v1/token)"
    )]
    Missing,
    #[error(
        "the access token is unknown or was revoked; request a new one from POST /api/v1/token"
    )]
    Unknown,
    #[error("the access token expired; request a new one from POST /api/v1/token")]
    Expired,
    #[error("this partner is disabled")]
    Disabled,
    #[error("this token lacks the {0:?} scope; request a token with scope {0:?}")]
    InsufficientScope(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A partner proven by a live token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub partner: Partner,
    pub scopes: Scopes,
    pub token_hash: String,
    /// Whether the idle window is stale enough to be worth sliding now.
    pub needs_touch: bool,
}

impl Authenticated {
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope.as_str()))
        }
    }
}

/// Sliding the window costs a write; within this much of the last slide it is skipped.
const TOUCH_GRANULARITY_MS: i64 = 60_000;

pub async fn authenticate(app: &App, bearer: &str) -> Result<Authenticated, AuthError> {
    let hash = secrets::digest(bearer.trim());
    let grant = match app.caches.tokens.get(&hash) {
        Some(grant) => grant,
        None => {
            let read_at = app.caches.tokens.generation();
            let lookup = hash.clone();
            let grant = app
                .store
                .read(move |conn| partners::token(conn, &lookup))
                .await?
                .ok_or(AuthError::Unknown)?;
            // A partner disabled (or a secret rotated) while this read ran must not leave
            // the grant it revoked in the cache.
            app.caches
                .tokens
                .put_unless_cleared_since(read_at, hash.clone(), grant.clone());
            grant
        }
    };
    let now = app.clock.now_ms();
    let idle = millis(app.config.token_idle);
    if now >= grant.expires_at || now - grant.last_used_at >= idle {
        return Err(AuthError::Expired);
    }
    if grant.partner.disabled {
        return Err(AuthError::Disabled);
    }
    Ok(Authenticated {
        partner: grant.partner,
        scopes: grant.scopes,
        token_hash: hash,
        needs_touch: now - grant.last_used_at >= TOUCH_GRANULARITY_MS,
    })
}

/// Slides the idle window after an accepted request (a no-op when it was slid recently).
pub async fn touch(app: &App, auth: &Authenticated) -> Result<(), StoreError> {
    if !auth.needs_touch {
        return Ok(());
    }
    let hash = auth.token_hash.clone();
    let now = app.clock.now_ms();
    app.store
        .write(move |conn| partners::touch_token(conn, &hash, now))
        .await?;
    touched(app, auth, now);
    Ok(())
}

/// Records, in the token cache, a slide of the idle window that was written to the store.
pub fn touched(app: &App, auth: &Authenticated, now: i64) {
    app.caches
        .tokens
        .update(&auth.token_hash, |grant| grant.last_used_at = now);
}

//! Sharing a resume: the person makes a link (and can replace or end it); whoever holds the
//! link sees the resume as an employer would, with each credential's proofs checked again
//! when the last check is older than `verification_ttl`.

use super::App;
use super::resume::{self, Resume};
use crate::secrets;
use crate::store::{StoreError, sharing};

/// The secret part of share links starts with this, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "r_";

/// Makes a new share link for the person (the old one stops working) and returns its token,
/// which is never stored and so cannot be shown again.
pub async fn create(app: &App, user_id: &str) -> Result<String, StoreError> {
    let token = secrets::new_secret(TOKEN_PREFIX);
    let (user, link, digest, now) = (
        user_id.to_string(),
        token.clone(),
        secrets::digest(&token),
        app.clock.now_ms(),
    );
    app.store
        .write(move |conn| sharing::replace(conn, &user, &link, &digest, now))
        .await?;
    Ok(token)
}

/// The person's share link token, made when they have none (exports print it as a QR
/// code). Asking twice gives the same link; a link made before links were kept is replaced.
pub async fn current_or_new(app: &App, user_id: &str) -> Result<String, StoreError> {
    let user = user_id.to_string();
    let fresh = secrets::new_secret(TOKEN_PREFIX);
    let (digest, now) = (secrets::digest(&fresh), app.clock.now_ms());
    app.store
        .write(move |conn| match sharing::token(conn, &user)? {
            Some(Some(existing)) => Ok(existing),
            _ => {
                sharing::replace(conn, &user, &fresh, &digest, now)?;
                Ok(fresh)
            }
        })
        .await
}

/// Whose resume a share link opens (no re-check of proofs): `None` for an unknown or ended
/// link.
pub async fn owner(app: &App, token: &str) -> Result<Option<String>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let digest = secrets::digest(token);
    app.store
        .read(move |conn| sharing::owner(conn, &digest))
        .await
}

/// Ends the person's share link; false when there was none.
pub async fn stop(app: &App, user_id: &str) -> Result<bool, StoreError> {
    let user = user_id.to_string();
    app.store
        .write(move |conn| sharing::stop(conn, &user))
        .await
}

/// The resume a share link opens, its stale verifications checked again first; `None` for
/// an unknown or ended link. A failure to re-check keeps the stored states.
pub async fn open(app: &App, token: &str) -> Result<Option<Resume>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let digest = secrets::digest(token);
    let Some(owner) = app
        .store
        .read(move |conn| sharing::owner(conn, &digest))
        .await?
    else {
        return Ok(None);
    };
    if let Err(error) = super::verification::recheck_owned(app, &owner).await {
        tracing::warn!(%error, "re-checking a shared resume's credentials failed");
    }
    resume::load(app, &owner).await
}

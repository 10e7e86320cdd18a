//! Sharing a resume: the person makes a link (and can replace or end it); whoever holds the
//! link sees the resume as an employer would, with each credential's proofs checked again
//! when the last check is older than `verification_ttl`. Each opening is counted for the
//! person (`services::viewers`), except their own.

use super::resume::{self, Resume};
use super::{App, deployment_keys, viewers};
use crate::domain::account::User;
use crate::domain::viewing::Opener;
use crate::secrets;
use crate::store::{StoreError, sharing};

/// The secret part of share links starts with this, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "r_";

/// Makes a new share link for the person (the old one stops working) and returns its token.
pub async fn create(app: &App, user_id: &str) -> Result<String, StoreError> {
    let key = deployment_keys::share_links(app)?;
    let nonce = secrets::new_secret("");
    let token = derive(&key, &nonce);
    let (user, digest, now) = (
        user_id.to_string(),
        secrets::digest(&token),
        app.clock.now_ms(),
    );
    app.store
        .write(move |conn| sharing::replace(conn, &user, &nonce, &digest, now))
        .await?;
    Ok(token)
}

/// The person's share link token, made when they have none (exports print it as a QR
/// code). Asking twice gives the same link. The token is never stored: the row keeps a
/// random nonce and the token's digest, and the token is derived again from the nonce with
/// the deployment's link key, a file beside the signing key, so a copy of the database
/// alone opens no resume. A link made before links could be derived again (or under
/// another link key) is replaced.
pub async fn current_or_new(app: &App, user_id: &str) -> Result<String, StoreError> {
    let key = deployment_keys::share_links(app)?;
    let user = user_id.to_string();
    let fresh_nonce = secrets::new_secret("");
    let fresh = derive(&key, &fresh_nonce);
    let (fresh_digest, now) = (secrets::digest(&fresh), app.clock.now_ms());
    app.store
        .write(move |conn| {
            if let Some((Some(nonce), digest)) = sharing::current(conn, &user)? {
                let token = derive(&key, &nonce);
                if secrets::digest(&token) == digest {
                    return Ok(token);
                }
            }
            sharing::replace(conn, &user, &fresh_nonce, &fresh_digest, now)?;
            Ok(fresh)
        })
        .await
}

/// The person's current share link token, so their resume page can show it again while it
/// works; nothing is made. `None` when they have none, or when it was made before links
/// could be derived again (or under another link key): only a new link can be shown.
///
/// Showing the link again needs no copy of it at rest: the row's nonce and the link key (a
/// file outside the database) give the token back, as they do for the PDF's QR code, so the
/// database alone still opens no resume and lookups stay by digest.
pub async fn current(app: &App, user_id: &str) -> Result<Option<String>, StoreError> {
    let user = user_id.to_string();
    let Some((Some(nonce), digest)) = app
        .store
        .read(move |conn| sharing::current(conn, &user))
        .await?
    else {
        return Ok(None);
    };
    let token = derive(&deployment_keys::share_links(app)?, &nonce);
    Ok((secrets::digest(&token) == digest).then_some(token))
}

/// A share link's token from its nonce: HMAC-SHA256 under the link key, in base64url.
fn derive(key: &[u8; 32], nonce: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(nonce.as_bytes());
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
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

/// The resume a share link opens for `who` (the signed-in account, if any), its stale
/// verifications checked again first; `None` for an unknown or ended link. A failure to
/// re-check keeps the stored states. The opening is counted (one upsert), unless `who` is
/// the owner; a viewer account's is also recorded by name.
pub async fn open(
    app: &App,
    token: &str,
    who: Option<&User>,
) -> Result<Option<Resume>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let digest = secrets::digest(token);
    let lookup = digest.clone();
    let Some(owner) = app
        .store
        .read(move |conn| sharing::owner(conn, &lookup))
        .await?
    else {
        return Ok(None);
    };
    let opener = Opener::of(&owner, who.map(|u| (u.id.as_str(), u.is_viewer())));
    viewers::count_open(app, &digest, &opener).await?;
    if let Err(error) = super::verification::recheck_owned(app, &owner).await {
        tracing::warn!(%error, "re-checking a shared resume's credentials failed");
    }
    resume::load(app, &owner).await
}

/// The token of the share link with this digest, derived again from its row's nonce;
/// `None` once the link is gone (or cannot be derived again).
pub async fn token_of_link(app: &App, digest: &str) -> Result<Option<String>, StoreError> {
    let lookup = digest.to_string();
    let Some(Some(nonce)) = app
        .store
        .read(move |conn| sharing::nonce_of(conn, &lookup))
        .await?
    else {
        return Ok(None);
    };
    token_from(app, &nonce, digest)
}

/// The token a link row's nonce gives under the link key, when it is the row's (its digest
/// matches).
pub fn token_from(app: &App, nonce: &str, digest: &str) -> Result<Option<String>, StoreError> {
    let token = derive(&deployment_keys::share_links(app)?, nonce);
    Ok((secrets::digest(&token) == digest).then_some(token))
}

/// The digest a share link is known by, or `None` for text that is not a share link.
pub fn digest_of(token: &str) -> Option<String> {
    token
        .starts_with(TOKEN_PREFIX)
        .then(|| secrets::digest(token))
}

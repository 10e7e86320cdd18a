//! Claiming a package: the link a partner sends, and the import inbox. The
//! chosen credentials and skills go on the person's resume; one assertion has one owner.

use super::App;
use crate::domain::claim_token::ClaimToken;
use crate::store::marketplaces::{self, Landing};
use crate::store::resume::{self, ClaimRefusal, Claimed, PackageContents};
use crate::store::{StoreError, holding};

/// What a claim link shows to whoever opens it.
#[derive(Debug)]
pub enum ClaimPage {
    /// Unknown, mistyped or expired.
    NotFound,
    /// Another person claimed it.
    TakenByOther,
    /// This person claimed it already.
    Yours,
    Open {
        contents: Box<PackageContents>,
        /// Opened by a one-time link from the activation page (`contents.expires_at` is then
        /// the link's expiry).
        one_time: bool,
        /// The marketplace whose landing the sign-up shows (see `store::marketplaces`);
        /// looked up for visitors who are not signed in, the only ones who see it.
        landing: Option<Landing>,
    },
}

/// Checks the package's proofs again when their last check is older than the configured TTL,
/// so a revocation since upload shows; a failure to re-check keeps the stored state.
pub async fn recheck(app: &App, claim_token: &str) {
    let now = app.clock.now_ms();
    let token = claim_token.to_string();
    let package = app
        .store
        .read(move |conn| holding::package_opened_by(conn, &ClaimToken::parse(&token), now))
        .await;
    if let Ok(Some((package, _))) = package
        && let Err(error) = super::verification::recheck_package(app, &package).await
    {
        tracing::warn!(%error, "re-checking verification failed");
    }
}

pub async fn open(
    app: &App,
    claim_token: &str,
    viewer: Option<&str>,
) -> Result<ClaimPage, StoreError> {
    let now = app.clock.now_ms();
    let (token, viewer) = (claim_token.to_string(), viewer.map(str::to_string));
    app.store
        .read(move |conn| {
            let token = ClaimToken::parse(&token);
            let Some((package_id, link_expires)) = holding::package_opened_by(conn, &token, now)?
            else {
                return Ok(ClaimPage::NotFound);
            };
            let Some(mut contents) =
                resume::package_contents(conn, &package_id, viewer.as_deref())?
            else {
                return Ok(ClaimPage::NotFound);
            };
            if let Some(expires) = link_expires {
                contents.expires_at = contents.expires_at.min(expires);
            }
            Ok(match (&contents.claimed_by, &viewer) {
                (Some(owner), Some(viewer)) if owner == viewer => ClaimPage::Yours,
                (Some(_), _) => ClaimPage::TakenByOther,
                _ if contents.inbox_user_id.is_some() && contents.inbox_user_id != viewer => {
                    ClaimPage::TakenByOther
                }
                _ => ClaimPage::Open {
                    landing: if viewer.is_none() {
                        marketplaces::landing_for_package(conn, &package_id)?
                    } else {
                        None
                    },
                    contents: Box::new(contents),
                    one_time: link_expires.is_some(),
                },
            })
        })
        .await
}

/// Claims through a claim link (a one-time link is used up by a successful claim).
pub async fn claim_link(
    app: &App,
    claim_token: &str,
    user_id: &str,
    credentials: Vec<String>,
    skills: Vec<String>,
) -> Result<Result<Claimed, ClaimRefusal>, StoreError> {
    let now = app.clock.now_ms();
    let (token, user) = (claim_token.to_string(), user_id.to_string());
    app.store
        .write(move |conn| {
            let token = ClaimToken::parse(&token);
            let Some((package_id, _)) = holding::package_opened_by(conn, &token, now)? else {
                return Ok(Err(ClaimRefusal::Expired));
            };
            let outcome = resume::claim(conn, &package_id, &user, &credentials, &skills, now)?;
            if outcome.is_ok() {
                holding::spend_claim_token(conn, &token, now)?;
            }
            Ok(outcome)
        })
        .await
}

/// The person's import inbox: packages delivered to them, waiting for a choice.
pub async fn inbox(app: &App, user_id: &str) -> Result<Vec<PackageContents>, StoreError> {
    let user = user_id.to_string();
    app.store
        .read(move |conn| {
            let mut packages = Vec::new();
            for id in resume::inbox(conn, &user)? {
                if let Some(contents) = resume::package_contents(conn, &id, Some(&user))? {
                    packages.push(contents);
                }
            }
            Ok(packages)
        })
        .await
}

/// Adds the chosen items of an inbox package.
pub async fn claim_from_inbox(
    app: &App,
    package_id: &str,
    user_id: &str,
    credentials: Vec<String>,
    skills: Vec<String>,
) -> Result<Result<Claimed, ClaimRefusal>, StoreError> {
    let now = app.clock.now_ms();
    let (package, user) = (package_id.to_string(), user_id.to_string());
    app.store
        .write(move |conn| {
            if !resume::inbox(conn, &user)?.contains(&package) {
                return Ok(Err(ClaimRefusal::NotYours));
            }
            resume::claim(conn, &package, &user, &credentials, &skills, now)
        })
        .await
}

/// Who sent a package the person has closed from their inbox (see [`resume::closed_from`]).
pub async fn dismissed_from(
    app: &App,
    package_id: &str,
    user_id: &str,
) -> Result<Option<String>, StoreError> {
    let (package, user) = (package_id.to_string(), user_id.to_string());
    app.store
        .read(move |conn| resume::closed_from(conn, &package, &user))
        .await
}

pub async fn dismiss(app: &App, package_id: &str, user_id: &str) -> Result<bool, StoreError> {
    let now = app.clock.now_ms();
    let (package, user) = (package_id.to_string(), user_id.to_string());
    app.store
        .write(move |conn| resume::dismiss(conn, &package, &user, now))
        .await
}

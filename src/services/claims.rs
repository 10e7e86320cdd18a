//! Claiming a package: the link a partner sends, and the import inbox. The
//! chosen credentials and skills go on the person's resume; one assertion has one owner.

use super::App;
use crate::domain::claim_token::ClaimToken;
use crate::domain::marketplace::Landing;
use crate::domain::offer::{ClaimRefusal, Claimed, PackageContents};
use crate::secrets;
use crate::store::marketplaces;
use crate::store::resume;
use crate::store::{Conn, StoreError, holding, outbox, recipient_confirmations, users};

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
                // A one-time link was mailed to the recipient address itself.
                contents.unconfirmed_recipient = None;
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
            let Some((package_id, one_time)) = holding::package_opened_by(conn, &token, now)?
            else {
                return Ok(Err(ClaimRefusal::Expired));
            };
            if one_time.is_some() {
                // The activation page mails its one-time links to the recipient address only:
                // opening one proves that address as a code would.
                recipient_confirmations::require(conn, &package_id, &user, now)?;
                recipient_confirmations::confirm(conn, &package_id, &user, now)?;
            }
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

/// How long a code sent to a recipient address works.
const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// Wrong codes tried before the live code is used up: with 10^6 codes, five tries give a
/// guesser one chance in 200,000 per code.
const WRONG_CODES: i64 = 5;
/// Codes sent per (package, person) in a day: bounds both the mail a recipient gets and the
/// guesses anyone can make (25 a day).
const CODES_PER_DAY: i64 = 5;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// What asking for a code did.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeSent {
    /// Sent to the address; the package id names the page to enter it on.
    Sent { package_id: String },
    /// Nothing to confirm: the package can be claimed as it is.
    NotNeeded,
    /// Enough codes went out today.
    TooMany,
    /// Not a package this person may confirm (unknown link, or not theirs to ask about).
    NotFound,
}

/// Sends a code to the recipient address of the package a claim link opens, for `user_id`.
pub async fn send_code_for_link(
    app: &App,
    claim_token: &str,
    user_id: &str,
) -> Result<CodeSent, StoreError> {
    let now = app.clock.now_ms();
    let (token, user) = (claim_token.to_string(), user_id.to_string());
    let base = app.config.public_url.clone();
    app.store
        .write(move |conn| {
            let Some((package_id, _)) =
                holding::package_opened_by(conn, &ClaimToken::parse(&token), now)?
            else {
                return Ok(CodeSent::NotFound);
            };
            send_code_in(conn, &package_id, &user, &base, now, Asker::HoldsTheLink)
        })
        .await
}

/// Sends a new code for a package the person was already asked to confirm.
pub async fn send_code(app: &App, package_id: &str, user_id: &str) -> Result<CodeSent, StoreError> {
    let now = app.clock.now_ms();
    let (package, user) = (package_id.to_string(), user_id.to_string());
    let base = app.config.public_url.clone();
    app.store
        .write(move |conn| send_code_in(conn, &package, &user, &base, now, Asker::AskedBefore))
        .await
}

/// What entitles a person to a code for a package.
#[derive(PartialEq, Eq)]
enum Asker {
    /// They opened the package's claim link: the first code starts the confirmation.
    HoldsTheLink,
    /// Only a confirmation already started (by the link, or at a sign-up from it) does.
    AskedBefore,
}

fn send_code_in(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    base: &str,
    now: i64,
    asker: Asker,
) -> Result<CodeSent, StoreError> {
    let started = recipient_confirmations::get(conn, package_id, user_id)?;
    if started.is_none() && asker == Asker::AskedBefore {
        return Ok(CodeSent::NotFound);
    }
    let Some(contents) = resume::package_contents(conn, package_id, Some(user_id))? else {
        return Ok(CodeSent::NotFound);
    };
    let Some(address) = contents.unconfirmed_recipient else {
        return Ok(CodeSent::NotNeeded);
    };
    let state = match started {
        Some(state) => state,
        None => {
            recipient_confirmations::require(conn, package_id, user_id, now)?;
            recipient_confirmations::Confirmation::default()
        }
    };
    let window_over = state
        .sending_since
        .is_none_or(|since| now - since >= DAY_MS);
    if !window_over && state.codes_sent >= CODES_PER_DAY {
        return Ok(CodeSent::TooMany);
    }
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    recipient_confirmations::set_code(
        conn,
        package_id,
        user_id,
        &secrets::digest(&code_secret(package_id, user_id, &code)),
        now + CODE_LIFETIME_MS,
        window_over.then_some(now),
    )?;
    let account = users::by_id(conn, user_id)?
        .map(|u| u.email)
        .unwrap_or_default();
    let partner = &contents.partner_name;
    outbox::enqueue(
        conn,
        &address,
        &format!("Your code to add credentials from {partner}: {code}"),
        &format!(
            "{partner} sent credentials for this address ({address}). Someone signed in to CredentialConnect as {account} wants to add them to their SmartResume.\n\nIf that is you, enter this code on the page that asked for it: {code}\nIt works for 15 minutes.\n\nIf it is not you, ignore this message: nothing is added without the code. {base}"
        ),
        None,
        now,
    )?;
    Ok(CodeSent::Sent {
        package_id: package_id.to_string(),
    })
}

/// What a code's stored digest is taken of: the code bound to its package and person, so a
/// digest says nothing about any other pair's code.
fn code_secret(package_id: &str, user_id: &str, code: &str) -> String {
    format!("{package_id}:{user_id}:{code}")
}

/// What entering a code did.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeChecked {
    /// The address is confirmed; the package waits in the person's inbox.
    Confirmed,
    /// Not the code; this many tries are left for it.
    Wrong {
        tries_left: i64,
    },
    /// No live code: expired, used up by wrong tries, or never sent.
    NoLiveCode,
    NotFound,
}

/// The page that asks for a code: the address it went to and the partner, while the person
/// has a confirmation to make for the package.
pub async fn code_page(
    app: &App,
    package_id: &str,
    user_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let (package, user) = (package_id.to_string(), user_id.to_string());
    app.store
        .read(move |conn| {
            if recipient_confirmations::get(conn, &package, &user)?.is_none() {
                return Ok(None);
            }
            Ok(
                resume::package_contents(conn, &package, Some(&user))?.and_then(|c| {
                    c.unconfirmed_recipient
                        .map(|address| (address, c.partner_name))
                }),
            )
        })
        .await
}

/// Checks a code; a right one confirms the address and delivers the package to the person's
/// inbox, where they choose what to add.
pub async fn check_code(
    app: &App,
    package_id: &str,
    user_id: &str,
    code: &str,
) -> Result<CodeChecked, StoreError> {
    let now = app.clock.now_ms();
    let (package, user) = (package_id.to_string(), user_id.to_string());
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    app.store
        .write(move |conn| {
            let Some(state) = recipient_confirmations::get(conn, &package, &user)? else {
                return Ok(CodeChecked::NotFound);
            };
            if state.confirmed {
                return Ok(CodeChecked::Confirmed);
            }
            let live = state
                .code_hash
                .filter(|_| state.code_expires_at.is_some_and(|at| now < at));
            let Some(live) = live else {
                return Ok(CodeChecked::NoLiveCode);
            };
            let right = code.len() == 6
                && code.bytes().all(|b| b.is_ascii_digit())
                && secrets::matches(&code_secret(&package, &user, &code), &live);
            if !right {
                recipient_confirmations::wrong_code(conn, &package, &user, WRONG_CODES)?;
                return Ok(match WRONG_CODES - state.wrong_codes - 1 {
                    0 => CodeChecked::NoLiveCode,
                    left => CodeChecked::Wrong { tries_left: left },
                });
            }
            recipient_confirmations::confirm(conn, &package, &user, now)?;
            resume::deliver(conn, &package, &user)?;
            Ok(CodeChecked::Confirmed)
        })
        .await
}

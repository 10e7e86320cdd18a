//! Accounts: a job seeker's sign-up with email verification (an employer's viewer account is
//! made by `services::viewers` with the same pieces), log-in and log-out with server-side
//! sessions, password reset by email. Passwords are hashed with Argon2id on the
//! blocking pool. Sign-up, log-in and reset never reveal whether an email is registered.

use super::{App, millis, viewers};
use crate::domain::account::{Profile, Session, User};
use crate::domain::claim_token::ClaimToken;
use crate::domain::email::{self, EmailAddress};
use crate::forms::FieldError;
use crate::secrets;
use crate::store::outbox::{self, Link};
use crate::store::users::{self, LinkPurpose};
use crate::store::{Conn, StoreError, holding, resume};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the form has problems")]
    Invalid(Vec<FieldError>),
    #[error("too many attempts; wait a few minutes and try again")]
    RateLimited,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn check_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        Err(format!(
            "use at least {MIN_PASSWORD} characters (this one has {length})"
        ))
    } else if length > MAX_PASSWORD {
        Err(format!(
            "use at most {MAX_PASSWORD} characters (this one has {length})"
        ))
    } else {
        Ok(())
    }
}

pub(crate) async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        secrets::fill_random(&mut salt);
        Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| StoreError::Other(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| StoreError::Other(e.to_string()))?
}

/// Checks a password against a stored hash (or against a dummy when there is no account, so
/// both take the same time).
async fn password_matches(password: String, stored: Option<String>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let dummy = DUMMY.get_or_init(|| {
            let mut salt = [0u8; 16];
            secrets::fill_random(&mut salt);
            Argon2::default()
                .hash_password_with_salt(b"no account has this password", &salt)
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        });
        let stored = stored.as_deref().unwrap_or(dummy);
        PasswordHash::new(stored)
            .map(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// What the sign-up form carries.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub profile: Profile,
    /// The claim link the person signed up from: its package is delivered to their import
    /// inbox once the email is confirmed (the token itself is never stored).
    pub claim_token: Option<String>,
}

/// Creates an unverified account and mails a verification link. For an address that already
/// has an account, mails its owner instead; the caller shows the same page either way.
pub async fn sign_up(app: &App, request: SignUp, client: &str) -> Result<(), AccountError> {
    let mut problems = Vec::new();
    let email = EmailAddress::parse(&request.email)
        .map_err(|invalid| problems.push(FieldError::new("email", invalid.to_string())))
        .ok();
    if let Err(message) = check_password(&request.password) {
        problems.push(FieldError::new("password", message));
    }
    if request.profile.given_name.is_none() {
        problems.push(FieldError::new("given_name", "enter your first name"));
    }
    if request.profile.family_name.is_none() {
        problems.push(FieldError::new("family_name", "enter your last name"));
    }
    let Some(email) = email.filter(|_| problems.is_empty()) else {
        return Err(AccountError::Invalid(problems));
    };
    if !app.limiters.sign_up.allow(client) {
        return Err(AccountError::RateLimited);
    }
    let password_hash = hash_password(request.password).await?;
    let now = app.clock.now_ms();
    let base = app.config.public_url.clone();
    let claim = request.claim_token;
    let profile = request.profile;
    app.store
        .write(move |conn| {
            if users::by_email(conn, email.as_str())?.is_some() {
                return mail_existing_owner(conn, &email, &base, now);
            }
            let user_id = users::insert(conn, email.as_str(), &password_hash, &profile, now)?;
            let package = match &claim {
                Some(token) => {
                    let token = ClaimToken::parse(token);
                    let package = holding::package_opened_by(conn, &token, now)?;
                    // The package now travels with the confirmation link: a one-time link
                    // from the activation page has done its work.
                    holding::spend_claim_token(conn, &token, now)?;
                    package.map(|(id, _)| id)
                }
                None => None,
            };
            let next = package.map(|id| format!("package:{id}"));
            mail_confirmation(conn, &email, user_id, next, now)
        })
        .await?;
    Ok(())
}

/// The answer to a sign-up with an address that already has an account: its owner is told,
/// and the page says the same as for a new account.
pub(crate) fn mail_existing_owner(
    conn: &mut dyn Conn,
    email: &EmailAddress,
    base: &str,
    now: i64,
) -> Result<(), StoreError> {
    outbox::enqueue(
        conn,
        email.as_str(),
        "Someone tried to sign up with your email",
        &format!(
            "Someone (perhaps you) tried to create a CredentialConnect account with this address, which already has one.\n\nLog in: {base}/login\nForgot your password? {base}/reset\n\nIf it was not you, you can ignore this message."
        ),
        None,
        now,
    )
}

/// Mails a new account its confirmation link; `next` is where confirming leads (see
/// [`confirm_email`]).
pub(crate) fn mail_confirmation(
    conn: &mut dyn Conn,
    email: &EmailAddress,
    user_id: String,
    next: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    let link = Link::Account {
        purpose: LinkPurpose::Verify,
        user_id,
        next,
    };
    outbox::enqueue(
        conn,
        email.as_str(),
        "Confirm your email for CredentialConnect",
        SIGN_UP_MAIL,
        Some(&link),
        now,
    )
}

/// The confirmation mail of a new account. It says an account was started, because
/// whoever started it may not be the owner of the address: the owner can ignore it (the
/// account cannot be used until the link is opened) or take the account by choosing their
/// own password on the link's page.
const SIGN_UP_MAIL: &str = "Someone, we hope you, started a CredentialConnect account with this address.\n\nTo finish creating it, open this link and enter the password chosen at sign-up:\n{link}\n\nIf you did not start it, you can ignore this message: the account cannot be used until this link is opened. If you want the account for yourself, open the link and choose your own password instead; the one chosen at sign-up then stops working.\n\nThe link works for 48 hours.";

/// Only paths on this site are followed after verification or log-in.
///
/// Control characters are refused too: browsers drop tabs and line breaks from a URL
/// (`/\t/evil.example` is `//evil.example` to them), and no header may carry them.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains(char::is_control)
}

/// A live email link's account (confirmation or reset): what the link's page shows.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub user_id: String,
    pub email: String,
}

/// The account a confirmation link belongs to, while the link is live. Reading it changes
/// nothing: the link's page shows it, and a mail scanner fetching the link uses nothing up.
pub async fn confirmation(app: &App, token: &str) -> Result<Option<Confirmation>, StoreError> {
    link_account(app, token, LinkPurpose::Verify).await
}

/// The account a password reset link belongs to, while the link is live (its page shows
/// whose password it sets).
pub async fn reset_link(app: &App, token: &str) -> Result<Option<Confirmation>, StoreError> {
    link_account(app, token, LinkPurpose::Reset).await
}

async fn link_account(
    app: &App,
    token: &str,
    purpose: LinkPurpose,
) -> Result<Option<Confirmation>, StoreError> {
    let token_hash = secrets::digest(token);
    let now = app.clock.now_ms();
    app.store
        .read(move |conn| {
            let Some(user_id) = users::live_email_token(conn, &token_hash, purpose, now)? else {
                return Ok(None);
            };
            Ok(users::by_id(conn, &user_id)?.map(|user| Confirmation {
                user_id: user.id,
                email: user.email,
            }))
        })
        .await
}

/// How a person confirms their email. The link proves they read the mailbox; it does not
/// prove they chose the password the account was created with: anyone can start an account
/// with someone else's address. So they either give that password, or choose their own,
/// which replaces it.
pub enum Proof {
    /// The password chosen at sign-up.
    Password(String),
    /// A password of their own (they did not sign up, or forgot what they typed).
    NewPassword(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// Confirmed: (user id, where to go next).
    Done { user_id: String, next: String },
    /// Not the password the account was created with: nothing changed.
    WrongPassword,
    /// The link expired or was used.
    DeadLink,
}

/// Uses a confirmation link with its proof: marks the email verified (setting the new
/// password if one was chosen, which ends every session of the account), ends the account's
/// other email links, and delivers the package the person signed up from to their import
/// inbox.
pub async fn confirm_email(
    app: &App,
    token: &str,
    proof: Proof,
    client: &str,
) -> Result<Confirmed, AccountError> {
    let token_hash = secrets::digest(token);
    // (the password hash that was proved, or the new one to set)
    let (proved, new_hash) = match proof {
        Proof::Password(password) => {
            if !app.limiters.log_in_client.allow(client) {
                return Err(AccountError::RateLimited);
            }
            let Some(confirmation) = confirmation(app, token).await? else {
                return Ok(Confirmed::DeadLink);
            };
            let stored = app
                .store
                .read(move |conn| users::password_hash(conn, &confirmation.user_id))
                .await?;
            if password.chars().count() > MAX_PASSWORD
                || !password_matches(password, stored.clone()).await
            {
                return Ok(Confirmed::WrongPassword);
            }
            (stored, None)
        }
        Proof::NewPassword(password) => {
            check_password(&password).map_err(|message| {
                AccountError::Invalid(vec![FieldError::new("new_password", message)])
            })?;
            (None, Some(hash_password(password).await?))
        }
    };
    let now = app.clock.now_ms();
    let confirmed = app
        .store
        .write(move |conn| {
            let Some((user_id, next)) =
                users::use_email_token(conn, &token_hash, LinkPurpose::Verify, now)?
            else {
                return Ok(Confirmed::DeadLink);
            };
            let Some(password_hash) = users::password_hash(conn, &user_id)? else {
                return Ok(Confirmed::DeadLink);
            };
            if let Some(proved) = &proved
                && *proved != password_hash
            {
                // The password changed since it was checked: the check no longer holds,
                // and the link is kept.
                return Err(StoreError::Conflict(
                    "the password changed while it was checked".into(),
                ));
            }
            if let Some(new_hash) = &new_hash {
                users::set_password(conn, &user_id, new_hash, now)?;
                users::delete_sessions_of(conn, &user_id)?;
            }
            users::mark_verified(conn, &user_id, now)?;
            users::end_email_tokens_of(conn, &user_id, now)?;
            if users::by_id(conn, &user_id)?.is_some_and(|user| user.is_viewer()) {
                // A viewer account goes back to the shared resume it signed up from (the
                // link's digest travels with the confirmation link, never the link).
                let back = next.filter(|n| n.starts_with(viewers::BACK_TO_SHARE));
                let next = back.unwrap_or_else(|| "/viewer?welcome=1".to_string());
                return Ok(Confirmed::Done { user_id, next });
            }
            let next = match next.as_deref().and_then(|n| n.strip_prefix("package:")) {
                Some(package_id)
                    if resume::deliver_after_sign_up(conn, package_id, &user_id, now)? =>
                {
                    format!("/inbox/{package_id}?welcome=1")
                }
                _ => "/resume?welcome=1".to_string(),
            };
            Ok(Confirmed::Done { user_id, next })
        })
        .await?;
    Ok(match confirmed {
        Confirmed::Done { user_id, next } if next.starts_with(viewers::BACK_TO_SHARE) => {
            let next = viewers::back_to_resume(app, &next).await?;
            Confirmed::Done { user_id, next }
        }
        other => other,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogIn {
    Ok(String),
    /// Wrong email or password (the two are never told apart).
    Refused,
    /// Right password, email not verified yet: a new link was sent (a few times an hour
    /// at most).
    Unverified,
}

/// How long a browser that signed in is remembered as the account's (its cookie lasts as
/// long; each sign-in renews both).
pub const DEVICE_MEMORY: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// Checks an email and password.
///
/// Failed attempts slow an attacker without locking the owner out:
/// - every attempt counts against the client address (30 a minute), which bounds the
///   password hashing one address can cause;
/// - failures count per (email, client address): ten in 15 minutes close that pair, so a
///   guesser at one address is stopped there while the owner elsewhere is not affected;
/// - failures count per email from everywhere: fifty in an hour close the account to every
///   browser that has never signed in to it, so guessing from many addresses is slowed too;
/// - a browser that has signed in to the account before (`device`, the token of its
///   device cookie) is not subject to those two; it has its own limit of ten failures in 15
///   minutes, so a stolen cookie buys no more guesses. The owner's own browser, and the
///   reset link in their mailbox (which signs them in), stay open whatever others try.
///
/// A closed limit answers before the password is checked, the same whether it is right or
/// wrong.
pub async fn log_in(
    app: &App,
    email: &str,
    password: &str,
    client: &str,
    device: Option<&str>,
) -> Result<LogIn, AccountError> {
    // Not parsed: a log-in looks the address up as typed (normalised), and an address that
    // could never be valid is simply one without an account.
    let email = email::normalise(email);
    let limits = &app.limiters;
    if !limits.log_in_client.allow(client) {
        return Err(AccountError::RateLimited);
    }
    let wanted = email.clone();
    let device_hash = device.map(secrets::digest);
    let lookup = device_hash.clone();
    let (user, known_device) = app
        .store
        .read(move |conn| {
            let user = users::by_email_with_password(conn, &wanted)?;
            let known = match (&user, &lookup) {
                (Some((user, _)), Some(hash)) => users::is_known_device(conn, hash, &user.id)?,
                _ => false,
            };
            Ok((user, known))
        })
        .await?;
    // (email, address) as one key: an email has no control characters.
    let here = format!("{email}\u{0}{client}");
    let closed = match (&device_hash, known_device) {
        (Some(device), true) => limits.log_in_failures_device.is_over(device),
        _ => {
            limits.log_in_failures_here.is_over(&here)
                || limits.log_in_failures_everywhere.is_over(&email)
        }
    };
    if closed {
        return Err(AccountError::RateLimited);
    }
    let matches = password.chars().count() <= MAX_PASSWORD
        && password_matches(
            password.to_string(),
            user.as_ref().map(|(_, hash)| hash.clone()),
        )
        .await;
    match user.map(|(user, _)| user) {
        Some(user) if matches && user.verified => Ok(LogIn::Ok(user.id)),
        Some(user) if matches => {
            // Whoever knows the password may not own the address (see `confirm_email`):
            // their log-ins must not flood the owner's mailbox.
            if limits.confirmation_mail.allow(&user.email) {
                resend_verification(app, &user.id, &user.email).await?;
            }
            Ok(LogIn::Unverified)
        }
        refused => {
            match (&device_hash, known_device) {
                (Some(device), true) => limits.log_in_failures_device.record(device),
                _ => {
                    limits.log_in_failures_here.record(&here);
                    limits.log_in_failures_everywhere.record(&email);
                }
            }
            if let Some(user) = refused {
                super::admins::record_failed_password(app, &user.id, client).await?;
            }
            Ok(LogIn::Refused)
        }
    }
}

/// Whether `password` is the account's, for actions that ask for it again (erasing the
/// account). Wrong answers count against the address's log-in limit, so this is no way around
/// it; a closed limit answers `RateLimited` before the password is checked.
pub async fn password_is(app: &App, user: &User, password: &str) -> Result<bool, AccountError> {
    let limits = &app.limiters;
    if limits.log_in_failures_everywhere.is_over(&user.email) {
        return Err(AccountError::RateLimited);
    }
    let id = user.id.clone();
    let stored = app
        .store
        .read(move |conn| users::password_hash(conn, &id))
        .await?;
    let matches = password.chars().count() <= MAX_PASSWORD
        && password_matches(password.to_string(), stored).await;
    if !matches {
        limits.log_in_failures_everywhere.record(&user.email);
    }
    Ok(matches)
}

/// Remembers the browser that just signed in to `user_id` (for [`log_in`]'s limits), and
/// returns the device token its cookie is to hold (renewed): the one it has, so one browser
/// can be known to several accounts, or a new one.
pub async fn remember_device(
    app: &App,
    user_id: &str,
    current: Option<&str>,
) -> Result<String, StoreError> {
    let token = current
        .filter(|token| !token.is_empty() && token.len() <= 100)
        .map_or_else(|| secrets::new_secret(""), str::to_string);
    let digest = secrets::digest(&token);
    let (user_id, now) = (user_id.to_string(), app.clock.now_ms());
    app.store
        .write(move |conn| users::remember_device(conn, &digest, &user_id, now))
        .await?;
    Ok(token)
}

async fn resend_verification(app: &App, user_id: &str, email: &str) -> Result<(), StoreError> {
    let now = app.clock.now_ms();
    let link = Link::Account {
        purpose: LinkPurpose::Verify,
        user_id: user_id.to_string(),
        next: None,
    };
    let email = email.to_string();
    app.store
        .write(move |conn| {
            outbox::enqueue(
                conn,
                &email,
                "Confirm your email for CredentialConnect",
                SIGN_UP_MAIL,
                Some(&link),
                now,
            )
        })
        .await
}

/// A new session for a person who just proved who they are: (cookie value, CSRF token).
pub async fn start_session(app: &App, user_id: &str) -> Result<(String, String), StoreError> {
    let cookie = secrets::new_secret("");
    let csrf = secrets::new_secret("");
    let id_hash = secrets::digest(&cookie);
    let now = app.clock.now_ms();
    // An absolute cap of 30 days; the idle limit is checked on each request.
    let expires = now + 30 * 24 * 3600 * 1000;
    let (user_id, csrf_for_store) = (user_id.to_string(), csrf.clone());
    app.store
        .write(move |conn| {
            users::insert_session(conn, &id_hash, &user_id, &csrf_for_store, now, expires)
        })
        .await?;
    Ok((cookie, csrf))
}

/// The session a cookie names, if it is live; slides its idle window now and then.
pub async fn session(app: &App, cookie: &str) -> Result<Option<Session>, StoreError> {
    let id_hash = secrets::digest(cookie);
    let now = app.clock.now_ms();
    let idle = millis(app.config.session_idle);
    let lookup = id_hash.clone();
    let Some(session) = app
        .store
        .read(move |conn| users::session(conn, &lookup, now, idle))
        .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at > 60_000 {
        app.store
            .write(move |conn| users::touch_session(conn, &id_hash, now))
            .await?;
    }
    Ok(Some(session))
}

/// The session a cookie names and its person, if both are live.
pub async fn signed_in(app: &App, cookie: &str) -> Result<Option<(Session, User)>, StoreError> {
    let Some(session) = session(app, cookie).await? else {
        return Ok(None);
    };
    let user_id = session.user_id.clone();
    let user = app
        .store
        .read(move |conn| users::by_id(conn, &user_id))
        .await?;
    Ok(user.map(|user| (session, user)))
}

pub async fn end_session(app: &App, cookie: &str) -> Result<(), StoreError> {
    let id_hash = secrets::digest(cookie);
    app.store
        .write(move |conn| users::delete_session(conn, &id_hash))
        .await
}

/// Mails a reset link if the address has an account; says nothing either way.
pub async fn request_reset(app: &App, email: &str, client: &str) -> Result<(), AccountError> {
    let email = EmailAddress::parse(email).map_err(|invalid| {
        AccountError::Invalid(vec![FieldError::new("email", invalid.to_string())])
    })?;
    if !app.limiters.reset_client.allow(client) || !app.limiters.reset_email.allow(email.as_str()) {
        return Err(AccountError::RateLimited);
    }
    let now = app.clock.now_ms();
    app.store
        .write(move |conn| {
            if let Some(user) = users::by_email(conn, email.as_str())? {
                let link = Link::Account {
                    purpose: LinkPurpose::Reset,
                    user_id: user.id,
                    next: None,
                };
                outbox::enqueue(
                    conn,
                    email.as_str(),
                    "Reset your CredentialConnect password",
                    "Someone (perhaps you) asked to reset the password of your CredentialConnect account.\n\nChoose a new password: {link}\n\nThe link works for one hour. If it was not you, ignore this message: your password is unchanged.",
                    Some(&link),
                    now,
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Sets a new password with a reset link; ends every session of the account and every other
/// outstanding email link. Returns the user id, or `None` when the link is not live.
/// Sets the password a reset link was sent for, and returns the account and where the link
/// leads afterwards (a local path, when it was made with one).
pub async fn reset_password(
    app: &App,
    token: &str,
    password: &str,
) -> Result<Option<(String, Option<String>)>, AccountError> {
    check_password(password)
        .map_err(|message| AccountError::Invalid(vec![FieldError::new("password", message)]))?;
    let password_hash = hash_password(password.to_string()).await?;
    let token_hash = secrets::digest(token);
    let now = app.clock.now_ms();
    Ok(app
        .store
        .write(move |conn| {
            let Some((user_id, next)) =
                users::use_email_token(conn, &token_hash, LinkPurpose::Reset, now)?
            else {
                return Ok(None);
            };
            users::set_password(conn, &user_id, &password_hash, now)?;
            users::mark_verified(conn, &user_id, now)?;
            users::delete_sessions_of(conn, &user_id)?;
            // Older reset mails (and confirmation links, which can set a password too) stop
            // working: a mailbox read later must not reset the new password.
            users::end_email_tokens_of(conn, &user_id, now)?;
            Ok(Some((user_id, next)))
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_of_1_and_1000_characters_are_refused() {
        assert!(
            check_password("x")
                .expect_err("short")
                .contains("at least 8")
        );
        assert!(
            check_password(&"x".repeat(1000))
                .expect_err("long")
                .contains("at most 128")
        );
        assert!(check_password("correct horse").is_ok());
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert!(is_local_path("/createmyresume/abc"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        for control in [
            "/\t/evil.example",
            "/\n/x",
            "/\r",
            "/\u{0}",
            "/\u{7f}",
            "/\u{85}",
        ] {
            assert!(!is_local_path(control), "{control:?}");
        }
    }
}

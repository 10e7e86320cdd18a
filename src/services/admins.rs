//! Admin accounts: made by the operator (`credentialconnect admin create`), signed in like
//! anyone else, and let into `/admin` only after a second factor in each session: a TOTP code
//! from their authenticator, each code accepted once, or a one-time recovery code. Every
//! admin sign-in, failed or not, is in the audit log with the address it came from.

use super::{App, deployment_keys};
use crate::domain::account::{Profile, User};
use crate::domain::audit::{Action, Actor, Subject};
use crate::domain::email::EmailAddress;
use crate::domain::second_factor::{self, RECOVERY_CODES};
use crate::secrets;
use crate::store::admins::{self, AdminRow};
use crate::store::users::{self, LinkPurpose};
use crate::store::{StoreError, audit};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new admin, or an admin given a new link.
#[derive(Debug, serde::Serialize)]
pub struct Created {
    pub email: String,
    /// Opens a page that sets the account's password and signs in (24 hours, once).
    pub set_password_link: String,
    /// Whether the account was made now (otherwise an existing account became an admin, or
    /// an admin got a new link).
    pub new_account: bool,
}

/// How long the set-password link works.
const LINK_LIFETIME_MS: i64 = 24 * 3600 * 1000;

fn secret_context(user_id: &str) -> String {
    format!("admin-totp:{user_id}")
}

/// Makes the account of `email` an admin (making the account if there is none) and returns a
/// one-time link that sets its password. An admin whose authenticator is not set up yet gets
/// a new secret; one that is set up keeps it.
pub async fn create(app: &App, actor: &Actor, email: &str) -> Result<Created, AdminError> {
    let address = EmailAddress::parse(email)
        .map_err(|e| AdminError::Invalid(format!("--email {email:?}: {e}")))?;
    let email = address.as_str().to_string();
    let token = secrets::new_secret("");
    let token_hash = secrets::digest(&token);
    let now = app.clock.now_ms();
    let (actor, wanted, keys) = (actor.clone(), email.clone(), app.clone());
    let new_account = app
        .store
        .write(move |conn| {
            let (user_id, new_account) = match users::by_email(conn, &wanted)? {
                Some(user) => (user.id, false),
                // "!" is no password hash: nothing logs in until the link sets a password.
                None => (
                    users::insert(conn, &wanted, "!", &Profile::default(), now)?,
                    true,
                ),
            };
            // A new secret, sealed to this account; `insert` keeps one already confirmed.
            let sealed = deployment_keys::seal(
                &keys,
                &secret_context(&user_id),
                &secrets::to_hex(&second_factor::new_secret()),
            )?;
            admins::insert(conn, &user_id, &sealed, now)?;
            users::insert_email_token(
                conn,
                &token_hash,
                &user_id,
                LinkPurpose::Reset,
                Some("/admin"),
                now,
                now + LINK_LIFETIME_MS,
            )?;
            audit::append(
                conn,
                &actor,
                Action::AdminCreated,
                Some(&Subject::new("account", &user_id)),
                Some(serde_json::json!({ "new_account": new_account })),
                now,
            )?;
            Ok(new_account)
        })
        .await?;
    Ok(Created {
        email,
        set_password_link: format!(
            "{}/reset/{token}",
            app.config.public_url.trim_end_matches('/')
        ),
        new_account,
    })
}

/// The admin row of an account, if it is an admin's.
pub async fn admin(app: &App, user_id: &str) -> Result<Option<AdminRow>, StoreError> {
    let id = user_id.to_string();
    app.store.read(move |conn| admins::get(conn, &id)).await
}

fn secret_of(app: &App, admin: &AdminRow) -> Result<Vec<u8>, StoreError> {
    let hex = deployment_keys::open(
        app,
        &secret_context(&admin.user_id),
        &admin.totp_secret_sealed,
    )?;
    hex::decode(hex).map_err(|_| StoreError::Other("an admin's TOTP secret is not hex".into()))
}

/// What the authenticator app is given when the admin sets it up: the secret as text and
/// as an `otpauth://` URI. `None` once it is set up: the secret is never shown again.
pub struct Setup {
    pub secret: String,
    pub otpauth_url: String,
}

pub fn setup(app: &App, admin: &AdminRow, user: &User) -> Result<Option<Setup>, StoreError> {
    if admin.confirmed {
        return Ok(None);
    }
    let secret = secret_of(app, admin)?;
    Ok(Some(Setup {
        secret: second_factor::secret_text(&secret),
        otpauth_url: second_factor::otpauth_url(&secret, &user.email),
    }))
}

/// How a second factor went.
#[derive(Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// The session is through. `recovery_codes` are new ones, shown once, when this code set
    /// the authenticator up.
    Passed { recovery_codes: Option<Vec<String>> },
    /// A wrong code, a code already used, or a recovery code before set-up.
    Refused,
    /// Too many wrong codes for this admin: wait.
    RateLimited,
}

/// Checks a TOTP or recovery code for the admin signed in with `session_cookie`, from
/// `client`; passes the session when it is right. Recorded in the audit log either way.
pub async fn check(
    app: &App,
    admin: &AdminRow,
    session_cookie: &str,
    code: &str,
    client: &str,
) -> Result<SecondFactor, StoreError> {
    let limit_key = format!("second-factor\u{0}{}", admin.user_id);
    let limiter = &app.limiters.log_in_failures_everywhere;
    if limiter.is_over(&limit_key) {
        return Ok(SecondFactor::RateLimited);
    }
    let now = app.clock.now_ms();
    let secret = secret_of(app, admin)?;
    let step = second_factor::matching_step(&secret, code, u64::try_from(now / 1000).unwrap_or(0));
    let recovery = second_factor::normalise_recovery_code(code);
    let fresh_codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| second_factor::new_recovery_code())
        .collect();
    let fresh_hashes: Vec<String> = fresh_codes
        .iter()
        .map(|c| secrets::digest(&second_factor::normalise_recovery_code(c)))
        .collect();
    let session_hash = secrets::digest(session_cookie);
    let (actor, confirmed, user_id) = (
        Actor::admin(&admin.user_id, client),
        admin.confirmed,
        admin.user_id.clone(),
    );
    let outcome = app
        .store
        .write(move |conn| {
            let subject = Subject::new("account", &user_id);
            let passed = match step {
                Some(step) => admins::accept_step(
                    conn,
                    &user_id,
                    i64::try_from(step).unwrap_or(i64::MAX),
                    now,
                )?
                .then_some(Action::AdminSignedIn),
                None if confirmed && !recovery.is_empty() => {
                    admins::use_recovery_code(conn, &user_id, &secrets::digest(&recovery), now)?
                        .then_some(Action::AdminRecoveryCodeUsed)
                }
                None => None,
            };
            let Some(how) = passed else {
                let why = if step.is_some() {
                    "a code already used"
                } else {
                    "a wrong code"
                };
                audit::append(
                    conn,
                    &actor,
                    Action::AdminSignInFailed,
                    Some(&subject),
                    Some(serde_json::json!({ "second_factor": why })),
                    now,
                )?;
                return Ok(SecondFactor::Refused);
            };
            admins::pass_session(conn, &session_hash, now)?;
            let mut recovery_codes = None;
            if !confirmed {
                admins::set_recovery_codes(conn, &user_id, &fresh_hashes)?;
                audit::append(
                    conn,
                    &actor,
                    Action::AdminSecondFactorSetUp,
                    Some(&subject),
                    None,
                    now,
                )?;
                recovery_codes = Some(fresh_codes);
            }
            if how == Action::AdminRecoveryCodeUsed {
                let left = admins::unused_recovery_codes(conn, &user_id)?;
                let detail = serde_json::json!({ "recovery_codes_left": left });
                audit::append(conn, &actor, how, Some(&subject), Some(detail), now)?;
            }
            audit::append(
                conn,
                &actor,
                Action::AdminSignedIn,
                Some(&subject),
                None,
                now,
            )?;
            Ok(SecondFactor::Passed { recovery_codes })
        })
        .await?;
    if outcome == SecondFactor::Refused {
        limiter.record(&limit_key);
    }
    Ok(outcome)
}

/// Records a wrong password for an account, if it is an admin's (people's failed log-ins
/// are counted by the rate limits, not logged).
pub async fn record_failed_password(
    app: &App,
    user_id: &str,
    client: &str,
) -> Result<(), StoreError> {
    let (id, actor, now) = (
        user_id.to_string(),
        Actor::admin(user_id, client),
        app.clock.now_ms(),
    );
    if admin(app, &id).await?.is_none() {
        return Ok(());
    }
    app.store
        .write(move |conn| {
            audit::append(
                conn,
                &actor,
                Action::AdminSignInFailed,
                Some(&Subject::new("account", &id)),
                Some(serde_json::json!({ "password": "wrong" })),
                now,
            )
        })
        .await
}

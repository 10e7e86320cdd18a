//! Viewer accounts and who viewed: an employer makes a free viewer account from a shared
//! resume (confirmed by email, as every account is) and opens each credential's details,
//! checked again as they are opened; the person sees how often their link was opened and
//! which viewer accounts opened what. Counting is one upsert per opening; nothing about the
//! browser is kept.

use super::accounts::{self, AccountError};
use super::{App, sharing, verification};
use crate::domain::account::User;
use crate::domain::email::EmailAddress;
use crate::domain::verification::{self as states, Verification};
use crate::domain::viewing::{
    self, CheckLine, CredentialDetails, OpenedResume, Opener, ShareViews,
};
use crate::forms::FieldError;
use crate::store::{StoreError, sharing as links, users, viewers};
use crate::verify::{Outcome, Report};

/// The most characters a viewer's name or organisation keeps.
pub const MAX_NAME: usize = 200;
/// The resumes a viewer's own page lists.
const RECENT: i64 = 20;

/// A confirmation link's next step for a viewer who signed up from a shared resume: this,
/// then the link's digest (the link itself is never stored).
pub const BACK_TO_SHARE: &str = "share:";

/// Counts one opening of the share link with this digest (the owner's are not counted);
/// a viewer account's is recorded by name too. One write, one or two upserts.
pub async fn count_open(app: &App, digest: &str, opener: &Opener) -> Result<(), StoreError> {
    if !opener.is_counted() {
        return Ok(());
    }
    let (digest, now) = (digest.to_string(), app.clock.now_ms());
    let viewer = opener.viewer().map(str::to_string);
    app.store
        .write(move |conn| {
            viewers::count_view(conn, &digest, viewing::day_of(now))?;
            if let Some(viewer) = &viewer {
                viewers::record_open(conn, &digest, viewer, "", now)?;
            }
            Ok(())
        })
        .await
}

/// Who viewed the person's current share link.
pub async fn views(app: &App, user_id: &str) -> Result<ShareViews, StoreError> {
    let user = user_id.to_string();
    let since = viewing::first_counted_day(viewing::day_of(app.clock.now_ms()));
    app.store
        .read(move |conn| viewers::views_of(conn, &user, since))
        .await
}

/// The resumes a viewer account opened recently (those still shared), with their links.
pub async fn recent(app: &App, viewer_id: &str) -> Result<Vec<OpenedResume>, StoreError> {
    let viewer = viewer_id.to_string();
    let rows = app
        .store
        .read(move |conn| viewers::recent_of_viewer(conn, &viewer, RECENT))
        .await?;
    let mut opened = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(nonce) = row.nonce else { continue };
        if let Some(token) = sharing::token_from(app, &nonce, &row.token_hash)? {
            opened.push(OpenedResume {
                name: row.owner_name,
                last_opened_at: row.last_opened_at,
                token,
            });
        }
    }
    Ok(opened)
}

/// What the viewer sign-up form carries.
#[derive(Debug, Clone, Default)]
pub struct ViewerSignUp {
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub email: String,
    pub password: String,
}

/// Whether a share link opens a resume (the sign-up page is offered only on one).
pub async fn link_works(app: &App, token: &str) -> Result<bool, StoreError> {
    Ok(sharing::owner(app, token).await?.is_some())
}

/// Creates an unverified viewer account from the shared resume `token` opens and mails its
/// confirmation link, which leads back to that resume. As for job seekers, an address that
/// has an account gets a note instead, and the caller shows the same page either way.
/// `Ok(false)` when the link no longer opens a resume.
pub async fn sign_up(
    app: &App,
    token: &str,
    request: ViewerSignUp,
    client: &str,
) -> Result<bool, AccountError> {
    let mut problems = Vec::new();
    if request.name.is_none() {
        problems.push(FieldError::new("name", "enter your name"));
    }
    if request.organisation.is_none() {
        problems.push(FieldError::new(
            "organisation",
            "enter the organisation you view resumes for",
        ));
    }
    let email = EmailAddress::parse(&request.email)
        .map_err(|invalid| problems.push(FieldError::new("email", invalid.to_string())))
        .ok();
    if let Err(message) = accounts::check_password(&request.password) {
        problems.push(FieldError::new("password", message));
    }
    let (Some(email), Some(name), Some(organisation)) = (email, request.name, request.organisation)
    else {
        return Err(AccountError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AccountError::Invalid(problems));
    }
    let Some(digest) = sharing::digest_of(token) else {
        return Ok(false);
    };
    if !app.limiters.sign_up.allow(client) {
        return Err(AccountError::RateLimited);
    }
    let password_hash = accounts::hash_password(request.password).await?;
    let now = app.clock.now_ms();
    let base = app.config.public_url.clone();
    Ok(app
        .store
        .write(move |conn| {
            if links::owner(conn, &digest)?.is_none() {
                return Ok(false);
            }
            if users::by_email(conn, email.as_str())?.is_some() {
                accounts::mail_existing_owner(conn, &email, &base, now)?;
                return Ok(true);
            }
            let user_id = users::insert_viewer(
                conn,
                email.as_str(),
                &password_hash,
                &name,
                &organisation,
                now,
            )?;
            let next = format!("{BACK_TO_SHARE}{digest}");
            accounts::mail_confirmation(conn, &email, user_id, Some(next), now)?;
            Ok(true)
        })
        .await?)
}

/// Where a confirmed viewer goes: back to the shared resume they signed up from, while its
/// link works; their own page otherwise.
pub async fn back_to_resume(app: &App, next: &str) -> Result<String, StoreError> {
    let token = match next.strip_prefix(BACK_TO_SHARE) {
        Some(digest) => sharing::token_of_link(app, digest).await?,
        None => None,
    };
    Ok(token.map_or_else(|| "/viewer?welcome=1".to_string(), |t| format!("/r/{t}")))
}

/// What a viewer asking a credential's details gets.
#[derive(Debug)]
pub enum Details {
    /// The share link does not open a resume (unknown, replaced or stopped).
    NoLink,
    /// The resume has no such credential to show: another person's entry, a hidden or
    /// revoked one, a self-reported one, or no entry at all. All answer alike.
    NotFound,
    /// The viewer account opened more details in the last minute than it may.
    TooMany,
    Found(Box<CredentialDetails>),
}

/// The details of the credential on entry `entry_id` of the resume `token` opens, for the
/// viewer account `viewer`: its proof is checked again now (expiry and revocation as of
/// this moment), and the outcome stored with the viewer's opening in one write.
pub async fn details(
    app: &App,
    token: &str,
    viewer: &User,
    entry_id: &str,
) -> Result<Details, StoreError> {
    let Some(digest) = sharing::digest_of(token) else {
        return Ok(Details::NoLink);
    };
    let (lookup, entry) = (digest.clone(), entry_id.to_string());
    let found = app
        .store
        .read(move |conn| {
            let Some(owner) = links::owner(conn, &lookup)? else {
                return Ok(None);
            };
            let owner_name = users::by_id(conn, &owner)?.map(|u| u.name());
            let shown = viewers::shown_credential(conn, &owner, &entry)?;
            Ok(Some((owner_name.unwrap_or_default(), shown)))
        })
        .await?;
    let Some((owner_name, shown)) = found else {
        return Ok(Details::NoLink);
    };
    let Some(shown) = shown else {
        return Ok(Details::NotFound);
    };
    if !app.limiters.credential_details.allow(&viewer.id) {
        return Ok(Details::TooMany);
    }
    let report = verification::check_now(app, &shown.check).await?;
    let now = app.clock.now_ms();
    // What is stored stands when the check could not finish in time, and for a credential
    // inside a failed CLR (it stays failed with it).
    let decided = match &report {
        Some(report) if !shown.in_failed_clr => Some(states::decide(
            report.state,
            report.reason(),
            shown.check.strict,
        )),
        _ => None,
    };
    let (item, stored, viewer_id, entry) = (
        shown.check.clone(),
        decided.clone(),
        viewer.id.clone(),
        entry_id.to_string(),
    );
    app.store
        .write(move |conn| {
            if let Some(decided) = &stored {
                verification::record_check(conn, &item, decided, now)?;
            }
            viewers::record_open(conn, &digest, &viewer_id, &entry, now)
        })
        .await?;
    let document: serde_json::Value =
        serde_json::from_str(&shown.check.document).unwrap_or_default();
    let (state, reason, checked_at) = match decided {
        Some(Verification { state, reason }) => (state, reason, now),
        None => (
            shown.check.state,
            stored_reason(&shown, report.is_some()),
            now,
        ),
    };
    Ok(Details::Found(Box::new(CredentialDetails {
        owner_name,
        title: shown.title,
        issuer_name: shown.issuer_name,
        issuer_id: shown.issuer_id,
        partner_name: shown.partner_name,
        dates: viewing::dates_of(&document),
        evidence: viewing::evidence_of(&document),
        state,
        reason,
        checks: report.as_ref().map(check_lines).unwrap_or_default(),
        checked_at,
        original: viewing::pretty(&shown.check.document),
        jws: shown.check.jws,
    })))
}

/// Why the stored state stands, when this view did not settle it.
fn stored_reason(shown: &viewers::ShownCredential, checked: bool) -> String {
    if checked {
        // Checked, but inside a CLR whose own proof failed.
        shown.reason.clone()
    } else {
        format!(
            "{} (not checked again now: checking took longer than this page may wait; the result of the last check is shown)",
            shown.reason
        )
    }
}

/// Every check of the verifier's report, its outcome in words.
fn check_lines(report: &Report) -> Vec<CheckLine> {
    report
        .checks
        .iter()
        .map(|check| CheckLine {
            check: check.check.clone(),
            outcome: match check.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed => "failed",
                Outcome::Uncheckable => "could not be checked",
                Outcome::Skipped => "not needed",
            },
            detail: check.detail.clone(),
        })
        .collect()
}

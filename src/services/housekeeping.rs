//! Housekeeping: what can no longer be used is purged — claim links (packages), access
//! tokens, sessions, one-time email and activation links and recipient tokens once they
//! expire (an expired link already answers as an unknown one does) — and delivered mail,
//! ended wallet pushes, the activation page's search records and who viewed a shared resume
//! (daily counts after 90 days, viewer accounts' opens a year after the last) once they are
//! old. It runs once across all instances sharing the
//! database (a lease per job, `store::housekeeping`), every `CC_PURGE_EVERY_SECONDS`.

use super::{App, accounts, millis};
use crate::domain::viewing;
use crate::store::{
    StoreError, activation, holding, housekeeping, outbox, partners, rate_limits, users, viewers,
    wallets,
};
use std::time::Duration;

/// The purge's name in `background_jobs`.
pub const PURGE: &str = "purge";
/// Packages removed per transaction: keeps each commit (and, on SQLite, the writer's time
/// away from requests) short.
const PACKAGE_BATCH: i64 = 1_000;
/// At most this many batches per run; the rest waits for the next run.
const MAX_PACKAGE_BATCHES: usize = 100;
/// How long a run may hold the lease before another instance may assume it died.
const LEASE: Duration = Duration::from_secs(600);
/// Activation links are kept a week past their expiry, so that one opened late still says
/// it was used or expired rather than unknown.
const ACTIVATION_LINK_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The activation page's search records (no personal data) are kept for operators this long.
const SEARCH_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
/// A viewer account's opens of a shared resume are kept this long after the last one.
pub const VIEWER_OPEN_RETENTION: Duration = Duration::from_secs(365 * 24 * 3600);

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub packages: u64,
    pub access_tokens: u64,
    pub sessions: u64,
    pub email_tokens: u64,
    pub recipient_tokens: u64,
    pub mail: u64,
    pub activation_links: u64,
    pub activation_searches: u64,
    pub known_devices: u64,
    /// Rate-limit counts of windows that are over.
    pub rate_limits: u64,
    /// Packages nobody claimed whose recipient block was erased.
    pub unclaimed_recipients: u64,
    /// Wallet pushes that ended (sent or failed) longer ago than delivered mail is kept.
    pub wallet_pushes: u64,
    /// A share link's view counts of days past their retention.
    pub view_days: u64,
    /// Viewer accounts' opens last made longer ago than their retention.
    pub viewer_opens: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.packages
            + self.access_tokens
            + self.sessions
            + self.email_tokens
            + self.recipient_tokens
            + self.mail
            + self.activation_links
            + self.activation_searches
            + self.known_devices
            + self.rate_limits
            + self.unclaimed_recipients
            + self.wallet_pushes
            + self.view_days
            + self.viewer_opens
    }
}

/// Runs the purge if it is due and no other instance is running it; `holder` names this
/// instance. `None` when it was not this instance's turn.
pub async fn purge_if_due(app: &App, holder: &str) -> Result<Option<Purged>, StoreError> {
    let every = millis(app.config.housekeeping.every);
    let now = app.clock.now_ms();
    let me = holder.to_string();
    let started = app
        .store
        .write(move |conn| housekeeping::try_start(conn, PURGE, &me, now, every, millis(LEASE)))
        .await?;
    if !started {
        return Ok(None);
    }
    let purged = purge(app, now).await?;
    let me = holder.to_string();
    let finished = app.clock.now_ms();
    app.store
        .write(move |conn| housekeeping::finish(conn, PURGE, &me, finished))
        .await?;
    Ok(Some(purged))
}

async fn purge(app: &App, now: i64) -> Result<Purged, StoreError> {
    let config = app.config.clone();
    let mut purged = app
        .store
        .write(move |conn| {
            let (view_days, viewer_opens) = viewers::purge(
                conn,
                // The days the person is shown stay; older ones go.
                viewing::first_counted_day(viewing::day_of(now)),
                now - millis(VIEWER_OPEN_RETENTION),
            )?;
            let (activation_links, activation_searches) = activation::purge(
                conn,
                now - millis(ACTIVATION_LINK_GRACE),
                now - millis(SEARCH_RETENTION),
            )?;
            Ok(Purged {
                access_tokens: partners::purge_expired_tokens(
                    conn,
                    now - millis(config.token_idle),
                    now,
                )?,
                sessions: users::purge_expired_sessions(conn, now, millis(config.session_idle))?,
                email_tokens: users::purge_expired_email_tokens(conn, now)?,
                recipient_tokens: holding::purge_expired_recipient_tokens(conn, now)?,
                mail: outbox::purge_delivered(
                    conn,
                    now - millis(config.housekeeping.mail_retention),
                )?,
                activation_links,
                activation_searches,
                known_devices: users::purge_unused_devices(
                    conn,
                    now,
                    millis(accounts::DEVICE_MEMORY),
                )?,
                rate_limits: rate_limits::purge(conn, crate::clock::system_now_ms())?,
                unclaimed_recipients: holding::purge_unclaimed_recipients(
                    conn,
                    now - millis(config.housekeeping.unclaimed_retention),
                )?,
                wallet_pushes: wallets::purge_ended(
                    conn,
                    now - millis(config.housekeeping.mail_retention),
                )?,
                view_days,
                viewer_opens,
                packages: 0,
            })
        })
        .await?;
    for _ in 0..MAX_PACKAGE_BATCHES {
        let removed = app
            .store
            .write(move |conn| holding::purge_expired_packages(conn, now, PACKAGE_BATCH))
            .await?;
        purged.packages += removed;
        if removed < PACKAGE_BATCH.unsigned_abs() {
            break;
        }
    }
    Ok(purged)
}

/// Checks every so often whether the purge is due, until the process ends. Instances check
/// more often than the purge runs, so that one of them starts it soon after it is due.
pub fn spawn(app: App) {
    let every = app.config.housekeeping.every;
    if every.is_zero() {
        tracing::warn!("CC_PURGE_EVERY_SECONDS is 0: nothing expired is ever purged");
        return;
    }
    let holder = crate::store::new_id();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(
            (every / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)),
        );
        loop {
            interval.tick().await;
            match purge_if_due(&app, &holder).await {
                Ok(Some(purged)) if purged.total() > 0 => {
                    tracing::info!(?purged, "purged what had expired");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "purge"),
            }
        }
    });
}

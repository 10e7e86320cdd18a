//! Email: messages are written to the outbox in the same transaction as what caused them;
//! a worker delivers them over SMTP with retries. In test mode only whitelisted addresses
//! get mail; the rest is recorded as suppressed (and logged, without its body).

use super::App;
use crate::domain::claim_token;
use crate::store::activation;
use crate::store::outbox::{self, Link, Mail};
use crate::store::users::{self, LinkPurpose};
use crate::store::{Conn, StoreError};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Queues a message (inside the caller's transaction); `{link}` in the body becomes a fresh
/// one-time link when it is sent.
pub fn queue(
    conn: &mut dyn Conn,
    to: &str,
    subject: &str,
    body: &str,
    link: Option<&Link>,
    now: i64,
) -> Result<(), StoreError> {
    outbox::enqueue(conn, to, subject, body, link, now)
}

/// Makes the message's one-time link now (only its digest is stored) and puts it in the text.
async fn compose(app: &App, mail: &Mail, now: i64) -> Result<String, StoreError> {
    let Some(link) = mail.link.clone() else {
        return Ok(mail.body.clone());
    };
    let base = &app.config.public_url;
    let url = match link {
        Link::Account {
            purpose,
            user_id,
            next,
        } => {
            let token = crate::secrets::new_secret("");
            let digest = crate::secrets::digest(&token);
            let path = match purpose {
                LinkPurpose::Verify => "verify",
                LinkPurpose::Reset => "reset",
            };
            app.store
                .write(move |conn| {
                    users::insert_email_token(
                        conn,
                        &digest,
                        &user_id,
                        purpose,
                        next.as_deref(),
                        now,
                        now + purpose.lifetime_ms(),
                    )
                })
                .await?;
            format!("{base}/{path}/{token}")
        }
        Link::Package { package_id } => {
            let (token, digest) = claim_token::new_one_time_link();
            let expires = claim_token::one_time_link_expiry(now);
            app.store
                .write(move |conn| {
                    activation::insert_link(conn, &digest, &package_id, now, expires)
                })
                .await?;
            // The claim page itself: the link is one more way to open it.
            format!("{base}/createmyresume/{token}")
        }
    };
    Ok(mail.body.replace("{link}", &url))
}

/// How long a worker may hold a message before another may retry it.
const LEASE_MS: i64 = 60_000;

/// Delivers every message that is due, once each; returns how many it handled. Tests call
/// this directly; `spawn_worker` calls it in a loop.
pub async fn deliver_due(app: &App) -> Result<usize, StoreError> {
    let Some(url) = app.config.mail.smtp_url.clone() else {
        return Ok(0);
    };
    let mut handled = 0;
    loop {
        let now = app.clock.now_ms();
        let Some(mail) = app
            .store
            .write(move |conn| outbox::lease_next(conn, now, LEASE_MS))
            .await?
        else {
            return Ok(handled);
        };
        handled += 1;
        let id = mail.id.clone();
        if !super::whitelist::allows(app, &mail.to).await? {
            tracing::info!(subject = %mail.subject, "mail suppressed: test mode and the address is not whitelisted");
            app.store
                .write(move |conn| outbox::mark_suppressed(conn, &id, now))
                .await?;
            continue;
        }
        let body = compose(app, &mail, now).await?;
        match send(&url, &app.config.mail.from, &mail.to, &mail.subject, body).await {
            Ok(()) => {
                let done = app.clock.now_ms();
                app.store
                    .write(move |conn| outbox::mark_sent(conn, &id, done))
                    .await?;
            }
            Err(error) => {
                tracing::warn!(%error, attempts = mail.attempts, "mail delivery failed; will retry");
                let retry_at = now + super::millis(super::retry_delay(mail.attempts));
                app.store
                    .write(move |conn| outbox::mark_failed(conn, &id, &error, retry_at))
                    .await?;
            }
        }
    }
}

async fn send(url: &str, from: &str, to: &str, subject: &str, body: String) -> Result<(), String> {
    if url == "log" {
        tracing::info!(%to, %subject, %body, "mail (development transport: not sent)");
        return Ok(());
    }
    let message = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("CC_MAIL_FROM {from:?}: {e}"))?,
        )
        .to(to.parse().map_err(|e| format!("recipient address: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("CC_SMTP_URL: {e}"))?
        .timeout(Some(Duration::from_secs(10)))
        .build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Delivers mail every few seconds until the process ends.
pub fn spawn_worker(app: App) {
    if app.config.mail.smtp_url.is_none() {
        tracing::warn!("CC_SMTP_URL is not set: email waits in the outbox until it is");
        return;
    }
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(2));
        loop {
            interval.tick().await;
            if let Err(error) = deliver_due(&app).await {
                tracing::warn!(%error, "mail worker");
            }
        }
    });
}

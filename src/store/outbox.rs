//! The mail outbox: messages written in the same transaction as what caused them, delivered
//! later by a worker with retries, so a mail server outage loses nothing. Leases make each
//! message go out once even with several instances polling. A message that carries a
//! one-time link stores only what the link is for; the link itself is made when it is sent.

use super::users::LinkPurpose;
use super::{Conn, StoreError, new_id, params};

/// A one-time link a message carries, made when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// An account's link: email confirmation or password reset.
    Account {
        purpose: LinkPurpose,
        user_id: String,
        /// Where the link leads after it is used (e.g. `package:ID`).
        next: Option<String>,
    },
    /// A package's claim page, for its recipient who searched the activation page.
    Package { package_id: String },
}

/// How a package link is marked in `link_purpose`.
const PACKAGE_LINK: &str = "activation";

impl Link {
    /// (link_purpose, link_user_id, link_next, link_package_id) as stored.
    fn columns(&self) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
        match self {
            Link::Account {
                purpose,
                user_id,
                next,
            } => (
                purpose.as_str(),
                Some(user_id.as_str()),
                next.as_deref(),
                None,
            ),
            Link::Package { package_id } => (PACKAGE_LINK, None, None, Some(package_id.as_str())),
        }
    }
}

/// Queues a message; `body` has `{link}` where `link` goes.
pub fn enqueue(
    conn: &mut dyn Conn,
    to: &str,
    subject: &str,
    body: &str,
    link: Option<&Link>,
    now: i64,
) -> Result<(), StoreError> {
    let (purpose, user_id, next, package_id) = match link.map(Link::columns) {
        Some((purpose, user_id, next, package_id)) => (Some(purpose), user_id, next, package_id),
        None => (None, None, None, None),
    };
    conn.execute(
        "INSERT INTO email_outbox (id, to_address, subject, body, link_purpose, link_user_id, link_next, link_package_id,
             created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        params![
            new_id(),
            to,
            subject,
            body,
            purpose,
            user_id,
            next,
            package_id,
            now
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub link: Option<Link>,
    pub attempts: i64,
}

/// A table of work done one item at a time under a lease, by whichever instance takes it:
/// the mail outbox here, wallet pushes in `wallets`. Each has `id`, `next_attempt_at`,
/// `locked_until` and `attempts`.
pub(super) struct LeasedQueue {
    pub table: &'static str,
    /// The SQL condition of an item still to be done (neither done nor given up).
    pub pending: &'static str,
}

const MAIL: LeasedQueue = LeasedQueue {
    table: "email_outbox",
    pending: "sent_at IS NULL AND suppressed_at IS NULL",
};

/// Takes a lease on the oldest due item of `queue`, if any, and counts the attempt; returns
/// its id. The lease condition is repeated in the UPDATE so that on PostgreSQL a concurrent
/// claimer re-checks it after waiting for the row lock and gets nothing.
pub(super) fn lease_oldest(
    conn: &mut dyn Conn,
    queue: &LeasedQueue,
    now: i64,
    lease_ms: i64,
) -> Result<Option<String>, StoreError> {
    let LeasedQueue { table, pending } = queue;
    let Some(candidate) = conn.query_opt(
        &format!(
            "SELECT id FROM {table} WHERE {pending} AND next_attempt_at <= $1
               AND (locked_until IS NULL OR locked_until < $1)
             ORDER BY next_attempt_at, id LIMIT 1"
        ),
        params![now],
    )?
    else {
        return Ok(None);
    };
    let id = candidate.text(0)?;
    let leased = conn.execute(
        &format!(
            "UPDATE {table} SET locked_until = $1, attempts = attempts + 1
             WHERE id = $2 AND {pending} AND (locked_until IS NULL OR locked_until < $3)"
        ),
        params![now + lease_ms, &id, now],
    )?;
    Ok((leased == 1).then_some(id))
}

/// Takes a lease on the oldest due message, if any (`lease_oldest`).
pub fn lease_next(
    conn: &mut dyn Conn,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Mail>, StoreError> {
    let Some(id) = lease_oldest(conn, &MAIL, now, lease_ms)? else {
        return Ok(None);
    };
    let row = conn.query_one(
        "SELECT to_address, subject, body, attempts, link_purpose, link_user_id, link_next, link_package_id FROM email_outbox
         WHERE id = $1",
        params![&id],
    )?;
    let (purpose, user_id, next, package_id) = (
        row.opt_text(4)?,
        row.opt_text(5)?,
        row.opt_text(6)?,
        row.opt_text(7)?,
    );
    let link = match (purpose.as_deref(), user_id, package_id) {
        (Some(PACKAGE_LINK), _, Some(package_id)) => Some(Link::Package { package_id }),
        (Some(purpose), Some(user_id), _) => {
            LinkPurpose::parse(purpose).map(|purpose| Link::Account {
                purpose,
                user_id,
                next,
            })
        }
        _ => None,
    };
    Ok(Some(Mail {
        id,
        to: row.text(0)?,
        subject: row.text(1)?,
        body: row.text(2)?,
        link,
        attempts: row.int(3)?,
    }))
}

pub fn mark_sent(conn: &mut dyn Conn, id: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE email_outbox SET sent_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2",
        params![now, id],
    )?;
    Ok(())
}

pub fn mark_suppressed(conn: &mut dyn Conn, id: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE email_outbox SET suppressed_at = $1, locked_until = NULL WHERE id = $2",
        params![now, id],
    )?;
    Ok(())
}

pub fn mark_failed(
    conn: &mut dyn Conn,
    id: &str,
    error: &str,
    retry_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE email_outbox SET last_error = $1, next_attempt_at = $2, locked_until = NULL WHERE id = $3",
        params![error, retry_at, id],
    )?;
    Ok(())
}

/// A message as the operator sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub state: &'static str,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// The latest messages, newest first.
pub fn recent(conn: &mut dyn Conn, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = conn.query(
        "SELECT to_address, subject, sent_at, suppressed_at, attempts, last_error, created_at, id FROM email_outbox
         ORDER BY created_at DESC, id DESC LIMIT $1",
        params![limit],
    )?;
    entries(&rows)
}

/// The latest messages test mode held back that no admin acknowledged yet, newest first.
pub fn suppressed(conn: &mut dyn Conn, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = conn.query(
        "SELECT to_address, subject, sent_at, suppressed_at, attempts, last_error, created_at, id FROM email_outbox
         WHERE suppressed_at IS NOT NULL AND acknowledged_at IS NULL ORDER BY suppressed_at DESC, id DESC LIMIT $1",
        params![limit],
    )?;
    entries(&rows)
}

/// How many held-back messages wait to be acknowledged.
pub fn suppressed_count(conn: &mut dyn Conn) -> Result<i64, StoreError> {
    conn.query_one(
        "SELECT COUNT(*) FROM email_outbox WHERE suppressed_at IS NOT NULL AND acknowledged_at IS NULL",
        &[],
    )?
    .int(0)
}

/// Acknowledges a held-back message; false when it is not one waiting.
pub fn acknowledge_suppressed(conn: &mut dyn Conn, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE email_outbox SET acknowledged_at = $1 WHERE id = $2 AND suppressed_at IS NOT NULL AND acknowledged_at IS NULL",
        params![now, id],
    )? == 1)
}

fn entries(rows: &[super::Row]) -> Result<Vec<Entry>, StoreError> {
    rows.iter()
        .map(|row| {
            let state = if row.opt_int(2)?.is_some() {
                "sent"
            } else if row.opt_int(3)?.is_some() {
                "suppressed"
            } else {
                "queued"
            };
            Ok(Entry {
                id: row.text(7)?,
                to: row.text(0)?,
                subject: row.text(1)?,
                state,
                attempts: row.int(4)?,
                last_error: row.opt_text(5)?,
                created_at: row.int(6)?,
            })
        })
        .collect()
}

/// Removes messages sent or suppressed before `cutoff`: they hold people's addresses and
/// are kept only as long as an operator may want to look at them.
pub fn purge_delivered(conn: &mut dyn Conn, cutoff: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM email_outbox WHERE sent_at < $1 OR suppressed_at < $1",
        params![cutoff],
    )
}

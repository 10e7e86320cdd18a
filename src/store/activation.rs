//! The activation page's data: packages found by their lookup keys, the one-time links
//! mailed to a package's recipient, the record of searches, and the start-up step that
//! gives packages stored before the keys existed theirs.

use super::holding::stored_recipient;
use super::{Conn, StoreError, new_id, params};
use crate::domain::package::Recipient;

/// A package a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub package_id: String,
    /// The recipient, for the email address on record.
    pub recipient: Recipient,
}

/// Which of a package's lookup keys a search probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Names + email.
    Email,
    /// Names + student id.
    StudentId,
}

/// Open packages (unexpired, not claimed, not waiting in someone's import inbox) with this
/// lookup key, newest first, at most `limit`: one probe of a partial index.
pub fn packages_with_key(
    conn: &mut dyn Conn,
    kind: KeyKind,
    key: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<Found>, StoreError> {
    let column = match kind {
        KeyKind::Email => "activation_email_key",
        KeyKind::StudentId => "activation_student_key",
    };
    conn.query(
        &format!(
            "SELECT id, recipient FROM packages
             WHERE {column} = $1 AND expires_at > $2 AND claimed_by IS NULL AND inbox_user_id IS NULL
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ),
        params![key, now, limit],
    )?
    .iter()
    .map(|row| {
        Ok(Found {
            package_id: row.text(0)?,
            recipient: stored_recipient(&row.text(1)?),
        })
    })
    .collect()
}

/// Records an accepted search: how many packages it found and how many messages it queued.
pub fn record_search(
    conn: &mut dyn Conn,
    partner_id: &str,
    matched: usize,
    queued: usize,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO activation_searches (id, partner_id, created_at, matched, queued) VALUES ($1, $2, $3, $4, $5)",
        params![new_id(), partner_id, now, matched as i64, queued as i64],
    )?;
    Ok(())
}

/// Stores a new one-time link to a package (its token's digest). It expires at
/// `expires_at` or with the package, whichever comes first.
pub fn insert_link(
    conn: &mut dyn Conn,
    token_hash: &str,
    package_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO activation_links (token_hash, package_id, created_at, expires_at)
         SELECT $1, id, $2, CASE WHEN expires_at < $3 THEN expires_at ELSE $3 END FROM packages WHERE id = $4",
        params![token_hash, now, expires_at, package_id],
    )?;
    Ok(())
}

/// The package a live (unused, unexpired) link opens, and when the link expires.
pub fn link_package(
    conn: &mut dyn Conn,
    token_hash: &str,
    now: i64,
) -> Result<Option<(String, i64)>, StoreError> {
    conn.query_opt(
        "SELECT package_id, expires_at FROM activation_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        params![token_hash, now],
    )?
    .map(|row| Ok((row.text(0)?, row.int(1)?)))
    .transpose()
}

/// Uses up a live link; false when it was not live.
pub fn use_link(conn: &mut dyn Conn, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE activation_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        params![now, token_hash],
    )? == 1)
}

/// A package stored before lookup keys existed, waiting for its keys.
#[derive(Debug, Clone)]
pub struct Unindexed {
    pub package_id: String,
    pub partner_id: String,
    pub recipient: Recipient,
}

/// Up to `limit` packages waiting for their keys.
pub fn unindexed(conn: &mut dyn Conn, limit: i64) -> Result<Vec<Unindexed>, StoreError> {
    conn.query(
        "SELECT b.package_id, b.partner_id, k.recipient FROM activation_backfill b JOIN packages k ON k.id = b.package_id
         ORDER BY b.package_id LIMIT $1",
        params![limit],
    )?
    .iter()
    .map(|row| {
        Ok(Unindexed {
            package_id: row.text(0)?,
            partner_id: row.text(1)?,
            recipient: stored_recipient(&row.text(2)?),
        })
    })
    .collect()
}

/// Gives a package its keys and takes it off the backfill list.
pub fn set_keys(
    conn: &mut dyn Conn,
    package_id: &str,
    email_key: Option<&str>,
    student_key: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE packages SET activation_email_key = $1, activation_student_key = $2 WHERE id = $3",
        params![email_key, student_key, package_id],
    )?;
    conn.execute(
        "DELETE FROM activation_backfill WHERE package_id = $1",
        params![package_id],
    )?;
    Ok(())
}

/// Forgets links that expired before `links_before` and searches older than
/// `searches_before`; returns how many of each.
pub fn purge(
    conn: &mut dyn Conn,
    links_before: i64,
    searches_before: i64,
) -> Result<(u64, u64), StoreError> {
    let links = conn.execute(
        "DELETE FROM activation_links WHERE expires_at < $1",
        params![links_before],
    )?;
    let searches = conn.execute(
        "DELETE FROM activation_searches WHERE created_at < $1",
        params![searches_before],
    )?;
    Ok((links, searches))
}

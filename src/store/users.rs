//! People's accounts, their sessions, and one-time email links (verification, reset).

use super::{Conn, Row, StoreError, new_id, params};
use crate::domain::account::{AccountKind, Profile, Session, User};

const USER_COLUMNS: &str = "id, email, password_hash, email_verified_at, given_name, family_name, additional_name, phone, address, headline, summary, kind, organisation";

fn user(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.text(0)?,
        email: row.text(1)?,
        verified: row.opt_int(3)?.is_some(),
        profile: Profile {
            given_name: row.opt_text(4)?,
            family_name: row.opt_text(5)?,
            additional_name: row.opt_text(6)?,
            phone: row.opt_text(7)?,
            address: row.opt_text(8)?,
            headline: row.opt_text(9)?,
            summary: row.opt_text(10)?,
        },
        kind: AccountKind::parse(&row.text(11)?),
        organisation: row.opt_text(12)?,
    })
}

/// Creates an unverified account. `Conflict` when the email is taken.
pub fn insert(
    conn: &mut dyn Conn,
    email: &str,
    password_hash: &str,
    profile: &Profile,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO users (id, email, password_hash, given_name, family_name, additional_name, phone, address, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        params![
            &id,
            email,
            password_hash,
            profile.given_name.as_deref(),
            profile.family_name.as_deref(),
            profile.additional_name.as_deref(),
            profile.phone.as_deref(),
            profile.address.as_deref(),
            now
        ],
    )?;
    Ok(id)
}

/// Creates an unverified viewer account (an employer's): its name, as typed, is kept as
/// its given name. `Conflict` when the email is taken.
pub fn insert_viewer(
    conn: &mut dyn Conn,
    email: &str,
    password_hash: &str,
    name: &str,
    organisation: &str,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO users (id, email, password_hash, given_name, kind, organisation, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        params![
            &id,
            email,
            password_hash,
            name,
            AccountKind::Viewer.as_str(),
            organisation,
            now
        ],
    )?;
    Ok(id)
}

pub fn by_email(conn: &mut dyn Conn, email: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    conn.query_opt(&sql, params![email])?
        .map(|r| user(&r))
        .transpose()
}

/// The account with its password hash, for the one service that checks passwords.
pub fn by_email_with_password(
    conn: &mut dyn Conn,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    conn.query_opt(&sql, params![email])?
        .map(|r| Ok((user(&r)?, r.text(2)?)))
        .transpose()
}

/// The password hash of an account.
pub fn password_hash(conn: &mut dyn Conn, id: &str) -> Result<Option<String>, StoreError> {
    conn.query_opt("SELECT password_hash FROM users WHERE id = $1", params![id])?
        .map(|r| r.text(0))
        .transpose()
}

pub fn by_id(conn: &mut dyn Conn, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    conn.query_opt(&sql, params![id])?
        .map(|r| user(&r))
        .transpose()
}

pub fn mark_verified(conn: &mut dyn Conn, user_id: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2",
        params![now, user_id],
    )?;
    Ok(())
}

pub fn set_password(
    conn: &mut dyn Conn,
    user_id: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
        params![password_hash, now, user_id],
    )?;
    Ok(())
}

pub fn update_profile(
    conn: &mut dyn Conn,
    user_id: &str,
    profile: &Profile,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE users SET given_name = $1, family_name = $2, additional_name = $3, phone = $4, address = $5, headline = $6,
            summary = $7, updated_at = $8 WHERE id = $9",
        params![
            profile.given_name.as_deref(),
            profile.family_name.as_deref(),
            profile.additional_name.as_deref(),
            profile.phone.as_deref(),
            profile.address.as_deref(),
            profile.headline.as_deref(),
            profile.summary.as_deref(),
            now,
            user_id
        ],
    )?;
    Ok(())
}

pub fn insert_session(
    conn: &mut dyn Conn,
    id_hash: &str,
    user_id: &str,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        params![id_hash, user_id, csrf_token, now, expires_at],
    )?;
    Ok(())
}

/// The live session with this id digest (idle for less than `idle_ms`).
pub fn session(
    conn: &mut dyn Conn,
    id_hash: &str,
    now: i64,
    idle_ms: i64,
) -> Result<Option<Session>, StoreError> {
    let row = conn.query_opt(
        "SELECT user_id, csrf_token, last_seen_at, second_factor_at FROM sessions WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
        params![id_hash, now, now - idle_ms],
    )?;
    row.map(|r| {
        Ok(Session {
            user_id: r.text(0)?,
            csrf_token: r.text(1)?,
            last_seen_at: r.int(2)?,
            second_factor_at: r.opt_int(3)?,
        })
    })
    .transpose()
}

pub fn touch_session(conn: &mut dyn Conn, id_hash: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2",
        params![now, id_hash],
    )?;
    Ok(())
}

pub fn delete_session(conn: &mut dyn Conn, id_hash: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE id_hash = $1", params![id_hash])?;
    Ok(())
}

pub fn delete_sessions_of(conn: &mut dyn Conn, user_id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE user_id = $1", params![user_id])?;
    Ok(())
}

/// What a one-time email link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Verify,
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Verify => "verify",
            LinkPurpose::Reset => "reset",
        }
    }

    pub fn parse(text: &str) -> Option<LinkPurpose> {
        [LinkPurpose::Verify, LinkPurpose::Reset]
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    /// How long a link of this kind works.
    pub fn lifetime_ms(self) -> i64 {
        match self {
            LinkPurpose::Verify => 48 * 3600 * 1000,
            LinkPurpose::Reset => 3600 * 1000,
        }
    }
}

pub fn insert_email_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    user_id: &str,
    purpose: LinkPurpose,
    next_path: Option<&str>,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, next_path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![token_hash, user_id, purpose.as_str(), next_path, now, expires_at],
    )?;
    Ok(())
}

/// Uses up a one-time link: returns (user id, next path) if it was live.
pub fn use_email_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    purpose: LinkPurpose,
    now: i64,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let used = conn.execute(
        "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1",
        params![now, token_hash, purpose.as_str()],
    )?;
    if used == 0 {
        return Ok(None);
    }
    let row = conn.query_one(
        "SELECT user_id, next_path FROM email_tokens WHERE token_hash = $1",
        params![token_hash],
    )?;
    Ok(Some((row.text(0)?, row.opt_text(1)?)))
}

/// The account a one-time link belongs to, while the link is live (without using it).
pub fn live_email_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    purpose: LinkPurpose,
    now: i64,
) -> Result<Option<String>, StoreError> {
    conn.query_opt(
        "SELECT user_id FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        params![token_hash, purpose.as_str(), now],
    )?
    .map(|row| row.text(0))
    .transpose()
}

/// Ends every outstanding one-time link of an account (confirmation and reset alike): once
/// its password is set or proved, no older mail may set it again.
pub fn end_email_tokens_of(
    conn: &mut dyn Conn,
    user_id: &str,
    now: i64,
) -> Result<u64, StoreError> {
    conn.execute(
        "UPDATE email_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        params![now, user_id],
    )
}

/// Whether the browser holding the device token with this digest has signed in to
/// `user_id` before.
pub fn is_known_device(
    conn: &mut dyn Conn,
    token_hash: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM known_devices WHERE token_hash = $1 AND user_id = $2",
            params![token_hash, user_id],
        )?
        .is_some())
}

/// Records (or refreshes) that the browser holding this device token signed in to `user_id`.
pub fn remember_device(
    conn: &mut dyn Conn,
    token_hash: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (token_hash, user_id) DO UPDATE SET last_used_at = $3",
        params![token_hash, user_id, now],
    )?;
    Ok(())
}

/// Forgets browsers that have not signed in for `unused_ms` (their cookie has expired too).
pub fn purge_unused_devices(
    conn: &mut dyn Conn,
    now: i64,
    unused_ms: i64,
) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM known_devices WHERE last_used_at <= $1",
        params![now - unused_ms],
    )
}

/// Removes sessions that can no longer be used: past their end, or idle longer than `idle_ms`
/// (the same rule as [`session`]).
pub fn purge_expired_sessions(
    conn: &mut dyn Conn,
    now: i64,
    idle_ms: i64,
) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
        params![now, now - idle_ms],
    )
}

/// Removes one-time email links past their expiry, used or not.
pub fn purge_expired_email_tokens(conn: &mut dyn Conn, now: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM email_tokens WHERE expires_at <= $1",
        params![now],
    )
}

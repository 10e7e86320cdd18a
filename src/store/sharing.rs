//! Share links: a person's resume opened by whoever holds the link. One link per person at
//! a time; the row keeps only the digest of the link's secret.

use super::{Conn, StoreError, params};

/// Makes the link whose token has the digest `token_hash` (and is derived from `nonce`) the
/// person's share link, replacing (and so ending) any earlier one.
pub fn replace(
    conn: &mut dyn Conn,
    user_id: &str,
    nonce: &str,
    token_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    stop(conn, user_id)?;
    conn.execute(
        "INSERT INTO resume_shares (token_hash, user_id, created_at, token_nonce) VALUES ($1, $2, $3, $4)",
        params![token_hash, user_id, now, nonce],
    )?;
    Ok(())
}

/// The person's current link as (nonce, token digest): `None` when they have none, a `None`
/// nonce for a link made before tokens were derived from one.
pub fn current(
    conn: &mut dyn Conn,
    user_id: &str,
) -> Result<Option<(Option<String>, String)>, StoreError> {
    conn.query_opt(
        "SELECT token_nonce, token_hash FROM resume_shares WHERE user_id = $1",
        params![user_id],
    )?
    .map(|row| Ok((row.opt_text(0)?, row.text(1)?)))
    .transpose()
}

/// Ends the person's share link, and drops who viewed it; false when there was none.
pub fn stop(conn: &mut dyn Conn, user_id: &str) -> Result<bool, StoreError> {
    super::viewers::drop_for_links_of(conn, user_id)?;
    let removed = conn.execute(
        "DELETE FROM resume_shares WHERE user_id = $1",
        params![user_id],
    )?;
    Ok(removed > 0)
}

/// When the person's current link was made, if they have one.
pub fn made_at(conn: &mut dyn Conn, user_id: &str) -> Result<Option<i64>, StoreError> {
    conn.query_opt(
        "SELECT created_at FROM resume_shares WHERE user_id = $1",
        params![user_id],
    )?
    .map(|row| row.int(0))
    .transpose()
}

/// The person a link's digest opens the resume of.
pub fn owner(conn: &mut dyn Conn, token_hash: &str) -> Result<Option<String>, StoreError> {
    conn.query_opt(
        "SELECT user_id FROM resume_shares WHERE token_hash = $1",
        params![token_hash],
    )?
    .map(|row| row.text(0))
    .transpose()
}

/// The nonce of the link with this digest: `None` when there is no such link, `Some(None)`
/// for a link made before tokens were derived from one.
pub fn nonce_of(
    conn: &mut dyn Conn,
    token_hash: &str,
) -> Result<Option<Option<String>>, StoreError> {
    conn.query_opt(
        "SELECT token_nonce FROM resume_shares WHERE token_hash = $1",
        params![token_hash],
    )?
    .map(|row| row.opt_text(0))
    .transpose()
}

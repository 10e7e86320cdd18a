//! Test mode's mail whitelist: addresses and domains that still get mail.

use super::{Conn, StoreError, params};

pub fn list(conn: &mut dyn Conn) -> Result<Vec<String>, StoreError> {
    conn.query("SELECT entry FROM mail_whitelist ORDER BY entry", &[])?
        .iter()
        .map(|row| row.text(0))
        .collect()
}

/// Adds an entry; false when it was there already.
pub fn add(conn: &mut dyn Conn, entry: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "INSERT INTO mail_whitelist (entry, created_at) VALUES ($1, $2) ON CONFLICT (entry) DO NOTHING",
        params![entry, now],
    )? == 1)
}

/// Removes an entry; false when it was not there.
pub fn remove(conn: &mut dyn Conn, entry: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM mail_whitelist WHERE entry = $1",
        params![entry],
    )? == 1)
}

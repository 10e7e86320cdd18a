//! Confirming a package's recipient address: a person whose account has another address
//! proves they read the recipient's mail with a one-time code sent there before they can
//! claim the package. The rules (lifetimes, how many tries) are `services::claims`'s; this
//! keeps the state per (package, person).

use super::{Conn, StoreError, params};

/// Where a (package, person) stands (the default: asked for, no code sent yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// The live code's digest, if one was sent and is not used up.
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub wrong_codes: i64,
    pub codes_sent: i64,
    /// When the first code of the current sending window went out.
    pub sending_since: Option<i64>,
    pub confirmed: bool,
}

pub fn get(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
) -> Result<Option<Confirmation>, StoreError> {
    conn.query_opt(
        "SELECT code_hash, code_expires_at, wrong_codes, codes_sent, sending_since, confirmed_at
         FROM recipient_confirmations WHERE package_id = $1 AND user_id = $2",
        params![package_id, user_id],
    )?
    .map(|row| {
        Ok(Confirmation {
            code_hash: row.opt_text(0)?,
            code_expires_at: row.opt_int(1)?,
            wrong_codes: row.int(2)?,
            codes_sent: row.int(3)?,
            sending_since: row.opt_int(4)?,
            confirmed: row.opt_int(5)?.is_some(),
        })
    })
    .transpose()
}

/// Records that the person must confirm the package's recipient address (no code yet).
pub fn require(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO recipient_confirmations (package_id, user_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (package_id, user_id) DO NOTHING",
        params![package_id, user_id, now],
    )?;
    Ok(())
}

/// A new code replaces the live one; `sending_since` starts a new sending window when given.
pub fn set_code(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    code_hash: &str,
    expires_at: i64,
    new_window: Option<i64>,
) -> Result<(), StoreError> {
    let sql = if new_window.is_some() {
        "UPDATE recipient_confirmations SET code_hash = $1, code_expires_at = $2, wrong_codes = 0, codes_sent = 1, sending_since = $3
         WHERE package_id = $4 AND user_id = $5"
    } else {
        "UPDATE recipient_confirmations SET code_hash = $1, code_expires_at = $2, wrong_codes = 0, codes_sent = codes_sent + 1, sending_since = COALESCE($3, sending_since)
         WHERE package_id = $4 AND user_id = $5"
    };
    conn.execute(
        sql,
        params![code_hash, expires_at, new_window, package_id, user_id],
    )?;
    Ok(())
}

/// Counts a wrong code; at `limit` wrong codes the live code is used up.
pub fn wrong_code(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    limit: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE recipient_confirmations SET wrong_codes = wrong_codes + 1,
             code_hash = CASE WHEN wrong_codes + 1 >= $1 THEN NULL ELSE code_hash END
         WHERE package_id = $2 AND user_id = $3",
        params![limit, package_id, user_id],
    )?;
    Ok(())
}

/// The address is confirmed: the code is used up.
pub fn confirm(
    conn: &mut dyn Conn,
    package_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE recipient_confirmations SET confirmed_at = $1, code_hash = NULL WHERE package_id = $2 AND user_id = $3",
        params![now, package_id, user_id],
    )?;
    Ok(())
}

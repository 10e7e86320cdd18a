//! Admin accounts: which accounts are admins, their sealed TOTP secret, the last code step
//! accepted, their recovery codes, and the second factor a session passed.

use super::{Conn, StoreError, params};

/// An admin as the second-factor check needs them.
#[derive(Debug, Clone)]
pub struct AdminRow {
    pub user_id: String,
    pub totp_secret_sealed: String,
    /// Whether the authenticator was set up (its first code accepted).
    pub confirmed: bool,
    pub last_totp_step: i64,
}

pub fn get(conn: &mut dyn Conn, user_id: &str) -> Result<Option<AdminRow>, StoreError> {
    conn.query_opt(
        "SELECT user_id, totp_secret_sealed, totp_confirmed_at, last_totp_step FROM admins WHERE user_id = $1",
        params![user_id],
    )?
    .map(|row| {
        Ok(AdminRow {
            user_id: row.text(0)?,
            totp_secret_sealed: row.text(1)?,
            confirmed: row.opt_int(2)?.is_some(),
            last_totp_step: row.int(3)?,
        })
    })
    .transpose()
}

/// Makes the account an admin with a new, unconfirmed TOTP secret (replacing one not yet
/// confirmed; a confirmed one stays).
pub fn insert(
    conn: &mut dyn Conn,
    user_id: &str,
    totp_secret_sealed: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO admins (user_id, totp_secret_sealed, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET totp_secret_sealed = excluded.totp_secret_sealed
         WHERE admins.totp_confirmed_at IS NULL",
        params![user_id, totp_secret_sealed, now],
    )?;
    Ok(())
}

/// Accepts a code's time step if it is later than every step accepted before; false when
/// it is not (a replay, or a race with another request using the same code).
pub fn accept_step(
    conn: &mut dyn Conn,
    user_id: &str,
    step: i64,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE admins SET last_totp_step = $1, totp_confirmed_at = COALESCE(totp_confirmed_at, $2)
         WHERE user_id = $3 AND last_totp_step < $1",
        params![step, now, user_id],
    )? == 1)
}

/// Replaces the admin's recovery codes.
pub fn set_recovery_codes(
    conn: &mut dyn Conn,
    user_id: &str,
    code_hashes: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM admin_recovery_codes WHERE user_id = $1",
        params![user_id],
    )?;
    for hash in code_hashes {
        conn.execute(
            "INSERT INTO admin_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
            params![user_id, hash],
        )?;
    }
    Ok(())
}

/// Uses up a recovery code; false when it is not one of the admin's unused codes.
pub fn use_recovery_code(
    conn: &mut dyn Conn,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE admin_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        params![now, user_id, code_hash],
    )? == 1)
}

pub fn unused_recovery_codes(conn: &mut dyn Conn, user_id: &str) -> Result<i64, StoreError> {
    conn.query_one(
        "SELECT COUNT(*) FROM admin_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        params![user_id],
    )?
    .int(0)
}

/// Marks the session as having passed the second factor.
pub fn pass_session(conn: &mut dyn Conn, session_hash: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET second_factor_at = $1 WHERE id_hash = $2",
        params![now, session_hash],
    )?;
    Ok(())
}

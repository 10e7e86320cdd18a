//! The public halves of the deployment's signing keys (the private key is never stored
//! here). Every instance registers the key it signs with, so the DID document any instance
//! serves lists every key that ever signed a resume credential.

use super::{Conn, StoreError, params};

/// Records a public key (multibase); does nothing when it is already known.
pub fn register(conn: &mut dyn Conn, public_key: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO signing_keys (public_key_multibase, created_at) VALUES ($1, $2)
         ON CONFLICT (public_key_multibase) DO NOTHING",
        params![public_key, now],
    )?;
    Ok(())
}

/// Every registered public key, oldest first.
pub fn all(conn: &mut dyn Conn) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT public_key_multibase FROM signing_keys ORDER BY created_at, public_key_multibase",
        &[],
    )?
    .iter()
    .map(|row| row.text(0))
    .collect()
}

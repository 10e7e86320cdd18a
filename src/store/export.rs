//! What the exports need beyond the resume pages: each partner credential's original form
//! (the JSON as submitted, or the VC-JWT) and its award date as parsed.

use super::{Conn, StoreError, params};
use std::collections::HashMap;

/// A credential as its issuer sent it.
#[derive(Debug, Clone)]
pub struct Original {
    /// The credential JSON as submitted.
    pub document: String,
    /// The compact VC-JWT, when it came as one.
    pub jws: Option<String>,
    /// The award date as parsed (RFC 3339 or `YYYY-MM-DD`), when it parses.
    pub awarded_at: Option<String>,
}

fn original(row: &super::Row, first: usize) -> Result<Original, StoreError> {
    Ok(Original {
        document: row.text(first)?,
        jws: row.opt_text(first + 1)?,
        awarded_at: row.opt_text(first + 2)?,
    })
}

/// Resume entry id → the original of its credential (partner entries only).
pub fn entry_originals(
    conn: &mut dyn Conn,
    user_id: &str,
) -> Result<HashMap<String, Original>, StoreError> {
    conn.query(
        "SELECT e.id, c.document, c.jws, c.awarded_at
         FROM resume_entries e JOIN credentials c ON c.id = e.credential_id
         WHERE e.user_id = $1",
        params![user_id],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, original(row, 1)?)))
    .collect()
}

/// Resume skill id → the original of the credential that carries it.
pub fn skill_originals(
    conn: &mut dyn Conn,
    user_id: &str,
) -> Result<HashMap<String, Original>, StoreError> {
    conn.query(
        "SELECT rs.id, c.document, c.jws, c.awarded_at
         FROM resume_skills rs JOIN skills s ON s.id = rs.skill_id JOIN credentials c ON c.id = s.credential_id
         WHERE rs.user_id = $1",
        params![user_id],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, original(row, 1)?)))
    .collect()
}

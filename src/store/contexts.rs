//! JSON-LD contexts an operator added for verification (`credentialconnect context add`).

use super::{Conn, StoreError, params};
use serde_json::Value;

/// Every added context as (URL, document).
pub fn all(conn: &mut dyn Conn) -> Result<Vec<(String, Value)>, StoreError> {
    let rows = conn.query(
        "SELECT url, document FROM jsonld_contexts ORDER BY url",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let document = serde_json::from_str(&row.text(1)?)
                .map_err(|e| StoreError::Other(format!("stored context is not JSON: {e}")))?;
            Ok((row.text(0)?, document))
        })
        .collect()
}

/// Adds or replaces a context.
pub fn put(conn: &mut dyn Conn, url: &str, document: &Value, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO jsonld_contexts (url, document, added_at) VALUES ($1, $2, $3)
         ON CONFLICT (url) DO UPDATE SET document = excluded.document, added_at = excluded.added_at",
        params![url, document.to_string(), now],
    )?;
    Ok(())
}

/// Removes a context; false when there was none.
pub fn remove(conn: &mut dyn Conn, url: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM jsonld_contexts WHERE url = $1", params![url])? > 0)
}

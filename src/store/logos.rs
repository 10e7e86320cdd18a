//! Logos: one per owner (a partner, a marketplace), stored as base64 text and served by
//! digest (`/logos/{digest}.{ext}`).

use super::{Conn, StoreError, params};
use crate::domain::logo::{Logo, LogoKind, LogoRef};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Who a logo belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Partner,
    Marketplace,
}

impl Owner {
    fn key(self) -> &'static str {
        match self {
            Owner::Partner => "partner",
            Owner::Marketplace => "marketplace",
        }
    }
}

/// A logo's bytes as served.
#[derive(Debug, Clone)]
pub struct StoredLogo {
    pub kind: LogoKind,
    pub bytes: Vec<u8>,
}

/// Sets (replaces) `owner`'s logo.
pub fn set(
    conn: &mut dyn Conn,
    owner: Owner,
    owner_id: &str,
    logo: &Logo,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO logos (owner_kind, owner_id, digest, content_type, size, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (owner_kind, owner_id) DO UPDATE SET digest = excluded.digest,
             content_type = excluded.content_type, size = excluded.size, data = excluded.data,
             created_at = excluded.created_at",
        params![
            owner.key(),
            owner_id,
            logo.digest(),
            logo.kind().content_type(),
            i64::try_from(logo.bytes().len()).unwrap_or(i64::MAX),
            STANDARD.encode(logo.bytes()),
            now
        ],
    )?;
    Ok(())
}

/// Removes `owner`'s logo; whether it had one.
pub fn remove(conn: &mut dyn Conn, owner: Owner, owner_id: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM logos WHERE owner_kind = $1 AND owner_id = $2",
        params![owner.key(), owner_id],
    )? > 0)
}

fn logo_ref(digest: String, content_type: &str) -> Result<LogoRef, StoreError> {
    let kind = LogoKind::from_content_type(content_type)
        .ok_or_else(|| StoreError::Other(format!("a logo of type {content_type:?}")))?;
    Ok(LogoRef { digest, kind })
}

/// `owner`'s logo, if it has one.
pub fn of(
    conn: &mut dyn Conn,
    owner: Owner,
    owner_id: &str,
) -> Result<Option<LogoRef>, StoreError> {
    conn.query_opt(
        "SELECT digest, content_type FROM logos WHERE owner_kind = $1 AND owner_id = $2",
        params![owner.key(), owner_id],
    )?
    .map(|row| logo_ref(row.text(0)?, &row.text(1)?))
    .transpose()
}

/// Every partner's logo, by partner id (for pages that list partners).
pub fn of_partners(
    conn: &mut dyn Conn,
) -> Result<std::collections::HashMap<String, LogoRef>, StoreError> {
    conn.query(
        "SELECT owner_id, digest, content_type FROM logos WHERE owner_kind = $1",
        params![Owner::Partner.key()],
    )?
    .iter()
    .map(|row| Ok((row.text(0)?, logo_ref(row.text(1)?, &row.text(2)?)?)))
    .collect()
}

/// The logo whose bytes have this digest, whoever it belongs to.
pub fn by_digest(conn: &mut dyn Conn, digest: &str) -> Result<Option<StoredLogo>, StoreError> {
    let Some(row) = conn.query_opt(
        "SELECT content_type, data FROM logos WHERE digest = $1 LIMIT 1",
        params![digest],
    )?
    else {
        return Ok(None);
    };
    let kind = logo_ref(String::new(), &row.text(0)?)?.kind;
    let bytes = STANDARD
        .decode(row.text(1)?)
        .map_err(|e| StoreError::Other(format!("a stored logo is not base64: {e}")))?;
    Ok(Some(StoredLogo { kind, bytes }))
}

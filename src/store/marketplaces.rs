//! Marketplaces: issuer ids routed to a landing of their own on the claim page. An issuer id
//! is routed to one marketplace at most (the routes' primary key).

use super::logos::{self, Owner};
use super::{Conn, Row, StoreError, new_id, params};
use crate::domain::marketplace::Landing;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marketplace {
    pub id: String,
    pub name: String,
    pub landing: Option<String>,
    pub created_at: i64,
}

fn marketplace(row: &Row) -> Result<Marketplace, StoreError> {
    Ok(Marketplace {
        id: row.text(0)?,
        name: row.text(1)?,
        landing: row.opt_text(2)?,
        created_at: row.int(3)?,
    })
}

/// The marketplace with this id, or else this name.
pub fn find(conn: &mut dyn Conn, id_or_name: &str) -> Result<Option<Marketplace>, StoreError> {
    let by_id = conn.query_opt(
        "SELECT id, name, landing, created_at FROM marketplaces WHERE id = $1",
        params![id_or_name],
    )?;
    match by_id {
        Some(row) => marketplace(&row).map(Some),
        None => by_name(conn, id_or_name),
    }
}

pub fn by_name(conn: &mut dyn Conn, name: &str) -> Result<Option<Marketplace>, StoreError> {
    conn.query_opt(
        "SELECT id, name, landing, created_at FROM marketplaces WHERE name = $1",
        params![name],
    )?
    .map(|row| marketplace(&row))
    .transpose()
}

pub fn insert(
    conn: &mut dyn Conn,
    name: &str,
    landing: Option<&str>,
    now: i64,
) -> Result<Marketplace, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO marketplaces (id, name, landing, created_at) VALUES ($1, $2, $3, $4)",
        params![&id, name, landing, now],
    )?;
    Ok(Marketplace {
        id,
        name: name.to_string(),
        landing: landing.map(str::to_string),
        created_at: now,
    })
}

/// Replaces the landing text (`None` removes it).
pub fn set_landing(conn: &mut dyn Conn, id: &str, landing: Option<&str>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE marketplaces SET landing = $1 WHERE id = $2",
        params![landing, id],
    )?;
    Ok(())
}

/// The marketplace an issuer id is routed to, if any.
pub fn routed_to(conn: &mut dyn Conn, issuer_id: &str) -> Result<Option<Marketplace>, StoreError> {
    conn.query_opt(
        "SELECT m.id, m.name, m.landing, m.created_at FROM marketplace_issuers r
         JOIN marketplaces m ON m.id = r.marketplace_id WHERE r.issuer_id = $1",
        params![issuer_id],
    )?
    .map(|row| marketplace(&row))
    .transpose()
}

/// Routes an issuer id to a marketplace (a taken issuer id is a `Conflict`).
pub fn route(
    conn: &mut dyn Conn,
    marketplace_id: &str,
    issuer_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO marketplace_issuers (issuer_id, marketplace_id, created_at) VALUES ($1, $2, $3)",
        params![issuer_id, marketplace_id, now],
    )?;
    Ok(())
}

/// Removes one route of a marketplace; whether it was there.
pub fn unroute(
    conn: &mut dyn Conn,
    marketplace_id: &str,
    issuer_id: &str,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM marketplace_issuers WHERE marketplace_id = $1 AND issuer_id = $2",
        params![marketplace_id, issuer_id],
    )? == 1)
}

/// The issuer ids routed to a marketplace, in order.
pub fn issuers(conn: &mut dyn Conn, marketplace_id: &str) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT issuer_id FROM marketplace_issuers WHERE marketplace_id = $1 ORDER BY issuer_id",
        params![marketplace_id],
    )?
    .iter()
    .map(|row| row.text(0))
    .collect()
}

/// Every marketplace, by name.
pub fn list(conn: &mut dyn Conn) -> Result<Vec<Marketplace>, StoreError> {
    conn.query(
        "SELECT id, name, landing, created_at FROM marketplaces ORDER BY name, id",
        &[],
    )?
    .iter()
    .map(marketplace)
    .collect()
}

/// Removes a marketplace, its routes and its logo.
pub fn delete(conn: &mut dyn Conn, id: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM marketplace_issuers WHERE marketplace_id = $1",
        params![id],
    )?;
    logos::remove(conn, Owner::Marketplace, id)?;
    conn.execute("DELETE FROM marketplaces WHERE id = $1", params![id])?;
    Ok(())
}

/// The marketplace a package's claim page shows: the one its first credential routed to one
/// (in the order the partner sent them; a CLR counts by its own issuer, then its nested
/// credentials by theirs) decides, so a package from several marketplaces always shows the
/// same one. Deleted credentials do not count.
pub fn landing_for_package(
    conn: &mut dyn Conn,
    package_id: &str,
) -> Result<Option<Landing>, StoreError> {
    let Some(row) = conn.query_opt(
        "SELECT m.id, m.name, m.landing FROM package_credentials pc
         JOIN credentials c ON c.id = pc.credential_id
         JOIN marketplace_issuers r ON r.issuer_id = c.issuer_id
         JOIN marketplaces m ON m.id = r.marketplace_id
         WHERE pc.package_id = $1 AND c.deleted_at IS NULL
         ORDER BY pc.position, c.id LIMIT 1",
        params![package_id],
    )?
    else {
        return Ok(None);
    };
    let id = row.text(0)?;
    Ok(Some(Landing {
        name: row.text(1)?,
        text: row.opt_text(2)?,
        logo: logos::of(conn, Owner::Marketplace, &id)?,
    }))
}

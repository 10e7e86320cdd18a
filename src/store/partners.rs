//! Partners (API clients) and their access tokens.

use super::{Conn, Row, Statement, StoreError, new_id, param_vec, params};
use crate::domain::partner::Partner;
use crate::domain::scopes::{Scope, Scopes};
use std::borrow::Cow;

const PARTNER_COLUMNS: &str = "id, slug, name, client_id, scopes, unstable_ids, strict, disabled, created_at, secret_hash, pull_url";

fn partner(row: &Row) -> Result<(Partner, String), StoreError> {
    let scopes = Scopes::parse(&row.text(4)?).map_err(StoreError::Other)?;
    Ok((
        Partner {
            id: row.text(0)?,
            slug: row.text(1)?,
            name: row.text(2)?,
            client_id: row.text(3)?,
            scopes,
            unstable_ids: row.flag(5)?,
            strict: row.flag(6)?,
            disabled: row.flag(7)?,
            created_at: row.int(8)?,
            pull_url: row.opt_text(10)?,
        },
        row.text(9)?,
    ))
}

/// What `partner create` decides.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub slug: String,
    pub name: String,
    pub client_id: String,
    pub secret_hash: String,
    pub scopes: Scopes,
    pub unstable_ids: bool,
    pub strict: bool,
}

pub fn insert(conn: &mut dyn Conn, new: &NewPartner, now: i64) -> Result<Partner, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO partners (id, slug, name, client_id, secret_hash, scopes, unstable_ids, strict, disabled, created_at, secret_rotated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
        params![&id, &new.slug, &new.name, &new.client_id, &new.secret_hash, new.scopes.to_string(), new.unstable_ids, new.strict, now],
    )?;
    Ok(Partner {
        id,
        slug: new.slug.clone(),
        name: new.name.clone(),
        client_id: new.client_id.clone(),
        scopes: new.scopes,
        unstable_ids: new.unstable_ids,
        strict: new.strict,
        disabled: false,
        created_at: now,
        pull_url: None,
    })
}

/// The partner and its secret digest, by client id.
pub fn by_client_id(
    conn: &mut dyn Conn,
    client_id: &str,
) -> Result<Option<(Partner, String)>, StoreError> {
    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE client_id = $1");
    conn.query_opt(&sql, params![client_id])?
        .map(|r| partner(&r))
        .transpose()
}

pub fn by_slug(conn: &mut dyn Conn, slug: &str) -> Result<Option<Partner>, StoreError> {
    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners WHERE slug = $1");
    Ok(conn
        .query_opt(&sql, params![slug])?
        .map(|r| partner(&r))
        .transpose()?
        .map(|(p, _)| p))
}

pub fn list(conn: &mut dyn Conn) -> Result<Vec<Partner>, StoreError> {
    let sql = format!("SELECT {PARTNER_COLUMNS} FROM partners ORDER BY slug");
    conn.query(&sql, &[])?
        .iter()
        .map(|r| partner(r).map(|(p, _)| p))
        .collect()
}

/// Replaces the client secret and revokes every token issued under the old one.
pub fn rotate_secret(
    conn: &mut dyn Conn,
    slug: &str,
    secret_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE partners SET secret_hash = $1, secret_rotated_at = $2 WHERE slug = $3",
        params![secret_hash, now, slug],
    )?;
    revoke_tokens(conn, slug)?;
    Ok(changed == 1)
}

/// Disables a partner: its secret stops working and its tokens are revoked. Its data stays.
pub fn disable(conn: &mut dyn Conn, slug: &str) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE partners SET disabled = 1 WHERE slug = $1",
        params![slug],
    )?;
    revoke_tokens(conn, slug)?;
    Ok(changed == 1)
}

/// Changes how the partner's uploads are read.
/// Changes what is given; new scopes revoke the partner's tokens (they carry the old ones).
pub fn set_options(
    conn: &mut dyn Conn,
    slug: &str,
    strict: Option<bool>,
    unstable_ids: Option<bool>,
    scopes: Option<&Scopes>,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE partners SET strict = COALESCE($1, strict), unstable_ids = COALESCE($2, unstable_ids), scopes = COALESCE($3, scopes)
         WHERE slug = $4",
        params![strict, unstable_ids, scopes.map(ToString::to_string), slug],
    )?;
    if changed == 1 && scopes.is_some() {
        revoke_tokens(conn, slug)?;
    }
    Ok(changed == 1)
}

/// Sets (or with `None` removes) the partner's pull URL, which lists it on `/import`.
pub fn set_pull_url(
    conn: &mut dyn Conn,
    slug: &str,
    pull_url: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE partners SET pull_url = $1 WHERE slug = $2",
        params![pull_url, slug],
    )? == 1)
}

/// The partners a person can import from (`/import`): enabled, with a pull URL; by name.
pub fn with_pull_url(conn: &mut dyn Conn) -> Result<Vec<Partner>, StoreError> {
    let sql = format!(
        "SELECT {PARTNER_COLUMNS} FROM partners WHERE pull_url IS NOT NULL AND disabled = 0 ORDER BY name, slug"
    );
    conn.query(&sql, &[])?
        .iter()
        .map(|r| partner(r).map(|(p, _)| p))
        .collect()
}

fn revoke_tokens(conn: &mut dyn Conn, slug: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM access_tokens WHERE partner_id IN (SELECT id FROM partners WHERE slug = $1)",
        params![slug],
    )?;
    Ok(())
}

/// An access token as stored.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub partner: Partner,
    pub scopes: Scopes,
    pub last_used_at: i64,
    pub expires_at: i64,
}

pub fn insert_token(
    conn: &mut dyn Conn,
    token_hash: &str,
    partner_id: &str,
    scopes: Scopes,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO access_tokens (token_hash, partner_id, scopes, issued_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
        params![token_hash, partner_id, scopes.to_string(), now, expires_at],
    )?;
    Ok(())
}

/// The statement that issues an access token (`Store::write_one`): it stores the token only
/// if the client id names an enabled partner whose secret digest is `secret_hash` and whose
/// scopes include every one `requested` (all of them when `None`). `issued_scopes` reads
/// its answer.
///
/// The digest is compared by the database, not in constant time: the time can tell at most
/// how much of the stored digest a guess's digest matched, which says nothing of the secret
/// (the same holds for access tokens, found by their digest).
pub fn issue_token(
    token_hash: &str,
    requested: Option<Scopes>,
    now: i64,
    expires_at: i64,
    client_id: &str,
    secret_hash: &str,
) -> Statement {
    // One LIKE per scope, matching anything for one not asked for: each asked one is among
    // the partner's (scopes are stored space-separated, in a fixed order). The pattern is
    // built in the SQL, not bound whole: SQLite prepares a statement again whenever a
    // parameter that is a LIKE's whole pattern is bound anew (its LIKE optimisation depends
    // on the value), and that re-parse was a sixth of the writer's work per token.
    let wanted = |scope: Scope| match requested {
        Some(scopes) if scopes.contains(scope) => format!(" {} ", scope.as_str()),
        _ => String::new(),
    };
    Statement {
        sql: Cow::Borrowed(
            "INSERT INTO access_tokens (token_hash, partner_id, scopes, issued_at, last_used_at, expires_at)
             SELECT $1, p.id, COALESCE($2, p.scopes), $3, $3, $4 FROM partners p
             WHERE p.client_id = $5 AND p.secret_hash = $6 AND p.disabled = 0
               AND ' ' || p.scopes || ' ' LIKE ('%' || CAST($7 AS TEXT) || '%')
               AND ' ' || p.scopes || ' ' LIKE ('%' || CAST($8 AS TEXT) || '%')
               AND ' ' || p.scopes || ' ' LIKE ('%' || CAST($9 AS TEXT) || '%')
             RETURNING scopes",
        ),
        params: param_vec![
            token_hash,
            requested.map(|s| s.to_string()),
            now,
            expires_at,
            client_id,
            secret_hash,
            wanted(Scope::Readonly),
            wanted(Scope::Replace),
            wanted(Scope::Delete),
        ],
        // A new token: a row nobody else writes.
        lock_order: None,
    }
}

/// The scopes of the token `issue_token` stored, or `None` when it stored none
/// (`by_client_id` then tells why).
pub fn issued_scopes(rows: &[Row]) -> Result<Option<Scopes>, StoreError> {
    rows.first()
        .map(|r| Scopes::parse(&r.text(0)?).map_err(StoreError::Other))
        .transpose()
}

pub fn token(conn: &mut dyn Conn, token_hash: &str) -> Result<Option<TokenGrant>, StoreError> {
    let sql = format!(
        "SELECT t.scopes, t.last_used_at, t.expires_at, {} FROM access_tokens t JOIN partners p ON p.id = t.partner_id WHERE t.token_hash = $1",
        PARTNER_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let Some(row) = conn.query_opt(&sql, params![token_hash])? else {
        return Ok(None);
    };
    let (partner, _) = partner(&Row(row.0[3..].to_vec()))?;
    Ok(Some(TokenGrant {
        partner,
        scopes: Scopes::parse(&row.text(0)?).map_err(StoreError::Other)?,
        last_used_at: row.int(1)?,
        expires_at: row.int(2)?,
    }))
}

/// Slides the token's inactivity window.
pub fn touch_token(conn: &mut dyn Conn, token_hash: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE access_tokens SET last_used_at = $1 WHERE token_hash = $2 AND last_used_at < $1",
        params![now, token_hash],
    )?;
    Ok(())
}

/// Removes tokens that can no longer be used.
pub fn purge_expired_tokens(
    conn: &mut dyn Conn,
    idle_cutoff: i64,
    now: i64,
) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM access_tokens WHERE last_used_at < $1 OR expires_at < $2",
        params![idle_cutoff, now],
    )
}

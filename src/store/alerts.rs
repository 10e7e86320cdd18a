//! Alerts for the operator: things that need a person (an unknown achievementType, a
//! failed proof, an attempt to claim someone else's credential).

use super::{Conn, StoreError, new_id, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub kind: String,
    pub partner_id: Option<String>,
    pub subject: String,
    pub message: String,
    pub created_at: i64,
}

/// Raises an alert unless the same one (kind, partner, subject) is already open.
pub fn raise(
    conn: &mut dyn Conn,
    kind: &str,
    partner_id: Option<&str>,
    subject: &str,
    message: &str,
    now: i64,
) -> Result<(), StoreError> {
    let open = conn.query_opt(
        "SELECT id FROM alerts WHERE kind = $1 AND subject = $2 AND COALESCE(partner_id, '') = $3 AND resolved_at IS NULL",
        params![kind, subject, partner_id.unwrap_or("")],
    )?;
    if open.is_none() {
        conn.execute(
            "INSERT INTO alerts (id, kind, partner_id, subject, message, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            params![new_id(), kind, partner_id, subject, message, now],
        )?;
    }
    Ok(())
}

pub fn open(conn: &mut dyn Conn) -> Result<Vec<Alert>, StoreError> {
    let rows = conn.query(
        "SELECT id, kind, partner_id, subject, message, created_at FROM alerts WHERE resolved_at IS NULL ORDER BY created_at, id",
        &[],
    )?;
    rows.iter().map(alert).collect()
}

/// How many alerts are open.
pub fn open_count(conn: &mut dyn Conn) -> Result<i64, StoreError> {
    conn.query_one("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL", &[])?
        .int(0)
}

fn alert(row: &super::Row) -> Result<Alert, StoreError> {
    Ok(Alert {
        id: row.text(0)?,
        kind: row.text(1)?,
        partner_id: row.opt_text(2)?,
        subject: row.text(3)?,
        message: row.text(4)?,
        created_at: row.int(5)?,
    })
}

pub fn by_id(conn: &mut dyn Conn, id: &str) -> Result<Option<Alert>, StoreError> {
    conn.query_opt(
        "SELECT id, kind, partner_id, subject, message, created_at FROM alerts WHERE id = $1 AND resolved_at IS NULL",
        params![id],
    )?
    .map(|row| alert(&row))
    .transpose()
}

/// Closes an open alert; false when it was not open.
pub fn acknowledge(conn: &mut dyn Conn, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE alerts SET resolved_at = $1 WHERE id = $2 AND resolved_at IS NULL",
        params![now, id],
    )? == 1)
}

/// How many credentials of this type wait as Unassigned (for one partner, or all with "").
pub fn waiting_unassigned(
    conn: &mut dyn Conn,
    partner_id: &str,
    achievement_type: &str,
) -> Result<i64, StoreError> {
    conn.query_one(
        "SELECT COUNT(*) FROM credentials WHERE section = 'unassigned' AND deleted_at IS NULL
         AND LOWER(achievement_type) = LOWER($1) AND ($2 = '' OR partner_id = $2)",
        params![achievement_type, partner_id],
    )?
    .int(0)
}

/// The names of the first `limit` credentials of this type waiting as Unassigned, oldest
/// first (what an admin sees before placing the type).
pub fn waiting_names(
    conn: &mut dyn Conn,
    partner_id: &str,
    achievement_type: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT name FROM credentials WHERE section = 'unassigned' AND deleted_at IS NULL
         AND LOWER(achievement_type) = LOWER($1) AND ($2 = '' OR partner_id = $2)
         ORDER BY created_at, id LIMIT $3",
        params![achievement_type, partner_id, limit],
    )?
    .iter()
    .map(|row| row.text(0))
    .collect()
}

//! The audit log: entries are only ever inserted. The tables' triggers (migration 0018)
//! refuse updates and deletes on both engines, so nothing here or anywhere else can change
//! an entry once written.

use super::{Conn, Row, StoreError, Value, new_id, params};
use crate::domain::audit::{Action, Actor, Entry, Filter, Subject};

/// Records an action, inside the caller's transaction.
pub fn append(
    conn: &mut dyn Conn,
    actor: &Actor,
    action: Action,
    subject: Option<&Subject>,
    detail: Option<serde_json::Value>,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (id, at, actor_kind, actor, action, subject_kind, subject, address, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            new_id(),
            now,
            actor.kind.as_str(),
            &actor.id,
            action.as_str(),
            subject.map(|s| s.kind),
            subject.map(|s| s.id.clone()),
            actor.address.clone(),
            detail.map(|d| d.to_string()),
        ],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, at, actor_kind, actor, action, subject_kind, subject, address, detail";

fn entry(row: &Row) -> Result<Entry, StoreError> {
    Ok(Entry {
        id: row.text(0)?,
        at: crate::clock::rfc3339(row.int(1)?),
        actor_kind: row.text(2)?,
        actor: row.text(3)?,
        action: row.text(4)?,
        subject_kind: row.opt_text(5)?,
        subject: row.opt_text(6)?,
        address: row.opt_text(7)?,
        detail: row
            .opt_text(8)?
            .and_then(|text| serde_json::from_str(&text).ok()),
    })
}

/// Entries matching the filter, oldest first, at most `limit`, starting after the entry
/// `after` (ids are time-ordered, so paging by id is paging by time).
pub fn list(
    conn: &mut dyn Conn,
    filter: &Filter,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Entry>, StoreError> {
    // Every condition is always present, so placeholders keep their order; an absent one
    // compares the column with itself.
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log
         WHERE ($1 = '' OR action = $1)
           AND ($2 = '' OR actor = $2)
           AND ($3 = '' OR subject = $3)
           AND at >= $4 AND at < $5 AND id > $6
         ORDER BY id LIMIT $7"
    );
    let rows = conn.query(
        &sql,
        &[
            Value::from(filter.action.map_or("", Action::as_str)),
            Value::from(filter.actor.clone().unwrap_or_default()),
            Value::from(filter.subject.clone().unwrap_or_default()),
            Value::from(filter.since.unwrap_or(i64::MIN)),
            Value::from(filter.until.unwrap_or(i64::MAX)),
            Value::from(after.unwrap_or("")),
            Value::from(i64::try_from(limit).unwrap_or(i64::MAX)),
        ],
    )?;
    rows.iter().map(entry).collect()
}

/// Every entry naming an account, as the actor or as the subject (its data export).
pub fn about_account(conn: &mut dyn Conn, user_id: &str) -> Result<Vec<Entry>, StoreError> {
    let rows = conn.query(
        &format!(
            "SELECT {COLUMNS} FROM audit_log
             WHERE (actor_kind = 'person' AND actor = $1) OR (subject_kind = 'account' AND subject = $1)
             ORDER BY id"
        ),
        params![user_id],
    )?;
    rows.iter().map(entry).collect()
}

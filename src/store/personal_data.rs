//! Everything held about one person, to hand it to them ([`export`]) or to erase it
//! ([`erase`]). Both walk the same tables; a table added later that holds personal data must
//! be added to both (the erasure test lists every table and fails on one it does not know).

use super::{Conn, Row, StoreError, params};
use crate::clock::rfc3339;
use crate::domain::audit::Entry;
use serde_json::{Map, Value, json};

/// The digest kept of an erased account's assertion: (partner, assertion key), nothing else.
pub fn erased_assertion_digest(partner_id: &str, assertion_key: &str) -> String {
    crate::secrets::digest(&format!("erased-assertion\n{partner_id}\n{assertion_key}"))
}

/// Whether the assertion behind this credential belonged to an erased account.
pub fn owned_by_erased_account(
    conn: &mut dyn Conn,
    credential_id: &str,
) -> Result<bool, StoreError> {
    let Some(row) = conn.query_opt(
        "SELECT partner_id, assertion_key FROM credentials WHERE id = $1",
        params![credential_id],
    )?
    else {
        return Ok(false);
    };
    let digest = erased_assertion_digest(&row.text(0)?, &row.text(1)?);
    Ok(conn
        .query_opt(
            "SELECT 1 FROM erased_assertions WHERE digest = $1",
            params![&digest],
        )?
        .is_some())
}

/// The package's unowned credentials whose assertion belonged to an erased account, by id:
/// two queries for the whole package, whatever its size.
pub fn owned_by_erased_accounts(
    conn: &mut dyn Conn,
    package_id: &str,
) -> Result<std::collections::HashSet<String>, StoreError> {
    let unowned = conn.query(
        "SELECT c.id, c.partner_id, c.assertion_key FROM package_credentials pc JOIN credentials c ON c.id = pc.credential_id
         WHERE pc.package_id = $1 AND c.owner_user_id IS NULL",
        params![package_id],
    )?;
    if unowned.is_empty() {
        return Ok(Default::default());
    }
    let mut by_digest = std::collections::HashMap::with_capacity(unowned.len());
    for row in &unowned {
        by_digest.insert(
            erased_assertion_digest(&row.text(1)?, &row.text(2)?),
            row.text(0)?,
        );
    }
    let digests: Vec<super::Value> = by_digest.keys().map(super::Value::from).collect();
    let placeholders: Vec<String> = (1..=digests.len()).map(|i| format!("${i}")).collect();
    let found = conn.query(
        &format!(
            "SELECT digest FROM erased_assertions WHERE digest IN ({})",
            placeholders.join(", ")
        ),
        &digests,
    )?;
    let mut erased = std::collections::HashSet::new();
    for row in &found {
        if let Some(id) = by_digest.remove(&row.text(0)?) {
            erased.insert(id);
        }
    }
    Ok(erased)
}

/// A row as a JSON object, by column name; integers named `*_at` become RFC 3339 times, a
/// `day` a date, and
/// text holding a JSON document (`document`, `recipient`) is parsed back into JSON.
fn object(names: &[&str], row: &Row) -> Result<Value, StoreError> {
    let mut map = Map::new();
    for (i, name) in names.iter().enumerate() {
        let value = match row.0.get(i) {
            Some(super::Value::Int(n)) if name.ends_with("_at") => json!(rfc3339(*n)),
            // Days since 1970-01-01 (the share link's daily counts), as a date.
            Some(super::Value::Int(n)) if *name == "day" => {
                json!(rfc3339(n.saturating_mul(86_400_000)).get(..10))
            }
            Some(super::Value::Int(n)) => json!(n),
            Some(super::Value::Text(text)) if matches!(*name, "document" | "recipient") => {
                serde_json::from_str(text).unwrap_or_else(|_| json!(text))
            }
            Some(super::Value::Text(text)) => json!(text),
            Some(super::Value::TextList(list)) => json!(list),
            Some(super::Value::Null) | None => Value::Null,
        };
        map.insert((*name).to_string(), value);
    }
    Ok(Value::Object(map))
}

fn objects(
    conn: &mut dyn Conn,
    names: &[&str],
    from: &str,
    user_id: &str,
) -> Result<Vec<Value>, StoreError> {
    let sql = format!("SELECT {} {from}", names.join(", "));
    conn.query(&sql, params![user_id])?
        .iter()
        .map(|row| object(names, row))
        .collect()
}

/// Everything held about the account, as one JSON document; `None` when there is no such
/// account. `audit` is the log's entries about them (read by the caller, who also records
/// this export in it).
pub fn export(
    conn: &mut dyn Conn,
    user_id: &str,
    audit: Vec<Entry>,
    now: i64,
) -> Result<Option<Value>, StoreError> {
    let account = objects(
        conn,
        &[
            "id",
            "email",
            "kind",
            "organisation",
            "email_verified_at",
            "given_name",
            "family_name",
            "additional_name",
            "phone",
            "address",
            "headline",
            "summary",
            "created_at",
            "updated_at",
        ],
        "FROM users WHERE id = $1",
        user_id,
    )?;
    let Some(account) = account.into_iter().next() else {
        return Ok(None);
    };
    // The credentials on the resume, each with the original as its issuer sent it.
    let credentials = objects(
        conn,
        &[
            "id",
            "partner",
            "assertion_id",
            "kind",
            "name",
            "description",
            "issuer_id",
            "issuer_name",
            "achievement_type",
            "section",
            "awarded_text",
            "valid_until_text",
            "verification",
            "verification_reason",
            "verification_checked_at",
            "created_at",
            "updated_at",
            "document",
            "jws",
        ],
        "FROM (SELECT c.id, p.name AS partner, c.assertion_id, c.kind, c.name, c.description, c.issuer_id, c.issuer_name,
                      c.achievement_type, c.section, c.awarded_text, c.valid_until_text, c.verification,
                      c.verification_reason, c.verification_checked_at, c.created_at, c.updated_at, c.document, c.jws
               FROM credentials c JOIN partners p ON p.id = c.partner_id
               WHERE c.owner_user_id = $1) owned ORDER BY created_at, id",
        user_id,
    )?;
    let entries = objects(
        conn,
        &[
            "id",
            "credential_id",
            "section",
            "hidden",
            "title",
            "organisation",
            "start_text",
            "end_text",
            "description",
            "created_at",
            "updated_at",
        ],
        "FROM resume_entries WHERE user_id = $1 ORDER BY created_at, id",
        user_id,
    )?;
    let skills = objects(
        conn,
        &[
            "id",
            "skill",
            "framework",
            "code",
            "level",
            "hidden",
            "credential_id",
            "created_at",
        ],
        "FROM (SELECT r.id, s.name AS skill, s.framework, s.code, r.level, r.hidden, s.credential_id, r.created_at
               FROM resume_skills r JOIN skills s ON s.id = r.skill_id WHERE r.user_id = $1) chosen ORDER BY created_at, id",
        user_id,
    )?;
    let packages = objects(
        conn,
        &[
            "id",
            "partner",
            "recipient",
            "recipient_id",
            "created_at",
            "expires_at",
            "claimed_at",
            "in_inbox",
        ],
        "FROM (SELECT k.id, p.name AS partner, k.recipient, k.recipient_id, k.created_at, k.expires_at, k.claimed_at,
                      CASE WHEN k.inbox_user_id = $1 AND k.claimed_by IS NULL THEN 1 ELSE 0 END AS in_inbox
               FROM packages k JOIN partners p ON p.id = k.partner_id
               WHERE k.claimed_by = $1 OR k.inbox_user_id = $1) theirs ORDER BY created_at, id",
        user_id,
    )?;
    let share_link = objects(
        conn,
        &["created_at"],
        "FROM resume_shares WHERE user_id = $1",
        user_id,
    )?;
    let recipient_links = objects(
        conn,
        &["partner", "recipient_id", "created_at"],
        "FROM (SELECT p.name AS partner, l.recipient_id, l.created_at FROM recipient_links l JOIN partners p ON p.id = l.partner_id
               WHERE l.user_id = $1) linked ORDER BY created_at, recipient_id",
        user_id,
    )?;
    let wallet_pushes = objects(
        conn,
        &["wallet", "state", "attempts", "last_error", "created_at", "ended_at"],
        "FROM (SELECT p.name AS wallet, w.state, w.attempts, w.last_error, w.created_at, w.ended_at
               FROM wallet_pushes w JOIN partners p ON p.id = w.partner_id WHERE w.user_id = $1) pushes ORDER BY created_at",
        user_id,
    )?;
    let sessions = objects(
        conn,
        &["created_at", "last_seen_at", "expires_at"],
        "FROM sessions WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )?;
    let devices = objects(
        conn,
        &["created_at", "last_used_at"],
        "FROM known_devices WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )?;
    let mail = objects(
        conn,
        &[
            "to_address",
            "subject",
            "created_at",
            "sent_at",
            "suppressed_at",
        ],
        "FROM email_outbox WHERE link_user_id = $1 OR to_address = (SELECT email FROM users WHERE id = $1) ORDER BY created_at, id",
        user_id,
    )?;
    let link_views = objects(
        conn,
        &["day", "views"],
        "FROM (SELECT d.day, d.views FROM share_view_days d JOIN resume_shares s ON s.token_hash = d.token_hash
               WHERE s.user_id = $1) counted ORDER BY day",
        user_id,
    )?;
    let viewers = objects(
        conn,
        &["viewer", "organisation", "entry_id", "first_opened_at", "last_opened_at", "opens"],
        "FROM (SELECT TRIM(COALESCE(u.given_name, '') || ' ' || COALESCE(u.family_name, '')) AS viewer, u.organisation,
                      o.entry_id, o.first_opened_at, o.last_opened_at, o.opens
               FROM share_viewer_opens o JOIN resume_shares s ON s.token_hash = o.token_hash JOIN users u ON u.id = o.viewer_id
               WHERE s.user_id = $1) opened ORDER BY last_opened_at",
        user_id,
    )?;
    let opened_as_viewer = objects(
        conn,
        &["entry_id", "first_opened_at", "last_opened_at", "opens"],
        "FROM share_viewer_opens WHERE viewer_id = $1 ORDER BY last_opened_at",
        user_id,
    )?;
    let confirmations = objects(
        conn,
        &["package_id", "codes_sent", "confirmed_at", "created_at"],
        "FROM recipient_confirmations WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )?;
    Ok(Some(json!({
        "format": "credentialconnect-personal-data/1",
        "exported_at": rfc3339(now),
        "account": account,
        "resume": {
            "entries": entries,
            "skills": skills,
            "credentials": credentials,
        },
        "packages": packages,
        "share_link": share_link.into_iter().next(),
        "share_link_views": {
            "per_day": link_views,
            "by_viewer_accounts": viewers,
        },
        "opened_as_viewer": opened_as_viewer,
        "recipient_links": recipient_links,
        "wallet_pushes": wallet_pushes,
        "sessions": sessions,
        "known_devices": devices,
        "mail": mail,
        "recipient_confirmations": confirmations,
        "audit": audit,
    })))
}

/// What an erasure removed, in numbers (the audit log records these, never what they were).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub credentials: u64,
    pub packages: u64,
    pub entries: u64,
    pub mail: u64,
}

fn texts(conn: &mut dyn Conn, sql: &str, user_id: &str) -> Result<Vec<String>, StoreError> {
    conn.query(sql, params![user_id])?
        .iter()
        .map(|row| row.text(0))
        .collect()
}

/// Removes the account and every piece of personal data linked to it: its profile, sessions,
/// devices, links and tokens, resume, share link, wallet pushes, the mail sent to it, the
/// packages it claimed or was sent to its inbox, and the credentials it owned or that came
/// in those packages (with their skills, children and alerts). What it owned is kept as
/// digests in `erased_assertions`. `None` when there is no such account (erased already).
pub fn erase(conn: &mut dyn Conn, user_id: &str, now: i64) -> Result<Option<Erased>, StoreError> {
    let Some(email) = conn
        .query_opt("SELECT email FROM users WHERE id = $1", params![user_id])?
        .map(|row| row.text(0))
        .transpose()?
    else {
        return Ok(None);
    };
    let mut erased = Erased::default();

    // What goes: the packages that came to them, and the credentials they own or that came
    // in those packages unclaimed by anyone else and in no one else's package.
    let packages = texts(
        conn,
        "SELECT id FROM packages WHERE claimed_by = $1 OR inbox_user_id = $1",
        user_id,
    )?;
    let mut credentials = texts(
        conn,
        "SELECT id FROM credentials WHERE owner_user_id = $1",
        user_id,
    )?;
    for owned in conn.query(
        "SELECT partner_id, assertion_key FROM credentials WHERE owner_user_id = $1",
        params![user_id],
    )? {
        let digest = erased_assertion_digest(&owned.text(0)?, &owned.text(1)?);
        conn.execute(
            "INSERT INTO erased_assertions (digest, erased_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
            params![&digest, now],
        )?;
    }
    for package in &packages {
        let unowned = conn.query(
            "SELECT c.id FROM package_credentials pc JOIN credentials c ON c.id = pc.credential_id
             WHERE pc.package_id = $1 AND c.owner_user_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM package_credentials other JOIN packages k ON k.id = other.package_id
                               WHERE other.credential_id = c.id AND other.package_id <> $1
                                 AND COALESCE(k.claimed_by, k.inbox_user_id, '') <> $2)",
            params![package, user_id],
        )?;
        for row in unowned {
            let id = row.text(0)?;
            if !credentials.contains(&id) {
                credentials.push(id);
            }
        }
    }
    // A CLR's parts go with it.
    let mut i = 0;
    while i < credentials.len() {
        let children = conn.query(
            "SELECT id FROM credentials WHERE parent_id = $1",
            params![&credentials[i]],
        )?;
        for row in children {
            let id = row.text(0)?;
            if !credentials.contains(&id) {
                credentials.push(id);
            }
        }
        i += 1;
    }

    // What was counted of their share link, and what they opened as a viewer.
    for table in ["share_view_days", "share_viewer_opens"] {
        conn.execute(
            &format!(
                "DELETE FROM {table} WHERE token_hash IN (SELECT token_hash FROM resume_shares WHERE user_id = $1)"
            ),
            params![user_id],
        )?;
    }
    conn.execute(
        "DELETE FROM share_viewer_opens WHERE viewer_id = $1",
        params![user_id],
    )?;
    // The person's own rows.
    for table in [
        "sessions",
        "email_tokens",
        "known_devices",
        "recipient_links",
        "recipient_tokens",
        "resume_skills",
        "resume_shares",
        "wallet_pushes",
        "recipient_confirmations",
        "admin_recovery_codes",
        "admins",
    ] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE user_id = $1"),
            params![user_id],
        )?;
    }
    erased.entries = conn.execute(
        "DELETE FROM resume_entries WHERE user_id = $1",
        params![user_id],
    )?;
    erased.mail = conn.execute(
        "DELETE FROM email_outbox WHERE link_user_id = $1 OR to_address = $2",
        params![user_id, &email],
    )?;

    for package in &packages {
        for table in [
            "package_credentials",
            "activation_links",
            "activation_backfill",
            "recipient_confirmations",
        ] {
            conn.execute(
                &format!("DELETE FROM {table} WHERE package_id = $1"),
                params![package],
            )?;
        }
        conn.execute(
            "DELETE FROM email_outbox WHERE link_package_id = $1",
            params![package],
        )?;
        conn.execute(
            "DELETE FROM alerts WHERE subject = $1 AND kind = 'claim_conflict'",
            params![package],
        )?;
        erased.packages += conn.execute("DELETE FROM packages WHERE id = $1", params![package])?;
    }

    // A part refers to its parent: unhook them all first, then delete in any order.
    for id in &credentials {
        conn.execute(
            "UPDATE credentials SET parent_id = NULL WHERE id = $1",
            params![id],
        )?;
    }
    for id in &credentials {
        let Some(row) = conn.query_opt(
            "SELECT partner_id, assertion_key, assertion_id FROM credentials WHERE id = $1",
            params![id],
        )?
        else {
            continue;
        };
        let (partner, key) = (row.text(0)?, row.text(1)?);
        let assertion = row.opt_text(2)?.unwrap_or_else(|| key.clone());
        conn.execute(
            "DELETE FROM resume_skills WHERE skill_id IN (SELECT id FROM skills WHERE credential_id = $1)",
            params![id],
        )?;
        conn.execute(
            "DELETE FROM resume_entries WHERE credential_id = $1",
            params![id],
        )?;
        for sql in [
            "DELETE FROM skills WHERE credential_id = $1",
            "DELETE FROM package_credentials WHERE credential_id = $1",
            "DELETE FROM alerts WHERE subject = $1 AND kind = 'claim_conflict'",
        ] {
            conn.execute(sql, params![id])?;
        }
        conn.execute(
            "DELETE FROM alerts WHERE kind = 'verification_failed' AND partner_id = $1 AND subject = $2",
            params![&partner, &assertion],
        )?;
        erased.credentials += conn.execute("DELETE FROM credentials WHERE id = $1", params![id])?;
    }

    conn.execute("DELETE FROM users WHERE id = $1", params![user_id])?;
    Ok(Some(erased))
}

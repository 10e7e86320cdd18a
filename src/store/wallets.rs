//! Wallet partners and the pushes queued to them (an outbox: a worker takes a lease on each
//! due push, as mail's outbox does, so each attempt is made by one instance).

use super::outbox::{LeasedQueue, lease_oldest};
use super::{Conn, Row, StoreError, new_id, params};
use crate::domain::wallet::{Push, PushState, Wallet};

const WALLET_COLUMNS: &str =
    "w.partner_id, p.slug, p.name, w.push_url, w.token_url, w.client_id, w.landing_url";

fn wallet(row: &Row) -> Result<Wallet, StoreError> {
    Ok(Wallet {
        partner_id: row.text(0)?,
        slug: row.text(1)?,
        name: row.text(2)?,
        push_url: row.text(3)?,
        token_url: row.text(4)?,
        client_id: row.text(5)?,
        landing_url: row.text(6)?,
    })
}

/// What `partner set --wallet-…` decides: every part of a wallet, its secret sealed.
#[derive(Debug, Clone)]
pub struct WalletSettings {
    pub push_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub landing_url: String,
}

/// Makes the partner a wallet, or replaces its wallet settings.
pub fn set(
    conn: &mut dyn Conn,
    partner_id: &str,
    settings: &WalletSettings,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO partner_wallets (partner_id, push_url, token_url, client_id, client_secret_sealed, landing_url, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (partner_id) DO UPDATE SET push_url = excluded.push_url, token_url = excluded.token_url,
             client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
             landing_url = excluded.landing_url, updated_at = excluded.updated_at",
        params![
            partner_id,
            &settings.push_url,
            &settings.token_url,
            &settings.client_id,
            &settings.client_secret_sealed,
            &settings.landing_url,
            now
        ],
    )?;
    Ok(())
}

/// The partner stops being a wallet; pushes still queued to it fail.
pub fn remove(conn: &mut dyn Conn, partner_id: &str, now: i64) -> Result<bool, StoreError> {
    conn.execute(
        "UPDATE wallet_pushes SET state = 'failed', credential = NULL, locked_until = NULL, ended_at = $1,
             last_error = 'the wallet is no longer offered here'
         WHERE partner_id = $2 AND state = 'queued'",
        params![now, partner_id],
    )?;
    Ok(conn.execute(
        "DELETE FROM partner_wallets WHERE partner_id = $1",
        params![partner_id],
    )? == 1)
}

/// The wallet settings of one partner, enabled or not.
pub fn of_partner(conn: &mut dyn Conn, partner_id: &str) -> Result<Option<Wallet>, StoreError> {
    let sql = format!(
        "SELECT {WALLET_COLUMNS} FROM partner_wallets w JOIN partners p ON p.id = w.partner_id WHERE w.partner_id = $1"
    );
    conn.query_opt(&sql, params![partner_id])?
        .map(|row| wallet(&row))
        .transpose()
}

/// The wallets a person can push to: enabled partners with wallet settings, by name.
pub fn offered(conn: &mut dyn Conn) -> Result<Vec<Wallet>, StoreError> {
    let sql = format!(
        "SELECT {WALLET_COLUMNS} FROM partner_wallets w JOIN partners p ON p.id = w.partner_id
         WHERE p.disabled = 0 ORDER BY p.name, p.slug"
    );
    conn.query(&sql, &[])?.iter().map(wallet).collect()
}

/// An offered wallet by its partner's slug.
pub fn offered_by_slug(conn: &mut dyn Conn, slug: &str) -> Result<Option<Wallet>, StoreError> {
    let sql = format!(
        "SELECT {WALLET_COLUMNS} FROM partner_wallets w JOIN partners p ON p.id = w.partner_id
         WHERE p.slug = $1 AND p.disabled = 0"
    );
    conn.query_opt(&sql, params![slug])?
        .map(|row| wallet(&row))
        .transpose()
}

/// The sealed client secret of a partner's wallet, for the token request.
pub fn sealed_secret(conn: &mut dyn Conn, partner_id: &str) -> Result<Option<String>, StoreError> {
    conn.query_opt(
        "SELECT client_secret_sealed FROM partner_wallets WHERE partner_id = $1",
        params![partner_id],
    )?
    .map(|row| row.text(0))
    .transpose()
}

/// Queues a push of `credential` (the signed resume, as JSON) to the partner's wallet.
pub fn queue(
    conn: &mut dyn Conn,
    user_id: &str,
    partner_id: &str,
    credential: &str,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    conn.execute(
        "INSERT INTO wallet_pushes (id, user_id, partner_id, credential, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5)",
        params![&id, user_id, partner_id, credential, now],
    )?;
    Ok(id)
}

/// A push leased for one attempt.
#[derive(Debug, Clone)]
pub struct Leased {
    pub id: String,
    pub partner_id: String,
    pub credential: String,
    /// Attempts made, this one included.
    pub attempts: i64,
}

const PUSHES: LeasedQueue = LeasedQueue {
    table: "wallet_pushes",
    pending: "state = 'queued'",
};

/// Takes a lease on the oldest due push, if any (`outbox::lease_oldest`).
pub fn lease_next(
    conn: &mut dyn Conn,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Leased>, StoreError> {
    let Some(id) = lease_oldest(conn, &PUSHES, now, lease_ms)? else {
        return Ok(None);
    };
    let row = conn.query_one(
        "SELECT partner_id, credential, attempts FROM wallet_pushes WHERE id = $1",
        params![&id],
    )?;
    Ok(Some(Leased {
        id,
        partner_id: row.text(0)?,
        credential: row.opt_text(1)?.unwrap_or_default(),
        attempts: row.int(2)?,
    }))
}

/// The push arrived: its copy of the credential is dropped.
pub fn mark_sent(conn: &mut dyn Conn, id: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE wallet_pushes SET state = 'sent', credential = NULL, locked_until = NULL, last_error = NULL, ended_at = $1
         WHERE id = $2",
        params![now, id],
    )?;
    Ok(())
}

/// The push failed for good: its copy of the credential is dropped.
pub fn mark_failed(conn: &mut dyn Conn, id: &str, error: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE wallet_pushes SET state = 'failed', credential = NULL, locked_until = NULL, last_error = $1, ended_at = $2
         WHERE id = $3",
        params![error, now, id],
    )?;
    Ok(())
}

/// The attempt failed in a way that may pass: the push waits until `retry_at`.
pub fn mark_retry(
    conn: &mut dyn Conn,
    id: &str,
    error: &str,
    retry_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE wallet_pushes SET locked_until = NULL, last_error = $1, next_attempt_at = $2 WHERE id = $3",
        params![error, retry_at, id],
    )?;
    Ok(())
}

/// The person's latest pushes, newest first.
pub fn of_user(conn: &mut dyn Conn, user_id: &str, limit: i64) -> Result<Vec<Push>, StoreError> {
    conn.query(
        "SELECT w.id, p.name, w.state, w.attempts, w.last_error, w.created_at, w.ended_at
         FROM wallet_pushes w JOIN partners p ON p.id = w.partner_id
         WHERE w.user_id = $1 ORDER BY w.created_at DESC, w.id DESC LIMIT $2",
        params![user_id, limit],
    )?
    .iter()
    .map(|row| {
        let state = row.text(2)?;
        Ok(Push {
            id: row.text(0)?,
            wallet_name: row.text(1)?,
            state: PushState::parse(&state)
                .ok_or_else(|| StoreError::Other(format!("unknown push state {state:?}")))?,
            attempts: row.int(3)?,
            last_error: row.opt_text(4)?,
            created_at: row.int(5)?,
            ended_at: row.opt_int(6)?,
        })
    })
    .collect()
}

/// How many of the person's pushes are waiting to go out.
pub fn queued_of_user(conn: &mut dyn Conn, user_id: &str) -> Result<i64, StoreError> {
    conn.query_one(
        "SELECT COUNT(*) FROM wallet_pushes WHERE user_id = $1 AND state = 'queued'",
        params![user_id],
    )?
    .int(0)
}

/// Removes pushes that ended (sent or failed) before `cutoff`; waiting ones stay.
pub fn purge_ended(conn: &mut dyn Conn, cutoff: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM wallet_pushes WHERE state <> 'queued' AND ended_at < $1",
        params![cutoff],
    )
}

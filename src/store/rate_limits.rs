//! Rate-limit counts traded between instances that share this database (the rules are
//! `services::ratelimit`'s): each instance writes its own count per (limit, key digest,
//! window) and reads what the others wrote since it last looked.

use super::{Conn, StoreError, params};

/// This instance's count of a key in a window of a limit, for the other instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    pub limiter: &'static str,
    pub key_hash: String,
    pub window_start: i64,
    pub window_end: i64,
    pub count: u32,
}

/// Another instance's count, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub limiter: String,
    pub key_hash: String,
    pub window_start: i64,
    pub instance: String,
    pub count: u32,
}

/// Writes (or overwrites) this instance's count of one key.
pub fn put(
    conn: &mut dyn Conn,
    instance: &str,
    count: &Unsent,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO rate_limit_counts (limiter, key_hash, window_start, instance, count, expires_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (limiter, key_hash, window_start, instance)
         DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at",
        params![
            count.limiter,
            &count.key_hash,
            count.window_start,
            instance,
            i64::from(count.count),
            count.window_end,
            now
        ],
    )?;
    Ok(())
}

/// The other instances' counts written since `since` (ms) whose window is not over.
pub fn others_since(
    conn: &mut dyn Conn,
    instance: &str,
    since: i64,
) -> Result<Vec<Heard>, StoreError> {
    conn.query(
        "SELECT limiter, key_hash, window_start, instance, count FROM rate_limit_counts
         WHERE updated_at >= $1 AND instance <> $2",
        params![since, instance],
    )?
    .iter()
    .map(|row| {
        Ok(Heard {
            limiter: row.text(0)?,
            key_hash: row.text(1)?,
            window_start: row.int(2)?,
            instance: row.text(3)?,
            count: u32::try_from(row.int(4)?).unwrap_or(u32::MAX),
        })
    })
    .collect()
}

/// Removes counts whose window is over.
pub fn purge(conn: &mut dyn Conn, now: i64) -> Result<u64, StoreError> {
    conn.execute(
        "DELETE FROM rate_limit_counts WHERE expires_at < $1",
        params![now],
    )
}

//! Leases on background jobs, so that a job runs once across every instance sharing the
//! database: an instance runs a job only after a conditional update of the job's row says it
//! may. On PostgreSQL a second instance's update waits for the first one's row lock and then
//! finds the condition false; on SQLite the single writer serialises them.

use super::{Conn, StoreError, params};

/// Takes the lease on `job` for `holder` when nobody holds it and the last run finished at
/// least `every_ms` ago (or never ran). `lease_ms` bounds how long a crashed holder keeps
/// others out.
pub fn try_start(
    conn: &mut dyn Conn,
    job: &str,
    holder: &str,
    now: i64,
    every_ms: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    conn.execute(
        "INSERT INTO background_jobs (job) VALUES ($1) ON CONFLICT (job) DO NOTHING",
        params![job],
    )?;
    let taken = conn.execute(
        "UPDATE background_jobs SET holder = $1, lease_until = $2, last_started_at = $3
         WHERE job = $4 AND (lease_until IS NULL OR lease_until < $3)
           AND (last_finished_at IS NULL OR last_finished_at <= $5)",
        params![holder, now + lease_ms, now, job, now - every_ms],
    )?;
    Ok(taken == 1)
}

/// Records a finished run and gives the lease back (if `holder` still has it).
pub fn finish(conn: &mut dyn Conn, job: &str, holder: &str, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE background_jobs SET holder = NULL, lease_until = NULL, last_finished_at = $1, runs = runs + 1
         WHERE job = $2 AND holder = $3",
        params![now, job, holder],
    )?;
    Ok(())
}

/// How often `job` has run to the end, and when it last finished.
pub fn history(conn: &mut dyn Conn, job: &str) -> Result<(i64, Option<i64>), StoreError> {
    Ok(
        match conn.query_opt(
            "SELECT runs, last_finished_at FROM background_jobs WHERE job = $1",
            params![job],
        )? {
            Some(row) => (row.int(0)?, row.opt_int(1)?),
            None => (0, None),
        },
    )
}

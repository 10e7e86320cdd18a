//! The SQLite engine: one writer thread that commits many requests' work in one durable
//! transaction (group commit), and a small pool of read-only connections.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed transaction survives power loss.
//! One job's failure never undoes another's: each job runs in a SAVEPOINT of its own, or
//! neighbouring repeatable jobs share one and, should one of them fail, each runs again in
//! its own (`run_group`).
//!
//! The write-ahead log starts again from its beginning only when a checkpoint has copied all
//! of it back and no reader still uses it. SQLite's automatic checkpoints are passive: under
//! a steady stream of reads they may not find that moment for a long time, and the file
//! keeps the largest size it ever reached (a 30-minute soak grew it from 4 to 50 MiB). So the
//! writer regularly runs a TRUNCATE checkpoint, which waits a moment for the readers of older
//! snapshots (reads take milliseconds) and then empties the file; a journal size limit bounds
//! what is kept between those.

use super::{Conn, Row, StoreError, Value, contain_panic, migrations};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot};

/// How many jobs one commit may carry.
const MAX_GROUP: usize = 256;
const READERS: usize = 4;
/// The log size kept after SQLite restarts the log by itself (`journal_size_limit`).
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;
/// How long the writer waits for other connections at start-up (the CLI may be writing).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// When the writer empties the write-ahead log.
#[derive(Debug, Clone, Copy)]
pub(super) struct Checkpoints {
    /// At most this often, after a commit.
    pub every: Duration,
    /// How long a checkpoint waits for readers of older snapshots before it gives up until
    /// the next time: this is time no write is committed, so it is kept short.
    pub wait: Duration,
}

impl Default for Checkpoints {
    fn default() -> Self {
        Checkpoints {
            every: Duration::from_secs(10),
            wait: Duration::from_millis(100),
        }
    }
}

pub(super) struct SqliteEngine {
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    /// Idle readers, taken from the front and returned to the back: each takes its turn, so
    /// all of them warm their page caches early rather than the spare ones growing the
    /// process's memory at the first busy moment, hours in.
    readers: Arc<Mutex<VecDeque<Connection>>>,
    reader_permits: Arc<Semaphore>,
}

impl SqliteEngine {
    pub(super) fn open(path: &Path) -> Result<SqliteEngine, StoreError> {
        Self::open_with(path, Checkpoints::default())
    }

    pub(super) fn open_with(
        path: &Path,
        checkpoints: Checkpoints,
    ) -> Result<SqliteEngine, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("creating {}: {e}", parent.display()))
            })?;
        }
        let mut writer = open_connection(path, false)?;
        in_transaction(&writer, "BEGIN IMMEDIATE", |conn| {
            migrations::run(conn, migrations::Engine::Sqlite)
        })?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, true))
            .collect::<Result<VecDeque<_>, _>>()?;
        let (sender, receiver) = mpsc::channel::<Box<dyn WriteJob>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(&mut writer, &receiver, checkpoints))
            .map_err(|e| StoreError::Other(format!("starting the SQLite writer: {e}")))?;
        Ok(SqliteEngine {
            writer: sender,
            readers: Arc::new(Mutex::new(readers)),
            reader_permits: Arc::new(Semaphore::new(READERS)),
        })
    }

    pub(super) async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let mut job = Some(job);
        let once = move |conn: &mut dyn Conn| match job.take() {
            Some(job) => job(conn),
            None => Err(StoreError::Other("job ran twice".into())),
        };
        self.submit(once, false).await
    }

    /// Like `write`, for a job that may run again after its work was rolled back: such jobs
    /// share one savepoint with their neighbours in a group commit (`run_group`).
    pub(super) async fn write_repeatable<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(job, true).await
    }

    async fn submit<T, F>(&self, job: F, repeatable: bool) -> Result<T, StoreError>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Box::new(TypedJob {
                job,
                repeatable,
                outcome: None,
                reply,
            }))
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Other("the SQLite writer dropped a job".into()))?
    }

    pub(super) async fn read<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let connection = readers
                .lock()
                .map_err(|_| StoreError::Other("reader pool poisoned".into()))?
                .pop_front()
                .ok_or_else(|| StoreError::Other("no idle reader despite a permit".into()))?;
            let outcome = in_transaction(&connection, "BEGIN", job);
            if let Ok(mut pool) = readers.lock() {
                pool.push_back(connection);
            }
            outcome
        })
        .await
        .map_err(|e| StoreError::Other(format!("a read panicked: {e}")))?
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
    // `temp_store = MEMORY` keeps the writer's savepoint journals (one per job in a group
    // commit: the pages a job changes, kept to undo it alone) in memory: past 64 KiB SQLite
    // spills them to a temporary file, and writing that file was an eighth of the writer's
    // time per fresh upload. They hold one job's pages at most, and vanish with a crash as a
    // temporary file would: the database's durability is the write-ahead log's.
    // `wal_autocheckpoint = 4096` pages (16 MiB, the size `journal_size_limit` keeps): SQLite's
    // own checkpoints copy the log back four times less often than its default 1,000 pages,
    // so a page changed by many commits (an index's inner pages) is copied back once instead
    // of four times; fresh uploads gained a tenth. The writer's TRUNCATE checkpoint every 10 s
    // still empties the log.
    let pragmas = if read_only {
        "PRAGMA foreign_keys = ON;".to_string()
    } else {
        format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 4096;"
        )
    };
    connection.busy_timeout(BUSY_TIMEOUT).map_err(convert)?;
    connection.execute_batch(&pragmas).map_err(convert)?;
    connection.set_prepared_statement_cache_capacity(128);
    Ok(connection)
}

fn in_transaction<T>(
    connection: &Connection,
    begin: &str,
    job: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection.execute_batch(begin).map_err(convert)?;
    let outcome = contain_panic(|| job(&mut SqliteTx(connection)));
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    match connection.execute_batch(end) {
        Ok(()) => outcome,
        Err(e) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(convert(e))
        }
    }
}

/// A write waiting for the writer thread.
trait WriteJob: Send {
    /// Runs the job; returns whether it succeeded (its work is kept).
    fn run(&mut self, conn: &mut dyn Conn) -> bool;
    /// Whether the job may run again once its work has been rolled back (`run_group`).
    fn repeatable(&self) -> bool;
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

/// A job and what its caller waits for. Its latest run's outcome is the one answered.
struct TypedJob<T, F> {
    job: F,
    /// Whether the job may run again (`SqliteEngine::write_repeatable`); `write`'s jobs run
    /// once at most and say so if asked again.
    repeatable: bool,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    F: FnMut(&mut dyn Conn) -> Result<T, StoreError> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut dyn Conn) -> bool {
        let outcome = contain_panic(|| (self.job)(conn));
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn repeatable(&self) -> bool {
        self.repeatable
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let answer = match (commit, self.outcome) {
            (_, Some(Err(e))) => Err(e),
            (Err(e), _) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Ok(()), None) => Err(StoreError::Other("job never ran".into())),
        };
        let _ = self.reply.send(answer);
    }
}

fn writer_loop(
    connection: &mut Connection,
    jobs: &mpsc::Receiver<Box<dyn WriteJob>>,
    checkpoints: Checkpoints,
) {
    let mut last_checkpoint = Instant::now();
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let commit = run_group(connection, &mut group);
        for job in group {
            job.finish(commit.clone());
        }
        if last_checkpoint.elapsed() >= checkpoints.every {
            last_checkpoint = Instant::now();
            checkpoint(connection, checkpoints.wait);
        }
    }
}

/// Copies the log back into the database and empties it, if the readers of older
/// snapshots finish within `wait`; otherwise copies what it can and leaves the rest for
/// the next time. Failure is only logged: the commit it follows has already succeeded.
fn checkpoint(connection: &Connection, wait: Duration) {
    let outcome = connection.busy_timeout(wait).and_then(|()| {
        connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        })
    });
    match outcome {
        Ok(0) => {}
        Ok(_) => tracing::debug!("checkpoint: readers still use the log; trying again later"),
        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
    }
    if let Err(e) = connection.busy_timeout(BUSY_TIMEOUT) {
        tracing::warn!(error = %e, "restoring the busy timeout");
    }
}

/// Runs a parameterless statement through the statement cache: the writer issues these
/// for every job, and parsing them each time shows up under load.
fn exec(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs a group of jobs in one transaction. Each job's failure must undo its work alone, so
/// each runs in a savepoint; but a savepoint makes SQLite copy every page the job changes
/// first (to undo it), and jobs in a row change the same pages (a table's last leaf, its
/// indexes' inner pages). So neighbouring repeatable jobs share one savepoint, and should one
/// of them fail, their work is rolled back and each runs again in a savepoint of its own:
/// the writer's time per upload fell by a twentieth (67 to 63 µs for a fresh package, 34 to
/// 32 µs for a known one).
fn run_group(connection: &Connection, group: &mut [Box<dyn WriteJob>]) -> Result<(), String> {
    exec(connection, "BEGIN IMMEDIATE").map_err(|e| e.to_string())?;
    let mut start = 0;
    while start < group.len() {
        let shared = group[start..]
            .iter()
            .take_while(|job| job.repeatable())
            .count();
        let outcome = if shared > 1 {
            let jobs = &mut group[start..start + shared];
            start += shared;
            run_together(connection, jobs)
        } else {
            start += 1;
            run_alone(connection, &mut group[start - 1])
        };
        if let Err(e) = outcome {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
    }
    exec(connection, "COMMIT").map_err(|e| {
        let _ = connection.execute_batch("ROLLBACK");
        e.to_string()
    })
}

/// Runs repeatable jobs in one savepoint; if one fails, rolls all of them back and runs
/// each in a savepoint of its own.
fn run_together(connection: &Connection, jobs: &mut [Box<dyn WriteJob>]) -> rusqlite::Result<()> {
    exec(connection, "SAVEPOINT jobs")?;
    let all_kept = jobs
        .iter_mut()
        .all(|job| job.run(&mut SqliteTx(connection)));
    if all_kept {
        return exec(connection, "RELEASE jobs");
    }
    exec(connection, "ROLLBACK TO jobs")?;
    exec(connection, "RELEASE jobs")?;
    jobs.iter_mut()
        .try_for_each(|job| run_alone(connection, job))
}

/// Runs a job in a savepoint of its own, keeping its work if it succeeds.
fn run_alone(connection: &Connection, job: &mut Box<dyn WriteJob>) -> rusqlite::Result<()> {
    exec(connection, "SAVEPOINT job")?;
    if job.run(&mut SqliteTx(connection)) {
        exec(connection, "RELEASE job")
    } else {
        exec(connection, "ROLLBACK TO job")?;
        exec(connection, "RELEASE job")
    }
}

/// A connection inside an open transaction.
struct SqliteTx<'c>(&'c Connection);

impl Conn for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut statement = self.0.prepare_cached(sql).map_err(convert)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params))
            .map_err(convert)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.0.prepare_cached(sql).map_err(convert)?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(convert)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(convert)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(convert)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(f) => Value::Text(f.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.0.execute_batch(sql).map_err(convert)
    }
}

/// Parameters are bound by reference: SQLite copies text as it binds it, so copying each
/// string first (into an owned `rusqlite` value) was wasted work on the writer thread.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::TextList(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "SQLite has no arrays: a list is bound on PostgreSQL only".into(),
                ));
            }
        })
    }
}

/// A taken primary key or unique value (SQLite's extended result codes) is a `Conflict`, as
/// SQLSTATE 23505 is on PostgreSQL; other broken rules (NOT NULL, CHECK, foreign keys) are
/// bugs in the SQL, `Other`, on both engines.
fn convert(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error
        && matches!(
            failure.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        )
    {
        return StoreError::Conflict(error.to_string());
    }
    match error.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull,
        ) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_size(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    }

    async fn fill(engine: &SqliteEngine, bytes: usize) {
        let chunk = "x".repeat(64 * 1024);
        for _ in 0..bytes / chunk.len() {
            let chunk = chunk.clone();
            engine
                .write(move |conn| {
                    conn.execute(
                        "INSERT INTO filler (body) VALUES ($1)",
                        &[Value::Text(chunk)],
                    )
                })
                .await
                .expect("insert");
        }
    }

    /// A reader that keeps an old snapshot for a while (a slow page, a stalled machine)
    /// lets the log grow, since nothing it may still read can be overwritten. Once it is
    /// gone the log must shrink back, not keep the largest size it ever reached.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_write_ahead_log_shrinks_back_after_a_reader_held_it_open() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("wal.db");
        let engine = SqliteEngine::open_with(
            &path,
            Checkpoints {
                every: Duration::ZERO,
                wait: Duration::from_millis(5),
            },
        )
        .expect("open");
        engine
            .write(|conn| conn.batch("CREATE TABLE filler (body TEXT NOT NULL)"))
            .await
            .expect("table");

        let (holding, held) = oneshot::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let reader = tokio::spawn({
            let readers = engine.readers.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let connection = readers.lock().expect("pool").pop_front().expect("a reader");
                    in_transaction(&connection, "BEGIN", |conn| {
                        conn.query("SELECT count(*) FROM filler", &[])?;
                        let _ = holding.send(());
                        let _ = released.recv();
                        Ok(())
                    })
                })
                .await
            }
        });
        held.await.expect("the reader holds its snapshot");

        fill(&engine, 8 * 1024 * 1024).await;
        let grown = wal_size(&path);
        assert!(
            grown > 6 * 1024 * 1024,
            "the held snapshot kept the log: {grown} bytes"
        );

        release.send(()).expect("release the reader");
        reader
            .await
            .expect("reader task")
            .expect("reader")
            .expect("read");
        fill(&engine, 256 * 1024).await;
        let after = wal_size(&path);
        assert!(
            after < 2 * 1024 * 1024,
            "the log is back to a small size once no reader needs it: {after} bytes (it had grown to {grown})"
        );
    }

    /// Jobs that may run again share one savepoint in a group commit. One of them failing
    /// halfway must still undo only its own work: the others' is committed, and each caller
    /// hears its own outcome.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_in_a_group_undoes_only_its_own_work() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let engine = Arc::new(SqliteEngine::open(&dir.path().join("group.db")).expect("open"));
        engine
            .write(|conn| conn.batch("CREATE TABLE names (name TEXT NOT NULL UNIQUE)"))
            .await
            .expect("table");
        let insert = |name: &'static str| {
            move |conn: &mut dyn Conn| {
                conn.execute(
                    "INSERT INTO names (name) VALUES ($1)",
                    &[Value::Text(name.into())],
                )
            }
        };

        // The writer is held by a first job until the others wait behind it, so that they
        // make one group.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = tokio::spawn({
            let engine = engine.clone();
            async move {
                engine
                    .write(move |_conn| {
                        let _ = released.recv();
                        Ok(())
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let first = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write_repeatable(insert("ada")).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Writes a name, then breaks the unique rule with the first job's.
        let failing = tokio::spawn({
            let engine = engine.clone();
            async move {
                engine
                    .write_repeatable(move |conn| {
                        insert("grace")(conn)?;
                        insert("ada")(conn)
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let last = tokio::spawn({
            let engine = engine.clone();
            async move { engine.write_repeatable(insert("edsger")).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).expect("release the writer");

        holder.await.expect("holder").expect("the holding job");
        assert_eq!(first.await.expect("first").expect("the first insert"), 1);
        assert!(
            matches!(
                failing.await.expect("failing"),
                Err(StoreError::Conflict(_))
            ),
            "the job that broke the unique rule hears so"
        );
        assert_eq!(last.await.expect("last").expect("the last insert"), 1);
        let names: Vec<String> = engine
            .read(|conn| conn.query("SELECT name FROM names ORDER BY name", &[]))
            .await
            .expect("names")
            .iter()
            .map(|row| row.text(0).expect("name"))
            .collect();
        assert_eq!(
            names,
            ["ada", "edsger"],
            "the failed job's first insert is undone"
        );
    }
}

//! The SQLite engine: one writer thread that commits many requests' work in one durable
//! transaction (group commit), and a small pool of read-only connections.
//!
//! Durability: WAL, and no job is answered before the log holding its commit is on disk, so
//! an answered write survives power loss. SQLite's `synchronous=FULL` would flush the log
//! inside each COMMIT, on the writer thread, which then sat idle for the disk a third of
//! the time under load. Instead the writer commits with `synchronous=NORMAL` (SQLite still
//! flushes the log before each checkpoint copies it back) and hands the commit's jobs to a
//! flusher thread, which flushes the log and only then answers them; meanwhile the writer
//! runs the next jobs in the next transaction, which it commits once that flush is done. A
//! commit is visible to readers from the moment it is made, a millisecond or so before it
//! is on disk and its jobs are answered: only a reader who learns of it independently, in
//! that window, could see a write that a power cut then takes back (its writer, unanswered,
//! sends it again). Each job runs inside its own SAVEPOINT, so one job's failure never undoes
//! another's.
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

/// Writes the log to disk (the default flushes the write-ahead log file's data).
pub(super) type Flush = Box<dyn FnMut() -> std::io::Result<()> + Send>;

pub(super) struct SqliteEngine {
    writer: mpsc::Sender<Message>,
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
        Self::open_flushing(path, checkpoints, flush_log_file(path))
    }

    fn open_flushing(
        path: &Path,
        checkpoints: Checkpoints,
        flush: Flush,
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
        let (sender, inbox) = mpsc::channel::<Message>();
        let (to_flusher, commits) = mpsc::channel::<Vec<Box<dyn WriteJob>>>();
        let flushed = sender.clone();
        std::thread::Builder::new()
            .name("sqlite-flusher".into())
            .spawn(move || flusher_loop(&commits, flush, &flushed))
            .map_err(|e| StoreError::Other(format!("starting the SQLite flusher: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                Writer {
                    connection: &mut writer,
                    inbox,
                    flusher: to_flusher,
                    flushing: false,
                    held: VecDeque::new(),
                    stopping: false,
                    broken: None,
                }
                .run(checkpoints);
            })
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
        let (reply, answer) = oneshot::channel();
        let job = TypedJob {
            job: Some(job),
            outcome: None,
            reply,
        };
        self.writer
            .send(Message::Job(Box::new(job)))
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

impl Drop for SqliteEngine {
    /// The flusher holds a sender of the writer's inbox too, so the writer is told to stop
    /// (after the jobs queued before) rather than waiting for its inbox to close.
    fn drop(&mut self) {
        let _ = self.writer.send(Message::Stop);
    }
}

/// Flushes the write-ahead log file's data (and the size needed to read it) to disk. The file
/// is opened at the first flush, after the first commit has made it.
fn flush_log_file(database: &Path) -> Flush {
    let mut log = database.as_os_str().to_owned();
    log.push("-wal");
    let log = std::path::PathBuf::from(log);
    let mut file: Option<std::fs::File> = None;
    Box::new(move || {
        let open = match file.take() {
            Some(open) => open,
            None => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&log)?,
        };
        let flushed = open.sync_data();
        file = Some(open);
        flushed
    })
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
    // `synchronous = NORMAL`: the flusher thread flushes the log after each commit (module
    // comment); SQLite flushes it before each checkpoint and the database after.
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
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 4096;"
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
    /// Answers the caller once the transaction's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T, F> {
    job: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut dyn Conn) -> bool {
        let outcome = match self.job.take() {
            Some(job) => contain_panic(|| job(conn)),
            None => Err(StoreError::Other("job ran twice".into())),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
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

/// What the writer thread receives.
enum Message {
    Job(Box<dyn WriteJob>),
    /// The flusher has written the last commit handed to it to disk, or failed to.
    Flushed(Result<(), String>),
    /// The engine is gone: the jobs queued before this are run, then the writer stops.
    Stop,
}

/// The writer thread: runs jobs in one transaction, and commits it once the flusher has
/// written the previous commit to disk; until then, the jobs that arrive join it.
struct Writer<'c> {
    connection: &'c mut Connection,
    inbox: mpsc::Receiver<Message>,
    flusher: mpsc::Sender<Vec<Box<dyn WriteJob>>>,
    /// A commit handed to the flusher is not on disk yet.
    flushing: bool,
    /// Jobs that arrived while a full group waited for the flusher: the next group's first.
    held: VecDeque<Box<dyn WriteJob>>,
    stopping: bool,
    /// Why the log could not be written to disk: nothing is committed after that.
    broken: Option<String>,
}

impl Writer<'_> {
    fn run(mut self, checkpoints: Checkpoints) {
        let mut last_checkpoint = Instant::now();
        while let Some(first) = self.first_job() {
            let mut group = vec![first];
            let opened = exec(self.connection, "BEGIN IMMEDIATE").map_err(|e| e.to_string());
            let mut outcome = opened.and_then(|()| run_job(self.connection, &mut group[0]));
            while outcome.is_ok() && group.len() < MAX_GROUP {
                let Some(mut job) = self.joining_job() else {
                    break;
                };
                outcome = run_job(self.connection, &mut job);
                group.push(job);
            }
            self.wait_for_flusher();
            if let Some(reason) = &self.broken {
                let _ = self.connection.execute_batch("ROLLBACK");
                let refused = Err(format!("the log could not be written to disk: {reason}"));
                for job in group.into_iter().chain(self.held.drain(..)) {
                    job.finish(refused.clone());
                }
                tracing::error!(
                    reason,
                    "the SQLite writer stops: its log could not be written to disk"
                );
                return;
            }
            match outcome.and_then(|()| commit(self.connection)) {
                Ok(()) => {
                    self.flushing = true;
                    if let Err(mpsc::SendError(group)) = self.flusher.send(group) {
                        for job in group {
                            job.finish(Err("the SQLite flusher has stopped".into()));
                        }
                        return;
                    }
                }
                Err(e) => {
                    for job in group {
                        job.finish(Err(e.clone()));
                    }
                }
            }
            if last_checkpoint.elapsed() >= checkpoints.every {
                last_checkpoint = Instant::now();
                checkpoint(self.connection, checkpoints.wait);
            }
        }
    }

    /// The first job of a group: a held one, else the next to arrive.
    fn first_job(&mut self) -> Option<Box<dyn WriteJob>> {
        if let Some(job) = self.held.pop_front() {
            return Some(job);
        }
        while !self.stopping {
            match self.inbox.recv().ok()? {
                Message::Job(job) => return Some(job),
                message => self.note(message),
            }
        }
        None
    }

    /// A job for the open group: a held one or one already queued; while the previous commit
    /// is being flushed, also one that arrives before the flush is done.
    fn joining_job(&mut self) -> Option<Box<dyn WriteJob>> {
        if let Some(job) = self.held.pop_front() {
            return Some(job);
        }
        loop {
            let message = if self.flushing && !self.stopping {
                self.inbox.recv().ok()?
            } else {
                self.inbox.try_recv().ok()?
            };
            match message {
                Message::Job(job) => return Some(job),
                message => self.note(message),
            }
        }
    }

    /// Waits until the previous commit is on disk; jobs arriving meanwhile are held.
    fn wait_for_flusher(&mut self) {
        while self.flushing {
            match self.inbox.recv() {
                Ok(Message::Job(job)) => self.held.push_back(job),
                Ok(message) => self.note(message),
                Err(_) => return,
            }
        }
    }

    fn note(&mut self, message: Message) {
        match message {
            Message::Job(job) => self.held.push_back(job),
            Message::Flushed(outcome) => {
                self.flushing = false;
                if let Err(reason) = outcome {
                    self.broken.get_or_insert(reason);
                }
            }
            Message::Stop => self.stopping = true,
        }
    }
}

/// Writes each commit handed over to disk, then answers its jobs and tells the writer.
fn flusher_loop(
    commits: &mpsc::Receiver<Vec<Box<dyn WriteJob>>>,
    mut flush: Flush,
    writer: &mpsc::Sender<Message>,
) {
    while let Ok(group) = commits.recv() {
        let flushed = flush().map_err(|e| format!("flushing the write-ahead log: {e}"));
        if let Err(e) = &flushed {
            tracing::error!(error = %e, "a commit could not be written to disk");
        }
        for job in group {
            job.finish(flushed.clone());
        }
        if writer.send(Message::Flushed(flushed)).is_err() {
            return;
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

/// Runs one job of the open transaction in its own savepoint: kept if it succeeds, undone
/// alone if it fails. An error here (the savepoint itself failed) has rolled back the whole
/// transaction.
fn run_job(connection: &Connection, job: &mut Box<dyn WriteJob>) -> Result<(), String> {
    let kept = exec(connection, "SAVEPOINT job")
        .map_err(|e| e.to_string())
        .map(|()| job.run(&mut SqliteTx(connection)));
    let end = match kept {
        Ok(true) => exec(connection, "RELEASE job"),
        Ok(false) => {
            exec(connection, "ROLLBACK TO job").and_then(|()| exec(connection, "RELEASE job"))
        }
        Err(e) => {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    end.map_err(|e| {
        let _ = connection.execute_batch("ROLLBACK");
        e.to_string()
    })
}

fn commit(connection: &Connection) -> Result<(), String> {
    exec(connection, "COMMIT").map_err(|e| {
        let _ = connection.execute_batch("ROLLBACK");
        e.to_string()
    })
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

    async fn count(engine: &SqliteEngine) -> i64 {
        engine
            .read(|conn| conn.query("SELECT count(*) FROM notes", &[]))
            .await
            .expect("count")[0]
            .int(0)
            .expect("a number")
    }

    /// An answered write survives a power cut: the writer commits without waiting for the
    /// disk, so the answer must wait for the flusher, and the next commit for the flush.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_write_is_answered_before_its_commit_is_on_disk() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (started, flush_started) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let flush: Flush = Box::new(move || {
            let _ = started.send(());
            released.recv().map_err(std::io::Error::other)
        });
        let engine = Arc::new(
            SqliteEngine::open_flushing(&dir.path().join("db"), Checkpoints::default(), flush)
                .expect("open"),
        );
        let writes = Arc::clone(&engine);
        let first = tokio::spawn(async move {
            writes
                .write(|conn| conn.batch("CREATE TABLE notes (body TEXT NOT NULL)"))
                .await
        });
        let started = tokio::task::spawn_blocking(move || {
            flush_started.recv().expect("the first commit is flushed");
            flush_started
        })
        .await
        .expect("wait");
        assert!(
            !first.is_finished(),
            "the write was answered while its commit was still being written to disk"
        );
        // A write sent meanwhile runs, but is not committed before that flush is done.
        let writes = Arc::clone(&engine);
        let second = tokio::spawn(async move {
            writes
                .write(|conn| conn.execute("INSERT INTO notes (body) VALUES ('second')", &[]))
                .await
        });
        release.send(()).expect("release the first flush");
        first.await.expect("task").expect("the first write");
        tokio::task::spawn_blocking(move || started.recv().expect("the second commit is flushed"))
            .await
            .expect("wait");
        assert!(
            !second.is_finished(),
            "the second write was answered before its flush"
        );
        release.send(()).expect("release the second flush");
        assert_eq!(second.await.expect("task").expect("the second write"), 1);
        assert_eq!(count(&engine).await, 1);
    }

    /// Should the disk refuse the log, the writes it holds are not reported stored, and the
    /// writer stops rather than answer later writes as if the disk had them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_log_the_disk_refuses_fails_its_writes_and_every_later_one() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut flushes = 0;
        let flush: Flush = Box::new(move || {
            flushes += 1;
            if flushes == 1 {
                Ok(())
            } else {
                Err(std::io::Error::other("the disk is gone"))
            }
        });
        let engine =
            SqliteEngine::open_flushing(&dir.path().join("db"), Checkpoints::default(), flush)
                .expect("open");
        engine
            .write(|conn| conn.batch("CREATE TABLE notes (body TEXT NOT NULL)"))
            .await
            .expect("the first commit reaches the disk");
        let refused = engine
            .write(|conn| conn.execute("INSERT INTO notes (body) VALUES ('lost')", &[]))
            .await
            .expect_err("its commit did not reach the disk");
        assert!(
            refused.to_string().contains("the disk is gone"),
            "{refused}"
        );
        let later = engine
            .write(|conn| conn.execute("INSERT INTO notes (body) VALUES ('later')", &[]))
            .await
            .expect_err("nothing is committed after the disk refused the log");
        assert!(matches!(later, StoreError::Unavailable(_)), "{later:?}");
        assert!(later.to_string().contains("disk"), "{later}");
        assert_eq!(
            count(&engine).await,
            1,
            "only the refused commit's row, kept by SQLite"
        );
    }

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
}

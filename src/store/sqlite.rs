//! The SQLite engine: one writer thread that commits many requests' work in one durable
//! transaction (group commit), and a small pool of read-only connections.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed transaction survives power loss.
//! Each job runs inside its own SAVEPOINT, so one job's failure never undoes another's.

use super::{Conn, Row, StoreError, Value, migrations};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, oneshot};

/// How many jobs one commit may carry.
const MAX_GROUP: usize = 256;
const READERS: usize = 4;

pub(super) struct SqliteEngine {
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    reader_permits: Arc<Semaphore>,
}

impl SqliteEngine {
    pub(super) fn open(path: &Path) -> Result<SqliteEngine, StoreError> {
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
            .collect::<Result<Vec<_>, _>>()?;
        let (sender, receiver) = mpsc::channel::<Box<dyn WriteJob>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(&mut writer, &receiver))
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
            .send(Box::new(job))
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
                .pop()
                .ok_or_else(|| StoreError::Other("no idle reader despite a permit".into()))?;
            let outcome = in_transaction(&connection, "BEGIN", job);
            if let Ok(mut pool) = readers.lock() {
                pool.push(connection);
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
    let pragmas = if read_only {
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;"
    } else {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;"
    };
    connection.execute_batch(pragmas).map_err(convert)?;
    connection.set_prepared_statement_cache_capacity(128);
    Ok(connection)
}

fn in_transaction<T>(
    connection: &Connection,
    begin: &str,
    job: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    connection.execute_batch(begin).map_err(convert)?;
    let outcome = job(&mut SqliteTx(connection));
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
            Some(job) => job(conn),
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

fn writer_loop(connection: &mut Connection, jobs: &mpsc::Receiver<Box<dyn WriteJob>>) {
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
    }
}

/// Runs a parameterless statement through the statement cache: the writer issues these
/// for every job, and parsing them each time shows up under load.
fn exec(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn run_group(connection: &Connection, group: &mut [Box<dyn WriteJob>]) -> Result<(), String> {
    exec(connection, "BEGIN IMMEDIATE").map_err(|e| e.to_string())?;
    for job in group.iter_mut() {
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
        if let Err(e) = end {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
    }
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
        })
    }
}

fn convert(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull,
        ) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Other(error.to_string()),
    }
}

//! The database: one store API over two engines, SQLite (embedded, the default) and
//! PostgreSQL (any number of instances on one database). Store functions are written once,
//! as plain synchronous code over [`Conn`]; each engine runs them in a transaction on its
//! own threads, so a request is all-or-nothing and never blocks the async runtime.
//!
//! SQL is shared between engines: placeholders are `$1, $2, …` and must first appear in
//! ascending order (SQLite numbers `$N` parameters by first appearance); integers are
//! BIGINT on PostgreSQL, flags are 0/1 integers, times are Unix milliseconds.

pub mod activation;
pub mod admins;
pub mod alerts;
pub mod audit;
pub mod contexts;
pub mod export;
pub mod holding;
pub mod housekeeping;
pub mod logos;
pub mod mapping;
pub mod marketplaces;
mod migrations;
pub mod outbox;
pub mod partners;
pub mod personal_data;
mod postgres;
pub mod rate_limits;
pub mod recipient_confirmations;
pub mod resume;
pub mod sharing;
pub mod signing_keys;
mod sqlite;
pub mod users;
pub mod viewers;
pub mod wallets;
pub mod whitelist;

/// The most connections a PostgreSQL store holds at once (a test holds them all to make
/// writes wait).
pub use postgres::POOL_SIZE as POSTGRES_CONNECTIONS;
use std::sync::Arc;

/// A failure of the store, in the store's words. Handlers never see database error codes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken: a primary key or unique value already taken (SQLSTATE
    /// 23505 on PostgreSQL, `SQLITE_CONSTRAINT_PRIMARYKEY` or `_UNIQUE` on SQLite). The text
    /// says which constraint. Every other broken rule (NOT NULL, CHECK, a foreign key) is a
    /// bug in the store's SQL, and so `Other`, on both engines.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database undid the transaction to break a deadlock with another (SQLSTATE 40P01
    /// on PostgreSQL; SQLite's one writer never meets one): nothing of it was written, and
    /// run again it can succeed. A write that may run again does (uploads); any other is
    /// answered 503, as the store's outage is (the partner API: as a conflict with a
    /// simultaneous request, retry in a second).
    #[error("deadlock: {0}")]
    Deadlock(String),
    /// The database cannot be reached or is shutting down: try again later (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a corrupt database (500).
    #[error("database error: {0}")]
    Other(String),
}

/// A value bound to or read from SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    /// A PostgreSQL `text[]`: many rows' values of one column in one parameter, sent as they
    /// are, `None` as SQL NULL (a statement that writes a package at once; never bound on
    /// SQLite).
    TextList(Vec<Option<String>>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { &[$($crate::store::Value::from($value)),*][..] };
}
pub use params;

/// An owned parameter list (a `Statement`'s, or one that grows after it is made): building
/// it as `params![..].to_vec()` would copy every text a second time.
#[macro_export]
macro_rules! param_vec {
    ($($value:expr),* $(,)?) => { vec![$($crate::store::Value::from($value)),*] };
}
pub use param_vec;

/// One SQL statement and its parameters, made before it is sent (`Store::write_one`).
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: std::borrow::Cow<'static, str>,
    pub params: Vec<Value>,
    /// Where the statement goes among others sent with it in one transaction (PostgreSQL's
    /// groups, `postgres/together.rs`), for a statement that changes rows another may
    /// change too: the first of them (an upload: its package's smallest assertion key).
    /// Every group changes shared rows in the same order, so two groups never each hold a
    /// row the other wants (a deadlock, which PostgreSQL breaks only after a second).
    /// `None` for a statement that only adds rows nobody else writes; those go first.
    pub lock_order: Option<String>,
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Other(format!("column {i} is NULL")))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(Value::Null) => Ok(None),
            other => Err(StoreError::Other(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?
            .ok_or_else(|| StoreError::Other(format!("column {i} is NULL")))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(Value::Null) => Ok(None),
            other => Err(StoreError::Other(format!(
                "column {i}: expected an integer, got {other:?}"
            ))),
        }
    }

    pub fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }
}

/// A connection inside a transaction. Store functions take `&mut dyn Conn`.
pub trait Conn {
    /// Runs one statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs one query and returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
}

impl dyn Conn + '_ {
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Other("expected one row, got none".into()))
    }
}

/// Which engine a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// `sqlite://PATH` (`sqlite:///abs/path.db`), `sqlite::memory:` is refused (each reader
    /// would see its own database), `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Location, String> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() || path.contains(":memory:") {
                return Err(
                    "CC_DATABASE_URL: give SQLite a file path, e.g. sqlite://credentialconnect.db"
                        .into(),
                );
            }
            return Ok(Location::Sqlite(path.into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        Err(format!(
            "CC_DATABASE_URL {:?} names no engine we run on: use sqlite://PATH or postgres://…",
            url.split('@').next_back().unwrap_or("")
        ))
    }
}

enum Engine {
    Sqlite(sqlite::SqliteEngine),
    Postgres(postgres::PostgresEngine),
}

/// The store: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    engine: Arc<Engine>,
}

impl Store {
    /// Opens (creating the SQLite file if missing) and migrates the database.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        let engine = match location.clone() {
            Location::Sqlite(path) => {
                tokio::task::spawn_blocking(move || sqlite::SqliteEngine::open(&path))
                    .await
                    .map_err(|e| StoreError::Other(format!("opening the store panicked: {e}")))?
                    .map(Engine::Sqlite)?
            }
            Location::Postgres(url) => {
                Engine::Postgres(postgres::PostgresEngine::open(&url).await?)
            }
        };
        Ok(Store {
            engine: Arc::new(engine),
        })
    }

    /// Runs `job` in a write transaction: everything it did is committed durably before
    /// this returns `Ok`, and nothing it did survives if it returns `Err`.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        match self.engine.as_ref() {
            Engine::Sqlite(engine) => engine.write(job).await,
            Engine::Postgres(engine) => engine.run(job).await,
        }
    }

    /// `write`, for a job that may run more than once: on SQLite, should another job of its
    /// group commit fail, its work is rolled back and it runs again (`sqlite::run_group`).
    /// So it must do nothing but its queries: no message sent, no state outside the
    /// transaction changed, nothing consumed that a second run needs. The writes on the
    /// partner API's hot paths (uploads, tokens) are such jobs.
    pub async fn write_repeatable<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnMut(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        match self.engine.as_ref() {
            Engine::Sqlite(engine) => engine.write_repeatable(job).await,
            Engine::Postgres(engine) => engine.run(job).await,
        }
    }

    /// Runs one statement as a write and returns its rows: what it did is committed durably
    /// before this returns `Ok`, all of it or none, and it is answered as if it had run
    /// alone. On PostgreSQL it goes from an async task, no thread switch, in one round trip:
    /// its own transaction, or one shared with others that wait for a connection at the same
    /// moment (should one of them fail, it is sent again alone and the others again
    /// together). On SQLite it is a write job like any other (whose commit is shared too).
    pub async fn write_one(&self, statement: Statement) -> Result<Vec<Row>, StoreError> {
        match self.engine.as_ref() {
            Engine::Sqlite(engine) => {
                engine
                    .write_repeatable(move |conn| conn.query(&statement.sql, &statement.params))
                    .await
            }
            Engine::Postgres(engine) => engine.one(statement).await,
        }
    }

    /// Whether a write is best sent as few statements as possible (PostgreSQL: each statement
    /// is a round trip to the server, and the server's wait for the network is what limits
    /// uploads), rather than as many simple ones (SQLite: a statement is a call into the
    /// library, and the writer commits many jobs at once).
    pub fn writes_in_one_statement(&self) -> bool {
        matches!(self.engine.as_ref(), Engine::Postgres(_))
    }

    /// Runs `job` in a read-only transaction on one snapshot: a write committed meanwhile
    /// shows in none of its queries.
    pub async fn read<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        match self.engine.as_ref() {
            Engine::Sqlite(engine) => engine.read(job).await,
            Engine::Postgres(engine) => engine.read(job).await,
        }
    }

    /// Proves the store answers, writes included: a write job that writes nothing (on SQLite
    /// it must pass through the writer thread and take the write lock; on PostgreSQL its
    /// transaction must not be read-only, as on a standby), then a read.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let postgres = matches!(self.engine.as_ref(), Engine::Postgres(_));
        self.write(move |conn| {
            if postgres && conn.query_one("SHOW transaction_read_only", &[])?.text(0)? != "off" {
                return Err(StoreError::Unavailable(
                    "PostgreSQL takes no writes here (the transaction is read-only)".into(),
                ));
            }
            Ok(())
        })
        .await?;
        self.read(|conn| conn.query("SELECT 1", &[]).map(|_| ()))
            .await
    }

    pub fn engine_name(&self) -> &'static str {
        match self.engine.as_ref() {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }

    /// Every row of every table, as text, in a stable order: tests compare two snapshots to
    /// prove that a rejected request left no trace.
    pub async fn snapshot(&self) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            let mut lines = Vec::new();
            for table in migrations::TABLES {
                let rows = conn.query(&format!("SELECT * FROM {table} ORDER BY 1, 2"), &[])?;
                for row in rows {
                    lines.push(format!("{table}: {:?}", row.0));
                }
            }
            Ok(lines)
        })
        .await
    }
}

/// Runs a job, turning a panic into `StoreError::Other` (logged once, here). Both engines run
/// every job through this: the job's transaction (or, on SQLite's writer, its savepoint) is
/// rolled back like any failed job's, and the thread that ran it goes on serving; otherwise
/// one bug would stop SQLite's only writer, or lose a reader connection, for good.
fn contain_panic<T>(job: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        tracing::error!(panic = %message, "a store job panicked; its work is rolled back");
        Err(StoreError::Other(format!(
            "a store job panicked: {message}"
        )))
    })
}

/// A new identifier for rows: 128 bits in hex, the first 48 the time in milliseconds and
/// the rest random (as UUIDv7). Time-ordered ids append to the end of B-tree indexes instead
/// of touching a random page per insert, which keeps each commit's writes small.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    crate::secrets::fill_random(&mut bytes[6..]);
    let millis = crate::clock::system_now_ms().to_be_bytes();
    bytes[..6].copy_from_slice(&millis[2..]);
    crate::secrets::to_hex(&bytes)
}

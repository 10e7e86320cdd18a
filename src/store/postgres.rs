//! The PostgreSQL engine: a pool of connections; each job runs in its own transaction on
//! the blocking thread pool. Many instances may share one database.
//!
//! At most one job per pooled connection is on a blocking thread at a time: the others wait
//! for a turn without a thread. Otherwise a slow database makes every waiting job a blocked
//! thread (the runtime allows hundreds), and each thread keeps memory of its own after the
//! burst: a soak saw 53 threads and the resident set double.

use super::{Conn, Row, StoreError, Value, contain_panic, migrations};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{NoTls, Statement};
use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Connections in the pool, and so jobs running at once.
const POOL_SIZE: u32 = 16;
/// How long a job waits for a connection (a turn, then the pool) before the database counts
/// as unavailable (503).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection. Most SQL is fixed text, but some is built for a
/// number of rows (a package's credentials, a purge batch); past this many the cache starts
/// again rather than grow for ever.
const MAX_STATEMENTS: usize = 256;

type Pool = r2d2::Pool<Manager>;

/// A pooled connection with its prepared statements (one parse per SQL text).
struct PooledClient {
    client: postgres::Client,
    statements: HashMap<String, Statement>,
}

struct Manager(postgres::Config);

impl r2d2::ManageConnection for Manager {
    type Connection = PooledClient;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PooledClient, postgres::Error> {
        Ok(PooledClient {
            client: self.0.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PooledClient) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PooledClient) -> bool {
        conn.client.is_closed()
    }
}

pub(super) struct PostgresEngine {
    /// Always `Some` until dropped (see `Drop`).
    pool: Option<Pool>,
    turns: Arc<Semaphore>,
}

impl Drop for PostgresEngine {
    /// Closing a synchronous `postgres::Client` blocks on its own runtime, which panics on
    /// an async worker thread: the last handle to the pool is dropped on a thread of its own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl PostgresEngine {
    pub(super) fn open(url: &str) -> Result<PostgresEngine, StoreError> {
        let config: postgres::Config = url.parse().map_err(|e| {
            StoreError::Other(format!("CC_DATABASE_URL is not a PostgreSQL URL: {e}"))
        })?;
        let manager = Manager(config);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_TIMEOUT)
            .build(manager)
            .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
        run_blocking(&pool, Instant::now() + CONNECTION_TIMEOUT, |conn| {
            // One instance migrates at a time; the others wait, then find nothing to do.
            conn.query("SELECT pg_advisory_xact_lock(7417028)", &[])?;
            migrations::run(conn, migrations::Engine::Postgres)
        })?;
        Ok(PostgresEngine {
            pool: Some(pool),
            turns: Arc::new(Semaphore::new(POOL_SIZE as usize)),
        })
    }

    pub(super) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as(Mode::Transaction, job).await
    }

    /// Runs a job that sends at most one statement, without `BEGIN` and `COMMIT`: the
    /// statement is its own transaction (all of it happens or none), and the job costs one
    /// round trip to the database instead of three. A second statement is refused.
    pub(super) async fn run_one<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as(Mode::OneStatement, job).await
    }

    async fn run_as<T, F>(&self, mode: Mode, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self
            .pool
            .clone()
            .ok_or_else(|| StoreError::Unavailable("the store is closing".into()))?;
        let deadline = Instant::now() + CONNECTION_TIMEOUT;
        let turn = tokio::time::timeout(CONNECTION_TIMEOUT, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable("no PostgreSQL connection: every one is busy".into())
            })?
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            match mode {
                Mode::Transaction => run_blocking(&pool, deadline, job),
                Mode::OneStatement => run_blocking_one(&pool, deadline, job),
            }
        })
        .await
        .map_err(|e| StoreError::Other(format!("a database job panicked: {e}")))?
    }
}

/// How a job's statements are made one transaction.
#[derive(Clone, Copy)]
enum Mode {
    /// `BEGIN`, the job's statements, `COMMIT`.
    Transaction,
    /// One statement, its own transaction.
    OneStatement,
}

fn pooled(pool: &Pool, deadline: Instant) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    pool.get_timeout(wait)
        .map_err(|e| StoreError::Unavailable(format!("no PostgreSQL connection: {e}")))
}

fn run_blocking<T>(
    pool: &Pool,
    deadline: Instant,
    job: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut pooled = pooled(pool, deadline)?;
    let PooledClient { client, statements } = &mut *pooled;
    client.batch_execute("BEGIN").map_err(convert)?;
    let outcome = contain_panic(|| {
        job(&mut PostgresTx {
            client,
            statements,
            one_statement: None,
        })
    });
    match outcome {
        Ok(value) => {
            client.batch_execute("COMMIT").map_err(convert)?;
            Ok(value)
        }
        Err(error) => {
            // A connection that cannot even roll back is closed, and the pool drops it.
            let _ = client.batch_execute("ROLLBACK");
            Err(error)
        }
    }
}

fn run_blocking_one<T>(
    pool: &Pool,
    deadline: Instant,
    job: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut pooled = pooled(pool, deadline)?;
    let PooledClient { client, statements } = &mut *pooled;
    contain_panic(|| {
        job(&mut PostgresTx {
            client,
            statements,
            one_statement: Some(false),
        })
    })
}

struct PostgresTx<'t> {
    client: &'t mut postgres::Client,
    statements: &'t mut HashMap<String, Statement>,
    /// `Some(sent)` for a one-statement job (`run_one`): whether its statement was sent.
    one_statement: Option<bool>,
}

impl PostgresTx<'_> {
    fn prepare(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(sent) = &mut self.one_statement {
            if *sent {
                return Err(StoreError::Other(
                    "a one-statement job sent a second statement: it would not be all-or-nothing"
                        .into(),
                ));
            }
            *sent = true;
        }
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(convert)?;
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn bind(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Conn for PostgresTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let statement = self.prepare(sql)?;
        self.client
            .execute(&statement, &bind(params))
            .map_err(convert)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepare(sql)?;
        let rows = self
            .client
            .query(&statement, &bind(params))
            .map_err(convert)?;
        rows.iter().map(read_row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        if self.one_statement.is_some() {
            return Err(StoreError::Other(
                "a one-statement job may not run a batch".into(),
            ));
        }
        self.client.batch_execute(sql).map_err(convert)
    }
}

fn read_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::VOID {
            Ok(None)
        } else if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int))
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map(|v| v.map(|n| Value::Int(n.into())))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map(|v| v.map(|n| Value::Int(n.into())))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map(|v| v.map(|b| Value::Int(b.into())))
        } else {
            row.try_get::<_, Option<String>>(i)
                .map(|v| v.map(Value::Text))
        };
        values.push(value.map_err(convert)?.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
            || *ty == Type::INT2
            || *ty == Type::BOOL
    }

    to_sql_checked!();
}

fn convert(error: postgres::Error) -> StoreError {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        return match code {
            // unique_violation: the one broken rule that is a `Conflict` (see `StoreError`).
            "23505" => StoreError::Conflict(db.constraint().unwrap_or("unique").to_string()),
            _ if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
                StoreError::Unavailable(db.message().to_string())
            }
            _ => StoreError::Other(format!("{code}: {}", db.message())),
        };
    }
    if error.is_closed() || error.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return StoreError::Unavailable(error.to_string());
    }
    StoreError::Other(error.to_string())
}

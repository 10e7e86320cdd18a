//! The PostgreSQL engine: a pool of asynchronous connections (deadpool-postgres over
//! tokio-postgres). Many instances may share one database.
//!
//! Two kinds of job:
//! - **One statement** (`Store::write_one`), the hot paths of the partner API (an upload, a
//!   token): a whole write, sent from an async task (no thread switch), alone or together
//!   with others that wait at the same moment, in one transaction and one round trip
//!   (`together`).
//! - **Several statements** (`Store::write`, `Store::read`): plain synchronous store code,
//!   run on the blocking pool, each statement sent on the job's connection and awaited
//!   there. `BEGIN` goes out with the job's first statement (the two are pipelined: one
//!   round trip), `COMMIT` after its last.
//!
//! Connections are at most `POOL_SIZE`, and so at most that many jobs hold a blocking thread:
//! the others wait for a connection without one. Otherwise a slow database makes every
//! waiting job a blocked thread (the runtime allows hundreds), and each thread keeps memory of
//! its own after the burst: a soak saw 53 threads and the resident set double.

use super::{Conn, Row, Statement, StoreError, Value, contain_panic, migrations};
use deadpool_postgres::{
    ClientWrapper, Hook, HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod,
};
use std::error::Error;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio_postgres::NoTls;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

/// Connections in the pool, and so jobs running at once.
pub const POOL_SIZE: usize = 16;
/// Each connection plans a prepared statement once and runs that plan from then on.
/// PostgreSQL's default (`auto`) plans a statement for each execution's values whenever its
/// plan for any values looks costlier, which for an upload's statement depends on the
/// tables' statistics (it assumes an array parameter holds ten rows, where a package's hold
/// a few): on a new database it planned every fresh upload, and planning was then a third of
/// the database's time per upload. The statements here are written so that the plan right
/// for one value is right for all (look-ups by keys; partial indexes whose conditions are in
/// the SQL, not in a parameter), and the upload statements' plans probe the unique index
/// whatever the tables held when they were made (migration 0019; `tests/store.rs` checks
/// both). Set on each new connection rather than in its start-up options, which a
/// connection pooler in front of PostgreSQL (PgBouncer) refuses by default.
const KEEP_PLANS: &str = "SET plan_cache_mode = force_generic_plan";
/// How long a job waits for a connection (a free one, or a new one) before the database
/// counts as unavailable (503).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection. Most SQL is fixed text, but some is built for a
/// number of rows (a package's credentials, a purge batch); past this many the cache starts
/// again rather than grow for ever.
const MAX_STATEMENTS: usize = 256;

mod together;

pub(super) struct PostgresEngine {
    pool: Pool,
    /// The one-statement writes, sent in groups while their connections are busy.
    together: together::Together,
}

impl PostgresEngine {
    pub(super) async fn open(url: &str) -> Result<PostgresEngine, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Other(format!("CC_DATABASE_URL is not a PostgreSQL URL: {e}"))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            // A connection that broke (the server restarted) is closed, and found so
            // without a round trip; a query on one that broke unnoticed fails as
            // `Unavailable` and the connection is dropped then.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECTION_TIMEOUT))
            .create_timeout(Some(CONNECTION_TIMEOUT))
            .recycle_timeout(Some(CONNECTION_TIMEOUT))
            .post_create(Hook::async_fn(|client, _| {
                Box::pin(async move {
                    client
                        .batch_execute(KEEP_PLANS)
                        .await
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| StoreError::Other(format!("making the PostgreSQL pool: {e}")))?;
        let together = together::Together::start(pool.clone());
        let engine = PostgresEngine { pool, together };
        engine
            .run(|conn| {
                // One instance migrates at a time; the others wait, then find nothing to do.
                conn.query("SELECT pg_advisory_xact_lock(7417028)", &[])?;
                migrations::run(conn, migrations::Engine::Postgres)
            })
            .await?;
        Ok(engine)
    }

    /// Runs a job of any number of statements in one transaction, on the blocking pool.
    pub(super) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as("BEGIN", job).await
    }

    /// Runs a job that only reads, on one snapshot: PostgreSQL's default isolation gives each
    /// statement a snapshot of its own, so a page's queries could see different states.
    /// Read-only, it never fails for a concurrent write.
    pub(super) async fn read<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", job)
            .await
    }

    async fn run_as<T, F>(&self, begin: &'static str, job: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let client = connection(&self.pool).await?;
        let runtime = Handle::current();
        tokio::task::spawn_blocking(move || in_transaction(&runtime, &client, begin, job))
            .await
            .map_err(|e| StoreError::Other(format!("a database job panicked: {e}")))?
    }

    /// Sends one statement that is a whole write (all of it happens or none), alone or with
    /// others that wait for a connection at the same time (`together`).
    pub(super) async fn one(&self, statement: Statement) -> Result<Vec<Row>, StoreError> {
        self.together.write(statement).await
    }
}

/// A connection from `pool`, or why none came (`Unavailable`: 503).
async fn connection(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        PoolError::Backend(e) => convert(e),
        PoolError::Timeout(_) => {
            StoreError::Unavailable("no PostgreSQL connection: every one is busy".into())
        }
        PoolError::Closed => StoreError::Unavailable("the store is closing".into()),
        other => StoreError::Unavailable(format!("no PostgreSQL connection: {other}")),
    })
}

/// A prepared statement from the connection's cache (one parse per SQL text).
async fn prepare(
    client: &ClientWrapper,
    sql: &str,
) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
    if client.statement_cache.size() >= MAX_STATEMENTS {
        client.statement_cache.clear();
    }
    client.prepare_cached(sql).await
}

fn in_transaction<T>(
    runtime: &Handle,
    client: &ClientWrapper,
    begin: &'static str,
    job: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut tx = PostgresTx {
        runtime,
        client,
        begin,
        begun: false,
    };
    let outcome = contain_panic(|| job(&mut tx));
    if !tx.begun {
        // The job sent nothing: there is nothing to commit or roll back.
        return outcome;
    }
    match outcome {
        Ok(value) => {
            runtime
                .block_on(client.batch_execute("COMMIT"))
                .map_err(convert)?;
            Ok(value)
        }
        Err(error) => {
            // A connection that cannot even roll back is closed, and the pool drops it.
            let _ = runtime.block_on(client.batch_execute("ROLLBACK"));
            Err(error)
        }
    }
}

/// A job's connection, on a blocking thread: each statement is sent and awaited here.
struct PostgresTx<'t> {
    runtime: &'t Handle,
    client: &'t ClientWrapper,
    /// The statement that opens the transaction.
    begin: &'static str,
    /// Whether `begin` was sent (with the first statement).
    begun: bool,
}

impl PostgresTx<'_> {
    /// Sends `work`'s messages, after `BEGIN` if this is the job's first statement: the
    /// connection sends requests in the order they are first polled, and the server answers
    /// them in order, so `BEGIN` and the statement cost one round trip. Should `BEGIN` fail
    /// (only a broken connection makes it), the job fails with it.
    fn send<R>(
        &mut self,
        work: impl Future<Output = Result<R, tokio_postgres::Error>>,
    ) -> Result<R, StoreError> {
        if self.begun {
            return self.runtime.block_on(work).map_err(convert);
        }
        self.begun = true;
        let (client, begin) = (self.client, self.begin);
        self.runtime
            .block_on(async move {
                let (begun, outcome) =
                    futures_util::future::join(client.batch_execute(begin), work).await;
                begun?;
                outcome
            })
            .map_err(convert)
    }
}

fn bind(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Conn for PostgresTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let client = self.client;
        self.send(async move {
            let statement = prepare(client, sql).await?;
            client.execute(&statement, &bind(params)).await
        })
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let client = self.client;
        let rows = self.send(async move {
            let statement = prepare(client, sql).await?;
            client.query(&statement, &bind(params)).await
        })?;
        rows.iter().map(read_row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let client = self.client;
        self.send(client.batch_execute(sql))
    }
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
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
        let list_parameter = matches!(ty.kind(), Kind::Array(_));
        match self {
            Value::Null => Ok(IsNull::Yes),
            // The driver's own array encoding panics on a parameter of another type.
            Value::TextList(list) if list_parameter => list.to_sql(ty, out),
            Value::TextList(_) => Err(format!("a list bound to a parameter of type {ty}").into()),
            _ if list_parameter => {
                Err(format!("one value bound to a parameter of type {ty}").into())
            }
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
            || <Vec<Option<String>> as ToSql>::accepts(ty)
            || *ty == Type::INT2
            || *ty == Type::BOOL
    }

    to_sql_checked!();
}

fn convert(error: tokio_postgres::Error) -> StoreError {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        return match code {
            // unique_violation: the one broken rule that is a `Conflict` (see `StoreError`).
            "23505" => StoreError::Conflict(db.constraint().unwrap_or("unique").to_string()),
            "40P01" => StoreError::Deadlock(db.message().to_string()),
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

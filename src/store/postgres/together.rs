//! One-statement writes (`Store::write_one`: uploads, tokens) sent to PostgreSQL together.
//!
//! Each such statement is a whole write on its own. Sent one per transaction, every one
//! costs the database a commit and a backend woken from its socket, and the server a
//! message out and one back: under load, a large part of an upload's cost
//! (docs/benchmarks.md). So the statements that wait for a connection are taken together,
//! as many as have gathered (up to `MOST_IN_A_GROUP`): `BEGIN`, each statement, `COMMIT`,
//! written to the connection at once and answered at once (one round trip, one commit).
//! Nobody waits to fill a group: a statement that finds one of the `CONNECTIONS` free goes
//! alone, as its own transaction, and groups form only while all of them are busy.
//!
//! A group is all-or-nothing, but its statements are not one write: should any of them fail
//! (a unique key another writer took first, a deadlock with another group), the group is
//! rolled back, the statement that failed is sent again on its own, for an answer of its
//! own, and the others again together, so each gets the answer it would have had alone.
//! Only a failure that leaves unknown whether the group committed (the connection broke
//! after `COMMIT` went out) is everyone's: each statement is answered `Unavailable`, as a
//! statement sent alone would be.
//!
//! Groups change the rows they share in one order (each group's statements sorted by
//! `Statement::lock_order`), so one group waits for the other. In the order they arrived,
//! two groups carrying the two copies of a package sent twice at once each held a row the
//! other wanted next, until PostgreSQL broke the deadlock after its `deadlock_timeout` (a
//! second) and one group's statements went again alone: a partner whose retries overlap
//! saw stalls of a second and more (docs/benchmarks.md).

use super::{ClientWrapper, bind, connection, convert, prepare, read_row};
use crate::store::{Row, Statement, StoreError};
use deadpool_postgres::Pool;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Connections sending these statements at once (of the pool's `POOL_SIZE`). A few
/// connections with groups on them keep the database as busy as many with one statement
/// each, at less of its time per statement: on two shared cores, groups over 4 connections
/// carried 30–40 % more uploads than over 16, at about half the p99 (docs/benchmarks.md).
/// A database with more cores is kept busy by more instances, each with its own 4.
const CONNECTIONS: usize = 4;
/// The most statements in one group: with `CONNECTIONS` groups under way, 64 requests at
/// once (the benchmark's partner) go in two rounds; larger groups held their locks longer
/// and measured no faster.
const MOST_IN_A_GROUP: usize = 8;
/// Statements waiting for a connection, at most; a writer beyond waits to queue.
const QUEUE: usize = 1024;

/// What a statement's writer is answered.
type Answer = Result<Vec<Row>, StoreError>;

struct Waiting {
    statement: Statement,
    answer: oneshot::Sender<Answer>,
}

/// The queue of one-statement writes; its task gives them connections.
pub(super) struct Together {
    queue: mpsc::Sender<Waiting>,
}

impl Together {
    /// Starts the task that sends the queued statements over connections from `pool` (the
    /// engine's). It ends when the engine is dropped.
    pub(super) fn start(pool: Pool) -> Together {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(send_queued(pool, waiting));
        Together { queue }
    }

    /// Sends `statement` as its own write (alone or in a group) and returns its rows.
    pub(super) async fn write(&self, statement: Statement) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Waiting { statement, answer })
            .await
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Other("a group of statements was dropped unanswered".into()))?
    }
}

/// Takes the first statement waiting, a connection for it (once fewer than `CONNECTIONS`
/// are sending), then every statement that gathered meanwhile (up to `MOST_IN_A_GROUP`), and
/// sends them on that connection from a task of their own.
async fn send_queued(pool: Pool, mut waiting: mpsc::Receiver<Waiting>) {
    let senders = Arc::new(Semaphore::new(CONNECTIONS));
    while let Some(first) = waiting.recv().await {
        let Ok(sender) = Arc::clone(&senders).acquire_owned().await else {
            return; // never closed
        };
        let connection = connection(&pool).await;
        let mut group = vec![first];
        while group.len() < MOST_IN_A_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        // Shared rows are changed in one order by every group (`Statement::lock_order`);
        // those that arrived with the same place keep their order.
        group.sort_by(|a, b| a.statement.lock_order.cmp(&b.statement.lock_order));
        match connection {
            Ok(client) => {
                tokio::spawn(async move {
                    send(&client, group).await;
                    drop(sender);
                });
            }
            Err(error) => {
                // No connection came within the pool's wait: everyone waiting hears so now,
                // rather than each after a wait of its own.
                while let Ok(next) = waiting.try_recv() {
                    group.push(next);
                }
                for one in group {
                    let _ = one.answer.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Sends a group on `client` and answers each of its writers.
///
/// Should a statement fail, nothing of the group was written: that statement goes again
/// alone, for an answer of its own, and the others again together. (Each of them alone
/// made one failure cost up to seven more round trips and commits: copies of a package sent
/// twice at once, meeting in two groups, did so all the time.) Each round answers one
/// statement at least, so a group takes as many rounds as it has statements at most.
async fn send(client: &ClientWrapper, mut group: Vec<Waiting>) {
    while group.len() > 1 {
        match as_one_transaction(client, &group).await {
            Ok(answers) => {
                for (one, rows) in group.into_iter().zip(answers) {
                    let _ = one.answer.send(rows.iter().map(read_row).collect());
                }
                return;
            }
            Err(Undone::Unknown(error)) => {
                for one in group {
                    let _ = one.answer.send(Err(error.clone()));
                }
                return;
            }
            Err(Undone::RolledBack {
                failed: Some(failed),
            }) => {
                let one = group.remove(failed);
                let answer = alone(client, &one.statement).await;
                let _ = one.answer.send(answer);
            }
            // Only the commit failed: which statement caused it is unknown, so each goes
            // again alone.
            Err(Undone::RolledBack { failed: None }) => break,
        }
    }
    for one in group {
        let answer = alone(client, &one.statement).await;
        let _ = one.answer.send(answer);
    }
}

/// How a group failed.
enum Undone {
    /// The transaction failed: nothing was written. `failed`: the statement that failed
    /// first (those after it fail only because the transaction had), if one did.
    RolledBack { failed: Option<usize> },
    /// The connection failed: whether the group committed is unknown.
    Unknown(StoreError),
}

/// `BEGIN`, the group's statements, `COMMIT`, pipelined: the connection writes each request
/// as its future is first polled, in order, and the server answers them in order.
async fn as_one_transaction(
    client: &ClientWrapper,
    group: &[Waiting],
) -> Result<Vec<Vec<tokio_postgres::Row>>, Undone> {
    let mut prepared = Vec::with_capacity(group.len());
    for one in group {
        // A statement's text is prepared once per connection; after that this is a look-up.
        let statement = prepare(client, &one.statement.sql)
            .await
            .map_err(|e| undone(convert(e)))?;
        prepared.push(statement);
    }
    let bound: Vec<_> = group
        .iter()
        .map(|one| bind(&one.statement.params))
        .collect();
    let statements = prepared
        .iter()
        .zip(&bound)
        .map(|(statement, params)| client.query(statement, params));
    let (begun, outcomes, committed) = futures_util::future::join3(
        client.batch_execute("BEGIN"),
        futures_util::future::join_all(statements),
        client.batch_execute("COMMIT"),
    )
    .await;
    begun.map_err(|e| undone(convert(e)))?;
    let mut answers = Vec::with_capacity(group.len());
    let mut failed = None;
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(rows) => answers.push(rows),
            Err(error) => match undone(convert(error)) {
                unknown @ Undone::Unknown(_) => return Err(unknown),
                Undone::RolledBack { .. } => {
                    failed.get_or_insert(index);
                }
            },
        }
    }
    // After a failed statement, `COMMIT` rolls back (and says so without an error).
    committed.map_err(|e| undone(convert(e)))?;
    if failed.is_some() {
        return Err(Undone::RolledBack { failed });
    }
    Ok(answers)
}

/// How a group failed, from the error of one of its requests (not telling which).
fn undone(error: StoreError) -> Undone {
    match error {
        StoreError::Unavailable(_) => Undone::Unknown(error),
        _ => Undone::RolledBack { failed: None },
    }
}

/// One statement as its own transaction.
async fn alone(client: &ClientWrapper, statement: &Statement) -> Answer {
    let prepared = prepare(client, &statement.sql).await.map_err(convert)?;
    let rows = client
        .query(&prepared, &bind(&statement.params))
        .await
        .map_err(convert)?;
    rows.iter().map(read_row).collect()
}

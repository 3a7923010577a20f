//! Group commit: writes of concurrent requests that share one transaction, and so one
//! `fsync`, on SQLite, where every commit waits for the disk and only one connection
//! can write at a time anyway.
//!
//! A request hands its work to the writer, which runs each piece of work in a savepoint
//! of the open transaction, in arrival order. Once the queue is empty (or [`MAX_BATCH`]
//! pieces have run) it commits, and only then answers each request: nothing is
//! acknowledged before it is on disk. Nothing waits for a window either: a lone request
//! is committed as soon as its own work is done, and whatever arrives during a commit
//! forms the next batch. A piece that fails is rolled back to its savepoint and takes
//! nothing of the others with it; only a failed commit fails the whole batch, unanswered
//! as a 503, like any database failure.
//!
//! The writer is a thread of its own with its own connection, on which statements run
//! where they are issued ([`crate::store::tx`]), so a batch costs SQLite's work and one `fsync`,
//! not a thread hand-off per statement. Nor does it checkpoint: SQLite's automatic
//! checkpoint would run on the committing thread, copying the log into the database file
//! and flushing it, and under load one batch in eighteen stalled 11–13 ms behind one.
//! A thread of its own checkpoints instead, beside the writer.
//!
//! On PostgreSQL each piece gets a transaction of its own: concurrent commits there
//! already share the flush of the write-ahead log.
//!
//! A piece runs while the writer holds SQLite's write lock, so it must write through
//! its transaction only: a write through the pool would wait for the lock it holds.

use std::{panic::AssertUnwindSafe, path::Path, sync::mpsc as std_mpsc, time::Duration};

use futures::{future::BoxFuture, FutureExt};
use tokio::sync::{mpsc, oneshot};

use crate::store::{
    tx::{database_error, Conn, Tx},
    Db,
};

/// The most pieces one commit carries: enough for every request in flight at the bench's
/// highest concurrency, few enough that the first of them is not kept long.
pub const MAX_BATCH: usize = 64;

/// Pieces per commit, as a Prometheus summary: how much sharing the load brings.
pub const PIECES_PER_COMMIT: &str = "gatehouse_group_commit_pieces";

/// Requests that may wait for the writer before a new one waits to hand its work over.
const QUEUE: usize = 1024;

/// Statements the writer keeps prepared: every one a piece of work runs, with room.
const PREPARED: usize = 128;

/// How often the log is copied into the database file: under the heaviest load the log
/// then holds a few megabytes, and an idle check costs a read of shared memory.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// What the log file is cut back to when it starts over. It is reused, not shrunk, after
/// each checkpoint, so one burst (a sweep of a large table, a checkpoint held back by a
/// long read) would otherwise keep its size on disk for good. Heavy load fills a few
/// megabytes between checkpoints, so this cuts only what a burst left behind.
const LOG_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// Where transactional work runs: grouped on one writer, or one transaction each.
#[derive(Clone)]
pub struct GroupCommit {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Grouped(mpsc::Sender<Box<dyn Pending>>),
    Separate(Db),
}

impl GroupCommit {
    /// Every piece of work in a transaction of its own, from `db`.
    pub fn separate(db: Db) -> Self {
        GroupCommit {
            mode: Mode::Separate(db),
        }
    }

    /// Work shares transactions on a writer thread with a connection of its own to the
    /// SQLite file at `path`, set up by `pragmas` (the pool's, so both write alike).
    pub fn grouped(path: &Path, pragmas: &str) -> sqlx::Result<Self> {
        let open = || -> sqlx::Result<rusqlite::Connection> {
            let conn = rusqlite::Connection::open(path).map_err(database_error)?;
            conn.execute_batch(pragmas).map_err(database_error)?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(database_error)?;
            conn.pragma_update(None, "journal_size_limit", LOG_SIZE_LIMIT)
                .map_err(database_error)?;
            Ok(conn)
        };
        let conn = open()?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        let checkpoints = open()?;
        // The pieces are async (they may read through the pool), so the thread runs them
        // on a runtime of its own; their statements on `conn` never wait.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (queue, pieces) = mpsc::channel(QUEUE);
        let (writing, stopped) = std_mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || checkpoint(&checkpoints, &stopped))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                runtime.block_on(write(Tx::direct(conn), pieces));
                drop(writing);
            })?;
        Ok(GroupCommit {
            mode: Mode::Grouped(queue),
        })
    }

    /// Runs `work`, an async function of the open transaction, and answers once its
    /// outcome is committed: `Ok` once its writes are durable, its own `Err` with its
    /// writes undone, or the database's error when the commit failed.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        match &self.mode {
            Mode::Separate(db) => {
                let mut tx = Tx::begin(db).await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                Ok(value)
            }
            Mode::Grouped(queue) => {
                let (answer, answered) = oneshot::channel();
                let piece = Piece {
                    work: Some(work),
                    result: None,
                    answer,
                };
                if queue.send(Box::new(piece)).await.is_err() {
                    return Err(writer_gone().into());
                }
                answered.await.unwrap_or_else(|_| Err(writer_gone().into()))
            }
        }
    }

    /// Runs `work`, whose statements may each commit on their own, and answers once they
    /// are durable: on SQLite as a piece of the writer's shared commit, like [`Self::run`];
    /// on PostgreSQL straight on the pool, without the two round trips a transaction
    /// around them would add.
    pub async fn run_autocommit<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        match &self.mode {
            Mode::Separate(db) => work(&mut Conn::pool(db.clone())).await,
            Mode::Grouped(_) => {
                self.run(move |tx: &mut Tx| -> BoxFuture<'_, _> { work(tx) })
                    .await
            }
        }
    }
}

/// A queued piece of work, whatever its result type.
trait Pending: Send {
    /// Runs the work; true when its writes are to be kept.
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool>;
    /// Answers the request, once the batch is committed or has failed.
    fn settle(self: Box<Self>, committed: bool);
}

struct Piece<T, E, F> {
    work: Option<F>,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Pending for Piece<T, E, F>
where
    T: Send + 'static,
    E: From<sqlx::Error> + Send + 'static,
    F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
{
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let Some(work) = self.work.take() else {
                return false;
            };
            let result = work(tx).await;
            let keep = result.is_ok();
            self.result = Some(result);
            keep
        })
    }

    fn settle(self: Box<Self>, committed: bool) {
        let answer = match self.result {
            // Undone whether or not the batch committed.
            Some(Err(err)) => Err(err),
            Some(Ok(value)) if committed => Ok(value),
            // The batch failed, or this piece never finished (it panicked).
            _ => Err(batch_failed().into()),
        };
        // A request that gave up waiting no longer listens; its work stands all the same.
        let _ = self.answer.send(answer);
    }
}

/// The writer: one batch per transaction on `tx`, for as long as anyone can send work.
async fn write(mut tx: Tx, mut queue: mpsc::Receiver<Box<dyn Pending>>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        let committed = match run_batch(&mut tx, &mut batch, &mut queue).await {
            Ok(()) => statement(&mut tx, "COMMIT").await,
            Err(err) => Err(err),
        };
        match &committed {
            Ok(()) => metrics::histogram!(PIECES_PER_COMMIT).record(batch.len() as f64),
            Err(err) => {
                tracing::error!(pieces = batch.len(), "a group commit failed: {err}");
                // Nothing of the batch may reach the next one; with no transaction open
                // (BEGIN failed) there is nothing to undo, and that error says so.
                let _ = statement(&mut tx, "ROLLBACK").await;
            }
        }
        for piece in batch {
            piece.settle(committed.is_ok());
        }
    }
}

/// Begins a transaction and runs `batch`'s first piece and every piece queued behind it,
/// up to [`MAX_BATCH`], each in its own savepoint. An error here is the transaction's,
/// not a piece's.
async fn run_batch(
    tx: &mut Tx,
    batch: &mut Vec<Box<dyn Pending>>,
    queue: &mut mpsc::Receiver<Box<dyn Pending>>,
) -> Result<(), sqlx::Error> {
    // IMMEDIATE takes the write lock at once, so no piece's first read can be from a
    // snapshot that another connection's commit makes stale.
    statement(tx, "BEGIN IMMEDIATE").await?;
    let mut next = 0;
    loop {
        statement(tx, "SAVEPOINT piece").await?;
        let piece = &mut batch[next];
        let keep = AssertUnwindSafe(piece.run(tx))
            .catch_unwind()
            .await
            .unwrap_or(false);
        if !keep {
            statement(tx, "ROLLBACK TO piece").await?;
        }
        statement(tx, "RELEASE piece").await?;
        next += 1;
        if next == MAX_BATCH {
            return Ok(());
        }
        match queue.try_recv() {
            Ok(piece) => batch.push(piece),
            Err(_) => return Ok(()),
        }
    }
}

/// Copies the log into the database file every [`CHECKPOINT_EVERY`] until the writer
/// stops. A passive checkpoint takes no lock the writer needs, and once the whole log is
/// in the file, the writer's next transaction starts the log over.
fn checkpoint(conn: &rusqlite::Connection, writer_stopped: &std_mpsc::Receiver<()>) {
    while let Err(std_mpsc::RecvTimeoutError::Timeout) =
        writer_stopped.recv_timeout(CHECKPOINT_EVERY)
    {
        // What a reader still uses stays in the log for the next round.
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!("a checkpoint failed: {err}");
        }
    }
}

async fn statement(tx: &mut Tx, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(&mut **tx).await.map(drop)
}

/// Answered when the writer has stopped (the server is shutting down).
fn writer_gone() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

/// Answered to every piece of a batch whose transaction failed: nothing of it was kept.
fn batch_failed() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other("the group commit failed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{sqlite_pool, SQLITE_PRAGMAS};

    /// A fresh SQLite file with one table, and a grouped committer on its own connection.
    async fn grouped() -> (GroupCommit, Db, tempfile::TempDir) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/group.db?mode=rwc", dir.path().display());
        let db = sqlite_pool(&url, 4).await;
        sqlx::query("CREATE TABLE claims (id INTEGER PRIMARY KEY, taken INTEGER NOT NULL)")
            .execute(&db)
            .await
            .expect("table");
        sqlx::query("INSERT INTO claims (id, taken) VALUES (1, 0)")
            .execute(&db)
            .await
            .expect("row");
        let commits =
            GroupCommit::grouped(&dir.path().join("group.db"), SQLITE_PRAGMAS).expect("the writer");
        (commits, db, dir)
    }

    /// How a claim ends after its write.
    #[derive(Clone, Copy, PartialEq)]
    enum Then {
        Return,
        Fail,
        Panic,
    }

    /// One claim of row 1: true for the one request that took it.
    async fn claim(commits: &GroupCommit, then: Then) -> Result<bool, sqlx::Error> {
        commits
            .run(move |tx| {
                Box::pin(async move {
                    let done =
                        sqlx::query("UPDATE claims SET taken = 1 WHERE id = 1 AND taken = 0")
                            .execute(&mut **tx)
                            .await?;
                    match then {
                        Then::Return => {}
                        // Any failure after the write: it must be undone.
                        Then::Fail => {
                            sqlx::query("SELECT no_such_column FROM claims")
                                .execute(&mut **tx)
                                .await?;
                        }
                        Then::Panic => panic!("a piece that panics after its write"),
                    }
                    Ok(done.rows_affected() == 1)
                })
            })
            .await
    }

    async fn taken(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT taken FROM claims WHERE id = 1")
            .fetch_one(db)
            .await
            .expect("read")
    }

    /// Sends `n` claims at once, each reading the row on another connection the moment
    /// its answer arrives, and checks that every winner saw its own commit; returns how
    /// many won.
    async fn winners<F, Fut>(db: &Db, n: usize, claim: F) -> usize
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        let claims: Vec<_> = (0..n)
            .map(|_| {
                let (claim, db) = (claim(), db.clone());
                tokio::spawn(async move { (claim.await, taken(&db).await) })
            })
            .collect();
        let mut won = 0;
        for claim in claims {
            let (took, seen) = claim.await.expect("task");
            if took {
                won += 1;
                assert_eq!(seen, 1, "the claim is committed before it is answered");
            }
        }
        won
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_claims_share_commits_and_one_wins() {
        let (commits, db, _dir) = grouped().await;
        let won = winners(&db, 200, || {
            let commits = commits.clone();
            async move { claim(&commits, Then::Return).await.expect("claim") }
        })
        .await;
        assert_eq!(won, 1, "exactly one of 200 concurrent claims takes the row");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failed_piece_is_undone_and_the_others_still_commit() {
        let (commits, db, _dir) = grouped().await;
        // Failing and panicking claims first, all in flight with good ones: none may keep
        // its write.
        let then = |i| match i {
            0..15 => Then::Fail,
            15..30 => Then::Panic,
            _ => Then::Return,
        };
        let mut tasks = Vec::new();
        for i in 0..40 {
            let commits = commits.clone();
            tasks.push(tokio::spawn(
                async move { (i, claim(&commits, then(i)).await) },
            ));
        }
        let mut won = 0;
        for task in tasks {
            let (i, result) = task.await.expect("task");
            if then(i) != Then::Return {
                assert!(result.is_err(), "claim {i} failed after its write");
            } else if result.expect("a good claim") {
                won += 1;
            }
        }
        assert_eq!(
            won, 1,
            "a failed claim's write was undone, so a good one took it"
        );
        assert_eq!(taken(&db).await, 1);
    }

    /// Commits a table of `rows` random 2,000-byte blobs through the writer.
    async fn fill(commits: &GroupCommit, rows: i64) {
        commits
            .run(move |tx| {
                Box::pin(async move {
                    sqlx::query("CREATE TABLE filler (b BLOB NOT NULL)")
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                         WHERE i < $1) INSERT INTO filler SELECT randomblob(2000) FROM n",
                    )
                    .bind(rows)
                    .execute(&mut **tx)
                    .await?;
                    Ok::<_, sqlx::Error>(())
                })
            })
            .await
            .expect("the rows are committed");
    }

    #[tokio::test]
    async fn the_log_reaches_the_database_file_without_a_commit_copying_it() {
        let (commits, _db, dir) = grouped().await;
        let file = dir.path().join("group.db");
        let size = || std::fs::metadata(&file).expect("the database file").len();
        let before = size();
        // 200 KB: far below the thousand pages at which SQLite checkpoints by itself, so
        // only the checkpoint thread can copy it.
        fill(&commits, 100).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while size() < before + 200_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the committed rows never reached the database file"
            );
            tokio::time::sleep(CHECKPOINT_EVERY / 4).await;
        }
    }

    /// A burst larger than the limit grows the log; once it is in the database file, the
    /// next commit starts the log over and cuts the file back to the limit.
    #[tokio::test]
    async fn the_log_file_is_cut_back_after_a_burst() {
        let (commits, _db, dir) = grouped().await;
        let log = dir.path().join("group.db-wal");
        let size = || std::fs::metadata(&log).map_or(0, |m| m.len() as i64);
        fill(&commits, LOG_SIZE_LIMIT / 2000 + 2000).await;
        assert!(
            size() > LOG_SIZE_LIMIT,
            "the burst grew the log to {}",
            size()
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() > LOG_SIZE_LIMIT {
            assert!(
                std::time::Instant::now() < deadline,
                "the log stayed at {} bytes",
                size()
            );
            tokio::time::sleep(CHECKPOINT_EVERY / 2).await;
            commits
                .run(|tx| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO filler VALUES (x'00')")
                            .execute(&mut **tx)
                            .await
                            .map(drop)
                    })
                })
                .await
                .expect("a small commit");
        }
    }

    #[tokio::test]
    async fn a_lone_request_does_not_wait_for_company() {
        let (commits, _db, _dir) = grouped().await;
        let took = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            claim(&commits, Then::Return),
        )
        .await
        .expect("a single request is committed without others arriving");
        assert!(took.expect("claim"));
    }

    /// Work outside a transaction of its own, on the writer or straight on the pool: one
    /// of 50 concurrent claims takes the row, and its write is durable when answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn autocommit_work_is_committed_when_answered_grouped_or_not() {
        let (grouped, db, _dir) = grouped().await;
        for commits in [grouped, GroupCommit::separate(db.clone())] {
            sqlx::query("UPDATE claims SET taken = 0")
                .execute(&db)
                .await
                .expect("reset");
            let won = winners(&db, 50, || {
                let commits = commits.clone();
                async move {
                    commits
                        .run_autocommit(|conn: &mut Conn| -> BoxFuture<'_, sqlx::Result<bool>> {
                            Box::pin(async move {
                                let done = sqlx::query(
                                    "UPDATE claims SET taken = 1 WHERE id = 1 AND taken = 0",
                                )
                                .execute(conn)
                                .await?;
                                Ok(done.rows_affected() == 1)
                            })
                        })
                        .await
                        .expect("claim")
                }
            })
            .await;
            assert_eq!(won, 1);
        }
    }
}

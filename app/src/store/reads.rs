//! Reads on the hot paths, run on the thread that asks.
//!
//! Every request reads its session before anything else, and a sign-in reads the account,
//! its second factor and its lock. Through sqlx's SQLite driver each read is a hand-off to
//! the connection's own thread and back, which costs more than SQLite's work on a row it
//! has in memory. On SQLite such reads therefore run through `rusqlite` on the calling
//! thread, on read-only connections kept for the purpose: a write-ahead-log reader never
//! waits for the writer, so the thread is held for microseconds. On PostgreSQL there is
//! nothing to gain, and the connection lent is the pool itself.

use std::{
    ops::{Deref, DerefMut},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use rusqlite::OpenFlags;

use crate::store::{
    tx::{database_error, Conn},
    Db,
};

/// How long a read waits for a lock. Only SQLite's own recovery of the log takes one
/// that stops readers; a read should fail rather than hold a worker thread for long.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// Where the reads of [`Reads::connection`] run.
#[derive(Clone)]
pub struct Reads(Source);

#[derive(Clone)]
enum Source {
    Pool(Db),
    Sqlite(Arc<Idle>),
}

/// Read-only connections to one SQLite file, opened as threads need them and kept.
struct Idle {
    path: PathBuf,
    connections: Mutex<Vec<rusqlite::Connection>>,
}

impl Reads {
    /// Reads through the pool.
    pub fn pooled(db: Db) -> Self {
        Reads(Source::Pool(db))
    }

    /// Reads on the calling thread from the SQLite file at `path`, which must exist.
    pub fn sqlite(path: &Path) -> sqlx::Result<Self> {
        let reads = Reads(Source::Sqlite(Arc::new(Idle {
            path: path.to_owned(),
            connections: Mutex::new(Vec::new()),
        })));
        // Open one now, so a file that cannot be read fails the start, not a request.
        drop(reads.connection()?);
        Ok(reads)
    }

    /// A connection to read on: on SQLite one of this thread's, given back to the set
    /// when dropped; on PostgreSQL the pool.
    pub fn connection(&self) -> sqlx::Result<ReadConn> {
        let idle = match &self.0 {
            Source::Pool(db) => {
                return Ok(ReadConn {
                    conn: Some(Conn::pool(db.clone())),
                    idle: None,
                })
            }
            Source::Sqlite(idle) => idle,
        };
        let kept = idle
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match kept {
            Some(conn) => conn,
            None => open(&idle.path)?,
        };
        Ok(ReadConn {
            conn: Some(Conn::direct(conn)),
            idle: Some(idle.clone()),
        })
    }
}

fn open(path: &Path) -> sqlx::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(database_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(database_error)?;
    Ok(conn)
}

/// A connection of [`Reads`], lent until dropped.
pub struct ReadConn {
    conn: Option<Conn>,
    /// Where a SQLite connection goes back to.
    idle: Option<Arc<Idle>>,
}

impl Deref for ReadConn {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("lent until dropped")
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("lent until dropped")
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let conn = self.conn.take().and_then(Conn::into_direct);
        if let (Some(conn), Some(idle)) = (conn, &self.idle) {
            idle.connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::sqlite_pool;

    async fn database() -> (crate::store::Db, Reads, tempfile::TempDir) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/reads.db?mode=rwc", dir.path().display());
        let db = sqlite_pool(&url, 2).await;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .execute(&db)
            .await
            .expect("table");
        let reads = Reads::sqlite(&dir.path().join("reads.db")).expect("reads");
        (db, reads, dir)
    }

    async fn names(reads: &Reads) -> Vec<String> {
        let mut conn = reads.connection().expect("open");
        sqlx::query_scalar("SELECT name FROM t ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .expect("read")
    }

    #[tokio::test]
    async fn a_read_sees_every_commit_made_before_it() {
        let (db, reads, _dir) = database().await;
        assert!(names(&reads).await.is_empty());
        for name in ["a", "b"] {
            sqlx::query("INSERT INTO t (name) VALUES ($1)")
                .bind(name)
                .execute(&db)
                .await
                .expect("insert");
            // The same kept connection, which must not stay on an old snapshot.
            assert_eq!(names(&reads).await.last().map(String::as_str), Some(name));
        }
        sqlx::query("DELETE FROM t")
            .execute(&db)
            .await
            .expect("delete");
        assert!(names(&reads).await.is_empty(), "a deletion is seen at once");
    }

    #[tokio::test]
    async fn connections_are_kept_and_opened_as_needed() {
        let (_db, reads, _dir) = database().await;
        let first = reads.connection().expect("open");
        let second = reads.connection().expect("open");
        drop((first, second));
        let kept = |reads: &Reads| match &reads.0 {
            Source::Sqlite(idle) => Some(idle.connections.lock().unwrap().len()),
            Source::Pool(_) => None,
        };
        assert_eq!(kept(&reads), Some(2), "both were given back");
        let _third = reads.connection().expect("open");
        assert_eq!(kept(&reads), Some(1), "a kept one was lent again");
    }

    #[tokio::test]
    async fn they_cannot_write() {
        let (_db, reads, _dir) = database().await;
        let mut conn = reads.connection().expect("open");
        let refused = sqlx::query("INSERT INTO t (name) VALUES ('x')")
            .execute(&mut *conn)
            .await
            .expect_err("a read-only connection");
        assert!(refused.to_string().contains("readonly"), "{refused}");
    }

    #[tokio::test]
    async fn pooled_reads_go_through_the_pool() {
        let (db, _reads, _dir) = database().await;
        sqlx::query("INSERT INTO t (name) VALUES ('a')")
            .execute(&db)
            .await
            .expect("insert");
        assert_eq!(names(&Reads::pooled(db)).await, ["a"]);
    }
}

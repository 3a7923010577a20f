//! The store's test fixtures: SQLite pools set up as the tests need them.

use crate::store::Db;

/// The tests' SQLite set-up: like the server's, but commits are not flushed to disk.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                  PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// A pool of `connections` on the SQLite file at `url`, set up as the tests need it.
pub async fn sqlite_pool(url: &str, connections: u32) -> Db {
    sqlx::any::AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, SQLITE_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("open the test database")
}

/// A fresh SQLite database with the server's migrations, at `test.db` in the returned
/// directory; keep the directory alive as long as the pool.
pub async fn migrated_db() -> (Db, tempfile::TempDir) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
    let db = sqlite_pool(&url, 8).await;
    sqlx::migrate!("../server/migrations/sqlite")
        .run(&db)
        .await
        .expect("migrations");
    (db, dir)
}

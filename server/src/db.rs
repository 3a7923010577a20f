//! The connection pool and migrations.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::{bail, Context};
use app::store::{group_commit::GroupCommit, reads::Reads, Backend, Db};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    ConnectOptions, Executor,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a free connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Every SQLite connection's set-up, the pool's and the group-commit writer's. WAL lets
/// readers run beside the one writer; FULL makes a commit durable before the request
/// that made it is answered. No connection checkpoints after its own commits, which
/// would keep its request waiting: the group commit's checkpoint thread does it for all.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                              PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                              PRAGMA wal_autocheckpoint = 0;";

/// Opens the pool and brings the schema up to date. Also returns where the code prompt
/// commits (on SQLite, a writer on a connection of its own that groups commits) and
/// where sessions are read (on SQLite, on the thread that asks).
pub async fn connect(url: &str) -> anyhow::Result<(Db, GroupCommit, Reads, Backend)> {
    sqlx::any::install_default_drivers();
    let Some(backend) = Backend::from_url(url) else {
        bail!("DATABASE_URL must start with sqlite:// or postgres://");
    };
    let pool = match backend {
        Backend::Sqlite => connect_sqlite(url, 8).await?,
        Backend::Postgres => connect_postgres(url).await?,
    };
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .run(&pool)
        .await
        .context("applying database migrations")?;
    let (commits, reads) = match backend {
        Backend::Sqlite => {
            let path = Path::new(sqlite_path(url));
            (
                GroupCommit::grouped(path, SQLITE_PRAGMAS).context("starting the SQLite writer")?,
                Reads::sqlite(path).context("opening the SQLite readers")?,
            )
        }
        Backend::Postgres => (
            GroupCommit::separate(pool.clone()),
            Reads::pooled(pool.clone()),
        ),
    };
    Ok((pool, commits, reads, backend))
}

/// The file a `sqlite:` URL names.
fn sqlite_path(url: &str) -> &str {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    path.split('?').next().unwrap_or(path)
}

async fn connect_sqlite(url: &str, connections: u32) -> anyhow::Result<Db> {
    let path = sqlite_path(url);
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A connection to a local file does not go stale, and testing it on every acquire
        // is a round trip to its thread: a third of what one query costs.
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(SQLITE_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the SQLite database at {path}"))
}

async fn connect_postgres(url: &str) -> anyhow::Result<Db> {
    let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    let target = describe_postgres(url);
    AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Like SQLite's busy_timeout: a request stuck behind a lock fails (and is
                // answered 503) instead of waiting as long as the lock is held.
                conn.execute("SET lock_timeout = '5s'").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL {target}"))
}

/// How many accounts exist: the server key may only be created while this is 0.
pub async fn account_count(db: &Db) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
        .context("counting accounts")
}

/// "database D on host H", without the password.
fn describe_postgres(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "database \"{}\" on {}:{}",
            u.path().trim_start_matches('/'),
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(5432)
        ),
        Err(_) => "(unparseable DATABASE_URL)".into(),
    }
}

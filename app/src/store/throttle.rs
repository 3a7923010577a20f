//! The `throttle` table: failure counters keyed by what is being guessed at.

use sqlx::{Any, Executor};

use super::Db;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub lockouts: i64,
    pub locked_until: i64,
}

pub async fn get(db: &Db, key: &str) -> sqlx::Result<ThrottleRow> {
    let row =
        sqlx::query_as("SELECT failures, lockouts, locked_until FROM throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.unwrap_or_default())
}

/// Adds one failure in a single statement and returns the new state, so concurrent
/// failures are all counted.
pub async fn add_failure<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    now: i64,
) -> sqlx::Result<ThrottleRow> {
    sqlx::query_as(
        "INSERT INTO throttle (key, failures, lockouts, locked_until, updated_at) VALUES ($1, 1, 0, 0, $2) \
         ON CONFLICT (key) DO UPDATE SET failures = throttle.failures + 1, updated_at = $2 \
         RETURNING failures, lockouts, locked_until",
    )
    .bind(key)
    .bind(now)
    .fetch_one(ex)
    .await
}

/// Starts a lock, unless a concurrent request already started this one.
pub async fn lock<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    seen_lockouts: i64,
    locked: ThrottleRow,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE throttle SET failures = $1, lockouts = $2, locked_until = $3, updated_at = $4 \
         WHERE key = $5 AND lockouts = $6",
    )
    .bind(locked.failures)
    .bind(locked.lockouts)
    .bind(locked.locked_until)
    .bind(now)
    .bind(key)
    .bind(seen_lockouts)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn clear<'c>(ex: impl Executor<'c, Database = Any>, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM throttle WHERE key = $1")
        .bind(key)
        .execute(ex)
        .await
        .map(drop)
}

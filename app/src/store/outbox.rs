//! The `outbox` table: mail waiting to be sent. Each instance's worker claims a message
//! for a minute at a time, so a message is sent by one instance at once.

use std::sync::LazyLock;

use sqlx::{Any, Executor};

use crate::store::{Backend, Db};

/// How long a claim holds before another instance may take the message again.
pub const CLAIM_SECS: i64 = 60;

/// The `user_id` of a message to an address with no account yet (a provider sign-up's
/// link): stored as NULL, and the sealing's associated data. No account has id 0.
pub const NO_ACCOUNT: i64 = 0;

#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    /// [`NO_ACCOUNT`] for a message to an address alone.
    pub user_id: i64,
    pub kind: String,
    pub sealed_message: Option<Vec<u8>>,
    pub created_at: i64,
    pub attempts: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    kind: &str,
    sealed_message: &[u8],
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (user_id, kind, sealed_message, created_at, next_attempt_at) \
         VALUES (NULLIF($1, 0), $2, $3, $4, $4)",
    )
    .bind(user_id)
    .bind(kind)
    .bind(sealed_message)
    .bind(now)
    .execute(ex)
    .await
    .map(drop)
}

/// Claims the oldest message that is due, in one statement. PostgreSQL skips rows another
/// instance is claiming; SQLite has one writer at a time, so its statement is atomic as is.
pub async fn claim(db: &Db, backend: Backend, now: i64) -> sqlx::Result<Option<Claimed>> {
    let sql = match backend {
        Backend::Postgres => CLAIM_POSTGRES.as_str(),
        Backend::Sqlite => CLAIM_SQLITE.as_str(),
    };
    sqlx::query_as(sql).bind(now).fetch_optional(db).await
}

static CLAIM_POSTGRES: LazyLock<String> = LazyLock::new(|| claim_sql(" FOR UPDATE SKIP LOCKED"));
static CLAIM_SQLITE: LazyLock<String> = LazyLock::new(|| claim_sql(""));

fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE outbox SET claimed_until = $1 + {CLAIM_SECS}, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
           AND next_attempt_at <= $1 AND claimed_until <= $1 ORDER BY id LIMIT 1{lock}) \
         RETURNING id, COALESCE(user_id, 0) AS user_id, kind, sealed_message, created_at, attempts"
    )
}

/// Sent: the message itself is dropped.
pub async fn mark_sent(db: &Db, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET sent_at = $2, sealed_message = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

pub async fn retry_at(db: &Db, id: i64, at: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = $2, claimed_until = 0 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(drop)
}

/// Given up on: kept as a record, without the message.
pub async fn mark_failed(db: &Db, id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET failed_at = $2, sealed_message = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

/// How many messages wait, and when the oldest of them was written.
pub async fn queue(db: &Db) -> sqlx::Result<(i64, Option<i64>)> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db)
    .await
}

/// Every message still waiting, for a change of server key.
pub async fn all_sealed<'c>(
    ex: impl Executor<'c, Database = Any>,
) -> sqlx::Result<Vec<(i64, i64, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT id, COALESCE(user_id, 0), sealed_message FROM outbox WHERE sealed_message IS NOT NULL",
    )
    .fetch_all(ex)
    .await
}

pub async fn reseal<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
    resealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE outbox SET sealed_message = $2 WHERE id = $1")
        .bind(id)
        .bind(resealed)
        .execute(ex)
        .await
        .map(drop)
}

/// Sent and failed records older than `before` go.
pub async fn delete_done(db: &Db, before: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE (sent_at IS NOT NULL AND sent_at < $1) \
         OR (failed_at IS NOT NULL AND failed_at < $1)",
    )
    .bind(before)
    .execute(db)
    .await?
    .rows_affected())
}

//! The `remembered_devices` table: browsers that may skip the second step for an account
//! until `expires_at`. Tokens are never stored, only their keyed hashes.

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: i64,
    pub user_agent: String,
    pub ip: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

pub struct NewDevice<'a> {
    pub token_hash: &'a [u8],
    pub user_id: i64,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    new: NewDevice<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO remembered_devices \
         (token_hash, user_id, user_agent, ip, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(new.token_hash)
    .bind(new.user_id)
    .bind(new.user_agent)
    .bind(new.ip)
    .bind(new.now)
    .bind(new.expires_at)
    .execute(ex)
    .await
    .map(drop)
}

/// Marks the device used, if the token is live and was issued for `user_id`: one
/// statement, so a token from another account is never even looked at apart from its
/// owner.
pub async fn use_token(db: &Db, user_id: i64, token_hash: &[u8], now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE remembered_devices SET last_used_at = $3 \
         WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The account's live remembered devices, most recently used first.
pub async fn list_for_user(db: &Db, user_id: i64, now: i64) -> sqlx::Result<Vec<DeviceRow>> {
    sqlx::query_as(
        "SELECT id, user_agent, ip, created_at, last_used_at, expires_at \
         FROM remembered_devices WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY last_used_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Forgets one device, checked against its owner so ids cannot be guessed.
pub async fn delete_for_user(db: &Db, user_id: i64, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets every device of the account; returns how many there were.
pub async fn delete_all<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM remembered_devices WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM remembered_devices WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

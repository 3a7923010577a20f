//! The `wrapped_keys` table: keys sealed under the server key.

use sqlx::{Any, Executor};

use crate::store::Db;

pub async fn find(db: &Db, purpose: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT sealed_key FROM wrapped_keys WHERE purpose = $1")
        .bind(purpose)
        .fetch_optional(db)
        .await
}

/// Stores the key unless another instance stored one first; the caller reads it back.
pub async fn insert_if_absent(
    db: &Db,
    purpose: &str,
    sealed_key: &[u8],
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO wrapped_keys (purpose, sealed_key, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (purpose) DO NOTHING",
    )
    .bind(purpose)
    .bind(sealed_key)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn replace<'c>(
    ex: impl Executor<'c, Database = Any>,
    purpose: &str,
    sealed_key: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE wrapped_keys SET sealed_key = $1 WHERE purpose = $2")
        .bind(sealed_key)
        .bind(purpose)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

//! The `email_tokens` table: single-use links sent by mail, as keyed hashes.

use sqlx::{Any, Executor};

use crate::store::Db;

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    token_hash: &[u8],
    user_id: i64,
    purpose: &str,
    email: &str,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose)
    .bind(email)
    .bind(expires_at)
    .execute(ex)
    .await
    .map(drop)
}

/// Spends a token in one statement: of any number of concurrent uses, one gets it.
pub async fn take<'c>(
    ex: impl Executor<'c, Database = Any>,
    token_hash: &[u8],
    purpose: &str,
    now: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "DELETE FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3 \
         RETURNING user_id, email",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(ex)
    .await
}

/// The account and address of a live token, without spending it.
pub async fn find(
    db: &Db,
    token_hash: &[u8],
    purpose: &str,
    now: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "SELECT user_id, email FROM email_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Ends every link the account was sent: a password or address change makes them all stale.
pub async fn delete_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await
        .map(drop)
}

/// Ends the account's links of one purpose: a new one replaces them.
pub async fn delete_for_user_and_purpose<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    purpose: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2")
        .bind(user_id)
        .bind(purpose)
        .execute(ex)
        .await
        .map(drop)
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM email_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

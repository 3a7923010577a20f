//! The `pending_sign_ups` table: provider sign-ups waiting for their address to be proved.

use std::sync::LazyLock;

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub provider_id: String,
    pub provider_key: String,
    pub subject: String,
    pub email_hint: String,
    pub email: Option<String>,
}

pub struct NewPending<'a> {
    pub binding_hash: &'a [u8],
    pub provider_id: &'a str,
    pub provider_key: &'a str,
    pub subject: &'a str,
    pub email_hint: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "provider_id, provider_key, subject, email_hint, email";
static FIND: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM pending_sign_ups WHERE binding_hash = $1 AND expires_at > $2")
});
static TAKE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM pending_sign_ups WHERE binding_hash = $1 AND link_hash = $2 \
         AND expires_at > $3 RETURNING {COLUMNS}"
    )
});

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    new: NewPending<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pending_sign_ups (binding_hash, provider_id, provider_key, subject, \
         email_hint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.binding_hash)
    .bind(new.provider_id)
    .bind(new.provider_key)
    .bind(new.subject)
    .bind(new.email_hint)
    .bind(new.now)
    .bind(new.expires_at)
    .execute(ex)
    .await
    .map(drop)
}

/// The unexpired sign-up bound to the browser whose cookie hashes to `binding_hash`.
pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    binding_hash: &[u8],
    now: i64,
) -> sqlx::Result<Option<PendingRow>> {
    sqlx::query_as(FIND.as_str())
        .bind(binding_hash)
        .bind(now)
        .fetch_optional(ex)
        .await
}

/// Records the link just sent to `email`; an earlier one stops working. False when the
/// sign-up expired meanwhile.
pub async fn set_link<'c>(
    ex: impl Executor<'c, Database = Any>,
    binding_hash: &[u8],
    email: &str,
    link_hash: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE pending_sign_ups SET email = $2, link_hash = $3 \
         WHERE binding_hash = $1 AND expires_at > $4",
    )
    .bind(binding_hash)
    .bind(email)
    .bind(link_hash)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes and returns the sign-up, in one statement, when both its browser's cookie and
/// its link match and it has not expired: a link is spent by its first use.
pub async fn take<'c>(
    ex: impl Executor<'c, Database = Any>,
    binding_hash: &[u8],
    link_hash: &[u8],
    now: i64,
) -> sqlx::Result<Option<PendingRow>> {
    sqlx::query_as(TAKE.as_str())
        .bind(binding_hash)
        .bind(link_hash)
        .bind(now)
        .fetch_optional(ex)
        .await
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM pending_sign_ups WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

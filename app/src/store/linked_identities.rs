//! The `linked_identities` table: which provider accounts sign in to which account.

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedIdentityRow {
    pub provider_id: String,
    pub linked_at: i64,
    /// The account's credentials epoch the link was made at.
    pub linked_epoch: i64,
}

/// The account a provider's subject signs in to, as one statement reads it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Owner {
    pub user_id: i64,
    pub linked_epoch: i64,
    /// The account's epoch in the same read as the link, so a sign-in by this link
    /// cannot outlive a disconnect that commits after it.
    pub credentials_epoch: i64,
}

pub async fn find_owner(db: &Db, provider_key: &str, subject: &str) -> sqlx::Result<Option<Owner>> {
    sqlx::query_as(
        "SELECT l.user_id, l.linked_epoch, u.credentials_epoch FROM linked_identities l \
         JOIN users u ON u.id = l.user_id WHERE l.provider_key = $1 AND l.subject = $2",
    )
    .bind(provider_key)
    .bind(subject)
    .fetch_optional(db)
    .await
}

/// Links a subject to an account at the account's current credentials epoch; a subject
/// linked elsewhere, or a second link to the same provider, surfaces as a unique violation.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    provider_id: &str,
    provider_key: &str,
    subject: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO linked_identities (user_id, provider_id, provider_key, subject, linked_at, \
         linked_epoch) SELECT $1, $2, $3, $4, $5, credentials_epoch FROM users WHERE id = $1",
    )
    .bind(user_id)
    .bind(provider_id)
    .bind(provider_key)
    .bind(subject)
    .bind(now)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn list_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<LinkedIdentityRow>> {
    sqlx::query_as(
        "SELECT provider_id, linked_at, linked_epoch FROM linked_identities WHERE user_id = $1 \
         ORDER BY linked_at, id",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await
}

/// Removes the link unless it is the account's last way to sign in, in one statement:
/// two concurrent disconnects cannot both succeed when only a password-less pair is left.
pub async fn delete_unless_last<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    provider_id: &str,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM linked_identities WHERE user_id = $1 AND provider_id = $2 AND ( \
           EXISTS (SELECT 1 FROM users WHERE id = $1 AND password_hash <> '') \
           OR (SELECT COUNT(*) FROM linked_identities WHERE user_id = $1) > 1)",
    )
    .bind(user_id)
    .bind(provider_id)
    .execute(ex)
    .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Removes every provider link of the account, when its address's owner claims it.
pub async fn delete_all_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM linked_identities WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

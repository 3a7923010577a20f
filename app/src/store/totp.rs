//! The `totp_credentials` and `totp_enrollments` tables.
//!
//! Secrets arrive here already sealed; this module never sees a readable one.

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub sealed_secret: Vec<u8>,
    pub last_used_step: Option<i64>,
    pub enabled_at: i64,
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<CredentialRow>> {
    sqlx::query_as(
        "SELECT sealed_secret, last_used_step, enabled_at FROM totp_credentials WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

/// Stores the credential unless one exists; false means 2FA was already on.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    sealed_secret: &[u8],
    last_used_step: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO totp_credentials (user_id, sealed_secret, last_used_step, enabled_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(sealed_secret)
    .bind(last_used_step)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims a time step for the user's code. Only a step later than the last accepted one
/// succeeds, and the check and the write are one statement, so two requests carrying the
/// same code cannot both pass — on any number of app instances. `sealed_secret` is the
/// secret the code was checked against, read before: after a switch of app it no longer
/// matches, and the claim fails.
pub async fn claim_step<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    step: i64,
    sealed_secret: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE totp_credentials SET last_used_step = $1 \
         WHERE user_id = $2 AND (last_used_step IS NULL OR last_used_step < $1) \
         AND sealed_secret = $3",
    )
    .bind(step)
    .bind(user_id)
    .bind(sealed_secret)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete<'c>(ex: impl Executor<'c, Database = Any>, user_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Starts (or restarts) the enrollment bound to a session.
pub async fn put_enrollment(
    db: &Db,
    session_id: i64,
    sealed_secret: &[u8],
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO totp_enrollments (session_id, sealed_secret, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (session_id) DO UPDATE SET sealed_secret = $2, expires_at = $3",
    )
    .bind(session_id)
    .bind(sealed_secret)
    .bind(expires_at)
    .execute(db)
    .await
    .map(drop)
}

/// The session's pending secret and its expiry, if it has not expired.
pub async fn find_enrollment(
    db: &Db,
    session_id: i64,
    now: i64,
) -> sqlx::Result<Option<(Vec<u8>, i64)>> {
    sqlx::query_as(
        "SELECT sealed_secret, expires_at FROM totp_enrollments WHERE session_id = $1 AND expires_at > $2",
    )
    .bind(session_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Whether the session still has a pending secret, expired or not: false once a request
/// has used it.
pub async fn has_enrollment<'c>(
    ex: impl Executor<'c, Database = Any>,
    session_id: i64,
) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT session_id FROM totp_enrollments WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(ex)
            .await?;
    Ok(found.is_some())
}

/// Removes the pending secret; false when another request used it first.
pub async fn take_enrollment<'c>(
    ex: impl Executor<'c, Database = Any>,
    session_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM totp_enrollments WHERE session_id = $1")
        .bind(session_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops the pending secrets of every session of a user.
pub async fn delete_enrollments_of_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM totp_enrollments WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn delete_expired_enrollments(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM totp_enrollments WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Every credential's user and sealed secret, for re-sealing under a new key.
pub async fn all_sealed_credentials<'c>(
    ex: impl Executor<'c, Database = Any>,
) -> sqlx::Result<Vec<(i64, Vec<u8>)>> {
    sqlx::query_as("SELECT user_id, sealed_secret FROM totp_credentials")
        .fetch_all(ex)
        .await
}

/// Every pending enrollment's session, user and sealed secret, likewise.
pub async fn all_sealed_enrollments<'c>(
    ex: impl Executor<'c, Database = Any>,
) -> sqlx::Result<Vec<(i64, i64, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT e.session_id, s.user_id, e.sealed_secret \
         FROM totp_enrollments e JOIN sessions s ON s.id = e.session_id",
    )
    .fetch_all(ex)
    .await
}

/// One credential's user and sealed secret, to check a key against.
pub async fn any_sealed_credential(db: &Db) -> sqlx::Result<Option<(i64, Vec<u8>)>> {
    sqlx::query_as("SELECT user_id, sealed_secret FROM totp_credentials LIMIT 1")
        .fetch_optional(db)
        .await
}

/// Replaces a sealed secret, unless it changed since it was read.
pub async fn reseal_credential<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    was: &[u8],
    sealed_secret: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE totp_credentials SET sealed_secret = $1 WHERE user_id = $2 AND sealed_secret = $3",
    )
    .bind(sealed_secret)
    .bind(user_id)
    .bind(was)
    .execute(ex)
    .await
    .map(drop)
}

/// Replaces a pending sealed secret, unless it changed since it was read.
pub async fn reseal_enrollment<'c>(
    ex: impl Executor<'c, Database = Any>,
    session_id: i64,
    was: &[u8],
    sealed_secret: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE totp_enrollments SET sealed_secret = $1 WHERE session_id = $2 AND sealed_secret = $3",
    )
    .bind(sealed_secret)
    .bind(session_id)
    .bind(was)
        .execute(ex)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    /// A step is claimed once, only forwards, and only against the secret it was
    /// checked with: a code read before a switch of app fails after it.
    #[tokio::test]
    async fn a_step_is_claimed_once_forwards_and_only_for_the_secret_read() {
        let (db, _dir) = testing::migrated_db().await;
        let db = &db;
        let user = crate::store::users::insert(db, "claim@example.com", "x", 0)
            .await
            .unwrap();
        assert!(insert(db, user, b"old secret", 10, 0).await.unwrap());
        assert!(claim_step(db, user, 11, b"old secret").await.unwrap());
        assert!(!claim_step(db, user, 11, b"old secret").await.unwrap());
        assert!(!claim_step(db, user, 10, b"old secret").await.unwrap());
        sqlx::query("UPDATE totp_credentials SET sealed_secret = $1 WHERE user_id = $2")
            .bind(&b"new secret"[..])
            .bind(user)
            .execute(db)
            .await
            .unwrap();
        assert!(!claim_step(db, user, 12, b"old secret").await.unwrap());
        assert!(claim_step(db, user, 12, b"new secret").await.unwrap());
    }
}

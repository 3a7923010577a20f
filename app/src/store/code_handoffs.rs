//! The `code_handoffs` table: a sealed set of new recovery codes per session, kept for a
//! few minutes so a browser without JavaScript can show and download it.

use sqlx::{Any, Executor};

use crate::store::Db;

pub async fn put(
    db: &Db,
    session_id: i64,
    sealed_codes: &[u8],
    generated_at: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO code_handoffs (session_id, sealed_codes, generated_at, expires_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO UPDATE \
         SET sealed_codes = $2, generated_at = $3, expires_at = $4",
    )
    .bind(session_id)
    .bind(sealed_codes)
    .bind(generated_at)
    .bind(expires_at)
    .execute(db)
    .await
    .map(drop)
}

/// The sealed codes and when they were made, unless they have expired.
pub async fn find(db: &Db, session_id: i64, now: i64) -> sqlx::Result<Option<(Vec<u8>, i64)>> {
    sqlx::query_as(
        "SELECT sealed_codes, generated_at FROM code_handoffs \
         WHERE session_id = $1 AND expires_at > $2",
    )
    .bind(session_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Removes the codes and returns them, in one statement: of two concurrent takes, one
/// gets them.
pub async fn take(db: &Db, session_id: i64, now: i64) -> sqlx::Result<Option<(Vec<u8>, i64)>> {
    sqlx::query_as(
        "DELETE FROM code_handoffs WHERE session_id = $1 AND expires_at > $2 \
         RETURNING sealed_codes, generated_at",
    )
    .bind(session_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: &Db, session_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM code_handoffs WHERE session_id = $1")
        .bind(session_id)
        .execute(db)
        .await
        .map(drop)
}

/// Drops the codes waiting for any session of a user.
pub async fn delete_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM code_handoffs WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM code_handoffs WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Every waiting set of codes with its session and user, for re-sealing under a new key.
pub async fn all_sealed<'c>(
    ex: impl Executor<'c, Database = Any>,
) -> sqlx::Result<Vec<(i64, i64, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT h.session_id, s.user_id, h.sealed_codes FROM code_handoffs h \
         JOIN sessions s ON s.id = h.session_id",
    )
    .fetch_all(ex)
    .await
}

/// Replaces a sealed set of codes, unless it changed since it was read.
pub async fn reseal<'c>(
    ex: impl Executor<'c, Database = Any>,
    session_id: i64,
    was: &[u8],
    sealed_codes: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE code_handoffs SET sealed_codes = $1 WHERE session_id = $2 AND sealed_codes = $3",
    )
    .bind(sealed_codes)
    .bind(session_id)
    .bind(was)
    .execute(ex)
    .await
    .map(drop)
}

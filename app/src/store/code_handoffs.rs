//! The `code_handoffs` table: a sealed set of new recovery codes per session, kept for a
//! few minutes so a browser without JavaScript can show and download it.

use super::Db;

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

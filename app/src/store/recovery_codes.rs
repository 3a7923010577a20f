//! The `recovery_codes` table: keyed hashes only, never the codes.

use sqlx::{Any, Executor};

use crate::store::tx::Tx;

/// Replaces a user's whole set in the caller's transaction, so old codes stop working
/// exactly when the new ones exist.
pub async fn replace_all(tx: &mut Tx, user_id: i64, hashes: &[Vec<u8>]) -> sqlx::Result<()> {
    delete_all(&mut **tx, user_id).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash.as_slice())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Marks a code used. One statement checks and writes, so of any number of concurrent
/// attempts with the same code exactly one sees `true`.
pub async fn consume<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    code_hash: &[u8],
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 \
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(code_hash)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many codes are left, and whether any has ever been used.
pub async fn summary<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<(i64, bool)> {
    let (left, used): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN used_at IS NULL THEN 0 ELSE 1 END), 0) \
         FROM recovery_codes WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(ex)
    .await?;
    Ok((left, used > 0))
}

pub async fn delete_all<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await
        .map(drop)
}

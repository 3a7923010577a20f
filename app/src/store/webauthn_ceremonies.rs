//! The `webauthn_ceremonies` table: registrations and authentications under way.

use sqlx::{Any, Executor};

use crate::store::Db;

pub struct NewCeremony<'a> {
    pub id_hash: &'a [u8],
    pub purpose: &'a str,
    pub session_id: Option<i64>,
    pub state: &'a str,
    pub expires_at: i64,
}

pub async fn insert(db: &Db, new: NewCeremony<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id_hash, purpose, session_id, state, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new.id_hash)
    .bind(new.purpose)
    .bind(new.session_id)
    .bind(new.state)
    .bind(new.expires_at)
    .execute(db)
    .await
    .map(drop)
}

/// Removes the ceremony and returns its state, in one statement: of two finishes at once,
/// one gets it. Only an unexpired ceremony of this purpose and session is taken.
pub async fn take<'c>(
    ex: impl Executor<'c, Database = Any>,
    id_hash: &[u8],
    purpose: &str,
    session_id: Option<i64>,
    now: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 AND purpose = $2 \
         AND COALESCE(session_id, -1) = $3 AND expires_at > $4 RETURNING state",
    )
    .bind(id_hash)
    .bind(purpose)
    .bind(session_id.unwrap_or(-1))
    .bind(now)
    .fetch_optional(ex)
    .await
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

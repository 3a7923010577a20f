//! The `social_flows` table: round trips to a provider that have begun and not returned.

use sqlx::{Any, Executor};

use crate::store::Db;

pub struct NewFlow<'a> {
    pub state_hash: &'a [u8],
    pub binding_hash: &'a [u8],
    pub provider_id: &'a str,
    pub purpose: &'a str,
    pub session_id: Option<i64>,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
    pub next: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct FlowRow {
    pub binding_hash: Vec<u8>,
    pub provider_id: String,
    pub purpose: String,
    pub session_id: Option<i64>,
    pub pkce_verifier: String,
    pub nonce: String,
    pub next: String,
    pub created_at: i64,
}

pub async fn insert<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    flow: NewFlow<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO social_flows (state_hash, binding_hash, provider_id, purpose, session_id, \
         pkce_verifier, nonce, next, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(flow.state_hash)
    .bind(flow.binding_hash)
    .bind(flow.provider_id)
    .bind(flow.purpose)
    .bind(flow.session_id)
    .bind(flow.pkce_verifier)
    .bind(flow.nonce)
    .bind(flow.next)
    .bind(flow.now)
    .bind(flow.expires_at)
    .execute(ex)
    .await
    .map(drop)
}

/// Removes the flow and returns it, in one statement: a state is spent by the first
/// callback that names it, whatever becomes of that callback.
pub async fn take(db: &Db, state_hash: &[u8], now: i64) -> sqlx::Result<Option<FlowRow>> {
    sqlx::query_as(
        "DELETE FROM social_flows WHERE state_hash = $1 AND expires_at > $2 \
         RETURNING binding_hash, provider_id, purpose, session_id, pkce_verifier, nonce, next, \
         created_at",
    )
    .bind(state_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete_expired<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM social_flows WHERE expires_at <= $1")
            .bind(now)
            .execute(ex)
            .await?
            .rows_affected(),
    )
}

//! The `security_events` table: each person's own audit log.

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

pub struct NewEvent<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub detail: &'a str,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    event: NewEvent<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO security_events (user_id, kind, at, ip, user_agent, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.user_id)
    .bind(event.kind)
    .bind(event.at)
    .bind(event.ip)
    .bind(event.user_agent)
    .bind(event.detail)
    .execute(ex)
    .await
    .map(drop)
}

/// A page of events, newest first, starting below `before_id` when given.
pub async fn page(
    db: &Db,
    user_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT id, kind, at, ip, user_agent, detail FROM security_events \
         WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db)
    .await
}

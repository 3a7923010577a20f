//! The `users` table.

use sqlx::{Any, Executor};

use super::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// Inserts a user and returns its id; a taken email surfaces as a unique violation.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    email: &str,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .fetch_one(ex)
    .await
}

pub async fn find_by_email(db: &Db, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("SELECT id, email, password_hash, created_at FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
}

pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("SELECT id, email, password_hash, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

//! The `users` table.

use std::sync::LazyLock;

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    /// `None` for an account made through a provider that has not set a password.
    pub password_hash: Option<String>,
    pub created_at: i64,
    /// When Gatehouse proved the person receives mail at `email`; `None` until then.
    pub email_verified_at: Option<i64>,
    /// Moves on with every change to the account's ways in; see [`bump_credentials_epoch`].
    pub credentials_epoch: i64,
}

/// The `credentials_epoch` every account starts with.
pub const NEW_ACCOUNT_EPOCH: i64 = 0;

/// The stored hash of an account without a password: no argon2 hash is ever empty.
const NO_PASSWORD: &str = "";

const COLUMNS: &str = "SELECT id, email, NULLIF(password_hash, '') AS password_hash, created_at, \
                       email_verified_at, credentials_epoch FROM users";
static BY_EMAIL: LazyLock<String> = LazyLock::new(|| format!("{COLUMNS} WHERE email = $1"));
static BY_ID: LazyLock<String> = LazyLock::new(|| format!("{COLUMNS} WHERE id = $1"));

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

/// Inserts an account that signs in only through a provider, until it sets a password.
pub async fn insert_without_password<'c>(
    ex: impl Executor<'c, Database = Any>,
    email: &str,
    now: i64,
) -> sqlx::Result<i64> {
    insert(ex, email, NO_PASSWORD, now).await
}

pub async fn set_password_hash<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(ex)
        .await
        .map(drop)
}

pub async fn find_by_email<'c>(
    ex: impl Executor<'c, Database = Any>,
    email: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(BY_EMAIL.as_str())
        .bind(email)
        .fetch_optional(ex)
        .await
}

pub async fn find_by_id<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(BY_ID.as_str())
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// Whether the account has a second factor (an authenticator app or a passkey), read in
/// one statement: it is asked on every sign-in and every Settings page.
pub async fn has_second_factor<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<bool> {
    let has: i64 = sqlx::query_scalar(concat!("SELECT ", has_second_factor!("$1")))
        .bind(user_id)
        .fetch_one(ex)
        .await?;
    Ok(has == 1)
}

/// Writes the account's row without changing it, so a transaction that must see the
/// account's sign-in methods unchanged holds its lock until it commits.
pub async fn lock<'c>(ex: impl Executor<'c, Database = Any>, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(user_id)
        .execute(ex)
        .await
        .map(drop)
}

/// The account's `credentials_epoch`, read where a sign-in's check begins.
pub async fn credentials_epoch<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT credentials_epoch FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(ex)
        .await
}

/// Marks a change to how the account is entered, and returns the new epoch. A session
/// whose sign-in read an older one is never inserted (`sessions::insert`), and the row
/// stays locked until the change commits, so such an insert waits for it and sees it.
pub async fn bump_credentials_epoch<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE users SET credentials_epoch = credentials_epoch + 1 WHERE id = $1 \
         RETURNING credentials_epoch",
    )
    .bind(user_id)
    .fetch_one(ex)
    .await
}

/// Sets the first password of an account made through a provider; false if it has one.
pub async fn set_first_password_hash<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = ''")
            .bind(password_hash)
            .bind(user_id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks the address proved, if it is still the account's address.
pub async fn mark_email_verified<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    email: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET email_verified_at = $3 WHERE id = $1 AND email = $2")
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Moves the account to a new address, proved by the link that was sent there.
pub async fn change_email<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    email: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET email = $2, email_verified_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(ex)
        .await
        .map(drop)
}

/// Requires two-factor authentication of the account; false if it already was.
pub async fn require_two_factor<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET two_factor_required = 1 WHERE id = $1 AND two_factor_required = 0",
    )
    .bind(user_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn two_factor_required(db: &Db, user_id: i64) -> sqlx::Result<bool> {
    let required: Option<i64> =
        sqlx::query_scalar("SELECT two_factor_required FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(required.unwrap_or(0) != 0)
}

//! The `sessions` table. Tokens are never stored, only their keyed hashes.

use std::sync::LazyLock;

use sqlx::{Any, Executor};

use crate::store::{Backend, Db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub stage: String,
    pub failed_codes: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: String,
    pub ip: String,
    pub reauthenticated_at: Option<i64>,
    pub first_factor: String,
    /// 1 when `server admin require-2fa` requires two-factor authentication of the account.
    pub two_factor_required: i64,
    /// 1 when the account has a second factor.
    pub has_second_factor: i64,
    /// 1 when the account has a password (one without has an empty hash).
    pub has_password: i64,
    /// The account's epoch when the session began.
    pub credentials_epoch: i64,
    #[sqlx(flatten)]
    pub proven: ProvenAt,
}

/// When each way of proving the person last succeeded in a session, if it did.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct ProvenAt {
    pub password_at: Option<i64>,
    pub provider_at: Option<i64>,
    pub totp_at: Option<i64>,
    pub recovery_code_at: Option<i64>,
    pub passkey_at: Option<i64>,
    pub device_at: Option<i64>,
}

/// The second step that promoted a session, as the column it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    Totp,
    RecoveryCode,
    Passkey,
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: i64,
    /// The account's `credentials_epoch` as the sign-in read it before its checks.
    pub credentials_epoch: i64,
    pub stage: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub first_factor: &'a str,
    pub proven: ProvenAt,
}

const SELECT: &str = concat!(
    "SELECT s.id, s.user_id, u.email, s.stage, s.failed_codes, s.created_at, \
     s.last_seen_at, s.expires_at, s.user_agent, s.ip, s.reauthenticated_at, s.first_factor, \
     u.two_factor_required, ",
    has_second_factor!("s.user_id"),
    " AS has_second_factor, \
     CAST(CASE WHEN u.password_hash <> '' THEN 1 ELSE 0 END AS BIGINT) AS has_password, \
     s.credentials_epoch, s.password_at, s.provider_at, s.totp_at, s.recovery_code_at, \
     s.passkey_at, s.device_at FROM sessions s JOIN users u ON u.id = s.user_id"
);

static FIND_ACTIVE: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT} WHERE s.token_hash = $1 AND s.expires_at > $2"));

static LIST_FOR_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT} WHERE s.user_id = $1 AND s.expires_at > $2 AND s.stage = 'full' \
         ORDER BY s.last_seen_at DESC, s.id DESC"
    )
});

const INSERT: &str = "INSERT INTO sessions (token_hash, user_id, stage, created_at, \
     last_seen_at, expires_at, user_agent, ip, first_factor, credentials_epoch, password_at, \
     provider_at, totp_at, recovery_code_at, passkey_at, device_at) \
     SELECT $1, id, $3, $4, $4, $5, $6, $7, $8, credentials_epoch, $10, $11, $12, $13, $14, $15 \
     FROM users WHERE id = $2 AND credentials_epoch = $9";
/// On PostgreSQL the account's row is share-locked: an insert that meets a factor change
/// still in flight waits for its commit and then reads its epoch. SQLite has one writer.
static INSERT_POSTGRES: LazyLock<String> =
    LazyLock::new(|| format!("{INSERT} FOR SHARE RETURNING id"));
static INSERT_SQLITE: LazyLock<String> = LazyLock::new(|| format!("{INSERT} RETURNING id"));

/// Inserts a session, unless the account's ways in changed since the sign-in read
/// `new.credentials_epoch` (or the account is gone): then `None`.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    backend: Backend,
    new: NewSession<'_>,
) -> sqlx::Result<Option<i64>> {
    let sql = match backend {
        Backend::Postgres => INSERT_POSTGRES.as_str(),
        Backend::Sqlite => INSERT_SQLITE.as_str(),
    };
    sqlx::query_scalar(sql)
        .bind(new.token_hash)
        .bind(new.user_id)
        .bind(new.stage)
        .bind(new.now)
        .bind(new.expires_at)
        .bind(new.user_agent)
        .bind(new.ip)
        .bind(new.first_factor)
        .bind(new.credentials_epoch)
        .bind(new.proven.password_at)
        .bind(new.proven.provider_at)
        .bind(new.proven.totp_at)
        .bind(new.proven.recovery_code_at)
        .bind(new.proven.passkey_at)
        .bind(new.proven.device_at)
        .fetch_optional(ex)
        .await
}

/// The unexpired session whose token hashes to `token_hash`.
pub async fn find_active<'c>(
    ex: impl Executor<'c, Database = Any>,
    token_hash: &[u8],
    now: i64,
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(FIND_ACTIVE.as_str())
        .bind(token_hash)
        .bind(now)
        .fetch_optional(ex)
        .await
}

/// Every unexpired session of a user, newest first.
pub async fn list_for_user(db: &Db, user_id: i64, now: i64) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as(LIST_FOR_USER.as_str())
        .bind(user_id)
        .bind(now)
        .fetch_all(db)
        .await
}

/// Records activity and slides the idle expiry forward.
pub async fn touch(db: &Db, id: i64, now: i64, expires_at: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Turns a pending session into a full one under a new token, recording the second step
/// that did it. Returns false if the session was no longer pending (a concurrent request
/// promoted or ended it first).
pub async fn promote<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
    new_token_hash: &[u8],
    now: i64,
    expires_at: i64,
    step: SecondStep,
) -> sqlx::Result<bool> {
    let sql = match step {
        SecondStep::Totp => PROMOTE_BY_TOTP,
        SecondStep::RecoveryCode => PROMOTE_BY_RECOVERY_CODE,
        SecondStep::Passkey => PROMOTE_BY_PASSKEY,
    };
    let done = sqlx::query(sql)
        .bind(new_token_hash)
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One statement per second step, so each stays `&'static str`.
macro_rules! promote_setting {
    ($column:literal) => {
        concat!(
            "UPDATE sessions SET token_hash = $1, stage = 'full', failed_codes = 0, \
             created_at = $2, last_seen_at = $2, expires_at = $3, ",
            $column,
            " = $2 WHERE id = $4 AND stage = 'pending_second_factor' AND expires_at > $2"
        )
    };
}
const PROMOTE_BY_TOTP: &str = promote_setting!("totp_at");
const PROMOTE_BY_RECOVERY_CODE: &str = promote_setting!("recovery_code_at");
const PROMOTE_BY_PASSKEY: &str = promote_setting!("passkey_at");

/// Takes one of a pending session's code attempts and returns how many it has used, or
/// `None` when it has none left, is no longer pending or has expired. One statement, so
/// parallel attempts cannot all see the same count.
pub async fn reserve_code_attempt<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
    now: i64,
    max: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE sessions SET failed_codes = failed_codes + 1 \
         WHERE id = $1 AND stage = 'pending_second_factor' AND expires_at > $2 \
         AND failed_codes < $3 RETURNING failed_codes",
    )
    .bind(id)
    .bind(now)
    .bind(max)
    .fetch_optional(ex)
    .await
}

pub async fn delete_pending(db: &Db, id: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND stage = 'pending_second_factor'")
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(db: &Db, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of a user's sessions, checked against the owner so ids cannot be guessed.
pub async fn delete_for_user(db: &Db, user_id: i64, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of a user except `keep` (pass `None` to end them all).
pub async fn delete_others<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    keep: Option<i64>,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(-1))
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_expired(db: &Db, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Records that the session's person just signed in again at a provider, which stands
/// in for the password they do not have.
pub async fn mark_reauthenticated(db: &Db, session_id: i64, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET reauthenticated_at = $2, provider_at = $2 \
             WHERE id = $1 AND stage = 'full'",
    )
    .bind(session_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

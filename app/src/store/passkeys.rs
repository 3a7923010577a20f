//! The `passkeys` table: each account's WebAuthn credentials.

use std::sync::LazyLock;

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON.
    pub passkey: String,
    pub counter: i64,
    pub backup_eligible: i64,
    pub backup_state: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// When its counter went backwards; a disabled passkey is refused for every purpose.
    pub disabled_at: Option<i64>,
}

const COLUMNS: &str = "SELECT id, user_id, name, passkey, counter, backup_eligible, backup_state, \
                       created_at, last_used_at, disabled_at FROM passkeys";
static FOR_USER: LazyLock<String> =
    LazyLock::new(|| format!("{COLUMNS} WHERE user_id = $1 ORDER BY id"));
static BY_CREDENTIAL_ID: LazyLock<String> =
    LazyLock::new(|| format!("{COLUMNS} WHERE credential_id = $1"));

pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a [u8],
    pub name: &'a str,
    pub passkey: &'a str,
    pub counter: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub now: i64,
}

/// Adds a credential; one registered already (to anyone) surfaces as a unique violation.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    new: NewPasskey<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO passkeys (user_id, credential_id, name, passkey, counter, backup_eligible, \
         backup_state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.user_id)
    .bind(new.credential_id)
    .bind(new.name)
    .bind(new.passkey)
    .bind(new.counter)
    .bind(i64::from(new.backup_eligible))
    .bind(i64::from(new.backup_state))
    .bind(new.now)
    .fetch_one(ex)
    .await
}

/// The account's credentials, oldest first.
pub async fn list_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<PasskeyRow>> {
    sqlx::query_as(FOR_USER.as_str())
        .bind(user_id)
        .fetch_all(ex)
        .await
}

pub async fn find_by_credential_id<'c>(
    ex: impl Executor<'c, Database = Any>,
    credential_id: &[u8],
) -> sqlx::Result<Option<PasskeyRow>> {
    sqlx::query_as(BY_CREDENTIAL_ID.as_str())
        .bind(credential_id)
        .fetch_optional(ex)
        .await
}

/// Disabled ones too: as in `has_second_factor!`, they hold
/// the account's second step until their owner removes them.
pub async fn count_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(ex)
        .await
}

/// Records a use: the new counter, flags and record, only if the stored counter is still
/// the one the check compared against, so two uses at once cannot both move it, and only
/// while the passkey is not disabled.
pub async fn record_use<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
    expected_counter: i64,
    used: &UsedPasskey<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE passkeys SET passkey = $3, counter = $4, backup_eligible = $5, backup_state = $6, \
         last_used_at = $7 WHERE id = $1 AND counter = $2 AND disabled_at IS NULL",
    )
    .bind(id)
    .bind(expected_counter)
    .bind(used.passkey)
    .bind(used.counter)
    .bind(i64::from(used.backup_eligible))
    .bind(i64::from(used.backup_state))
    .bind(used.now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct UsedPasskey<'a> {
    pub passkey: &'a str,
    pub counter: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub now: i64,
}

/// Disables a credential; false if it was disabled already, so only one of several
/// refusals at once tells its owner.
pub async fn disable<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE passkeys SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Renames one of the account's credentials; false if it has no such credential.
pub async fn rename(db: &Db, user_id: i64, id: i64, name: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes one of the account's credentials and returns its name, if it had it.
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name")
        .bind(id)
        .bind(user_id)
        .fetch_optional(ex)
        .await
}

pub async fn delete_all<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

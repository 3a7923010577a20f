//! The `throttle` table: attempt counters keyed by what is being guessed at.
//!
//! An attempt is counted *before* it is checked, by [`reserve`], in one statement that
//! refuses while the key is locked. Parallel requests therefore queue on the row (or on
//! SQLite's write lock) and can never get more attempts checked than the limit.

use sqlx::{Any, Executor};

use crate::store::Db;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub lockouts: i64,
    pub locked_until: i64,
}

/// What one reservation needs to know of its policy.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_failures: i64,
    pub base_lock_secs: i64,
    /// Doublings after which a lock is `max_lock_secs` long.
    pub doublings: i64,
    pub max_lock_secs: i64,
    /// Failures whose last one is older than this no longer count.
    pub decay_secs: i64,
    /// A key quiet this long after its last lock starts again from the shortest lock.
    pub forget_secs: i64,
    /// Many people share the key (an address): attempts in flight fill it, but only a
    /// confirmed failure starts a lock ([`lock_if_full`]), so a burst of good sign-ins
    /// from one office is asked to retry in a second rather than locked out.
    pub shared: bool,
}

/// The attempt counter as it stands before this reservation, after decay.
const FAILURES: &str = "(CASE WHEN throttle.updated_at <= $3 THEN 0 ELSE throttle.failures END)";
/// The lock history as it stands before this reservation, after a quiet week.
const LOCKOUTS: &str = "(CASE WHEN throttle.updated_at <= $4 AND throttle.locked_until <= $4 \
     THEN 0 ELSE throttle.lockouts END)";

/// Counts one attempt and returns the counter after it, or `None` while the key is
/// locked (the attempt is then not counted and must not be checked).
///
/// The attempt that reaches the limit starts the lock itself, in the same statement, so
/// nothing can slip in between it and the lock; a success afterwards lifts the lock
/// again with [`clear`] or [`release`].
pub async fn reserve<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    limits: Limits,
    now: i64,
) -> sqlx::Result<Option<ThrottleRow>> {
    debug_assert!(limits.max_failures >= 2, "the first insert never locks");
    if limits.shared {
        return sqlx::query_as(RESERVE_SHARED.as_str())
            .bind(key)
            .bind(now)
            .bind(now - limits.decay_secs)
            .bind(now - limits.forget_secs)
            .bind(limits.max_failures)
            .fetch_optional(ex)
            .await;
    }
    with_limits(RESERVE.as_str(), key, limits, now)
        .fetch_optional(ex)
        .await
}

/// A statement that takes a key's limits as `$1` to `$8`, bound in that order.
fn with_limits<'q>(
    sql: &'static str,
    key: &'q str,
    limits: Limits,
    now: i64,
) -> sqlx::query::QueryAs<'q, Any, ThrottleRow, sqlx::any::AnyArguments> {
    sqlx::query_as(sql)
        .bind(key)
        .bind(now)
        .bind(now - limits.decay_secs)
        .bind(now - limits.forget_secs)
        .bind(limits.max_failures)
        .bind(limits.base_lock_secs)
        .bind(limits.doublings)
        .bind(limits.max_lock_secs)
}

/// The length of the next lock, from the lock history. The shift is 64-bit on both
/// backends (PostgreSQL would shift a plain `1` as a 32-bit integer).
fn lock_secs() -> String {
    format!(
        "(CASE WHEN {LOCKOUTS} >= $7 THEN $8 ELSE $6 * (CAST(1 AS BIGINT) << CAST({LOCKOUTS} AS INTEGER)) END)"
    )
}

/// The reservation statement, assembled once from its parts.
static RESERVE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let reaches = format!("{FAILURES} + 1 >= $5");
    let lock_secs = lock_secs();
    format!(
        "INSERT INTO throttle (key, failures, lockouts, locked_until, updated_at) \
         VALUES ($1, 1, 0, 0, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN {reaches} THEN 0 ELSE {FAILURES} + 1 END, \
           lockouts = CASE WHEN {reaches} THEN {LOCKOUTS} + 1 ELSE {LOCKOUTS} END, \
           locked_until = CASE WHEN {reaches} THEN $2 + {lock_secs} ELSE throttle.locked_until END, \
           updated_at = $2 \
         WHERE throttle.locked_until <= $2 \
         RETURNING failures, lockouts, locked_until"
    )
});

pub async fn locked_until<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT locked_until FROM throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(ex)
        .await
}

/// A shared key's reservation: refused while locked or while the limit is taken by
/// failures and attempts in flight; it never starts a lock itself.
static RESERVE_SHARED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO throttle (key, failures, lockouts, locked_until, updated_at) \
         VALUES ($1, 1, 0, 0, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = {FAILURES} + 1, lockouts = {LOCKOUTS}, updated_at = $2 \
         WHERE throttle.locked_until <= $2 AND {FAILURES} < $5 \
         RETURNING failures, lockouts, locked_until"
    )
});

/// A shared key's failure is confirmed: when failures and attempts in flight fill the
/// limit, the lock starts. Returns its end, if this failure started it.
pub async fn lock_if_full<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    limits: Limits,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let locked = with_limits(LOCK_IF_FULL.as_str(), key, limits, now)
        .fetch_optional(ex)
        .await?;
    Ok(locked.map(|row| row.locked_until))
}

static LOCK_IF_FULL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let lock_secs = lock_secs();
    format!(
        "UPDATE throttle SET failures = 0, lockouts = {LOCKOUTS} + 1, \
           locked_until = $2 + {lock_secs}, updated_at = $2 \
         WHERE key = $1 AND throttle.locked_until <= $2 AND {FAILURES} >= $5 \
         RETURNING failures, lockouts, locked_until"
    )
});

/// Gives back a reservation that turned out to be a success. With `forget_failures` (a
/// key of one account) the earlier failures stop counting too; otherwise (a key many
/// people share, an address) only this attempt is taken back. A lock this reservation
/// started is lifted, unless a later one replaced it. The lock history stays either way:
/// only a quiet week forgets it, so successes cannot be used to keep locks short.
pub async fn give_back<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    reserved: ThrottleRow,
    max_failures: i64,
    forget_failures: bool,
) -> sqlx::Result<()> {
    // Only the reservation that starts a lock leaves the counter at zero.
    let query = if reserved.failures == 0 {
        sqlx::query(
            "UPDATE throttle SET failures = $1, lockouts = lockouts - 1, locked_until = 0 \
             WHERE key = $2 AND lockouts = $3 AND locked_until = $4",
        )
        .bind(if forget_failures { 0 } else { max_failures - 1 })
        .bind(key)
        .bind(reserved.lockouts)
        .bind(reserved.locked_until)
    } else if forget_failures {
        sqlx::query("UPDATE throttle SET failures = 0 WHERE key = $1").bind(key)
    } else {
        sqlx::query("UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0")
            .bind(key)
    };
    query.execute(ex).await.map(drop)
}

/// Marks the time of the last failure without counting another; see the caller for why.
pub async fn touch<'c>(
    ex: impl Executor<'c, Database = Any>,
    key: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE throttle SET updated_at = $1 WHERE key = $2")
        .bind(now)
        .bind(key)
        .execute(ex)
        .await
        .map(drop)
}

pub async fn clear<'c>(ex: impl Executor<'c, Database = Any>, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM throttle WHERE key = $1")
        .bind(key)
        .execute(ex)
        .await
        .map(drop)
}

/// Removes rows that no longer hold anything back: unlocked, and either never locked
/// with their failures decayed, or quiet long enough for their lock history to be
/// forgotten.
pub async fn sweep(
    db: &Db,
    now: i64,
    decayed_before: i64,
    forgotten_before: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM throttle WHERE locked_until <= $1 AND \
         ((lockouts = 0 AND updated_at <= $2) OR (updated_at <= $3 AND locked_until <= $3))",
    )
    .bind(now)
    .bind(decayed_before)
    .bind(forgotten_before)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

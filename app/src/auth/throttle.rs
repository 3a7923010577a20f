//! Limits on guessing: failure counters in the database, so every instance shares them
//! and a restart forgives nothing.
//!
//! After `max_failures` failures in a row the key is locked; each further run of failures
//! doubles the lock, up to `max_lock_secs`. Only a success resets the count.

use super::{audit, ClientInfo, Services};
use crate::{
    error::AppError,
    store::throttle::{self as table, ThrottleRow},
};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_failures: i64,
    pub base_lock_secs: i64,
    pub max_lock_secs: i64,
}

/// Codes from the app and recovery codes share one counter per account.
pub const SECOND_FACTOR: Policy = Policy {
    max_failures: 5,
    base_lock_secs: 15 * 60,
    max_lock_secs: 24 * 3600,
};
/// Wrong passwords for one account: ten tries cover typos and forgotten variants, and keep
/// a year of guessing near 3,600 attempts, far under NIST's ceiling of 100 in a row.
pub const PASSWORD_PER_ACCOUNT: Policy = Policy {
    max_failures: 10,
    base_lock_secs: 15 * 60,
    max_lock_secs: 24 * 3600,
};
/// Wrong passwords from one address, across accounts: room for an office behind one NAT,
/// none for spraying.
pub const PASSWORD_PER_IP: Policy = Policy {
    max_failures: 30,
    base_lock_secs: 15 * 60,
    max_lock_secs: 24 * 3600,
};

impl Policy {
    /// The length of the `lockouts`-th lock (counting from 1).
    pub fn lock_secs(&self, lockouts: i64) -> i64 {
        let doublings = (lockouts - 1).clamp(0, 32) as u32;
        self.base_lock_secs
            .saturating_mul(1 << doublings)
            .min(self.max_lock_secs)
    }

    /// The state after one more failure at `now`.
    pub fn after_failure(&self, row: ThrottleRow, now: i64) -> ThrottleRow {
        let failures = row.failures + 1;
        if failures < self.max_failures {
            return ThrottleRow { failures, ..row };
        }
        let lockouts = row.lockouts + 1;
        ThrottleRow {
            failures: 0,
            lockouts,
            locked_until: now + self.lock_secs(lockouts),
        }
    }
}

/// Seconds until the key may try again, if it is locked.
pub fn retry_after(row: &ThrottleRow, now: i64) -> Option<u64> {
    (row.locked_until > now).then(|| (row.locked_until - now) as u64)
}

/// Refuses at once while the key is locked; a locked attempt is never checked.
/// Otherwise says whether failures are on record, so that a success writes only when
/// there is something to clear.
pub async fn check(services: &Services, key: &str) -> Result<Standing, AppError> {
    let row = table::get(&services.db, key).await?;
    match retry_after(&row, services.clock.now()) {
        Some(retry_after_secs) => Err(AppError::Throttled { retry_after_secs }),
        None => Ok(Standing {
            has_failures: row.failures > 0 || row.lockouts > 0,
        }),
    }
}

/// What [`check`] found for a key that is not locked.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Standing {
    pub has_failures: bool,
}

/// Counts a failure. Returns the lock it started, if this failure started one.
pub async fn record_failure(
    services: &Services,
    key: &str,
    policy: Policy,
) -> Result<Option<u64>, AppError> {
    let mut conn = services.db.acquire().await?;
    record_failure_in(&mut conn, services, key, policy).await
}

/// [`record_failure`] on the caller's connection or transaction, so what else the
/// failure writes (its security event) commits with it, in one commit.
pub async fn record_failure_in(
    conn: &mut sqlx::AnyConnection,
    services: &Services,
    key: &str,
    policy: Policy,
) -> Result<Option<u64>, AppError> {
    let now = services.clock.now();
    let counted = table::add_failure(&mut *conn, key, now).await?;
    if counted.failures < policy.max_failures {
        return Ok(None);
    }
    let locked = policy.after_failure(
        ThrottleRow {
            failures: counted.failures - 1,
            ..counted
        },
        now,
    );
    // Of concurrent failures that reach the limit together, one starts the lock.
    if table::lock(&mut *conn, key, counted.lockouts, locked, now).await? {
        super::metrics::lockout(key);
        Ok(Some(policy.lock_secs(locked.lockouts) as u64))
    } else {
        Ok(None)
    }
}

pub async fn reset(services: &Services, key: &str) -> Result<(), AppError> {
    table::clear(&services.db, key).await?;
    Ok(())
}

/// Clears the failures [`check`] found, inside the caller's transaction; no write when
/// there were none.
pub async fn reset_after<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    key: &str,
    standing: Standing,
) -> Result<(), AppError> {
    if standing.has_failures {
        table::clear(ex, key).await?;
    }
    Ok(())
}

pub fn second_factor_key(user_id: i64) -> String {
    format!("2fa:{user_id}")
}

/// Counts a wrong second factor against the account. The failure that starts a lock is
/// answered with the lock, and logged.
pub async fn second_factor_failed(
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
) -> AppError {
    super::metrics::second_factor_failure();
    match record_failure(services, &second_factor_key(user_id), SECOND_FACTOR).await {
        Ok(None) => AppError::InvalidCode,
        Ok(Some(secs)) => {
            let detail = format!(
                "second factor locked for {}",
                crate::error::human_duration(secs)
            );
            if let Err(err) = audit::record(
                services,
                user_id,
                audit::EventKind::LockedOut,
                client,
                &detail,
            )
            .await
            {
                return err;
            }
            AppError::Throttled {
                retry_after_secs: secs,
            }
        }
        Err(err) => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_fifteen_minutes() {
        let mut row = ThrottleRow::default();
        for _ in 0..4 {
            row = SECOND_FACTOR.after_failure(row, 1000);
            assert_eq!(retry_after(&row, 1000), None);
        }
        row = SECOND_FACTOR.after_failure(row, 1000);
        assert_eq!(retry_after(&row, 1000), Some(15 * 60));
        assert_eq!(retry_after(&row, 1000 + 15 * 60), None);
    }

    #[test]
    fn each_further_run_doubles_the_lock_up_to_a_day() {
        let locks: Vec<i64> = (1..=9).map(|n| SECOND_FACTOR.lock_secs(n)).collect();
        assert_eq!(
            locks,
            [900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]
        );
    }

    /// An attacker guesses as fast as the throttle allows for a year. Each guess is one
    /// 6-digit code, and ±1 step of skew means 3 codes are accepted at any moment.
    #[test]
    fn a_year_of_guessing_stays_below_one_percent() {
        let year = 365 * 24 * 3600;
        let mut now = 0;
        let mut row = ThrottleRow::default();
        let mut guesses: u64 = 0;
        while now < year {
            if let Some(wait) = retry_after(&row, now) {
                now += wait as i64;
                continue;
            }
            guesses += 1;
            row = SECOND_FACTOR.after_failure(row, now);
            now += 1;
        }
        let p_guess = 3.0 / 1_000_000.0;
        let p_success = 1.0 - (1.0f64 - p_guess).powf(guesses as f64);
        println!(
            "a year allows {guesses} guesses: success probability {:.4} %",
            p_success * 100.0
        );
        assert!(p_success < 0.01, "{p_success}");
    }
}

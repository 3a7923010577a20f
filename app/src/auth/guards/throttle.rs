//! Limits on guessing: attempt counters in the database, so every instance shares them
//! and a restart forgives nothing.
//!
//! Every attempt is counted before it is checked ([`reserve`]); only a success gives the
//! attempt back. After `max_failures` attempts in a row the key is locked; each further
//! run doubles the lock, up to `max_lock_secs`. Failures decay a while after the last
//! one, and the lock history after a quiet week.

use futures::future::BoxFuture;

use crate::auth::{kernel::error::AuthError, services::Services};
use crate::store::{
    throttle::{self as table, Limits, ThrottleRow},
    tx::Conn,
};

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_failures: i64,
    pub base_lock_secs: i64,
    pub max_lock_secs: i64,
    /// Failures older than this (after the last one) no longer count.
    pub decay_secs: i64,
    /// Many people share the key: see [`Limits::shared`].
    pub shared: bool,
}

const DAY: i64 = 24 * 3600;
/// A key quiet this long after its last lock starts again from the shortest lock. Long
/// enough that waiting it out is slower than guessing at the longest lock.
pub const FORGET_SECS: i64 = 7 * DAY;

/// Codes from the app and recovery codes share one counter per account.
pub const SECOND_FACTOR: Policy = Policy {
    max_failures: 5,
    base_lock_secs: 15 * 60,
    max_lock_secs: DAY,
    decay_secs: DAY,
    shared: false,
};
/// Wrong passwords for one account: ten tries cover typos and forgotten variants, and keep
/// a year of guessing near 3,600 attempts, far under NIST's ceiling of 100 in a row.
pub const PASSWORD_PER_ACCOUNT: Policy = Policy {
    max_failures: 10,
    base_lock_secs: 15 * 60,
    max_lock_secs: DAY,
    decay_secs: DAY,
    shared: false,
};
/// Passwordless passkey answers for one account that did not check out. Not the second
/// factor's counter: anyone may send them, since the credential id and user handle they
/// name are not secret, so they must not lock the password's way in. Nor can they be
/// guesses, as no one forges a signature; the limit only bounds what one account can be
/// made to check and log. Ten leave an owner with a confused browser room to retry, and
/// a lock pauses only this way in.
pub const PASSWORDLESS_PER_ACCOUNT: Policy = Policy {
    max_failures: 10,
    base_lock_secs: 15 * 60,
    max_lock_secs: DAY,
    decay_secs: DAY,
    shared: false,
};
/// Wrong passwords from one address, across accounts: room for an office behind one NAT,
/// none for spraying.
pub const PASSWORD_PER_IP: Policy = Policy {
    max_failures: 30,
    base_lock_secs: 15 * 60,
    max_lock_secs: DAY,
    decay_secs: DAY,
    shared: true,
};
/// Mail asked for (a link to reset the password or to confirm the address), per account:
/// a few an hour, so nobody can flood someone's inbox through Gatehouse.
pub const MAIL_PER_ACCOUNT: Policy = Policy {
    max_failures: 5,
    base_lock_secs: 3600,
    max_lock_secs: DAY,
    decay_secs: 3600,
    shared: false,
};
/// Mail asked for from one address, across accounts.
pub const MAIL_PER_IP: Policy = Policy {
    max_failures: 20,
    base_lock_secs: 3600,
    max_lock_secs: DAY,
    decay_secs: 3600,
    shared: false,
};

/// Requests that leave a row behind before anyone has signed in (a passwordless passkey
/// ceremony, a round trip to a provider), begun from one address, each kind under its
/// own key and every one counted: far more than people signing in use, and a bound on
/// the rows anyone may cause.
pub const REQUESTS_BEGUN_PER_IP: Policy = Policy {
    max_failures: 300,
    base_lock_secs: 3600,
    max_lock_secs: DAY,
    decay_secs: 3600,
    // Never given back, like sign-ups.
    shared: false,
};

/// New accounts from one address, `per_hour` of them (the operator's
/// `--sign-ups-per-hour`): every sign-up counts, so it cannot be used to probe for
/// accounts or to burn argon2 at will.
pub fn sign_ups_per_ip(per_hour: i64) -> Policy {
    Policy {
        max_failures: per_hour.max(2),
        base_lock_secs: 3600,
        max_lock_secs: DAY,
        decay_secs: 3600,
        // Never given back, so every sign-up counts as one person's attempt would.
        shared: false,
    }
}

impl Policy {
    fn limits(&self) -> Limits {
        let doublings = (0..32)
            .find(|&d| self.base_lock_secs.saturating_mul(1 << d) >= self.max_lock_secs)
            .unwrap_or(32);
        Limits {
            max_failures: self.max_failures,
            base_lock_secs: self.base_lock_secs,
            doublings,
            max_lock_secs: self.max_lock_secs,
            decay_secs: self.decay_secs,
            forget_secs: FORGET_SECS,
            shared: self.shared,
        }
    }
}

/// One granted attempt. Check it, then either give it back on success ([`succeeded_in`],
/// [`release`]) or let it stand as a failure ([`Reservation::started_lock`]).
#[derive(Debug)]
#[must_use]
pub struct Reservation {
    key: String,
    policy: Policy,
    row: ThrottleRow,
    at: i64,
}

impl Reservation {
    /// The lock this attempt started, in seconds, if it was the last one allowed: when
    /// it fails, the person is told to wait that long.
    pub fn started_lock(&self) -> Option<u64> {
        (self.row.failures == 0 && self.row.locked_until > self.at)
            .then(|| (self.row.locked_until - self.at) as u64)
    }
}

/// The attempt counts for good (it failed, or is never given back): returns the lock it
/// started, if any, and counts that lock in the metrics. A lock whose attempt then
/// succeeds is lifted again, so it is not counted.
pub async fn stands(
    services: &Services,
    reservation: &Reservation,
) -> Result<Option<u64>, AuthError> {
    let lock = if reservation.policy.shared {
        let now = services.clock.now();
        table::lock_if_full(
            &services.db,
            &reservation.key,
            reservation.policy.limits(),
            now,
        )
        .await?
        .map(|until| (until - now) as u64)
    } else {
        reservation.started_lock()
    };
    if lock.is_some() {
        crate::auth::kernel::metrics::lockout(&reservation.key);
    }
    Ok(lock)
}

/// Counts an attempt before it is checked, or refuses it with the time left while the
/// key is locked; a refused attempt is never checked. It commits before the check begins,
/// on SQLite together with the writes of concurrent requests
/// ([`crate::store::group_commit`]).
pub async fn reserve(
    services: &Services,
    key: String,
    policy: Policy,
) -> Result<Reservation, AuthError> {
    let now = services.clock.now();
    services
        .commits
        .run_autocommit(move |conn: &mut Conn| -> BoxFuture<'_, _> {
            Box::pin(async move { reserve_at(conn, key, policy, now).await })
        })
        .await
}

/// [`reserve`] inside the caller's transaction: the counter's row stays locked until it
/// commits, so a concurrent attempt waits for this one's outcome. Everything happens on
/// that one connection: a transaction that holds the write lock must never wait for a
/// second connection from the pool, which those waiting for the lock may all hold.
pub async fn reserve_in<C>(
    conn: &mut C,
    services: &Services,
    key: String,
    policy: Policy,
) -> Result<Reservation, AuthError>
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    reserve_at(conn, key, policy, services.clock.now()).await
}

/// [`reserve_in`] at the time `now`.
pub async fn reserve_at<C>(
    conn: &mut C,
    key: String,
    policy: Policy,
    now: i64,
) -> Result<Reservation, AuthError>
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    match table::reserve(&mut *conn, &key, policy.limits(), now).await? {
        Some(row) => Ok(Reservation {
            key,
            policy,
            row,
            at: now,
        }),
        None => {
            let until = table::locked_until(&mut *conn, &key).await?;
            Err(AuthError::Throttled {
                retry_after_secs: until.map_or(1, |until| (until - now).max(1) as u64),
            })
        }
    }
}

/// Seconds until a key may try again, if it is locked now.
pub async fn locked_for(services: &Services, key: &str) -> Result<Option<u64>, AuthError> {
    locked_for_in(&mut *services.reads.connection()?, services, key).await
}

/// [`locked_for`] inside the caller's transaction, without counting an attempt.
pub async fn locked_for_in<C>(
    conn: &mut C,
    services: &Services,
    key: &str,
) -> Result<Option<u64>, AuthError>
where
    for<'c> &'c mut C: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let now = services.clock.now();
    let until = table::locked_until(&mut *conn, key).await?;
    Ok(until
        .filter(|until| *until > now)
        .map(|until| (until - now) as u64))
}

/// A success on a key that belongs to one account: its failures stop counting and a lock
/// this attempt started is lifted; the lock history stays. Inside the caller's
/// transaction, so it commits with the success it rewards.
pub async fn succeeded_in<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    reservation: Reservation,
) -> Result<(), AuthError> {
    let Reservation {
        key, policy, row, ..
    } = reservation;
    table::give_back(ex, &key, row, policy.max_failures, true).await?;
    Ok(())
}

/// A success on a key many people share (an address): only this attempt is given back.
pub async fn release(services: &Services, reservation: Reservation) -> Result<(), AuthError> {
    services
        .commits
        .run_autocommit(move |conn: &mut Conn| -> BoxFuture<'_, _> {
            Box::pin(release_in(conn, reservation))
        })
        .await
}

/// [`release`] inside the caller's transaction.
pub async fn release_in<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    reservation: Reservation,
) -> Result<(), AuthError> {
    let Reservation {
        key, policy, row, ..
    } = reservation;
    table::give_back(ex, &key, row, policy.max_failures, false).await?;
    Ok(())
}

/// Records the time of a failure already counted at reservation, inside the caller's
/// transaction. It makes a failure for an unknown account cost the same commit as one
/// for a real account, whose security event is written there.
pub async fn touch_in<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    services: &Services,
    reservation: &Reservation,
) -> Result<(), AuthError> {
    table::touch(ex, &reservation.key, services.clock.now()).await?;
    Ok(())
}

/// Removes counters that hold nothing back any more; returns how many.
pub async fn sweep(services: &Services) -> Result<u64, AuthError> {
    let now = services.clock.now();
    let longest_decay = [
        SECOND_FACTOR,
        PASSWORD_PER_ACCOUNT,
        PASSWORD_PER_IP,
        PASSWORDLESS_PER_ACCOUNT,
    ]
    .iter()
    .map(|p| p.decay_secs)
    .max()
    .unwrap_or(DAY);
    Ok(table::sweep(&services.db, now, now - longest_decay, now - FORGET_SECS).await?)
}

pub fn second_factor_key(user_id: i64) -> String {
    format!("2fa:{user_id}")
}

pub fn passwordless_key(user_id: i64) -> String {
    format!("passwordless:{user_id}")
}

pub fn password_key(email: &str) -> String {
    format!("pw:{email}")
}

/// The client's address as one counter: IPv4 per address, IPv6 per /64, the smallest
/// network a single subscriber is usually given.
pub fn address_key(prefix: &str, ip: &str) -> String {
    use std::net::IpAddr;
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{prefix}:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V4(v4)) => format!("{prefix}:{v4}"),
        Err(_) => format!("{prefix}:{ip}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{kernel::clock::Clock, testing};
    use futures::future::join_all;

    /// Sends `n` attempts at once; returns how many were granted (to be checked) and the
    /// wait the refused ones were told.
    async fn burst(services: &Services, key: &str, policy: Policy, n: usize) -> (u64, Option<u64>) {
        let results = join_all((0..n).map(|_| reserve(services, key.to_owned(), policy))).await;
        let mut granted = 0;
        let mut wait = None;
        for result in results {
            match result {
                Ok(_failed_guess) => granted += 1,
                Err(AuthError::Throttled { retry_after_secs }) => wait = Some(retry_after_secs),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        (granted, wait)
    }

    /// How the attacker plays, and whether the owner signs in every day meanwhile.
    #[derive(Debug, Clone, Copy)]
    struct Year {
        /// After a day-long lock, wait until the lock history is forgotten, hoping for
        /// short locks again.
        wait_out_history: bool,
        /// The owner signs in once a day whenever the lock allows: a success must not
        /// shorten the attacker's next lock.
        owner_daily: bool,
    }

    /// A year of guessing at the real store with the clock moved instead of slept: every
    /// guess is wrong, and the attacker sends 20 at once whenever the lock allows.
    async fn year_of_guessing(year: Year) -> u64 {
        let (services, clock, _dir) = testing::services().await;
        let key = second_factor_key(1);
        let end = clock.now() + 365 * DAY;
        let mut owner_next = clock.now() + DAY / 2;
        let mut checked = 0;
        while clock.now() < end {
            if year.owner_daily && clock.now() >= owner_next {
                if let Ok(owner) = reserve(&services, key.clone(), SECOND_FACTOR).await {
                    succeeded_in(&services.db, owner).await.unwrap();
                }
                owner_next += DAY;
            }
            let (granted, wait) = burst(&services, &key, SECOND_FACTOR, 20).await;
            assert!(granted <= 5, "{granted} guesses checked in one window");
            checked += granted;
            let wait = wait.map_or(1, |w| w as i64);
            if year.wait_out_history && wait >= SECOND_FACTOR.max_lock_secs - 1 {
                clock.advance(wait + FORGET_SECS);
            } else {
                clock.advance(wait);
            }
        }
        checked
    }

    /// Each guess is one 6-digit code, and ±1 step of skew means 3 codes are accepted at
    /// any moment.
    #[tokio::test]
    async fn a_year_of_parallel_guessing_stays_below_one_percent() {
        for (wait_out_history, owner_daily) in [(false, false), (false, true), (true, true)] {
            let year = Year {
                wait_out_history,
                owner_daily,
            };
            let guesses = year_of_guessing(year).await;
            let p_success = 1.0 - (1.0f64 - 3.0 / 1_000_000.0).powf(guesses as f64);
            println!(
                "{year:?}: {guesses} guesses checked in a year, success probability {:.3} %",
                p_success * 100.0
            );
            assert!(p_success < 0.01, "{year:?}: {p_success}");
        }
    }

    #[tokio::test]
    async fn the_lock_ends_when_it_should_and_each_run_doubles_it_up_to_a_day() {
        let (services, clock, _dir) = testing::services().await;
        let key = second_factor_key(2);
        let mut locks = Vec::new();
        for _ in 0..9 {
            assert_eq!(burst(&services, &key, SECOND_FACTOR, 4).await, (4, None));
            let last = reserve(&services, key.clone(), SECOND_FACTOR)
                .await
                .unwrap();
            let lock = last
                .started_lock()
                .expect("the 5th attempt starts the lock");
            locks.push(lock);
            clock.advance(lock as i64 - 1);
            assert_eq!(burst(&services, &key, SECOND_FACTOR, 1).await, (0, Some(1)));
            clock.advance(1);
        }
        assert_eq!(
            locks,
            [900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]
        );
    }

    #[tokio::test]
    async fn a_success_lifts_its_own_lock_but_keeps_the_history() {
        let (services, clock, _dir) = testing::services().await;
        let key = second_factor_key(6);
        let _ = burst(&services, &key, SECOND_FACTOR, 5).await;
        clock.advance(15 * 60);
        let owner = reserve(&services, key.clone(), SECOND_FACTOR)
            .await
            .unwrap();
        succeeded_in(&services.db, owner).await.unwrap();
        // The failures are forgiven, the lock history is not: the next run locks longer.
        assert_eq!(burst(&services, &key, SECOND_FACTOR, 4).await, (4, None));
        let fifth = reserve(&services, key.clone(), SECOND_FACTOR)
            .await
            .unwrap();
        assert_eq!(fifth.started_lock(), Some(30 * 60));
        // The last attempt's own success lifts the lock it started, and it does not count.
        succeeded_in(&services.db, fifth).await.unwrap();
        assert_eq!(burst(&services, &key, SECOND_FACTOR, 4).await, (4, None));
        let next = reserve(&services, key.clone(), SECOND_FACTOR)
            .await
            .unwrap();
        assert_eq!(next.started_lock(), Some(30 * 60));
    }

    #[tokio::test]
    async fn failures_decay_a_day_after_the_last_one() {
        let (services, clock, _dir) = testing::services().await;
        let key = second_factor_key(3);
        assert_eq!(burst(&services, &key, SECOND_FACTOR, 4).await, (4, None));
        clock.advance(DAY);
        // Four more after a quiet day: still not locked, the first four no longer count.
        assert_eq!(burst(&services, &key, SECOND_FACTOR, 4).await, (4, None));
        let fifth = reserve(&services, key.clone(), SECOND_FACTOR)
            .await
            .unwrap();
        assert!(fifth.started_lock().is_some(), "but five within a day lock");
    }

    #[tokio::test]
    async fn a_released_attempt_is_given_back_to_a_shared_address() {
        let (services, _clock, _dir) = testing::services().await;
        let key = address_key("ip", "203.0.113.9");
        for _ in 0..100 {
            let attempt = reserve(&services, key.clone(), PASSWORD_PER_IP)
                .await
                .unwrap();
            release(&services, attempt).await.unwrap();
        }
        assert_eq!(burst(&services, &key, PASSWORD_PER_IP, 40).await.0, 30);
    }

    #[tokio::test]
    async fn a_burst_of_good_sign_ins_from_one_address_locks_nothing() {
        let (services, _clock, _dir) = testing::services().await;
        let key = address_key("ip", "203.0.113.10");
        let results =
            join_all((0..40).map(|_| reserve(&services, key.clone(), PASSWORD_PER_IP))).await;
        let mut granted = Vec::new();
        for result in results {
            match result {
                Ok(attempt) => granted.push(attempt),
                Err(AuthError::Throttled { retry_after_secs }) => {
                    assert_eq!(retry_after_secs, 1, "asked to retry at once, not locked")
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(granted.len(), 30, "no more than the limit in flight");
        for attempt in granted {
            release(&services, attempt).await.unwrap();
        }
        assert_eq!(
            burst(&services, &key, PASSWORD_PER_IP, 30).await,
            (30, None)
        );
    }

    #[tokio::test]
    async fn failures_from_one_address_lock_it_once_confirmed() {
        let (services, _clock, _dir) = testing::services().await;
        let key = address_key("ip", "203.0.113.11");
        let attempts =
            join_all((0..30).map(|_| reserve(&services, key.clone(), PASSWORD_PER_IP))).await;
        let mut locks = Vec::new();
        for attempt in attempts {
            locks.extend(stands(&services, &attempt.unwrap()).await.unwrap());
        }
        assert_eq!(
            locks,
            [15 * 60],
            "the failure that fills the limit starts one lock"
        );
        assert_eq!(
            burst(&services, &key, PASSWORD_PER_IP, 1).await,
            (0, Some(15 * 60))
        );
    }

    #[tokio::test]
    async fn the_sweep_keeps_what_still_counts() {
        let (services, clock, _dir) = testing::services().await;
        let locked = second_factor_key(4);
        let typo = second_factor_key(5);
        let _ = burst(&services, &locked, SECOND_FACTOR, 5).await;
        let _ = burst(&services, &typo, SECOND_FACTOR, 1).await;
        assert_eq!(sweep(&services).await.unwrap(), 0);
        clock.advance(DAY);
        assert_eq!(sweep(&services).await.unwrap(), 1, "the decayed typo goes");
        clock.advance(FORGET_SECS);
        assert_eq!(
            sweep(&services).await.unwrap(),
            1,
            "the lock history goes after a week"
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_ipv4_per_address() {
        assert_eq!(
            address_key("ip", "2001:db8:1:2:aaaa::1"),
            address_key("ip", "2001:db8:1:2:bbbb::9")
        );
        assert_ne!(
            address_key("ip", "2001:db8:1:2::1"),
            address_key("ip", "2001:db8:1:3::1")
        );
        assert_eq!(address_key("ip", "203.0.113.7"), "ip:203.0.113.7");
        assert_eq!(address_key("ip", "::ffff:203.0.113.7"), "ip:203.0.113.7");
        assert_ne!(
            address_key("ip", "203.0.113.7"),
            address_key("ip", "203.0.113.8")
        );
    }
}

//! Creating accounts and checking passwords.

use crate::auth::capabilities::step_up;
use crate::auth::capabilities::step_up::confirm_password;
use crate::auth::capabilities::step_up::second_factor_if_on;
use crate::auth::flows::accounts::step_up::log_wrong_password;
use crate::auth::guards::account::by_id;
use futures::future::BoxFuture;

use crate::auth::capabilities::factor_change;
use crate::auth::{
    credentials::password::Password,
    flows::email::verification,
    guards::{
        audit::EventKind,
        sessions::{Checked, Session},
        throttle::{self, Reservation},
    },
    kernel::{client::ClientInfo, email_address::Email, error::AuthError},
    services::Services,
};
use crate::store::{
    self,
    tx::{Conn, Tx},
    users::UserRow,
};

/// Creates an account and returns it, as a session's start checks it. Each address may
/// create only a few accounts an hour; the attempt is counted before the password is
/// even hashed.
pub async fn sign_up(
    services: &Services,
    email: &str,
    password: String,
    client: &ClientInfo,
) -> Result<Checked, AuthError> {
    let email = Email::parse(email)?;
    let password = new_password_for(email.as_str(), password)?;
    let hashing = services.hasher.admit()?;
    count_sign_up(services, client).await?;
    let hash = hashing.hash(&password).await?;
    let mut tx = Tx::begin(&services.db).await?;
    let user_id =
        match store::users::insert(&mut *tx, email.as_str(), &hash, services.clock.now()).await {
            Ok(id) => id,
            Err(err) if store::is_unique_violation(&err) => return Err(AuthError::EmailTaken),
            Err(err) => return Err(err.into()),
        };
    verification::send_in(&mut tx, services, user_id, email.as_str()).await?;
    tx.commit().await?;
    Ok(Checked {
        user_id,
        credentials_epoch: store::users::NEW_ACCOUNT_EPOCH,
    })
}

/// Counts a sign-up against the client's address, before anything else is done for it.
/// A sign-up is never given back, whatever becomes of it.
pub async fn count_sign_up(services: &Services, client: &ClientInfo) -> Result<(), AuthError> {
    let counted = throttle::reserve(
        services,
        throttle::address_key("signup", &client.ip),
        throttle::sign_ups_per_ip(services.config.sign_ups_per_hour),
    )
    .await?;
    throttle::stands(services, &counted).await?;
    Ok(())
}

/// Checks an email and password. An unknown email costs one argon2 verification too, and
/// gets the same answer as a wrong password, so neither time nor text reveals accounts.
/// The attempt is counted per client address and per account before anything is
/// verified; a locked one is refused before any hashing. A check the hasher has no room
/// for is turned away before anything is counted.
pub async fn authenticate(
    services: &Services,
    email: &str,
    password: String,
    client: &ClientInfo,
) -> Result<UserRow, AuthError> {
    let email = Email::parse(email)?;
    let password = Password::for_sign_in(password)?;
    let hashing = services.hasher.admit()?;
    let (address, account) = reserve_password_attempt(services, &email, client).await?;

    let user =
        store::users::find_by_email(&mut *services.reads.connection()?, email.as_str()).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let matches = hashing.verify(&password, stored).await?;
    if let (true, Some(user)) = (matches, &user) {
        services
            .commits
            .run_autocommit(move |conn: &mut Conn| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    throttle::succeeded_in(&mut *conn, account).await?;
                    throttle::release_in(conn, address).await
                })
            })
            .await?;
        return Ok(user.clone());
    }
    // Both counts already stand. A real account's events commit here; an unknown email
    // makes the same commit, so the two take the same time.
    throttle::stands(services, &address).await?;
    let locked = throttle::stands(services, &account).await?;
    let mut tx = Tx::begin(&services.db).await?;
    throttle::touch_in(&mut *tx, services, &account).await?;
    if let Some(user) = &user {
        log_wrong_password(
            &mut tx,
            services,
            user.id,
            client,
            EventKind::SignInFailed,
            locked,
        )
        .await?;
    }
    tx.commit().await?;
    Err(AuthError::InvalidCredentials)
}

/// Counts a password attempt against the client's address and against the account, in
/// one commit: when either is locked, neither is counted and the attempt is refused.
async fn reserve_password_attempt(
    services: &Services,
    email: &Email,
    client: &ClientInfo,
) -> Result<(Reservation, Reservation), AuthError> {
    let (address, account) = (
        throttle::address_key("ip", &client.ip),
        throttle::password_key(email.as_str()),
    );
    let now = services.clock.now();
    services
        .commits
        .run(move |tx: &mut Tx| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let address =
                    throttle::reserve_at(&mut **tx, address, throttle::PASSWORD_PER_IP, now)
                        .await?;
                let account =
                    throttle::reserve_at(&mut **tx, account, throttle::PASSWORD_PER_ACCOUNT, now)
                        .await?;
                Ok((address, account))
            })
        })
        .await
}

/// Gives an account made through a provider its first password: a new way in, so it is
/// confirmed like every other change (a fresh sign-in at a provider linked before this
/// session, and a code when 2FA is on, spent in the same commit) and is a factor change.
/// An account whose providers cannot confirm a fresh sign-in sets it by an emailed link
/// instead ([`crate::auth::flows::email::password_reset::send_to_account`]).
pub async fn set_password(
    services: &Services,
    session: &Session,
    new_password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let user = by_id(services, session.user_id).await?;
    if user.password_hash.is_some() {
        return Err(AuthError::PasswordAlreadySet);
    }
    let password = new_password_for(&user.email, new_password)?;
    if !step_up::recently_reauthenticated(services, session) {
        return Err(AuthError::ReauthenticationRequired);
    }
    let hash = services.hasher.hash(&password).await?;
    let mut tx = second_factor_if_on(services, session, code, client).await?;
    if !store::users::set_first_password_hash(&mut *tx, user.id, &hash).await? {
        return Err(AuthError::PasswordAlreadySet);
    }
    factor_change::commit_factor_change(tx, services, session, EventKind::PasswordSet, "", client)
        .await
}

/// Replaces the password after the current one (and a code when 2FA is on); every other
/// session of the account ends in the same commit.
pub async fn change_password(
    services: &Services,
    session: &Session,
    current: String,
    new_password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let user = by_id(services, session.user_id).await?;
    let password = new_password_for(&user.email, new_password)?;
    confirm_password(services, user.id, current, client).await?;
    let hash = services.hasher.hash(&password).await?;
    let mut tx = second_factor_if_on(services, session, code, client).await?;
    store::users::set_password_hash(&mut *tx, user.id, &hash).await?;
    // A link sent before the change must not work after it.
    store::email_tokens::delete_for_user(&mut *tx, user.id).await?;
    factor_change::commit_factor_change(
        tx,
        services,
        session,
        EventKind::PasswordChanged,
        "",
        client,
    )
    .await
}

/// A new password, held to the sign-up policy for this account's email.
pub(crate) fn new_password_for(email: &str, password: String) -> Result<Password, AuthError> {
    let local_part = email.split('@').next().unwrap_or_default();
    Ok(Password::new_for_account(
        password,
        &[email, local_part, "gatehouse"],
    )?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::{adapters::password_hasher::PasswordHasher, testing};

    /// A check turned away by a full hasher was never made, so it counts against neither
    /// the account nor the address: eight wrong passwords at once with room for one
    /// leave exactly one failure on each counter.
    #[tokio::test]
    async fn checks_turned_away_by_a_busy_hasher_are_not_counted() {
        let (mut services, _clock, _dir) = testing::services().await;
        services.hasher = PasswordHasher::with_max_wait(1, Duration::ZERO).unwrap();
        let client = testing::client("203.0.113.9");
        let answers = futures::future::join_all((0..8).map(|_| {
            authenticate(
                &services,
                "ada@example.com",
                "wrong-Password-for-ada".into(),
                &client,
            )
        }))
        .await;
        let refused = answers
            .iter()
            .filter(|a| matches!(a, Err(AuthError::InvalidCredentials)))
            .count();
        let busy = answers
            .iter()
            .filter(|a| matches!(a, Err(AuthError::HasherBusy { .. })))
            .count();
        assert_eq!((refused, busy), (1, 7), "{answers:?}");
        for key in [
            throttle::password_key("ada@example.com"),
            throttle::address_key("ip", &client.ip),
        ] {
            let failures: i64 = sqlx::query_scalar("SELECT failures FROM throttle WHERE key = $1")
                .bind(&key)
                .fetch_one(&services.db)
                .await
                .unwrap();
            assert_eq!(failures, 1, "{key}");
        }
    }

    async fn failures(services: &Services, key: &str) -> Option<i64> {
        sqlx::query_scalar("SELECT failures FROM throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&services.db)
            .await
            .unwrap()
    }

    async fn wrong_passwords_at_once(
        services: &Services,
        emails: &[String],
        client: &ClientInfo,
    ) -> Vec<Result<UserRow, AuthError>> {
        futures::future::join_all(
            emails
                .iter()
                .map(|email| authenticate(services, email, "wrong-Password-2026".into(), client)),
        )
        .await
    }

    fn all_throttled(answers: &[Result<UserRow, AuthError>]) -> bool {
        answers
            .iter()
            .all(|a| matches!(a, Err(AuthError::Throttled { .. })))
    }

    /// An attempt refused because one of its two counters is locked was not made, so the
    /// other counter does not count it: a locked account cannot be used to lock out the
    /// address, nor a locked address to lock out the account.
    #[tokio::test]
    async fn an_attempt_refused_by_one_lock_counts_against_neither_key() {
        let (services, _clock, _dir) = testing::services().await;
        let ada = vec!["ada@example.com".to_owned(); 10];
        let (office, cafe) = (
            testing::client("203.0.113.9"),
            testing::client("198.51.100.7"),
        );
        for answer in wrong_passwords_at_once(&services, &ada, &office).await {
            assert!(matches!(answer, Err(AuthError::InvalidCredentials)));
        }
        let answers = wrong_passwords_at_once(&services, &vec![ada[0].clone(); 12], &cafe).await;
        assert!(all_throttled(&answers), "{answers:?}");
        assert_eq!(
            failures(&services, &throttle::address_key("ip", &cafe.ip)).await,
            None
        );

        // The office's address has ten failures; twenty more accounts lock it.
        let others: Vec<String> = (0..20).map(|n| format!("user{n}@example.com")).collect();
        wrong_passwords_at_once(&services, &others, &office).await;
        let bob = vec!["bob@example.com".to_owned(); 8];
        let answers = wrong_passwords_at_once(&services, &bob, &office).await;
        assert!(all_throttled(&answers), "{answers:?}");
        assert_eq!(
            failures(&services, &throttle::password_key(&bob[0])).await,
            None
        );
    }
}

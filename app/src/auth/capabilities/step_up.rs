//! "Confirm it's you": what a signed-in person proves before a change in Settings (the
//! password, or a fresh sign-in at a provider for an account without one) and the
//! second factor that comes with it when two-factor authentication is on.

use crate::auth::capabilities::second_factor;
use crate::auth::guards::account::by_id;

use crate::auth::{
    credentials::password::Password,
    guards::{
        audit::{self, EventKind},
        sessions::Session,
        throttle,
    },
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store::tx::Tx;

/// Checks the password of a signed-in account before a change in Settings. It counts
/// against the same limit as signing in, and a wrong one is logged, so a stolen session
/// cookie is no way to guess the password.
pub async fn confirm_password(
    services: &Services,
    user_id: i64,
    password: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let password = Password::for_sign_in(password)?;
    let user = by_id(services, user_id).await?;
    let Some(stored) = user.password_hash.as_deref() else {
        return Err(AuthError::NoPassword);
    };
    let hashing = services.hasher.admit()?;
    let account = throttle::reserve(
        services,
        throttle::password_key(&user.email),
        throttle::PASSWORD_PER_ACCOUNT,
    )
    .await?;
    if hashing.verify(&password, Some(stored)).await? {
        throttle::succeeded_in(&services.db, account).await?;
        return Ok(());
    }
    let locked = throttle::stands(services, &account).await?;
    let mut tx = Tx::begin(&services.db).await?;
    log_wrong_password(
        &mut tx,
        services,
        user.id,
        client,
        EventKind::WrongPassword,
        locked,
    )
    .await?;
    tx.commit().await?;
    Err(match locked {
        Some(retry_after_secs) => AuthError::Throttled { retry_after_secs },
        None => AuthError::WrongPassword,
    })
}

/// Proves the person behind a session before a change in Settings: the password, or for
/// an account without one, a fresh sign-in at its provider in the last few minutes.
pub async fn confirm_identity(
    services: &Services,
    session: &Session,
    password: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let user = by_id(services, session.user_id).await?;
    if user.password_hash.is_some() {
        return confirm_password(services, session.user_id, password, client).await;
    }
    if recently_reauthenticated(services, session) {
        Ok(())
    } else {
        Err(AuthError::ReauthenticationRequired)
    }
}

/// A transaction that already holds the claim of a second factor when the account has
/// 2FA on; a plain one when it has not.
pub(crate) async fn second_factor_if_on(
    services: &Services,
    session: &Session,
    code: &str,
    client: &ClientInfo,
) -> Result<Tx, AuthError> {
    if !second_factor::is_enabled(services, session.user_id).await? {
        return Ok(Tx::begin(&services.db).await?);
    }
    let factor = second_factor::Factor::parse(code)?;
    let accepted = second_factor::accept(services, session.user_id, &factor, client).await?;
    Ok(accepted.into_tx())
}

/// The wrong password's event, and the lock's when this attempt started one (`locked`).
pub(crate) async fn log_wrong_password(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    kind: EventKind,
    locked: Option<u64>,
) -> Result<(), AuthError> {
    audit::record_in(&mut **tx, services, user_id, kind, client, "wrong password").await?;
    if let Some(secs) = locked {
        audit::record_lock_in(
            &mut **tx,
            services,
            user_id,
            client,
            "password sign-in",
            secs,
        )
        .await?;
    }
    Ok(())
}

/// A confirmation at a provider stands in for the password for five minutes.
pub const REAUTH_WINDOW_SECS: i64 = 5 * 60;
/// What confirms a new way in before its round trip begins: the password (empty for an
/// account without one, which confirms with a fresh provider sign-in instead) and a
/// code when two-factor authentication is on.
#[derive(Default)]
pub struct StepUp {
    pub password: String,
    pub code: String,
}

/// Whether a link made at `linked_epoch` was made before `session` began, so that it
/// confirms the session's changes.
pub fn linked_before(linked_epoch: i64, session: &Session) -> bool {
    linked_epoch <= session.credentials_epoch
}

/// Whether the session's person proved themselves at a provider within the last few
/// minutes, which stands in for the password of an account without one.
pub fn recently_reauthenticated(services: &Services, session: &Session) -> bool {
    session
        .reauthenticated_at
        .is_some_and(|at| services.clock.now() - at <= REAUTH_WINDOW_SECS)
}

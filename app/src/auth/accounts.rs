//! Creating accounts and checking passwords.

use super::{
    audit::{self, EventKind},
    email::Email,
    password::Password,
    throttle, ClientInfo, Services,
};
use crate::{
    error::AppError,
    store::{self, users::UserRow},
};

/// Creates an account and returns the new user's id.
pub async fn sign_up(services: &Services, email: &str, password: String) -> Result<i64, AppError> {
    let email = Email::parse(email)?;
    let local_part = email.as_str().split('@').next().unwrap_or_default();
    let password = Password::new_for_account(password, &[email.as_str(), local_part, "gatehouse"])?;
    let hash = services.hasher.hash(&password).await?;
    match store::users::insert(&services.db, email.as_str(), &hash, services.clock.now()).await {
        Ok(id) => Ok(id),
        Err(err) if store::is_unique_violation(&err) => Err(AppError::EmailTaken),
        Err(err) => Err(err.into()),
    }
}

/// Checks an email and password. An unknown email costs one argon2 verification too, and
/// gets the same answer as a wrong password, so neither time nor text reveals accounts.
/// Failures count per account and per client address; a locked one is refused before
/// any hashing.
pub async fn authenticate(
    services: &Services,
    email: &str,
    password: String,
    client: &ClientInfo,
) -> Result<UserRow, AppError> {
    let email = Email::parse(email)?;
    let password = Password::for_sign_in(password)?;
    let account_key = format!("pw:{}", email.as_str());
    let ip_key = format!("ip:{}", client.ip);
    let _ = throttle::check(services, &ip_key).await?;
    let account = throttle::check(services, &account_key).await?;

    let user = store::users::find_by_email(&services.db, email.as_str()).await?;
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    let matches = services.hasher.verify(&password, stored).await?;
    if let (true, Some(user)) = (matches, &user) {
        throttle::reset_after(&services.db, &account_key, account).await?;
        return Ok(user.clone());
    }
    throttle::record_failure(services, &ip_key, throttle::PASSWORD_PER_IP).await?;
    // The account's count and, for a real account, its security events commit together:
    // an unknown email then costs the same two commits as a wrong password.
    let mut tx = services.db.begin().await?;
    let locked = throttle::record_failure_in(
        &mut tx,
        services,
        &account_key,
        throttle::PASSWORD_PER_ACCOUNT,
    )
    .await?;
    if let Some(user) = &user {
        audit::record_in(
            &mut *tx,
            services,
            user.id,
            EventKind::SignInFailed,
            client,
            "wrong password",
        )
        .await?;
        if let Some(secs) = locked {
            let detail = format!(
                "password sign-in locked for {}",
                crate::error::human_duration(secs)
            );
            audit::record_in(
                &mut *tx,
                services,
                user.id,
                EventKind::LockedOut,
                client,
                &detail,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Err(AppError::InvalidCredentials)
}

pub async fn by_id(services: &Services, user_id: i64) -> Result<UserRow, AppError> {
    store::users::find_by_id(&services.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)
}

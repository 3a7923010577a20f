//! Creating accounts and checking passwords.

use super::{email::Email, password::Password, Services};
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
pub async fn authenticate(
    services: &Services,
    email: &str,
    password: String,
) -> Result<UserRow, AppError> {
    let email = Email::parse(email)?;
    let password = Password::for_sign_in(password)?;
    let user = store::users::find_by_email(&services.db, email.as_str()).await?;
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    if services.hasher.verify(&password, stored).await? {
        user.ok_or(AppError::InvalidCredentials)
    } else {
        Err(AppError::InvalidCredentials)
    }
}

/// Looks an account up by email, for the audit log of failed sign-ins.
pub async fn find(services: &Services, email: &str) -> Result<Option<UserRow>, AppError> {
    match Email::parse(email) {
        Ok(email) => Ok(store::users::find_by_email(&services.db, email.as_str()).await?),
        Err(_) => Ok(None),
    }
}

pub async fn by_id(services: &Services, user_id: i64) -> Result<UserRow, AppError> {
    store::users::find_by_id(&services.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)
}

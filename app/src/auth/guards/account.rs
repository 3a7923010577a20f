//! The account as every flow reads it: by id, and the gate a new way in must pass (a
//! proved address).

use crate::auth::{kernel::error::AuthError, services::Services};
use crate::store::{self, users::UserRow};

/// Refuses a new way in (a provider, a passkey, an authenticator app) until the account's
/// address is proved: an account made with someone else's address must not keep a way
/// in once its owner claims it.
pub async fn require_verified_address<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: i64,
) -> Result<(), AuthError> {
    match store::users::find_by_id(ex, user_id).await? {
        Some(user) if user.email_verified_at.is_some() => Ok(()),
        Some(_) => Err(AuthError::EmailNotVerified),
        None => Err(AuthError::NotSignedIn),
    }
}

pub async fn by_id(services: &Services, user_id: i64) -> Result<UserRow, AuthError> {
    store::users::find_by_id(&mut *services.reads.connection()?, user_id)
        .await?
        .ok_or(AuthError::NotSignedIn)
}

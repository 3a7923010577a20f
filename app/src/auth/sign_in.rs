//! What follows the first factor, whichever it was: a full session, or one waiting at
//! the code prompt when the account has two-factor authentication on.

use super::{
    audit::{self, EventKind},
    error::AuthError,
    sessions::{self, SessionToken, Stage},
    two_factor, ClientInfo, Services,
};

/// The session a passed first factor earned.
#[derive(Debug)]
pub enum FirstFactor {
    /// No second factor to ask for: signed in.
    Full(SessionToken),
    /// The code prompt comes next; this session reaches nothing else.
    Pending(SessionToken),
}

/// Starts the session a passed first factor earns. `method` is "password" or the
/// provider's name, shown in the activity log. An account whose second factor is locked
/// gets the lock now: the prompt could check nothing yet.
pub async fn first_factor_passed(
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    method: &str,
) -> Result<FirstFactor, AuthError> {
    if two_factor::is_enabled(services, user_id).await? {
        if let Some(retry_after_secs) = two_factor::locked_for(services, user_id).await? {
            return Err(AuthError::SecondFactorLocked { retry_after_secs });
        }
        let token = sessions::start(
            services,
            user_id,
            Stage::PendingSecondFactor,
            client,
            method,
        )
        .await?;
        return Ok(FirstFactor::Pending(token));
    }
    let token = sessions::start(services, user_id, Stage::Full, client, method).await?;
    audit::record(services, user_id, EventKind::SignedIn, client, method).await?;
    Ok(FirstFactor::Full(token))
}

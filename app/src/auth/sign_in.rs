//! What follows the first factor, whichever it was: a full session, or one waiting at
//! the code prompt when the account has two-factor authentication on (and the browser is
//! not one it remembers).

use super::{
    audit::{self, EventKind},
    error::AuthError,
    remembered_devices::{self, DeviceToken},
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
    /// Signed in, but policy requires a second factor the account has not set up: the
    /// enrollment comes next, and nothing else opens until it is done.
    MustEnroll(SessionToken),
}

/// Starts the session a passed first factor earns. `method` is "password" or the
/// provider's name, shown in the activity log. A browser the account remembers
/// (`device`) skips the second step. An account whose second factor is locked gets the
/// lock now, remembered or not: the prompt could check nothing yet.
pub async fn first_factor_passed(
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    method: &str,
    device: Option<&DeviceToken>,
) -> Result<FirstFactor, AuthError> {
    if two_factor::is_enabled(services, user_id).await? {
        if let Some(retry_after_secs) = two_factor::locked_for(services, user_id).await? {
            return Err(AuthError::SecondFactorLocked { retry_after_secs });
        }
        if let Some(device) = device {
            if remembered_devices::recognise(services, user_id, device).await? {
                let token = sessions::start(services, user_id, Stage::Full, client, method).await?;
                let how = format!("{method} on a remembered device");
                audit::record(services, user_id, EventKind::SignedIn, client, &how).await?;
                return Ok(FirstFactor::Full(token));
            }
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
    if super::policy::is_required(services, user_id).await? {
        return Ok(FirstFactor::MustEnroll(token));
    }
    Ok(FirstFactor::Full(token))
}

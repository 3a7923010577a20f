//! What follows the first factor, whichever it was: a full session, or one waiting at
//! the code prompt when the account has two-factor authentication on (and the browser is
//! not one it remembers).

use crate::auth::capabilities::second_factor;
use crate::auth::credentials::proofs::Method;
use crate::auth::{
    guards::{
        audit::{self, EventKind},
        remembered_devices::{self, DeviceToken},
        sessions::{self, Checked, SessionToken, Stage},
    },
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
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

/// The first factor that passed.
#[derive(Debug, Clone, Copy)]
pub enum FirstStep<'a> {
    Password,
    /// A sign-in at the provider of this name.
    Provider(&'a str),
}

impl FirstStep<'_> {
    /// How the session and the activity log name it.
    fn name(&self) -> &str {
        match self {
            FirstStep::Password => "password",
            FirstStep::Provider(name) => name,
        }
    }

    fn method(&self) -> Method {
        match self {
            FirstStep::Password => Method::Password,
            FirstStep::Provider(_) => Method::Provider,
        }
    }
}

/// Starts the session a passed first factor earns. A browser the account remembers
/// (`device`) skips the second step, after whichever first factor. An account whose
/// second factor is locked gets the lock now, remembered or not: the prompt could check
/// nothing yet. Everything here was decided on the account as `account` found it, so a
/// change to its ways in since then refuses the session ([`sessions::start`]).
pub async fn first_factor_passed(
    services: &Services,
    account: Checked,
    client: &ClientInfo,
    first_step: FirstStep<'_>,
    device: Option<&DeviceToken>,
) -> Result<FirstFactor, AuthError> {
    let user_id = account.user_id;
    let two_factor_on = second_factor::is_enabled(services, user_id).await?;
    let (method, first) = (first_step.name(), first_step.method());
    let (stage, how, proofs) = if two_factor_on {
        if let Some(retry_after_secs) = second_factor::locked_for(services, user_id).await? {
            return Err(AuthError::SecondFactorLocked { retry_after_secs });
        }
        let remembered = match device {
            Some(device) => remembered_devices::recognise(services, user_id, device).await?,
            None => false,
        };
        if remembered {
            let how = format!("{method} on a remembered device");
            (Stage::Full, how, vec![first, Method::RememberedDevice])
        } else {
            (Stage::PendingSecondFactor, String::new(), vec![first])
        }
    } else {
        (Stage::Full, method.to_owned(), vec![first])
    };
    crate::auth::kernel::fail_points::hold("sign_in.before_session").await;
    let token = sessions::start(services, account, stage, client, method, &proofs).await?;
    if stage == Stage::PendingSecondFactor {
        return Ok(FirstFactor::Pending(token));
    }
    audit::record(services, user_id, EventKind::SignedIn, client, &how).await?;
    if !two_factor_on
        && crate::auth::flows::two_factor_policy::is_required(services, user_id).await?
    {
        return Ok(FirstFactor::MustEnroll(token));
    }
    Ok(FirstFactor::Full(token))
}

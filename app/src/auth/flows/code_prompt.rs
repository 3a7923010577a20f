//! The code prompt: the second step of a sign-in, with its attempts per pending session.

use crate::auth::capabilities::second_factor::app_credential_in;
use crate::auth::capabilities::second_factor::check_in;
use crate::auth::capabilities::second_factor::Factor;
use crate::auth::capabilities::second_factor::Proof;
use crate::store::sessions::SecondStep;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::auth::{
    guards::{
        audit::{self, EventKind},
        remembered_devices::{self, DeviceToken},
        sessions::{self, Session},
    },
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store::tx::Tx;

/// What the code prompt's attempt came to.
#[derive(Debug)]
pub enum PromptOutcome {
    /// The code was right: the session is full under this new token, and the browser is
    /// remembered under `device` when the person asked for it.
    SignedIn {
        token: sessions::SessionToken,
        device: Option<DeviceToken>,
    },
    /// The session is gone: it used its last attempt, had none left, or the account's
    /// second step is locked (for `retry_after_secs`).
    Ended { retry_after_secs: Option<u64> },
}

/// What one attempt at the prompt wrote, before its commit.
enum Attempt {
    SignedIn {
        token: sessions::SessionToken,
        device: Option<DeviceToken>,
    },
    /// The session had no attempt left.
    NoneLeft,
    /// Counted and refused; `last` when it was the session's last attempt.
    Refused { refusal: AuthError, last: bool },
}

/// The code prompt. Each pending session has five attempts, each taken before its code is
/// checked; the account's own limit applies on top, and its lock ends the session. On
/// success the factor is spent, the session becomes a full one under a new token, the
/// browser is remembered if `remember`, and the sign-in is logged, all in one commit,
/// which concurrent prompts share ([`crate::store::group_commit`]).
pub async fn finish_sign_in(
    services: &Arc<Services>,
    session: &Session,
    factor: Factor,
    remember: bool,
    client: &ClientInfo,
) -> Result<PromptOutcome, AuthError> {
    let attempt = {
        let (work_services, session, client) = (services.clone(), session.clone(), client.clone());
        services
            .commits
            .run(move |tx: &mut Tx| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    attempt_in(tx, &work_services, &session, &factor, remember, &client).await
                })
            })
    }
    .await?;
    let retry_after_secs = match attempt {
        Attempt::SignedIn { token, device } => {
            return Ok(PromptOutcome::SignedIn { token, device })
        }
        Attempt::NoneLeft
        | Attempt::Refused {
            refusal: AuthError::InvalidCode,
            last: true,
        } => None,
        // A locked account cannot finish here before the prompt expires anyway.
        Attempt::Refused {
            refusal: AuthError::Throttled { retry_after_secs },
            ..
        } => Some(retry_after_secs),
        Attempt::Refused { refusal, .. } => return Err(refusal),
    };
    sessions::end_pending(services, session).await?;
    Ok(PromptOutcome::Ended { retry_after_secs })
}

/// One attempt at the prompt, written in `tx`: see [`finish_sign_in`].
async fn attempt_in(
    tx: &mut Tx,
    services: &Services,
    session: &Session,
    factor: &Factor,
    remember: bool,
    client: &ClientInfo,
) -> Result<Attempt, AuthError> {
    let Some(attempt) = sessions::reserve_code_attempt(&mut **tx, services, session).await? else {
        return Ok(Attempt::NoneLeft);
    };
    let credential = app_credential_in(tx, session.user_id, factor).await?;
    let proof = match check_in(tx, services, session.user_id, factor, credential, client).await? {
        Ok(proof) => proof,
        Err(refusal) => {
            return Ok(Attempt::Refused {
                refusal,
                last: attempt.last,
            })
        }
    };
    let (step, second) = match &proof {
        Proof::Totp => (SecondStep::Totp, "authenticator app"),
        Proof::RecoveryCode { .. } => (SecondStep::RecoveryCode, "recovery code"),
        Proof::Passkey { .. } => (SecondStep::Passkey, "passkey"),
    };
    let token = sessions::promote(&mut **tx, services, session, step).await?;
    let how = format!("{} and {second}", session.first_factor);
    audit::record_in(
        &mut **tx,
        services,
        session.user_id,
        EventKind::SignedIn,
        client,
        &how,
    )
    .await?;
    let device = if remember {
        Some(remembered_devices::remember_in(tx, services, session.user_id, client).await?)
    } else {
        None
    };
    Ok(Attempt::SignedIn { token, device })
}

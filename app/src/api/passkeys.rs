//! Server functions for passkeys and security keys: the list under Settings → Two-Factor
//! Auth, the code prompt's "Use your passkey", and "Sign in with a passkey".
//!
//! A ceremony is two calls: one hands the browser its options (as JSON, for its own
//! `parse…OptionsFromJSON`), the other takes the credential back (as the JSON of the
//! browser's `toJSON()`) with the ceremony's id.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::two_factor::RecoveryCodeSet;
use crate::shared::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    pub options: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: i64,
    pub name: String,
    /// "28 November 2026".
    pub added: String,
    pub last_used: Option<String>,
    /// Backed up by its provider (a synced passkey) rather than bound to one device.
    pub synced: bool,
    /// The date it was disabled, for a counter that went backwards.
    pub disabled: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeysView {
    /// False where the server's public URL cannot carry passkeys.
    pub available: bool,
    pub list: Vec<PasskeyView>,
}

#[cfg(feature = "ssr")]
fn challenge(c: crate::auth::flows::passkeys::Challenge) -> PasskeyChallenge {
    crate::http::respond::no_store();
    PasskeyChallenge {
        ceremony: c.ceremony,
        options: c.options,
    }
}

#[server(endpoint = "load_passkeys")]
pub async fn load_passkeys() -> Result<PasskeysView, AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{require_session_for_enrollment, services},
        shared::words::long_date,
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    let list = passkeys::registration::list(&services, session.user_id).await?;
    Ok(PasskeysView {
        available: services.passkeys.available(),
        list: list
            .into_iter()
            .map(|p| PasskeyView {
                id: p.id,
                name: p.name,
                added: long_date(p.created_at),
                last_used: p.last_used_at.map(long_date),
                synced: p.synced,
                disabled: p.disabled_at.map(long_date),
            })
            .collect(),
    })
}

#[server(endpoint = "begin_passkey_registration")]
pub async fn begin_passkey_registration() -> Result<PasskeyChallenge, AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{require_session_for_enrollment, services},
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    Ok(challenge(
        passkeys::registration::begin_registration(&services, &session).await?,
    ))
}

/// Registers the new credential after the password (and a code when 2FA is on); the
/// recovery codes come back when this passkey turned two-factor authentication on.
#[server(endpoint = "finish_passkey_registration")]
pub async fn finish_passkey_registration(
    ceremony: String,
    name: String,
    credential: String,
    password: String,
    code: Option<String>,
) -> Result<Option<RecoveryCodeSet>, AppError> {
    use crate::{
        auth::{capabilities::step_up::StepUp, flows::passkeys},
        http::context::{client_info, require_session_for_enrollment, services},
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    let answer = passkeys::registration::NewCredential {
        ceremony: &ceremony,
        name: &name,
        credential: &credential,
    };
    let confirmation = StepUp {
        password,
        code: code.unwrap_or_default(),
    };
    let codes = passkeys::registration::finish_registration(
        &services,
        &session,
        answer,
        confirmation,
        &client_info(),
    )
    .await?;
    match codes {
        Some(codes) => super::two_factor::deliver_codes(&services, &session, codes)
            .await
            .map(Some),
        None => Ok(None),
    }
}

#[server(endpoint = "rename_passkey")]
pub async fn rename_passkey(id: i64, name: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    passkeys::registration::rename(&services, &session, id, &name, &client_info()).await?;
    leptos_axum::redirect(paths::TWO_FACTOR);
    Ok(())
}

#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(
    id: i64,
    password: String,
    code: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    passkeys::registration::remove(
        &services,
        &session,
        id,
        password,
        code.as_deref().unwrap_or_default(),
        &client_info(),
    )
    .await?;
    leptos_axum::redirect(paths::TWO_FACTOR);
    Ok(())
}

/// What the code prompt offers this account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptOptions {
    pub passkey: bool,
    pub app: bool,
}

#[server(endpoint = "load_prompt_options")]
pub async fn load_prompt_options() -> Result<PromptOptions, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::context::{require_pending_session, services},
    };

    let services = services()?;
    let session = require_pending_session()?;
    let status = totp_enrollment::status(&services, session.user_id).await?;
    Ok(PromptOptions {
        passkey: status.passkeys > 0 && services.passkeys.available(),
        app: status.app,
    })
}

#[server(endpoint = "begin_passkey_prompt")]
pub async fn begin_passkey_prompt() -> Result<PasskeyChallenge, AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{require_pending_session, services},
    };

    let services = services()?;
    let session = require_pending_session()?;
    Ok(challenge(
        passkeys::sign_in::begin_second_factor(&services, &session).await?,
    ))
}

/// The code prompt's second factor as a passkey: counted and limited like a code.
#[server(endpoint = "finish_passkey_prompt")]
pub async fn finish_passkey_prompt(
    ceremony: String,
    credential: String,
    next: Option<String>,
    remember: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::kernel::metrics::{self, SignInStep};

    let result = async {
        use crate::auth::{
            capabilities::second_factor::Factor, guards::passkey_assertion::Assertion,
        };
        let session = crate::http::context::require_pending_session()?;
        let assertion = Assertion::parse(&ceremony, &credential, session.id)?;
        match super::two_factor::second_factor_step(
            Factor::Passkey(assertion),
            next,
            remember.is_some(),
        )
        .await
        {
            Err(AppError::InvalidCode) => Err(AppError::PasskeyRefused),
            other => other,
        }
    }
    .await;
    metrics::sign_in(
        SignInStep::SecondFactor,
        crate::http::errors::sign_in_outcome(&result, false),
    );
    result
}

/// Whether this server offers passkeys at all, for the sign-in page's button.
#[server(endpoint = "passkeys_available")]
pub async fn passkeys_available() -> Result<bool, AppError> {
    Ok(crate::http::context::services()?.passkeys.available())
}

#[server(endpoint = "begin_passkey_sign_in")]
pub async fn begin_passkey_sign_in() -> Result<PasskeyChallenge, AppError> {
    use crate::{
        auth::flows::passkeys,
        http::context::{client_info, services},
    };

    let services = services()?;
    Ok(challenge(
        passkeys::sign_in::begin_sign_in(&services, &client_info()).await?,
    ))
}

/// Passwordless: a discoverable passkey with user verification proves both factors.
#[server(endpoint = "finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(
    ceremony: String,
    credential: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::kernel::metrics::{self, SignInStep};

    let result = passkey_sign_in(ceremony, credential, next).await;
    metrics::sign_in(
        SignInStep::Password,
        crate::http::errors::sign_in_outcome(&result, false),
    );
    result
}

#[cfg(feature = "ssr")]
async fn passkey_sign_in(
    ceremony: String,
    credential: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::{
            credentials::proofs::Method,
            flows::passkeys,
            guards::{
                audit::{self, EventKind},
                sessions,
            },
        },
        http::{
            context::{client_info, services, session},
            cookies::set_session_cookie,
            respond::safe_next,
        },
    };

    let services = services()?;
    let client = client_info();
    let account =
        passkeys::sign_in::finish_sign_in(&services, &ceremony, &credential, &client).await?;
    if let Some(previous) = session() {
        sessions::end(&services, &previous).await?;
    }
    let token = sessions::start(
        &services,
        account,
        sessions::Stage::Full,
        &client,
        "passkey",
        &[Method::Passkey],
    )
    .await?;
    audit::record(
        &services,
        account.user_id,
        EventKind::SignedIn,
        &client,
        "passkey",
    )
    .await?;
    set_session_cookie(&services, &token, sessions::Stage::Full);
    leptos_axum::redirect(&safe_next(&services, next.as_deref()));
    Ok(())
}

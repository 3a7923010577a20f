//! Signing up, in and out, and what the header and profile show.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shared::error::AppError;

/// Who is signed in, for the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub created: String,
    /// Whether the person proved they receive mail at `email`.
    pub verified: bool,
    /// Changes ask for a code too when two-factor authentication is on.
    pub two_factor_on: bool,
    pub has_password: bool,
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    use crate::{
        auth::{
            credentials::proofs::Method,
            flows::accounts,
            guards::{audit, sessions},
        },
        http::{
            context::{client_info, services},
            cookies::set_session_cookie,
        },
        shared::paths,
    };

    let services = services()?;
    let client = client_info();
    let account = accounts::sign_up(&services, &email, password, &client).await?;
    audit::record(
        &services,
        account.user_id,
        audit::EventKind::SignedUp,
        &client,
        "",
    )
    .await?;
    let token = sessions::start(
        &services,
        account,
        sessions::Stage::Full,
        &client,
        "password",
        &[Method::Password],
    )
    .await?;
    set_session_cookie(&services, &token, sessions::Stage::Full);
    // Where every account must have two-factor authentication, a new one sets it up first.
    leptos_axum::redirect(if services.config.require_two_factor {
        paths::TWO_FACTOR
    } else {
        paths::SETTINGS
    });
    Ok(())
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::kernel::metrics::{self, SignInStep};

    let result = password_step(email, password, next).await;
    metrics::sign_in(
        SignInStep::Password,
        crate::http::errors::sign_in_outcome(&result, matches!(result, Ok(true))),
    );
    result.map(drop)
}

/// Checks the password and starts a session: a full one, or one waiting at the code
/// prompt, which the result reports as `true`.
#[cfg(feature = "ssr")]
async fn password_step(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<bool, AppError> {
    use crate::{
        auth::{
            flows::{accounts, sign_in},
            guards::sessions::Checked,
        },
        http::{
            context::{client_info, request_device_token, services, session},
            respond::{after_first_factor, safe_next},
        },
    };

    let services = services()?;
    let client = client_info();
    let user = accounts::authenticate(&services, &email, password, &client).await?;
    if let Some(previous) = session() {
        crate::auth::guards::sessions::end(&services, &previous).await?;
    }
    let next = safe_next(&services, next.as_deref());
    let device = request_device_token(&services);
    let first_factor = sign_in::first_factor_passed(
        &services,
        Checked::of(&user),
        &client,
        sign_in::FirstStep::Password,
        device.as_ref(),
    )
    .await?;
    let pending = matches!(first_factor, sign_in::FirstFactor::Pending(_));
    after_first_factor(&services, &first_factor, &next).send();
    Ok(pending)
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::{
        auth::guards::{audit, sessions},
        http::{
            context::{client_info, services, session},
            cookies::clear_session_cookie,
        },
        shared::paths,
    };

    let services = services()?;
    if let Some(session) = session() {
        sessions::end(&services, &session).await?;
        audit::record(
            &services,
            session.user_id,
            audit::EventKind::SignedOut,
            &client_info(),
            "",
        )
        .await?;
    }
    clear_session_cookie(&services);
    leptos_axum::redirect(paths::SIGN_IN);
    Ok(())
}

/// The signed-in person, or `None`; never an error for being signed out.
#[server(endpoint = "signed_in_as")]
pub async fn signed_in_as() -> Result<Option<Viewer>, AppError> {
    use crate::{auth::guards::sessions::Stage, http::context::session};

    Ok(session()
        .filter(|s| s.stage == Stage::Full)
        .map(|s| Viewer { email: s.email }))
}

#[server(endpoint = "load_profile")]
pub async fn load_profile() -> Result<Profile, AppError> {
    use crate::{
        auth::guards::account,
        http::context::{require_full_session, services},
    };

    let services = services()?;
    let session = require_full_session()?;
    let user = account::by_id(&services, session.user_id).await?;
    Ok(Profile {
        email: user.email,
        created: crate::shared::words::long_date(user.created_at),
        verified: user.email_verified_at.is_some(),
        two_factor_on: session.has_second_factor,
        has_password: user.password_hash.is_some(),
    })
}

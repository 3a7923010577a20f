//! Server functions behind the Two-Factor Auth tab and the sign-in code prompt.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shared::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    /// "28 November 2026" when on.
    pub enabled_since: Option<String>,
    pub codes_left: i64,
    pub any_code_used: bool,
    /// Required by policy: it cannot be turned off, and until it is on nothing else opens.
    pub required: bool,
    /// An authenticator app is set up (two-factor authentication may be on by passkeys alone).
    pub app: bool,
    /// The account's address while it is not proved: until it is, no second factor can be
    /// added.
    pub email_to_confirm: Option<String>,
}

/// The enable dialog's first step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentView {
    pub qr_svg: String,
    pub key: String,
    pub email: String,
    pub issuer: String,
    /// Two-factor authentication is on already: this secret replaces the current app's.
    pub switching: bool,
    /// A passkey protects the account: adding the app takes a recovery code too.
    pub protected: bool,
}

/// A new set of recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryCodeSet {
    pub codes: Vec<String>,
    pub email: String,
    /// "28 Nov 2026, 19:05 UTC".
    pub generated: String,
}

/// Hands a new set of codes to the caller: in the response for the hydrated app, or by
/// way of the server and a redirect for a plain form post.
#[cfg(feature = "ssr")]
pub(super) async fn deliver_codes(
    services: &crate::auth::services::Services,
    session: &crate::auth::guards::sessions::Session,
    codes: Vec<crate::auth::credentials::recovery_codes::RecoveryCode>,
) -> Result<RecoveryCodeSet, AppError> {
    use crate::{
        http::respond::{is_plain_form_post, no_store},
        shared::paths,
    };

    no_store();
    if is_plain_form_post() {
        crate::auth::guards::code_handoff::keep(services, session, &codes).await?;
        leptos_axum::redirect(paths::NEW_CODES);
    }
    Ok(RecoveryCodeSet {
        codes: codes.iter().map(|c| c.display()).collect(),
        email: session.email.clone(),
        generated: crate::shared::words::date_time(services.clock.now()),
    })
}

#[server(endpoint = "load_two_factor_status")]
pub async fn load_two_factor_status() -> Result<TwoFactorStatus, AppError> {
    use crate::{
        auth::{flows::totp_enrollment, guards::account},
        http::context::{require_session_for_enrollment, services},
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    let status = totp_enrollment::status(&services, session.user_id).await?;
    let user = account::by_id(&services, session.user_id).await?;
    Ok(TwoFactorStatus {
        enabled_since: status.enabled_at.map(crate::shared::words::long_date),
        codes_left: status.codes_left,
        any_code_used: status.any_code_used,
        required: session.two_factor_required,
        app: status.app,
        email_to_confirm: user.email_verified_at.is_none().then_some(user.email),
    })
}

/// Starts enrollment: a new pending secret for this session, valid for 10 minutes.
#[server(endpoint = "start_enrollment")]
pub async fn start_enrollment() -> Result<EnrollmentView, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::{
            context::{require_session_for_enrollment, services},
            respond::no_store,
        },
        shared::paths,
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    let enrollment = totp_enrollment::begin_enrollment(&services, &session).await?;
    no_store();
    leptos_axum::redirect(paths::ENABLE_TWO_FACTOR);
    Ok(EnrollmentView {
        qr_svg: enrollment.qr_svg,
        key: enrollment.key,
        email: session.email,
        issuer: services.config.issuer.clone(),
        switching: enrollment.switching,
        protected: enrollment.protected,
    })
}

/// The pending secret of this session, to show the dialog again after a reload.
#[server(endpoint = "pending_enrollment")]
pub async fn pending_enrollment() -> Result<Option<EnrollmentView>, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::{
            context::{require_session_for_enrollment, services},
            respond::no_store,
        },
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    no_store();
    Ok(totp_enrollment::pending_enrollment(&services, &session)
        .await?
        .map(|e| EnrollmentView {
            qr_svg: e.qr_svg,
            key: e.key,
            email: session.email.clone(),
            issuer: services.config.issuer.clone(),
            switching: e.switching,
            protected: e.protected,
        }))
}

#[server(endpoint = "enable_two_factor")]
pub async fn enable_two_factor(
    code: String,
    password: String,
    current_code: Option<String>,
) -> Result<RecoveryCodeSet, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::context::{client_info, require_session_for_enrollment, services},
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    let codes = totp_enrollment::enable(
        &services,
        &session,
        &code,
        password,
        current_code.as_deref(),
        &client_info(),
    )
    .await?;
    deliver_codes(&services, &session, codes).await
}

/// Moves two-factor authentication to a new app in one step, where it may not be off.
#[server(endpoint = "switch_authenticator_app")]
pub async fn switch_authenticator_app(
    current_code: String,
    code: String,
    password: String,
) -> Result<RecoveryCodeSet, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::context::{client_info, require_full_session, services},
    };

    let services = services()?;
    let session = require_full_session()?;
    let codes = totp_enrollment::switch_app(
        &services,
        &session,
        &current_code,
        &code,
        password,
        &client_info(),
    )
    .await?;
    deliver_codes(&services, &session, codes).await
}

#[server(endpoint = "disable_two_factor")]
pub async fn disable_two_factor(code: String, password: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    totp_enrollment::disable(&services, &session, &code, password, &client_info()).await?;
    leptos_axum::redirect(paths::TWO_FACTOR);
    Ok(())
}

#[server(endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(
    code: String,
    password: String,
) -> Result<RecoveryCodeSet, AppError> {
    use crate::{
        auth::flows::totp_enrollment,
        http::context::{client_info, require_full_session, services},
    };

    let services = services()?;
    let session = require_full_session()?;
    let codes = totp_enrollment::regenerate_recovery_codes(
        &services,
        &session,
        &code,
        password,
        &client_info(),
    )
    .await?;
    deliver_codes(&services, &session, codes).await
}

/// The codes a plain form post left for this session, while they last.
#[server(endpoint = "load_new_recovery_codes")]
pub async fn load_new_recovery_codes() -> Result<Option<RecoveryCodeSet>, AppError> {
    use crate::{
        auth::guards::code_handoff,
        http::{
            context::{require_session_for_enrollment, services},
            respond::no_store,
        },
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    no_store();
    Ok(code_handoff::show(&services, &session)
        .await?
        .map(|set| RecoveryCodeSet {
            codes: set.codes,
            email: session.email.clone(),
            generated: crate::shared::words::date_time(set.generated_at),
        }))
}

/// "Done": the codes stop being shown.
#[server(endpoint = "dismiss_new_recovery_codes")]
pub async fn dismiss_new_recovery_codes() -> Result<(), AppError> {
    use crate::{
        auth::guards::code_handoff,
        http::context::{require_session_for_enrollment, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    code_handoff::discard(&services, &session).await?;
    leptos_axum::redirect(paths::TWO_FACTOR);
    Ok(())
}

/// The second step of signing in: a code from the app or a recovery code.
#[server(endpoint = "verify_sign_in_code")]
pub async fn verify_sign_in_code(
    code: String,
    next: Option<String>,
    remember: Option<String>,
) -> Result<(), AppError> {
    use crate::auth::kernel::metrics::{self, SignInStep};

    let result = async {
        let factor = crate::auth::capabilities::second_factor::Factor::parse(&code)
            .map_err(crate::auth::kernel::error::AuthError::from)?;
        second_factor_step(factor, next, remember.is_some()).await
    }
    .await;
    metrics::sign_in(
        SignInStep::SecondFactor,
        crate::http::errors::sign_in_outcome(&result, false),
    );
    result
}

/// The code prompt's step for any second factor: on success the session is full (and
/// the browser remembered if asked); when its attempts are spent it ends.
#[cfg(feature = "ssr")]
pub(super) async fn second_factor_step(
    factor: crate::auth::capabilities::second_factor::Factor,
    next: Option<String>,
    remember: bool,
) -> Result<(), AppError> {
    use crate::{
        auth::{
            flows::code_prompt::{self, PromptOutcome},
            guards::sessions::Stage,
        },
        http::{
            context::{client_info, require_pending_session, services},
            cookies::{clear_session_cookie, set_device_cookie, set_session_cookie},
            respond::{is_plain_form_post, safe_next},
        },
        shared::paths,
    };

    let services = services()?;
    let session = require_pending_session()?;
    let client = client_info();
    match code_prompt::finish_sign_in(&services, &session, factor, remember, &client).await? {
        PromptOutcome::SignedIn { token, device } => {
            set_session_cookie(&services, &token, Stage::Full);
            if let Some(device) = device {
                set_device_cookie(&services, &device);
            }
            leptos_axum::redirect(&safe_next(&services, next.as_deref()));
            Ok(())
        }
        PromptOutcome::Ended { retry_after_secs } => {
            clear_session_cookie(&services);
            if is_plain_form_post() {
                // Without JavaScript the browser follows this to a page that says why.
                leptos_axum::redirect(&paths::sign_in_ended(retry_after_secs));
                return Ok(());
            }
            Err(AppError::SignInEnded { retry_after_secs })
        }
    }
}

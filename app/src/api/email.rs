//! Server functions behind the emailed links: verifying the address, "Forgot password?",
//! and changing the address.

use leptos::prelude::*;

use crate::shared::error::AppError;

#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::{
        auth::flows::email::verification,
        http::context::{client_info, require_session_for_enrollment, services},
        shared::paths,
    };

    let services = services()?;
    // Also for an account that must set up two-factor authentication: it needs the address
    // proved first.
    let session = require_session_for_enrollment()?;
    verification::resend(&services, session.user_id, &client_info()).await?;
    leptos_axum::redirect(paths::VERIFICATION_SENT);
    Ok(())
}

#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::email::verification,
        http::context::{services, session},
        shared::paths,
    };

    let services = services()?;
    verification::confirm(&services, &token).await?;
    leptos_axum::redirect(if session().is_some() {
        paths::VERIFIED_SIGNED_IN
    } else {
        paths::VERIFIED_SIGNED_OUT
    });
    Ok(())
}

/// Always the same answer, after the same time, whether or not the account exists.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::email::password_reset,
        http::context::{client_info, services},
        shared::paths,
    };

    let services = services()?;
    password_reset::request(&services, &email, &client_info()).await?;
    // Whether or not the account exists, the person reads that the link is on its way.
    leptos_axum::redirect(paths::RESET_LINK_SENT);
    Ok(())
}

#[server(endpoint = "reset_link_works")]
pub async fn reset_link_works(token: String) -> Result<bool, AppError> {
    use crate::{
        auth::flows::email::password_reset,
        http::{context::services, respond::no_store},
    };

    let services = services()?;
    no_store();
    Ok(password_reset::link_works(&services, &token).await?)
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::email::password_reset,
        http::{
            context::{client_info, services},
            cookies::clear_session_cookie,
        },
        shared::paths,
    };

    let services = services()?;
    password_reset::reset(&services, &token, password, &client_info()).await?;
    // Every session ended, this browser's too.
    clear_session_cookie(&services);
    leptos_axum::redirect(paths::PASSWORD_WAS_RESET);
    Ok(())
}

#[server(endpoint = "change_email")]
pub async fn change_email(
    new_email: String,
    password: String,
    code: String,
) -> Result<(), AppError> {
    use crate::{
        auth::flows::email::address_change,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    address_change::request(
        &services,
        &session,
        &new_email,
        password,
        &code,
        &client_info(),
    )
    .await?;
    leptos_axum::redirect(paths::EMAIL_CHANGE_SENT);
    Ok(())
}

#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::email::address_change,
        http::context::{client_info, services, session},
        shared::paths,
    };

    let services = services()?;
    address_change::confirm(&services, &token, session().as_ref(), &client_info()).await?;
    leptos_axum::redirect(if session().is_some() {
        paths::EMAIL_CHANGED_SIGNED_IN
    } else {
        paths::EMAIL_CHANGED_SIGNED_OUT
    });
    Ok(())
}

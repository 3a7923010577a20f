//! Server functions behind the emailed links: verifying the address, "Forgot password?",
//! and changing the address.

use leptos::prelude::*;

use crate::error::AppError;

/// Where the person reads that the reset link is on its way (whether or not it is).
pub const RESET_SENT_PATH: &str = "/forgot-password?sent=1";

#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::verification;

    let services = services()?;
    // Also for an account that must set up two-factor authentication: it needs the address
    // proved first.
    let session = require_session_for_enrollment()?;
    verification::resend(&services, session.user_id, &client_info()).await?;
    leptos_axum::redirect("/settings?verification=sent");
    Ok(())
}

#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::verification;

    let services = services()?;
    verification::confirm(&services, &token).await?;
    leptos_axum::redirect(if session().is_some() {
        "/settings?verification=done"
    } else {
        "/signin?verified=1"
    });
    Ok(())
}

/// Always the same answer, after the same time, whether or not the account exists.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::password_reset;

    let services = services()?;
    password_reset::request(&services, &email, &client_info()).await?;
    leptos_axum::redirect(RESET_SENT_PATH);
    Ok(())
}

#[server(endpoint = "reset_link_works")]
pub async fn reset_link_works(token: String) -> Result<bool, AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::password_reset;

    let services = services()?;
    no_store();
    Ok(password_reset::link_works(&services, &token).await?)
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::password_reset;

    let services = services()?;
    password_reset::reset(&services, &token, password, &client_info()).await?;
    // Every session ended, this browser's too.
    clear_session_cookie(&services);
    leptos_axum::redirect("/signin?reset=1");
    Ok(())
}

#[server(endpoint = "change_email")]
pub async fn change_email(
    new_email: String,
    password: String,
    code: String,
) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::address_change;

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
    leptos_axum::redirect("/settings?email=sent");
    Ok(())
}

#[server(endpoint = "confirm_email_change")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::auth::flows::email::address_change;

    let services = services()?;
    address_change::confirm(&services, &token, session().as_ref(), &client_info()).await?;
    leptos_axum::redirect(if session().is_some() {
        "/settings?email=changed"
    } else {
        "/signin?email_changed=1"
    });
    Ok(())
}

//! Server functions behind the provider buttons, Settings → Sign-in methods, and the
//! confirmation that stands in for a password.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shared::error::AppError;

/// A configured provider, as a button shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
}

/// One provider on the Sign-in methods tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderMethod {
    pub id: String,
    pub name: String,
    /// "1 December 2026" when connected.
    pub linked_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInMethods {
    pub has_password: bool,
    pub two_factor_on: bool,
    pub providers: Vec<ProviderMethod>,
}

impl SignInMethods {
    /// How many ways in the account has: the last one cannot be removed.
    pub fn count(&self) -> usize {
        usize::from(self.has_password)
            + self
                .providers
                .iter()
                .filter(|p| p.linked_on.is_some())
                .count()
    }
}

/// What proves the person before a change in Settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Confirmation {
    /// The account's password.
    Password,
    /// A fresh sign-in at this provider, just now: nothing more to type.
    Confirmed { provider: String },
    /// No password: a fresh sign-in at one of these providers takes its place.
    Reauthenticate { providers: Vec<ProviderView> },
    /// No password, and no linked provider can confirm a fresh sign-in.
    SetPasswordFirst,
}

/// The providers people may sign in with, in the config file's order.
#[server(endpoint = "list_providers")]
pub async fn list_providers() -> Result<Vec<ProviderView>, AppError> {
    use crate::http::context::services;

    let services = services()?;
    Ok(services
        .providers
        .iter()
        .map(|p| ProviderView {
            id: p.id.clone(),
            name: p.name.clone(),
        })
        .collect())
}

#[server(endpoint = "load_sign_in_methods")]
pub async fn load_sign_in_methods() -> Result<SignInMethods, AppError> {
    use crate::{
        auth::flows::social::links,
        http::context::{require_full_session, services},
    };

    let services = services()?;
    let session = require_full_session()?;
    let methods = links::methods(&services, session.user_id).await?;
    let providers = services
        .providers
        .iter()
        .map(|p| ProviderMethod {
            id: p.id.clone(),
            name: p.name.clone(),
            linked_on: methods
                .linked
                .iter()
                .find(|link| link.provider_id == p.id)
                .map(|link| crate::shared::words::long_date(link.linked_at)),
        })
        .collect();
    Ok(SignInMethods {
        has_password: methods.has_password,
        two_factor_on: session.has_second_factor,
        providers,
    })
}

#[server(endpoint = "load_confirmation")]
pub async fn load_confirmation() -> Result<Confirmation, AppError> {
    use crate::{
        auth::{capabilities::step_up, flows::social::links},
        http::context::{require_session_for_enrollment, services},
    };

    let services = services()?;
    let session = require_session_for_enrollment()?;
    // Asked by every form that confirms a change: most accounts have a password, and
    // need nothing read beyond the session.
    if session.has_password {
        return Ok(Confirmation::Password);
    }
    let linked = links::linked(&services, session.user_id).await?;
    // Only a provider connected before this session began confirms it.
    let linked: Vec<&crate::auth::adapters::providers::Provider> = linked
        .iter()
        .filter(|link| step_up::linked_before(link.linked_epoch, &session))
        .filter_map(|link| services.providers.get(&link.provider_id))
        .filter(|p| p.can_confirm_fresh_sign_in())
        .collect();
    if step_up::recently_reauthenticated(&services, &session) {
        let provider = linked.first().map_or("your provider", |p| p.name.as_str());
        return Ok(Confirmation::Confirmed {
            provider: provider.to_owned(),
        });
    }
    if linked.is_empty() {
        return Ok(Confirmation::SetPasswordFirst);
    }
    Ok(Confirmation::Reauthenticate {
        providers: linked
            .into_iter()
            .map(|p| ProviderView {
                id: p.id.clone(),
                name: p.name.clone(),
            })
            .collect(),
    })
}

#[server(endpoint = "disconnect_provider")]
pub async fn disconnect_provider(
    provider: String,
    password: String,
    code: String,
) -> Result<(), AppError> {
    use crate::{
        auth::{capabilities::step_up, flows::social::links, kernel::error::AuthError},
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    let confirmation = step_up::StepUp { password, code };
    match links::disconnect(&services, &session, &provider, confirmation, &client_info()).await {
        Err(AuthError::Social(refusal)) => {
            let name = services
                .providers
                .get(&provider)
                .map_or(provider.as_str(), |p| p.name.as_str());
            return Err(AppError::Conflict(refusal.sentence(name)));
        }
        other => other?,
    }
    leptos_axum::redirect(paths::SIGN_IN_METHODS);
    Ok(())
}

/// For an account whose providers cannot confirm a fresh sign-in: its first password is
/// set through a link to its verified address instead.
#[server(endpoint = "email_password_link")]
pub async fn email_password_link() -> Result<(), AppError> {
    use crate::{
        auth::flows::email::password_reset,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    password_reset::send_to_account(&services, session.user_id, &client_info()).await?;
    leptos_axum::redirect(paths::PASSWORD_LINK_SENT);
    Ok(())
}

/// The first password of an account made through a provider.
#[server(endpoint = "set_password")]
pub async fn set_password(password: String, code: String) -> Result<(), AppError> {
    use crate::{
        auth::flows::accounts,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    accounts::set_password(&services, &session, password, &code, &client_info()).await?;
    leptos_axum::redirect(paths::PASSWORD_WAS_SET);
    Ok(())
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    password: String,
    code: String,
) -> Result<(), AppError> {
    use crate::{
        auth::flows::accounts,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let session = require_full_session()?;
    accounts::change_password(
        &services,
        &session,
        current_password,
        password,
        &code,
        &client_info(),
    )
    .await?;
    leptos_axum::redirect(paths::PASSWORD_CHANGED);
    Ok(())
}

/// A provider sign-up waiting in this browser for its address, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignUp {
    pub provider: String,
    /// What the provider said, unproved: a suggestion for the field.
    pub email_hint: String,
    /// Where the last link went.
    pub sent_to: Option<String>,
}

#[server(endpoint = "load_pending_sign_up")]
pub async fn load_pending_sign_up() -> Result<Option<PendingSignUp>, AppError> {
    use crate::{
        auth::flows::social::sign_up,
        http::context::{request_sign_up_binding, services},
    };

    let services = services()?;
    let Some(binding) = request_sign_up_binding(&services) else {
        return Ok(None);
    };
    Ok(sign_up::pending(&services, &binding)
        .await?
        .map(|pending| PendingSignUp {
            provider: pending.provider,
            email_hint: pending.email_hint,
            sent_to: pending.sent_to,
        }))
}

#[server(endpoint = "send_sign_up_link")]
pub async fn send_sign_up_link(email: String) -> Result<(), AppError> {
    use crate::{
        auth::{flows::social::sign_up, kernel::error::AuthError},
        http::context::{client_info, request_sign_up_binding, services},
        shared::paths,
    };

    let services = services()?;
    let binding = request_sign_up_binding(&services).ok_or(AuthError::SignUpExpired)?;
    sign_up::send_link(&services, &binding, &email, &client_info()).await?;
    leptos_axum::redirect(paths::SIGN_UP_LINK_SENT);
    Ok(())
}

/// The link from the mail, opened in the browser the sign-up waits in.
#[server(endpoint = "finish_sign_up")]
pub async fn finish_sign_up(token: String) -> Result<(), AppError> {
    use crate::{
        auth::{
            flows::{sign_in, social::sign_up},
            guards::sessions,
        },
        http::{
            context::{client_info, request_sign_up_binding, services, session},
            cookies::clear_sign_up_cookie,
            respond::after_first_factor,
        },
        shared::paths,
    };

    let services = services()?;
    let client = client_info();
    let Some(binding) = request_sign_up_binding(&services) else {
        return Err(AppError::Conflict(
            "Open this link in the browser you signed up in, within 30 minutes of signing up."
                .into(),
        ));
    };
    let finished = sign_up::finish(&services, &binding, &token, &client).await?;
    clear_sign_up_cookie(&services);
    if let Some(previous) = session() {
        sessions::end(&services, &previous).await?;
    }
    let first_factor = sign_in::first_factor_passed(
        &services,
        finished.account,
        &client,
        sign_in::FirstStep::Provider(&finished.provider),
        None,
    )
    .await?;
    after_first_factor(&services, &first_factor, paths::SETTINGS).send();
    Ok(())
}

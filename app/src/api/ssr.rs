//! What every server function needs from the request: the services, the session the
//! host resolved, and the client's address.

use std::sync::Arc;

use http::{header, request::Parts, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::{
    auth::{
        guards::{
            remembered_devices::{self, DeviceToken},
            sessions::{self, Session, SessionToken, Stage},
        },
        kernel::client::ClientInfo,
        services::Services,
    },
    error::AppError,
};

/// The session the host resolved for this request, stored in the request's extensions.
#[derive(Debug, Clone, Default)]
pub struct RequestSession(pub Option<Session>);

pub fn services() -> Result<Arc<Services>, AppError> {
    use_context::<crate::state::AppState>()
        .map(|s| s.services)
        .ok_or_else(|| {
            tracing::error!("AppState missing from context");
            AppError::Internal
        })
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

pub fn client_info() -> ClientInfo {
    parts()
        .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

pub fn session() -> Option<Session> {
    parts().and_then(|p| {
        p.extensions
            .get::<RequestSession>()
            .and_then(|s| s.0.clone())
    })
}

/// The full session, or 401. A session still waiting for its second factor grants
/// nothing, and one that must first set up two-factor authentication only that (403).
pub fn require_full_session() -> Result<Session, AppError> {
    let session = require_session_for_enrollment()?;
    if session.must_enroll {
        return Err(AppError::EnrollmentRequired);
    }
    Ok(session)
}

/// The full session, even one that must set up two-factor authentication before anything
/// else: for the enrollment's own functions.
pub fn require_session_for_enrollment() -> Result<Session, AppError> {
    session()
        .filter(|s| s.stage == Stage::Full)
        .ok_or(AppError::Unauthorized)
}

/// The session waiting at the code prompt, or 401.
pub fn require_pending_session() -> Result<Session, AppError> {
    session()
        .filter(|s| s.stage == Stage::PendingSecondFactor)
        .ok_or(AppError::Unauthorized)
}

/// The session token from the request's cookie, if it has one of the right shape.
pub fn token_from_headers(headers: &http::HeaderMap, secure: bool) -> Option<SessionToken> {
    cookie_value(headers, sessions::cookie_name(secure))
        .and_then(|value| SessionToken::from_cookie(&value))
}

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The remembered-device token the browser sent, if any.
pub fn device_token(headers: &http::HeaderMap, secure: bool) -> Option<DeviceToken> {
    cookie_value(headers, remembered_devices::cookie_name(secure))
        .and_then(|value| DeviceToken::from_cookie(&value))
}

/// The remembered-device token of this request.
pub fn request_device_token(services: &Services) -> Option<DeviceToken> {
    parts().and_then(|p| device_token(&p.headers, services.config.secure_cookies))
}

/// Every cookie Gatehouse sets: for this host and every path, never read by scripts,
/// `Secure` behind TLS, and sent on top-level navigations from elsewhere (a provider's
/// redirect back, a link from a mail) but not on other sites' requests. `max_age` 0
/// removes it.
pub fn set_cookie(services: &Services, name: &'static str, value: &str, max_age: i64) -> String {
    cookie::Cookie::build((name, value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(services.config.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

/// Gives the browser its remembered-device cookie, for as long as the device is
/// remembered.
pub fn set_device_cookie(services: &Services, token: &DeviceToken) {
    let name = remembered_devices::cookie_name(services.config.secure_cookies);
    append_set_cookie(&set_cookie(
        services,
        name,
        token.expose(),
        remembered_devices::REMEMBER_SECS,
    ));
}

pub fn set_session_cookie(services: &Services, token: &SessionToken, stage: Stage) {
    append_set_cookie(&session_set_cookie(services, Some((token, stage))));
}

pub fn clear_session_cookie(services: &Services) {
    append_set_cookie(&session_set_cookie(services, None));
}

/// The `Set-Cookie` value for a session's token, or for removing the cookie (`None`).
/// A full session's cookie lasts as long as its absolute lifetime in the database.
pub fn session_set_cookie(services: &Services, session: Option<(&SessionToken, Stage)>) -> String {
    let (value, max_age) = match session {
        Some((token, Stage::Full)) => (token.expose(), services.config.session_max_age_secs),
        Some((token, Stage::PendingSecondFactor)) => (token.expose(), sessions::PENDING_TTL_SECS),
        None => ("", 0),
    };
    let name = sessions::cookie_name(services.config.secure_cookies);
    set_cookie(services, name, value, max_age)
}

/// The `Set-Cookie` value that binds a provider sign-up waiting for its address to this
/// browser, or removes it (`None`).
pub fn sign_up_set_cookie(services: &Services, binding: Option<&str>) -> String {
    use crate::auth::flows::social::sign_up;

    let name = sign_up::cookie_name(services.config.secure_cookies);
    match binding {
        Some(binding) => set_cookie(services, name, binding, sign_up::PENDING_TTL_SECS),
        None => set_cookie(services, name, "", 0),
    }
}

/// The waiting sign-up's cookie value of this request, if any.
pub fn sign_up_binding(services: &Services) -> Option<String> {
    let name = crate::auth::flows::social::sign_up::cookie_name(services.config.secure_cookies);
    parts().and_then(|p| cookie_value(&p.headers, name))
}

pub fn clear_sign_up_cookie(services: &Services) {
    append_set_cookie(&sign_up_set_cookie(services, None));
}

fn append_set_cookie(cookie: &str) {
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(cookie),
    ) {
        res.append_header(header::SET_COOKIE, value);
    }
}

/// The cookie of the session a first factor earned, and where to go: `next`, or the code
/// prompt (which takes `next` along).
pub fn after_first_factor(
    services: &Services,
    first_factor: &crate::auth::flows::sign_in::FirstFactor,
    next: &str,
) -> (String, String) {
    use crate::auth::flows::sign_in::FirstFactor;

    match first_factor {
        FirstFactor::Full(token) => (
            session_set_cookie(services, Some((token, Stage::Full))),
            next.to_owned(),
        ),
        FirstFactor::MustEnroll(token) => (
            session_set_cookie(services, Some((token, Stage::Full))),
            super::account::ENROLLMENT_PATH.to_owned(),
        ),
        FirstFactor::Pending(token) => {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            (
                session_set_cookie(services, Some((token, Stage::PendingSecondFactor))),
                format!("/signin/code?next={next}"),
            )
        }
    }
}

/// Starts the session a first factor earned, for a server function.
pub fn continue_after_first_factor(
    services: &Services,
    first_factor: &crate::auth::flows::sign_in::FirstFactor,
    next: &str,
) {
    let (cookie, location) = after_first_factor(services, first_factor, next);
    append_set_cookie(&cookie);
    leptos_axum::redirect(&location);
}

/// A form posted by the browser itself, without JavaScript: it expects a page (and gets
/// a redirect), where the hydrated app asks for JSON.
pub fn is_plain_form_post() -> bool {
    parts().is_some_and(|p| {
        p.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Gives a server function's error answer its status, and `Retry-After` when waiting
/// helps. A plain form post is left alone: it is answered with a redirect back to its
/// page, which shows the error.
pub fn set_error_status(err: &AppError) {
    let Some(res) = use_context::<ResponseOptions>() else {
        return;
    };
    if is_plain_form_post() {
        return;
    }
    res.set_status(StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if let Some(secs) = err.retry_after() {
        res.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

/// Marks the response as holding a secret, so no cache keeps it.
pub fn no_store() {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Only paths on this site are followed after sign-in, so `next` cannot send a person
/// away; see [`crate::auth::kernel::public_url`].
pub fn safe_next(services: &Services, next: Option<&str>) -> String {
    services.config.public_url.next_target(next)
}

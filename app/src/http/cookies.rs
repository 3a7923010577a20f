//! Every cookie Gatehouse sets, built by one function, and reading them back. The names
//! and lifetimes belong to the domain modules whose tokens the cookies carry.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::auth::{
    flows::social::{self, sign_up},
    guards::{
        remembered_devices::{self, DeviceToken},
        sessions::{self, SessionToken, Stage},
    },
    services::Services,
};

/// Every cookie Gatehouse sets: for this host and every path, never read by scripts,
/// `Secure` behind TLS, and sent on top-level navigations from elsewhere (a provider's
/// redirect back, a link from a mail) but not on other sites' requests. `max_age` 0
/// removes it.
fn build(services: &Services, name: &'static str, value: &str, max_age: i64) -> String {
    cookie::Cookie::build((name, value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(services.config.secure_cookies)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

/// The `Set-Cookie` value for a session's token, or for removing the cookie (`None`).
/// A full session's cookie lasts as long as its absolute lifetime in the database.
pub fn session(services: &Services, session: Option<(&SessionToken, Stage)>) -> String {
    let (value, max_age) = match session {
        Some((token, Stage::Full)) => (token.expose(), services.config.session_max_age_secs),
        Some((token, Stage::PendingSecondFactor)) => (token.expose(), sessions::PENDING_TTL_SECS),
        None => ("", 0),
    };
    let name = sessions::cookie_name(services.config.secure_cookies);
    build(services, name, value, max_age)
}

/// The remembered-device cookie, for as long as the device is remembered.
pub fn device(services: &Services, token: &DeviceToken) -> String {
    let name = remembered_devices::cookie_name(services.config.secure_cookies);
    build(
        services,
        name,
        token.expose(),
        remembered_devices::REMEMBER_SECS,
    )
}

/// The cookie that binds a provider round trip to the browser that began it.
pub fn provider_binding(services: &Services, binding: &str) -> String {
    let name = social::binding_cookie_name(services.config.secure_cookies);
    build(services, name, binding, social::FLOW_TTL_SECS)
}

/// The cookie that binds a provider sign-up waiting for its address to this browser, or
/// removes it (`None`).
pub fn sign_up(services: &Services, binding: Option<&str>) -> String {
    let name = sign_up::cookie_name(services.config.secure_cookies);
    match binding {
        Some(binding) => build(services, name, binding, sign_up::PENDING_TTL_SECS),
        None => build(services, name, "", 0),
    }
}

/// Adds `cookie` to a server function's response.
pub fn send(cookie: &str) {
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(cookie),
    ) {
        res.append_header(header::SET_COOKIE, value);
    }
}

/// A host handler's answer `res`, with `cookie` set.
pub fn with_cookie(res: impl IntoResponse, cookie: &str) -> Response {
    let mut res = res.into_response();
    if let Ok(value) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

pub fn set_session_cookie(services: &Services, token: &SessionToken, stage: Stage) {
    send(&session(services, Some((token, stage))));
}

pub fn clear_session_cookie(services: &Services) {
    send(&session(services, None));
}

pub fn set_device_cookie(services: &Services, token: &DeviceToken) {
    send(&device(services, token));
}

pub fn clear_sign_up_cookie(services: &Services) {
    send(&sign_up(services, None));
}

/// The value of the request's cookie `name`, if it sent one.
fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session token from the request's cookie, if it has one of the right shape.
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<SessionToken> {
    value(headers, sessions::cookie_name(secure)).and_then(|v| SessionToken::from_cookie(&v))
}

/// The remembered-device token the browser sent, if any.
pub fn device_token(headers: &HeaderMap, secure: bool) -> Option<DeviceToken> {
    value(headers, remembered_devices::cookie_name(secure))
        .and_then(|v| DeviceToken::from_cookie(&v))
}

/// The provider round trip's binding the browser sent back, if any.
pub fn provider_binding_sent(headers: &HeaderMap, secure: bool) -> Option<String> {
    value(headers, social::binding_cookie_name(secure))
}

/// The waiting provider sign-up's binding the browser sent, if any.
pub fn sign_up_binding(headers: &HeaderMap, secure: bool) -> Option<String> {
    value(headers, sign_up::cookie_name(secure))
}

//! How an answer ends: where a first factor leads, whether the browser expects a page,
//! where `next` may go, and what no cache may keep.

use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{context::parts, cookies};
use crate::{
    auth::{flows::sign_in::FirstFactor, guards::sessions::Stage, services::Services},
    shared::paths,
};

/// The session a first factor earned and where the browser goes next: `next`, the
/// enrollment, or the code prompt (which takes `next` along).
pub struct Landing {
    cookie: String,
    location: String,
}

pub fn after_first_factor(services: &Services, first_factor: &FirstFactor, next: &str) -> Landing {
    let (token, stage, location) = match first_factor {
        FirstFactor::Full(token) => (token, Stage::Full, next.to_owned()),
        FirstFactor::MustEnroll(token) => (token, Stage::Full, paths::TWO_FACTOR.to_owned()),
        FirstFactor::Pending(token) => (
            token,
            Stage::PendingSecondFactor,
            paths::code_prompt_with_next(next),
        ),
    };
    Landing {
        cookie: cookies::session(services, Some((token, stage))),
        location,
    }
}

impl Landing {
    /// Puts the cookie and the redirect on a server function's response.
    pub fn send(self) {
        cookies::send(&self.cookie);
        leptos_axum::redirect(&self.location);
    }
}

/// The answer of a host handler.
impl IntoResponse for Landing {
    fn into_response(self) -> Response {
        cookies::with_cookie(Redirect::to(&self.location), &self.cookie)
    }
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

/// Marks the response as holding a secret, so no cache keeps it. The host marks every
/// page and answer so already; this is defence in depth, kept with the secret it guards.
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

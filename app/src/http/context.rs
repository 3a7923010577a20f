//! What every server function needs from the request: the services, the session the
//! host resolved, and the client's address.

use std::sync::Arc;

use http::request::Parts;
use leptos::prelude::*;

use super::{cookies, state::AppState};
use crate::{
    auth::{
        guards::{
            remembered_devices::DeviceToken,
            sessions::{Session, Stage},
        },
        kernel::client::ClientInfo,
        services::Services,
    },
    shared::error::AppError,
};

/// The session the host resolved for this request, stored in the request's extensions.
#[derive(Debug, Clone, Default)]
pub struct RequestSession(pub Option<Session>);

pub fn services() -> Result<Arc<Services>, AppError> {
    use_context::<AppState>()
        .map(|s| s.services)
        .ok_or_else(|| {
            tracing::error!("AppState missing from context");
            AppError::Internal
        })
}

/// The request's head, which leptos_axum provides to every server function and page.
pub(super) fn parts() -> Option<Parts> {
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

/// The remembered-device token of this request.
pub fn request_device_token(services: &Services) -> Option<DeviceToken> {
    parts().and_then(|p| cookies::device_token(&p.headers, services.config.secure_cookies))
}

/// The waiting sign-up's cookie value of this request, if any.
pub fn request_sign_up_binding(services: &Services) -> Option<String> {
    parts().and_then(|p| cookies::sign_up_binding(&p.headers, services.config.secure_cookies))
}

//! Settings → Sessions: where the account is signed in, and signing devices out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shared::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: i64,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::{
        auth::{guards::sessions, kernel::user_agent},
        http::context::{require_full_session, services},
        shared::words::date_time,
    };

    let services = services()?;
    let current = require_full_session()?;
    let mut all = sessions::list(&services, current.user_id).await?;
    // This device first, then the most recently used.
    all.sort_by_key(|s| s.id != current.id);
    Ok(all
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            device: user_agent::describe(&s.user_agent),
            ip: s.ip,
            signed_in: date_time(s.created_at),
            last_seen: date_time(s.last_seen_at),
            current: s.id == current.id,
        })
        .collect())
}

/// Signs one other device out.
#[server(endpoint = "end_session")]
pub async fn end_session(id: i64) -> Result<(), AppError> {
    use crate::{
        auth::guards::{audit, sessions},
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let current = require_full_session()?;
    if id == current.id {
        return Err(AppError::bad_input(
            "Use Sign out to end the session you are using.",
        ));
    }
    if !sessions::end_by_id(&services, current.user_id, id).await? {
        return Err(AppError::Conflict("That session has already ended.".into()));
    }
    audit::record(
        &services,
        current.user_id,
        audit::EventKind::SessionEnded,
        &client_info(),
        "signed out from Sessions",
    )
    .await?;
    leptos_axum::redirect(paths::SESSIONS);
    Ok(())
}

#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use crate::{
        auth::guards::{audit, sessions},
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let current = require_full_session()?;
    let (ended, forgotten) = sessions::sign_out_everywhere_else(&services, &current).await?;
    let detail = format!(
        "{ended} other session(s) signed out and {forgotten} remembered device(s) forgotten from Sessions"
    );
    audit::record(
        &services,
        current.user_id,
        audit::EventKind::SessionEnded,
        &client_info(),
        &detail,
    )
    .await?;
    leptos_axum::redirect(paths::SESSIONS);
    Ok(ended)
}

/// A browser that may skip the second step until it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RememberedDeviceView {
    pub id: i64,
    pub device: String,
    pub ip: String,
    pub remembered: String,
    pub last_used: String,
    pub until: String,
}

#[server(endpoint = "list_remembered_devices")]
pub async fn list_remembered_devices() -> Result<Vec<RememberedDeviceView>, AppError> {
    use crate::{
        auth::guards::remembered_devices,
        http::context::{require_full_session, services},
        shared::words::{date_time, long_date},
    };

    let services = services()?;
    let current = require_full_session()?;
    Ok(remembered_devices::list(&services, current.user_id)
        .await?
        .into_iter()
        .map(|d| RememberedDeviceView {
            id: d.id,
            device: d.description,
            ip: d.ip,
            remembered: date_time(d.created_at),
            last_used: date_time(d.last_used_at),
            until: long_date(d.expires_at),
        })
        .collect())
}

/// Forgets a remembered device: its next sign-in asks for the second factor again.
#[server(endpoint = "forget_device")]
pub async fn forget_device(id: i64) -> Result<(), AppError> {
    use crate::{
        auth::guards::remembered_devices,
        http::context::{client_info, require_full_session, services},
        shared::paths,
    };

    let services = services()?;
    let current = require_full_session()?;
    remembered_devices::forget(&services, current.user_id, id, &client_info()).await?;
    leptos_axum::redirect(paths::SESSIONS);
    Ok(())
}

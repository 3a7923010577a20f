//! Settings → Security activity: the person's own audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shared::error::AppError;

/// Events per page.
pub const PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub id: i64,
    pub what: String,
    pub detail: String,
    pub when: String,
    pub ip: String,
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub events: Vec<EventView>,
    /// Where the next (older) page starts, if there is one.
    pub older: Option<i64>,
}

#[server(endpoint = "list_activity")]
pub async fn list_activity(before: Option<i64>) -> Result<ActivityPage, AppError> {
    use crate::{
        auth::guards::audit,
        http::context::{require_full_session, services},
        shared::words::date_time,
    };

    let services = services()?;
    let session = require_full_session()?;
    let page = audit::page(&services, session.user_id, before, PAGE_SIZE).await?;
    Ok(ActivityPage {
        events: page
            .events
            .into_iter()
            .map(|e| EventView {
                id: e.id,
                what: e.what.to_owned(),
                detail: e.detail,
                when: date_time(e.at),
                ip: e.ip,
                device: e.device,
            })
            .collect(),
        older: page.older,
    })
}

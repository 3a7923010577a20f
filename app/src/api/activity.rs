//! Settings → Security activity: the person's own audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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
    use super::ssr::*;
    use crate::{
        auth::{audit, devices},
        dates::date_time,
        store::security_events,
    };

    let services = services()?;
    let session = require_full_session()?;
    let mut rows =
        security_events::page(&services.db, session.user_id, before, PAGE_SIZE + 1).await?;
    let older = (rows.len() as i64 > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.id)
    });
    Ok(ActivityPage {
        events: rows
            .into_iter()
            .map(|r| EventView {
                id: r.id,
                what: audit::describe(&r.kind).to_owned(),
                detail: r.detail,
                when: date_time(r.at),
                ip: r.ip,
                device: if r.user_agent.is_empty() {
                    String::new()
                } else {
                    devices::describe(&r.user_agent)
                },
            })
            .collect(),
        older: older.flatten(),
    })
}

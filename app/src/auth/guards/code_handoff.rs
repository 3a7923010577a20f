//! Recovery codes for a browser without JavaScript.
//!
//! With JavaScript the codes come back in the response to the POST that made them and
//! never touch storage. A plain form POST must redirect, so the codes wait here, sealed
//! and bound to the session, until the page shows them and the person downloads them
//! (once) or moves on, or ten minutes pass.

use crate::auth::{
    credentials::recovery_codes::RecoveryCode, guards::sessions::Session, kernel::error::AuthError,
    services::Services,
};
use crate::store;

pub const HANDOFF_TTL_SECS: i64 = 10 * 60;

/// Codes as shown to a person, and when they were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOff {
    pub codes: Vec<String>,
    pub generated_at: i64,
}

pub async fn keep(
    services: &Services,
    session: &Session,
    codes: &[RecoveryCode],
) -> Result<(), AuthError> {
    let text = codes
        .iter()
        .map(RecoveryCode::display)
        .collect::<Vec<_>>()
        .join("\n");
    let sealed = services
        .keys
        .handoff
        .seal(session.user_id, text.as_bytes(), &mut services.rng())
        .map_err(|err| AuthError::internal(format!("cannot seal recovery codes: {err}")))?;
    let now = services.clock.now();
    store::code_handoffs::put(
        &services.db,
        session.id,
        &sealed,
        now,
        now + HANDOFF_TTL_SECS,
    )
    .await?;
    Ok(())
}

/// The codes waiting for this session, left in place so a reload shows them again.
pub async fn show(services: &Services, session: &Session) -> Result<Option<HandedOff>, AuthError> {
    let row = store::code_handoffs::find(&services.db, session.id, services.clock.now()).await?;
    row.map(|row| open(services, session, row)).transpose()
}

/// The codes waiting for this session, removed as they are read: a download is served once.
pub async fn take(services: &Services, session: &Session) -> Result<Option<HandedOff>, AuthError> {
    let row = store::code_handoffs::take(&services.db, session.id, services.clock.now()).await?;
    row.map(|row| open(services, session, row)).transpose()
}

pub async fn discard(services: &Services, session: &Session) -> Result<(), AuthError> {
    store::code_handoffs::delete(&services.db, session.id).await?;
    Ok(())
}

fn open(
    services: &Services,
    session: &Session,
    (sealed, generated_at): (Vec<u8>, i64),
) -> Result<HandedOff, AuthError> {
    let text = services
        .keys
        .handoff
        .open(session.user_id, &sealed)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            AuthError::internal(format!(
                "the recovery codes stored for session {} do not open",
                session.id
            ))
        })?;
    Ok(HandedOff {
        codes: text.lines().map(str::to_owned).collect(),
        generated_at,
    })
}

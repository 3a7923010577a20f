//! The state of a WebAuthn ceremony under way, between the options the browser is given
//! and the answer it sends back.
//!
//! webauthn-rs keeps its state types unserialisable unless `danger-allow-state-serialisation`
//! is on, because state handed to a client could be replayed or altered. Here it never
//! leaves the server: it is stored in the database (so any instance can finish what another
//! began), under the keyed hash of a random id, bound to its purpose and (but for a
//! passwordless sign-in) to the session that began it, for five minutes, and taken by one
//! atomic delete, so each challenge is answered at most once.

use serde::{de::DeserializeOwned, Serialize};
use sqlx::{Any, Executor};

use crate::{
    auth::{
        kernel::{error::AuthError, tokens},
        services::Services,
    },
    store::{self, webauthn_ceremonies::NewCeremony},
};

/// How long the browser has to answer, the same as the timeout its options carry.
pub const TTL_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SecondFactor,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SecondFactor => "second_factor",
            Purpose::SignIn => "sign_in",
        }
    }
}

fn hash(services: &Services, id: &str) -> Vec<u8> {
    tokens::keyed_hash(
        &services.keys.hashing,
        &[b"webauthn-ceremony/", id.as_bytes()],
    )
}

/// Stores `state` and returns the id the browser sends back with its answer.
pub async fn put<S: Serialize>(
    services: &Services,
    purpose: Purpose,
    session_id: Option<i64>,
    state: &S,
) -> Result<String, AuthError> {
    let id = tokens::generate(&*services.random);
    let state = serde_json::to_string(state)
        .map_err(|err| AuthError::internal(format!("cannot store a WebAuthn state: {err}")))?;
    store::webauthn_ceremonies::insert(
        &services.db,
        NewCeremony {
            id_hash: &hash(services, &id),
            purpose: purpose.as_str(),
            session_id,
            state: &state,
            expires_at: services.clock.now() + TTL_SECS,
        },
    )
    .await?;
    Ok(id)
}

/// Takes the ceremony `id` for this purpose and session, once. `None` when it is unknown,
/// used, expired, or another session's.
pub async fn take_in<'c, S: DeserializeOwned>(
    ex: impl Executor<'c, Database = Any>,
    services: &Services,
    id: &str,
    purpose: Purpose,
    session_id: Option<i64>,
) -> Result<Option<S>, AuthError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let now = services.clock.now();
    let Some(state) = store::webauthn_ceremonies::take(
        ex,
        &hash(services, id),
        purpose.as_str(),
        session_id,
        now,
    )
    .await?
    else {
        return Ok(None);
    };
    serde_json::from_str(&state)
        .map(Some)
        .map_err(|err| AuthError::internal(format!("cannot read a stored WebAuthn state: {err}")))
}

//! Checking a passkey's answer and recording its use: the counter that must move on (a
//! copy is disabled, and its owner told), for the code prompt and for passwordless
//! sign-in alike.

use crate::auth::guards::ceremonies;
use crate::auth::kernel::error::{AuthError, Field};
use crate::store::tx::Tx;
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PublicKeyCredential, WebauthnError,
};

use crate::auth::guards::ceremonies::Purpose;
use crate::auth::{
    adapters::messages::Notice,
    guards::{
        audit::{self, EventKind},
        notices,
    },
    kernel::client::ClientInfo,
    services::Services,
};
use crate::store::{
    self,
    passkeys::{PasskeyRow, UsedPasskey},
};

/// Why a passkey request was refused before anything was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyInputError {
    #[error("Give the passkey a name, so you can tell it apart later (up to 60 characters).")]
    Name,
    #[error("Your browser's answer could not be read. Try again.")]
    Unreadable,
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AuthError> {
    if json.len() > 64 * 1024 {
        return Err(PasskeyInputError::Unreadable.into());
    }
    serde_json::from_str(json).map_err(|_| PasskeyInputError::Unreadable.into())
}

pub(crate) fn stored(row: &PasskeyRow) -> Result<Passkey, AuthError> {
    serde_json::from_str(&row.passkey)
        .map_err(|err| AuthError::internal(format!("passkey {} is unreadable: {err}", row.id)))
}

pub(crate) fn options_json<T: serde::Serialize>(options: &T) -> Result<String, AuthError> {
    serde_json::to_string(options)
        .map_err(|err| AuthError::internal(format!("cannot write WebAuthn options: {err}")))
}

pub(crate) fn refused(err: WebauthnError) -> AuthError {
    tracing::info!(error = %err, "passkey refused");
    AuthError::PasskeyRefused
}

/// A passkey's answer at the code prompt, as `second_factor::Factor::Passkey` carries it.
#[derive(Debug)]
pub struct Assertion {
    pub ceremony: String,
    pub credential: Box<PublicKeyCredential>,
    /// The pending session the ceremony was begun for.
    pub session_id: i64,
}

impl Assertion {
    pub fn parse(ceremony: &str, credential: &str, session_id: i64) -> Result<Self, AuthError> {
        Ok(Assertion {
            ceremony: ceremony.to_owned(),
            credential: Box::new(parse_json(credential)?),
            session_id,
        })
    }
}

/// Checks a passkey at the code prompt, in the transaction that counted the attempt.
/// Returns the passkey's name, or `None` for any refusal (a passkey that looks copied is
/// disabled by it).
pub(crate) async fn check_second_factor_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    assertion: &Assertion,
    client: &ClientInfo,
) -> Result<Option<String>, AuthError> {
    let rp = services.passkeys.get()?;
    let Some(state) = ceremonies::take_in::<PasskeyAuthentication>(
        &mut **tx,
        services,
        &assertion.ceremony,
        Purpose::SecondFactor,
        Some(assertion.session_id),
    )
    .await?
    else {
        return Ok(None);
    };
    let Some(row) =
        store::passkeys::find_by_credential_id(&mut **tx, assertion.credential.get_credential_id())
            .await?
    else {
        return Ok(None);
    };
    let result = rp.finish_passkey_authentication(&assertion.credential, &state);
    settle_in(tx, services, user_id, &row, result, client).await
}

/// Records a checked assertion of the passkey `row`: the new counter and flags on
/// success. A counter that went backwards disables the passkey. `None` when refused.
pub(crate) async fn settle_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    row: &PasskeyRow,
    result: Result<AuthenticationResult, WebauthnError>,
    client: &ClientInfo,
) -> Result<Option<String>, AuthError> {
    if row.user_id != user_id {
        return Ok(None);
    }
    if row.disabled_at.is_some() {
        tracing::info!(user_id, "a disabled passkey was refused");
        return Ok(None);
    }
    let result = match result {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            disable_in(tx, services, row, client).await?;
            return Ok(None);
        }
        Err(err) => {
            tracing::info!(error = %err, "passkey refused");
            return Ok(None);
        }
    };
    // The ceremony's state holds the counter from when it began; a use since then has
    // moved the stored one, and an answer behind it is a copy's.
    let counter = i64::from(result.counter());
    if (counter > 0 || row.counter > 0) && counter <= row.counter {
        disable_in(tx, services, row, client).await?;
        return Ok(None);
    }
    let mut passkey = stored(row)?;
    passkey.update_credential(&result);
    let record = serde_json::to_string(&passkey)
        .map_err(|err| AuthError::internal(format!("cannot store a passkey: {err}")))?;
    let used = UsedPasskey {
        passkey: &record,
        counter,
        backup_eligible: result.backup_eligible(),
        backup_state: result.backup_state(),
        now: services.clock.now(),
    };
    if !store::passkeys::record_use(&mut **tx, row.id, row.counter, &used).await? {
        return Ok(None);
    }
    audit::record_in(
        &mut **tx,
        services,
        user_id,
        EventKind::PasskeyUsed,
        client,
        &row.name,
    )
    .await?;
    Ok(Some(row.name.clone()))
}

/// Disables a passkey whose counter went backwards, in `tx`: a copy of it exists, and
/// either answer may be the copy's. Its owner is told, once.
async fn disable_in(
    tx: &mut Tx,
    services: &Services,
    row: &PasskeyRow,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    tracing::warn!(
        user_id = row.user_id,
        passkey = row.id,
        "a passkey's signature counter went backwards; it is disabled"
    );
    if !store::passkeys::disable(&mut **tx, row.id, services.clock.now()).await? {
        return Ok(());
    }
    audit::record_in(
        &mut **tx,
        services,
        row.user_id,
        EventKind::PasskeyDisabled,
        client,
        &row.name,
    )
    .await?;
    let notice = Notice::PasskeyDisabled {
        name: row.name.clone(),
    };
    notices::notify_in(tx, services, row.user_id, &notice, client).await
}

/// Removes every passkey of the account, in the transaction that turns 2FA off.
pub(crate) async fn delete_all_in(tx: &mut Tx, user_id: i64) -> Result<(), AuthError> {
    store::passkeys::delete_all(&mut **tx, user_id).await?;
    Ok(())
}

impl From<PasskeyInputError> for AuthError {
    fn from(reason: PasskeyInputError) -> Self {
        AuthError::invalid_input(Field::Passkey, reason)
    }
}

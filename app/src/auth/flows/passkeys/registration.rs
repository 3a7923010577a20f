//! Adding, naming and removing passkeys: each is a factor change.

use crate::auth::capabilities::step_up;
use crate::auth::capabilities::step_up::StepUp;
use crate::auth::flows::passkeys::Challenge;
use crate::auth::guards::account;
use crate::auth::guards::ceremonies;
use crate::auth::guards::passkey_assertion::options_json;
use crate::auth::guards::passkey_assertion::parse_json;
use crate::auth::guards::passkey_assertion::refused;
use crate::auth::guards::passkey_assertion::stored;
use crate::auth::guards::passkey_assertion::PasskeyInputError;
use crate::auth::kernel::metrics;
use crate::store::tx::Tx;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use crate::auth::capabilities::second_factor;
use crate::auth::guards::ceremonies::Purpose;
use crate::auth::{
    capabilities::factor_change::commit_factor_change,
    credentials::recovery_codes::{self, RecoveryCode},
    guards::{
        audit::{self, EventKind},
        sessions::Session,
    },
    kernel::{client::ClientInfo, error::AuthError, tokens},
    services::Services,
};
use crate::store::{self, passkeys::NewPasskey};

/// The longest name a passkey may be given.
pub const MAX_NAME_CHARS: usize = 60;

/// A passkey as its owner sees it in the list.
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub synced: bool,
    /// When it was disabled for a counter that went backwards.
    pub disabled_at: Option<i64>,
}

/// The stable, opaque user handle authenticators store: derived from the account id with
/// the hashing key, so it reveals neither the id nor the email.
pub(crate) fn user_handle(services: &Services, user_id: i64) -> Uuid {
    let digest = tokens::keyed_hash(
        &services.keys.hashing,
        &[b"webauthn-user/", &user_id.to_be_bytes()],
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn parse_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(PasskeyInputError::Name.into());
    }
    Ok(name.to_owned())
}

pub async fn list(services: &Services, user_id: i64) -> Result<Vec<Listed>, AuthError> {
    let rows = store::passkeys::list_for_user(&services.db, user_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| Listed {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            synced: row.backup_state != 0,
            disabled_at: row.disabled_at,
        })
        .collect())
}

/// Options for registering a new passkey for this session's account. The credential is
/// asked to be discoverable where the authenticator can, so it also signs in without a
/// password; ones the account has already are excluded.
pub async fn begin_registration(
    services: &Services,
    session: &Session,
) -> Result<Challenge, AuthError> {
    use webauthn_rs_proto::ResidentKeyRequirement;

    let rp = services.passkeys.get()?;
    account::require_verified_address(&services.db, session.user_id).await?;
    let existing = store::passkeys::list_for_user(&services.db, session.user_id).await?;
    let exclude = existing
        .iter()
        .map(|row| stored(row).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut options, state) = rp
        .start_passkey_registration(
            user_handle(services, session.user_id),
            &session.email,
            &session.email,
            Some(exclude),
        )
        .map_err(AuthError::internal)?;
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    let ceremony = ceremonies::put(services, Purpose::Register, Some(session.id), &state).await?;
    Ok(Challenge {
        ceremony,
        options: options_json(&options)?,
    })
}

/// The browser's answer to a registration ceremony, with the name the person chose.
pub struct NewCredential<'a> {
    pub ceremony: &'a str,
    pub name: &'a str,
    pub credential: &'a str,
}

/// Registers the browser's new credential after the password (and a code when 2FA is
/// on), in one commit with the factor change. Returns the recovery codes when this passkey
/// turned two-factor authentication on.
pub async fn finish_registration(
    services: &Services,
    session: &Session,
    answer: NewCredential<'_>,
    confirmation: StepUp,
    client: &ClientInfo,
) -> Result<Option<Vec<RecoveryCode>>, AuthError> {
    let name = parse_name(answer.name)?;
    let credential: RegisterPublicKeyCredential = parse_json(answer.credential)?;
    let rp = services.passkeys.get()?;
    step_up::confirm_identity(services, session, confirmation.password, client).await?;
    let checked = second_factor::is_enabled(services, session.user_id).await?;
    let mut tx =
        step_up::second_factor_if_on(services, session, &confirmation.code, client).await?;
    store::users::lock(&mut *tx, session.user_id).await?;
    // Checked when the ceremony began, and again where the passkey is added.
    account::require_verified_address(&mut *tx, session.user_id).await?;
    let state: PasskeyRegistration = ceremonies::take_in(
        &mut *tx,
        services,
        answer.ceremony,
        Purpose::Register,
        Some(session.id),
    )
    .await?
    .ok_or(AuthError::CeremonyExpired)?;
    let passkey = rp
        .finish_passkey_registration(&credential, &state)
        .map_err(refused)?;
    let was_on = store::users::has_second_factor(&mut *tx, session.user_id).await?;
    // Turned on meanwhile, so no code was asked: refuse rather than skip it.
    if was_on && !checked {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    insert_in(&mut tx, services, session.user_id, &name, &passkey).await?;
    if was_on {
        commit_factor_change(
            tx,
            services,
            session,
            EventKind::PasskeyAdded,
            &name,
            client,
        )
        .await?;
        return Ok(None);
    }
    turn_on_in(tx, services, session, &name, client)
        .await
        .map(Some)
}

/// Stores the registered passkey in `tx`; one registered already is refused.
async fn insert_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    name: &str,
    passkey: &Passkey,
) -> Result<(), AuthError> {
    let record = serde_json::to_string(passkey)
        .map_err(|err| AuthError::internal(format!("cannot store a passkey: {err}")))?;
    let backed_up = serde_json::to_value(passkey)
        .ok()
        .and_then(|v| v["cred"]["backup_state"].as_bool())
        .unwrap_or(false);
    let inserted = store::passkeys::insert(
        &mut **tx,
        NewPasskey {
            user_id,
            credential_id: passkey.cred_id(),
            name,
            passkey: &record,
            counter: 0,
            backup_eligible: backed_up,
            backup_state: backed_up,
            now: services.clock.now(),
        },
    )
    .await;
    match inserted {
        Err(err) if store::is_unique_violation(&err) => Err(AuthError::PasskeyAlreadyRegistered),
        other => other.map(drop).map_err(AuthError::from),
    }
}

/// The account's first second factor: two-factor authentication turns on with a new set
/// of recovery codes, in the commit that added the passkey `name`.
async fn turn_on_in(
    mut tx: Tx,
    services: &Services,
    session: &Session,
    name: &str,
    client: &ClientInfo,
) -> Result<Vec<RecoveryCode>, AuthError> {
    audit::record_in(
        &mut *tx,
        services,
        session.user_id,
        EventKind::PasskeyAdded,
        client,
        name,
    )
    .await?;
    let codes = recovery_codes::generate_set(&mut services.rng());
    let hashes = second_factor::hash_all(services, &codes);
    store::recovery_codes::replace_all(&mut tx, session.user_id, &hashes).await?;
    commit_factor_change(
        tx,
        services,
        session,
        EventKind::TwoFactorEnabled,
        "",
        client,
    )
    .await?;
    metrics::two_factor_change(metrics::Change::Enabled);
    Ok(codes)
}

pub async fn rename(
    services: &Services,
    session: &Session,
    id: i64,
    name: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let name = parse_name(name)?;
    if !store::passkeys::rename(&services.db, session.user_id, id, &name).await? {
        return Err(AuthError::PasskeyNotFound);
    }
    audit::record(
        services,
        session.user_id,
        EventKind::PasskeyRenamed,
        client,
        &name,
    )
    .await
}

/// Removes a passkey after the password and a code (or recovery code). Removing the last
/// second factor turns two-factor authentication off, unless policy requires it.
pub async fn remove(
    services: &Services,
    session: &Session,
    id: i64,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    step_up::confirm_identity(services, session, password, client).await?;
    let mut tx = step_up::second_factor_if_on(services, session, code, client).await?;
    store::users::lock(&mut *tx, session.user_id).await?;
    let name = store::passkeys::delete(&mut *tx, session.user_id, id)
        .await?
        .ok_or(AuthError::PasskeyNotFound)?;
    if store::users::has_second_factor(&mut *tx, session.user_id).await? {
        return commit_factor_change(
            tx,
            services,
            session,
            EventKind::PasskeyRemoved,
            &name,
            client,
        )
        .await;
    }
    if session.two_factor_required {
        return Err(AuthError::TwoFactorRequired);
    }
    audit::record_in(
        &mut *tx,
        services,
        session.user_id,
        EventKind::PasskeyRemoved,
        client,
        &name,
    )
    .await?;
    store::recovery_codes::delete_all(&mut *tx, session.user_id).await?;
    commit_factor_change(
        tx,
        services,
        session,
        EventKind::TwoFactorDisabled,
        "",
        client,
    )
    .await?;
    crate::auth::kernel::metrics::two_factor_change(crate::auth::kernel::metrics::Change::Disabled);
    Ok(())
}

//! Passkeys and security keys (WebAuthn): as a second factor after the password, and as a
//! passwordless sign-in that counts as both factors.
//!
//! A registered passkey turns two-factor authentication on, with recovery codes, as the
//! authenticator app does; removing the last second factor turns it off. Every change is a
//! factor change (see `two_factor::commit_factor_change`). The relying party is the public
//! URL's host, so passkeys need Gatehouse to be reached by a name, never an IP address.

pub mod ceremonies;

use crate::store::Tx;
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::auth::{
    accounts,
    audit::{self, EventKind},
    error::AuthError,
    notices::{self, Notice},
    recovery_codes::{self, RecoveryCode},
    sessions::{Checked, Session},
    throttle, tokens,
    two_factor::{self, commit_factor_change},
    ClientInfo, Services,
};
use crate::{
    redirect::PublicUrl,
    store::{
        self,
        passkeys::{NewPasskey, PasskeyRow, UsedPasskey},
    },
};
use ceremonies::Purpose;

/// The longest name a passkey may be given.
pub const MAX_NAME_CHARS: usize = 60;

/// Why a passkey request was refused before anything was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyInputError {
    #[error("Give the passkey a name, so you can tell it apart later (up to 60 characters).")]
    Name,
    #[error("Your browser's answer could not be read. Try again.")]
    Unreadable,
}

/// The relying party Gatehouse is to authenticators, or `None` where passkeys cannot work.
#[derive(Debug, Clone, Default)]
pub struct RelyingParty(Option<Webauthn>);

impl RelyingParty {
    /// The public URL's host is the RP ID and its origin the only one accepted. Browsers
    /// refuse IP addresses as RP IDs, so an IP-addressed Gatehouse has no passkeys.
    pub fn for_public_url(public_url: &PublicUrl, name: &str) -> Self {
        let url = public_url.as_url();
        let built = url.domain().and_then(|host| {
            WebauthnBuilder::new(host, url)
                .and_then(|builder| builder.rp_name(name).build())
                .ok()
        });
        RelyingParty(built)
    }

    pub fn available(&self) -> bool {
        self.0.is_some()
    }

    fn get(&self) -> Result<&Webauthn, AuthError> {
        self.0.as_ref().ok_or(AuthError::PasskeysUnavailable)
    }
}

/// What the browser needs for `navigator.credentials`: the ceremony's id and its options.
pub struct Challenge {
    pub ceremony: String,
    /// The WebAuthn options as JSON, for the browser's `parse…OptionsFromJSON`.
    pub options: String,
}

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
fn user_handle(services: &Services, user_id: i64) -> Uuid {
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

fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AuthError> {
    if json.len() > 64 * 1024 {
        return Err(PasskeyInputError::Unreadable.into());
    }
    serde_json::from_str(json).map_err(|_| PasskeyInputError::Unreadable.into())
}

fn stored(row: &PasskeyRow) -> Result<Passkey, AuthError> {
    serde_json::from_str(&row.passkey)
        .map_err(|err| AuthError::internal(format!("passkey {} is unreadable: {err}", row.id)))
}

fn options_json<T: serde::Serialize>(options: &T) -> Result<String, AuthError> {
    serde_json::to_string(options)
        .map_err(|err| AuthError::internal(format!("cannot write WebAuthn options: {err}")))
}

fn refused(err: WebauthnError) -> AuthError {
    tracing::info!(error = %err, "passkey refused");
    AuthError::PasskeyRefused
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
    accounts::require_verified_address(&services.db, session.user_id).await?;
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

/// Registers the browser's new credential after the password (and a code when 2FA is
/// on), in one commit with the factor change. Returns the recovery codes when this passkey
/// turned two-factor authentication on.
#[allow(clippy::too_many_arguments)]
pub async fn finish_registration(
    services: &Services,
    session: &Session,
    ceremony: &str,
    name: &str,
    credential: &str,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<Option<Vec<RecoveryCode>>, AuthError> {
    let name = parse_name(name)?;
    let credential: RegisterPublicKeyCredential = parse_json(credential)?;
    let rp = services.passkeys.get()?;
    accounts::confirm_identity(services, session, password, client).await?;
    let checked = two_factor::is_enabled(services, session.user_id).await?;
    let mut tx = accounts::second_factor_if_on(services, session, code, client).await?;
    store::users::lock(&mut *tx, session.user_id).await?;
    // Checked when the ceremony began, and again where the passkey is added.
    accounts::require_verified_address(&mut *tx, session.user_id).await?;
    let state: PasskeyRegistration = ceremonies::take_in(
        &mut *tx,
        services,
        ceremony,
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
    let record = serde_json::to_string(&passkey)
        .map_err(|err| AuthError::internal(format!("cannot store a passkey: {err}")))?;
    let backed_up = serde_json::to_value(&passkey)
        .ok()
        .and_then(|v| v["cred"]["backup_state"].as_bool())
        .unwrap_or(false);
    let inserted = store::passkeys::insert(
        &mut *tx,
        NewPasskey {
            user_id: session.user_id,
            credential_id: passkey.cred_id(),
            name: &name,
            passkey: &record,
            counter: 0,
            backup_eligible: backed_up,
            backup_state: backed_up,
            now: services.clock.now(),
        },
    )
    .await;
    match inserted {
        Err(err) if store::is_unique_violation(&err) => {
            return Err(AuthError::PasskeyAlreadyRegistered)
        }
        other => other?,
    };
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
    audit::record_in(
        &mut *tx,
        services,
        session.user_id,
        EventKind::PasskeyAdded,
        client,
        &name,
    )
    .await?;
    let codes = recovery_codes::generate_set(&mut services.rng());
    let hashes = two_factor::hash_all(services, &codes);
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
    crate::auth::metrics::two_factor_change(crate::auth::metrics::Change::Enabled);
    Ok(Some(codes))
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
    accounts::confirm_identity(services, session, password, client).await?;
    let mut tx = accounts::second_factor_if_on(services, session, code, client).await?;
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
    crate::auth::metrics::two_factor_change(crate::auth::metrics::Change::Disabled);
    Ok(())
}

/// Options for the code prompt's "Use your passkey": the account's own credentials that
/// are not disabled.
pub async fn begin_second_factor(
    services: &Services,
    session: &Session,
) -> Result<Challenge, AuthError> {
    let rp = services.passkeys.get()?;
    let rows = store::passkeys::list_for_user(&services.db, session.user_id).await?;
    let passkeys = rows
        .iter()
        .filter(|row| row.disabled_at.is_none())
        .map(stored)
        .collect::<Result<Vec<_>, _>>()?;
    if passkeys.is_empty() {
        return Err(AuthError::PasskeyNotFound);
    }
    let (options, state) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(AuthError::internal)?;
    let ceremony =
        ceremonies::put(services, Purpose::SecondFactor, Some(session.id), &state).await?;
    Ok(Challenge {
        ceremony,
        options: options_json(&options)?,
    })
}

/// A passkey's answer at the code prompt, as `two_factor::Factor::Passkey` carries it.
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
async fn settle_in(
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

/// Options for "Sign in with a passkey": any discoverable credential for this site. Each
/// is a row anyone may cause, so every one counts against the client's address.
pub async fn begin_sign_in(
    services: &Services,
    client: &ClientInfo,
) -> Result<Challenge, AuthError> {
    let rp = services.passkeys.get()?;
    let counted = throttle::reserve(
        services,
        throttle::address_key("passkey-begin", &client.ip),
        throttle::REQUESTS_BEGUN_PER_IP,
    )
    .await?;
    throttle::stands(services, &counted).await?;
    let (mut options, state) = rp
        .start_discoverable_authentication()
        .map_err(AuthError::internal)?;
    // The page decides between the button's dialog and the email field's autofill.
    options.mediation = None;
    let ceremony = ceremonies::put(services, Purpose::SignIn, None, &state).await?;
    Ok(Challenge {
        ceremony,
        options: options_json(&options)?,
    })
}

/// Checks a passwordless sign-in and returns the account it proves, both factors at once.
/// The attempt counts against the client's address, and then against the account's own
/// passwordless limit, before the signature is checked. That limit is not the second
/// factor's: the credential id and user handle it needs are not secret, so failures
/// here must not lock the password's way in, nor tell the owner that someone knew the
/// password. A lock of the second factor still pauses this way in too.
/// The account's epoch is read after its passkey was found and before the passkey's use
/// is recorded, which fails if the passkey went meanwhile; a removal after that read
/// moves the epoch, which refuses the session.
pub async fn finish_sign_in(
    services: &Services,
    ceremony: &str,
    credential: &str,
    client: &ClientInfo,
) -> Result<Checked, AuthError> {
    let credential: PublicKeyCredential = parse_json(credential)?;
    let rp = services.passkeys.get()?;
    let mut tx = Tx::begin(&services.db).await?;
    let address = throttle::reserve_in(
        &mut *tx,
        services,
        throttle::address_key("passkey", &client.ip),
        throttle::PASSWORD_PER_IP,
    )
    .await;
    let address = match address {
        Ok(address) => address,
        Err(refused) => {
            tx.commit().await?;
            return Err(refused);
        }
    };
    let state = ceremonies::take_in(&mut *tx, services, ceremony, Purpose::SignIn, None).await?;
    let owner = match (state, rp.identify_discoverable_authentication(&credential)) {
        (Some(state), Ok((handle, credential_id))) => {
            match store::passkeys::find_by_credential_id(&mut *tx, credential_id).await? {
                Some(row) if user_handle(services, row.user_id) == handle => Some((state, row)),
                _ => None,
            }
        }
        _ => None,
    };
    let Some((state, row)) = owner else {
        tx.commit().await?;
        return refuse_address(services, address, AuthError::PasskeyRefused).await;
    };
    let Some(credentials_epoch) = store::users::credentials_epoch(&mut *tx, row.user_id).await?
    else {
        return Err(AuthError::PasskeyRefused);
    };
    let second_factor = throttle::second_factor_key(row.user_id);
    if let Some(retry_after_secs) =
        throttle::locked_for_in(&mut *tx, services, &second_factor).await?
    {
        throttle::release_in(&mut *tx, address).await?;
        tx.commit().await?;
        return Err(AuthError::SecondFactorLocked { retry_after_secs });
    }
    let attempt = match throttle::reserve_in(
        &mut *tx,
        services,
        throttle::passwordless_key(row.user_id),
        throttle::PASSWORDLESS_PER_ACCOUNT,
    )
    .await
    {
        Ok(attempt) => attempt,
        // Locked: nothing is checked, so the address is not charged either.
        Err(refused) => {
            throttle::release_in(&mut *tx, address).await?;
            tx.commit().await?;
            return Err(refused);
        }
    };
    let passkey = stored(&row)?;
    let result = rp.finish_discoverable_authentication_v2(&credential, state, &passkey);
    if settle_in(&mut tx, services, row.user_id, &row, result, client)
        .await?
        .is_none()
    {
        let refusal =
            passwordless_failed_in(&mut tx, services, row.user_id, client, attempt).await?;
        tx.commit().await?;
        return refuse_address(services, address, refusal).await;
    }
    throttle::succeeded_in(&mut *tx, attempt).await?;
    throttle::release_in(&mut *tx, address).await?;
    tx.commit().await?;
    Ok(Checked {
        user_id: row.user_id,
        credentials_epoch,
    })
}

/// A refused passwordless sign-in, committed: its attempt stands on the address, whose
/// lock it starts when it filled the limit (the next attempt is told, as with passwords).
async fn refuse_address<T>(
    services: &Services,
    address: throttle::Reservation,
    refusal: AuthError,
) -> Result<T, AuthError> {
    throttle::stands(services, &address).await?;
    Err(refusal)
}

/// A passwordless answer for a known credential that did not check out, already counted
/// in `tx` against the account's passwordless limit: logged there, and answered with the
/// lock when it started one. No notice: the owner has nothing to do about a signature
/// nobody could forge.
async fn passwordless_failed_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    attempt: throttle::Reservation,
) -> Result<AuthError, AuthError> {
    let locked = throttle::stands(services, &attempt).await?;
    audit::record_in(
        &mut **tx,
        services,
        user_id,
        EventKind::SignInFailed,
        client,
        "passkey",
    )
    .await?;
    let Some(retry_after_secs) = locked else {
        return Ok(AuthError::PasskeyRefused);
    };
    audit::record_lock_in(
        &mut **tx,
        services,
        user_id,
        client,
        "passkey sign-in",
        retry_after_secs,
    )
    .await?;
    Ok(AuthError::Throttled { retry_after_secs })
}

/// Removes every passkey of the account, in the transaction that turns 2FA off.
pub(crate) async fn delete_all_in(tx: &mut Tx, user_id: i64) -> Result<(), AuthError> {
    store::passkeys::delete_all(&mut **tx, user_id).await?;
    Ok(())
}

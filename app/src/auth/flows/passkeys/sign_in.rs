//! Signing in with a passkey: as the second factor at the code prompt, and passwordless,
//! where it counts as both factors.

use crate::auth::flows::passkeys::registration::user_handle;
use crate::auth::flows::passkeys::Challenge;
use crate::auth::guards::ceremonies;
use crate::auth::guards::passkey_assertion::options_json;
use crate::auth::guards::passkey_assertion::parse_json;
use crate::auth::guards::passkey_assertion::settle_in;
use crate::auth::guards::passkey_assertion::stored;
use crate::store::tx::Tx;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::auth::guards::ceremonies::Purpose;
use crate::auth::{
    guards::{
        audit::{self, EventKind},
        sessions::{Checked, Session},
        throttle,
    },
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store;

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
    let attempt = match reserve_for_account(&mut tx, services, row.user_id).await? {
        Ok(attempt) => attempt,
        // Nothing is checked, so the address is not charged either.
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

/// The account's own limits on this way in, counted in `tx`: a locked second factor
/// pauses it too, and the attempt counts against the passwordless limit. The inner `Err`
/// is a refusal, for the caller to commit.
async fn reserve_for_account(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
) -> Result<Result<throttle::Reservation, AuthError>, AuthError> {
    let second_factor = throttle::second_factor_key(user_id);
    if let Some(retry_after_secs) =
        throttle::locked_for_in(&mut **tx, services, &second_factor).await?
    {
        return Ok(Err(AuthError::SecondFactorLocked { retry_after_secs }));
    }
    Ok(throttle::reserve_in(
        &mut **tx,
        services,
        throttle::passwordless_key(user_id),
        throttle::PASSWORDLESS_PER_ACCOUNT,
    )
    .await)
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

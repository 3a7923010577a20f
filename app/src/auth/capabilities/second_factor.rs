//! The second factor: what a person types or answers at the code prompt and before a
//! change, and how it is accepted (counted first, claimed once, locked after too many).

use crate::auth::guards::passkey_assertion;
use crate::auth::kernel::error::{AuthError, Field};

use crate::auth::{
    adapters::messages::Notice,
    credentials::{
        recovery_codes::{self, RecoveryCode},
        totp::{self, TotpCode, TotpSecret},
    },
    guards::{
        audit::{self, EventKind},
        notices, throttle,
    },
    kernel::{client::ClientInfo, metrics},
    services::Services,
};
use crate::store::{self, totp::CredentialRow, tx::Tx};

/// Why a typed second factor was refused, in words for the person who typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactorError {
    #[error("Enter the 6-digit code from your authenticator app, or a recovery code.")]
    Empty,
    /// Digits only, so meant as an app code.
    #[error(transparent)]
    Totp(#[from] totp::TotpCodeError),
    #[error(
        "Enter the 6-digit code from your authenticator app, or a recovery code (24 letters and digits)."
    )]
    NotACode,
}

/// A second factor: the app's 6-digit code or a recovery code as typed, or a passkey's
/// answer.
#[derive(Debug)]
pub enum Factor {
    Totp(TotpCode),
    Recovery(RecoveryCode),
    Passkey(passkey_assertion::Assertion),
}

impl Factor {
    /// Six digits (spaces and dashes aside) are an app code; anything else must be a
    /// recovery code. The errors say what was expected.
    pub fn parse(input: &str) -> Result<Self, FactorError> {
        let compact = crate::shared::codes::compact(input);
        if compact.is_empty() {
            return Err(FactorError::Empty);
        }
        if compact.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Factor::Totp(TotpCode::parse(&compact)?));
        }
        RecoveryCode::parse(input)
            .map(Factor::Recovery)
            .map_err(|_| FactorError::NotACode)
    }
}

/// How a second factor was proven.
pub enum Proof {
    Totp,
    RecoveryCode { left: i64 },
    Passkey { name: String },
}

/// True when the account has a second factor: an authenticator app or a passkey.
pub async fn is_enabled(services: &Services, user_id: i64) -> Result<bool, AuthError> {
    Ok(store::users::has_second_factor(&mut *services.reads.connection()?, user_id).await?)
}

/// How long the account's second step stays locked, if it is.
pub async fn locked_for(services: &Services, user_id: i64) -> Result<Option<u64>, AuthError> {
    throttle::locked_for(services, &throttle::second_factor_key(user_id)).await
}

pub(crate) fn hash_all(services: &Services, codes: &[RecoveryCode]) -> Vec<Vec<u8>> {
    codes
        .iter()
        .map(|c| recovery_codes::hash(&services.keys.hashing, c))
        .collect()
}

/// A factor that checked out, with its claim held in an open transaction: whatever the
/// caller adds to [`Accepted::tx`] commits with it, as one write.
pub struct Accepted {
    pub(crate) tx: Tx,
}

impl Accepted {
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The open transaction, for a change that commits with the claim.
    pub fn into_tx(self) -> Tx {
        self.tx
    }
}

/// Checks a second factor for an account with 2FA on. The attempt is counted against
/// the account before anything is checked, and given back only on success. A TOTP code
/// is accepted once: its time step is claimed atomically. A recovery code is spent
/// atomically.
///
/// The claim is left uncommitted in [`Accepted`] for the caller's own writes; a refusal
/// is committed with what it counted.
///
/// The account is locked before anything is read, so a request that waited here for a
/// factor change (a double submit of a disable) sees it, and is told 2FA is off rather
/// than counted as a wrong code.
pub async fn accept(
    services: &Services,
    user_id: i64,
    factor: &Factor,
    client: &ClientInfo,
) -> Result<Accepted, AuthError> {
    let mut tx = Tx::begin(&services.db).await?;
    store::users::lock(&mut *tx, user_id).await?;
    accept_in(tx, services, user_id, factor, client).await
}

/// [`accept`] in `tx`, which holds the account's lock already.
pub(crate) async fn accept_in(
    mut tx: Tx,
    services: &Services,
    user_id: i64,
    factor: &Factor,
    client: &ClientInfo,
) -> Result<Accepted, AuthError> {
    let app = store::totp::find(&mut *tx, user_id).await?;
    if app.is_none() && store::passkeys::count_for_user(&mut *tx, user_id).await? == 0 {
        return Err(AuthError::TwoFactorAlreadyOff);
    }
    let credential = app.filter(|_| matches!(factor, Factor::Totp(_)));
    match check_in(&mut tx, services, user_id, factor, credential, client).await? {
        Ok(_) => Ok(Accepted { tx }),
        Err(refusal) => {
            tx.commit().await?;
            Err(refusal)
        }
    }
}

/// [`accept`] in the caller's transaction, which may hold a write of its own (the code
/// prompt's attempt). The account's attempt is counted first, in the same transaction,
/// and its row stays locked until the outcome commits, so a concurrent attempt waits
/// for it. The outer `Err` is a failure to roll back; the inner one a refusal, counted
/// and logged in `tx`, to be committed.
pub(crate) async fn check_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    factor: &Factor,
    credential: Option<CredentialRow>,
    client: &ClientInfo,
) -> Result<Result<Proof, AuthError>, AuthError> {
    let key = throttle::second_factor_key(user_id);
    let attempt =
        match throttle::reserve_in(&mut **tx, services, key, throttle::SECOND_FACTOR).await {
            Ok(attempt) => attempt,
            Err(refused @ AuthError::Throttled { .. }) => return Ok(Err(refused)),
            Err(err) => return Err(err),
        };
    let now = services.clock.now();
    let proof = match factor {
        Factor::Totp(code) => {
            let step = match &credential {
                Some(credential) => {
                    let secret = open(services, user_id, &credential.sealed_secret)?;
                    totp::verify(&secret, code, now, credential.last_used_step)
                        .ok()
                        .map(|step| (step, &credential.sealed_secret))
                }
                None => None,
            };
            match step {
                Some((step, secret))
                    if store::totp::claim_step(&mut **tx, user_id, step, secret).await? =>
                {
                    Some(Proof::Totp)
                }
                _ => None,
            }
        }
        Factor::Recovery(code) => {
            let hash = recovery_codes::hash(&services.keys.hashing, code);
            if store::recovery_codes::consume(&mut **tx, user_id, &hash, now).await? {
                let (left, _) = store::recovery_codes::summary(&mut **tx, user_id).await?;
                let detail = format!("{left} left");
                audit::record_in(
                    &mut **tx,
                    services,
                    user_id,
                    EventKind::RecoveryCodeUsed,
                    client,
                    &detail,
                )
                .await?;
                notices::notify_in(
                    tx,
                    services,
                    user_id,
                    &Notice::RecoveryCodeUsed { left },
                    client,
                )
                .await?;
                Some(Proof::RecoveryCode { left })
            } else {
                None
            }
        }
        Factor::Passkey(assertion) => {
            passkey_assertion::check_second_factor_in(tx, services, user_id, assertion, client)
                .await?
                .map(|name| Proof::Passkey { name })
        }
    };
    let Some(proof) = proof else {
        return second_factor_failed_in(tx, services, user_id, client, "", attempt)
            .await
            .map(Err);
    };
    throttle::succeeded_in(&mut **tx, attempt).await?;
    Ok(Ok(proof))
}

/// The authenticator app's credential, when `factor` is an app code, read in `tx`.
pub(crate) async fn app_credential_in(
    tx: &mut Tx,
    user_id: i64,
    factor: &Factor,
) -> Result<Option<CredentialRow>, AuthError> {
    Ok(match factor {
        Factor::Totp(_) => store::totp::find(&mut **tx, user_id).await?,
        Factor::Recovery(_) | Factor::Passkey(_) => None,
    })
}

/// A wrong second factor, already counted in `tx`: it is logged there, and the failure
/// that started a lock is answered with the lock. Returns the refusal, to be committed
/// with `tx`.
pub(crate) async fn second_factor_failed_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    detail: &str,
    reservation: throttle::Reservation,
) -> Result<AuthError, AuthError> {
    metrics::second_factor_failure();
    let locked = throttle::stands(services, &reservation).await?;
    audit::record_in(
        &mut **tx,
        services,
        user_id,
        EventKind::SecondFactorFailed,
        client,
        detail,
    )
    .await?;
    let Some(retry_after_secs) = locked else {
        return Ok(AuthError::InvalidCode);
    };
    audit::record_lock_in(
        &mut **tx,
        services,
        user_id,
        client,
        "second factor",
        retry_after_secs,
    )
    .await?;
    let notice = Notice::SecondFactorLocked {
        minutes: retry_after_secs.div_ceil(60),
    };
    notices::notify_in(tx, services, user_id, &notice, client).await?;
    Ok(AuthError::Throttled { retry_after_secs })
}

pub(crate) fn seal(
    services: &Services,
    user_id: i64,
    secret: &TotpSecret,
) -> Result<Vec<u8>, AuthError> {
    services
        .keys
        .sealing
        .seal(user_id, secret.as_bytes(), &mut services.rng())
        .map_err(|err| AuthError::internal(format!("cannot seal a TOTP secret: {err}")))
}

pub(crate) fn open(
    services: &Services,
    user_id: i64,
    sealed: &[u8],
) -> Result<TotpSecret, AuthError> {
    let bytes = services.keys.sealing.open(user_id, sealed).map_err(|err| {
        AuthError::internal(format!(
            "cannot open the sealed TOTP secret of user {user_id}: is this the right server key? {err}"
        ))
    })?;
    TotpSecret::from_bytes(bytes).map_err(AuthError::internal)
}

impl From<FactorError> for AuthError {
    fn from(reason: FactorError) -> Self {
        AuthError::invalid_input(Field::Code, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_an_app_code() {
        assert!(matches!(
            Factor::parse(" 123 456 ").unwrap(),
            Factor::Totp(_)
        ));
        assert!(matches!(Factor::parse("123-456").unwrap(), Factor::Totp(_)));
    }

    #[test]
    fn wrong_digit_counts_say_so() {
        for bad in ["12345", "1234567"] {
            assert!(
                Factor::parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("6 digits"),
                "{bad}"
            );
        }
    }

    #[test]
    fn recovery_codes_are_recognised_in_any_case() {
        let code = recovery_codes::generate_set(&mut crate::auth::kernel::random::Draw::from(
            &crate::auth::kernel::random::OsEntropy,
        ))
        .remove(0)
        .display();
        assert!(matches!(
            Factor::parse(&code.to_lowercase()).unwrap(),
            Factor::Recovery(_)
        ));
    }

    #[test]
    fn letters_that_are_no_code_are_refused() {
        assert!(Factor::parse("12a456")
            .unwrap_err()
            .to_string()
            .contains("recovery code"));
        assert!(Factor::parse("").is_err());
    }
}

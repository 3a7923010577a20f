//! Two-factor authentication: enrolling an authenticator app, checking its codes and the
//! recovery codes, and turning it off.
//!
//! Every change needs the password and a current code. The pending secret lives on the
//! server, bound to the session that asked for it, so the browser never sends one back.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{
    accounts,
    audit::{self, EventKind},
    error::AuthError,
    metrics::{self, Change},
    notices::{self, Notice},
    passkeys,
    random::os_rng,
    recovery_codes::{self, RecoveryCode},
    remembered_devices::{self, DeviceToken},
    sessions::{self, Session},
    throttle,
    totp::{self, TotpCode, TotpSecret},
    ClientInfo, Services,
};
use crate::store::{self, totp::CredentialRow, Tx};

/// A pending secret must be confirmed within 10 minutes.
pub const ENROLLMENT_TTL_SECS: i64 = 10 * 60;

/// What the enable dialog shows: the same secret as a QR code and as text.
pub struct Enrollment {
    pub qr_svg: String,
    pub key: String,
    pub expires_at: i64,
    /// Two-factor authentication is on: the secret is for switching to a new app.
    pub switching: bool,
    /// A second factor (a passkey) protects the account already.
    pub protected: bool,
}

pub struct Status {
    /// When the first second factor still in place was added.
    pub enabled_at: Option<i64>,
    /// An authenticator app is set up.
    pub app: bool,
    /// How many passkeys and security keys can be used (disabled ones cannot).
    pub passkeys: usize,
    pub codes_left: i64,
    pub any_code_used: bool,
}

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
    Passkey(passkeys::Assertion),
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

pub async fn status(services: &Services, user_id: i64) -> Result<Status, AuthError> {
    let credential = store::totp::find(&services.db, user_id).await?;
    let keys = store::passkeys::list_for_user(&services.db, user_id).await?;
    let (codes_left, any_code_used) = store::recovery_codes::summary(&services.db, user_id).await?;
    let enabled_at = credential
        .as_ref()
        .map(|c| c.enabled_at)
        .into_iter()
        .chain(keys.iter().map(|k| k.created_at))
        .min();
    Ok(Status {
        enabled_at,
        app: credential.is_some(),
        passkeys: keys.iter().filter(|k| k.disabled_at.is_none()).count(),
        codes_left,
        any_code_used,
    })
}

/// True when the account has a second factor: an authenticator app or a passkey.
pub async fn is_enabled(services: &Services, user_id: i64) -> Result<bool, AuthError> {
    Ok(store::users::has_second_factor(&mut *services.reads.connection()?, user_id).await?)
}

async fn has_app(services: &Services, user_id: i64) -> Result<bool, AuthError> {
    Ok(store::totp::find(&services.db, user_id).await?.is_some())
}

/// Whether the account's app was installed at `since` or later.
async fn app_enabled_since(
    services: &Services,
    user_id: i64,
    since: i64,
) -> Result<bool, AuthError> {
    let app = store::totp::find(&services.db, user_id).await?;
    Ok(app.is_some_and(|app| app.enabled_at >= since))
}

/// How long the account's second step stays locked, if it is.
pub async fn locked_for(services: &Services, user_id: i64) -> Result<Option<u64>, AuthError> {
    throttle::locked_for(services, &throttle::second_factor_key(user_id)).await
}

/// Creates a new pending secret for this session, replacing any earlier one.
pub async fn begin_enrollment(
    services: &Services,
    session: &Session,
) -> Result<Enrollment, AuthError> {
    // An account that may not turn it off switches phones in one step instead.
    if has_app(services, session.user_id).await? && !session.two_factor_required {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    accounts::require_verified_address(&services.db, session.user_id).await?;
    let secret = TotpSecret::generate(&mut os_rng());
    let sealed = seal(services, session.user_id, &secret)?;
    let expires_at = services.clock.now() + ENROLLMENT_TTL_SECS;
    store::totp::put_enrollment(&services.db, session.id, &sealed, expires_at).await?;
    enrollment_view(services, session, &secret, expires_at).await
}

/// The session's pending secret, if it has one that has not expired.
pub async fn pending_enrollment(
    services: &Services,
    session: &Session,
) -> Result<Option<Enrollment>, AuthError> {
    let now = services.clock.now();
    let Some((sealed, expires_at)) =
        store::totp::find_enrollment(&services.db, session.id, now).await?
    else {
        return Ok(None);
    };
    let secret = open(services, session.user_id, &sealed)?;
    enrollment_view(services, session, &secret, expires_at)
        .await
        .map(Some)
}

async fn enrollment_view(
    services: &Services,
    session: &Session,
    secret: &TotpSecret,
    expires_at: i64,
) -> Result<Enrollment, AuthError> {
    let uri = totp::otpauth_uri(secret, &services.config.issuer, &session.email)
        .map_err(|err| AuthError::internal(format!("cannot build the otpauth URI: {err}")))?;
    Ok(Enrollment {
        qr_svg: qr_svg(&uri)?,
        key: secret.grouped_base32(),
        expires_at,
        switching: has_app(services, session.user_id).await?,
        protected: is_enabled(services, session.user_id).await?,
    })
}

/// The QR code as inline SVG, drawn on the server so the browser needs no library.
fn qr_svg(uri: &str) -> Result<String, AuthError> {
    use qrcode::{render::svg, EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|err| AuthError::internal(format!("cannot encode the QR code: {err}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#111111"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// Confirms the pending secret with a code from the app and the password, turns 2FA on,
/// and returns the recovery codes, which are never shown again. An account already
/// protected by a passkey adds the app only with a current factor (`current`: a recovery
/// code, spent in the same commit), as every other change of a factor asks.
pub async fn enable(
    services: &Services,
    session: &Session,
    code: &str,
    password: String,
    current: Option<&str>,
    client: &ClientInfo,
) -> Result<Vec<RecoveryCode>, AuthError> {
    let started = services.clock.now();
    let code = TotpCode::parse(code)?;
    let current = current.map(Factor::parse).transpose()?;
    accounts::confirm_identity(services, session, password, client).await?;
    if has_app(services, session.user_id).await? {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    // With no app just now, only a passkey protects the account. Asking `is_enabled`
    // here would also see an app that a double submit installed in between, and ask
    // this request for a factor instead of saying 2FA is on.
    let protected = store::passkeys::count_for_user(&services.db, session.user_id).await? > 0;
    if protected && current.is_none() {
        return Err(FactorError::Empty.into());
    }
    super::fail_points::hold("enable.before_new_app_check").await;
    let new_app =
        check_new_app(services, session, &code, started, "while enabling", client).await?;

    let codes = recovery_codes::generate_set(&mut os_rng());
    let hashes = hash_all(services, &codes);
    let (tx, new_app) = new_app.begin(services, session).await?;
    let mut tx = match (&current, protected) {
        (Some(current), true) => accept_in(tx, services, session.user_id, current, client)
            .await?
            .into_tx(),
        _ => tx,
    };
    // A passkey added meanwhile, with no factor checked here: refuse, as if it were seen.
    if !protected && store::passkeys::count_for_user(&mut *tx, session.user_id).await? > 0 {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    if !new_app.install_in(&mut tx, session).await? {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    fail::fail_point!("factor_change.after_change", |_| Err(AuthError::internal(
        "failpoint"
    )));
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
    metrics::two_factor_change(Change::Enabled);
    Ok(codes)
}

/// Turns 2FA off after the password and a code (or recovery code); deletes the secret and
/// every recovery code.
pub async fn disable(
    services: &Services,
    session: &Session,
    code: &str,
    password: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    if session.two_factor_required {
        return Err(AuthError::TwoFactorRequired);
    }
    let factor = Factor::parse(code)?;
    accounts::confirm_identity(services, session, password, client).await?;
    if !is_enabled(services, session.user_id).await? {
        return Err(AuthError::TwoFactorAlreadyOff);
    }
    // The code is spent in the same commit that turns 2FA off: both happen, or neither.
    let mut accepted = accept(services, session.user_id, &factor, client).await?;
    store::totp::delete(&mut **accepted.tx(), session.user_id).await?;
    passkeys::delete_all_in(accepted.tx(), session.user_id).await?;
    fail::fail_point!("factor_change.after_change", |_| Err(AuthError::internal(
        "failpoint"
    )));
    store::recovery_codes::delete_all(&mut **accepted.tx(), session.user_id).await?;
    commit_factor_change(
        accepted.tx,
        services,
        session,
        EventKind::TwoFactorDisabled,
        "",
        client,
    )
    .await?;
    metrics::two_factor_change(Change::Disabled);
    Ok(())
}

/// Moves two-factor authentication to a new authenticator app in one commit, for an
/// account that may not turn it off (disable-then-enable is the others' way): a current
/// factor (the old app's code or a recovery code), the new app's code for the pending
/// secret, and the password. The old secret and recovery codes stop working together.
pub async fn switch_app(
    services: &Services,
    session: &Session,
    current: &str,
    code: &str,
    password: String,
    client: &ClientInfo,
) -> Result<Vec<RecoveryCode>, AuthError> {
    let started = services.clock.now();
    let current = Factor::parse(current)?;
    let code = TotpCode::parse(code)?;
    accounts::confirm_identity(services, session, password, client).await?;
    if !has_app(services, session.user_id).await? {
        return Err(AuthError::TwoFactorNotOn);
    }
    super::fail_points::hold("switch.before_new_app_check").await;
    // The new app's code is counted and checked first, so a wrong one spends nothing.
    let new_app = check_new_app(
        services,
        session,
        &code,
        started,
        "new app, while switching",
        client,
    )
    .await?;
    let codes = recovery_codes::generate_set(&mut os_rng());
    let hashes = hash_all(services, &codes);
    let (tx, new_app) = new_app.begin(services, session).await?;
    let mut accepted = accept_in(tx, services, session.user_id, &current, client).await?;
    let tx = accepted.tx();
    store::totp::delete(&mut **tx, session.user_id).await?;
    new_app.install_in(tx, session).await?;
    store::recovery_codes::replace_all(tx, session.user_id, &hashes).await?;
    commit_factor_change(
        accepted.tx,
        services,
        session,
        EventKind::AuthenticatorSwitched,
        "",
        client,
    )
    .await?;
    Ok(codes)
}

/// Issues a fresh set of recovery codes; the old set stops working in the same commit.
pub async fn regenerate_recovery_codes(
    services: &Services,
    session: &Session,
    code: &str,
    password: String,
    client: &ClientInfo,
) -> Result<Vec<RecoveryCode>, AuthError> {
    let factor = Factor::parse(code)?;
    accounts::confirm_identity(services, session, password, client).await?;
    if !is_enabled(services, session.user_id).await? {
        return Err(AuthError::TwoFactorNotOn);
    }
    let codes = recovery_codes::generate_set(&mut os_rng());
    let hashes = hash_all(services, &codes);
    let mut accepted = accept(services, session.user_id, &factor, client).await?;
    store::recovery_codes::replace_all(accepted.tx(), session.user_id, &hashes).await?;
    fail::fail_point!("factor_change.after_change", |_| Err(AuthError::internal(
        "failpoint"
    )));
    commit_factor_change(
        accepted.tx,
        services,
        session,
        EventKind::RecoveryCodesRegenerated,
        "",
        client,
    )
    .await?;
    Ok(codes)
}

/// The session's pending secret, confirmed by a code from the new app.
struct NewApp {
    sealed: Vec<u8>,
    step: i64,
    /// The counted attempt, given back in the commit that installs the secret.
    attempt: throttle::Reservation,
    now: i64,
}

impl NewApp {
    /// Opens the transaction that installs the secret, with the account locked. A twin of
    /// this request (a double submit) that held the lock first has used the setup: this
    /// one is then told so and its attempt given back, before a current factor is checked
    /// against the factors the twin replaced, which would count a wrong code.
    async fn begin(self, services: &Services, session: &Session) -> Result<(Tx, Self), AuthError> {
        let mut tx = Tx::begin(&services.db).await?;
        store::users::lock(&mut *tx, session.user_id).await?;
        if store::totp::has_enrollment(&mut *tx, session.id).await? {
            return Ok((tx, self));
        }
        throttle::succeeded_in(&mut *tx, self.attempt).await?;
        tx.commit().await?;
        Err(AuthError::SetupAlreadyUsed)
    }

    /// Installs the confirmed secret in `tx`: the counted attempt is given back and the
    /// pending enrollment taken, once. False when the account already has an app. The
    /// address, proved when the setup began, must still be.
    async fn install_in(self, tx: &mut Tx, session: &Session) -> Result<bool, AuthError> {
        accounts::require_verified_address(&mut **tx, session.user_id).await?;
        throttle::succeeded_in(&mut **tx, self.attempt).await?;
        if !store::totp::take_enrollment(&mut **tx, session.id).await? {
            return Err(AuthError::SetupAlreadyUsed);
        }
        let installed = store::totp::insert(
            &mut **tx,
            session.user_id,
            &self.sealed,
            self.step,
            self.now,
        )
        .await?;
        Ok(installed)
    }
}

/// Opens the session's pending secret and checks the new app's code against it, the
/// attempt counted before the check; a wrong code is logged (`detail`) and committed.
///
/// A setup gone while an app was installed since the request `started` was used by a
/// twin of this request (a double submit) that checked it first: this one is told the
/// setup was used, as a twin that loses the race for the account's lock is
/// ([`NewApp::begin`]), not that it expired.
async fn check_new_app(
    services: &Services,
    session: &Session,
    code: &TotpCode,
    started: i64,
    detail: &str,
    client: &ClientInfo,
) -> Result<NewApp, AuthError> {
    let now = services.clock.now();
    let Some((sealed, _)) = store::totp::find_enrollment(&services.db, session.id, now).await?
    else {
        return Err(
            if app_enabled_since(services, session.user_id, started).await? {
                AuthError::SetupAlreadyUsed
            } else {
                AuthError::SetupExpired
            },
        );
    };
    let secret = open(services, session.user_id, &sealed)?;
    let attempt = throttle::reserve(
        services,
        throttle::second_factor_key(session.user_id),
        throttle::SECOND_FACTOR,
    )
    .await?;
    match totp::verify(&secret, code, now, None) {
        Ok(step) => Ok(NewApp {
            sealed,
            step,
            attempt,
            now,
        }),
        Err(_) => {
            let mut tx = Tx::begin(&services.db).await?;
            let refusal = second_factor_failed_in(
                &mut tx,
                services,
                session.user_id,
                client,
                detail,
                attempt,
            )
            .await?;
            tx.commit().await?;
            Err(refusal)
        }
    }
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
    tx: Tx,
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
async fn accept_in(
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
async fn check_in(
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
            passkeys::check_second_factor_in(tx, services, user_id, assertion, client)
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
async fn app_credential_in(
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

/// What the code prompt's attempt came to.
#[derive(Debug)]
pub enum PromptOutcome {
    /// The code was right: the session is full under this new token, and the browser is
    /// remembered under `device` when the person asked for it.
    SignedIn {
        token: sessions::SessionToken,
        device: Option<DeviceToken>,
    },
    /// The session is gone: it used its last attempt, had none left, or the account's
    /// second step is locked (for `retry_after_secs`).
    Ended { retry_after_secs: Option<u64> },
}

/// What one attempt at the prompt wrote, before its commit.
enum Attempt {
    SignedIn {
        token: sessions::SessionToken,
        device: Option<DeviceToken>,
    },
    /// The session had no attempt left.
    NoneLeft,
    /// Counted and refused; `last` when it was the session's last attempt.
    Refused { refusal: AuthError, last: bool },
}

/// The code prompt. Each pending session has five attempts, each taken before its code is
/// checked; the account's own limit applies on top, and its lock ends the session. On
/// success the factor is spent, the session becomes a full one under a new token, the
/// browser is remembered if `remember`, and the sign-in is logged, all in one commit,
/// which concurrent prompts share ([`crate::store::group_commit`]).
pub async fn finish_sign_in(
    services: &Arc<Services>,
    session: &Session,
    factor: Factor,
    remember: bool,
    client: &ClientInfo,
) -> Result<PromptOutcome, AuthError> {
    let attempt = {
        let (work_services, session, client) = (services.clone(), session.clone(), client.clone());
        services
            .commits
            .run(move |tx: &mut Tx| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    attempt_in(tx, &work_services, &session, &factor, remember, &client).await
                })
            })
    }
    .await?;
    let retry_after_secs = match attempt {
        Attempt::SignedIn { token, device } => {
            return Ok(PromptOutcome::SignedIn { token, device })
        }
        Attempt::NoneLeft
        | Attempt::Refused {
            refusal: AuthError::InvalidCode,
            last: true,
        } => None,
        // A locked account cannot finish here before the prompt expires anyway.
        Attempt::Refused {
            refusal: AuthError::Throttled { retry_after_secs },
            ..
        } => Some(retry_after_secs),
        Attempt::Refused { refusal, .. } => return Err(refusal),
    };
    sessions::end_pending(services, session).await?;
    Ok(PromptOutcome::Ended { retry_after_secs })
}

/// One attempt at the prompt, written in `tx`: see [`finish_sign_in`].
async fn attempt_in(
    tx: &mut Tx,
    services: &Services,
    session: &Session,
    factor: &Factor,
    remember: bool,
    client: &ClientInfo,
) -> Result<Attempt, AuthError> {
    let Some(attempt) = sessions::reserve_code_attempt(&mut **tx, services, session).await? else {
        return Ok(Attempt::NoneLeft);
    };
    let credential = app_credential_in(tx, session.user_id, factor).await?;
    let proof = match check_in(tx, services, session.user_id, factor, credential, client).await? {
        Ok(proof) => proof,
        Err(refusal) => {
            return Ok(Attempt::Refused {
                refusal,
                last: attempt.last,
            })
        }
    };
    let token = sessions::promote(&mut **tx, services, session).await?;
    let second = match &proof {
        Proof::Totp => "authenticator app",
        Proof::RecoveryCode { .. } => "recovery code",
        Proof::Passkey { .. } => "passkey",
    };
    let how = format!("{} and {second}", session.first_factor);
    audit::record_in(
        &mut **tx,
        services,
        session.user_id,
        EventKind::SignedIn,
        client,
        &how,
    )
    .await?;
    let device = if remember {
        Some(remembered_devices::remember_in(tx, services, session.user_id, client).await?)
    } else {
        None
    };
    Ok(Attempt::SignedIn { token, device })
}

/// Finishes a factor change in the transaction that made it: every other session of the
/// account ends (taking its pending enrollments and code handoffs along), this session's
/// leftovers go, and the change is logged. All of it commits together, or none of it.
pub(crate) async fn commit_factor_change(
    tx: Tx,
    services: &Services,
    session: &Session,
    kind: EventKind,
    detail: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind,
        detail,
        notice: notice_for(kind),
    };
    commit_account_change(tx, services, change, client).await
}

/// A change to how an account is entered, as [`commit_account_change`] finishes it.
pub(crate) struct AccountChange<'a> {
    pub user_id: i64,
    /// The session that made the change, which stays signed in; `None` where the change
    /// came from no session of the account's (a sign-in that linked a provider by email,
    /// an emailed link opened elsewhere).
    pub keep: Option<i64>,
    pub kind: EventKind,
    pub detail: &'a str,
    /// The security notice to the account's verified address, if the change sends one.
    pub notice: Option<Notice>,
}

/// [`commit_factor_change`] for any change to how the account is entered, with or
/// without a session of the account's making it.
pub(crate) async fn commit_account_change(
    mut tx: Tx,
    services: &Services,
    change: AccountChange<'_>,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let AccountChange {
        user_id,
        keep,
        kind,
        detail,
        notice,
    } = change;
    let ended = end_sessions_in(&mut tx, user_id, keep).await?;
    audit::record_in(&mut *tx, services, user_id, kind, client, detail).await?;
    if let Some(notice) = notice {
        notices::notify_in(&mut tx, services, user_id, &notice, client).await?;
    }
    if ended > 0 {
        let detail = match keep {
            Some(_) => format!("{ended} other session(s) signed out after a security change"),
            None => format!("{ended} session(s) signed out after a security change"),
        };
        audit::record_in(
            &mut *tx,
            services,
            user_id,
            EventKind::SessionEnded,
            client,
            &detail,
        )
        .await?;
    }
    fail::fail_point!("factor_change.before_commit", |_| Err(AuthError::internal(
        "failpoint"
    )));
    tx.commit().await?;
    Ok(())
}

/// The security notice a change made in Settings sends, if any.
fn notice_for(kind: EventKind) -> Option<Notice> {
    Some(match kind {
        EventKind::TwoFactorEnabled => Notice::TwoFactorEnabled,
        EventKind::TwoFactorDisabled => Notice::TwoFactorDisabled,
        EventKind::RecoveryCodesRegenerated => Notice::RecoveryCodesRegenerated,
        EventKind::AuthenticatorSwitched => Notice::AuthenticatorSwitched,
        EventKind::PasskeyAdded => Notice::PasskeyAdded,
        EventKind::PasskeyRemoved => Notice::PasskeyRemoved,
        EventKind::PasswordChanged => Notice::PasswordChanged,
        EventKind::PasswordSet => Notice::PasswordSet,
        _ => return None,
    })
}

/// Ends the account's sessions but `keep`, forgets its remembered devices, drops every
/// pending enrollment and code handoff of the account (the ended sessions' go with them
/// by cascade; `keep`'s are stale after a change), and moves the account's credentials
/// epoch on, so that no sign-in checked before the change starts a session after it.
pub(crate) async fn end_sessions_in(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, AuthError> {
    // First: once the row is locked, no session can be inserted under the old epoch, and
    // every one inserted before is committed and ended below.
    store::users::bump_credentials_epoch(&mut **tx, user_id).await?;
    let ended = sessions::end_others(&mut **tx, user_id, keep).await?;
    remembered_devices::forget_all_in(&mut **tx, user_id).await?;
    store::totp::delete_enrollments_of_user(&mut **tx, user_id).await?;
    store::code_handoffs::delete_for_user(&mut **tx, user_id).await?;
    Ok(ended)
}

/// For a person who lost both their phone and their recovery codes: turns 2FA off, clears
/// the second-factor lock and ends every session, in one commit with its event. Returns
/// how many sessions ended, or `None` for an unknown email.
pub async fn admin_reset(services: &Services, email: &str) -> Result<Option<u64>, AuthError> {
    let email = super::email::Email::parse(email)?;
    let Some(user) = store::users::find_by_email(&services.db, email.as_str()).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(&services.db).await?;
    store::totp::delete(&mut *tx, user.id).await?;
    passkeys::delete_all_in(&mut tx, user.id).await?;
    fail::fail_point!("factor_change.after_change", |_| Err(AuthError::internal(
        "failpoint"
    )));
    store::recovery_codes::delete_all(&mut *tx, user.id).await?;
    store::throttle::clear(&mut *tx, &throttle::second_factor_key(user.id)).await?;
    let ended = end_sessions_in(&mut tx, user.id, None).await?;
    let client = ClientInfo {
        ip: String::new(),
        user_agent: "admin command line".into(),
    };
    let detail = format!("{ended} session(s) ended");
    audit::record_in(
        &mut *tx,
        services,
        user.id,
        EventKind::AdminReset,
        &client,
        &detail,
    )
    .await?;
    notices::notify_in(&mut tx, services, user.id, &Notice::AdminReset, &client).await?;
    fail::fail_point!("factor_change.before_commit", |_| Err(AuthError::internal(
        "failpoint"
    )));
    tx.commit().await?;
    metrics::two_factor_change(Change::AdminReset);
    Ok(Some(ended))
}

fn seal(services: &Services, user_id: i64, secret: &TotpSecret) -> Result<Vec<u8>, AuthError> {
    services
        .keys
        .sealing
        .seal(user_id, secret.as_bytes(), &mut os_rng())
        .map_err(|err| AuthError::internal(format!("cannot seal a TOTP secret: {err}")))
}

fn open(services: &Services, user_id: i64, sealed: &[u8]) -> Result<TotpSecret, AuthError> {
    let bytes = services.keys.sealing.open(user_id, sealed).map_err(|err| {
        AuthError::internal(format!(
            "cannot open the sealed TOTP secret of user {user_id}: is this the right server key? {err}"
        ))
    })?;
    TotpSecret::from_bytes(bytes).map_err(AuthError::internal)
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
        let code = recovery_codes::generate_set(&mut os_rng())
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

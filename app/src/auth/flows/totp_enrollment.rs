//! Two-factor authentication: enrolling an authenticator app, checking its codes and the
//! recovery codes, and turning it off.
//!
//! Every change needs the password and a current code. The pending secret lives on the
//! server, bound to the session that asked for it, so the browser never sends one back.

use crate::auth::capabilities::factor_change::commit_factor_change;
use crate::auth::capabilities::second_factor::accept;
use crate::auth::capabilities::second_factor::accept_in;
use crate::auth::capabilities::second_factor::hash_all;
use crate::auth::capabilities::second_factor::is_enabled;
use crate::auth::capabilities::second_factor::open;
use crate::auth::capabilities::second_factor::seal;
use crate::auth::capabilities::second_factor::second_factor_failed_in;
use crate::auth::capabilities::second_factor::Factor;
use crate::auth::capabilities::second_factor::FactorError;
use crate::auth::capabilities::step_up;
use crate::auth::guards::account;
use crate::auth::guards::passkey_assertion;

use crate::auth::{
    credentials::{
        recovery_codes::{self, RecoveryCode},
        totp::{self, TotpCode, TotpSecret},
    },
    guards::{audit::EventKind, sessions::Session, throttle},
    kernel::{
        client::ClientInfo,
        error::AuthError,
        metrics::{self, Change},
    },
    services::Services,
};
use crate::store::{self, tx::Tx};

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

/// Creates a new pending secret for this session, replacing any earlier one.
pub async fn begin_enrollment(
    services: &Services,
    session: &Session,
) -> Result<Enrollment, AuthError> {
    // An account that may not turn it off switches phones in one step instead.
    if has_app(services, session.user_id).await? && !session.two_factor_required {
        return Err(AuthError::TwoFactorAlreadyOn);
    }
    account::require_verified_address(&services.db, session.user_id).await?;
    let secret = TotpSecret::generate(&mut services.rng());
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
    step_up::confirm_identity(services, session, password, client).await?;
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
    crate::auth::kernel::fail_points::hold("enable.before_new_app_check").await;
    let new_app =
        check_new_app(services, session, &code, started, "while enabling", client).await?;

    let codes = recovery_codes::generate_set(&mut services.rng());
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
    step_up::confirm_identity(services, session, password, client).await?;
    if !is_enabled(services, session.user_id).await? {
        return Err(AuthError::TwoFactorAlreadyOff);
    }
    // The code is spent in the same commit that turns 2FA off: both happen, or neither.
    let mut accepted = accept(services, session.user_id, &factor, client).await?;
    store::totp::delete(&mut **accepted.tx(), session.user_id).await?;
    passkey_assertion::delete_all_in(accepted.tx(), session.user_id).await?;
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
    step_up::confirm_identity(services, session, password, client).await?;
    if !has_app(services, session.user_id).await? {
        return Err(AuthError::TwoFactorNotOn);
    }
    crate::auth::kernel::fail_points::hold("switch.before_new_app_check").await;
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
    let codes = recovery_codes::generate_set(&mut services.rng());
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
    step_up::confirm_identity(services, session, password, client).await?;
    if !is_enabled(services, session.user_id).await? {
        return Err(AuthError::TwoFactorNotOn);
    }
    let codes = recovery_codes::generate_set(&mut services.rng());
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
        account::require_verified_address(&mut **tx, session.user_id).await?;
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

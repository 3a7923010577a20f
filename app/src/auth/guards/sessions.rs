//! Server-side sessions.
//!
//! The browser holds 256 random bits; the database holds only their keyed hash, so a
//! leaked table cannot be replayed as cookies. A session is either waiting for the second
//! factor, which grants nothing but the code prompt, or full.

use crate::store::tx::{Conn, Tx};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::credentials::proofs::{Method, Proven};
use crate::auth::{
    kernel::{client::ClientInfo, error::AuthError, random::Entropy, tokens},
    services::Services,
};
use crate::store::sessions::{self as table, NewSession, ProvenAt, SecondStep, SessionRow};

/// A full session ends after 30 days without use (and, however active, at the end of the
/// operator's `--session-max-age`, in `AuthConfig`).
pub const FULL_IDLE_SECS: i64 = 30 * 24 * 3600;
/// The code prompt must be answered within 10 minutes.
pub const PENDING_TTL_SECS: i64 = 10 * 60;
/// Wrong codes a pending session survives.
pub const PENDING_MAX_FAILURES: i64 = 5;
/// The `__Host-` prefix makes the browser refuse the cookie unless it is Secure, for this
/// host only and for every path, so it is used whenever Gatehouse is behind TLS.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_session"
    } else {
        "gatehouse_session"
    }
}

/// `last_seen_at` is written at most this often, so reads stay reads.
const TOUCH_INTERVAL_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    PendingSecondFactor,
    Full,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::PendingSecondFactor => "pending_second_factor",
            Stage::Full => "full",
        }
    }

    /// How long a session of this stage lasts from its start, if unused.
    pub fn ttl(self, services: &Services) -> i64 {
        match self {
            Stage::PendingSecondFactor => PENDING_TTL_SECS,
            Stage::Full => FULL_IDLE_SECS.min(services.config.session_max_age_secs),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub stage: Stage,
    pub failed_codes: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    pub ip: String,
    /// When the person last proved themselves again at a provider, in place of a password.
    pub reauthenticated_at: Option<i64>,
    /// "password", or the name of the provider the session began with.
    pub first_factor: String,
    /// Two-factor authentication is required of this account, by the operator's
    /// `--require-two-factor` or by `server admin require-2fa`.
    pub two_factor_required: bool,
    /// Required, and not set up yet: the session reaches only the enrollment.
    pub must_enroll: bool,
    /// The account has an authenticator app or a passkey, as of this request.
    pub has_second_factor: bool,
    /// The account has a password, as of this request: what confirms its changes.
    pub has_password: bool,
    /// The account's credentials epoch when this session began: a provider linked at a
    /// later one was linked during this session.
    pub credentials_epoch: i64,
    /// Which ways of proving the person succeeded in this session, and when.
    pub proven: Proven,
}

impl Session {
    fn from_row(row: SessionRow, required_for_everyone: bool) -> Self {
        let two_factor_required = required_for_everyone || row.two_factor_required != 0;
        Session {
            two_factor_required,
            must_enroll: two_factor_required && row.has_second_factor == 0,
            has_second_factor: row.has_second_factor != 0,
            has_password: row.has_password != 0,
            credentials_epoch: row.credentials_epoch,
            id: row.id,
            user_id: row.user_id,
            email: row.email,
            stage: if row.stage == "full" {
                Stage::Full
            } else {
                Stage::PendingSecondFactor
            },
            failed_codes: row.failed_codes,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            user_agent: row.user_agent,
            ip: row.ip,
            reauthenticated_at: row.reauthenticated_at,
            first_factor: row.first_factor,
            proven: proven_from(row.proven),
        }
    }
}

fn proven_from(row: ProvenAt) -> Proven {
    Proven {
        password_at: row.password_at,
        provider_at: row.provider_at,
        totp_at: row.totp_at,
        recovery_code_at: row.recovery_code_at,
        passkey_at: row.passkey_at,
        device_at: row.device_at,
    }
}

fn proven_at(proven: Proven) -> ProvenAt {
    ProvenAt {
        password_at: proven.password_at,
        provider_at: proven.provider_at,
        totp_at: proven.totp_at,
        recovery_code_at: proven.recovery_code_at,
        passkey_at: proven.passkey_at,
        device_at: proven.device_at,
    }
}

/// The cookie value. `Debug` never shows it.
#[derive(Debug)]
pub struct SessionToken(SecretString);

impl SessionToken {
    fn generate(entropy: &dyn Entropy) -> Self {
        SessionToken(tokens::generate(entropy).into())
    }

    pub fn from_cookie(value: &str) -> Option<Self> {
        tokens::is_well_formed(value).then(|| SessionToken(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

fn hash_token(key: &[u8; 32], token: &SessionToken) -> Vec<u8> {
    tokens::keyed_hash(key, &[token.expose().as_bytes()])
}

/// An account as a sign-in found it, before checking anything: the session the checks
/// earn starts only while the account's ways in are still the ones checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub user_id: i64,
    pub credentials_epoch: i64,
}

impl Checked {
    pub fn of(user: &crate::store::users::UserRow) -> Self {
        Checked {
            user_id: user.id,
            credentials_epoch: user.credentials_epoch,
        }
    }
}

/// Issues a new session and its token. Every change of stage goes through here or
/// [`promote`], so a token never outlives the stage it was issued for. A change to the
/// account's ways in since `account` was read refuses it (`CredentialsChanged`): what the
/// sign-in checked is no longer what protects the account. On SQLite the new session
/// commits together with the writes of concurrent requests ([`crate::store::group_commit`]).
/// `proofs` are what the sign-in proved, recorded as proven now.
pub async fn start(
    services: &Services,
    account: Checked,
    stage: Stage,
    client: &ClientInfo,
    first_factor: &str,
    proofs: &[Method],
) -> Result<SessionToken, AuthError> {
    let Checked {
        user_id,
        credentials_epoch,
    } = account;
    let backend = services.backend;
    let token = SessionToken::generate(&*services.random);
    let token_hash = hash_token(&services.keys.hashing, &token);
    let now = services.clock.now();
    let expires_at = now + stage.ttl(services);
    let (user_agent, ip) = (client.user_agent.clone(), client.ip.clone());
    let first_factor = first_factor.to_owned();
    let proven = proven_at(Proven::by(proofs, now));
    let inserted = services
        .commits
        .run_autocommit(
            move |conn: &mut Conn| -> BoxFuture<'_, sqlx::Result<Option<i64>>> {
                Box::pin(async move {
                    let new = NewSession {
                        token_hash: &token_hash,
                        user_id,
                        credentials_epoch,
                        stage: stage.as_str(),
                        now,
                        expires_at,
                        user_agent: &user_agent,
                        ip: &ip,
                        first_factor: &first_factor,
                        proven,
                    };
                    table::insert(conn, backend, new).await
                })
            },
        )
        .await?;
    match inserted {
        Some(_) => Ok(token),
        None => Err(AuthError::CredentialsChanged),
    }
}

/// The live session behind a cookie, refreshing its idle expiry now and then, never past
/// its absolute end.
pub async fn resolve(
    services: &Services,
    token: &SessionToken,
) -> Result<Option<Session>, AuthError> {
    let now = services.clock.now();
    let hash = hash_token(&services.keys.hashing, token);
    let found = table::find_active(&mut *services.reads.connection()?, &hash, now).await?;
    let Some(row) = found else {
        return Ok(None);
    };
    let session = Session::from_row(row, services.config.require_two_factor);
    if session.stage == Stage::Full && now - session.last_seen_at >= TOUCH_INTERVAL_SECS {
        let absolute_end = session.created_at + services.config.session_max_age_secs;
        let expires_at = (now + FULL_IDLE_SECS).min(absolute_end);
        table::touch(&services.db, session.id, now, expires_at).await?;
    }
    Ok(Some(session))
}

/// Turns a pending session into a full one under a fresh token, inside the transaction
/// that proved the second factor, and records which `step` it was.
pub async fn promote<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    services: &Services,
    session: &Session,
    step: SecondStep,
) -> Result<SessionToken, AuthError> {
    let token = SessionToken::generate(&*services.random);
    let now = services.clock.now();
    let hash = hash_token(&services.keys.hashing, &token);
    let expires_at = now + Stage::Full.ttl(services);
    if table::promote(ex, session.id, &hash, now, expires_at, step).await? {
        Ok(token)
    } else {
        Err(AuthError::NotSignedIn)
    }
}

/// One of a pending session's five attempts at the code prompt, taken before the code
/// is checked, in the caller's transaction. `None` when the session has none left (or is
/// no longer pending).
pub async fn reserve_code_attempt<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    services: &Services,
    session: &Session,
) -> Result<Option<CodeAttempt>, AuthError> {
    let now = services.clock.now();
    let used = table::reserve_code_attempt(ex, session.id, now, PENDING_MAX_FAILURES).await?;
    Ok(used.map(|used| CodeAttempt {
        last: used >= PENDING_MAX_FAILURES,
    }))
}

/// Ends the code prompt's session, unless a concurrent request has just finished it
/// with the right code: a double submit must not sign the person straight out again.
pub async fn end_pending(services: &Services, session: &Session) -> Result<(), AuthError> {
    table::delete_pending(&services.db, session.id).await?;
    Ok(())
}

/// An attempt granted by [`reserve_code_attempt`].
#[derive(Debug, Clone, Copy)]
pub struct CodeAttempt {
    /// This was the session's last attempt: if it fails, the session ends.
    pub last: bool,
}

/// The account's signed-in sessions, most recently used first.
pub async fn list(services: &Services, user_id: i64) -> Result<Vec<Session>, AuthError> {
    let rows = table::list_for_user(&services.db, user_id, services.clock.now()).await?;
    let everyone = services.config.require_two_factor;
    Ok(rows
        .into_iter()
        .map(|row| Session::from_row(row, everyone))
        .collect())
}

/// Ends one of the account's sessions. False if there was no such session.
pub async fn end_by_id(services: &Services, user_id: i64, id: i64) -> Result<bool, AuthError> {
    Ok(table::delete_for_user(&services.db, user_id, id).await?)
}

/// Ends every session of the account but `keep`; returns how many ended. Inside the
/// caller's transaction when a factor change must take them along.
pub async fn end_others<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, AuthError> {
    Ok(table::delete_others(ex, user_id, keep).await?)
}

/// "Sign out everywhere else": every other session ends and every remembered device is
/// forgotten, which would otherwise sign straight back in with the password. Returns how
/// many of each.
pub async fn sign_out_everywhere_else(
    services: &Services,
    current: &Session,
) -> Result<(u64, u64), AuthError> {
    let mut tx = Tx::begin(&services.db).await?;
    // A sign-in checked before this, still on its way, would otherwise outlive it.
    crate::store::users::bump_credentials_epoch(&mut *tx, current.user_id).await?;
    let ended = end_others(&mut *tx, current.user_id, Some(current.id)).await?;
    let forgotten =
        crate::auth::guards::remembered_devices::forget_all_in(&mut *tx, current.user_id).await?;
    tx.commit().await?;
    Ok((ended, forgotten))
}

pub async fn end(services: &Services, session: &Session) -> Result<(), AuthError> {
    table::delete(&services.db, session.id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use data_encoding::BASE64URL_NOPAD;

    use super::*;
    use crate::auth::testing;

    async fn account(services: &Services) -> Checked {
        let user_id = crate::store::users::insert(
            &services.db,
            "life@example.com",
            "x",
            services.clock.now(),
        )
        .await
        .unwrap();
        Checked {
            user_id,
            credentials_epoch: 0,
        }
    }

    /// A new account's token for a session of `stage`.
    async fn signed_in(services: &Services, stage: Stage) -> SessionToken {
        let user = account(services).await;
        start(
            services,
            user,
            stage,
            &testing::client("203.0.113.1"),
            "password",
            &[Method::Password],
        )
        .await
        .unwrap()
    }

    /// The first factor is recorded when the session starts and the second step when it
    /// is promoted, each at its own time: what an app is told of how the person signed in.
    #[tokio::test]
    async fn a_session_records_each_proof_when_it_succeeds() {
        use crate::auth::credentials::proofs::Acr;
        let (services, clock, _dir) = testing::services().await;
        let token = signed_in(&services, Stage::PendingSecondFactor).await;
        let started = services.clock.now();
        let pending = resolve(&services, &token).await.unwrap().unwrap();
        assert_eq!(pending.proven.password_at, Some(started));
        assert_eq!(pending.proven.acr(), Acr::OneFactor);

        clock.advance(40);
        let full = promote(&services.db, &services, &pending, SecondStep::Totp)
            .await
            .unwrap();
        let session = resolve(&services, &full).await.unwrap().unwrap();
        assert_eq!(session.proven.password_at, Some(started));
        assert_eq!(session.proven.totp_at, Some(started + 40));
        assert_eq!(session.proven.recovery_code_at, None);
        assert_eq!(session.proven.acr(), Acr::TwoFactor);
        assert_eq!(session.proven.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(session.proven.auth_time(), Some(started + 40));

        // A fresh sign-in at a provider, in place of a password, is recorded too.
        clock.advance(5);
        assert!(
            table::mark_reauthenticated(&services.db, session.id, services.clock.now())
                .await
                .unwrap()
        );
        let again = resolve(&services, &full).await.unwrap().unwrap();
        assert_eq!(again.proven.provider_at, Some(started + 45));
    }

    #[tokio::test]
    async fn activity_never_extends_a_session_past_its_absolute_lifetime() {
        let (mut services, clock, _dir) = testing::services().await;
        services.config.session_max_age_secs = 7 * 24 * 3600;
        let token = signed_in(&services, Stage::Full).await;
        // Used every day: the idle expiry keeps sliding, the absolute end does not.
        for _ in 0..6 {
            clock.advance(24 * 3600);
            assert!(resolve(&services, &token).await.unwrap().is_some());
        }
        clock.advance(24 * 3600 - 1);
        assert!(resolve(&services, &token).await.unwrap().is_some());
        clock.advance(1);
        assert!(
            resolve(&services, &token).await.unwrap().is_none(),
            "gone at exactly seven days"
        );
    }

    #[tokio::test]
    async fn an_unused_session_ends_after_its_idle_time() {
        let (mut services, clock, _dir) = testing::services().await;
        services.config.session_max_age_secs = 90 * 24 * 3600;
        let token = signed_in(&services, Stage::Full).await;
        clock.advance(FULL_IDLE_SECS - 1);
        assert!(resolve(&services, &token).await.unwrap().is_some());
        // That use slid the idle expiry; now leave it alone for the whole idle time.
        clock.advance(FULL_IDLE_SECS);
        assert!(resolve(&services, &token).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_pending_session_has_five_attempts_even_when_they_arrive_at_once() {
        let (services, _clock, _dir) = testing::services().await;
        let token = signed_in(&services, Stage::PendingSecondFactor).await;
        let session = resolve(&services, &token).await.unwrap().unwrap();
        let attempts = futures::future::join_all(
            (0..40).map(|_| reserve_code_attempt(&services.db, &services, &session)),
        )
        .await;
        let granted: Vec<CodeAttempt> = attempts.into_iter().filter_map(|a| a.unwrap()).collect();
        assert_eq!(granted.len(), PENDING_MAX_FAILURES as usize);
        assert_eq!(granted.iter().filter(|a| a.last).count(), 1);
    }

    #[test]
    fn tokens_carry_256_bits_and_differ() {
        let a = SessionToken::generate(&crate::auth::kernel::random::OsEntropy);
        let b = SessionToken::generate(&crate::auth::kernel::random::OsEntropy);
        assert_eq!(
            BASE64URL_NOPAD.decode(a.expose().as_bytes()).unwrap().len(),
            32
        );
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn only_well_formed_cookies_become_tokens() {
        let token = SessionToken::generate(&crate::auth::kernel::random::OsEntropy);
        assert!(SessionToken::from_cookie(token.expose()).is_some());
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"!".repeat(43)).is_none());
    }

    #[test]
    fn token_hash_is_keyed() {
        let token = SessionToken::generate(&crate::auth::kernel::random::OsEntropy);
        assert_ne!(hash_token(&[1; 32], &token), hash_token(&[2; 32], &token));
        assert_eq!(hash_token(&[1; 32], &token), hash_token(&[1; 32], &token));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = SessionToken::generate(&crate::auth::kernel::random::OsEntropy);
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}

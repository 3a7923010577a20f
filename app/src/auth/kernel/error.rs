//! What can go wrong in the domain, named for what happened. The api layer decides what
//! a person is told and with which status; see `api::errors`.

use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input that can never be valid; the reason's text is written for the person.
    #[error(transparent)]
    InvalidInput(InvalidInput),
    /// Unknown email or wrong password at sign-in: the two are never told apart.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A re-entered password was wrong, where the account is already known.
    #[error("wrong password")]
    WrongPassword,
    /// A wrong, replayed or expired second factor.
    #[error("invalid code")]
    InvalidCode,
    #[error("not signed in")]
    NotSignedIn,
    /// The account's ways in changed while a sign-in was checking them: what it checked
    /// no longer protects the account, so it earns no session.
    #[error("the account's credentials changed during the sign-in")]
    CredentialsChanged,
    #[error("throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("email taken")]
    EmailTaken,
    #[error("two-factor authentication is already on")]
    TwoFactorAlreadyOn,
    #[error("two-factor authentication is already off")]
    TwoFactorAlreadyOff,
    #[error("two-factor authentication is not on")]
    TwoFactorNotOn,
    /// The pending secret expired, or was never started for this session.
    #[error("the two-factor setup expired")]
    SetupExpired,
    #[error("the two-factor setup was already used")]
    SetupAlreadyUsed,
    /// The right first factor, but the account's second factor is locked.
    #[error("second factor locked for {retry_after_secs} s")]
    SecondFactorLocked { retry_after_secs: u64 },
    /// A round trip to an identity provider ended without what it was for.
    #[error("social sign-in: {0}")]
    Social(#[from] crate::shared::provider_refusal::Refusal),
    /// A change that needs the password, on an account that has none and has not just
    /// confirmed itself at a provider.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    #[error("the account already has a password")]
    PasswordAlreadySet,
    #[error("the account has no password")]
    NoPassword,
    /// An emailed link that is unknown, used, expired, or for an address that changed.
    #[error("the link no longer works")]
    LinkExpired,
    #[error("the address is already verified")]
    AlreadyVerified,
    /// A new way in for an account whose address is not proved yet: until it is, the
    /// address may be someone else's, who must be able to claim it back.
    #[error("the address is not verified")]
    EmailNotVerified,
    /// A sign-up through a provider that waited too long for its address, or none.
    #[error("the provider sign-up expired")]
    SignUpExpired,
    #[error("the new address is the current one")]
    SameEmail,
    /// A remembered device that is not (or no longer) the account's.
    #[error("no such remembered device")]
    DeviceNotFound,
    /// Anything but the enrollment, for an account that must set up a second factor.
    #[error("two-factor enrollment required")]
    EnrollmentRequired,
    /// Turning two-factor authentication off, where policy requires it.
    #[error("two-factor authentication is required")]
    TwoFactorRequired,
    /// Passkeys need a public URL with a host name.
    #[error("passkeys are unavailable")]
    PasskeysUnavailable,
    /// A passkey's answer that did not check out.
    #[error("passkey refused")]
    PasskeyRefused,
    /// The WebAuthn ceremony is unknown, used, expired or another session's.
    #[error("the passkey request expired")]
    CeremonyExpired,
    #[error("the passkey is registered already")]
    PasskeyAlreadyRegistered,
    #[error("no such passkey")]
    PasskeyNotFound,
    #[error("storage: {0}")]
    Storage(#[from] store::Error),
    /// More password checks are queued than can be done within the wait allowed.
    #[error("password hashing is busy for {retry_after_secs} s")]
    HasherBusy { retry_after_secs: u64 },
    /// The password hasher stopped taking work.
    #[error("password hashing is unavailable")]
    HasherUnavailable,
    /// A bug or a broken invariant; the cause is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

/// What a store function returns is classified by the store on its way up.
impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        AuthError::Storage(err.into())
    }
}

impl AuthError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AuthError::Internal(cause.to_string())
    }
}

/// Which input a refusal is about, so the edge can tell it apart from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Password,
    /// An authenticator app's code, or a second factor as typed.
    Code,
    Passkey,
}

/// Input that can never be valid: the field, and why. The one error of the domain whose
/// text is written for people: its `Display` is the sentence the form shows. Each
/// feature's refusal type turns into it where that type is defined.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct InvalidInput {
    pub field: Field,
    reason: Box<dyn std::error::Error + Send + Sync>,
}

impl AuthError {
    pub fn invalid_input(
        field: Field,
        reason: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AuthError::InvalidInput(InvalidInput {
            field,
            reason: Box::new(reason),
        })
    }
}

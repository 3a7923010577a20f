//! What a person is told when the domain refuses: each [`AuthError`] becomes the wire
//! error with its status and sentence. Internal causes are logged here and go no further.

use crate::{auth::kernel::error::AuthError, shared::error::AppError, store};

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidInput(reason) => AppError::BadInput(reason.to_string()),
            AuthError::InvalidCredentials => AppError::InvalidCredentials,
            AuthError::WrongPassword => AppError::WrongPassword,
            AuthError::InvalidCode => AppError::InvalidCode,
            AuthError::NotSignedIn => AppError::Unauthorized,
            AuthError::CredentialsChanged => AppError::Conflict(
                "This account’s sign-in details changed while you were signing in. Please sign in again."
                    .into(),
            ),
            AuthError::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            AuthError::EmailTaken => AppError::EmailTaken,
            AuthError::TwoFactorAlreadyOn => {
                AppError::Conflict("Two-factor authentication is already on.".into())
            }
            AuthError::TwoFactorAlreadyOff => {
                AppError::Conflict("Two-factor authentication is already off.".into())
            }
            AuthError::TwoFactorNotOn => {
                AppError::Conflict("Turn on two-factor authentication first.".into())
            }
            AuthError::SetupExpired => AppError::Conflict(
                "This setup has expired. Close the dialog and press Enable again to get a new QR code."
                    .into(),
            ),
            AuthError::SetupAlreadyUsed => AppError::Conflict(
                "This setup was already used. Press Enable to start again.".into(),
            ),
            AuthError::SecondFactorLocked { retry_after_secs } => AppError::SignInEnded {
                retry_after_secs: Some(retry_after_secs),
            },
            AuthError::Social(refusal) => AppError::Conflict(refusal.sentence("The provider")),
            AuthError::ReauthenticationRequired => AppError::Conflict(
                "Confirm it's you with your sign-in provider first, then try again.".into(),
            ),
            AuthError::PasswordAlreadySet => {
                AppError::Conflict("This account has a password already: change it instead.".into())
            }
            AuthError::NoPassword => AppError::Conflict(
                "This account has no password yet. Set one under Settings → Sign-in methods."
                    .into(),
            ),
            AuthError::LinkExpired => AppError::Conflict(
                "This link has expired or was already used. Ask for a new one.".into(),
            ),
            AuthError::EmailNotVerified => AppError::Conflict(
                "Confirm your email address first: open the link we sent you, or ask for a new one with “Send again”."
                    .into(),
            ),
            AuthError::SignUpExpired => AppError::Conflict(
                "This sign-up expired. Sign in with your provider again to start over.".into(),
            ),
            AuthError::AlreadyVerified => {
                AppError::Conflict("Your email address is already confirmed.".into())
            }
            AuthError::SameEmail => {
                AppError::bad_input("That is already your email address.")
            }
            AuthError::EnrollmentRequired => AppError::EnrollmentRequired,
            AuthError::DeviceNotFound => {
                AppError::Conflict("That device is no longer remembered.".into())
            }
            AuthError::TwoFactorRequired => AppError::Conflict(
                "Two-factor authentication is required for this account, so it cannot be turned off. To move to a new phone, use “Switch to a new phone” instead."
                    .into(),
            ),
            AuthError::PasskeysUnavailable => AppError::Conflict(
                "Passkeys are not available on this server: they need it to be reached by a name, not an IP address."
                    .into(),
            ),
            AuthError::PasskeyRefused => AppError::PasskeyRefused,
            AuthError::CeremonyExpired => AppError::Conflict(
                "This passkey request expired or was already used. Try again.".into(),
            ),
            AuthError::PasskeyAlreadyRegistered => AppError::Conflict(
                "This passkey is registered already.".into(),
            ),
            AuthError::PasskeyNotFound => {
                AppError::Conflict("That passkey is no longer on your account.".into())
            }
            // Busy or away: answered 503 with `Retry-After`, not as our fault.
            AuthError::Storage(err @ store::Error::Transient(_)) => {
                tracing::error!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            AuthError::Storage(err) => {
                tracing::error!(error = %err, "database error");
                AppError::Internal
            }
            AuthError::HasherBusy { retry_after_secs } => AppError::Busy { retry_after_secs },
            AuthError::HasherUnavailable => {
                tracing::error!("the password hasher is closed");
                AppError::Unavailable
            }
            AuthError::Internal(cause) => {
                tracing::error!(cause, "internal error");
                AppError::Internal
            }
        }
    }
}

/// The `outcome` a sign-in step is counted under: its error's kind when it failed.
pub fn sign_in_outcome<T>(result: &Result<T, AppError>, needs_second_factor: bool) -> &'static str {
    match result {
        Ok(_) if needs_second_factor => "second_factor_required",
        Ok(_) => "signed_in",
        Err(err) => err.kind(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{
        capabilities::second_factor::FactorError, kernel::email_address::EmailError,
    };

    #[test]
    fn refused_input_reads_as_its_reason() {
        let err = AppError::from(AuthError::from(EmailError::Empty));
        assert_eq!(err, AppError::bad_input("Enter your email address."));
        let err = AppError::from(AuthError::from(FactorError::NotACode));
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn internal_causes_never_reach_the_wire() {
        let err = AppError::from(AuthError::internal("sealing key 0xdeadbeef is wrong"));
        assert_eq!(err, AppError::Internal);
        let json = serde_json::to_string(&err).unwrap();
        assert!(!json.contains("deadbeef"), "{json}");
    }

    #[test]
    fn a_database_that_is_away_is_unavailable() {
        let err = AppError::from(AuthError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(err, AppError::Unavailable);
        let err = AppError::from(AuthError::from(sqlx::Error::RowNotFound));
        assert_eq!(err, AppError::Internal);
    }
}

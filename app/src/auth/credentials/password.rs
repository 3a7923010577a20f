//! Passwords: the policy a new one must meet. Hashing is `adapters::password_hasher`.

use crate::auth::kernel::error::{AuthError, Field};
use secrecy::{ExposeSecret, SecretString};

/// NIST SP 800-63B: at least 8 characters; we accept up to 128 (ASVS 6.2.9).
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// Why a password was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Enter your password.")]
    Empty,
    #[error("Use at least {MIN_LEN} characters for your password.")]
    TooShort,
    #[error("Passwords are at most {MAX_LEN} characters.")]
    TooLong,
    /// `advice` is zxcvbn's warning or suggestion, or our own.
    #[error("This password is too easy to guess. {advice}")]
    TooEasy { advice: String },
}

/// A password as typed. `Debug` never shows it.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    /// A password offered at sign-in: only bounded, so a wrong one is judged by the hash.
    pub fn for_sign_in(raw: String) -> Result<Self, PasswordError> {
        if raw.is_empty() {
            return Err(PasswordError::Empty);
        }
        if raw.chars().count() > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(raw.into()))
    }

    /// A new password: long enough, not too long, and not easily guessed. `context` holds
    /// words an attacker would try first, such as the email address.
    pub fn new_for_account(raw: String, context: &[&str]) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(PasswordError::TooShort);
        }
        if len > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        let estimate = zxcvbn::zxcvbn(&raw, context);
        if (estimate.score() as u8) < 3 {
            let advice = estimate
                .feedback()
                .and_then(|f| {
                    f.warning()
                        .map(|w| w.to_string())
                        .or_else(|| f.suggestions().first().map(|s| s.to_string()))
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "Add another word or two; uncommon words are better.".into());
            return Err(PasswordError::TooEasy { advice });
        }
        Ok(Password(raw.into()))
    }

    /// A copy for the hashing thread, which outlives the borrow.
    pub(crate) fn to_secret(&self) -> SecretString {
        self.0.clone()
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<PasswordError> for AuthError {
    fn from(reason: PasswordError) -> Self {
        AuthError::invalid_input(Field::Password, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_rejected() {
        let err = Password::new_for_account("Ab1!xyz".into(), &[]).unwrap_err();
        assert!(err.to_string().contains("at least 8"));
    }

    #[test]
    fn overlong_passwords_are_rejected() {
        let err = Password::new_for_account("x".repeat(129), &[]).unwrap_err();
        assert!(err.to_string().contains("at most 128"));
        assert!(Password::for_sign_in("x".repeat(129)).is_err());
    }

    #[test]
    fn common_passwords_are_rejected_with_advice() {
        for weak in ["password123", "qwertyuiop", "11111111", "iloveyou1"] {
            let err = Password::new_for_account(weak.into(), &[]).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("This password is too easy to guess."),
                "{weak}"
            );
        }
    }

    #[test]
    fn password_built_from_the_email_is_rejected() {
        let context = ["ada.lovelace@example.com", "ada.lovelace", "gatehouse"];
        assert!(Password::new_for_account("ada.lovelace".into(), &context).is_err());
        assert!(Password::new_for_account("gatehouse2026".into(), &context).is_err());
    }

    #[test]
    fn strong_passwords_are_accepted() {
        assert!(Password::new_for_account("correct-Horse-battery-staple-92".into(), &[]).is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let p = Password::for_sign_in("hunter2-secret".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}

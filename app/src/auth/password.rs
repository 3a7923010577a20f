//! Passwords: the policy a new one must meet, and argon2id hashing on a bounded pool.

use std::sync::Arc;

use argon2::{
    password_hash::{
        rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
    },
    Algorithm, Argon2, Params, Version,
};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// NIST SP 800-63B: at least 8 characters; we accept up to 128 (ASVS 6.2.9).
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// A password as typed. `Debug` never shows it.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// A password offered at sign-in: only bounded, so a wrong one is judged by the hash.
    pub fn for_sign_in(raw: String) -> Result<Self, AppError> {
        if raw.is_empty() {
            return Err(AppError::bad_input("Enter your password."));
        }
        if raw.chars().count() > MAX_LEN {
            return Err(AppError::bad_input(format!(
                "Passwords are at most {MAX_LEN} characters."
            )));
        }
        Ok(Password(raw))
    }

    /// A new password: long enough, not too long, and not easily guessed. `context` holds
    /// words an attacker would try first, such as the email address.
    pub fn new_for_account(raw: String, context: &[&str]) -> Result<Self, AppError> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(AppError::bad_input(format!(
                "Use at least {MIN_LEN} characters for your password."
            )));
        }
        if len > MAX_LEN {
            return Err(AppError::bad_input(format!(
                "Passwords are at most {MAX_LEN} characters."
            )));
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
            return Err(AppError::bad_input(format!(
                "This password is too easy to guess. {advice}"
            )));
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hashes and verifies with argon2id (m = 19 MiB, t = 2, p = 1, OWASP's baseline).
///
/// Each hash holds 19 MiB for ~25 ms of a core, so a semaphore sized to the cores bounds
/// both the memory and the queue: a flood of sign-ins waits instead of exhausting RAM.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so that case costs the same time.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Result<Self, AppError> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| AppError::Internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"gatehouse dummy password", &salt)
            .map_err(|_| AppError::Internal)?
            .to_string();
        Ok(PasswordHasher {
            argon2,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes in the PHC string format.
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let argon2 = self.argon2.clone();
        let password = password.0.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|_| AppError::Internal)
        })
        .await?
    }

    /// Checks a password against a stored hash, or against the dummy hash when `stored` is
    /// `None`, which always fails but takes as long as a real check.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, AppError> {
        let argon2 = self.argon2.clone();
        let password = password.0.clone();
        let known = stored.is_some();
        let phc = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        self.run(move || {
            let parsed = PasswordHash::new(&phc).map_err(|_| AppError::Internal)?;
            // Verify first: the dummy hash must cost exactly what a real one does.
            let matches = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let queued = super::metrics::QueuedHash::enter();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable)?;
        drop(queued);
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|_| AppError::Internal)
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

    #[tokio::test]
    async fn hash_then_verify_round_trips() {
        let hasher = PasswordHasher::new(2).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::for_sign_in("correct-Horse-battery-staple-93".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("gatehouse dummy password".into()).unwrap();
        assert!(!hasher.verify(&password, None).await.unwrap());
    }
}

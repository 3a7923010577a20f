//! Why a round trip to an identity provider did not do what it was for, in words for the
//! person. The server names the reason in the page's query (`?error=`), and the page,
//! with or without JavaScript, says it.

/// Why a round trip ended without what it was for. Each has a sentence for the person;
/// the page it is shown on names the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no such provider")]
    UnknownProvider,
    /// The state is unknown, spent, expired, from another browser or for another provider.
    #[error("the sign-in attempt expired or was already used")]
    Expired,
    #[error("the person declined at the provider")]
    Declined,
    /// An error from the provider, a bad token, a wrong issuer, or no answer.
    #[error("the provider failed")]
    ProviderFailed,
    /// Matching an existing account by email is how pre-account takeover works.
    #[error("an account with this email exists")]
    EmailExists,
    #[error("no account is linked and sign-up is closed")]
    NotLinked,
    #[error("linked to another account")]
    LinkedElsewhere,
    #[error("another account of this provider is linked")]
    AlreadyLinked,
    #[error("the provider did not confirm a fresh sign-in")]
    NotFresh,
    #[error("the provider account is not the one linked")]
    WrongAccount,
    #[error("this provider cannot confirm a fresh sign-in")]
    CannotConfirm,
    #[error("the last way to sign in")]
    LastMethod,
    /// Connected during this session, so it may be the session's thief's.
    #[error("the provider account was connected during this session")]
    LinkedThisSession,
    /// The password that confirms a new way in was wrong or missing.
    #[error("wrong password")]
    WrongPassword,
    /// The two-factor code that confirms a new way in was wrong or malformed.
    #[error("wrong code")]
    WrongCode,
    /// An account without a password confirms with a fresh provider sign-in first.
    #[error("confirmation required")]
    ConfirmFirst,
    /// An account whose address is not proved adds no way in.
    #[error("the address is not verified")]
    VerifyEmailFirst,
}

const ALL: [Refusal; 17] = [
    Refusal::UnknownProvider,
    Refusal::Expired,
    Refusal::Declined,
    Refusal::ProviderFailed,
    Refusal::EmailExists,
    Refusal::NotLinked,
    Refusal::LinkedElsewhere,
    Refusal::AlreadyLinked,
    Refusal::NotFresh,
    Refusal::WrongAccount,
    Refusal::CannotConfirm,
    Refusal::LastMethod,
    Refusal::LinkedThisSession,
    Refusal::WrongPassword,
    Refusal::WrongCode,
    Refusal::ConfirmFirst,
    Refusal::VerifyEmailFirst,
];

impl Refusal {
    /// The stable name the callback puts in the page's query, `?error=`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownProvider => "unknown_provider",
            Refusal::Expired => "expired",
            Refusal::Declined => "declined",
            Refusal::ProviderFailed => "provider_failed",
            Refusal::EmailExists => "email_exists",
            Refusal::NotLinked => "not_linked",
            Refusal::LinkedElsewhere => "linked_elsewhere",
            Refusal::AlreadyLinked => "already_linked",
            Refusal::NotFresh => "not_fresh",
            Refusal::WrongAccount => "wrong_account",
            Refusal::CannotConfirm => "cannot_confirm",
            Refusal::LastMethod => "last_method",
            Refusal::LinkedThisSession => "linked_this_session",
            Refusal::WrongPassword => "wrong_password",
            Refusal::WrongCode => "wrong_code",
            Refusal::ConfirmFirst => "confirm_first",
            Refusal::VerifyEmailFirst => "verify_email_first",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        ALL.into_iter().find(|r| r.code() == code)
    }

    /// What the person reads, naming the provider.
    pub fn sentence(self, provider: &str) -> String {
        match self {
            Refusal::UnknownProvider => "That sign-in provider is not available.".into(),
            Refusal::Expired => format!(
                "That sign-in with {provider} expired or was already used. Please try again."
            ),
            Refusal::Declined => format!("Signing in with {provider} was cancelled."),
            Refusal::ProviderFailed => {
                format!("{provider} could not confirm who you are. Please try again in a moment.")
            }
            Refusal::EmailExists => format!(
                "An account with this email already exists. Sign in with your password, then \
                 connect {provider} under Settings → Sign-in methods."
            ),
            Refusal::NotLinked => format!(
                "No account is connected to this {provider} account. Sign in with your \
                 password, then connect {provider} under Settings → Sign-in methods."
            ),
            Refusal::LinkedElsewhere => {
                format!("This {provider} account is already connected to another account.")
            }
            Refusal::AlreadyLinked => {
                format!("A different {provider} account is connected already. Disconnect it first.")
            }
            Refusal::NotFresh => {
                format!("{provider} did not confirm a fresh sign-in. Please try again.")
            }
            Refusal::WrongAccount => {
                format!("That {provider} account is not the one connected to your account.")
            }
            Refusal::CannotConfirm => format!(
                "{provider} cannot confirm a fresh sign-in. Set a password under Settings → \
                 Sign-in methods first."
            ),
            Refusal::LastMethod => format!(
                "{provider} is your only way to sign in, so it cannot be disconnected. Set a \
                 password first."
            ),
            Refusal::LinkedThisSession => format!(
                "{provider} was connected after you signed in, so it cannot confirm changes \
                 yet. Confirm with a way in you had before, or sign out and in again."
            ),
            Refusal::WrongPassword => format!(
                "That password is not right, so {provider} was not connected. Please try again."
            ),
            Refusal::WrongCode => format!(
                "Enter the current code from your authenticator app, or a recovery code, to \
                 connect {provider}."
            ),
            Refusal::ConfirmFirst => format!(
                "Confirm it’s you with a sign-in method you already had, then connect {provider}."
            ),
            Refusal::VerifyEmailFirst => format!(
                "Confirm your email address before connecting {provider}: open the link we \
                 sent you, or ask for a new one under Settings → Profile."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_survives_the_trip_through_the_query() {
        for refusal in ALL {
            assert_eq!(Refusal::from_code(refusal.code()), Some(refusal));
            assert!(refusal.sentence("Google").ends_with('.'));
        }
        assert_eq!(Refusal::from_code("<script>"), None);
    }
}

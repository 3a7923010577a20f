//! Email addresses as accounts are keyed by them.

use crate::auth::kernel::error::{AuthError, Field};

/// RFC 5321 caps a forward path at 254 characters.
const MAX_LEN: usize = 254;

/// Why an address was refused, in words for the person who typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("That email address is too long (254 characters at most).")]
    TooLong,
    /// Non-ASCII addresses allow look-alike accounts ("раypal" with a Cyrillic "а").
    #[error("Use an email address made of plain letters (a–z), digits and punctuation.")]
    NotPlain,
    #[error("Enter a valid email address, like name@example.com.")]
    Malformed,
}

/// A trimmed, lower-cased, syntactically valid address. Holding one proves it was parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if !email.is_ascii() {
            return Err(EmailError::NotPlain);
        }
        let has_dotted_domain = email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !has_dotted_domain || !email_address::EmailAddress::is_valid(&email) {
            return Err(EmailError::Malformed);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<EmailError> for AuthError {
    fn from(reason: EmailError) -> Self {
        AuthError::invalid_input(Field::Email, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected_with_a_reason() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a b@example.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(!err.to_string().is_empty(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn look_alike_unicode_is_rejected() {
        let err = Email::parse("аda@example.com").unwrap_err(); // Cyrillic "а"
        assert!(err.to_string().contains("plain letters"));
    }

    #[test]
    fn overlong_email_is_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("too long"));
    }
}
